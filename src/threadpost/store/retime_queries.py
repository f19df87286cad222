"""Queries on how a queued thread follows its draft's `schedule` line (schema 7; the rules
are retime.py's): the draft's schedule and file identity it was last timed from, and each
re-timing. Bare SQL: `run` asks `retime_candidates` at every cron tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from threadpost.clock import format_utc, parse_utc
from threadpost.store.core import LedgerCore


@dataclass(frozen=True)
class RetimeCandidate:
    """A queued thread whose draft's schedule is known."""

    thread_id: str
    draft_path: str
    #: The queued time as the ledger writes it (read with `schedule_at`): parsed only for
    #: a draft that changed, since every cron tick lists every candidate.
    schedule_text: str | None
    #: The draft's schedule it was last timed from (UTC text), "" for none.
    draft_schedule: str
    #: The draft file's identity then ("mtime_ns:size"), None if not taken.
    draft_seen: str | None

    @property
    def schedule_at(self) -> datetime | None:
        return parse_utc(self.schedule_text) if self.schedule_text else None


@dataclass(frozen=True)
class RetimeRecord:
    """One re-timing, as the ledger recorded it."""

    thread_id: str
    #: "retimed": moved to the draft's new schedule; "kept": the draft's schedule line was
    #: removed and the queued time kept.
    kind: str
    from_at: datetime | None
    to_at: datetime | None
    recorded_at: datetime


class RetimeQueries(LedgerCore):
    """The draft schedule a thread was timed from, and its re-timings."""

    def record_draft_schedule(self, thread_id: str, schedule: str, seen: str | None) -> None:
        """The draft's schedule (UTC text, "" for none) and file identity the thread was
        just timed from (by `schedule`)."""
        self._write(
            "UPDATE threads SET draft_schedule = ?, draft_seen = ? WHERE id = ?",
            (schedule, seen, thread_id),
        )

    def retime_candidates(self) -> list[RetimeCandidate]:
        """Queued threads whose draft's schedule is known. Whether one has begun posting
        (then it is never re-timed) is asked by `retime` itself, for the few whose draft
        changed: this list is made at every cron tick."""
        rows = self._rows(
            "SELECT id, draft_path, schedule_at, draft_schedule, draft_seen FROM threads"
            " WHERE state = 'scheduled' AND draft_schedule IS NOT NULL ORDER BY id"
        )
        return [RetimeCandidate(*row) for row in rows]

    def note_draft_seen(self, thread_id: str, seen: str) -> None:
        """The draft was looked at: nothing to do until it changes again (its schedule is
        as the thread was timed from, or the thread may not be re-timed)."""
        self._write("UPDATE threads SET draft_seen = ? WHERE id = ?", (seen, thread_id))

    def retime(
        self,
        thread_id: str,
        *,
        kind: str,
        to_at: datetime | None,
        draft_schedule: str,
        seen: str,
        now: datetime,
    ) -> RetimeRecord | None:
        """Move the thread to `to_at` (kind "retimed"; for "kept" the time stays) and record
        it, unless it is no longer queued and unstarted (then None: nothing changed)."""
        with self.transaction():
            rows = self._rows(
                "SELECT schedule_at FROM threads t WHERE id = ? AND state = 'scheduled'"
                " AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.thread_id = t.id"
                " AND p.state != 'planned')",
                (thread_id,),
            )
            if not rows:
                return None
            before = rows[0]["schedule_at"]
            after = format_utc(to_at) if kind == "retimed" and to_at is not None else before
            stamp = format_utc(now)
            self.conn.execute(
                "UPDATE threads SET schedule_at = ?, draft_schedule = ?, draft_seen = ?,"
                " updated_at = ? WHERE id = ?",
                (after, draft_schedule, seen, stamp, thread_id),
            )
            self.conn.execute(
                "INSERT INTO retimes (thread_id, kind, from_at, to_at, draft_schedule,"
                " recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (thread_id, kind, before, after, draft_schedule, stamp),
            )
        return RetimeRecord(
            thread_id,
            kind,
            parse_utc(before) if before else None,
            parse_utc(after) if after else None,
            now,
        )

    def last_retime(self, thread_id: str) -> RetimeRecord | None:
        """The thread's latest re-timing, if any."""
        rows = self._rows(
            "SELECT kind, from_at, to_at, recorded_at FROM retimes WHERE thread_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (thread_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return RetimeRecord(
            thread_id,
            str(row["kind"]),
            parse_utc(row["from_at"]) if row["from_at"] else None,
            parse_utc(row["to_at"]) if row["to_at"] else None,
            parse_utc(row["recorded_at"]),
        )
