"""A queued thread keeps to its draft's `schedule` line: an edit of that line after
`threadpost schedule` re-times the thread, as the author expects of the file that is the
source of truth (README, "The draft file is the source of truth").

- The draft's schedule moved: the thread is due at the new time (a time already past
  makes it due now, rather than late or skipped by `max_lateness`: the author just asked
  for it).
- The line removed: the queued time stays (`--at`, or the line as it was, chose it), and
  that is said.
- A thread that has begun posting is never re-timed: it resumes as it is. A thread
  scheduled before the ledger knew its draft's schedule (schema 7) is not either.

`run`, `queue` and `status` call `follow_draft_schedules` before they look at the queue;
each re-timing is recorded in the ledger (`retimes`), and `queue`/`status` show the
latest. Cheap at every cron tick: a draft is read only when its file changed since the
thread was last timed from it (its mtime or size differ), so the draft parser and the
scheduler are imported only then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal
from zoneinfo import ZoneInfo

from threadpost.clock import format_utc, local_time, parse_utc
from threadpost.errors import DraftError, UsageError

if TYPE_CHECKING:
    from threadpost.store import Ledger
    from threadpost.store.retime_queries import RetimeCandidate, RetimeRecord

RetimingKind = Literal["retimed", "kept", "unreadable"]

#: Why a thread was re-timed, in every message that says so.
BECAUSE: Final = "(the draft's schedule changed)"


@dataclass(frozen=True)
class Retiming:
    """What following its draft's schedule did to one thread."""

    thread_id: str
    draft_path: str
    kind: RetimingKind
    #: The queued time before and after (the same when kept; None: not known).
    before: datetime | None
    after: datetime | None
    #: The line for `run -v` and the cron log.
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "thread": self.thread_id,
            "draft": self.draft_path,
            "kind": self.kind,
            "from_utc": self.before.isoformat() if self.before else None,
            "to_utc": self.after.isoformat() if self.after else None,
            "message": self.message,
        }


def file_identity(path: Path | str) -> str | None:
    """The draft file as `run` recognises it unchanged: its mtime (ns) and size; None when
    it cannot be read (gone: publishing says so)."""
    try:
        # os.stat, not Path.stat: a cron tick takes it for every queued draft, and making
        # a Path costs three times the system call.
        status = os.stat(path)  # noqa: PTH116
    except OSError:
        return None
    return f"{status.st_mtime_ns}:{status.st_size}"


def draft_schedule_text(moment: datetime | None, tz: ZoneInfo) -> str:
    """A draft's `schedule` as the ledger keeps it: UTC text, "" for none."""
    from threadpost.schedule import resolve_schedule

    return "" if moment is None else format_utc(resolve_schedule(moment, tz))


def drafts_to_look_at(ledger: Ledger) -> bool:
    """Whether some queued thread's draft changed since it was last timed from it (what
    `follow_draft_schedules` would read); `run`'s quiet path leaves those to the full run."""
    return any(
        (seen := file_identity(candidate.draft_path)) is not None and seen != candidate.draft_seen
        for candidate in ledger.retime_candidates()
    )


def follow_draft_schedules(ledger: Ledger, tz: ZoneInfo, now: datetime) -> list[Retiming]:
    """Re-time each queued, unstarted thread whose draft's schedule changed (see the
    module's docstring); what was done, one entry a thread it concerned."""
    done: list[Retiming] = []
    for candidate in ledger.retime_candidates():
        seen = file_identity(candidate.draft_path)
        if seen is None or seen == candidate.draft_seen:
            continue
        retiming = _follow(ledger, candidate, seen, tz, now)
        if retiming is not None:
            done.append(retiming)
    return done


def _follow(
    ledger: Ledger, candidate: RetimeCandidate, seen: str, tz: ZoneInfo, now: datetime
) -> Retiming | None:
    # Imported here: reached only for a draft changed since it was last looked at, never on
    # a cron tick that finds every draft as it was.
    from threadpost.draft import read_draft

    thread_id, path = candidate.thread_id, candidate.draft_path
    queued = _when(candidate.schedule_at, tz)
    try:
        front = read_draft(path).front
        written = draft_schedule_text(front.schedule, tz)
    except (DraftError, UsageError) as error:
        # Its time cannot be known from the file now; publishing re-reads it and says why.
        ledger.note_draft_seen(thread_id, seen)
        return Retiming(
            thread_id,
            path,
            "unreadable",
            candidate.schedule_at,
            candidate.schedule_at,
            f"thread {thread_id}: {path} changed and its schedule cannot be read "
            f"({error.message}); it stays queued for {queued}",
        )
    if written == candidate.draft_schedule:
        ledger.note_draft_seen(thread_id, seen)
        return None
    if not written:
        record = ledger.retime(
            thread_id, kind="kept", to_at=None, draft_schedule="", seen=seen, now=now
        )
        if record is None:  # it began posting: it resumes as it is
            ledger.note_draft_seen(thread_id, seen)
            return None
        return Retiming(
            thread_id,
            path,
            "kept",
            record.from_at,
            record.to_at,
            f"thread {thread_id}: the schedule line was removed from {path}; it keeps its "
            f"queued time, {queued}",
        )
    target = parse_utc(written)
    if target == candidate.schedule_at:
        # The thread is due then already (`--at` chose it): only the draft's value is new.
        ledger.record_draft_schedule(thread_id, written, seen)
        return None
    # A time already past: due now, not "late" (nor skipped by max_lateness).
    due_now = target <= now
    record = ledger.retime(
        thread_id,
        kind="retimed",
        to_at=now if due_now else target,
        draft_schedule=written,
        seen=seen,
        now=now,
    )
    if record is None:  # it began posting: it resumes as it is
        ledger.note_draft_seen(thread_id, seen)
        return None
    message = f"thread {thread_id}: {retimed_words(record, tz)}"
    if due_now:
        message += f"; its new time, {_when(target, tz)}, has passed: due now"
    return Retiming(thread_id, path, "retimed", record.from_at, record.to_at, message)


def retimed_words(record: RetimeRecord, tz: ZoneInfo) -> str:
    """ "re-timed from 2026-12-01 09:00 CET to 2026-12-02 09:00 CET (the draft's schedule
    changed)", or what was kept when the line was removed: `queue` and `status` say it."""
    if record.kind == "kept":
        return (
            f"kept its queued time, {_when(record.to_at, tz)} (the draft's schedule line "
            "was removed)"
        )
    return f"re-timed from {_when(record.from_at, tz)} to {_when(record.to_at, tz)} {BECAUSE}"


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return local_time(moment, tz) if moment is not None else "now"
