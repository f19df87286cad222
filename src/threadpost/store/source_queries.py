"""Queries on what a thread was made from (schema 4): the hashes of its draft's bytes and
images when it was frozen, whether it was frozen with `--again`, and each network's
fingerprint of the planned posts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from threadpost.store.core import LedgerCore

if TYPE_CHECKING:
    from threadpost.values import PlatformName


@dataclass(frozen=True)
class ThreadSource:
    """What a thread's frozen plans were made from."""

    content_hash: str
    #: None for a thread frozen before schema 4 (not known, so never "changed").
    images_hash: str | None
    #: Frozen with `--again`: a repeat of published content the author asked for.
    again: bool
    #: Per network, the fingerprint of the planned posts (None where not known).
    fingerprints: Mapping[PlatformName, str | None]


@dataclass(frozen=True)
class EarlierPublication:
    """A thread whose posts on `platform` are already online with the same fingerprint."""

    thread_id: str
    draft_path: str
    platform: PlatformName
    #: The address of its first post there (None while it is only scheduled).
    url: str | None
    #: Not online yet: waiting to be published (scheduled, or started on another network).
    waiting: bool = False


class SourceQueries(LedgerCore):
    """Source hashes and fingerprints: recorded when a thread is frozen (or re-planned just
    before sending), compared when another is frozen."""

    def record_source(
        self,
        thread_id: str,
        *,
        images_hash: str,
        fingerprints: Mapping[PlatformName, str],
        again: bool | None = None,
    ) -> None:
        """Store the images hash and the fingerprints (and, when given, the `--again` flag).
        Values already stored are not written again: a publish re-records the source it
        froze a moment before, and an unchanged write would still cost a commit."""
        if self._stored(thread_id, images_hash, fingerprints, again):
            return
        with self.transaction():
            self.conn.execute(
                "UPDATE threads SET images_hash = ?, again = coalesce(?, again) WHERE id = ?",
                (images_hash, None if again is None else int(again), thread_id),
            )
            for platform, fingerprint in fingerprints.items():
                self.conn.execute(
                    "UPDATE platforms SET fingerprint = ? WHERE thread_id = ? AND platform = ?",
                    (fingerprint, thread_id, platform),
                )

    def _stored(
        self,
        thread_id: str,
        images_hash: str,
        fingerprints: Mapping[PlatformName, str],
        again: bool | None,
    ) -> bool:
        """Whether the thread's row already holds these values (False if it has none)."""
        row = self._rows("SELECT images_hash, again FROM threads WHERE id = ?", (thread_id,))
        if not row or row[0]["images_hash"] != images_hash:
            return False
        if again is not None and bool(row[0]["again"]) != again:
            return False
        prints = self._rows(
            "SELECT platform, fingerprint FROM platforms WHERE thread_id = ?", (thread_id,)
        )
        stored = {r["platform"]: r["fingerprint"] for r in prints}
        return all(stored.get(platform) == value for platform, value in fingerprints.items())

    def source(self, thread_id: str) -> ThreadSource:
        """What the thread was made from."""
        row = self._rows(
            "SELECT content_hash, images_hash, again FROM threads WHERE id = ?", (thread_id,)
        )[0]
        prints = self._rows(
            "SELECT platform, fingerprint FROM platforms WHERE thread_id = ?", (thread_id,)
        )
        return ThreadSource(
            content_hash=row["content_hash"],
            images_hash=row["images_hash"],
            again=bool(row["again"]),
            fingerprints={r["platform"]: r["fingerprint"] for r in prints},
        )

    def published_with_fingerprint(
        self, platform: PlatformName, fingerprint: str, *, other_than: str | None = None
    ) -> list[EarlierPublication]:
        """Threads (but `other_than`) with posts online on `platform` whose planned posts
        there had this fingerprint, oldest first. Online: at least one post confirmed and
        not deleted, whatever the thread's state (a thread given up halfway is partly
        online)."""
        rows = self._rows(
            "SELECT t.id, t.draft_path, (SELECT url FROM posts q WHERE q.thread_id = t.id"
            " AND q.platform = p.platform AND q.state = 'confirmed' ORDER BY q.idx LIMIT 1)"
            " AS url FROM threads t JOIN platforms p ON p.thread_id = t.id"
            " WHERE p.platform = ? AND p.fingerprint = ? AND t.id != ?"
            " AND EXISTS (SELECT 1 FROM posts q WHERE q.thread_id = t.id"
            " AND q.platform = p.platform AND q.state = 'confirmed')"
            " ORDER BY t.created_at",
            (platform, fingerprint, other_than or ""),
        )
        return [
            EarlierPublication(
                thread_id=row["id"], draft_path=row["draft_path"], platform=platform, url=row["url"]
            )
            for row in rows
        ]

    def waiting_with_fingerprint(
        self, platform: PlatformName, fingerprint: str, *, other_than: str | None = None
    ) -> list[EarlierPublication]:
        """Threads (but `other_than`) still to publish on `platform` whose planned posts there
        have this fingerprint (scheduled or unfinished, nothing of them online there yet),
        oldest first."""
        rows = self._rows(
            "SELECT t.id, t.draft_path FROM threads t JOIN platforms p ON p.thread_id = t.id"
            " WHERE p.platform = ? AND p.fingerprint = ? AND t.id != ?"
            " AND t.state IN ('scheduled', 'incomplete') AND p.state IN ('pending', 'incomplete')"
            " ORDER BY t.created_at",
            (platform, fingerprint, other_than or ""),
        )
        return [
            EarlierPublication(
                thread_id=row["id"],
                draft_path=row["draft_path"],
                platform=platform,
                url=None,
                waiting=True,
            )
            for row in rows
        ]
