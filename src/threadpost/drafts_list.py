"""`threadpost drafts`: the drafts folder at a glance — each draft's state and post counts.

The state comes from the ledger, read only through `threadpost.store`'s public API
(`open_ledger`, `Ledger.threads(draft_path=…)`, `Ledger.platforms`, `Ledger.posts`); the
counts from planning the draft offline. A ledger that does not exist yet is not created:
every draft is then new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpost.check import plan_draft
from threadpost.draft import read_draft
from threadpost.errors import ThreadpostError, UsageError
from threadpost.store import Ledger, ThreadRecord, open_ledger

if TYPE_CHECKING:
    from threadpost.config import Settings

#: The draft file names listed (as `new` and `import` write them).
DRAFT_SUFFIX = ".md"


@dataclass(frozen=True)
class DraftEntry:
    """One draft of the folder, as `drafts` lists it."""

    path: Path
    title: str | None
    #: "new" (never queued), or the ledger's state of its latest thread: "scheduled",
    #: "incomplete", "published", "failed", "cancelled", "skipped", "deleted".
    state: str
    #: Posts per network as planned now (empty when the draft cannot be read).
    posts: dict[str, int]
    thread_id: str | None = None
    #: When a scheduled thread is due (UTC).
    schedule_at: datetime | None = None
    #: The first post's address on each network, once published.
    urls: dict[str, str] | None = None
    #: Why it failed (the ledger's last error), or why the draft cannot be read.
    error: str | None = None
    #: True when the file changed since the ledger's thread was made from it.
    edited: bool = False

    def to_json(self) -> dict[str, Any]:
        """The entry in `drafts --json`."""
        return {
            "path": str(self.path),
            "title": self.title,
            "state": self.state,
            "thread": self.thread_id,
            "schedule_utc": self.schedule_at.isoformat() if self.schedule_at else None,
            "posts": self.posts,
            "urls": self.urls or {},
            "error": self.error,
            "edited_since": self.edited,
        }


def draft_files(folder: Path) -> list[Path]:
    """The drafts in `folder` (not its subfolders), by name."""
    if not folder.is_dir():
        raise UsageError(
            f"{folder}: no such folder" if not folder.exists() else f"{folder}: is not a folder"
        )
    return sorted(
        (p for p in folder.iterdir() if p.suffix.lower() == DRAFT_SUFFIX and p.is_file()),
        key=lambda p: p.name,
    )


def list_drafts(folder: Path, settings: Settings) -> list[DraftEntry]:
    """Every draft of `folder` with its state in the ledger and its post counts."""
    files = draft_files(folder)
    ledger = open_ledger(settings.db_path) if settings.db_path.exists() else None
    try:
        return [_entry(path, settings, ledger) for path in files]
    finally:
        if ledger is not None:
            ledger.close()


def _entry(path: Path, settings: Settings, ledger: Ledger | None) -> DraftEntry:
    title: str | None = None
    posts: dict[str, int] = {}
    problem: str | None = None
    content_hash: str | None = None
    try:
        draft = read_draft(path)
        title = draft.front.title
        content_hash = draft.content_hash
        posts = {
            name: len(thread.posts)
            for name, thread in plan_draft(draft, settings, offline=True).items()
        }
    except ThreadpostError as error:
        problem = error.message
    record = latest_thread(ledger, path) if ledger is not None else None
    if record is None:
        return DraftEntry(path, title, "new", posts, error=problem)
    return DraftEntry(
        path,
        title or record.title,
        record.state,
        posts,
        thread_id=record.id,
        schedule_at=record.schedule_at if record.state == "scheduled" else None,
        urls=first_post_urls(ledger, record) if ledger is not None else None,
        error=problem or (record.last_error if record.state == "failed" else None),
        edited=content_hash is not None and content_hash != record.content_hash,
    )


def latest_thread(ledger: Ledger, path: Path) -> ThreadRecord | None:
    """The ledger's most recent thread made from the draft at `path` (stored resolved).

    A query the ledger has no function for, written over its public `threads()`."""
    records = ledger.threads(draft_path=str(path.resolve()))
    return max(records, key=lambda r: r.created_at) if records else None


def first_post_urls(ledger: Ledger, record: ThreadRecord) -> dict[str, str]:
    """Each network's address of the thread's first post, where it was published."""
    urls: dict[str, str] = {}
    for platform in record.platforms:
        for post in ledger.posts(record.id, platform):
            if post.url and post.state == "confirmed":
                urls[platform] = post.url
                break
    return urls


def drafts_to_json(entries: Sequence[DraftEntry], folder: Path) -> dict[str, Any]:
    """The `drafts --json` object."""
    return {"folder": str(folder), "drafts": [entry.to_json() for entry in entries]}
