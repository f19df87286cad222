"""Link cards kept on this machine, so that a preview shows a card as it will appear
without fetching the page: one JSON file per link in the state directory's `link-cards/`.

`watch --online` fills it (each link fetched once, bounded by `linkcard.fetch_link_card`);
every preview reads it, offline included. A card is the page's own OpenGraph data, so it
stands for both networks: the Mastodon instance reads the same tags to make its card.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from threadpost.atomic_write import write_atomically
from threadpost.linkcard import LinkCard, LinkCardError, fetch_link_card

CARD_DIR: Final = "link-cards"
#: Links fetched at the same time when the cache is filled.
MAX_CONCURRENT_FETCHES: Final = 4

#: Finds the cached card of a link (None: none cached).
CardSource = Callable[[str], "CachedCard | None"]


@dataclass(frozen=True)
class CachedCard:
    """A link's card as fetched: the page's title, description and thumbnail."""

    uri: str
    title: str
    description: str
    image: bytes | None = field(default=None, repr=False)
    image_mime: str | None = None
    fetched_at: datetime | None = None

    @property
    def image_data_uri(self) -> str | None:
        """The thumbnail as a data: URI (None without one)."""
        if self.image is None or not self.image_mime:
            return None
        return f"data:{self.image_mime};base64,{base64.b64encode(self.image).decode('ascii')}"


def card_path(state_dir: Path, uri: str) -> Path:
    """Where the card of `uri` is kept."""
    return state_dir / CARD_DIR / f"{hashlib.sha256(uri.encode()).hexdigest()[:32]}.json"


def load_card(state_dir: Path, uri: str) -> CachedCard | None:
    """The cached card of `uri`, or None (none cached, or the file is unreadable)."""
    try:
        data = json.loads(card_path(state_dir, uri).read_text(encoding="utf-8"))
        if data.get("uri") != uri:
            return None  # a hash collision, or a file written for another link
        image = base64.b64decode(data["image"]) if data.get("image") else None
        return CachedCard(
            uri=uri,
            title=str(data.get("title") or ""),
            description=str(data.get("description") or ""),
            image=image,
            image_mime=data.get("image_mime") if image else None,
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save_card(state_dir: Path, card: LinkCard, now: datetime | None = None) -> Path:
    """Keep `card` (atomically: a reader never sees half a file)."""
    path = card_path(state_dir, card.uri)
    payload = {
        "uri": card.uri,
        "title": card.title,
        "description": card.description,
        "image": base64.b64encode(card.image).decode("ascii") if card.image else None,
        "image_mime": card.image_mime,
        "fetched_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    write_atomically(path, json.dumps(payload))
    return path


def cached_cards(state_dir: Path) -> CardSource:
    """A card source reading the cache (each link's file read once per source)."""
    seen: dict[str, CachedCard | None] = {}

    def source(uri: str) -> CachedCard | None:
        if uri not in seen:
            seen[uri] = load_card(state_dir, uri)
        return seen[uri]

    return source


def fill_cache(
    state_dir: Path,
    uris: Iterable[str],
    *,
    fetch: Callable[[str], LinkCard] = fetch_link_card,
) -> dict[str, str]:
    """Fetch and keep the cards of the `uris` not cached yet; the reason for each that
    could not be made (by URI)."""
    wanted = [uri for uri in dict.fromkeys(uris) if load_card(state_dir, uri) is None]
    if not wanted:
        return {}

    def one(uri: str) -> str | None:
        try:
            card = fetch(uri)
        except LinkCardError as exc:
            return str(exc)
        try:
            save_card(state_dir, card)
        except OSError as exc:
            return f"{uri}: cannot keep the card: {exc.strerror or exc}"
        return None

    from concurrent.futures import ThreadPoolExecutor  # with logging: ~3 ms, when needed

    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_FETCHES, len(wanted))) as pool:
        results = list(pool.map(one, wanted))
    return {uri: reason for uri, reason in zip(wanted, results, strict=True) if reason}
