"""The draft file is the source of truth: just before a thread is sent, its frozen plan is
brought up to date with the file.

- Not started yet (no post sent anywhere) and the file edited since the plan was frozen:
  the draft is re-planned (for the networks it was scheduled for that its `platforms` still
  name, with the limits it was checked against) and re-checked offline; errors fail the
  thread with the reason, naming file, line and post, and nothing is sent. Otherwise the
  new plan replaces the frozen one.
- The file gone: the frozen plan is sent, with a warning.
- Started (some post confirmed or under way): the frozen plan stays, so that no mix of old
  and new posts is published; an edit draws a warning.

Either way, posts already online on a network from another thread are not sent there
again (`repeats`), unless the thread was frozen with `--again`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

from threadpost.check import check_threads, plan_draft
from threadpost.draft import read_draft
from threadpost.draft_changes import has_started
from threadpost.errors import DraftError, ValidationFailed
from threadpost.repeats import RepeatRefused, record_source, refuse_repeats
from threadpost.reply_parents import frozen_continuation, keep_found_parents

if TYPE_CHECKING:
    from datetime import datetime

    from threadpost.config import Settings
    from threadpost.plan import Thread
    from threadpost.store import Ledger, ThreadRecord
    from threadpost.values import PlatformName, Problem

RefreshOutcome = Literal["unchanged", "replanned", "missing", "kept"]

#: Not re-checked at publish time: the thread's time is the ledger's, and it has come.
_NOT_RECHECKED = frozenset({"schedule-past"})


@dataclass(frozen=True)
class Refresh:
    """What `refresh_from_draft` did, and what the person should hear about it."""

    outcome: RefreshOutcome
    warnings: tuple[str, ...] = ()


def refresh_from_draft(
    ledger: Ledger, thread_id: str, settings: Settings, *, now: datetime
) -> Refresh:
    """Bring the thread's frozen plans up to date with its draft file before sending (see
    the module's docstring). The caller holds the thread's lease. Raises `ValidationFailed`
    (exit 3) after marking the thread failed when nothing may be sent."""
    record = ledger.thread(thread_id)
    path = Path(record.draft_path)
    if has_started(ledger, record):
        return _started(record, path)
    if not path.exists():
        _refuse_repeats_of_frozen(ledger, record, now)
        return Refresh(
            "missing",
            (
                f"{path} is gone; publishing thread {thread_id} as it was frozen when it was "
                "scheduled",
            ),
        )
    try:
        draft = read_draft(path)
    except DraftError as error:
        message = (
            f"{path} changed since thread {thread_id} was scheduled and cannot be read now: "
            f"{error.message}; nothing was sent"
        )
        _fail(ledger, record, now, message, check_hint=True)
    if draft.content_hash == record.content_hash:
        _refuse_repeats_of_frozen(ledger, record, now)
        return Refresh("unchanged")
    # The edit may take networks away (its `platforms`), never add one it was not scheduled
    # for: a `schedule --platform` choice, and what was checked for, still hold.
    chosen = [platform for platform in record.platforms if platform in draft.front.platforms]
    if not chosen:
        line = draft.front.lines.get("platforms")
        _fail(
            ledger,
            record,
            now,
            f"{path}{f':{line}' if line else ''} changed since thread {thread_id} was "
            f"scheduled: its platforms no longer include {' or '.join(record.platforms)}, "
            "the networks it was scheduled for; nothing was sent",
            hint=f"threadpost schedule {path} schedules it for its new networks",
        )
    frozen = {platform: ledger.plan(thread_id, platform) for platform in chosen}
    plans = plan_draft(
        draft,
        settings,
        chosen,
        offline=True,
        limits={platform: plan.limits for platform, plan in frozen.items()},
        # Under the same post, numbered on as before, with the parents found when frozen.
        continuation=frozen_continuation(frozen),
    )
    plans, parent_problems = keep_found_parents(draft, frozen, plans)
    problems = parent_problems + [
        p
        for p in check_threads(draft, list(plans.values()), settings, offline=True, now=now)
        if p.code not in _NOT_RECHECKED
    ]
    errors = [p for p in problems if p.is_error]
    if errors:
        _fail(ledger, record, now, _errors_message(record, errors), check_hint=True)
    _refuse_repeats(ledger, record, plans, now)
    with ledger.transaction():
        ledger.replace_plans(
            thread_id,
            content_hash=draft.content_hash,
            title=draft.front.title,
            plans=plans,
            schedule_at=record.schedule_at,
            now=now,
        )
        record_source(ledger, thread_id, plans)
    summary = ", ".join(f"{p} {_posts(len(t.posts))}" for p, t in plans.items())
    notes = [
        f"{path} changed since thread {thread_id} was scheduled: publishing the edited "
        f"draft ({summary}), re-planned and re-checked"
    ]
    notes += [f"{p.where(str(path))}: {p.message}" for p in problems]
    return Refresh("replanned", tuple(notes))


# -- the steps ---------------------------------------------------------------------------


def _started(record: ThreadRecord, path: Path) -> Refresh:
    try:
        current = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return Refresh("kept")
    if current == record.content_hash:
        return Refresh("kept")
    return Refresh(
        "kept",
        (
            f"{path} changed after thread {record.id} began posting; the rest of it is sent "
            "as it was frozen, so that no mix of old and new posts is published",
        ),
    )


def _refuse_repeats_of_frozen(ledger: Ledger, record: ThreadRecord, now: datetime) -> None:
    """The frozen plans may have become a repeat since they were frozen (the same posts
    published meanwhile from another file, or two copies scheduled); their images may have
    changed (fingerprints follow them). A thread whose source was never recorded (frozen
    before schema 4) was accepted under the rule of its time and is not refused now."""
    plans = {platform: ledger.plan(record.id, platform) for platform in record.platforms}
    if ledger.source(record.id).images_hash is not None:
        _refuse_repeats(ledger, record, plans, now)
    record_source(ledger, record.id, plans)


def _refuse_repeats(
    ledger: Ledger, record: ThreadRecord, plans: dict[PlatformName, Thread], now: datetime
) -> None:
    try:
        refuse_repeats(
            ledger,
            Path(record.draft_path),
            plans,
            again=ledger.source(record.id).again,
            other_than=record.id,
        )
    except RepeatRefused as refused:
        _fail(ledger, record, now, f"{refused.message}; nothing was sent", hint=refused.hint)


def _fail(
    ledger: Ledger,
    record: ThreadRecord,
    now: datetime,
    message: str,
    *,
    check_hint: bool = False,
    hint: str | None = None,
) -> NoReturn:
    ledger.set_thread_state(record.id, "failed", now, error=message)
    if check_hint:
        hint = (
            f"threadpost check {record.draft_path} lists every problem; once fixed, "
            f"threadpost schedule --again {record.draft_path}"
        )
    raise ValidationFailed(message, hint=hint)


def _errors_message(record: ThreadRecord, errors: list[Problem]) -> str:
    first = errors[0]
    count = len(errors)
    message = (
        f"{record.draft_path} changed since thread {record.id} was scheduled and now has "
        f"{count} error{'s' if count != 1 else ''}: {first.where(record.draft_path)}: "
        f"{first.message}"
    )
    if count > 1:
        message += f" (and {count - 1} more)"
    return message + "; nothing was sent"


def _posts(count: int) -> str:
    return f"{count} post{'s' if count != 1 else ''}"
