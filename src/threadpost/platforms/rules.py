"""What threadpost knows about each network, without I/O: one rules object per network.

The core (plan, check, preview, dryrun) asks `rules_for(platform)` and never tests a
platform's name. Each network's rules live next to its publisher, in
`platforms/<network>/rules.py`; the I/O half of a network (its publisher, reading limits a
server states, resolving handles) is reached through `platforms/__init__.py`'s `NETWORKS`.
The two registries stay apart so that neither half loads the other: `threadpost run` needs
the I/O half without the text core, planning needs the rules without any adapter. Adding a
network: its folder (`__init__.py` entry points, `rules.py`, its publisher), its name in
`values.PlatformName`, one line in `RULES` below (with its loader) and one in `NETWORKS`.

Light on purpose: neither this module nor a rules module imports an SDK, httpx or an
adapter, so planning and checking load nothing of the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from threadpost.values import PlatformLimits, PlatformName, Problem, Severity

if TYPE_CHECKING:
    from threadpost.captions import CaptionLimits
    from threadpost.config import Settings
    from threadpost.draft import DraftPost, FrontMatter
    from threadpost.text.entities import Entity
    from threadpost.thread import PlannedPost, Thread
    from threadpost.video_route import VideoRoute

#: One finding about one post: (severity, code, message); check.py adds where it is.
Finding = tuple[Severity, str, str]


class NetworkRules(Protocol):
    """One network's rules: its limits, how it finds entities and counts, what it refuses
    or warns about, and the payloads it would be sent. Pure: no I/O, no SDK."""

    platform: PlatformName
    #: The network's name for people ("Bluesky").
    name: str
    #: The limits to plan with when nothing better is known (Bluesky: its only limits).
    default_limits: PlatformLimits
    #: True when each server states its own limits (a Mastodon instance: read by the
    #: network's adapter, see `platforms.limits_for`), so where they came from is worth
    #: showing; False when `default_limits` are the network's, fixed.
    server_limits: bool
    #: Whether a post can carry a content warning (counted in its length).
    content_warnings: bool
    #: Whether a post can carry a poll (others leave it out, with a `check` warning).
    polls: bool
    #: Whether the `shorten_links` option applies (links shown shortened, the app's way).
    shortens_links: bool
    #: Longest image description the network accepts (code points); None: no limit.
    max_alt_length: int | None
    #: Whether an animated image attached as an image plays (Mastodon: as gifv); False
    #: where only its first frame is shown.
    plays_animated_images: bool
    #: What the network takes of captions files on a video; None: it takes none (a
    #: `> captions` line is a warning there, the video goes without them).
    captions: CaptionLimits | None
    #: What `draft_payloads` returns, for the reader of a dry run.
    payload_kind: str
    #: The network's colour in terminal previews (a rich style).
    preview_style: str

    def entities(self, text: str) -> list[Entity]:
        """Links, mentions and tags as this network detects them, sorted, non-overlapping."""
        ...

    def countable_length(self, text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> int:
        """The length the network compares with `limits.max_graphemes`."""
        ...

    def fits(self, text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> bool:
        """Whether the network accepts `text` as one post (length and any byte cap)."""
        ...

    def animated_image_as_video(self, path: Path, *, alone: bool) -> bool:
        """Whether an animated image (alone in its post when `alone`) is sent as a video
        instead, because the network plays videos but not animated images."""
        ...

    def post_findings(self, post: PlannedPost) -> list[Finding]:
        """This network's own problems with a planned post (tags, mentions), offline."""
        ...

    def content_labels(
        self, front: FrontMatter, *, sensitive: bool, cw: str | None, has_images: bool
    ) -> tuple[str, ...]:
        """The labels this network puts on every post (Bluesky's self-labels), from the
        front matter's choice or, without one, from what Mastodon would hide (`sensitive`,
        the content warning `cw`, the draft's images); () for a network without labels."""
        ...

    def thread_problems(self, thread: Thread, front: FrontMatter) -> list[Problem]:
        """This network's problems with the thread as a whole: an audience it cannot give
        (`thread.visibility`), a content warning it cannot show (`front.cw`). Offline."""
        ...

    def interaction_controls(self, front: FrontMatter) -> tuple[tuple[str, ...] | None, bool]:
        """(`Thread.reply_rules`, `Thread.quotes_allowed`) this network honours from the
        front matter: who may reply (None: everyone) and whether posts may be quoted."""
        ...

    def record_tags(self, front: FrontMatter, post: DraftPost) -> tuple[str, ...]:
        """The tags beyond the text on the first post made from draft `post` (Bluesky's
        record `tags`); () for a network without them."""
        ...

    def reply_address(self, front: FrontMatter) -> str | None:
        """The address of the post this network's thread replies to, from the front
        matter's `reply_to` (its entry for this network, or its one address when that is
        this network's); None: the thread starts a conversation of its own."""
        ...

    def quote_policy(self, front: FrontMatter) -> str | None:
        """Who may quote the thread's posts, as this network names it (Mastodon's
        `mastodon_quotes`); None: the network has none, or the account's default applies."""
        ...

    def quote_link(self, post: DraftPost, limits: PlatformLimits) -> str | None:
        """The address of draft `post`'s quote to append to its text as a link, where the
        network (or this server, by `limits`) cannot quote it natively; None otherwise."""
        ...

    def side_records(self, thread: Thread) -> list[dict[str, Any]]:
        """What publishing `thread` would send besides its posts (Bluesky's threadgate and
        postgates), built without the network, for the dry run."""
        ...

    def mention_handles(self, thread: Thread) -> list[str]:
        """The mentioned handles a check online should resolve (distinct, in order)."""
        ...

    def card_links(self, thread: Thread) -> list[str]:
        """The links publishing `thread` would fetch to make link cards (distinct, in order;
        [] where the network makes its own)."""
        ...

    def video_route(self, settings: Settings) -> VideoRoute | None:
        """The way videos would go up for the account `settings` configures, where the
        network has more than one (Bluesky: a video service or the PDS directly); None
        where it has one only (nothing worth showing)."""
        ...

    def video_uploads(self, thread: Thread, route: VideoRoute) -> list[dict[str, Any]]:
        """What publishing `thread` would send for each post's video along `route`, for
        the dry run: per post {"post", "path", "upload", "words", "requests"}."""
        ...

    def draft_payloads(
        self,
        thread: Thread,
        *,
        mention_ids: Mapping[str, str] | None = None,
        cards: Mapping[str, tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """What publishing `thread` would send, post by post, built without the network:
        `mention_ids` (handle → account id) and `cards` (link → title, description) are
        what a dry run online looked up; placeholders stand in for the rest."""
        ...


class _Registry(Mapping[PlatformName, NetworkRules]):
    """Every network's rules, by name, each network's rules module imported by the first
    look-up of it: a thread for Bluesky alone loads none of Mastodon's rules (their
    patterns, polls, quotes and statuses), and the other way round. Setting an item
    replaces a network's rules (as tests do)."""

    def __init__(self, loaders: Mapping[PlatformName, Callable[[], NetworkRules]]) -> None:
        self._loaders = loaders
        self._rules: dict[PlatformName, NetworkRules] = {}

    def __getitem__(self, platform: PlatformName) -> NetworkRules:
        if platform not in self._rules:
            self._rules[platform] = self._loaders[platform]()
        return self._rules[platform]

    def __setitem__(self, platform: PlatformName, rules: NetworkRules) -> None:
        self._rules[platform] = rules

    def __iter__(self) -> Iterator[PlatformName]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


def _mastodon_rules() -> NetworkRules:
    from threadpost.platforms.mastodon.rules import MASTODON_RULES

    return MASTODON_RULES


def _bluesky_rules() -> NetworkRules:
    from threadpost.platforms.bluesky.rules import BLUESKY_RULES

    return BLUESKY_RULES


#: The registry: every network's rules, by name.
RULES: Final[Mapping[PlatformName, NetworkRules]] = _Registry(
    {"mastodon": _mastodon_rules, "bluesky": _bluesky_rules}
)


def rules_for(platform: PlatformName) -> NetworkRules:
    """The rules of `platform`."""
    return RULES[platform]


def countable_length(text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> int:
    """`text`'s countable length on `limits.platform` (see `NetworkRules.countable_length`)."""
    return RULES[limits.platform].countable_length(text, limits, spoiler_text=spoiler_text)


def fits(text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> bool:
    """Whether `limits.platform` accepts `text` as one post (see `NetworkRules.fits`)."""
    return RULES[limits.platform].fits(text, limits, spoiler_text=spoiler_text)
