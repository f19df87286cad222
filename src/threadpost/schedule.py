"""Scheduling: reading WHEN, choosing due threads, leases, and the `run` cron entry point.

`run` must stay cheap when nothing is due: this module imports only the standard library
and the light parts of threadpost at module level; publishing (tenacity, the adapters)
is imported only once a thread is actually due.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final, Literal
from zoneinfo import ZoneInfo

from threadpost.clock import Clock, utc_now, zone_name
from threadpost.clock import local_time as clock_local_time
from threadpost.errors import ExitStatus, UsageError
from threadpost.lease import ThreadBusy, lease_duration, lease_owner_id, thread_lease

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.lease import Lease
    from threadpost.publish import OpenPublisher, PublishResult
    from threadpost.retry import RetryPolicy
    from threadpost.store import Ledger

#: A schedule missed by more than this draws a "published late" warning.
LATE_WARNING_AFTER: Final = timedelta(minutes=10)

_RELATIVE = re.compile(r"^\+\s*(\d+)\s*(m|min|h|d)$", re.IGNORECASE)
_DAY_WORD = re.compile(r"^(today|tomorrow)\s+(\d{1,2}):(\d{2})$", re.IGNORECASE)
_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")

WHEN_FORMS: Final = (
    'RFC 3339 ("2026-12-01T09:00:00+01:00"), "2026-12-01 09:00" (configured timezone), '
    '"+30m", "+2h", "+1d", "today 18:00" or "tomorrow 09:00"'
)


# -- WHEN ----------------------------------------------------------------------------------


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """Parse a publication time; return it in UTC. The past is refused.

    Local forms are read in `tz`, DST included: "+1d" and "tomorrow 09:00" keep the wall
    clock time across a DST change; a local time that does not exist (clocks jump forward)
    is refused; an ambiguous one (clocks go back) means its first occurrence."""
    raw = text.strip()
    try:
        moment = _parse(raw, now=now, tz=tz)
        # Within a day of the calendar's end, showing it in another zone would overflow.
        if moment.year >= 9999:
            raise OverflowError
    except OverflowError:
        raise UsageError(f"{text!r} is too far in the future; use {WHEN_FORMS}") from None
    if moment <= now:
        raise UsageError(f"{text!r} is in the past ({local_time(moment, tz)}); choose a later time")
    return moment.astimezone(UTC)


def _parse(raw: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    local_now = now.astimezone(tz)
    match = _RELATIVE.match(raw)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit == "d":
            # Calendar days: the same wall-clock time, whatever DST does in between.
            return localize(local_now.replace(tzinfo=None) + timedelta(days=amount), tz, raw)
        minutes = amount * (60 if unit == "h" else 1)
        return now + timedelta(minutes=minutes)
    match = _DAY_WORD.match(raw)
    if match:
        day = local_now.date() + timedelta(days=1 if match.group(1).lower() == "tomorrow" else 0)
        return localize(_combine(day, match.group(2), match.group(3), None, raw), tz, raw)
    match = _LOCAL.match(raw)
    if match:
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            raise UsageError(f"{raw!r} is not a valid date; use {WHEN_FORMS}") from None
        return localize(_combine(day, match.group(2), match.group(3), match.group(4), raw), tz, raw)
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise UsageError(f"cannot read the time {raw!r}; use {WHEN_FORMS}") from None
    if moment.tzinfo is None:
        return localize(moment, tz, raw)
    return moment


def _combine(day: date, hour: str, minute: str, second: str | None, raw: str) -> datetime:
    try:
        return datetime.combine(day, time(int(hour), int(minute), int(second or 0)))
    except ValueError:
        raise UsageError(f"{raw!r} is not a valid time of day") from None


def localize(naive: datetime, tz: ZoneInfo, shown: str | None = None) -> datetime:
    """A wall-clock time in `tz` as an aware datetime; refuse one skipped by DST."""
    first = naive.replace(tzinfo=tz, fold=0)
    # A time in the spring-forward gap does not survive a round trip through UTC.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise UsageError(
            f"{shown or naive.isoformat(sep=' ')} does not exist in {zone_name(tz)}: the clocks "
            "jump forward then; choose another time"
        )
    return first


def resolve_schedule(moment: datetime, tz: ZoneInfo) -> datetime:
    """A front-matter schedule in UTC: a naive one is read in the configured timezone."""
    if moment.tzinfo is None:
        return localize(moment, tz).astimezone(UTC)
    return moment.astimezone(UTC)


# -- run -----------------------------------------------------------------------------------

RunAction = Literal["published", "incomplete", "failed", "skipped", "busy", "gone"]


@dataclass(frozen=True)
class RunItem:
    """What `run` did with one thread."""

    thread_id: str
    draft_path: str
    action: RunAction
    message: str | None = None
    #: A warning worth a line in the cron log (late publication).
    warning: str | None = None
    result: PublishResult | None = None
    #: What bringing the plan up to date with the draft file said (`draft_refresh`): the
    #: edited draft published, the file gone, an edit after posting began.
    draft_warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The item as JSON-able data."""
        return {
            "thread": self.thread_id,
            "draft": self.draft_path,
            "action": self.action,
            "message": self.message,
            "warning": self.warning,
            "result": self.result.to_json() if self.result else None,
            "draft_warnings": list(self.draft_warnings),
        }


