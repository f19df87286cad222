"""Schema 4 (issue 12): a ledger written by an older threadpost (schema 3) gains the source
columns; the fingerprints of its threads are computed from their frozen plans (images read
where they still are), so a copy of a thread published before the upgrade is still refused;
a thread scheduled before the upgrade is not refused as a repeat at run time (it was
accepted under the rule of its day)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from fakes import make_thread
from mastodon_server.fixtures import write_image
from threadpost.clock import format_utc
from threadpost.config import Settings
from threadpost.draft import Image
from threadpost.draft_refresh import refresh_from_draft
from threadpost.fingerprint import posts_fingerprint, thread_fingerprint
from threadpost.plan import Thread
from threadpost.repeats import RepeatRefused, refuse_repeats
from threadpost.store import SCHEMA_VERSION, open_ledger, thread_to_json
from threadpost.store.schema import _migration_1, _migration_2, _migration_3

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _with_image(thread: Thread, image: Path) -> Thread:
    first = dataclasses.replace(
        thread.posts[0], images=(Image(path=image, alt="A pole", line=4, written_path="p.png"),)
    )
    return dataclasses.replace(thread, posts=(first, *thread.posts[1:]))


def _schema_3_ledger(path: Path, threads: list[tuple[str, str, str, Thread, bool]]) -> None:
    """A ledger as threadpost wrote it at schema 3: (id, draft, state, plan, confirmed)."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    for migration in (_migration_1, _migration_2, _migration_3):
        migration(db)
    db.table("threadpost_meta").insert_all(
        [{"key": "application", "value": "threadpost"}, {"key": "schema_version", "value": "3"}]
    )
    for thread_id, draft, state, plan, confirmed in threads:
        db.table("threads").insert(
            {
                "id": thread_id,
                "draft_path": draft,
                "content_hash": "old",
                "title": None,
                "platforms": json.dumps([plan.platform]),
                "schedule_at": format_utc(WHEN),
                "state": state,
                "last_error": None,
                "created_at": format_utc(WHEN),
                "updated_at": format_utc(WHEN),
            }
        )
        db.table("platforms").insert(
            {
                "thread_id": thread_id,
                "platform": plan.platform,
                "plan": json.dumps(thread_to_json(plan)),
                "state": "published" if confirmed else "pending",
                "attempts": 0,
                "total": len(plan.posts),
            }
        )
        for post in plan.posts:
            db.table("posts").insert(
                {
                    "thread_id": thread_id,
                    "platform": plan.platform,
                    "idx": post.index,
                    "text_hash": "t",
                    "state": "confirmed" if confirmed else "planned",
                    "remote_id": f"{thread_id}-{post.index}" if confirmed else None,
                    "url": f"https://mastodon.example/@me/{thread_id}{post.index}"
                    if confirmed
                    else None,
                    "attempts": 0,
                }
            )
    db.conn.close()


def test_an_old_ledger_gains_fingerprints_from_its_frozen_plans(tmp_path: Path) -> None:
    image = write_image(tmp_path / "p.png")
    published = _with_image(make_thread("mastodon", 2), image)
    gone = _with_image(make_thread("mastodon", 2, tag="b"), tmp_path / "gone.png")
    db = tmp_path / "old.db"
    _schema_3_ledger(
        db,
        [
            ("aaaa0001", "/d/a.md", "published", published, True),
            ("aaaa0002", "/d/b.md", "published", gone, True),
        ],
    )
    with open_ledger(db) as ledger:
        version = ledger.conn.execute(
            "SELECT value FROM threadpost_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert int(version) == SCHEMA_VERSION  # migrated all the way (6: accounts)
        source = ledger.source("aaaa0001")
        assert (source.content_hash, source.images_hash, source.again) == ("old", None, False)
        # The same fingerprint as a plan frozen today: the image read from disk.
        assert source.fingerprints == {"mastodon": thread_fingerprint(published)}
        # An image no longer on disk: the fingerprint still covers the texts, and differs
        # from that of the same texts with a readable image.
        gone_print = ledger.source("aaaa0002").fingerprints["mastodon"]
        assert gone_print is not None
        assert gone_print != posts_fingerprint([(p.text, [], "") for p in gone.posts])

        (earlier,) = ledger.published_with_fingerprint("mastodon", thread_fingerprint(published))
        assert (earlier.thread_id, earlier.draft_path) == ("aaaa0001", "/d/a.md")
        assert earlier.url == "https://mastodon.example/@me/aaaa00011"
        with pytest.raises(RepeatRefused) as refused:
            refuse_repeats(ledger, tmp_path / "copy.md", {"mastodon": published}, again=False)
        assert "already online as thread aaaa0001 (from /d/a.md, https://" in str(refused.value)
        refuse_repeats(ledger, tmp_path / "copy.md", {"mastodon": published}, again=True)
        # Other text, or the same posts on another network: no repeat.
        refuse_repeats(
            ledger, tmp_path / "c.md", {"mastodon": make_thread("mastodon", 3)}, again=False
        )
        bluesky = dataclasses.replace(published, platform="bluesky")
        refuse_repeats(ledger, tmp_path / "c.md", {"bluesky": bluesky}, again=False)
    # Opened again: nothing to migrate, nothing changed.
    with open_ledger(db) as ledger:
        assert ledger.source("aaaa0001").fingerprints == {"mastodon": thread_fingerprint(published)}


def test_a_thread_scheduled_before_the_upgrade_is_not_refused_at_run_time(
    tmp_path: Path,
) -> None:
    plan = make_thread("mastodon", 2)
    db = tmp_path / "old.db"
    _schema_3_ledger(
        db,
        [
            ("bbbb0001", "/d/a.md", "published", plan, True),
            # Scheduled from another file with the same posts, before the content rule.
            ("bbbb0002", str(tmp_path / "missing.md"), "scheduled", plan, False),
        ],
    )
    settings = Settings(config_path=None, db_path=db, state_dir=tmp_path, timezone=ZoneInfo("UTC"))
    with open_ledger(db) as ledger:
        refreshed = refresh_from_draft(ledger, "bbbb0002", settings, now=WHEN)
        assert refreshed.outcome == "missing"
        assert ledger.thread("bbbb0002").state == "scheduled"
        # Its source is recorded now, for the next comparisons.
        assert ledger.source("bbbb0002").images_hash is not None
