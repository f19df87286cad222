"""Leases after a crash: a holder on this host whose process is gone is taken over at once;
a live one, one on another host, or one that did not say who it was, waits for expiry.
Real processes throughout (a pid that exited, a zombie, a running one)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from threadpost.processes import ProcessId, is_running, start_time, this_process
from threadpost.store import Ledger, open_ledger

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(minutes=25)
HOST = socket.gethostname()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


@pytest.fixture
def live() -> Iterator[subprocess.Popen[bytes]]:
    """A process that stays alive for the test."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def _held_by(ledger: Ledger, holder: ProcessId) -> None:
    assert ledger.claim_lease("thread:x", "them", until=UNTIL, now=NOW, holder=holder)


def test_this_process_is_running_and_knows_its_start_time() -> None:
    me = this_process()
    assert me.host == HOST and is_running(me)
    if Path("/proc/self/stat").exists():
        assert me.started is not None and me.started == start_time(me.pid)


def test_a_dead_holder_on_this_host_is_taken_over_at_once(ledger: Ledger) -> None:
    _held_by(ledger, ProcessId(HOST, _dead_pid(), "12345"))
    assert ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())
    owner, host, pid = ledger.lease_holder("thread:x", NOW) or ("", None, None)
    assert (owner, host, pid) == ("me", HOST, this_process().pid)


def test_a_live_holder_is_never_taken_over(ledger: Ledger, live: subprocess.Popen[bytes]) -> None:
    _held_by(ledger, ProcessId(HOST, live.pid, start_time(live.pid)))
    assert not ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())
    assert ledger.lease_holder("thread:x", NOW) == ("them", HOST, live.pid)
    # Only expiry frees it.
    later = UNTIL + timedelta(seconds=1)
    assert ledger.claim_lease(
        "thread:x", "me", until=later + timedelta(minutes=1), now=later, holder=this_process()
    )


def test_a_reused_pid_is_recognised_by_its_start_time(
    ledger: Ledger, live: subprocess.Popen[bytes]
) -> None:
    """The holder died and a new process got its pid: the start times differ."""
    started = start_time(live.pid)
    assert started is not None
    _held_by(ledger, ProcessId(HOST, live.pid, str(int(started) - 1)))
    assert ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())


def test_a_killed_holder_not_yet_reaped_counts_as_dead(ledger: Ledger) -> None:
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        import time

        deadline = time.monotonic() + 30
        while Path(f"/proc/{zombie.pid}/stat").exists() and time.monotonic() < deadline:
            state = Path(f"/proc/{zombie.pid}/stat").read_text().rpartition(")")[2].split()[0]
            if state == "Z":
                break
            time.sleep(0.02)
        _held_by(ledger, ProcessId(HOST, zombie.pid, None))
        assert ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())
    finally:
        zombie.wait(timeout=10)


def test_a_holder_on_another_host_waits_for_expiry(ledger: Ledger) -> None:
    _held_by(ledger, ProcessId(HOST + "-elsewhere", _dead_pid(), None))
    assert not ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())


def test_a_holder_that_did_not_say_who_it_was_waits_for_expiry(ledger: Ledger) -> None:
    assert ledger.claim_lease("thread:x", "them", until=UNTIL, now=NOW)
    assert not ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())


def test_this_very_process_under_another_owner_name_is_alive(ledger: Ledger) -> None:
    _held_by(ledger, this_process())
    assert not ledger.claim_lease("thread:x", "me", until=UNTIL, now=NOW, holder=this_process())


