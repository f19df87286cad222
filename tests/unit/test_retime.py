"""retime.py on the ledger alone: a thread whose post is under way stays as it is even
while its state still says scheduled (a process died mid-send), and the draft is then
not read again until it changes; a thread scheduled before schema 7 is not followed."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fakes import make_thread
from threadpost.clock import format_utc
from threadpost.retime import drafts_to_look_at, file_identity, follow_draft_schedules
from threadpost.store import Ledger, open_ledger

TZ = ZoneInfo("UTC")


def _draft(path: Path, when: datetime) -> None:
    existed = path.exists()
    stamp = path.stat().st_mtime + 1 if existed else None
    path.write_text(f'+++\nschedule = "{when.isoformat()}"\n+++\nHello.\n', encoding="utf-8")
    if stamp is not None:  # an edit a second later: seen on every file system's mtime
        os.utime(path, (stamp, stamp))


def _thread(ledger: Ledger, draft: Path, when: datetime, *, follow: bool) -> str:
    thread_id = ledger.create_thread(
        draft_path=str(draft),
        content_hash="h",
        title=None,
        plans={"mastodon": make_thread("mastodon", 2)},
        schedule_at=when,
        state="scheduled",
        now=datetime.now(UTC),
    )
    if follow:
        ledger.record_draft_schedule(thread_id, format_utc(when), file_identity(draft))
    return str(thread_id)


def test_a_thread_with_a_post_under_way_is_not_retimed(tmp_path: Path) -> None:
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    draft = tmp_path / "d.md"
    _draft(draft, when)
    with open_ledger(tmp_path / "l.db") as ledger:
        thread_id = _thread(ledger, draft, when, follow=True)
        assert not drafts_to_look_at(ledger)
        ledger.conn.execute(
            "UPDATE posts SET state = 'sending' WHERE thread_id = ? AND idx = 1", (thread_id,)
        )
        _draft(draft, when + timedelta(days=2))
        assert drafts_to_look_at(ledger)
        assert follow_draft_schedules(ledger, TZ, datetime.now(UTC)) == []
        assert ledger.thread(thread_id).schedule_at == when
        assert ledger.last_retime(thread_id) is None
        # Looked at once: the next tick does not read it again.
        assert not drafts_to_look_at(ledger)


def test_a_thread_scheduled_before_schema_7_is_not_followed(tmp_path: Path) -> None:
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    draft = tmp_path / "d.md"
    _draft(draft, when)
    with open_ledger(tmp_path / "l.db") as ledger:
        thread_id = _thread(ledger, draft, when, follow=False)
        _draft(draft, when + timedelta(days=2))
        assert not drafts_to_look_at(ledger)
        assert follow_draft_schedules(ledger, TZ, datetime.now(UTC)) == []
        assert ledger.thread(thread_id).schedule_at == when


def test_a_followed_thread_is_retimed_and_recorded(tmp_path: Path) -> None:
    """The counterpart of the two above: the same ledger calls do re-time."""
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    draft = tmp_path / "d.md"
    _draft(draft, when)
    with open_ledger(tmp_path / "l.db") as ledger:
        thread_id = _thread(ledger, draft, when, follow=True)
        later = when + timedelta(days=2)
        _draft(draft, later)
        [retiming] = follow_draft_schedules(ledger, TZ, datetime.now(UTC))
        assert (retiming.kind, retiming.before, retiming.after) == ("retimed", when, later)
        assert ledger.thread(thread_id).schedule_at == later
        record = ledger.last_retime(thread_id)
        assert record is not None and (record.from_at, record.to_at) == (when, later)
