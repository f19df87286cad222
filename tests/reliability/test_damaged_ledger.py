"""A damaged ledger (issues 17, 18): deleted or replaced mid-run, an index bit flip, a full
disk after the last post. Each case ends in `Error: <ledger>: …` (exit 1, no traceback),
nothing is sent that the ledger does not record, and `run` finishes the thread once the file
is healthy again, every post online once.

These cells run the real CLI in-process against the fake network of `tests/fakes.py` (its
`before_post` hook damages the ledger between two posts, where a real network is too fast
to aim at); the full-disk cells on a real small tmpfs are in `test_full_disk.py`.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_report import LedgerCase, record_ledger_case

from cli_support import CliResult, run_cli, write_cron_logins
from fakes import TWO_POST_DRAFT, FakePublisher, FakeServer, install_fake_network
from threadpost.store import Ledger, open_ledger

THREE_POSTS = TWO_POST_DRAFT.replace("Here is why.\n", "Here is why.\n\n---\n\nAnd how.\n")


@pytest.fixture
def network(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, FakePublisher]]:
    write_cron_logins(isolated_env / "config.toml")  # `schedule` wants logins cron has
    yield install_fake_network(monkeypatch, FakeServer())


def _draft(folder: Path) -> Path:
    path = folder / "thread.md"
    path.write_text(THREE_POSTS)
    return path


def _db(folder: Path) -> Path:
    return folder / "threadpost.db"


def _copy_ledger(source: Path, target: Path) -> None:
    """A consistent copy of a live ledger (SQLite's backup API, WAL included)."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    live.close()
    copy.close()


def _remove_ledger(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _forget_this_process_lease(db: Path) -> None:
    """The copy was taken while this test process held the thread's lease; a `threadpost`
    that died would have left the same row, which the next `run` takes over once it sees
    the holder is gone (tests/unit/test_leases.py). In process, the holder is this very
    process, alive by definition: drop the row as its exit would have."""
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM leases")
    conn.close()


def _wait(event: threading.Event) -> None:
    assert event.wait(30), "the other network's step never happened"


def _sent(network: dict[str, FakePublisher], platform: str) -> list[int]:
    return [int(str(p["idx"])) for p in network[platform].server.posts(platform)]


def _assert_clear_error(result: CliResult, db: Path, *needles: str) -> None:
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert f"Error: {db}: " in result.stderr, output
    for needle in needles:
        assert needle in result.stderr, output
    assert "Traceback" not in output and "unexpected" not in output, output


def _assert_every_post_once(network: dict[str, FakePublisher]) -> None:
    for platform in ("mastodon", "bluesky"):
        assert sorted(_sent(network, platform)) == [1, 2, 3], platform


def test_a_ledger_deleted_mid_run_stops_the_run_and_a_restored_backup_resumes_it(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    db = _db(isolated_env)
    backup = isolated_env / "backup.db"

    gone = threading.Event()

    def delete_ledger(index: int) -> None:
        if index == 2 and not backup.exists():
            _copy_ledger(db, backup)  # last night's backup, as it were
            _remove_ledger(db)
            gone.set()

    network["mastodon"].before_post = delete_ledger
    # The networks publish at once: Bluesky starts once the file is gone.
    network["bluesky"].before_keys = lambda: _wait(gone)
    result = run_cli("publish", str(_draft(isolated_env)), "--yes")
    _assert_clear_error(result, db, "was deleted", "restore the ledger from a backup")
    # Only the post in flight when the file vanished went out unrecorded in a live file;
    # nothing went to Bluesky.
    assert _sent(network, "mastodon") == [1, 2]
    assert _sent(network, "bluesky") == []

    network["mastodon"].before_post = network["bluesky"].before_keys = None
    shutil.copy(backup, db)
    _forget_this_process_lease(db)
    resumed = run_cli("run")
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    _assert_every_post_once(network)
    record_ledger_case(
        LedgerCase(
            "ledger deleted between posts 1 and 2 (files unlinked)",
            "exit 1: `was deleted … restore the ledger from a backup`; Mastodon 2/3 sent "
            "(1 recorded, 2 in flight), Bluesky 0",
            "backup restored, `run` exit 0: 3/3 on each network, post 2 found, not resent",
            "test_a_ledger_deleted_mid_run_stops_the_run_and_a_restored_backup_resumes_it",
        )
    )


def test_a_ledger_replaced_mid_run_stops_the_run_and_the_replacement_resumes(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    db = _db(isolated_env)

    replaced = threading.Event()

    def replace_ledger(index: int) -> None:
        if index == 2 and network["mastodon"].before_post is not None:
            copy = isolated_env / "copy.db"
            _copy_ledger(db, copy)
            copy.replace(db)  # e.g. a sync tool putting back its own version
            Path(f"{db}-wal").unlink(missing_ok=True)
            Path(f"{db}-shm").unlink(missing_ok=True)
            replaced.set()

    network["mastodon"].before_post = replace_ledger
    # The networks publish at once: Bluesky starts once the file was replaced.
    network["bluesky"].before_keys = lambda: _wait(replaced)
    result = run_cli("publish", str(_draft(isolated_env)), "--yes")
    _assert_clear_error(result, db, "was replaced by another file")
    assert _sent(network, "mastodon") == [1, 2]
    assert _sent(network, "bluesky") == []

    network["mastodon"].before_post = network["bluesky"].before_keys = None
    _forget_this_process_lease(db)
    resumed = run_cli("run")
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    _assert_every_post_once(network)
    record_ledger_case(
        LedgerCase(
            "ledger file replaced by a copy between posts 1 and 2 (new inode)",
            "exit 1: `was replaced by another file`; Mastodon 2/3 sent, Bluesky 0",
            "`run` on the replacement, exit 0: 3/3 on each network, none twice",
            "test_a_ledger_replaced_mid_run_stops_the_run_and_the_replacement_resumes",
        )
    )


def _flip_index_entry(db: Path, index: str, platform: bytes) -> None:
    """Change one byte of the thread id in `index`'s entry for `platform`: a bit flip on
    disk that leaves the table intact and hides the row from every query using the index."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,))
    conn.close()
    data = bytearray(db.read_bytes())
    start = (root[0] - 1) * page_size
    page = data[start : start + page_size]
    at = page.find(platform)
    assert at > 8, "the index entry was not found on its root page"
    page[at - 8] = ord("f") if page[at - 8] != ord("f") else ord("e")
    data[start : start + page_size] = page
    db.write_bytes(bytes(data))


def test_an_index_bit_flip_is_refused_instead_of_hiding_a_platform(
    isolated_env: Path, network: dict[str, FakePublisher]
) -> None:
    db = _db(isolated_env)
    network["bluesky"].fail_at(1, "transient", times=99)
    first = run_cli("publish", str(_draft(isolated_env)), "--yes")
    assert first.exit_code == 4, first.stdout + first.stderr
    network["bluesky"].faults.clear()
    with open_ledger(db) as ledger:
        ledger.conn.execute("UPDATE platforms SET next_retry_at = NULL")
    _flip_index_entry(db, "sqlite_autoindex_platforms_1", b"bluesky")

    damaged = run_cli("run")
    _assert_clear_error(damaged, db, "the ledger is damaged", ".recover")
    assert _sent(network, "bluesky") == []

    # Healthy again (SQLite rebuilds the index from the table): run finishes Bluesky.
    with sqlite3.connect(db) as conn:
        conn.execute("REINDEX")
    conn.close()
    resumed = run_cli("run")
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    assert "bluesky: published, 3/3 posts" in resumed.stdout
    _assert_every_post_once(network)
    record_ledger_case(
        LedgerCase(
            "one byte of an index entry flipped (the Bluesky row of `platforms` hidden from "
            "indexed queries)",
            "`run` exit 1: `the ledger is damaged (SQLite's integrity check: …)` with the "
            "`.recover` hint; nothing sent (before: exit 0, thread `published`, Bluesky 0/3)",
            "after `REINDEX`, `run` exit 0: Bluesky 3/3",
            "test_an_index_bit_flip_is_refused_instead_of_hiding_a_platform",
        )
    )


def test_a_final_state_lost_to_a_full_disk_is_settled_by_the_next_run(
    isolated_env: Path, network: dict[str, FakePublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(isolated_env)
    real = Ledger.set_thread_state
    failed: list[str] = []

    def disk_full_once(self: Ledger, thread_id: str, state: str, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        if state == "published" and not failed:
            failed.append(thread_id)
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, thread_id, state, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "set_thread_state", disk_full_once)
    result = run_cli("publish", str(_draft(isolated_env)), "--yes")
    _assert_clear_error(result, db, "the disk is full", "threadpost run then resumes")
    _assert_every_post_once(network)
    with open_ledger(db) as ledger:
        assert ledger.thread(failed[0]).state == "incomplete"

    resumed = run_cli("run")
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    with open_ledger(db) as ledger:
        assert ledger.thread(failed[0]).state == "published"
    _assert_every_post_once(network)
    record_ledger_case(
        LedgerCase(
            "disk full when the thread's final state is written (every post confirmed)",
            "exit 1: `cannot write the ledger: the disk is full … free some space`",
            "the next `run` settles it: `published`, nothing resent (before: `incomplete` "
            "forever, never due)",
            "test_a_final_state_lost_to_a_full_disk_is_settled_by_the_next_run",
        )
    )
