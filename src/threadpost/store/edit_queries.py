"""Queries on the edits made to published posts (`threadpost edit`).

The `edits` table comes with schema 5 (store/schema.py, `_migration_5`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from threadpost.clock import format_utc, parse_utc
from threadpost.errors import StoreError
from threadpost.store.core import LedgerCore
from threadpost.store.plan_json import thread_to_json

if TYPE_CHECKING:
    from threadpost.plan import Thread
    from threadpost.values import PlatformName


@dataclass(frozen=True)
class EditRecord:
    """One accepted edit of one published post."""

    thread_id: str
    platform: PlatformName
    index: int
    remote_id: str
    fingerprint: str
    text: str
    edited_at: datetime
    remote_edited_at: str | None


class EditQueries(LedgerCore):
    """Edits of published posts: each accepted edit, and the plan that now describes them."""

    def record_edit(
        self,
        thread_id: str,
        platform: PlatformName,
        index: int,
        *,
        remote_id: str,
        fingerprint: str,
        text: str,
        now: datetime,
        remote_edited_at: str | None,
    ) -> None:
        """Record at once (its own transaction: it must survive a crash) that post `index`
        now carries `text`; the post's text hash follows it."""
        # Imported here, not at the top: hashlib (OpenSSL) is ~4 ms of every start-up,
        # and the cron tick with nothing due never records an edit.
        import hashlib

        text_hash = hashlib.sha256(text.encode()).hexdigest()
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE posts SET text_hash = ? WHERE thread_id = ? AND platform = ? AND idx = ?"
                " AND state = 'confirmed'",
                (text_hash, thread_id, platform, index),
            )
            if cursor.rowcount != 1:
                raise StoreError(
                    f"thread {thread_id} has no published post {index} on {platform} to edit"
                )
            self.conn.execute(
                "INSERT INTO edits (thread_id, platform, idx, remote_id, fingerprint, text,"
                " text_hash, edited_at, remote_edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    thread_id,
                    platform,
                    index,
                    remote_id,
                    fingerprint,
                    text,
                    text_hash,
                    format_utc(now),
                    remote_edited_at,
                ),
            )

    def edits(self, thread_id: str, platform: PlatformName | None = None) -> list[EditRecord]:
        """The edits of a thread (or of one of its platforms), oldest first."""
        sql = "SELECT * FROM edits WHERE thread_id = ?"
        params: list[str] = [thread_id]
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        return [
            EditRecord(
                thread_id=row["thread_id"],
                platform=row["platform"],
                index=row["idx"],
                remote_id=row["remote_id"],
                fingerprint=row["fingerprint"],
                text=row["text"],
                edited_at=parse_utc(row["edited_at"]),
                remote_edited_at=row["remote_edited_at"],
            )
            for row in self._rows(sql + " ORDER BY id", params)
        ]

    def replace_edited_plan(
        self, thread_id: str, platform: PlatformName, plan: Thread, *, content_hash: str
    ) -> None:
        """Every changed post of `platform` was edited: `plan` (same number of posts) now
        describes what is online there, and the thread's content hash is the draft's."""
        with self.transaction():
            rows = self._rows(
                "SELECT total FROM platforms WHERE thread_id = ? AND platform = ?",
                (thread_id, platform),
            )
            if not rows or rows[0][0] != len(plan.posts):
                raise StoreError(
                    f"thread {thread_id} on {platform}: an edit cannot change the number of posts"
                )
            self.conn.execute(
                "UPDATE platforms SET plan = ? WHERE thread_id = ? AND platform = ?",
                (json.dumps(thread_to_json(plan), ensure_ascii=False), thread_id, platform),
            )
            self.conn.execute(
                "UPDATE threads SET content_hash = ? WHERE id = ?", (content_hash, thread_id)
            )
