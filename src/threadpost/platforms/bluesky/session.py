"""The saved Bluesky session: one 0600 file per service + handle in the state directory.

A cron run reuses it (and the refreshed tokens saved after it) instead of calling
createSession, which the servers limit (30 per 5 minutes, 300 per day on a PDS; about 100
per day on bsky.social). The session string holds the access and refresh tokens: it is
never printed, logged or put in an exception.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from threadpost.atomic_write import write_atomically

SESSION_DIR_NAME: Final = "bluesky"
_FORMAT: Final = 1


@dataclass(frozen=True)
class SavedSession:
    """A session as saved: who it is for, and the SDK's session string (secret)."""

    service: str
    handle: str
    did: str
    session_string: str = field(repr=False)


def session_path(state_dir: Path, service: str, handle: str) -> Path:
    """Where the session of `handle` on `service` is kept."""
    key = f"{service.rstrip('/').lower()}\n{handle.lower().removeprefix('@')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    safe = "".join(char if char.isalnum() or char in ".-" else "_" for char in handle.lower())
    return state_dir / SESSION_DIR_NAME / f"session-{safe}-{digest}.json"


def load_session(state_dir: Path, service: str, handle: str) -> SavedSession | None:
    """The saved session for this service + handle, or None (absent, unreadable, other)."""
    path = session_path(state_dir, service, handle)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    try:
        saved = SavedSession(
            service=str(data["service"]),
            handle=str(data["handle"]),
            did=str(data["did"]),
            session_string=str(data["session"]),
        )
    except KeyError:
        return None
    if saved.service.rstrip("/").lower() != service.rstrip("/").lower():
        return None
    return saved


def save_session(state_dir: Path, saved: SavedSession, *, handle: str | None = None) -> Path:
    """Write the session atomically with mode 0600 (directory 0700); return its path.

    `handle` is the configured handle the file is keyed by (default: the session's own).
    """
    path = session_path(state_dir, saved.service, handle or saved.handle)
    payload = json.dumps(
        {
            "format": _FORMAT,
            "service": saved.service,
            "handle": saved.handle,
            "did": saved.did,
            "session": saved.session_string,
        }
    )
    write_atomically(path, payload, private=True)
    return path
