"""The ledger: creation, refusal of foreign files, migrations, leases, Thread JSON."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes import make_thread
from threadpost.draft import Image
from threadpost.errors import StoreError
from threadpost.plan import PlannedPost, Thread
from threadpost.store import (
    SCHEMA_VERSION,
    Ledger,
    _database_error,
    open_ledger,
    thread_from_json,
    thread_to_json,
)
from threadpost.values import PostKey, PostRef, Problem

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_new_ledger_is_private_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ledger.db"
    with open_ledger(path) as ledger:
        mode = ledger.conn.execute("PRAGMA journal_mode").fetchone()[0]
        version = ledger.conn.execute(
            "SELECT value FROM threadpost_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert mode == "wal"
    assert int(version) == SCHEMA_VERSION
    # Re-opening does not migrate again and keeps the data.
    with open_ledger(path) as ledger:
        assert ledger.threads() == []


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="is not a threadpost ledger"):
        open_ledger(path)


def test_non_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello, this is text\n" * 100)
    with pytest.raises(StoreError, match="is corrupt or not SQLite"):
        open_ledger(path)


def test_truncated_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    with open_ledger(path):
        pass
    data = path.read_bytes()
    path.write_bytes(data[:16] + b"\xff" * 200)
    with pytest.raises(StoreError, match="corrupt or not SQLite"):
        open_ledger(path)


def test_read_only_folder_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulated: the tests may run as root, for whom chmod does not bite.
    real_open = os.open

    def deny(path: str, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith("ledger.db"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(StoreError, match=r"folder .*ro is not writable"):
        open_ledger(tmp_path / "ro" / "ledger.db")


def test_sqlite_read_only_errors_are_explained() -> None:
    error = _database_error(
        Path("/x/l.db"), sqlite3.OperationalError("attempt to write a readonly database")
    )
    assert "cannot be written" in error.message
    assert error.hint and "writable" in error.hint


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    with open_ledger(path) as ledger:
        ledger.conn.execute("UPDATE threadpost_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer threadpost"):
        open_ledger(path)


def test_thread_json_round_trip_covers_every_field(tmp_path: Path) -> None:
    base = make_thread("bluesky", 2)
    image = Image(path=tmp_path / "a.png", alt="A chart", line=4, written_path="a.png")
    post = dataclasses.replace(base.posts[0], images=(image,))
    thread = dataclasses.replace(
        base,
        posts=(post, base.posts[1]),
        spoiler_text="cw",
        problems=(Problem("warning", "x", "msg", "bluesky", 1, 3),),
        sensitive=True,
        link_cards=False,
    )
    assert thread_from_json(thread_to_json(thread)) == thread
    # A field added to Thread / PlannedPost must be added to the JSON too.
    assert set(thread_to_json(thread)) == {f.name for f in dataclasses.fields(Thread)}
    assert set(thread_to_json(thread)["posts"][0]) == {
        f.name for f in dataclasses.fields(PlannedPost)
    }


def _ledger_with_thread(tmp_path: Path):  # type: ignore[no-untyped-def]
    ledger = open_ledger(tmp_path / "l.db")
    thread_id = ledger.create_thread(
        draft_path="/d.md",
        content_hash="h",
        title="T",
        plans={"mastodon": make_thread("mastodon", 3), "bluesky": make_thread("bluesky", 2)},
        schedule_at=NOW,
        state="scheduled",
        now=NOW,
    )
    return ledger, thread_id


def test_thread_posts_keys_and_confirmation(tmp_path: Path) -> None:
    ledger, thread_id = _ledger_with_thread(tmp_path)
    assert len(thread_id) == 8
    record = ledger.thread(thread_id)
    assert record.platforms == ("mastodon", "bluesky")
    assert record.schedule_at == NOW
    assert ledger.plan(thread_id, "mastodon") == make_thread("mastodon", 3)
    keys = [PostKey(i, f"k{i}") for i in (1, 2, 3)]
    ledger.store_keys(thread_id, "mastodon", keys)
    # Stored keys are never replaced.
    ledger.store_keys(thread_id, "mastodon", [PostKey(1, "other")])
    assert [p.key for p in ledger.posts(thread_id, "mastodon")] == ["k1", "k2", "k3"]
    ledger.confirm_posts(thread_id, [PostRef("mastodon", 1, "101", "https://m/101")], NOW)
    post = ledger.posts(thread_id, "mastodon")[0]
    assert post.state == "confirmed"
    assert post.ref == PostRef("mastodon", 1, "101", "https://m/101")


def test_confirming_the_posts_of_one_write_records_all_of_them_or_none(tmp_path: Path) -> None:
    """An atomic write's posts are confirmed in one transaction (one commit, one fsync):
    a ref the ledger has no post for leaves every post of the call as it was."""
    from threadpost.errors import StoreError

    ledger, thread_id = _ledger_with_thread(tmp_path)
    refs = [PostRef("mastodon", i, f"10{i}", f"https://m/10{i}") for i in (1, 2, 3)]
    with pytest.raises(StoreError, match="has no post 4 on mastodon"):
        ledger.confirm_posts(thread_id, [*refs[:2], PostRef("mastodon", 4, "104", "u")], NOW)
    assert [p.state for p in ledger.posts(thread_id, "mastodon")] == ["planned"] * 3
    commits = ledger.conn.total_changes
    ledger.confirm_posts(thread_id, refs, NOW)
    assert ledger.conn.total_changes == commits + 3
    assert [p.ref for p in ledger.posts(thread_id, "mastodon")] == refs


def test_resolve_id_accepts_unique_prefixes(tmp_path: Path) -> None:
    ledger, thread_id = _ledger_with_thread(tmp_path)
    assert ledger.resolve_id(thread_id[:3]) == thread_id
    assert ledger.resolve_id(thread_id.upper()) == thread_id
    with pytest.raises(StoreError, match="no thread"):
        ledger.resolve_id("ffffffff" if not thread_id.startswith("f") else "00000000")
    with pytest.raises(StoreError, match="not a thread id"):
        ledger.resolve_id("zz")


def test_replace_plans_refused_once_posting_began(tmp_path: Path) -> None:
    ledger, thread_id = _ledger_with_thread(tmp_path)
    plans = {"mastodon": make_thread("mastodon", 4, tag="b")}
    ledger.replace_plans(
        thread_id, content_hash="h2", title=None, plans=plans, schedule_at=NOW, now=NOW
    )
    assert ledger.thread(thread_id).platforms == ("mastodon",)
    assert len(ledger.posts(thread_id, "mastodon")) == 4
    ledger.store_keys(thread_id, "mastodon", [PostKey(1, "k1")])
    ledger.mark_sending(thread_id, "mastodon", 1)
    with pytest.raises(StoreError, match="begun posting"):
        ledger.replace_plans(
            thread_id, content_hash="h3", title=None, plans=plans, schedule_at=NOW, now=NOW
        )


def test_due_threads(tmp_path: Path) -> None:
    ledger, thread_id = _ledger_with_thread(tmp_path)
    assert ledger.due_thread_ids(NOW - timedelta(seconds=1)) == []
    assert ledger.due_thread_ids(NOW) == [thread_id]
    ledger.set_thread_state(thread_id, "incomplete", NOW)
    ledger.set_platform(thread_id, "mastodon", state="published")
    ledger.set_platform(
        thread_id, "bluesky", state="incomplete", next_retry_at=NOW + timedelta(minutes=5)
    )
    assert ledger.due_thread_ids(NOW) == []
    assert ledger.due_thread_ids(NOW + timedelta(minutes=5)) == [thread_id]
    assert ledger.next_due() == (1, NOW + timedelta(minutes=5))


def test_lease_is_exclusive_until_it_expires(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "l.db")
    other = open_ledger(tmp_path / "l.db")
    until = NOW + timedelta(minutes=10)
    assert ledger.claim_lease("thread:x", "a", until=until, now=NOW)
    assert not other.claim_lease("thread:x", "b", until=until, now=NOW)
    # The holder may renew.
    assert ledger.claim_lease("thread:x", "a", until=until + timedelta(minutes=1), now=NOW)
    # Expired: taken over.
    later = until + timedelta(minutes=2)
    assert other.claim_lease("thread:x", "b", until=later + timedelta(minutes=10), now=later)
    assert ledger.lease_owner("thread:x", later) == "b"
    ledger.release_lease("thread:x", "a")  # not ours any more: no effect
    assert ledger.lease_owner("thread:x", later) == "b"
    other.release_lease("thread:x", "b")
    assert ledger.lease_owner("thread:x", later) is None


# -- one unfinished thread per draft (schema 3) ---------------------------------------------


def _active_thread(ledger: Ledger, draft: str) -> str:
    return str(
        ledger.create_thread(
            draft_path=draft,
            content_hash="h",
            title=None,
            plans={"mastodon": make_thread("mastodon", 1)},
            schedule_at=None,
            state="scheduled",
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )


def test_sqlite_itself_refuses_a_second_unfinished_thread_of_a_draft(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "l.db") as ledger:
        first = _active_thread(ledger, "/d/a.md")
        with pytest.raises(StoreError, match="already has an unfinished thread"):
            _active_thread(ledger, "/d/a.md")
        # A finished thread does not count: the draft may be published again.
        ledger.set_thread_state(first, "published", datetime(2026, 1, 2, tzinfo=UTC))
        _active_thread(ledger, "/d/a.md")
        assert len(ledger.threads(["scheduled"], draft_path="/d/a.md")) == 1


def test_a_ledger_with_duplicates_migrates_and_gains_the_index_once_they_are_cancelled(
    tmp_path: Path,
) -> None:
    db = tmp_path / "l.db"
    with open_ledger(db) as ledger:  # a schema-2 ledger that two racing publishes filled
        first = _active_thread(ledger, "/d/a.md")
        ledger.conn.execute("DROP INDEX threads_one_active_per_draft")
        ledger.conn.execute("UPDATE threadpost_meta SET value = '2' WHERE key = 'schema_version'")
        second = "ffff0000"
        ledger.conn.execute(
            # Columns named: the table has schema 4's columns too (the ledger was made new).
            "INSERT INTO threads (id, draft_path, content_hash, title, platforms, schedule_at,"
            " state, last_error, created_at, updated_at) SELECT ?, draft_path, content_hash,"
            " title, platforms, schedule_at, state, last_error, created_at, updated_at"
            " FROM threads WHERE id = ?",
            (second, first),
        )
    with open_ledger(db) as ledger:  # migration 3 runs; the duplicates stand in the way
        (duplicate,) = ledger.duplicate_active_threads()
        assert duplicate[0] == "/d/a.md"
        assert sorted(duplicate[1].split(", ")) == sorted([first, second])
        assert not ledger.ensure_one_active_index()
        ledger.set_thread_state(second, "cancelled", datetime(2026, 1, 2, tzinfo=UTC))
        _active_thread(ledger, "/d/b.md")  # any new thread heals the ledger
        assert ledger.duplicate_active_threads() == []
        with pytest.raises(StoreError, match="already has an unfinished thread"):
            _active_thread(ledger, "/d/a.md")


def test_recording_a_source_already_stored_writes_nothing(tmp_path: Path) -> None:
    ledger, thread_id = _ledger_with_thread(tmp_path)
    prints = {"mastodon": "m1", "bluesky": "b1"}
    ledger.record_source(thread_id, images_hash="i1", fingerprints=prints, again=True)
    changes = ledger.conn.total_changes
    ledger.record_source(thread_id, images_hash="i1", fingerprints=prints)
    ledger.record_source(thread_id, images_hash="i1", fingerprints={"bluesky": "b1"}, again=True)
    assert ledger.conn.total_changes == changes  # no commit for what is already there
    # Any one value that differs is written, the others kept.
    for images_hash, fingerprints, again in [
        ("i2", prints, None),
        ("i2", {"bluesky": "b2"}, None),
        ("i2", {"bluesky": "b2"}, False),
    ]:
        ledger.record_source(
            thread_id, images_hash=images_hash, fingerprints=fingerprints, again=again
        )
    source = ledger.source(thread_id)
    assert (source.images_hash, source.again) == ("i2", False)
    assert source.fingerprints == {"mastodon": "m1", "bluesky": "b2"}
    # Each write is the thread's row and one row per fingerprint given: 3, then 2 and 2.
    assert ledger.conn.total_changes == changes + 7
    ledger.close()
