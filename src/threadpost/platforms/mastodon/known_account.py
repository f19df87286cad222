"""Which account a Mastodon token belongs to, remembered in the state directory.

Every publish needs the account (`username@host`, part of each post's Idempotency-Key) before
its first status; asking the instance (verify_credentials) costs a round trip each time. A
token always names the same account, so the answer is kept after the first time, keyed by a
hash of instance + token (the token itself is not stored here). A revoked token is still
found out: the first status it sends is refused (401, nothing posted).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from threadpost.atomic_write import write_atomically

KNOWN_ACCOUNTS_FILE: Final = "mastodon-accounts.json"
#: Accounts kept at most (one per token used; old entries dropped first).
MAX_KNOWN: Final = 32


@dataclass(frozen=True)
class KnownAccount:
    """A token's account: `username@host` and the instance's account id."""

    name: str
    number: str


def _key(instance: str, token: str) -> str:
    digest = hashlib.sha256(f"{instance.rstrip('/').lower()}\n{token}".encode())
    return digest.hexdigest()[:32]


def _load(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def known_account(state_dir: Path, instance: str, token: str) -> KnownAccount | None:
    """The account remembered for this instance + token, or None."""
    entry = _load(state_dir / KNOWN_ACCOUNTS_FILE).get(_key(instance, token))
    if not isinstance(entry, dict):
        return None
    name, number = entry.get("name"), entry.get("number")
    if not isinstance(name, str) or not isinstance(number, str) or not name or not number:
        return None
    return KnownAccount(name, number)


def remember_account(state_dir: Path, instance: str, token: str, account: KnownAccount) -> None:
    """Keep `account` as the one of this instance + token (file mode 0600)."""
    path = state_dir / KNOWN_ACCOUNTS_FILE
    known = _load(path)
    key = _key(instance, token)
    known.pop(key, None)
    known[key] = {"name": account.name, "number": account.number}
    while len(known) > MAX_KNOWN:
        known.pop(next(iter(known)))
    write_atomically(path, json.dumps(known), private=True)
