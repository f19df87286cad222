"""A fake network for publishing tests: a `Publisher` with fault switches.

`FakeServer` is the "network": a SQLite file (or memory) of published posts, shared by
several processes when given a path, so overlapping `run` processes can be checked for
duplicates. `FakePublisher` implements the `Publisher` protocol against it, and can be told
to fail at post k in every way the reliability suite cares about.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import threadpost.platforms as platforms
from threadpost.errors import (
    AuthFailed,
    LandedWithDoubts,
    PermanentError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.plan import Facet, PlannedPost, Thread
from threadpost.platforms.base import ConfirmPosts
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import PlatformLimits, PlatformName, PostKey, PostRef, Problem

if TYPE_CHECKING:
    import pytest

#: A two-post draft for both networks, as the CLI publishing tests write it.
TWO_POST_DRAFT = """+++
title = "Cameras"
platforms = ["mastodon", "bluesky"]
+++
Cities buy cameras.

---

Here is why.
"""

FaultKind = Literal[
    "transient",  # connection refused before the write: clearly not applied
    "unclear",  # timeout: not applied, but the client cannot know
    "lost-response",  # the server commits, then the answer is lost (the duplicate trap)
    "rate-limited",  # 429 with a reset time
    "permanent",  # 422 with the server's reason
    "auth",  # 401
    "crash",  # the server commits, then the client process dies before confirming
    "doubts",  # the server commits, the post is confirmed, then LandedWithDoubts (CIDs)
    "warn",  # a non-fatal warning (like a link card that could not be made), then sent
    "unexpected",  # the server commits, then the adapter fails in a way nobody foresaw
]


class Crash(BaseException):
    """Simulates the process dying (not an Exception: nothing should catch it)."""


@dataclass
class Fault:
    post: int
    kind: FaultKind
    times: int = 1
    reset_in: timedelta = timedelta(seconds=30)


class _SerializedConnection:
    """A sqlite3 connection used from several threads, one statement at a time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def execute(self, sql: str, params: Sequence[object] = ()) -> _Rows:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            return _Rows(cursor.fetchall(), cursor.lastrowid)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass
class _Rows:
    rows: list[tuple[object, ...]]
    lastrowid: int | None

    def fetchall(self) -> list[tuple[object, ...]]:
        return self.rows

    def fetchone(self) -> tuple[object, ...] | None:
        return self.rows[0] if self.rows else None


