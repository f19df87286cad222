"""The saved Bluesky session: one 0600 file per service + handle in the state directory.

A cron run reuses it (and the refreshed tokens saved after it) instead of calling
createSession, which the servers limit (30 per 5 minutes, 300 per day on a PDS; about 100
per day on bsky.social). The session string holds the access and refresh tokens: it is
never printed, logged or put in an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from threadpost.private_files import write_private_file

SESSION_DIR_NAME: Final = "bluesky"
_FORMAT: Final = 1


@dataclass(frozen=True)
class SavedSession:
    """A session as saved: who it is for, and the session string (secret; the SDK's format,
    see `BlueskySession`)."""

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
    write_private_file(path, payload)
    return path


# -- the session itself ------------------------------------------------------------------------

_SEPARATOR: Final = ":::"


@dataclass(frozen=True)
class BlueskySession:
    """A logged-in session: the tokens and where the account's PDS is.

    Its string form is the atproto SDK's session string (`handle:::did:::access:::refresh:::
    pds`), so sessions saved by earlier versions (through the SDK) still load, and the other
    way round; the SDK itself is not needed to use one."""

    handle: str
    did: str
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)
    #: The account's PDS (from its DID document), or the service logged in to; None: unknown.
    pds_endpoint: str | None = None

    def export(self) -> str:
        """The session string (secret: it holds both tokens)."""
        return _SEPARATOR.join(
            [self.handle, self.did, self.access_jwt, self.refresh_jwt, self.pds_endpoint or ""]
        )

    @classmethod
    def decode(cls, session_string: str) -> BlueskySession:
        """Read a session string (the SDK's, with or without the PDS field); ValueError if
        it is not one."""
        fields = session_string.split(_SEPARATOR)
        if len(fields) == 4:
            # The SDK's older format, from before it kept the PDS (it then assumed bsky.social).
            fields.append("https://bsky.social")
        if len(fields) != 5 or not all(fields[:4]):
            raise ValueError("not a Bluesky session string")
        handle, did, access, refresh, pds = fields
        return cls(handle, did, access, refresh, pds or None)

    def access_expiry(self) -> datetime:
        """When the access token expires (ValueError when it cannot be read)."""
        return jwt_expiry(self.access_jwt)


def jwt_expiry(token: str) -> datetime:
    """The `exp` of a JWT's payload (not verified: only the server can, and it will)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, KeyError, TypeError, ValueError, OverflowError, binascii.Error):
        raise ValueError("the token carries no readable expiry") from None


def session_from_answer(answer: Mapping[str, Any], service: str) -> BlueskySession:
    """The session of a createSession / refreshSession answer; the PDS from its DID
    document when it names one (as the SDK does), else `service`."""
    try:
        return BlueskySession(
            handle=str(answer["handle"]),
            did=str(answer["did"]),
            access_jwt=str(answer["accessJwt"]),
            refresh_jwt=str(answer["refreshJwt"]),
            pds_endpoint=pds_endpoint(answer.get("didDoc")) or service,
        )
    except KeyError as exc:
        raise ValueError(f"the session answer has no {exc.args[0]}") from None


def pds_endpoint(did_doc: Any) -> str | None:
    """The `#atproto_pds` service endpoint of a DID document, if it has one."""
    if not isinstance(did_doc, Mapping):
        return None
    services = did_doc.get("service")
    if not isinstance(services, list):
        return None
    for service in services:
        if (
            isinstance(service, Mapping)
            and str(service.get("id", "")).endswith("#atproto_pds")
            and service.get("type") == "AtprotoPersonalDataServer"
            and isinstance(service.get("serviceEndpoint"), str)
        ):
            return str(service["serviceEndpoint"])
    return None
