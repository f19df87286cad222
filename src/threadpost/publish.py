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
One platform failing never stops the others; the platforms still to publish are published at
the same time, each in its own thread (`concurrent_networks`). What an adapter warns about
while sending (a link card not made, a mention sent as text, posts that landed with doubts)
is recorded in the ledger and returned in the platform's outcome.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from threadpost.clock import Clock, utc_now
from threadpost.concurrent_networks import publish_platforms
from threadpost.errors import (
    AuthFailed,
    ExitStatus,
    LandedWithDoubts,
    PermanentError,
    RateLimited,
    StoreError,
    ThreadpostError,
    TransientError,
    UnclearOutcome,
    ValidationFailed,
)
from threadpost.refusal import refuse_errors
from threadpost.repeats import record_source, refuse_repeats
from threadpost.store import (
    FINISHED_STATES,
    Ledger,
    PlatformRecord,
    PlatformState,
    PostRecord,
    ThreadState,
)
from threadpost.values import DEFAULT_ACCOUNT, Problem

if TYPE_CHECKING:
    from threadpost.draft import Draft
    from threadpost.lease import Lease
    from threadpost.plan import Thread
    from threadpost.platforms.base import Publisher
    from threadpost.retry import RetryPolicy
    from threadpost.values import PlatformName, PostRef

#: Opens the publisher of one platform (logs in); may raise AuthFailed / ConfigError.
#: Openers that publish with named accounts also take `account=NAME` (`account_opener`).
OpenPublisher = Callable[["PlatformName"], "Publisher"]


def account_opener(open_publisher: OpenPublisher, account: str | None) -> OpenPublisher:
    """`open_publisher` for the named `account` of a thread (None: the default account,
    `open_publisher` itself). The publishing commands' openers (`Publishers`, the CLI's)
    take `account=`; the engine always opens a thread's networks with the thread's own
    account, recorded when it was frozen."""
    if account is None:
        return open_publisher
    return functools.partial(open_publisher, account=account)  # type: ignore[call-arg]


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
    refuse_errors({draft.path: [p for thread in plans.values() for p in thread.problems]})


