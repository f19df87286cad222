"""The ledger's tables, one migration per schema version."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from sqlite_utils import Database

SCHEMA_VERSION: Final = 7
#: At most one unfinished thread per draft, once the ledger holds no duplicates (schema 3).
ONE_ACTIVE_INDEX: Final = "threads_one_active_per_draft"
APPLICATION: Final = "threadpost"


def _migration_1(db: Database) -> None:
    db.table("threadpost_meta").create({"key": str, "value": str}, pk="key")
    db.table("threads").create(
        {
            "id": str,
            "draft_path": str,
            "content_hash": str,
            "title": str,
            "platforms": str,  # JSON list, in publishing order
            "schedule_at": str,
            "state": str,
            "last_error": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"draft_path", "content_hash", "platforms", "state", "created_at"},
    )
    db.table("threads").create_index(["state", "schedule_at"])
    db.table("threads").create_index(["draft_path"])
    db.table("platforms").create(
        {
            "thread_id": str,
            "platform": str,
            "plan": str,  # the frozen Thread, JSON
            "state": str,
            "attempts": int,
            "next_retry_at": str,
            "last_error": str,
            "total": int,
        },
        pk=("thread_id", "platform"),
        foreign_keys=[("thread_id", "threads", "id")],
        not_null={"plan", "state"},
    )
    db.table("platforms").create_index(["state", "next_retry_at"])
    db.table("posts").create(
        {
            "thread_id": str,
            "platform": str,
            "idx": int,
            "text_hash": str,
            "key": str,  # Mastodon Idempotency-Key / Bluesky rkey, stored before sending
            "key_created_at": str,
            "state": str,
            "remote_id": str,
            "url": str,
            "cid": str,
            "attempts": int,
            "last_error": str,
            "confirmed_at": str,
        },
        pk=("thread_id", "platform", "idx"),
        foreign_keys=[("thread_id", "threads", "id")],
        not_null={"text_hash", "state"},
    )
    db.table("attempts").create(
        {
            "id": int,
            "thread_id": str,
            "platform": str,
            "idx": int,
            "started_at": str,
            "finished_at": str,
            "outcome": str,
            "error": str,
        },
        pk="id",
    )
    db.table("attempts").create_index(["thread_id"])
    db.table("leases").create({"name": str, "owner": str, "expires_at": str}, pk="name")


def _migration_2(db: Database) -> None:
    """Crash recovery without waiting or guessing: when each post was first sent (bounds a
    network look-up), who holds a lease (host, pid, start time), and adapters' warnings."""
    db.table("posts").add_column("first_sent_at", str)
    # Posts already under way: the earliest attempt that may have sent them.
    db.execute(
        "UPDATE posts SET first_sent_at = (SELECT min(a.started_at) FROM attempts a"
        " WHERE a.thread_id = posts.thread_id AND a.platform = posts.platform"
        " AND a.idx <= posts.idx) WHERE state != 'planned'"
    )
    db.table("leases").add_column("host", str)
    db.table("leases").add_column("pid", int)
    db.table("leases").add_column("started", str)
    db.table("warnings").create(
        {
            "id": int,
            "thread_id": str,
            "platform": str,
            "idx": int,
            "code": str,
            "message": str,
            "attempt_id": int,
            "recorded_at": str,
        },
        pk="id",
        not_null={"thread_id", "platform", "code", "message"},
    )
    db.table("warnings").create_index(["thread_id"])


def _migration_3(db: Database) -> None:
    """One unfinished thread per draft, enforced by SQLite (a partial unique index), when
    the ledger holds no duplicates; a ledger that does (made by two racing `publish` before
    find-or-create was atomic) keeps working without it, and gains it on the first open
    after the duplicates are cancelled (`ensure_one_active_index`)."""
    _create_one_active_index(db.conn)


def _create_one_active_index(conn: sqlite3.Connection) -> bool:
    """Create the partial unique index unless duplicates exist; True if it exists now."""
    if _duplicate_active_rows(conn):
        return False
    conn.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {ONE_ACTIVE_INDEX} ON threads (draft_path)"
        " WHERE state IN ('scheduled', 'incomplete')"
    )
    return True


