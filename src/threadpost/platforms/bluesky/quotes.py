"""Quote posts on Bluesky, pure: which addresses name a Bluesky post, and the embeds that
quote one (`app.bsky.embed.record`, or `recordWithMedia` with the post's images).

A draft post's `> quote <address>` line names the quoted post as the app shows it
(`https://bsky.app/profile/<handle or DID>/post/<rkey>`) or as an at:// URI
(`at://<DID or handle>/app.bsky.feed.post/<rkey>`). The embed needs a strong ref
{uri, cid}: the publisher resolves the handle to a DID and reads the record's CID before
anything is sent (`BlueskyPublisher._resolve_quotes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

POST_COLLECTION: Final = "app.bsky.feed.post"
RECORD_EMBED: Final = "app.bsky.embed.record"
RECORD_WITH_MEDIA_EMBED: Final = "app.bsky.embed.recordWithMedia"

_ACTOR: Final = r"(?P<actor>did:[a-z]+:[A-Za-z0-9._:%-]+|[A-Za-z0-9.-]+\.[A-Za-z0-9-]+)"
_RKEY: Final = r"(?P<rkey>[A-Za-z0-9._:~-]{1,512})"
_WEB_POST: Final = re.compile(
    rf"^https://(?:www\.)?bsky\.app/profile/{_ACTOR}/post/{_RKEY}/?(?:[?#].*)?$"
)
_AT_POST: Final = re.compile(rf"^at://{_ACTOR}/{re.escape(POST_COLLECTION)}/{_RKEY}$")


@dataclass(frozen=True)
class QuotedPost:
    """A Bluesky post named by an address: its account (DID or handle) and record key."""

    actor: str
    rkey: str

    @property
    def is_did(self) -> bool:
        return self.actor.startswith("did:")

    def uri(self, did: str | None = None) -> str:
        """Its at:// URI, with the account's DID when known (strong refs name the DID)."""
        return f"at://{did or self.actor}/{POST_COLLECTION}/{self.rkey}"


def quoted_post(address: str) -> QuotedPost | None:
    """The Bluesky post `address` names (a bsky.app post URL or an at:// post URI), or None
    when it names none (another site, a profile, another collection)."""
    match = _WEB_POST.match(address) or _AT_POST.match(address)
    if match is None:
        return None
    return QuotedPost(actor=match.group("actor"), rkey=match.group("rkey"))


def record_embed(ref: Mapping[str, str], media: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The embed quoting the post `ref` ({uri, cid}): `app.bsky.embed.record`, or with
    `media` (an images embed) `app.bsky.embed.recordWithMedia`, as the app writes them."""
    record = {"$type": RECORD_EMBED, "record": {"uri": ref["uri"], "cid": ref["cid"]}}
    if media is None:
        return record
    return {"$type": RECORD_WITH_MEDIA_EMBED, "record": record, "media": dict(media)}
