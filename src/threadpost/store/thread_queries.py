"""Queries on the threads table (and the frozen plans each thread owns)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from threadpost.clock import format_utc, parse_utc
from threadpost.errors import StoreError
from threadpost.store.core import LedgerCore
from threadpost.store.plan_json import thread_from_json, thread_to_json
from threadpost.store.records import ThreadRecord, ThreadState, _thread_record
from threadpost.store.schema import ONE_ACTIVE_INDEX

if TYPE_CHECKING:
    from threadpost.plan import Thread
    from threadpost.values import PlatformName


class ThreadQueries(LedgerCore):
    """Threads: create, re-plan, schedule, find, and which are due."""

    def new_thread_id(self) -> str:
        """A short id (8 hex digits) that no thread has and no thread's id starts with."""
        for _ in range(100):
            candidate = os.urandom(4).hex()  # what uuid4().hex[:8] was, without uuid's import
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
            self.insert(
                "threads",
                [
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
                ],
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
            self.insert(
                "platforms",
                [
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
                ],
            )
            self.insert(
                "posts",
                (
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
                ),
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
