"""A planned thread: the posts exactly as they will be sent to one network (values only).

`plan.py` makes them; the network rules, the adapters, preview and the ledger read them.
A leaf beside `values.py`, so that what reads a plan need not import the planner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from threadpost.draft import Caption, Image, Poll
from threadpost.values import PlatformLimits, PlatformName, Problem

FacetKind = Literal["link", "mention", "tag"]


@dataclass(frozen=True)
class Facet:
    """A link, mention or tag in a post's text, located in UTF-8 bytes (end exclusive)."""

    kind: FacetKind
    byte_start: int
    byte_end: int
    #: link: the full URI (even when the text shows it shortened); mention: the handle
    #: without "@" (Bluesky) or "user@domain" (Mastodon); tag: the tag without "#".
    value: str

    def to_json(self) -> dict[str, object]:
        key = {"link": "uri", "mention": "handle", "tag": "tag"}[self.kind]
        return {
            "type": self.kind,
            "byteStart": self.byte_start,
            "byteEnd": self.byte_end,
            key: self.value,
        }


@dataclass(frozen=True)
class ReplyTarget:
    """The post a thread's first post replies to on one network: the front matter's
    `reply_to`, or the last post of the thread that `publish --continue` names.

    Planning fills in where it comes from; the network's publisher finds the post before
    the plan is frozen (`reply_parents.resolve_reply_targets`) and fills in its identity,
    so every retry sends the same reply references."""

    #: As the draft wrote it; for --continue the earlier post's address (Mastodon: its web
    #: address; Bluesky: its at:// URI).
    address: str
    #: The draft line of `reply_to`; None for --continue.
    line: int | None = None
    #: --continue: the ledger thread whose posts this one continues.
    continues: str | None = None
    #: Once found: Mastodon status id / Bluesky at:// URI, its CID (Bluesky), its address.
    remote_id: str | None = None
    cid: str | None = None
    url: str | None = None
    #: Bluesky: the conversation's root (the parent's own root when it is a reply itself).
    root_id: str | None = None
    root_cid: str | None = None
    #: --continue: the chain's posts on this network before this thread (numbering went on
    #: from them), kept so that an edited draft is re-planned the same way.
    earlier_posts: int = 0

    @property
    def where(self) -> str:
        """How messages name it: "reply_to (draft line 3)" or "--continue 3f2a91c0"."""
        if self.continues is not None:
            return f"--continue {self.continues}"
        return f"reply_to (draft line {self.line})" if self.line else "reply_to"

    def to_json(self) -> dict[str, object]:
        return {
            "address": self.address,
            "line": self.line,
            "continues": self.continues,
            "remote_id": self.remote_id,
            "cid": self.cid,
            "url": self.url,
            "root_id": self.root_id,
            "root_cid": self.root_cid,
            "earlier_posts": self.earlier_posts,
        }


@dataclass(frozen=True)
class PlannedPost:
    """One post of a planned thread."""

    index: int  # 1-based
    text: str  # exactly what is sent, numbering included
    length: int  # countable length on the platform
    bytes: int  # UTF-8 bytes of `text`
    facets: tuple[Facet, ...]
    images: tuple[Image, ...]
    source_post: int  # 1-based index of the draft post it comes from
    source_line: int  # draft line of that post
    #: Bluesky record tags (hashtags beyond the text, without "#"); () on other networks.
    tags: tuple[str, ...] = ()
    #: The post it quotes, as the draft's `> quote` line wrote it (on the first post made
    #: from that draft post), and that line; each network decides how it quotes.
    quote: str | None = None
    quote_line: int | None = None
    #: Its own content warning (the draft post's `> cw` line, on every post made from that
    #: draft post), replacing the thread's `spoiler_text` there; None: the thread's. Carried
    #: on every network; each decides how it shows one (Bluesky: labels and a warning).
    cw: str | None = None
    cw_line: int | None = None
    #: The draft post's poll, on the first post made from it; each network decides (only
    #: Mastodon has polls).
    poll: Poll | None = None
    #: The draft post's captions files for its video (on the first post made from it);
    #: each network decides (only Bluesky takes captions).
    captions: tuple[Caption, ...] = ()

    def to_json(self) -> dict[str, object]:
        from threadpost.videos import video_field  # the previews' JSON only, not publishing

        # "captions" only when the post has some, so that every other post's JSON stays
        # as it was (as "video" on an attachment).
        captions = (
            {
                "captions": [
                    {"lang": caption.lang, "path": str(caption.path)} for caption in self.captions
                ]
            }
            if self.captions
            else {}
        )
        return {
            "index": self.index,
            "text": self.text,
            "length": self.length,
            "bytes": self.bytes,
            "facets": [facet.to_json() for facet in self.facets],
            "images": [
                {"path": str(image.path), "alt": image.alt, **video_field(image.path)}
                for image in self.images
            ],
            "source_post": self.source_post,
            "source_line": self.source_line,
            "tags": list(self.tags),
            "quote": self.quote,
            "cw": self.cw,
            "poll": None if self.poll is None else self.poll.to_json(),
            **captions,
        }


@dataclass(frozen=True)
class Thread:
    """A draft planned for one platform."""

    platform: PlatformName
    limits: PlatformLimits
    posts: tuple[PlannedPost, ...]
    lang: str | None
    #: The thread's Mastodon content warning (counted in each post's length); a post's own
    #: `cw` replaces it on that post (`content_warning`).
    spoiler_text: str | None
    #: Problems found while planning (e.g. an unbreakable token longer than the limit).
    problems: tuple[Problem, ...] = ()
    #: Mastodon visibility of the first post and of the replies (never wider than the
    #: first post's: `platforms.mastodon.visibility`). Bluesky has no visibility: its rules
    #: refuse a thread that is not public.
    visibility: str = "public"
    reply_visibility: str = "unlisted"
    #: Mastodon `quote_approval_policy` of every status (front matter `mastodon_quotes`);
    #: None: not sent, so the account's default applies.
    quote_policy: str | None = None
    sensitive: bool = False
    #: Bluesky self-labels on every post's record (`platforms.bluesky.labels`); () for none
    #: and on networks without labels.
    labels: tuple[str, ...] = ()
    #: Bluesky: attach a link card (OpenGraph) to posts with a link and no image.
    link_cards: bool = True
    #: Bluesky reply controls (`platforms.bluesky.interactions`): None, everyone may reply
    #: (no threadgate); (), nobody; else the groups allowed. None on other networks.
    reply_rules: tuple[str, ...] | None = None
    #: False: no post of the thread may be quoted (a Bluesky postgate on each).
    quotes_allowed: bool = True
    #: The post the first post replies to (None: the thread starts a conversation).
    reply_to: ReplyTarget | None = None

    def content_warning(self, post: PlannedPost) -> str | None:
        """The content warning `post` carries: its own, else the thread's (None: none).
        Only a network with content warnings sends it (Mastodon's spoiler_text)."""
        return post.cw or self.spoiler_text or None
