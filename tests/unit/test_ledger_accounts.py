"""The ledger records which named account each network of a thread publishes with
(schema 6); a ledger made before that migrates, its threads on the default account."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from fakes import make_thread
from threadpost.store import SCHEMA_VERSION, open_ledger, thread_to_json
from threadpost.store.schema import _MIGRATIONS

NOW = "2026-01-01T00:00:00.000000+00:00"


def _schema_3_ledger(path: Path) -> None:
    """A ledger as threadpost made it at schema 3 (before the accounts of schema 6),
    holding one unfinished thread."""
    db = Database(sqlite3.connect(path))
    for version in (1, 2, 3):
        _MIGRATIONS[version](db)
    db.table("threadpost_meta").insert_all(
        [{"key": "application", "value": "threadpost"}, {"key": "schema_version", "value": "3"}]
    )
    db.table("threads").insert(
        {
            "id": "0123abcd",
            "draft_path": "/d/a.md",
            "content_hash": "h",
            "platforms": json.dumps(["mastodon"]),
            "state": "incomplete",
            "created_at": NOW,
            "updated_at": NOW,
        }
    )
    db.table("platforms").insert(
        {
            "thread_id": "0123abcd",
            "platform": "mastodon",
            "plan": json.dumps(thread_to_json(make_thread("mastodon", 1))),
            "state": "pending",
            "attempts": 1,
            "total": 1,
        }
    )
    db.conn.commit()
    db.conn.close()
    path.chmod(0o600)


def test_an_old_ledger_migrates_and_its_threads_are_on_the_default_account(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    _schema_3_ledger(path)
    with open_ledger(path) as ledger:
        (record,) = ledger.platforms("0123abcd")
        assert record.account is None
        assert record.attempts == 1
        version = ledger.conn.execute(
            "SELECT value FROM threadpost_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert int(version) == SCHEMA_VERSION == 7
        ledger.set_account("0123abcd", "work")
        assert [p.account for p in ledger.platforms("0123abcd")] == ["work"]


def test_a_new_thread_records_its_account_per_network(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "l.db") as ledger:
        thread_id = ledger.create_thread(
            draft_path="/d/b.md",
            content_hash="h",
            title=None,
            plans={"mastodon": make_thread("mastodon", 1), "bluesky": make_thread("bluesky", 1)},
            schedule_at=None,
            state="scheduled",
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        assert [p.account for p in ledger.platforms(thread_id)] == [None, None]
        ledger.set_account(thread_id, "work")
        assert [p.account for p in ledger.platforms(thread_id)] == ["work", "work"]
