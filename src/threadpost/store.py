"""The ledger: one SQLite file recording every thread, planned post, key and published post.

Writes go through sqlite-utils (tables, migrations, inserts); the hot read paths (`run` with
nothing due) use the bare `sqlite3` connection so that a cron tick imports nothing heavy.
Every write that must survive a crash runs in its own short transaction; multi-row changes
that must be all-or-nothing run in `transaction()` (BEGIN IMMEDIATE: takes the write lock at
once, so two processes never interleave a read-then-write).

Times are stored as fixed-width ISO 8601 UTC text (`clock.format_utc`): text order is time
order, so SQL compares them directly.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from threadpost.clock import format_utc, parse_utc
from threadpost.errors import StoreError
from threadpost.private_files import make_private_dir

if TYPE_CHECKING:
    from sqlite_utils import Database

    from threadpost.plan import Thread
    from threadpost.processes import ProcessId
    from threadpost.values import PlatformName, PostKey, PostRef, Problem

SCHEMA_VERSION: Final = 3
#: At most one unfinished thread per draft, once the ledger holds no duplicates (schema 3).
ONE_ACTIVE_INDEX: Final = "threads_one_active_per_draft"
APPLICATION: Final = "threadpost"
_SQLITE_HEADER: Final = b"SQLite format 3\x00"
#: Milliseconds a writer waits for another process's lock before giving up.
BUSY_TIMEOUT_MS: Final = 10_000

ThreadState = Literal[
    "scheduled", "incomplete", "published", "failed", "skipped", "cancelled", "deleted"
]
PlatformState = Literal["pending", "incomplete", "published", "failed", "deleted"]
PostState = Literal["planned", "sending", "confirmed", "failed", "deleted"]

#: States in which `run` may still post something.
ACTIVE_STATES: Final = ("scheduled", "incomplete")
#: States of a thread that has posted (or tried and given up): `publish` wants `--again`.
FINISHED_STATES: Final = ("published", "failed")


@dataclass(frozen=True)
class ThreadRecord:
    """One thread as the ledger knows it (the frozen plans are read with `Ledger.plan`)."""

    id: str
    draft_path: str
    content_hash: str
    title: str | None
    platforms: tuple[PlatformName, ...]
    #: When it should be published (UTC); None for "now".
    schedule_at: datetime | None
    state: ThreadState
    created_at: datetime
    updated_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class PlatformRecord:
    """Progress of one thread on one network."""

    thread_id: str
    platform: PlatformName
    state: PlatformState
    #: Runs that ended without publishing everything (counts toward max_attempts).
    attempts: int
    next_retry_at: datetime | None
    last_error: str | None
    total: int


@dataclass(frozen=True)
class PostRecord:
    """One planned post on one network: its key, and once confirmed, where it lives."""

    thread_id: str
    platform: PlatformName
    index: int
    text_hash: str
    key: str | None
    key_created_at: str | None
    state: PostState
    remote_id: str | None
    url: str | None
    cid: str | None
    attempts: int
    last_error: str | None
    confirmed_at: datetime | None
    #: When the post was first handed to the network (a lower bound: the start of the first
    #: attempt that may have sent it); None while it never was.
    first_sent_at: datetime | None = None

    @property
    def post_key(self) -> PostKey:
        """The stored idempotency key / rkey (only once keys were stored)."""
        from threadpost.values import PostKey

        if self.key is None:
            raise StoreError(f"post {self.index} on {self.platform} has no stored key")
        return PostKey(
            index=self.index,
            key=self.key,
            created_at=self.key_created_at,
            first_attempt_at=self.first_sent_at,
        )

    @property
    def ref(self) -> PostRef | None:
        """Where the post lives, once confirmed (or deleted after being confirmed)."""
        from threadpost.values import PostRef

        if self.remote_id is None:
            return None
        return PostRef(
            platform=self.platform,
            index=self.index,
            remote_id=self.remote_id,
            url=self.url or "",
            cid=self.cid,
        )


class LedgerUnusable(sqlite3.DatabaseError):
    """The ledger cannot be trusted any more: its file was deleted or replaced while open,
    or it fails SQLite's integrity check. A `sqlite3.DatabaseError`, so that the engine and
    `run` treat it as any failing ledger (stop at once, record nothing more, no thread marked
    failed in it); `Ledger.__exit__` turns it into a `StoreError` with this message and hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class LedgerFileChanged(LedgerUnusable):
    """The ledger's path no longer names the file that was opened (deleted or replaced)."""


class LedgerDamaged(LedgerUnusable):
    """The ledger fails `PRAGMA integrity_check`."""


