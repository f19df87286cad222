"""The saved Bluesky session: one 0600 file per service + handle in the state directory.

A cron run reuses it (and the refreshed tokens saved after it) instead of calling
createSession, which the servers limit (30 per 5 minutes, 300 per day on a PDS; about 100
per day on bsky.social). The session string holds the access and refresh tokens: it is
never printed, logged or put in an exception.

The session string keeps the layout the atproto SDK exports (and earlier threadpost
releases saved through it): `handle:::did:::accessJwt:::refreshJwt:::pdsEndpoint`, the
endpoint possibly ending in `/xrpc`; a four-field string has no endpoint. Files written
before and after the SDK left the publishing path read the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from threadpost.atomic_write import write_atomically

SESSION_DIR_NAME: Final = "bluesky"
_FORMAT: Final = 1
_SEPARATOR: Final = ":::"


class SessionUnreadable(ValueError):
    """A session string or token that cannot be read (damaged, another format); the caller
    treats it as no session at all. Its text never quotes the string."""


@dataclass(frozen=True)
class Session:
    """A logged-in session: whose it is, its tokens, and the PDS that serves the account
    (None: the configured service). The tokens are secrets: never in repr."""

    handle: str
    did: str
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)
    pds_endpoint: str | None = None

    def encode(self) -> str:
        """The session string saved in the file (the SDK's layout, see the module doc)."""
        fields = [self.handle, self.did, self.access_jwt, self.refresh_jwt]
        if self.pds_endpoint:
            fields.append(self.pds_endpoint)
        return _SEPARATOR.join(fields)

    @classmethod
    def decode(cls, text: str) -> Session:
        """The session a saved string holds; `SessionUnreadable` when it is not one."""
        fields = text.split(_SEPARATOR)
        if len(fields) not in (4, 5) or not all(fields[:4]):
            raise SessionUnreadable("not a session string")
        endpoint = fields[4] if len(fields) == 5 and fields[4] else None
        return cls(fields[0], fields[1], fields[2], fields[3], endpoint)

    def access_expiry(self) -> datetime:
        """When the access token expires (its `exp` claim; the signature is the server's
        business). `SessionUnreadable` when the token has no readable expiry."""
        return jwt_expiry(self.access_jwt)

    def base_url(self, service: str) -> str:
        """Where this account's calls go: its PDS, else `service` (no trailing /xrpc)."""
        url = (self.pds_endpoint or service).rstrip("/")
        return url.removesuffix("/xrpc").rstrip("/")


def jwt_expiry(token: str) -> datetime:
    """The `exp` claim of a JWT, unverified (a client only needs to know when to refresh)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SessionUnreadable("not a JWT")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise TypeError
        return datetime.fromtimestamp(exp, UTC)
    except (ValueError, TypeError, KeyError, OverflowError, OSError, binascii.Error):
        raise SessionUnreadable("the token has no readable expiry") from None


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
