"""Publishing orchestration: ledger-driven, idempotent, resumable.

For each platform of a thread, independently:

1. the posts' keys (`Publisher.post_keys`) are stored before the first attempt, and a
   resumed thread always re-sends with those same keys;
2. every attempt starts by reconciling: posts left 'sending' by a crash or an unclear
   failure are looked up with `find_published` (given the frozen plan, the parent they
   reply to and, through their keys, when they were first sent) and confirmed if they
   exist; a post looked up and not found did not land, so resending it is safe however
   long ago it was first sent;
3. it then sends from the first unconfirmed post, replying to the last confirmed one; the
   adapter's `confirm` callback writes each `PostRef` to the ledger in its own transaction
   before the next post goes out.

Retries within a run follow `retry.RetryPolicy`; what is still missing afterwards is left
for a later `run` (next retry time, attempts counted) until `max_attempts` runs have failed.
One platform failing never stops the others. What an adapter warns about while sending (a
link card not made, a mention sent as text, posts that landed with doubts) is recorded in
the ledger and returned in the platform's outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Literal

from threadpost.clock import Clock, utc_now
from threadpost.errors import ExitStatus, StoreError, ThreadpostError, ValidationFailed
from threadpost.store import FINISHED_STATES, Ledger, PlatformRecord, ThreadRecord, ThreadState

if TYPE_CHECKING:
    from threadpost.draft import Draft
    from threadpost.lease import Lease
    from threadpost.plan import Thread
    from threadpost.platforms.base import Publisher
    from threadpost.retry import RetryPolicy
    from threadpost.values import PlatformName, PostRef, Problem

#: Opens the publisher of one platform (logs in); may raise AuthFailed / ConfigError.
OpenPublisher = Callable[["PlatformName"], "Publisher"]

OutcomeStatus = Literal["published", "incomplete", "failed"]


class Freeze(Enum):
    """What `freeze_thread` did with the draft."""

    CREATED = "created"
    REPLACED = "replaced"  # a not-yet-started plan replaced by the edited draft's
    RESCHEDULED = "rescheduled"  # same plan, new time
    RESUMED = "resumed"  # an incomplete thread of the same draft, continued


@dataclass(frozen=True)
class Frozen:
    """The thread a draft was frozen into."""

    thread_id: str
    action: Freeze
    message: str | None = None


@dataclass(frozen=True)
class PlatformOutcome:
    """How publishing one thread went on one network."""

    platform: PlatformName
    status: OutcomeStatus
    published: int
    total: int
    refs: tuple[PostRef, ...]
    error: str | None = None
    hint: str | None = None
    #: incomplete only: when a later `run` will try again.
    next_retry_at: datetime | None = None
    #: What the adapter warned about in this pass, each "post N: …" where it names a post.
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The outcome as JSON-able data."""
        return {
            "platform": self.platform,
            "status": self.status,
            "published": self.published,
            "total": self.total,
            "urls": [ref.url for ref in self.refs],
            "error": self.error,
            "hint": self.hint,
            "next_retry_at": self.next_retry_at.isoformat() if self.next_retry_at else None,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PublishResult:
    """The outcome of one publishing pass over a thread."""

    thread_id: str
    state: ThreadState
    outcomes: tuple[PlatformOutcome, ...]

    @property
    def exit_status(self) -> ExitStatus:
        """0 all published; 4 something resumable remains; 1 a platform gave up."""
        statuses = {outcome.status for outcome in self.outcomes}
        if "incomplete" in statuses:
            return ExitStatus.PUBLISH_INCOMPLETE
        if "failed" in statuses:
            return ExitStatus.ERROR
        return ExitStatus.OK

    @property
    def error(self) -> str | None:
        """Each failing platform's error as "platform: error", joined by "; "; None if none."""
        return "; ".join(f"{o.platform}: {o.error}" for o in self.outcomes if o.error) or None

    def to_json(self) -> dict[str, object]:
        """The result as JSON-able data."""
        return {
            "thread": self.thread_id,
            "state": self.state,
            "platforms": {o.platform: o.to_json() for o in self.outcomes},
        }


# -- freezing a draft into the ledger -----------------------------------------------------


def refuse_plan_errors(draft: Draft, plans: Mapping[PlatformName, Thread]) -> None:
    """Refuse plans with errors (nothing is recorded, nothing sent)."""
    errors = [p for thread in plans.values() for p in thread.problems if p.is_error]
    if errors:
        first = errors[0]
        where = f"{first.platform} post {first.post}: " if first.post else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ValidationFailed(
            f"{draft.path}: {where}{first.message}{more}; nothing was sent",
            hint=f"threadpost check {draft.path} lists every problem",
        )


def refuse_conflicts(ledger: Ledger, draft: Draft, *, again: bool) -> None:
    """Refuse, before asking anything, what `freeze_thread` would refuse: a draft already
    published (without `again`), or one edited after its thread began posting."""
    path = str(draft.path.resolve())
    existing = ledger.threads(draft_path=path)
    finished = [t for t in existing if t.state in FINISHED_STATES]
    if finished and not again:
        last = finished[-1]
        raise StoreError(
            f"{draft.path} was already published as thread {last.id} ({last.state}); "
            "pass --again to publish it once more",
            hint=f"threadpost status {last.id} shows where it went",
        )
    for record in (t for t in existing if t.state in ("scheduled", "incomplete")):
        if record.content_hash != draft.content_hash and _has_started(ledger, record.id):
            raise StoreError(
                f"{draft.path} changed after thread {record.id} began posting; its plan is "
                "frozen so that no mix of old and new posts is published",
                hint=f"let `threadpost run` finish it, or `threadpost cancel {record.id}` "
                "and publish the new draft with --again",
            )


def freeze_thread(
    ledger: Ledger,
    draft: Draft,
    plans: Mapping[PlatformName, Thread],
    *,
    schedule_at: datetime | None,
    now: datetime,
    again: bool = False,
) -> Frozen:
    """Record `draft`'s plans as a thread (due at `schedule_at`, or now when None).

    A draft already published (or given up) is refused unless `again`. An unfinished thread
    of the same draft is reused: its plan is replaced while nothing has been sent (the draft
    was edited), resumed when posting has begun with the same content, and refused when
    posting has begun and the draft has changed since."""
    refuse_plan_errors(draft, plans)
    refuse_conflicts(ledger, draft, again=again)
    path = str(draft.path.resolve())
    title = draft.front.title
    record = next(
        (t for t in ledger.threads(draft_path=path) if t.state in ("scheduled", "incomplete")),
        None,
    )
    if record is None:
        thread_id = ledger.create_thread(
            draft_path=path,
            content_hash=draft.content_hash,
            title=title,
            plans=plans,
            schedule_at=schedule_at,
            state="scheduled",
            now=now,
        )
        return Frozen(thread_id, Freeze.CREATED)
    if _has_started(ledger, record.id):
        return Frozen(
            record.id, Freeze.RESUMED, f"thread {record.id} had begun posting: resuming it"
        )
    if record.content_hash != draft.content_hash or list(record.platforms) != list(plans):
        ledger.replace_plans(
            record.id,
            content_hash=draft.content_hash,
            title=title,
            plans=plans,
            schedule_at=schedule_at,
            now=now,
        )
        return Frozen(
            record.id,
            Freeze.REPLACED,
            f"the draft changed since thread {record.id} was scheduled: "
            "its plan was replaced by the new one",
        )
    ledger.set_schedule(record.id, schedule_at, now)
    return Frozen(record.id, Freeze.RESCHEDULED)


def _has_started(ledger: Ledger, thread_id: str) -> bool:
    record = ledger.thread(thread_id)
    return any(
        post.state != "planned"
        for platform in record.platforms
        for post in ledger.posts(thread_id, platform)
    )


# -- publishing a recorded thread ----------------------------------------------------------


def publish_thread(
    ledger: Ledger,
    thread_id: str,
    open_publisher: OpenPublisher,
    *,
    max_attempts: int,
    policy: RetryPolicy | None = None,
    clock: Clock = utc_now,
    on_confirm: Callable[[PostRef], None] | None = None,
    lease: Lease | None = None,
) -> PublishResult:
    """Publish (or resume) every platform of the thread that is not finished yet.

    The caller holds the thread's `lease` (`lease.thread_lease`), renewed here on every
    confirmed post; `on_confirm` hears of each confirmed post too."""
    if lease is not None:
        renew, hook = lease, on_confirm

        def on_confirm(ref: PostRef) -> None:
            renew.renew()
            if hook is not None:
                hook(ref)

    from threadpost.retry import RetryPolicy

    policy = policy or RetryPolicy(clock=clock)
    record = ledger.thread(thread_id)
    if record.state in ("cancelled", "skipped", "deleted"):
        raise StoreError(f"thread {thread_id} is {record.state}; nothing to publish")
    if record.state == "scheduled":
        ledger.set_thread_state(thread_id, "incomplete", clock())
    outcomes: list[PlatformOutcome] = []
    for platform_record in ledger.platforms(thread_id):
        platform = platform_record.platform
        if platform_record.state in ("published", "failed", "deleted"):
            outcomes.append(_outcome_from_ledger(ledger, platform_record))
            continue
        outcomes.append(
            _publish_platform(
                ledger,
                record,
                platform,
                open_publisher,
                policy=policy,
                clock=clock,
                max_attempts=max_attempts,
                previous_attempts=platform_record.attempts,
                on_confirm=on_confirm,
            )
        )
    result = PublishResult(thread_id, thread_state(outcomes), tuple(outcomes))
    ledger.set_thread_state(thread_id, result.state, clock(), error=result.error)
    return result


def thread_state(outcomes: Sequence[PlatformOutcome]) -> ThreadState:
    """A thread's state from its platforms': incomplete wins, then failed."""
    statuses = {outcome.status for outcome in outcomes}
    if "incomplete" in statuses:
        return "incomplete"
    if "failed" in statuses:
        return "failed"
    return "published"


def _outcome_from_ledger(ledger: Ledger, record: PlatformRecord) -> PlatformOutcome:
    status: OutcomeStatus = (
        "published"
        if record.state in ("published", "deleted")
        else "failed"
        if record.state == "failed"
        else "incomplete"
    )
    return _with_refs(
        ledger,
        record.thread_id,
        record.platform,
        status,
        error=record.last_error,
        next_retry=record.next_retry_at,
    )


def _publish_platform(
    ledger: Ledger,
    record: ThreadRecord,
    platform: PlatformName,
    open_publisher: OpenPublisher,
    *,
    policy: RetryPolicy,
    clock: Clock,
    max_attempts: int,
    previous_attempts: int,
    on_confirm: Callable[[PostRef], None] | None,
) -> PlatformOutcome:
    from dataclasses import replace

    from threadpost.errors import (
        AuthFailed,
        LandedWithDoubts,
        PermanentError,
        RateLimited,
        TransientError,
    )
    from threadpost.retry import call_with_retries, next_retry_after
    from threadpost.values import Problem

    thread_id = record.id
    plan = ledger.plan(thread_id, platform)
    total = len(plan.posts)
    warned: list[Problem] = []

    def confirm(ref: PostRef) -> None:
        if ref.platform != platform:
            raise StoreError(f"the {platform} adapter confirmed a {ref.platform} post")
        ledger.confirm_post(thread_id, ref, clock())
        if on_confirm is not None:
            on_confirm(ref)

    def keep_warnings(problems: Sequence[Problem], attempt_id: int | None) -> None:
        fresh = [p for p in problems if p not in warned]
        if fresh:
            warned.extend(fresh)
            ledger.add_warnings(thread_id, platform, fresh, clock(), attempt_id=attempt_id)

    def watching(publisher: Publisher, attempt_id: int | None) -> _WarningWatch:
        return _WarningWatch(publisher, lambda found: keep_warnings(found, attempt_id))

    opened: list[Publisher] = []

    def attempt() -> None:
        # Opened inside the attempt so that a transient login failure is retried too.
        if not opened:
            opened.append(open_publisher(platform))
        publisher = opened[0]
        posts = ledger.posts(thread_id, platform)
        if any(p.key is None for p in posts):
            ledger.store_keys(thread_id, platform, publisher.post_keys(thread_id, plan))
            posts = ledger.posts(thread_id, platform)
        in_doubt = [p for p in posts if p.state == "sending"]
        if in_doubt:
            # A crash or an unclear failure: some of these may have landed. Look first.
            refs = {p.index: p.ref for p in posts if p.state == "confirmed"}
            with watching(publisher, None):
                found = publisher.find_published(
                    [p.post_key for p in in_doubt],
                    thread=plan,
                    parent=refs.get(in_doubt[0].index - 1),
                )
            for ref in found:
                if ref is not None:
                    confirm(ref)
            ledger.clear_sending(thread_id, platform)
        # Bounded: each round either confirms at least one more post or leaves.
        for _ in range(total + 1):
            posts = ledger.posts(thread_id, platform)
            pending = [p for p in posts if p.state != "confirmed"]
            if not pending:
                return
            start = pending[0].index
            confirmed = {p.index: p.ref for p in posts if p.state == "confirmed"}
            ledger.mark_sending(thread_id, platform, start, clock())
            attempt_id = ledger.start_attempt(thread_id, platform, start, clock())
            try:
                with watching(publisher, attempt_id):
                    publisher.send(
                        plan,
                        [p.post_key for p in posts],
                        start=start,
                        root=confirmed.get(1),
                        parent=confirmed.get(start - 1),
                        confirm=confirm,
                    )
            except TransientError as error:
                outcome = (
                    "rate-limited"
                    if isinstance(error, RateLimited)
                    else "unclear"
                    if error.unclear
                    else "transient"
                )
                ledger.finish_attempt(attempt_id, outcome, clock(), error.message)
                if not error.unclear:
                    ledger.clear_sending(thread_id, platform)
                raise
            except LandedWithDoubts as error:
                # The posts are there and confirmed (with the server's own references):
                # not a failure, but something the person must hear about.
                ledger.finish_attempt(attempt_id, "landed-with-doubts", clock(), error.message)
                ledger.clear_sending(thread_id, platform)
                keep_warnings(
                    [
                        Problem(
                            severity="warning",
                            code="landed-with-doubts",
                            message=error.message,
                            platform=platform,
                            post=error.post,
                        )
                    ],
                    attempt_id,
                )
                before = {p.index for p in posts if p.state == "confirmed"}
                after = {
                    p.index for p in ledger.posts(thread_id, platform) if p.state == "confirmed"
                }
                if after <= before:
                    raise replace_error(error) from error
                continue
            except PermanentError as error:
                ledger.finish_attempt(
                    attempt_id,
                    "auth" if isinstance(error, AuthFailed) else "permanent",
                    clock(),
                    error.message,
                )
                ledger.clear_sending(
                    thread_id, platform, error=error.message, error_post=error.post or start
                )
                raise
            ledger.finish_attempt(attempt_id, "ok", clock())
            # The adapter returned: whatever it did not confirm did not land.
            ledger.clear_sending(thread_id, platform)
            left = [p for p in ledger.posts(thread_id, platform) if p.state != "confirmed"]
            if left:
                raise StoreError(
                    f"the {platform} adapter returned without confirming post {left[0].index}"
                )
            return

    def replace_error(error: LandedWithDoubts) -> PermanentError:
        # Nothing new was confirmed: this is a plain refusal after all.
        return PermanentError(error.message, platform=platform, post=error.post, hint=error.hint)

    def finish(outcome: PlatformOutcome) -> PlatformOutcome:
        return replace(outcome, warnings=tuple(_warning_line(p) for p in warned))

    try:
        call_with_retries(attempt, policy)
    except ThreadpostError as error:
        # A refusal gives the platform up at once; anything else (transient, a login to
        # renew, a ConfigError opening the publisher, the ledger) is left for a later run.
        if isinstance(error, PermanentError) and not isinstance(error, AuthFailed):
            message = _permanent_message(platform, error)
            ledger.set_platform(
                thread_id,
                platform,
                state="failed",
                attempts=previous_attempts + 1,
                last_error=message,
            )
            return finish(_with_refs(ledger, thread_id, platform, "failed", error=message))
        return finish(
            _incomplete(
                ledger,
                thread_id,
                platform,
                error,
                previous_attempts + 1,
                max_attempts,
                next_retry_after(error, previous_attempts + 1, clock()),
            )
        )
    ledger.set_platform(
        thread_id, platform, state="published", attempts=previous_attempts, last_error=None
    )
    return finish(_with_refs(ledger, thread_id, platform, "published"))


class _WarningWatch:
    """Around one adapter call: hands on the warnings the call added to `publisher.warnings`
    (the list lives as long as the publisher, which `run` reuses across threads)."""

    def __init__(self, publisher: Publisher, keep: Callable[[list[Problem]], None]) -> None:
        self._warnings: list[Problem] = getattr(publisher, "warnings", [])
        self._keep = keep
        self._mark = 0

    def __enter__(self) -> None:
        self._mark = len(self._warnings)

    def __exit__(self, *exc: object) -> None:
        added = list(self._warnings[self._mark :])
        if added:
            self._keep(added)


def _warning_line(problem: Problem) -> str:
    """ "post N: message" (without repeating a "post N: " the adapter already wrote)."""
    if problem.post is None:
        return problem.message
    prefix = f"post {problem.post}: "
    return prefix + problem.message.removeprefix(prefix)


def _permanent_message(platform: PlatformName, error: ThreadpostError) -> str:
    post = getattr(error, "post", None)
    where = f"{platform} post {post}" if post else platform
    return f"{where} was refused: {error.message}"


def _incomplete(
    ledger: Ledger,
    thread_id: str,
    platform: PlatformName,
    error: ThreadpostError,
    attempts: int,
    max_attempts: int,
    next_retry: datetime,
) -> PlatformOutcome:
    from threadpost.errors import AuthFailed

    hint = f"log in again: threadpost login {platform}" if isinstance(error, AuthFailed) else None
    post = getattr(error, "post", None)
    message = f"post {post}: {error.message}" if post else error.message
    if attempts >= max_attempts:
        message = f"gave up after {attempts} failed attempts: {message}"
        ledger.set_platform(
            thread_id, platform, state="failed", attempts=attempts, last_error=message
        )
        return _with_refs(ledger, thread_id, platform, "failed", error=message, hint=hint)
    ledger.set_platform(
        thread_id,
        platform,
        state="incomplete",
        attempts=attempts,
        next_retry_at=next_retry,
        last_error=message,
    )
    return _with_refs(
        ledger,
        thread_id,
        platform,
        "incomplete",
        error=message,
        hint=hint,
        next_retry=next_retry,
    )


def _with_refs(
    ledger: Ledger,
    thread_id: str,
    platform: PlatformName,
    status: OutcomeStatus,
    *,
    error: str | None = None,
    hint: str | None = None,
    next_retry: datetime | None = None,
) -> PlatformOutcome:
    """The outcome `status` with the platform's confirmed posts as the ledger holds them."""
    posts = ledger.posts(thread_id, platform)
    refs = tuple(p.ref for p in posts if p.state == "confirmed" and p.ref is not None)
    return PlatformOutcome(
        platform=platform,
        status=status,
        published=len(refs),
        total=len(posts),
        refs=refs,
        error=error,
        hint=hint,
        next_retry_at=next_retry,
    )


# -- deleting ----------------------------------------------------------------------------


def delete_thread(
    ledger: Ledger,
    thread_id: str,
    open_publisher: OpenPublisher,
    *,
    platforms: Sequence[PlatformName] | None = None,
    clock: Clock = utc_now,
) -> dict[PlatformName, int]:
    """Delete a thread's confirmed posts from the networks (all, or `platforms`); return how
    many were deleted per platform. Confirmed posts are marked deleted in the ledger."""
    record = ledger.thread(thread_id)
    chosen = [p for p in record.platforms if platforms is None or p in platforms]
    unknown = [p for p in platforms or () if p not in record.platforms]
    if unknown:
        raise StoreError(f"thread {thread_id} was not published to {', '.join(unknown)}")
    deleted: dict[PlatformName, int] = {}
    for platform in chosen:
        posts = [p for p in ledger.posts(thread_id, platform) if p.state == "confirmed"]
        refs = [p.ref for p in posts if p.ref is not None]
        if refs:
            open_publisher(platform).delete(sorted(refs, key=lambda r: -r.index))
            ledger.mark_deleted(thread_id, platform, [r.index for r in refs])
        ledger.set_platform(thread_id, platform, state="deleted")
        deleted[platform] = len(refs)
    remaining = [p for p in ledger.platforms(thread_id) if p.state != "deleted"]
    if not remaining:
        ledger.set_thread_state(thread_id, "deleted", clock())
    return deleted
