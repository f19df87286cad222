"""What the ledger's rows mean: thread, platform and post records and their states."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from threadpost.clock import parse_utc
from threadpost.errors import StoreError

if TYPE_CHECKING:
    from threadpost.values import PlatformName, PostKey, PostRef

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
    #: The named account it publishes with (`accounts.py`); None: the default account.
    account: str | None = None


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
