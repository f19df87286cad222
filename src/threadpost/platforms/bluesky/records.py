"""Bluesky records, built without the network: post records, TIDs, CIDs, strong refs.

Pure functions (plus a process-wide TID clock). The adapter (`publisher.py`) resolves mentions,
uploads blobs and fetches link cards, then hands the results to `post_record`; the dry run
calls `draft_records` with placeholders for what only the network can tell.

Nothing here imports atproto; CIDs come from libipld (light: ~1 ms to import).
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import libipld

from threadpost.platforms.bluesky.labels import self_labels_field
from threadpost.platforms.bluesky.replies import reply_refs

if TYPE_CHECKING:
    from threadpost.thread import Facet, PlannedPost, Thread

POST_COLLECTION: Final = "app.bsky.feed.post"
#: Lexicon caps that the records must respect (the planner enforces the text limits).
MAX_LANGS: Final = 3
MAX_WRITES_PER_CALL: Final = 200

_B32_SORTABLE: Final = "234567abcdefghijklmnopqrstuvwxyz"
_TID_LENGTH: Final = 13
_FEATURE_TYPES: Final = {
    "link": "app.bsky.richtext.facet#link",
    "mention": "app.bsky.richtext.facet#mention",
    "tag": "app.bsky.richtext.facet#tag",
}
_CID_PREFIX: Final = b"\x01\x71\x12\x20"  # CIDv1, dag-cbor, sha2-256, 32 bytes


# --------------------------------------------------------------------------------------
# TIDs


def tid_from_parts(micros: int, clock_id: int) -> str:
    """The 13-character TID of a µs timestamp (53 bits) and a clock id (10 bits)."""
    if not 0 <= micros < (1 << 53):
        raise ValueError(f"TID timestamp out of range: {micros}")
    if not 0 <= clock_id < (1 << 10):
        raise ValueError(f"TID clock id out of range: {clock_id}")
    value = (micros << 10) | clock_id
    return "".join(_B32_SORTABLE[(value >> (5 * i)) & 31] for i in reversed(range(_TID_LENGTH)))


def tid_parts(tid: str) -> tuple[int, int]:
    """(µs timestamp, clock id) of a TID; ValueError when `tid` is not one."""
    if not is_tid(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | _B32_SORTABLE.index(char)
    return value >> 10, value & 0x3FF


def is_tid(text: str) -> bool:
    """True for a syntactically valid TID (13 sortable-base32 chars, top bit clear)."""
    return (
        len(text) == _TID_LENGTH
        and all(char in _B32_SORTABLE for char in text)
        # The first character carries the (zero) top bit: only the first 16 symbols.
        and text[0] in _B32_SORTABLE[:16]
    )


class TidClock:
    """Strictly increasing TIDs within a process (µs wall clock, bumped on ties).

    The clock id is random per process so that two processes minting in the same
    microsecond still differ.
    """

    def __init__(self, clock_id: int | None = None) -> None:
        self.clock_id = clock_id if clock_id is not None else int.from_bytes(os.urandom(2)) & 0x3FF
        self._last = 0
        self._lock = threading.Lock()

    def next_micros(self, count: int = 1) -> int:
        """Reserve `count` consecutive timestamps; return the first."""
        with self._lock:
            first = max(time.time_ns() // 1000, self._last + 1)
            self._last = first + count - 1
            return first

    def next_tids(self, count: int) -> list[str]:
        """`count` fresh TIDs, each greater than every TID this clock made before."""
        first = self.next_micros(count)
        return [tid_from_parts(first + n, self.clock_id) for n in range(count)]


TID_CLOCK: Final = TidClock()


# --------------------------------------------------------------------------------------
# createdAt


def iso_millis(moment: datetime) -> str:
    """`2026-03-01T09:00:00.123Z`: the datetime format Bluesky clients write."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def created_at_sequence(start: datetime, count: int) -> list[str]:
    """`count` createdAt values 1 ms apart: identical timestamps mis-order a thread."""
    start = start.replace(microsecond=(start.microsecond // 1000) * 1000)
    return [iso_millis(start + timedelta(milliseconds=n)) for n in range(count)]


# --------------------------------------------------------------------------------------
# CIDs and references


def record_cid(record: Mapping[str, Any]) -> str:
    """CIDv1 (dag-cbor, sha2-256) of `record` exactly as sent as JSON, `$type` included."""
    digest = hashlib.sha256(libipld.encode_dag_cbor(_ipld(record))).digest()
    return str(libipld.encode_cid(_CID_PREFIX + digest))


def _ipld(value: Any) -> Any:
    """JSON data model → IPLD: `{"$link": cid}` → CID bytes, `{"$bytes": b64}` → bytes."""
    if isinstance(value, Mapping):
        if set(value) == {"$link"}:
            return libipld.decode_multibase(str(value["$link"]))[1]
        if set(value) == {"$bytes"}:
            text = str(value["$bytes"])
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return {str(key): _ipld(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_ipld(item) for item in value]
    if isinstance(value, float):
        raise ValueError("floats are not allowed in atproto records")
    return value


def at_uri(did: str, rkey: str, collection: str = POST_COLLECTION) -> str:
    """`at://<did>/<collection>/<rkey>`."""
    return f"at://{did}/{collection}/{rkey}"


def web_url(handle: str, rkey: str) -> str:
    """The post's address in the official app."""
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


def strong_ref(uri: str, cid: str) -> dict[str, str]:
    """A `com.atproto.repo.strongRef` (no `$type`: it is not a union member)."""
    return {"uri": uri, "cid": cid}


# --------------------------------------------------------------------------------------
# Embeds


@dataclass(frozen=True)
class UploadedImage:
    """An image blob as `uploadBlob` returned it, with what the embed needs."""

    blob: Mapping[str, Any]  # {"$type": "blob", "ref": {"$link": cid}, "mimeType", "size"}
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class LinkCardData:
    """What a link card shows (`app.bsky.embed.external`)."""

    uri: str
    title: str
    description: str
    thumb: Mapping[str, Any] | None = None  # an uploaded blob


def images_embed(images: Sequence[UploadedImage]) -> dict[str, Any]:
    """`app.bsky.embed.images` with alt text and aspect ratio."""
    items: list[dict[str, Any]] = []
    for image in images:
        item: dict[str, Any] = {"alt": image.alt, "image": dict(image.blob)}
        if image.width >= 1 and image.height >= 1:
            item["aspectRatio"] = {"width": image.width, "height": image.height}
        items.append(item)
    return {"$type": "app.bsky.embed.images", "images": items}


def external_embed(card: LinkCardData) -> dict[str, Any]:
    """`app.bsky.embed.external`: the link card."""
    external: dict[str, Any] = {
        "uri": card.uri,
        "title": card.title,
        "description": card.description,
    }
    if card.thumb is not None:
        external["thumb"] = dict(card.thumb)
    return {"$type": "app.bsky.embed.external", "external": external}


def blob_ref(cid: str, mime: str, size: int) -> dict[str, Any]:
    """The JSON form of a blob reference."""
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}


def card_link(post: PlannedPost) -> str | None:
    """The link a card is made for: the post's first link, when it has no images and
    quotes no post (the quote is the post's embed)."""
    if post.images or post.quote is not None:
        return None
    for facet in post.facets:
        if facet.kind == "link":
            return facet.value
    return None


# --------------------------------------------------------------------------------------
# Post records


@dataclass(frozen=True)
class DroppedMention:
    """A mention left as plain text because its handle has no DID."""

    post: int
    handle: str


def facet_records(
    facets: Sequence[Facet], mention_dids: Mapping[str, str | None]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Facets as the lexicon wants them, and the handles dropped for lack of a DID.

    `mention_dids` maps a handle (without "@", any case) to its DID, or None when it does
    not resolve; a handle absent from the map is dropped too.
    """
    out: list[dict[str, Any]] = []
    dropped: list[str] = []
    for facet in facets:
        feature: dict[str, Any] = {"$type": _FEATURE_TYPES[facet.kind]}
        if facet.kind == "link":
            feature["uri"] = facet.value
        elif facet.kind == "tag":
            feature["tag"] = facet.value
        else:
            did = mention_dids.get(facet.value.lower())
            if not did:
                dropped.append(facet.value)
                continue
            feature["did"] = did
        out.append(
            {
                "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
                "features": [feature],
            }
        )
    return out, dropped


def langs_for(lang: str | None) -> list[str] | None:
    """`langs` from the draft's `lang` ("fr", or "fr, en"); None to leave it out."""
    if not lang:
        return None
    tags = [part.strip() for part in lang.replace(";", ",").split(",") if part.strip()]
    return tags[:MAX_LANGS] or None


def post_record(
    post: PlannedPost,
    *,
    created_at: str,
    lang: str | None,
    mention_dids: Mapping[str, str | None],
    reply: tuple[Mapping[str, str], Mapping[str, str]] | None = None,
    embed: Mapping[str, Any] | None = None,
    labels: Sequence[str] = (),
) -> tuple[dict[str, Any], list[DroppedMention]]:
    """The `app.bsky.feed.post` record of one planned post, exactly as it will be sent.

    `reply` is (root, parent) strong refs; `labels` the self-labels (none: no field); the
    post's own `tags` become the record's (none: no field).
    Returns the record and the mentions left as plain text. The same inputs always give
    the same record (hence the same CID).
    """
    record: dict[str, Any] = {
        "$type": POST_COLLECTION,
        "text": post.text,
        "createdAt": created_at,
    }
    facets, dropped = facet_records(post.facets, mention_dids)
    if facets:
        record["facets"] = facets
    langs = langs_for(lang)
    if langs:
        record["langs"] = langs
    if reply is not None:
        root, parent = reply
        record["reply"] = {"root": dict(root), "parent": dict(parent)}
    if embed is not None:
        record["embed"] = dict(embed)
    if labels:
        record["labels"] = self_labels_field(labels)
    if post.tags:
        record["tags"] = list(post.tags)
    return record, [DroppedMention(post.index, handle) for handle in dropped]


def mention_handles(thread: Thread, start: int = 1) -> list[str]:
    """The distinct handles (lower case) mentioned in posts `start`..end, in order."""
    seen: dict[str, None] = {}
    for post in thread.posts[start - 1 :]:
        for facet in post.facets:
            if facet.kind == "mention":
                seen.setdefault(facet.value.lower(), None)
    return list(seen)


# --------------------------------------------------------------------------------------
# The dry run


#: What a dry run shows for what only the network can tell (`publish --dry-run`).
UNRESOLVED_DID: Final = "did:?:{handle}"
UNFETCHED_CARD_TITLE: Final = "(fetched when publishing)"


def draft_records(
    thread: Thread,
    *,
    now: datetime | None = None,
    mention_dids: Mapping[str, str] | None = None,
    cards: Mapping[str, LinkCardData] | None = None,
) -> list[dict[str, Any]]:
    """The records a publish would send, built without the network (for `publish --dry-run`).

    `mention_dids` and `cards` are what the dry run could look up (online); where they do
    not say, placeholders stand in: mention DIDs (`did:?:<handle>`), link cards showing
    the link only. Blob CIDs and the parents' record CIDs/URIs are always placeholders
    (computed from the placeholder records, so the reply structure is shown as it will
    be): only sending makes them.
    """
    # Only the dry run builds embeds here (the publisher makes its own from what it
    # uploads): publishing loads none of their media and quote modules for it.
    from threadpost.platforms.bluesky.gif_video import goes_as_video
    from threadpost.platforms.bluesky.quotes import quoted_post, record_embed
    from threadpost.platforms.bluesky.video import (
        placeholder_gif_video_embed,
        placeholder_video_embed,
    )
    from threadpost.videos import is_video

    known_dids = mention_dids or {}
    known_cards = cards or {}
    start = now or datetime.now(UTC)
    created = created_at_sequence(start, len(thread.posts))
    rkeys = [
        tid_from_parts(int(start.timestamp() * 1_000_000) + n, 0) for n in range(len(thread.posts))
    ]
    did = "did:plc:(your-account)"
    mentions = {
        handle: known_dids.get(handle) or UNRESOLVED_DID.format(handle=handle)
        for handle in mention_handles(thread)
    }
    records: list[dict[str, Any]] = []
    # A thread replying to a post starts under it (placeholders until it is found).
    refs = reply_refs(thread.reply_to)
    root, parent = refs if refs is not None else (None, None)
    for post, created_at, rkey in zip(thread.posts, created, rkeys, strict=True):
        embed: dict[str, Any] | None = None
        if len(post.images) == 1 and goes_as_video(
            post.images[0].path, alone=True, max_seconds=thread.limits.max_video_seconds
        ):
            embed = placeholder_gif_video_embed(post.images[0].path, post.images[0].alt)
        elif post.images and is_video(post.images[0].path):
            embed = placeholder_video_embed(post.images[0].path, post.images[0].alt, post.captions)
        elif post.images:
            embed = images_embed(
                [_placeholder_image(image.path, image.alt) for image in post.images]
            )
        if post.quote is not None and (quoted := quoted_post(post.quote)) is not None:
            did_shown = None if quoted.is_did else f"did:?:{quoted.actor}"
            ref = strong_ref(quoted.uri(did_shown), "(read when publishing)")
            embed = record_embed(ref, embed)
        elif thread.link_cards and (link := card_link(post)) is not None:
            card = known_cards.get(link)
            embed = external_embed(
                card or LinkCardData(uri=link, title=UNFETCHED_CARD_TITLE, description="")
            )
        record, _ = post_record(
            post,
            created_at=created_at,
            lang=thread.lang,
            mention_dids=mentions,
            reply=(root, parent) if root is not None and parent is not None else None,
            embed=embed,
            labels=thread.labels,
        )
        records.append(record)
        ref = strong_ref(at_uri(did, rkey), record_cid(record))
        root = root or ref
        parent = ref
    return records


def gate_records(
    thread: Thread, post_uris: Sequence[str], created_at: Sequence[str], *, start: int = 1
) -> dict[int, list[dict[str, Any]]]:
    """Per post index, the threadgate/postgate records written with it (in its applyWrites):
    the threadgate with the first post (when `start` is 1 and replies are limited), a
    postgate with every post when quotes are off. `post_uris`/`created_at` are those of
    posts `start`..end; each gate takes its post's createdAt (the same on every retry)."""
    gates: dict[int, list[dict[str, Any]]] = {}
    if thread.reply_rules is None and thread.quotes_allowed:
        return gates  # replies and quotes open to all: no gate (nor its module) is needed
    from threadpost.platforms.bluesky.interactions import postgate_record, threadgate_record

    posts = thread.posts[start - 1 :]
    for post, uri, created in zip(posts, post_uris, created_at, strict=True):
        records: list[dict[str, Any]] = []
        if post.index == 1 and thread.reply_rules is not None:
            records.append(threadgate_record(uri, thread.reply_rules, created))
        if not thread.quotes_allowed:
            records.append(postgate_record(uri, created))
        if records:
            gates[post.index] = records
    return gates


def draft_gate_records(thread: Thread, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The threadgate and postgates a publish would write (for `publish --dry-run`), the
    posts' URIs shown as placeholders."""
    created = created_at_sequence(now or datetime.now(UTC), len(thread.posts))
    uris = [
        at_uri("did:plc:(your-account)", f"(rkey of post {post.index})") for post in thread.posts
    ]
    gates = gate_records(thread, uris, created)
    return [record for post in thread.posts for record in gates.get(post.index, [])]


def _placeholder_image(path: Any, alt: str) -> UploadedImage:
    from threadpost.images import ImageError, inspect_image

    width = height = 0
    mime, size = "application/octet-stream", 0
    try:
        info = inspect_image(path)
        width, height, mime, size = info.width, info.height, info.mime, info.size_bytes
    except ImageError:
        pass  # a dry run shows what it can; `check` reports the image
    # A raw-codec CID of the empty string: a valid CID that says "not uploaded yet".
    placeholder = libipld.encode_cid(b"\x01\x55\x12\x20" + hashlib.sha256(b"").digest())
    return UploadedImage(
        blob=blob_ref(str(placeholder), mime, size), alt=alt, width=width, height=height
    )