class FakeServer:
    """Published posts, keyed by the client's idempotency key; never deduplicates by
    itself, so a client sending a key twice shows up as a duplicate."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        # Shared by the publishers of both networks, which publish from two threads at once.
        self.conn = _SerializedConnection(
            sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, platform TEXT,"
            " key TEXT, idx INTEGER, text TEXT, parent TEXT, root TEXT, pid INTEGER,"
            " deleted INTEGER DEFAULT 0)"
        )

    def commit(
        self, platform: str, key: str, index: int, text: str, parent: str | None, root: str | None
    ) -> str:
        import os

        cursor = self.conn.execute(
            "INSERT INTO posts (platform, key, idx, text, parent, root, pid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (platform, key, index, text, parent, root, os.getpid()),
        )
        return f"{platform}-{cursor.lastrowid}"

    def find(self, platform: str, key: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM posts WHERE platform = ? AND key = ? AND deleted = 0 ORDER BY id",
            (platform, key),
        ).fetchone()
        return f"{platform}-{row[0]}" if row else None

    def delete(self, remote_id: str) -> None:
        self.conn.execute(
            "UPDATE posts SET deleted = 1 WHERE id = ?", (int(remote_id.split("-")[1]),)
        )

    def posts(self, platform: str | None = None) -> list[dict[str, object]]:
        sql = "SELECT id, platform, key, idx, text, parent, root, deleted FROM posts"
        rows = self.conn.execute(sql + " ORDER BY id").fetchall()
        names = ["id", "platform", "key", "idx", "text", "parent", "root", "deleted"]
        found = [dict(zip(names, row, strict=True)) for row in rows]
        for post in found:
            post["remote_id"] = f"{post['platform']}-{post['id']}"
        return [p for p in found if platform is None or p["platform"] == platform]


@dataclass
class FakePublisher:
    """A `Publisher` for one platform of a `FakeServer`, with fault switches."""

    platform: PlatformName
    server: FakeServer
    faults: list[Fault] = field(default_factory=list)
    #: Seconds to pause before each post (lets overlapping processes interleave).
    delay: float = 0.0
    calls: list[tuple[str, object]] = field(default_factory=list)
    keys_made: int = 0
    warnings: list[Problem] = field(default_factory=list)
    #: What find_published was given besides the keys: (first index, parent remote id).
    lookups: list[tuple[int, str | None, bool]] = field(default_factory=list)
    #: Called with the post's index just before each post is sent (what happens meanwhile).
    before_post: Callable[[int], None] | None = None
    #: Called when the engine first asks for the posts' keys, before its first ledger write
    #: for this network: the networks publish at once, so a test can make this one start
    #: only after something happened on the other.
    before_keys: Callable[[], None] | None = None
    #: True once `close()` was called.
    closed: bool = False

    def fail_at(self, post: int, kind: FaultKind, times: int = 1, **extra: object) -> FakePublisher:
        """Add a fault at post `post` (1-based) for the next `times` sends of it."""
        self.faults.append(Fault(post, kind, times, **extra))  # type: ignore[arg-type]
        return self

    def account_id(self) -> str:
        return f"fake@{self.platform}"

    def limits(self) -> PlatformLimits:
        return BLUESKY_LIMITS if self.platform == "bluesky" else MASTODON_DEFAULT_LIMITS

    def post_keys(self, thread_id: str, thread: Thread) -> list[PostKey]:
        if self.before_keys is not None:
            self.before_keys()
        self.keys_made += 1
        stamp = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
        return [
            PostKey(index=p.index, key=f"{thread_id}-{self.platform}-{p.index}", created_at=stamp)
            for p in thread.posts
        ]

    def send(
        self,
        thread: Thread,
        keys: Sequence[PostKey],
        *,
        start: int,
        root: PostRef | None,
        parent: PostRef | None,
        confirm: ConfirmPosts,
    ) -> None:
        self.calls.append(("send", start))
        assert (root is None) == (start == 1), "root given iff resuming after post 1"
        assert (parent is None) == (start == 1), "parent given iff resuming after post 1"
        if parent is not None:
            assert parent.index == start - 1, f"parent {parent.index} for post {start}"
        by_index = {k.index: k for k in keys}
        for post in thread.posts[start - 1 :]:
            if self.delay:
                time.sleep(self.delay)
            if self.before_post is not None:
                self.before_post(post.index)
            key = by_index[post.index].key
            fault = self._fault(post.index)
            if fault in ("transient", "unclear", "rate-limited", "permanent", "auth"):
                self._raise(fault, post.index)
            if fault == "warn":
                self.warnings.append(
                    Problem(
                        severity="warning",
                        code="link-card-failed",
                        message=f"post {post.index}: no link card: connection refused",
                        platform=self.platform,
                        post=post.index,
                    )
                )
            remote_id = self.server.commit(
                self.platform,
                key,
                post.index,
                post.text,
                parent.remote_id if parent else None,
                root.remote_id if root else None,
            )
            if fault == "lost-response":
                raise UnclearOutcome(
                    "the connection was reset before the answer came",
                    platform=self.platform,
                    post=post.index,
                )
            if fault == "crash":
                raise Crash(f"killed after the server committed post {post.index}")
            if fault == "unexpected":
                raise RuntimeError(f"cannot read the answer to post {post.index}")
            ref = PostRef(
                platform=self.platform,
                index=post.index,
                remote_id=remote_id,
                url=f"https://{self.platform}.example/{remote_id}",
                cid=f"cid-{remote_id}" if self.platform == "bluesky" else None,
            )
            confirm([ref])
            if fault == "doubts":
                raise LandedWithDoubts(
                    f"the server's CID of post {post.index} differs from the computed one",
                    platform=self.platform,
                    post=post.index,
                )
            root = root or ref
            parent = ref

    def find_published(
        self,
        keys: Sequence[PostKey],
        *,
        thread: Thread | None = None,
        parent: PostRef | None = None,
    ) -> list[PostRef | None]:
        self.calls.append(("find", [k.index for k in keys]))
        self.lookups.append(
            (keys[0].index, parent.remote_id if parent else None, thread is not None)
        )
        found: list[PostRef | None] = []
        for key in keys:
            remote_id = self.server.find(self.platform, key.key)
            found.append(
                PostRef(
                    platform=self.platform,
                    index=key.index,
                    remote_id=remote_id,
                    url=f"https://{self.platform}.example/{remote_id}",
                )
                if remote_id
                else None
            )
        return found

    def delete(self, refs: Sequence[PostRef]) -> None:
        self.calls.append(("delete", [r.index for r in refs]))
        for ref in refs:
            self.server.delete(ref.remote_id)

    def close(self) -> None:
        """The Publisher protocol's close(): nothing to release, only counted."""
        self.closed = getattr(self, "closed", 0) + 1

    def _fault(self, index: int) -> FaultKind | None:
        for fault in self.faults:
            if fault.post == index and fault.times > 0:
                fault.times -= 1
                return fault.kind
        return None

    def _raise(self, kind: FaultKind, index: int) -> None:
        p = self.platform
        if kind == "transient":
            raise TransientError("connection refused", platform=p, post=index)
        if kind == "unclear":
            raise UnclearOutcome("timed out waiting for the server", platform=p, post=index)
        if kind == "rate-limited":
            fault = next(f for f in self.faults if f.post == index)
            raise RateLimited(
                "rate limited", platform=p, post=index, reset_at=datetime.now(UTC) + fault.reset_in
            )
        if kind == "permanent":
            raise PermanentError(
                "Validation failed: Text character limit exceeded", platform=p, post=index
            )
        raise AuthFailed("the access token was revoked", platform=p, post=index)


def make_thread(platform: PlatformName = "mastodon", n: int = 5, tag: str = "") -> Thread:
    """A planned thread of `n` short posts."""
    limits = BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
    posts = tuple(
        PlannedPost(
            index=i,
            text=f"Post {i}{tag} {i}/{n}",
            length=12,
            bytes=12,
            facets=(Facet("tag", 0, 4, "Post"),) if i == 1 else (),
            images=(),
            source_post=i,
            source_line=i * 3,
        )
        for i in range(1, n + 1)
    )
    return Thread(platform=platform, limits=limits, posts=posts, lang="fr", spoiler_text=None)


def install_fake_network(
    monkeypatch: pytest.MonkeyPatch, server: FakeServer
) -> dict[str, FakePublisher]:
    """Put a `FakePublisher` per network on `server` behind `platforms.open_publisher`, with
    each network's fixed limits, so the real CLI publishes without a network."""
    publishers = {
        "mastodon": FakePublisher("mastodon", server),
        "bluesky": FakePublisher("bluesky", server),
    }
    monkeypatch.setattr(
        platforms, "open_publisher", lambda platform, settings: publishers[platform]
    )
    monkeypatch.setattr(
        platforms,
        "limits_for",
        lambda platform, settings, offline: (
            BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
        ),
    )
    return publishers