def refuse_conflicts(
    ledger: Ledger,
    draft: Draft,
    *,
    again: bool,
    plans: Mapping[PlatformName, Thread] | None = None,
) -> None:
    """Refuse, before asking anything, what `freeze_thread` would refuse: a draft already
    published (without `again`), or one edited after its thread began posting; given the
    `plans`, posts already online on one of their networks from any draft (`repeats`).
    A draft published to other networks only is not a repeat."""
    path = str(draft.path.resolve())
    existing = ledger.threads(draft_path=path)
    finished = [
        t
        for t in existing
        if t.state in FINISHED_STATES and (plans is None or set(t.platforms) & set(plans))
    ]
    if finished and not again:
        from threadpost.edit import edit_offer  # (and the edit planner: only for this refusal)

        last = finished[-1]
        changed = last.content_hash != draft.content_hash
        raise StoreError(
            f"{draft.path} was already published as thread {last.id} ({last.state}); "
            + (edit_offer(last) if changed else "")
            + "pass --again to publish it once more",
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
    if plans is not None:
        # The draft's own unfinished thread is resumed, not repeated.
        active = [t.id for t in existing if t.state in ("scheduled", "incomplete")]
        refuse_repeats(
            ledger,
            draft.path,
            plans,
            again=again,
            other_than=next(iter(active), None),
            waiting=True,
        )


def freeze_thread(
    ledger: Ledger,
    draft: Draft,
    plans: Mapping[PlatformName, Thread],
    *,
    schedule_at: datetime | None,
    now: datetime,
    again: bool = False,
    account: str | None = None,
) -> Frozen:
    """Record `draft`'s plans as a thread (due at `schedule_at`, or now when None).

    A draft already published (or given up) is refused unless `again`. An unfinished thread
    of the same draft is reused: its plan is replaced while nothing has been sent (the draft
    was edited), resumed when posting has begun with the same content, and refused when
    posting has begun and the draft has changed since. `account` (None: the default) is
    recorded with a new or replaced plan; a resumed thread keeps the one it began with."""
    refuse_plan_errors(draft, plans)
    # One transaction under the write lock: two processes freezing the same draft at once
    # (two `publish`, or `schedule` racing `publish`) find the same thread, never make two.
    with ledger.transaction():
        frozen = _freeze(ledger, draft, plans, schedule_at=schedule_at, now=now, again=again)
        if frozen.action != Freeze.RESUMED:
            record_source(ledger, frozen.thread_id, plans, again=again)
            ledger.set_account(frozen.thread_id, account)
            return frozen
        began_with = {p.account for p in ledger.platforms(frozen.thread_id)}
        if began_with != {account}:
            names = ", ".join(sorted(name or DEFAULT_ACCOUNT for name in began_with))
            return replace(
                frozen,
                message=f"{frozen.message} with the account it began with ({names})",
            )
        return frozen


def _freeze(
    ledger: Ledger,
    draft: Draft,
    plans: Mapping[PlatformName, Thread],
    *,
    schedule_at: datetime | None,
    now: datetime,
    again: bool,
) -> Frozen:
    refuse_conflicts(ledger, draft, again=again, plans=plans)
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


# -- publishers: opened once per pass, closed at the end ------------------------------------


class Publishers:
    """The publishers of one publishing pass (one `publish`, one `run`): each network's is
    opened on first use, reused by every thread of the pass (a `run` logs in once), and
    closed when the pass ends. Itself an `OpenPublisher`."""

    def __init__(self, open_publisher: OpenPublisher) -> None:
        self._open = open_publisher
        self._opened: dict[tuple[PlatformName, str | None], Publisher] = {}

    def __call__(self, platform: PlatformName, *, account: str | None = None) -> Publisher:
        """The publisher of `platform` for the named `account` (None: the default one)."""
        key = (platform, account)
        if key not in self._opened:
            self._opened[key] = account_opener(self._open, account)(platform)
        return self._opened[key]

    def __enter__(self) -> Publishers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every publisher opened so far (a failing close hides nothing it follows)."""
        opened, self._opened = list(self._opened.values()), {}
        for publisher in opened:
            with contextlib.suppress(Exception):
                publisher.close()


# -- what each kind of error does to the ledger ---------------------------------------------

AttemptOutcome = Literal[
    "ok",
    "landed-with-doubts",
    "auth",
    "permanent",
    "rate-limited",
    "unclear",
    "transient",
    "error",
    "unexpected",
]
#: What becomes of the posts an attempt left 'sending': looked up by the next attempt (they
#: may have landed), back to 'planned' (surely not sent), or 'planned' with the server's
#: refusal noted on the post.
PostsAfter = Literal["look-up", "planned", "refused"]
#: What the platform becomes once this run's retries are over: failed at once, left for a
#: later run (attempts counted, given up after `max_attempts`), or carry on sending.
PlatformAfter = Literal["failed", "retry-later", "carry-on"]


@dataclass(frozen=True)
class ErrorRule:
    """How the engine records one kind of failure."""

    kind: type[Exception]
    attempt: AttemptOutcome
    posts: PostsAfter
    platform: PlatformAfter
    #: Retried within this run (`retry.is_retryable` agrees: a test holds them together).
    retry: bool


#: The one table from error kind to ledger writes; the first row whose kind matches wins.
ERROR_RULES: Final = (
    # Every post landed and is confirmed, something about it is off: warn, go on.
    ErrorRule(LandedWithDoubts, "landed-with-doubts", "planned", "carry-on", retry=False),
    # Log in again: nothing is wrong with the thread itself.
    ErrorRule(AuthFailed, "auth", "refused", "retry-later", retry=False),
    ErrorRule(PermanentError, "permanent", "refused", "failed", retry=False),
    ErrorRule(RateLimited, "rate-limited", "planned", "retry-later", retry=True),
    ErrorRule(UnclearOutcome, "unclear", "look-up", "retry-later", retry=True),
    ErrorRule(TransientError, "transient", "planned", "retry-later", retry=True),
    # The ledger, the config, an adapter breaking its contract: whatever was being sent
    # may have landed.
    ErrorRule(ThreadpostError, "error", "look-up", "retry-later", retry=False),
    # A bug or an unforeseen failure (a decoder's bomb check, a malformed answer): this
    # thread is deferred with the reason recorded; other threads and networks go on.
    ErrorRule(Exception, "unexpected", "look-up", "retry-later", retry=False),
)


def error_rule(error: Exception) -> ErrorRule:
    """The row of `ERROR_RULES` for `error` (a transient error that says it is unclear is
    an unclear outcome, whatever its class)."""
    kind = UnclearOutcome if isinstance(error, TransientError) and error.unclear else type(error)
    return next(rule for rule in ERROR_RULES if issubclass(kind, rule.kind))


def error_text(error: Exception) -> str:
    """An error's message as recorded: an unexpected one is named by its type."""
    if isinstance(error, ThreadpostError):
        return error.message
    return f"unexpected error: {type(error).__name__}: {error}"


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
    confirmed post; `on_confirm` hears of each confirmed post too. The publishers stay open:
    closing them is for whoever owns the pass (`Publishers`)."""
    from threadpost.retry import RetryPolicy

    policy = policy or RetryPolicy(clock=clock)
    record = ledger.thread(thread_id)
    if record.state in ("cancelled", "skipped", "deleted"):
        raise StoreError(f"thread {thread_id} is {record.state}; nothing to publish")
    recheck_images(ledger, thread_id, clock())
    if record.state == "scheduled":
        ledger.set_thread_state(thread_id, "incomplete", clock())

    records = ledger.platforms(thread_id)
    settled = {
        r.platform: _outcome_from_ledger(ledger, r)
        for r in records
        if r.state in ("published", "failed", "deleted")
    }

    def publish_one(
        own_ledger: Ledger,
        record: PlatformRecord,
        confirmed: Callable[[PostRef], None],
        own_policy: RetryPolicy,
    ) -> PlatformOutcome:
        engine = PlatformEngine(
            own_ledger,
            record,
            account_opener(open_publisher, record.account),
            clock=clock,
            max_attempts=max_attempts,
            on_confirm=confirmed,
        )
        return engine.publish(own_policy)

    # The networks still to publish go at the same time, each in its own thread.
    fresh = publish_platforms(
        ledger,
        [r for r in records if r.platform not in settled],
        publish_one,
        policy=policy,
        lease=lease,
        on_confirm=on_confirm,
    )
    by_platform = {outcome.platform: outcome for outcome in fresh} | settled
    outcomes = [by_platform[r.platform] for r in records]
    result = PublishResult(thread_id, thread_state(outcomes), tuple(outcomes))
    ledger.set_thread_state(thread_id, result.state, clock(), error=result.error)
    return result


def recheck_images(ledger: Ledger, thread_id: str, now: datetime) -> None:
    """Before anything is sent, on every network still to publish: each image of the frozen
    plans is still a regular file (not a link) inside the draft's folder, of a type the
    networks take and within the network's limits once downscaled (image_fit.py). An image
    swapped since `check` (for a link to another file, one too large even downscaled) fails
    the thread with the reason recorded and raises `ValidationFailed` (exit 3): nothing is
    sent, on any network."""
    record = ledger.thread(thread_id)
    folder = Path(record.draft_path).parent.resolve()
    for platform in ledger.platforms(thread_id):
        if platform.state in ("published", "failed", "deleted"):
            continue
        plan = ledger.plan(thread_id, platform.platform)
        for post in plan.posts:
            for image in post.images:
                # The image and video readers: imported by the first attachment.
                from threadpost.attachment_fit import attachment_problem
                from threadpost.videos import is_video

                kind = "video" if is_video(image.path) else "image"
                where = f"{platform.platform} post {post.index}: {kind} {image.written_path}"
                reason = _image_place_problem(image.path, folder) or attachment_problem(
                    image.path, image.written_path, plan.limits, platform.platform
                )
                if reason is not None:
                    message = (
                        f"{record.draft_path}: {where} changed since the thread was checked: "
                        f"{reason}; nothing was sent"
                    )
                    ledger.set_thread_state(thread_id, "failed", now, error=message)
                    raise ValidationFailed(
                        message,
                        hint=f"fix the {kind}, then threadpost publish --again {record.draft_path}",
                    )


def _image_place_problem(path: Path, folder: Path) -> str | None:
    """Why `path` may not be uploaded from the draft's `folder` (None if it may): a link
    (or a linked folder on the way), not a regular file, or outside the folder."""
    if not path.is_absolute() or not path.is_relative_to(folder):
        return f"is outside the draft's folder {folder}"
    try:
        status = path.lstat()
    except FileNotFoundError:
        return "image file not found"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISLNK(status.st_mode) or path.resolve() != path:
        return (
            "is now a symbolic link (or inside a linked folder); images are never read "
            "through links"
        )
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file"
    return None


def thread_state(outcomes: Sequence[PlatformOutcome]) -> ThreadState:
    """A thread's state from its platforms': incomplete wins, then failed."""
    statuses = {outcome.status for outcome in outcomes}
    if "incomplete" in statuses:
        return "incomplete"
    if "failed" in statuses:
        return "failed"
    return "published"


class PlatformEngine:
    """Publishing one thread on one network, in four named steps: ensure keys, reconcile,
    send pending (one attempt = these three, retried per `RetryPolicy`), then settle the
    platform's state from how the attempts ended (`ERROR_RULES`)."""

    def __init__(
        self,
        ledger: Ledger,
        record: PlatformRecord,
        publishers: OpenPublisher,
        *,
        clock: Clock,
        max_attempts: int,
        on_confirm: Callable[[PostRef], None],
    ) -> None:
        self.ledger = ledger
        self.thread_id = record.thread_id
        self.platform = record.platform
        self.previous_attempts = record.attempts
        self.max_attempts = max_attempts
        self.clock = clock
        self.plan = ledger.plan(record.thread_id, record.platform)
        self._publishers = publishers
        self._on_confirm = on_confirm
        #: Every warning of this pass, in order, each once.
        self.warned: list[Problem] = []

    def publish(self, policy: RetryPolicy) -> PlatformOutcome:
        """Run the attempts, then settle; never raises for a failure of this platform
        (a broken ledger excepted: nothing could be recorded)."""
        from threadpost.retry import call_with_retries

        try:
            call_with_retries(self.attempt, policy)
        except sqlite3.Error:
            raise
        except Exception as error:
            return self.settle_failure(error)
        return self.settle_published()

    def attempt(self) -> None:
        """One attempt: ensure keys, reconcile, send pending."""
        # Opened inside the attempt so that a transient login failure is retried too.
        publisher = self._publishers(self.platform)
        self.ensure_keys(publisher)
        self.reconcile(publisher)
        self.send_pending(publisher)

    # -- the steps ---------------------------------------------------------------------

    def ensure_keys(self, publisher: Publisher) -> None:
        """Store the posts' keys before anything is sent; never replace stored ones."""
        if any(p.key is None for p in self._posts()):
            keys = publisher.post_keys(self.thread_id, self.plan)
            self.ledger.store_keys(self.thread_id, self.platform, keys)

    def reconcile(self, publisher: Publisher) -> None:
        """Posts left 'sending' (a crash, an unclear failure) may have landed: look them up,
        confirm those found, and put the others back to 'planned'."""
        posts = self._posts()
        in_doubt = [p for p in posts if p.state == "sending"]
        if not in_doubt:
            return
        refs = {p.index: p.ref for p in posts if p.state == "confirmed"}
        with self._watching(publisher, None):
            found = publisher.find_published(
                [p.post_key for p in in_doubt],
                thread=self.plan,
                parent=refs.get(in_doubt[0].index - 1),
            )
        landed = [ref for ref in found if ref is not None]
        if landed:
            self._confirm(landed)
        self.ledger.clear_sending(self.thread_id, self.platform)

    def send_pending(self, publisher: Publisher) -> None:
        """Send from the first unconfirmed post, replying to the last confirmed one, until
        every post is confirmed. Bounded: each round confirms at least one more or leaves."""
        for _ in range(len(self.plan.posts) + 1):
            posts = self._posts()
            pending = [p for p in posts if p.state != "confirmed"]
            if not pending:
                return
            start = pending[0].index
            if self._send_from(publisher, posts, start) == "done":
                return

    def settle_published(self) -> PlatformOutcome:
        """Every post is confirmed."""
        self.ledger.set_platform(
            self.thread_id,
            self.platform,
            state="published",
            attempts=self.previous_attempts,
            last_error=None,
        )
        return self._outcome("published")

    def settle_failure(self, error: Exception) -> PlatformOutcome:
        """This run's attempts are over and `error` ended the last: failed at once, or left
        for a later run until `max_attempts` runs have failed."""
        from threadpost.retry import next_retry_after

        attempts = self.previous_attempts + 1
        if error_rule(error).platform == "failed":
            message = _permanent_message(self.platform, error)
            self._set_platform("failed", attempts, message)
            return self._outcome("failed", error=message)
        hint = (
            f"log in again: threadpost login {self.platform}"
            if isinstance(error, AuthFailed)
            else None
        )
        post = getattr(error, "post", None)
        message = f"post {post}: {error_text(error)}" if post else error_text(error)
        if attempts >= self.max_attempts:
            message = f"gave up after {attempts} failed attempts: {message}"
            self._set_platform("failed", attempts, message)
            return self._outcome("failed", error=message, hint=hint)
        next_retry = next_retry_after(error, attempts, self.clock())
        self._set_platform("incomplete", attempts, message, next_retry)
        return self._outcome("incomplete", error=message, hint=hint, next_retry=next_retry)

    # -- one send --------------------------------------------------------------------------

    def _send_from(
        self, publisher: Publisher, posts: Sequence[PostRecord], start: int
    ) -> Literal["done", "again"]:
        """One `send` from post `start`, its attempt logged and its failure recorded by
        `ERROR_RULES`; "again" when it landed with doubts and the rest is still to send."""
        confirmed = {p.index: p.ref for p in posts if p.state == "confirmed"}
        with self.ledger.transaction():  # one commit (one fsync) before the send
            self.ledger.mark_sending(self.thread_id, self.platform, start, self.clock())
            attempt_id = self.ledger.start_attempt(
                self.thread_id, self.platform, start, self.clock()
            )
        try:
            with self._watching(publisher, attempt_id):
                publisher.send(
                    self.plan,
                    [p.post_key for p in posts],
                    start=start,
                    root=confirmed.get(1),
                    parent=confirmed.get(start - 1),
                    confirm=self._confirm,
                )
        except sqlite3.Error:
            raise
        except Exception as error:
            rule = error_rule(error)
            self._record_failure(attempt_id, rule, error, start)
            if rule.platform != "carry-on":
                raise
            assert isinstance(error, LandedWithDoubts)
            if not self._confirmed_more_than(confirmed):
                # Nothing new was confirmed: a plain refusal after all.
                raise PermanentError(
                    error.message, platform=self.platform, post=error.post, hint=error.hint
                ) from error
            return "again"
        with self.ledger.transaction():
            self.ledger.finish_attempt(attempt_id, "ok", self.clock())
            # The adapter returned: whatever it did not confirm did not land.
            self.ledger.clear_sending(self.thread_id, self.platform)
        left = [p for p in self._posts() if p.state != "confirmed"]
        if left:
            raise StoreError(
                f"the {self.platform} adapter returned without confirming post {left[0].index}"
            )
        return "done"

    def _record_failure(
        self, attempt_id: int, rule: ErrorRule, error: Exception, start: int
    ) -> None:
        message = error_text(error)
        self.ledger.finish_attempt(attempt_id, rule.attempt, self.clock(), message)
        if rule.posts == "planned":
            self.ledger.clear_sending(self.thread_id, self.platform)
        elif rule.posts == "refused":
            post = getattr(error, "post", None) or start
            self.ledger.clear_sending(self.thread_id, self.platform, error=message, error_post=post)
        if isinstance(error, LandedWithDoubts):
            # Not a failure, but something the person must hear about.
            doubt = Problem(
                severity="warning",
                code="landed-with-doubts",
                message=error.message,
                platform=self.platform,
                post=error.post,
            )
            self._keep_warnings([doubt], attempt_id)

    # -- plumbing ----------------------------------------------------------------------

    def _posts(self) -> list[PostRecord]:
        return self.ledger.posts(self.thread_id, self.platform)

    def _confirmed_more_than(self, before: Mapping[int, PostRef | None]) -> bool:
        now = {p.index for p in self._posts() if p.state == "confirmed"}
        return not now <= set(before)

    def _confirm(self, refs: Sequence[PostRef]) -> None:
        """The adapter's `confirm`: the posts are in the ledger before the next one is sent."""
        for ref in refs:
            if ref.platform != self.platform:
                raise StoreError(f"the {self.platform} adapter confirmed a {ref.platform} post")
        self.ledger.confirm_posts(self.thread_id, refs, self.clock())
        for ref in refs:
            self._on_confirm(ref)

    @contextlib.contextmanager
    def _watching(self, publisher: Publisher, attempt_id: int | None) -> Iterator[None]:
        """Around one adapter call: record the warnings it added to `publisher.warnings`
        (the list lives as long as the publisher, which `run` reuses across threads)."""
        mark = len(publisher.warnings)
        try:
            yield
        finally:
            self._keep_warnings(publisher.warnings[mark:], attempt_id)

    def _keep_warnings(self, problems: Sequence[Problem], attempt_id: int | None) -> None:
        fresh = [p for p in problems if p not in self.warned]
        if fresh:
            self.warned.extend(fresh)
            self.ledger.add_warnings(
                self.thread_id, self.platform, fresh, self.clock(), attempt_id=attempt_id
            )

    def _set_platform(
        self,
        state: PlatformState,
        attempts: int,
        message: str,
        next_retry: datetime | None = None,
    ) -> None:
        self.ledger.set_platform(
            self.thread_id,
            self.platform,
            state=state,
            attempts=attempts,
            next_retry_at=next_retry,
            last_error=message,
        )

    def _outcome(
        self,
        status: OutcomeStatus,
        *,
        error: str | None = None,
        hint: str | None = None,
        next_retry: datetime | None = None,
    ) -> PlatformOutcome:
        outcome = _with_refs(
            self.ledger,
            self.thread_id,
            self.platform,
            status,
            error=error,
            hint=hint,
            next_retry=next_retry,
        )
        return replace(outcome, warnings=tuple(p.post_line() for p in self.warned))


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


def _permanent_message(platform: PlatformName, error: Exception) -> str:
    post = getattr(error, "post", None)
    where = f"{platform} post {post}" if post else platform
    return f"{where} was refused: {error_text(error)}"


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


# -- cancelling and checking accounts -------------------------------------------------------


def cancel_thread(ledger: Ledger, thread_id: str, *, clock: Clock = utc_now) -> int:
    """Cancel a scheduled or unfinished thread so that `run` never posts it; return how
    many of its posts are already online (they stay: `delete` removes them). The caller
    holds the thread's lease, so no publisher overwrites the cancel with its own state."""
    record = ledger.thread(thread_id)
    if record.state not in ("scheduled", "incomplete"):
        raise StoreError(
            f"thread {thread_id} is {record.state}; only scheduled or "
            "unfinished threads can be cancelled"
        )
    published = sum(
        1
        for platform in record.platforms
        for post in ledger.posts(thread_id, platform)
        if post.state == "confirmed"
    )
    ledger.set_thread_state(thread_id, "cancelled", clock())
    return published


def verify_accounts(open_publisher: OpenPublisher, platforms: Sequence[PlatformName]) -> None:
    """Log in to each network before anything is recorded: missing or refused credentials
    raise (AuthFailed / ConfigError) instead of leaving a thread that every later `run`
    would fail on. A transient failure is left to the publishing pass, which retries it and
    keeps the thread resumable."""
    for platform in platforms:
        with contextlib.suppress(TransientError):
            open_publisher(platform).account_id()


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
    accounts = {p.platform: p.account for p in ledger.platforms(thread_id)}
    for platform in chosen:
        posts = [p for p in ledger.posts(thread_id, platform) if p.state == "confirmed"]
        refs = [p.ref for p in posts if p.ref is not None]
        if refs:
            publisher = account_opener(open_publisher, accounts.get(platform))(platform)
            publisher.delete(sorted(refs, key=lambda r: -r.index))
            ledger.mark_deleted(thread_id, platform, [r.index for r in refs])
        ledger.set_platform(thread_id, platform, state="deleted")
        deleted[platform] = len(refs)
    remaining = [p for p in ledger.platforms(thread_id) if p.state != "deleted"]
    if not remaining:
        ledger.set_thread_state(thread_id, "deleted", clock())
    return deleted