class Ledger:
    """An open ledger database. Use `open_ledger`; close it (or use `with`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._db: Database | None = None
        #: The file this connection opened, as (st_dev, st_ino): checked before each write.
        self._identity = _file_identity(path)
        #: Whether `ensure_sound` already ran its integrity check on this connection.
        self._verified = False

    # -- plumbing ---------------------------------------------------------------------

    @property
    def db(self) -> Database:
        """The sqlite-utils view of the same connection (imported on first write)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn, execute_plugins=False)
        return self._db

    def close(self) -> None:
        """Close the connection (a failing final checkpoint, a full disk, is not an error:
        every committed transaction is already in the WAL file)."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def check_file(self) -> None:
        """Raise `LedgerFileChanged` when the ledger's path no longer names the file this
        connection opened (deleted, or replaced by another file): called before every write,
        so that nothing is sent that only a lost file would remember."""
        try:
            current = _file_identity(self.path)
        except FileNotFoundError:
            raise LedgerFileChanged(
                f"{self.path}: the ledger was deleted while threadpost was using it; stopped "
                "before sending anything more. What was sent in this run is recorded only in "
                "the deleted file: restore the ledger from a backup before publishing again "
                "(publishing the draft into a new ledger would post it twice)",
                hint="threadpost run resumes from the restored ledger",
            ) from None
        except OSError:
            return  # unreadable folder: SQLite's own error says more when it writes
        if current != self._identity:
            raise LedgerFileChanged(
                f"{self.path}: the ledger was replaced by another file while threadpost "
                "was using it; stopped before sending anything more. This run's last writes went "
                "to the replaced file: restore the ledger that was there before, then "
                "threadpost run resumes",
                hint="threadpost status shows what the ledger now holds",
            )

    def duplicate_active_threads(self) -> list[tuple[str, str]]:
        """Drafts with more than one unfinished thread, as (draft path, "id, id"): only a
        ledger from before schema 3 can hold them; cancel all but one of each."""
        return _duplicate_active_rows(self.conn)

    def ensure_one_active_index(self) -> bool:
        """Create the one-unfinished-thread-per-draft index if it is missing and no
        duplicates stand in the way; True if it exists now."""
        present = self._rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (ONE_ACTIVE_INDEX,)
        )
        if present:
            return True
        with self.transaction():
            return _create_one_active_index(self.conn)

    def ensure_sound(self) -> None:
        """Refuse (a `StoreError` naming the ledger) to go on from a damaged ledger: the
        first call on a connection runs SQLite's `PRAGMA integrity_check` (about 65 ms on a
        10 MB ledger of 1,000 threads × 20 posts; `quick_check` would miss an index whose
        entries no longer match their table, which hides rows from indexed queries)."""
        if self._verified:
            return
        try:
            rows = self.conn.execute("PRAGMA integrity_check(20)").fetchall()
        except LedgerUnusable:
            raise
        except sqlite3.DatabaseError as exc:
            raise damaged_ledger(self.path, str(exc)) from None
        findings = [str(row[0]) for row in rows]
        if findings != ["ok"]:
            raise damaged_ledger(self.path, "; ".join(findings[:3]))
        self._verified = True

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        self.close()
        # A lock held past the busy timeout, a file made read-only or corrupted since it
        # was opened: a StoreError naming the ledger, not an "unexpected" crash.
        if isinstance(error, sqlite3.DatabaseError):
            raise _database_error(self.path, error) from error

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """All-or-nothing; takes the database's write lock at once (BEGIN IMMEDIATE). Inside
        another transaction it is part of that one (a read-then-write like `freeze_thread`
        wraps the writes it decides on)."""
        if self.conn.in_transaction:
            yield self
            return
        self.check_file()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def _write(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        """One write statement outside `transaction()`, to the file the ledger opened."""
        if not self.conn.in_transaction:
            self.check_file()
        return self.conn.execute(sql, params)

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params))

    # -- threads ----------------------------------------------------------------------

    def new_thread_id(self) -> str:
        """A short id (8 hex digits) that no thread has and no thread's id starts with."""
        for _ in range(100):
            candidate = uuid.uuid4().hex[:8]
            clash = self._rows(
                "SELECT 1 FROM threads WHERE id = ? OR id LIKE ? LIMIT 1",
                (candidate, candidate + "%"),
            )
            if not clash:
                return candidate
        raise StoreError("could not find a free thread id")  # pragma: no cover

    def create_thread(
        self,
        *,
        draft_path: str,
        content_hash: str,
        title: str | None,
        plans: Mapping[PlatformName, Thread],
        schedule_at: datetime | None,
        state: ThreadState,
        now: datetime,
    ) -> str:
        """Record a new thread with its frozen plans and planned posts; return its id.

        A second unfinished thread of the same draft is refused by SQLite itself (schema 3)."""
        try:
            return self._create_thread(
                draft_path=draft_path,
                content_hash=content_hash,
                title=title,
                plans=plans,
                schedule_at=schedule_at,
                state=state,
                now=now,
            )
        except sqlite3.IntegrityError as exc:
            if ONE_ACTIVE_INDEX not in str(exc) and "threads.draft_path" not in str(exc):
                raise
            raise StoreError(
                f"{draft_path} already has an unfinished thread in the ledger {self.path}",
                hint="threadpost queue lists it; cancel it first to start over",
            ) from None

    def _create_thread(
        self,
        *,
        draft_path: str,
        content_hash: str,
        title: str | None,
        plans: Mapping[PlatformName, Thread],
        schedule_at: datetime | None,
        state: ThreadState,
        now: datetime,
    ) -> str:
        with self.transaction():
            self.ensure_one_active_index()
            thread_id = self.new_thread_id()
            stamp = format_utc(now)
            self.db.table("threads").insert(
                {
                    "id": thread_id,
                    "draft_path": draft_path,
                    "content_hash": content_hash,
                    "title": title,
                    "platforms": json.dumps(list(plans)),
                    "schedule_at": format_utc(schedule_at) if schedule_at else None,
                    "state": state,
                    "last_error": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
            self._insert_plans(thread_id, plans)
        return thread_id

    def replace_plans(
        self,
        thread_id: str,
        *,
        content_hash: str,
        title: str | None,
        plans: Mapping[PlatformName, Thread],
        schedule_at: datetime | None,
        now: datetime,
    ) -> None:
        """Swap a not-yet-started thread's plans (the draft was edited)."""
        with self.transaction():
            started = self._rows(
                "SELECT 1 FROM posts WHERE thread_id = ? AND state != 'planned' LIMIT 1",
                (thread_id,),
            )
            if started:
                raise StoreError(f"thread {thread_id} has begun posting; its plan is frozen")
            for table in ("posts", "platforms"):
                self.conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
            self.conn.execute(
                "UPDATE threads SET content_hash = ?, title = ?, platforms = ?, schedule_at = ?,"
                " updated_at = ? WHERE id = ?",
                (
                    content_hash,
                    title,
                    json.dumps(list(plans)),
                    format_utc(schedule_at) if schedule_at else None,
                    format_utc(now),
                    thread_id,
                ),
            )
            self._insert_plans(thread_id, plans)

    def _insert_plans(self, thread_id: str, plans: Mapping[PlatformName, Thread]) -> None:
        import hashlib

        for platform, thread in plans.items():
            self.db.table("platforms").insert(
                {
                    "thread_id": thread_id,
                    "platform": platform,
                    "plan": json.dumps(thread_to_json(thread), ensure_ascii=False),
                    "state": "pending",
                    "attempts": 0,
                    "next_retry_at": None,
                    "last_error": None,
                    "total": len(thread.posts),
                }
            )
            self.db.table("posts").insert_all(
                {
                    "thread_id": thread_id,
                    "platform": platform,
                    "idx": post.index,
                    "text_hash": hashlib.sha256(post.text.encode()).hexdigest(),
                    "key": None,
                    "key_created_at": None,
                    "state": "planned",
                    "remote_id": None,
                    "url": None,
                    "cid": None,
                    "attempts": 0,
                    "last_error": None,
                    "confirmed_at": None,
                    "first_sent_at": None,
                }
                for post in thread.posts
            )

    def set_schedule(self, thread_id: str, schedule_at: datetime | None, now: datetime) -> None:
        """Move a thread's publication time."""
        self._write(
            "UPDATE threads SET schedule_at = ?, updated_at = ? WHERE id = ?",
            (format_utc(schedule_at) if schedule_at else None, format_utc(now), thread_id),
        )

    def set_thread_state(
        self, thread_id: str, state: ThreadState, now: datetime, *, error: str | None = None
    ) -> None:
        """Record a thread's new state (and why, for failed / skipped)."""
        self._write(
            "UPDATE threads SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
            (state, error, format_utc(now), thread_id),
        )

    def thread(self, thread_id: str) -> ThreadRecord:
        """The thread with exactly this id."""
        rows = self._rows("SELECT * FROM threads WHERE id = ?", (thread_id,))
        if not rows:
            raise StoreError(f"no thread {thread_id!r} in the ledger {self.path}")
        return _thread_record(rows[0])

    def resolve_id(self, prefix: str) -> str:
        """The one thread id starting with `prefix` (ids are typed by people)."""
        text = prefix.strip().lower()
        if not text or any(c not in "0123456789abcdef" for c in text):
            raise StoreError(f"{prefix!r} is not a thread id (ids look like 3f9a0c12)")
        ids = [
            row[0] for row in self._rows("SELECT id FROM threads WHERE id LIKE ?", (text + "%",))
        ]
        if not ids:
            raise StoreError(
                f"no thread {prefix!r} in the ledger", hint="threadpost queue lists the threads"
            )
        if len(ids) > 1:
            raise StoreError(f"{prefix!r} matches several threads: {', '.join(sorted(ids))}")
        return str(ids[0])

    def threads(
        self, states: Sequence[ThreadState] | None = None, *, draft_path: str | None = None
    ) -> list[ThreadRecord]:
        """Threads (optionally only in `states` / of one draft), by schedule then creation."""
        where: list[str] = []
        params: list[Any] = []
        if states is not None:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(states)
        if draft_path is not None:
            where.append("draft_path = ?")
            params.append(draft_path)
        sql = "SELECT * FROM threads"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY coalesce(schedule_at, created_at), created_at"
        return [_thread_record(row) for row in self._rows(sql, params)]

    def due_thread_ids(self, now: datetime) -> list[str]:
        """Threads `run` should work on now: scheduled ones whose time has come, and
        incomplete ones whose next retry has come. Cheap on a large ledger (indexed).

        A scheduled thread with no time was being published now when its process died
        (right after claiming it, or on a full disk): it is due at once, not never. So is an
        incomplete thread none of whose networks is left to publish: its final state could
        not be written (a full disk after the last post), and `run` settles it."""
        stamp = format_utc(now)
        rows = self._rows(
            "SELECT id FROM threads WHERE state = 'scheduled'"
            " AND (schedule_at IS NULL OR schedule_at <= :now)"
            " UNION SELECT DISTINCT t.id FROM threads t JOIN platforms p ON p.thread_id = t.id"
            " WHERE t.state = 'incomplete' AND p.state IN ('pending', 'incomplete')"
            " AND (p.next_retry_at IS NULL OR p.next_retry_at <= :now)"
            " UNION SELECT t.id FROM threads t WHERE t.state = 'incomplete' AND NOT EXISTS"
            " (SELECT 1 FROM platforms p WHERE p.thread_id = t.id"
            " AND p.state IN ('pending', 'incomplete'))",
            {"now": stamp},
        )
        return sorted(str(row[0]) for row in rows)

    def next_due(self) -> tuple[int, datetime | None]:
        """How many threads are waiting (scheduled or incomplete), and the earliest time."""
        row = self._rows(
            "SELECT count(*), min(schedule_at) FROM threads WHERE state = 'scheduled'"
        )[0]
        retry = self._rows(
            "SELECT count(DISTINCT t.id), min(p.next_retry_at) FROM threads t"
            " JOIN platforms p ON p.thread_id = t.id"
            " WHERE t.state = 'incomplete' AND p.state IN ('pending', 'incomplete')"
        )[0]
        times = [parse_utc(text) for text in (row[1], retry[1]) if text]
        return int(row[0]) + int(retry[0]), min(times) if times else None

    # -- platforms --------------------------------------------------------------------

    def plan(self, thread_id: str, platform: PlatformName) -> Thread:
        """The frozen plan of a thread on one network."""
        rows = self._rows(
            "SELECT plan FROM platforms WHERE thread_id = ? AND platform = ?",
            (thread_id, platform),
        )
        if not rows:
            raise StoreError(f"thread {thread_id} has no plan for {platform}")
        try:
            return thread_from_json(json.loads(rows[0][0]))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the frozen plan of thread {thread_id} on {platform} is unreadable: {exc}"
            ) from None

    def platforms(self, thread_id: str) -> list[PlatformRecord]:
        """Per-network progress of a thread, in the thread's platform order."""
        order = self.thread(thread_id).platforms
        rows = self._rows(
            "SELECT thread_id, platform, state, attempts, next_retry_at, last_error, total"
            " FROM platforms WHERE thread_id = ?",
            (thread_id,),
        )
        records = [
            PlatformRecord(
                thread_id=row["thread_id"],
                platform=row["platform"],
                state=row["state"],
                attempts=row["attempts"],
                next_retry_at=parse_utc(row["next_retry_at"]) if row["next_retry_at"] else None,
                last_error=row["last_error"],
                total=row["total"],
            )
            for row in rows
        ]
        return sorted(records, key=lambda r: order.index(r.platform) if r.platform in order else 9)

    def set_platform(
        self,
        thread_id: str,
        platform: PlatformName,
        *,
        state: PlatformState,
        attempts: int | None = None,
        next_retry_at: datetime | None = None,
        last_error: str | None = None,
    ) -> None:
        """Record the outcome of a run on one network."""
        values: dict[str, Any] = {
            "state": state,
            "next_retry_at": format_utc(next_retry_at) if next_retry_at else None,
            "last_error": last_error,
        }
        if attempts is not None:
            values["attempts"] = attempts
        sets = ", ".join(f"{name} = :{name}" for name in values)
        self._write(
            f"UPDATE platforms SET {sets} WHERE thread_id = :thread_id AND platform = :platform",
            {**values, "thread_id": thread_id, "platform": platform},
        )

    # -- posts ------------------------------------------------------------------------

    def posts(self, thread_id: str, platform: PlatformName) -> list[PostRecord]:
        """The planned posts of one thread on one network, in order."""
        rows = self._rows(
            "SELECT * FROM posts WHERE thread_id = ? AND platform = ? ORDER BY idx",
            (thread_id, platform),
        )
        return [_post_record(row) for row in rows]

    def store_keys(self, thread_id: str, platform: PlatformName, keys: Sequence[PostKey]) -> None:
        """Persist the posts' idempotency keys / rkeys before the first attempt.

        Keys already stored are never replaced: a resumed thread re-sends with the keys of
        its first attempt."""
        with self.transaction():
            for key in keys:
                self.conn.execute(
                    "UPDATE posts SET key = ?, key_created_at = ? WHERE thread_id = ?"
                    " AND platform = ? AND idx = ? AND key IS NULL",
                    (key.key, key.created_at, thread_id, platform, key.index),
                )

    def mark_sending(
        self, thread_id: str, platform: PlatformName, start: int, now: datetime | None = None
    ) -> None:
        """Posts `start`.. are about to be sent: until confirmed or cleared, a crash or an
        unclear failure leaves them 'sending', and the next attempt looks them up first.

        The first time a post is marked, `now` is kept as its `first_sent_at`: a look-up on
        the network never needs to reach further back than that."""
        from threadpost.clock import utc_now

        with self.transaction():
            self.conn.execute(
                "UPDATE posts SET state = 'sending', first_sent_at = coalesce(first_sent_at, ?)"
                " WHERE thread_id = ? AND platform = ? AND idx >= ? AND state = 'planned'",
                (format_utc(now or utc_now()), thread_id, platform, start),
            )
            self.conn.execute(
                "UPDATE posts SET attempts = attempts + 1 WHERE thread_id = ? AND platform = ?"
                " AND idx = ?",
                (thread_id, platform, start),
            )

    def clear_sending(
        self,
        thread_id: str,
        platform: PlatformName,
        *,
        error: str | None = None,
        error_post: int | None = None,
    ) -> None:
        """The attempt failed cleanly: nothing unconfirmed landed, back to 'planned'."""
        with self.transaction():
            self.conn.execute(
                "UPDATE posts SET state = 'planned' WHERE thread_id = ? AND platform = ?"
                " AND state = 'sending'",
                (thread_id, platform),
            )
            if error is not None and error_post is not None:
                self.conn.execute(
                    "UPDATE posts SET last_error = ? WHERE thread_id = ? AND platform = ?"
                    " AND idx = ?",
                    (error, thread_id, platform, error_post),
                )

    def confirm_post(self, thread_id: str, ref: PostRef, now: datetime) -> None:
        """Record a published post at once (its own transaction: it must survive a crash)."""
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE posts SET state = 'confirmed', remote_id = ?, url = ?, cid = ?,"
                " confirmed_at = ?, last_error = NULL"
                " WHERE thread_id = ? AND platform = ? AND idx = ?",
                (
                    ref.remote_id,
                    ref.url,
                    ref.cid,
                    format_utc(now),
                    thread_id,
                    ref.platform,
                    ref.index,
                ),
            )
            if cursor.rowcount != 1:
                raise StoreError(
                    f"thread {thread_id} has no post {ref.index} on {ref.platform} to confirm"
                )

    def mark_deleted(self, thread_id: str, platform: PlatformName, indexes: Sequence[int]) -> None:
        """Posts removed from the network (their refs are kept for the record)."""
        with self.transaction():
            for index in indexes:
                self.conn.execute(
                    "UPDATE posts SET state = 'deleted' WHERE thread_id = ? AND platform = ?"
                    " AND idx = ?",
                    (thread_id, platform, index),
                )

    # -- attempt log ------------------------------------------------------------------

    def start_attempt(
        self, thread_id: str, platform: PlatformName, index: int | None, now: datetime
    ) -> int:
        """Log the start of a network attempt; returns its id."""
        cursor = self._write(
            "INSERT INTO attempts (thread_id, platform, idx, started_at) VALUES (?, ?, ?, ?)",
            (thread_id, platform, index, format_utc(now)),
        )
        return int(cursor.lastrowid or 0)

    def finish_attempt(
        self, attempt_id: int, outcome: str, now: datetime, error: str | None = None
    ) -> None:
        """Log how an attempt ended: ok, transient, unclear, rate-limited, permanent, auth."""
        self._write(
            "UPDATE attempts SET finished_at = ?, outcome = ?, error = ? WHERE id = ?",
            (format_utc(now), outcome, error, attempt_id),
        )

    def attempts(self, thread_id: str) -> list[dict[str, Any]]:
        """The attempt log of a thread, oldest first."""
        return [
            dict(row)
            for row in self._rows(
                "SELECT * FROM attempts WHERE thread_id = ? ORDER BY id", (thread_id,)
            )
        ]

    # -- warnings ---------------------------------------------------------------------

    def add_warnings(
        self,
        thread_id: str,
        platform: PlatformName,
        problems: Sequence[Problem],
        now: datetime,
        *,
        attempt_id: int | None = None,
    ) -> None:
        """Record what an adapter warned about (a card not made, a mention left as text);
        the same warning for the same post is kept once."""
        with self.transaction():
            for problem in problems:
                seen = self._rows(
                    "SELECT 1 FROM warnings WHERE thread_id = ? AND platform = ?"
                    " AND idx IS ? AND code = ? AND message = ? LIMIT 1",
                    (thread_id, platform, problem.post, problem.code, problem.message),
                )
                if seen:
                    continue
                self.conn.execute(
                    "INSERT INTO warnings (thread_id, platform, idx, code, message, attempt_id,"
                    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        thread_id,
                        platform,
                        problem.post,
                        problem.code,
                        problem.message,
                        attempt_id,
                        format_utc(now),
                    ),
                )

    def warnings(self, thread_id: str, platform: PlatformName | None = None) -> list[Problem]:
        """The warnings recorded for a thread (or one of its platforms), oldest first."""
        from threadpost.values import Problem

        sql = "SELECT platform, idx, code, message FROM warnings WHERE thread_id = ?"
        params: list[Any] = [thread_id]
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        return [
            Problem(
                severity="warning",
                code=row["code"],
                message=row["message"],
                platform=row["platform"],
                post=row["idx"],
            )
            for row in self._rows(sql + " ORDER BY id", params)
        ]

    # -- leases -----------------------------------------------------------------------

    def claim_lease(
        self,
        name: str,
        owner: str,
        *,
        until: datetime,
        now: datetime,
        holder: ProcessId | None = None,
    ) -> bool:
        """Take the lease `name` until `until` unless another owner holds an unexpired one.

        With `holder` (this process), the lease records its host, pid and start time, and an
        unexpired lease of another owner is taken over when that owner ran on the same host
        and its process is gone (killed, crashed: `processes.is_running`). A holder on
        another host, or one that did not say who it was, is waited out until expiry.
        Inside BEGIN IMMEDIATE: two processes can never both win."""
        with self.transaction():
            if holder is not None:
                self._drop_dead_holder(name, owner, holder, now)
            self.conn.execute(
                "INSERT INTO leases (name, owner, expires_at, host, pid, started)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET owner = excluded.owner,"
                " expires_at = excluded.expires_at, host = excluded.host, pid = excluded.pid,"
                " started = excluded.started"
                " WHERE leases.expires_at <= ? OR leases.owner = excluded.owner",
                (
                    name,
                    owner,
                    format_utc(until),
                    holder.host if holder else None,
                    holder.pid if holder else None,
                    holder.started if holder else None,
                    format_utc(now),
                ),
            )
            rows = self._rows("SELECT owner FROM leases WHERE name = ?", (name,))
        return bool(rows) and rows[0][0] == owner

    def _drop_dead_holder(self, name: str, owner: str, me: ProcessId, now: datetime) -> None:
        from threadpost.processes import ProcessId, is_running

        rows = self._rows(
            "SELECT owner, host, pid, started FROM leases WHERE name = ? AND expires_at > ?",
            (name, format_utc(now)),
        )
        if not rows:
            return
        row = rows[0]
        if row["owner"] == owner or row["host"] != me.host or row["pid"] is None:
            return
        other = ProcessId(host=row["host"], pid=int(row["pid"]), started=row["started"])
        if other.pid == me.pid and other.started == me.started:
            return  # this very process (another ledger handle): alive by definition
        if not is_running(other):
            self.conn.execute("DELETE FROM leases WHERE name = ?", (name,))

    def lease_holder(
        self, name: str, now: datetime | None
    ) -> tuple[str, str | None, int | None] | None:
        """(owner, host, pid) of an unexpired lease `name` (any row when `now` is None: its
        holder's file lock says it is alive), if anyone holds it."""
        rows = self._rows(
            "SELECT owner, host, pid FROM leases WHERE name = ? AND (? IS NULL OR expires_at > ?)",
            (
                name,
                None if now is None else format_utc(now),
                None if now is None else format_utc(now),
            ),
        )
        if not rows:
            return None
        return str(rows[0]["owner"]), rows[0]["host"], rows[0]["pid"]

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back (only if still ours)."""
        self.conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def lease_owner(self, name: str, now: datetime) -> str | None:
        """Who holds an unexpired lease `name`, if anyone."""
        rows = self._rows(
            "SELECT owner FROM leases WHERE name = ? AND expires_at > ?", (name, format_utc(now))
        )
        return str(rows[0][0]) if rows else None


# -- opening, checking, migrating --------------------------------------------------------


def open_ledger(path: Path | str) -> Ledger:
    """Open (creating if needed, mode 0600) the ledger at `path` and bring its schema up to date.

    Refuses, with a `StoreError` naming the file, a file that is not SQLite, a SQLite
    database that is not a threadpost ledger, a newer schema, and an unwritable folder."""
    path = Path(path).expanduser()
    created = _create_file(path)
    if not created:
        _check_header(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the ledger: {exc}") from None
    conn.row_factory = sqlite3.Row
    ledger = Ledger(path, conn)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = _schema_version(ledger)
        if version != SCHEMA_VERSION:
            _enable_wal(ledger)
            _migrate(ledger, version)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _database_error(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return ledger


def _create_file(path: Path) -> bool:
    """Create the parent folders (0700) and an empty 0600 file; True if it was new."""
    if path.exists():
        if path.is_dir():
            raise StoreError(f"{path} is a folder; --db takes a database file")
        return False
    try:
        make_private_dir(path.parent)
    except (FileExistsError, NotADirectoryError):
        # mkdir(exist_ok=True) raises FileExistsError only when a file stands in the way.
        raise StoreError(
            f"cannot create the ledger {path}: {_first_non_folder(path.parent)} is a file, "
            "not a folder",
            hint="choose another place with --db or THREADPOST_DB",
        ) from None
    except OSError:
        pass  # reported below, with the file's own error
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False  # another process created it just now
    except NotADirectoryError:
        raise StoreError(
            f"cannot create the ledger {path}: {_first_non_folder(path.parent)} is a file, "
            "not a folder",
            hint="choose another place with --db or THREADPOST_DB",
        ) from None
    except PermissionError:
        raise StoreError(
            f"cannot create the ledger {path}: the folder {path.parent} is not writable",
            hint="choose another place with --db or THREADPOST_DB",
        ) from None
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise StoreError(
                f"cannot create the ledger {path}: the folder {path.parent} is on a read-only "
                "file system",
                hint="choose another place with --db or THREADPOST_DB",
            ) from None
        raise StoreError(f"cannot create the ledger {path}: {exc.strerror or exc}") from None
    os.close(fd)
    return True


def _file_identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


def damaged_ledger(path: Path, finding: str) -> LedgerDamaged:
    """The refusal to publish from a ledger that fails SQLite's integrity check."""
    return LedgerDamaged(
        f"{path}: the ledger is damaged (SQLite's integrity check: {finding}); nothing was "
        "sent. A damaged index can hide posts already published, and publishing from it "
        "could post them twice",
        hint=f"restore {path} from a backup, or rebuild it with "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` and pass --db recovered.db",
    )


def _first_non_folder(folder: Path) -> Path:
    """The first ancestor of `folder` (outermost first) that exists but is not a folder."""
    for parent in reversed([folder, *folder.parents]):
        if parent.exists() and not parent.is_dir():
            return parent
    return folder


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except PermissionError:
        raise StoreError(f"cannot read the ledger {path}: permission denied") from None
    except OSError as exc:
        raise StoreError(f"cannot read the ledger {path}: {exc.strerror or exc}") from None
    # An empty file is a ledger another process has just created: fine.
    if header and header != _SQLITE_HEADER:
        raise StoreError(f"{path} is corrupt or not SQLite (not a threadpost ledger)")


def _database_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    if isinstance(exc, LedgerUnusable):
        return StoreError(exc.message, hint=exc.hint)
    text = str(exc).lower()
    if "disk is full" in text or "disk i/o error" in text:
        return StoreError(
            f"{path}: cannot write the ledger: "
            + ("the disk is full" if "full" in text else "disk I/O error")
            + "; stopped before sending anything that could not be recorded",
            hint="free some space on that disk; threadpost run then resumes where this run stopped",
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"the ledger {path} cannot be written (read-only file or folder)",
            hint="the folder holding the ledger must be writable (SQLite keeps -wal/-shm "
            "files beside it); choose another place with --db",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"{path} is corrupt or not SQLite",
            hint=f"restore {path} from a backup, or rebuild it with "
            f"`sqlite3 {path} .recover | sqlite3 recovered.db` and pass --db recovered.db",
        )
    if "locked" in text or "busy" in text:
        return StoreError(f"the ledger {path} is locked by another process; try again")
    return StoreError(f"{path}: ledger error: {exc}")


def _schema_version(ledger: Ledger) -> int:
    """0 for an empty database; raises for a foreign one or a newer schema."""
    tables = {row[0] for row in ledger._rows("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return 0
    if "threadpost_meta" not in tables:
        raise StoreError(
            f"{ledger.path} is not a threadpost ledger (it holds other tables: "
            f"{', '.join(sorted(tables)[:5])})",
            hint="pass the ledger's own file with --db, or a new file name to start one",
        )
    meta: dict[str, str] = {
        str(row[0]): str(row[1]) for row in ledger._rows("SELECT key, value FROM threadpost_meta")
    }
    if meta.get("application") != APPLICATION:
        raise StoreError(f"{ledger.path} is not a threadpost ledger")
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{ledger.path} was written by a newer threadpost (schema {version}, this one "
            f"knows {SCHEMA_VERSION}); upgrade threadpost"
        )
    return version


def _enable_wal(ledger: Ledger) -> None:
    mode = ledger.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # pragma: no cover - e.g. some network file systems
        raise StoreError(f"{ledger.path}: SQLite could not switch to WAL mode ({mode})")


def _migrate(ledger: Ledger, version: int) -> None:
    """Apply every migration after `version`, each in one transaction."""
    with ledger.transaction():
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = _schema_version(ledger)
        for target, migration in sorted(_MIGRATIONS.items()):
            if target > current:
                migration(ledger.db)
                ledger.db.table("threadpost_meta").upsert_all(
                    [
                        {"key": "application", "value": APPLICATION},
                        {"key": "schema_version", "value": str(target)},
                    ],
                    pk="key",
                )


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


_MIGRATIONS: Final = {1: _migration_1, 2: _migration_2, 3: _migration_3}


# -- records -----------------------------------------------------------------------------


def _thread_record(row: sqlite3.Row) -> ThreadRecord:
    return ThreadRecord(
        id=row["id"],
        draft_path=row["draft_path"],
        content_hash=row["content_hash"],
        title=row["title"],
        platforms=tuple(json.loads(row["platforms"])),
        schedule_at=parse_utc(row["schedule_at"]) if row["schedule_at"] else None,
        state=row["state"],
        created_at=parse_utc(row["created_at"]),
        updated_at=parse_utc(row["updated_at"]),
        last_error=row["last_error"],
    )


def _post_record(row: sqlite3.Row) -> PostRecord:
    return PostRecord(
        thread_id=row["thread_id"],
        platform=row["platform"],
        index=row["idx"],
        text_hash=row["text_hash"],
        key=row["key"],
        key_created_at=row["key_created_at"],
        state=row["state"],
        remote_id=row["remote_id"],
        url=row["url"],
        cid=row["cid"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        confirmed_at=parse_utc(row["confirmed_at"]) if row["confirmed_at"] else None,
        first_sent_at=parse_utc(row["first_sent_at"]) if row["first_sent_at"] else None,
    )


# -- Thread <-> JSON ---------------------------------------------------------------------


def thread_to_json(thread: Thread) -> dict[str, Any]:
    """A planned thread as JSON-able data, everything needed to send it byte for byte."""
    from dataclasses import asdict

    return {
        "platform": thread.platform,
        "limits": asdict(thread.limits),
        "posts": [
            {
                "index": post.index,
                "text": post.text,
                "length": post.length,
                "bytes": post.bytes,
                "facets": [
                    {
                        "kind": facet.kind,
                        "byte_start": facet.byte_start,
                        "byte_end": facet.byte_end,
                        "value": facet.value,
                    }
                    for facet in post.facets
                ],
                "images": [
                    {
                        "path": str(image.path),
                        "alt": image.alt,
                        "line": image.line,
                        "written_path": image.written_path,
                    }
                    for image in post.images
                ],
                "source_post": post.source_post,
                "source_line": post.source_line,
                "tags": list(post.tags),
                "quote": post.quote,
                "quote_line": post.quote_line,
            }
            for post in thread.posts
        ],
        "lang": thread.lang,
        "spoiler_text": thread.spoiler_text,
        "problems": [asdict(problem) for problem in thread.problems],
        "visibility": thread.visibility,
        "reply_visibility": thread.reply_visibility,
        "sensitive": thread.sensitive,
        "labels": list(thread.labels),
        "link_cards": thread.link_cards,
        "reply_rules": None if thread.reply_rules is None else list(thread.reply_rules),
        "quotes_allowed": thread.quotes_allowed,
    }


def thread_from_json(data: Mapping[str, Any]) -> Thread:
    """Inverse of `thread_to_json`."""
    from threadpost.draft import Image
    from threadpost.plan import Facet, PlannedPost, Thread
    from threadpost.values import PlatformLimits, Problem

    return Thread(
        platform=data["platform"],
        limits=PlatformLimits(**data["limits"]),
        posts=tuple(
            PlannedPost(
                index=post["index"],
                text=post["text"],
                length=post["length"],
                bytes=post["bytes"],
                facets=tuple(Facet(**facet) for facet in post["facets"]),
                images=tuple(
                    Image(
                        path=Path(image["path"]),
                        alt=image["alt"],
                        line=image["line"],
                        written_path=image["written_path"],
                    )
                    for image in post["images"]
                ),
                source_post=post["source_post"],
                source_line=post["source_line"],
                # Plans frozen before tags and quotes existed have none.
                tags=tuple(post.get("tags", ())),
                quote=post.get("quote"),
                quote_line=post.get("quote_line"),
            )
            for post in data["posts"]
        ),
        lang=data["lang"],
        spoiler_text=data["spoiler_text"],
        problems=tuple(Problem(**problem) for problem in data["problems"]),
        visibility=data["visibility"],
        reply_visibility=data["reply_visibility"],
        sensitive=data["sensitive"],
        # Plans frozen before labels existed have none.
        labels=tuple(data.get("labels", ())),
        link_cards=data["link_cards"],
        # Plans frozen before reply and quote controls existed left both open.
        reply_rules=(None if data.get("reply_rules") is None else tuple(data["reply_rules"])),
        quotes_allowed=data.get("quotes_allowed", True),
    )
