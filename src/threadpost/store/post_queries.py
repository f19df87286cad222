"""Queries on the progress of a thread on each network: platforms, posts, the attempt log
and the adapters' warnings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from threadpost.clock import format_utc, parse_utc
from threadpost.errors import StoreError
from threadpost.store.records import PlatformRecord, PlatformState, PostRecord, _post_record
from threadpost.store.thread_queries import ThreadQueries

if TYPE_CHECKING:
    from threadpost.values import PlatformName, PostKey, PostRef, Problem


class PostQueries(ThreadQueries):
    """Per-network progress: platform rows, posts and their keys, attempts, warnings (built on
    the thread queries: a thread's platform order comes from its row)."""

    def platforms(self, thread_id: str) -> list[PlatformRecord]:
        """Per-network progress of a thread, in the thread's platform order."""
        order = self.thread(thread_id).platforms
        rows = self._rows(
            "SELECT thread_id, platform, state, attempts, next_retry_at, last_error, total,"
            " account FROM platforms WHERE thread_id = ?",
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
                account=row["account"],
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

    def set_account(self, thread_id: str, account: str | None) -> None:
        """Record the named account (None: default) every network of the thread publishes
        with; `publish.freeze_thread` does, before any post is sent."""
        self._write(
            "UPDATE platforms SET account = :account WHERE thread_id = :thread_id",
            {"account": account, "thread_id": thread_id},
        )

    def waiting_accounts(self) -> dict[str | None, dict[PlatformName, int]]:
        """The accounts `run` will publish with (None: the default one): for each, per
        network, how many scheduled or incomplete threads still have posts to send there."""
        rows = self._rows(
            "SELECT p.account, p.platform, count(DISTINCT t.id) FROM threads t"
            " JOIN platforms p ON p.thread_id = t.id"
            " WHERE t.state IN ('scheduled', 'incomplete')"
            " AND p.state IN ('pending', 'incomplete')"
            " GROUP BY p.account, p.platform"
        )
        waiting: dict[str | None, dict[PlatformName, int]] = {}
        for account, platform, count in rows:
            waiting.setdefault(account, {})[platform] = int(count)
        return waiting

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

    def confirm_posts(self, thread_id: str, refs: Sequence[PostRef], now: datetime) -> None:
        """Record published posts at once, all or none (one transaction: it must survive a
        crash, and one commit is one fsync however many posts an atomic write landed)."""
        with self.transaction():
            for ref in refs:
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
