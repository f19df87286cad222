"""What `threadpost login` saved in the state dir, as config.py's last source of credentials.

Mastodon: the access token (a 0600 JSON file). Bluesky: which account logged in (service
and handle, no secret; the session itself is in platforms/bluesky/session.py), so that a
cron job, which has none of the shell's THREADPOST_* variables, knows whose session to use.

A leaf (standard library + private_files): config.py reads these without importing any
network module (config sits below the platforms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from threadpost.atomic_write import write_atomically

CREDENTIALS_FILE: Final = "mastodon-credentials.json"
BLUESKY_ACCOUNT_FILE: Final = "bluesky-account.json"


@dataclass(frozen=True)
class SavedLogin:
    """What `login mastodon` stored."""

    instance: str
    access_token: str = field(repr=False)
    account: str | None = None


def account_login_dir(state_dir: Path, account: str | None) -> Path:
    """Where the saved logins of `account` live: the state dir itself for the default
    account (None), `accounts/NAME/` inside it for a named one. Pass the result as the
    `state_dir` of the functions below. (Bluesky sessions need no folder of their own:
    they are keyed by service and handle already.)"""
    return state_dir if account is None else state_dir / "accounts" / account


def credentials_path(state_dir: Path) -> Path:
    """Where the saved login lives in the state directory."""
    return state_dir / CREDENTIALS_FILE


def load_credentials(state_dir: Path) -> SavedLogin | None:
    """The saved login, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(credentials_path(state_dir).read_text(encoding="utf-8"))
        return SavedLogin(
            instance=str(data["instance"]),
            access_token=str(data["access_token"]),
            account=data.get("account"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_credentials(state_dir: Path, login: SavedLogin) -> Path:
    """Write the login with file mode 0600 (atomically: never a readable half-file)."""
    path = credentials_path(state_dir)
    payload = json.dumps(
        {
            "instance": login.instance,
            "access_token": login.access_token,
            "account": login.account,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        indent=1,
    )
    write_atomically(path, payload, private=True)
    return path


@dataclass(frozen=True)
class SavedBlueskyAccount:
    """The account `login bluesky` last logged in to (no secret in it)."""

    service: str
    handle: str


def save_bluesky_account(state_dir: Path, account: SavedBlueskyAccount) -> Path:
    """Remember which Bluesky account logged in (0600 like every file in the state dir)."""
    path = state_dir / BLUESKY_ACCOUNT_FILE
    payload = json.dumps({"service": account.service, "handle": account.handle})
    write_atomically(path, payload, private=True)
    return path


def load_bluesky_account(state_dir: Path) -> SavedBlueskyAccount | None:
    """The account `login bluesky` saved, or None (none, or unreadable)."""
    try:
        data = json.loads((state_dir / BLUESKY_ACCOUNT_FILE).read_text(encoding="utf-8"))
        return SavedBlueskyAccount(service=str(data["service"]), handle=str(data["handle"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