def test_a_version_1_ledger_is_migrated(tmp_path: Path) -> None:
    """Schema 2 adds first_sent_at (filled in for posts already under way from the attempt
    log), the lease holder's host/pid/start time, and the warnings table."""
    import sqlite3

    from sqlite_utils import Database

    from threadpost.store import SCHEMA_VERSION, _migration_1

    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    _migration_1(db)
    db.table("threadpost_meta").insert_all(
        [{"key": "application", "value": "threadpost"}, {"key": "schema_version", "value": "1"}]
    )
    db.table("threads").insert(
        {
            "id": "abcd1234",
            "draft_path": "/d.md",
            "content_hash": "h",
            "platforms": '["mastodon"]',
            "state": "incomplete",
            "created_at": NOW.isoformat(timespec="microseconds"),
            "updated_at": NOW.isoformat(timespec="microseconds"),
        }
    )
    for idx, state in ((1, "confirmed"), (2, "sending"), (3, "planned")):
        db.table("posts").insert(
            {
                "thread_id": "abcd1234",
                "platform": "mastodon",
                "idx": idx,
                "text_hash": "t",
                "state": state,
                "attempts": 0,
            }
        )
    db.table("attempts").insert(
        {
            "thread_id": "abcd1234",
            "platform": "mastodon",
            "idx": 1,
            "started_at": NOW.isoformat(timespec="microseconds"),
        }
    )
    db.conn.commit()
    db.conn.close()

    with open_ledger(path) as ledger:
        version = ledger.conn.execute(
            "SELECT value FROM threadpost_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert int(version) == SCHEMA_VERSION  # migrated all the way (6: accounts)
        assert ledger.edits("abcd1234") == []  # schema 5's table is there, empty
        sent = {p.index: p.first_sent_at for p in ledger.posts("abcd1234", "mastodon")}
        assert sent == {1: NOW, 2: NOW, 3: None}
        assert ledger.warnings("abcd1234") == []
        assert ledger.claim_lease("l", "me", until=UNTIL, now=NOW, holder=this_process())


# -- thread_lease: the one way publish, run, cancel and delete hold a thread ----------------

TTL = timedelta(minutes=25)


def test_a_held_lease_is_never_taken_over_even_long_after_it_expired(tmp_path: Path) -> None:
    from threadpost.clock import FrozenClock
    from threadpost.lease import ThreadBusy, thread_lease

    clock = FrozenClock(NOW)
    with open_ledger(tmp_path / "l.db") as mine, open_ledger(tmp_path / "l.db") as theirs:
        with thread_lease(mine, "abcd1234", ttl=TTL, clock=clock):
            far_later = FrozenClock(NOW + TTL * 10)
            with (
                pytest.raises(ThreadBusy, match="cannot cancel it now") as busy,
                thread_lease(theirs, "abcd1234", ttl=TTL, doing="cancel", clock=far_later),
            ):
                pass  # pragma: no cover - never entered
            assert busy.value.holder == f"process {this_process().pid} on this machine"
            # Another thread is not affected.
            with thread_lease(theirs, "ffff0000", ttl=TTL, clock=far_later):
                pass
        # Released on exit: the next holder takes it at once.
        with thread_lease(theirs, "abcd1234", ttl=TTL, clock=clock):
            pass
        assert mine.conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 0


def test_a_lease_is_released_when_its_block_raises(tmp_path: Path) -> None:
    from threadpost.lease import thread_lease

    with open_ledger(tmp_path / "l.db") as ledger:
        with pytest.raises(RuntimeError), thread_lease(ledger, "abcd1234", ttl=TTL):
            raise RuntimeError("boom")
        with thread_lease(ledger, "abcd1234", ttl=TTL):
            pass


def test_renewing_pushes_the_ledger_row_forward(tmp_path: Path) -> None:
    from threadpost.clock import FrozenClock
    from threadpost.lease import lease_name, thread_lease

    clock = FrozenClock(NOW)
    with (
        open_ledger(tmp_path / "l.db") as ledger,
        thread_lease(ledger, "abcd1234", ttl=TTL, clock=clock) as lease,
    ):
        clock.advance(minutes=20)
        lease.renew()
        # Without the renewal the row would have expired at NOW + 25 min.
        assert ledger.lease_owner(lease_name("abcd1234"), NOW + timedelta(minutes=40)) == (
            lease.owner
        )


def _expiry(ledger: Ledger) -> str:
    return str(ledger.conn.execute("SELECT expires_at FROM leases").fetchone()[0])


def test_renewing_in_the_first_half_of_the_term_writes_nothing(tmp_path: Path) -> None:
    """A confirmed post renews the lease; a commit (an fsync) per post would slow every
    thread down for nothing: until half the term has passed, nobody may take the row from a
    live holder anyway."""
    from threadpost.clock import FrozenClock
    from threadpost.lease import thread_lease

    clock = FrozenClock(NOW)
    with (
        open_ledger(tmp_path / "l.db") as ledger,
        thread_lease(ledger, "abcd1234", ttl=TTL, clock=clock) as lease,
    ):
        claimed = _expiry(ledger)
        changes = ledger.conn.total_changes
        clock.advance(minutes=12)  # TTL / 2 is 12.5 min
        lease.renew()
        assert ledger.conn.total_changes == changes and _expiry(ledger) == claimed
        clock.advance(minutes=1)
        lease.renew()
        assert _expiry(ledger) > claimed
        # Renewed at NOW + 13 min: the next write is due at NOW + 25.5 min.
        renewed = _expiry(ledger)
        clock.advance(minutes=12)
        lease.renew()
        assert _expiry(ledger) == renewed
        # A worker thread's copy of the lease (`through`) keeps the same schedule.
        worker = lease.through(ledger)
        worker.renew()
        assert _expiry(ledger) == renewed


def test_a_renewal_that_finds_the_row_taken_stops_the_sending(tmp_path: Path) -> None:
    from threadpost.clock import FrozenClock
    from threadpost.errors import StoreError
    from threadpost.lease import lease_name, thread_lease

    clock = FrozenClock(NOW)
    with (
        open_ledger(tmp_path / "l.db") as ledger,
        thread_lease(ledger, "abcd1234", ttl=TTL, clock=clock) as lease,
    ):
        # A holder that cannot be seen through the lock file (another host) took the row.
        ledger.conn.execute(
            "UPDATE leases SET owner = 'other-host:1:abc' WHERE name = ?",
            (lease_name("abcd1234"),),
        )
        clock.advance(minutes=13)
        with pytest.raises(StoreError, match="taken by another process"):
            lease.renew()


_HOLDER = """
import sys, time
from datetime import timedelta
from threadpost.lease import thread_lease
from threadpost.store import open_ledger
with open_ledger(sys.argv[1]) as ledger, thread_lease(ledger, "abcd1234", ttl=timedelta(hours=1)):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_killed_holder_is_taken_over_at_once(tmp_path: Path) -> None:
    """The kernel drops the file lock of a killed process; the row it left (unexpired, an
    hour to go) names a dead process: taken over at once, no waiting."""
    import os

    from threadpost.lease import ThreadBusy, thread_lease

    db = tmp_path / "l.db"
    open_ledger(db).close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with open_ledger(db) as ledger:
            with pytest.raises(ThreadBusy), thread_lease(ledger, "abcd1234", ttl=TTL):
                pass  # pragma: no cover - never entered
            holder.kill()
            holder.wait(timeout=10)
            assert ledger.conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 1
            with thread_lease(ledger, "abcd1234", ttl=TTL) as lease:
                assert lease.owner
    finally:
        holder.kill()
        holder.wait(timeout=10)