@dataclass(frozen=True)
class RunReport:
    """What one `run` did."""

    items: tuple[RunItem, ...]
    #: Threads still waiting after this run, and the earliest time one is due.
    waiting: int
    next_due: datetime | None

    @property
    def exit_status(self) -> ExitStatus:
        """0 all well; 4 something remains incomplete (a later run resumes it); 1 a
        thread was given up in this run."""
        actions = {item.action for item in self.items}
        if "incomplete" in actions:
            return ExitStatus.PUBLISH_INCOMPLETE
        if "failed" in actions:
            return ExitStatus.ERROR
        return ExitStatus.OK


def run_due(
    ledger: Ledger,
    settings: Settings,
    open_publisher: OpenPublisher,
    *,
    clock: Clock = utc_now,
    policy: RetryPolicy | None = None,
    owner: str | None = None,
) -> RunReport:
    """Publish every due thread and resume incomplete ones whose retry time has come.

    Each thread is published under its lease, so overlapping runs never publish the same
    thread; a missed schedule is published late (with a warning) up to `max_lateness`,
    and skipped beyond it."""
    from threadpost.publish import Publishers

    due = ledger.due_thread_ids(clock())
    items: list[RunItem] = []
    if due:
        me = owner or lease_owner_id()
        # One login per network for the whole run; the connections are closed at its end.
        with Publishers(open_publisher) as publishers:
            for thread_id in due:
                items.append(_run_one(ledger, settings, publishers, thread_id, clock, policy, me))
    waiting, next_due = ledger.next_due()
    return RunReport(tuple(items), waiting, next_due)


def _run_one(
    ledger: Ledger,
    settings: Settings,
    open_publisher: OpenPublisher,
    thread_id: str,
    clock: Clock,
    policy: RetryPolicy | None,
    owner: str,
) -> RunItem:
    try:
        with thread_lease(
            ledger, thread_id, ttl=lease_duration(settings), clock=clock, owner=owner
        ) as lease:
            return _run_leased(ledger, settings, open_publisher, lease, policy)
    except ThreadBusy as busy:
        return RunItem(thread_id, "", "busy", busy.busy_line)
    except sqlite3.Error:
        raise  # the ledger itself: no thread can be recorded, the funnel names the file
    except Exception as error:
        # Beyond what the engine records per network (an unreadable frozen plan, a bug):
        # this thread fails with the reason recorded, and the run goes on to the next.
        from threadpost.publish import error_text

        reason = f"could not publish: {error_text(error)}"
        ledger.set_thread_state(thread_id, "failed", clock(), error=reason)
        return RunItem(thread_id, ledger.thread(thread_id).draft_path, "failed", reason)


def _run_leased(
    ledger: Ledger,
    settings: Settings,
    open_publisher: OpenPublisher,
    lease: Lease,
    policy: RetryPolicy | None,
) -> RunItem:
    from threadpost.draft_refresh import refresh_from_draft
    from threadpost.link_recheck import recheck_links
    from threadpost.publish import publish_thread

    thread_id, clock = lease.thread_id, lease.clock
    # Re-read under the lease: another run may have finished it since we listed it.
    record = ledger.thread(thread_id)
    now = clock()
    if thread_id not in ledger.due_thread_ids(now):
        return RunItem(thread_id, record.draft_path, "gone", f"already {record.state}")
    warning = None
    if record.state == "scheduled" and record.schedule_at is not None:
        late = now - record.schedule_at
        if late > settings.max_lateness:
            skipped = (
                f"missed its time ({local_time(record.schedule_at, settings.timezone)}) by "
                f"{_human(late)}, more than max_lateness ({_human(settings.max_lateness)}): "
                f"skipped; publish it with: threadpost publish {record.draft_path}"
            )
            ledger.set_thread_state(thread_id, "skipped", now, error=skipped)
            return RunItem(thread_id, record.draft_path, "skipped", skipped)
        if late > LATE_WARNING_AFTER:
            warning = (
                f"thread {thread_id} is {_human(late)} late (was due "
                f"{local_time(record.schedule_at, settings.timezone)}); publishing it now"
            )
    # The draft file is the source of truth: an edit since `schedule` is what is sent (and
    # what the links are re-checked on).
    refreshed = refresh_from_draft(ledger, thread_id, settings, now=now)
    if record.state == "scheduled":
        # First start only: a resumed thread's links were followed when it started.
        dead_links = recheck_links(ledger, thread_id, settings, now)
        if dead_links:
            warning = f"{warning}; {dead_links}" if warning else dead_links
    result = publish_thread(
        ledger,
        thread_id,
        open_publisher,
        max_attempts=settings.max_attempts,
        policy=policy,
        clock=clock,
        lease=lease,
    )
    action: RunAction = (
        "incomplete"
        if result.state == "incomplete"
        else "failed"
        if result.state == "failed"
        else "published"
    )
    return RunItem(
        thread_id, record.draft_path, action, result.error, warning, result, refreshed.warnings
    )


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """`moment` as people read it in messages: "2026-12-01 09:00 CET" (`clock.local_time`)."""
    return clock_local_time(moment, tz)


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
    return f"{hours // 24} days"