def _duplicate_active_rows(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT draft_path, group_concat(id, ', ') FROM threads"
        " WHERE state IN ('scheduled', 'incomplete') GROUP BY draft_path HAVING count(*) > 1"
    ).fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def _migration_4(db: Database) -> None:
    """The draft as the source of truth (issue 12): the hash of the draft's images next to
    the hash of its bytes (an edit after `schedule` is noticed), whether the thread was
    frozen with `--again` (a repeat the author asked for), and each network's fingerprint
    of the planned posts (the same posts are never published twice, whatever the file).

    The fingerprints of existing threads are computed from their frozen plans, their images
    read where they still are; their images hash stays unknown (NULL: not compared)."""
    import json

    from threadpost.fingerprint import image_hash, post_extras, posts_fingerprint

    # Each step only if not done yet: a ledger whose version was set back (by hand, or by
    # a test that builds an old ledger from a new one) migrates again without failing.
    threads, platforms = db.table("threads"), db.table("platforms")
    if "images_hash" not in threads.columns_dict:
        threads.add_column("images_hash", str)
    if "again" not in threads.columns_dict:
        threads.add_column("again", int, not_null_default=0)
    if "fingerprint" not in platforms.columns_dict:
        platforms.add_column("fingerprint", str)
    platforms.create_index(["platform", "fingerprint"], if_not_exists=True)
    rows = db.execute("SELECT thread_id, platform, plan FROM platforms").fetchall()
    for thread_id, platform, plan in rows:
        try:
            posts = json.loads(plan)["posts"]
            fingerprint = posts_fingerprint(
                [
                    (
                        post["text"],
                        [image_hash(Path(image["path"])) for image in post["images"]],
                        post_extras(post.get("quote"), (post.get("poll") or {}).get("options")),
                    )
                    for post in posts
                ]
            )
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable plan: `Ledger.plan` reports it when it is needed
        db.execute(
            "UPDATE platforms SET fingerprint = ? WHERE thread_id = ? AND platform = ?",
            (fingerprint, thread_id, platform),
        )


def _migration_5(db: Database) -> None:
    """`threadpost edit` (issue 15): every accepted edit of a published post, with the text
    and fingerprint it now carries and when the network accepted it."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS edits ("
        " id INTEGER PRIMARY KEY,"
        " thread_id TEXT NOT NULL REFERENCES threads(id),"
        " platform TEXT NOT NULL,"
        " idx INTEGER NOT NULL,"
        " remote_id TEXT NOT NULL,"
        " fingerprint TEXT NOT NULL,"  # what the post now carries (see the adapter's recipe)
        " text TEXT NOT NULL,"
        " text_hash TEXT NOT NULL,"
        " edited_at TEXT NOT NULL,"  # our clock, when the network accepted the edit
        " remote_edited_at TEXT"  # the network's own edited_at, as it answered
        ")"
    )
    db.execute("CREATE INDEX IF NOT EXISTS edits_by_thread ON edits (thread_id, platform, idx)")


def _migration_6(db: Database) -> None:
    """Which named account of the config each network of a thread publishes with (NULL:
    the default account, which every thread of an older ledger was published with)."""
    # Only when missing: a ledger whose version was set back (as a test of migration 3
    # does) already has it.
    if "account" not in db.table("platforms").columns_dict:
        db.table("platforms").add_column("account", str)


def _migration_7(db: Database) -> None:
    """A queued thread follows its draft's `schedule` line (retime.py): the draft's schedule
    when the thread was last timed from it (UTC text; "" for none; NULL: not known, as for
    every thread scheduled before schema 7, which is never re-timed), the draft file's
    identity then (mtime and size, so that `run` reads only a file changed since), and
    each re-timing."""
    threads = db.table("threads")
    if "draft_schedule" not in threads.columns_dict:
        threads.add_column("draft_schedule", str)
    if "draft_seen" not in threads.columns_dict:
        threads.add_column("draft_seen", str)
    db.execute(
        "CREATE TABLE IF NOT EXISTS retimes ("
        " id INTEGER PRIMARY KEY,"
        " thread_id TEXT NOT NULL REFERENCES threads(id),"
        " kind TEXT NOT NULL,"  # "retimed", or "kept" (the draft's schedule line removed)
        " from_at TEXT,"  # the queued time before (UTC)
        " to_at TEXT,"  # the queued time after (UTC; the same when kept)
        " draft_schedule TEXT,"  # the draft's schedule that caused it ("" for none)
        " recorded_at TEXT NOT NULL"
        ")"
    )
    db.execute("CREATE INDEX IF NOT EXISTS retimes_by_thread ON retimes (thread_id, id)")


_MIGRATIONS: Final = {
    1: _migration_1,
    2: _migration_2,
    3: _migration_3,
    4: _migration_4,
    5: _migration_5,
    6: _migration_6,
    7: _migration_7,
}
