"""Bluesky's rules, pure: no I/O, no SDK.

Its fixed limits (300 graphemes and 3000 bytes), which entities become facets
(`text.entities`), what `check` refuses or warns about (tags over 64 graphemes, @names that
are no handle, a thread that is not public, a content warning it cannot show), which
self-labels a thread's posts carry, and the records a dry run shows (`records.draft_records`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from threadpost.captions import CaptionLimits
from threadpost.platforms.bluesky.captions import BLUESKY_CAPTION_LIMITS
from threadpost.platforms.bluesky.labels import SELF_LABELS, SENSITIVE_MEDIA_LABEL
from threadpost.platforms.bluesky.records import (
    LinkCardData,
    card_link,
    draft_gate_records,
    draft_records,
)
from threadpost.platforms.bluesky.replies import reply_address, reply_problems
from threadpost.text.count import utf8_length
from threadpost.text.entities import Entity, bluesky_entities
from threadpost.text.graphemes import grapheme_count
from threadpost.values import PlatformLimits, PlatformName, Problem, Severity

# The video, GIF and quote modules are imported by the rules that ask about a video, an
# animated image or a quote: planning and checking a thread of text load none of them.
if TYPE_CHECKING:
    from collections.abc import Mapping

    from threadpost.config import Settings
    from threadpost.draft import DraftPost, FrontMatter
    from threadpost.thread import PlannedPost, Thread
    from threadpost.video_route import VideoRoute

BLUESKY_LIMITS: Final = PlatformLimits(
    platform="bluesky",
    max_graphemes=300,
    max_bytes=3000,
    url_weight=None,
    max_images=4,
    max_image_bytes=2_000_000,
    # app.bsky.embed.video (the lexicon in the PDS install): `video` is a blob with
    # accept ["video/mp4"] and maxSize 300,000,000 ("formerly limited to 100mb"). The
    # lexicon states no duration: 180 s is Bluesky's announced limit for uploads (the
    # app's, unconfirmed against the video service). No pixel or frame-rate limit is
    # documented.
    max_video_bytes=300_000_000,
    max_video_seconds=180,
    video_types=("video/mp4",),
)
#: app.bsky.richtext.facet#tag: maxGraphemes 64.
MAX_TAG_GRAPHEMES: Final = 64
#: app.bsky.feed.post `tags`: maxLength 8, each maxGraphemes 64 and maxLength 640 (bytes).
MAX_RECORD_TAGS: Final = 8
MAX_RECORD_TAG_BYTES: Final = 640

# An @name after start, whitespace or "(" — as a reader would see a mention. Trailing
# sentence punctuation is not part of it.
_AT_WORD: Final = re.compile(r"(?:(?<=^)|(?<=[\s(]))@([\w.\-]+(?:@[\w.\-]+)?)", re.UNICODE)
_HASHTAG: Final = re.compile(r"(?:(?<=^)|(?<=\s))[#＃]([^\s#＃]+)", re.UNICODE)
_TRAILING_PUNCTUATION: Final = ".,;:!?…'\"’”»)]}"
#: Mastodon visibilities whose audience Bluesky cannot give: every Bluesky post is public
#: (an `unlisted` status is readable by anyone with its link, so it has an equivalent).
_NOT_PUBLIC: Final = ("private", "direct")

_Finding = tuple[Severity, str, str]


class BlueskyRules:
    """Bluesky, as `platforms.rules.NetworkRules` describes a network."""

    platform: PlatformName = "bluesky"
    name = "Bluesky"
    default_limits = BLUESKY_LIMITS
    server_limits = False
    content_warnings = False
    polls = False
    shortens_links = True
    # app.bsky.embed.images#image `alt` is a string with no maxLength (nor maxGraphemes)
    # in the lexicon, and the PDS enforces none: there is no documented cap to check.
    max_alt_length: int | None = None
    # The app shows image blobs through the CDN as JPEG (feed_fullsize/…@jpeg): an
    # animated GIF or WebP attached as an image shows its first frame only.
    plays_animated_images = False
    captions: CaptionLimits | None = BLUESKY_CAPTION_LIMITS
    payload_kind = "app.bsky.feed.post records"
    preview_style = "bright_blue"

    def animated_image_as_video(self, path: Path, *, alone: bool) -> bool:
        """An animated GIF alone in its post, with ffmpeg installed (gif_video.py)."""
        from threadpost.platforms.bluesky.gif_video import goes_as_video

        return goes_as_video(path, alone=alone, max_seconds=BLUESKY_LIMITS.max_video_seconds)

    def entities(self, text: str) -> list[Entity]:
        """Links, mentions and tags as the Bluesky app makes them facets."""
        return bluesky_entities(text)

    def countable_length(self, text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> int:
        """Graphemes of the text as sent (Bluesky has no content warning text to count)."""
        return grapheme_count(text)

    def fits(self, text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> bool:
        """Whether the text is within both the grapheme and the UTF-8 byte limit."""
        if limits.max_bytes is not None and utf8_length(text) > limits.max_bytes:
            return False
        if len(text) <= limits.max_graphemes:
            return True
        return grapheme_count(text) <= limits.max_graphemes

    def post_findings(self, post: PlannedPost) -> list[_Finding]:
        """Tags over Bluesky's length, and @names that will not become mentions."""
        return _tag_findings(post) + _mention_findings(post)

    def content_labels(
        self, front: FrontMatter, *, sensitive: bool, cw: str | None, has_images: bool
    ) -> tuple[str, ...]:
        """The front matter's `bluesky_labels`; without it, `graphic-media` for a draft
        with images that Mastodon hides (`sensitive`, or a content warning, which makes
        Mastodon mark media sensitive), else none."""
        if front.bluesky_labels is not None:
            return front.bluesky_labels
        return default_labels(sensitive=sensitive, cw=cw, has_images=has_images)

    def thread_problems(self, thread: Thread, front: FrontMatter) -> list[Problem]:
        """An error for a thread that is not public (Bluesky would make it public); a
        warning for a content warning without a label chosen (it is not shown there)."""
        return (
            _audience_problems(thread, front)
            + _content_warning_problems(thread, front)
            + _record_tag_problems(thread, front)
            + _quote_problems(thread)
            + reply_problems(thread, front)
            + _poll_problems(thread)
        )

    def interaction_controls(self, front: FrontMatter) -> tuple[tuple[str, ...] | None, bool]:
        """`bluesky_replies` (None: everyone) and `bluesky_quotes` (default: allowed)."""
        return front.bluesky_replies, front.bluesky_quotes

    def record_tags(self, front: FrontMatter, post: DraftPost) -> tuple[str, ...]:
        """A draft post's `> tags` line; without one, the first post carries `bluesky_tags`
        (the app puts tags on the post they were added to: on every post, each reply would
        show in the tag's feed)."""
        if post.tags is not None:
            return post.tags
        return front.bluesky_tags if post.index == 1 else ()

    def reply_address(self, front: FrontMatter) -> str | None:
        """`reply_to.bluesky`, or the one `reply_to` when it is a Bluesky post's address."""
        return reply_address(front)

    def quote_policy(self, front: FrontMatter) -> str | None:
        """None: `mastodon_quotes` is Mastodon's (Bluesky's is `bluesky_quotes`)."""
        return None

    def quote_link(self, post: DraftPost, limits: PlatformLimits) -> str | None:
        """None: Bluesky quotes its posts natively (and refuses anything else in check)."""
        return None

    def side_records(self, thread: Thread) -> list[dict[str, Any]]:
        """The threadgate and postgates publishing `thread` would write with its posts."""
        return draft_gate_records(thread)

    def mention_handles(self, thread: Thread) -> list[str]:
        """The handles of the thread's mention facets (a DID needs no resolving)."""
        return list(
            dict.fromkeys(
                facet.value.removeprefix("@")
                for post in thread.posts
                for facet in post.facets
                if facet.kind == "mention" and not facet.value.startswith("did:")
            )
        )

    def card_links(self, thread: Thread) -> list[str]:
        """Each post's card link (its first link, unless it has images or a quote)."""
        if not thread.link_cards:
            return []
        return list(dict.fromkeys(link for post in thread.posts if (link := card_link(post))))

    def video_route(self, settings: Settings) -> VideoRoute:
        """Through the video service or to the PDS directly (video_service.py decides)."""
        from threadpost.platforms.bluesky.video_path import bluesky_video_route

        return bluesky_video_route(settings.bluesky)

    def video_uploads(self, thread: Thread, route: VideoRoute) -> list[dict[str, Any]]:
        """The calls each post's video would take along `route` (video_path.py)."""
        from threadpost.platforms.bluesky.video_path import video_upload_requests
        from threadpost.video_route import sends_video

        posts = [post for post in thread.posts if post.images and sends_video(self, post, 0)]
        return video_upload_requests(posts, route)

    def draft_payloads(
        self,
        thread: Thread,
        *,
        mention_ids: Mapping[str, str] | None = None,
        cards: Mapping[str, tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """The app.bsky.feed.post records, placeholders standing in for what was not
        looked up (mention DIDs, link cards)."""
        return draft_records(
            thread,
            mention_dids=mention_ids,
            cards={
                uri: LinkCardData(uri=uri, title=title, description=description)
                for uri, (title, description) in (cards or {}).items()
            },
        )


def default_labels(*, sensitive: bool, cw: str | None, has_images: bool) -> tuple[str, ...]:
    """The labels of a draft that chose none: its media blurred where Mastodon hides it."""
    if has_images and (sensitive or cw):
        return (SENSITIVE_MEDIA_LABEL,)
    return ()


_TO_MASTODON_ONLY: Final = (
    'to publish to Mastodon only, set platforms = ["mastodon"] in the front matter or pass '
    "--platform mastodon"
)


def not_public(thread: Thread) -> tuple[str, str] | None:
    """(key, visibility) of the first of `visibility`/`reply_visibility` that Bluesky cannot
    honour (followers or mentioned accounts only), or None when the thread is public."""
    for key, visibility in (
        ("visibility", thread.visibility),
        ("reply_visibility", thread.reply_visibility),
    ):
        if visibility in _NOT_PUBLIC:
            return key, visibility
    return None


def _audience_problems(thread: Thread, front: FrontMatter) -> list[Problem]:
    """An error when the first post or the replies are meant for followers or mentioned
    accounts only: Bluesky has no such posts, so nothing may be sent there."""
    found = not_public(thread)
    if found is None:
        return []
    key, visibility = found
    written = getattr(front, key) is not None
    source = key if written else f"the configuration's [mastodon] {key}"
    posts = "the first post" if key == "visibility" else "the replies"
    return [
        Problem(
            "error",
            "visibility-not-on-bluesky",
            f"{source} is {visibility!r}, but Bluesky has no {visibility} posts: "
            f"{posts} would be public there, so nothing is sent; {_TO_MASTODON_ONLY}",
            platform="bluesky",
            line=front.lines.get(key) if written else None,
        )
    ]


def _content_warning_problems(thread: Thread, front: FrontMatter) -> list[Problem]:
    """A warning for the thread's content warning and one for each post's own (`> cw`),
    unless labels were chosen: the text of a content warning is not shown on Bluesky."""
    if front.bluesky_labels is not None:
        return []
    choose = (
        f"choose with bluesky_labels = [...] ({', '.join(SELF_LABELS)}), "
        "or bluesky_labels = [] for none"
    )
    if thread.labels:
        labelled = (
            f"its posts are labelled {', '.join(thread.labels)} (the default for images "
            f"behind a content warning or marked sensitive); {choose}"
        )
    else:
        labelled = f"its posts go out with no label; {choose}"
    found: list[Problem] = []
    if front.cw:
        found.append(
            Problem(
                "warning",
                "content-warning-not-on-bluesky",
                f"the content warning {front.cw!r} is not shown on Bluesky (it has none): "
                f"{labelled}",
                platform="bluesky",
                line=front.lines.get("cw"),
            )
        )
    seen: set[int] = set()
    for post in thread.posts:
        # Every post made from a draft post carries its `> cw`: warn once, on the first.
        if not post.cw or post.source_post in seen:
            continue
        seen.add(post.source_post)
        found.append(
            Problem(
                "warning",
                "content-warning-not-on-bluesky",
                f"post {post.index}'s content warning {post.cw!r} is not shown on Bluesky "
                f"(it has none): {labelled}",
                platform="bluesky",
                post=post.index,
                line=post.cw_line or post.source_line,
            )
        )
    return found


def _record_tag_problems(thread: Thread, front: FrontMatter) -> list[Problem]:
    """Record tags over the lexicon's caps: the PDS would refuse the whole thread."""
    found: list[Problem] = []
    for post in thread.posts:
        if not post.tags:
            continue
        from_front = post.index == 1 and post.tags == front.bluesky_tags
        line = front.lines.get("bluesky_tags") if from_front else post.source_line
        where = "bluesky_tags" if from_front else "the '> tags' line"

        def problem(message: str, line: int | None = line, index: int = post.index) -> Problem:
            return Problem("error", "tags-invalid", message, "bluesky", index, line)

        if len(post.tags) > MAX_RECORD_TAGS:
            found.append(
                problem(
                    f"{where} gives post {post.index} {len(post.tags)} tags; Bluesky allows "
                    f"at most {MAX_RECORD_TAGS} per post"
                )
            )
        for tag in post.tags:
            graphemes, size = grapheme_count(tag), utf8_length(tag)
            if graphemes > MAX_TAG_GRAPHEMES or size > MAX_RECORD_TAG_BYTES:
                found.append(
                    problem(
                        f"tag #{tag[:20]}… in {where} is {graphemes} characters ({size} "
                        f"bytes); Bluesky tags are at most {MAX_TAG_GRAPHEMES} characters "
                        f"and {MAX_RECORD_TAG_BYTES} bytes"
                    )
                )
    return found


def _poll_problems(thread: Thread) -> list[Problem]:
    """Bluesky has no polls: a post's poll is left out there (the post goes without it)."""
    return [
        Problem(
            "warning",
            "poll-not-on-bluesky",
            f"post {post.index}'s poll ({' | '.join(post.poll.options)}) is not sent to "
            "Bluesky, which has no polls: the post goes there without it; write the "
            "options into the text if Bluesky readers should see them",
            "bluesky",
            post.index,
            post.poll.line,
        )
        for post in thread.posts
        if post.poll is not None
    ]


def _quote_problems(thread: Thread) -> list[Problem]:
    """A quote of something that is not a Bluesky post: Bluesky can quote nothing else."""
    if all(post.quote is None for post in thread.posts):
        return []
    from threadpost.platforms.bluesky.quotes import quoted_post

    return [
        Problem(
            "error",
            "quote-not-bluesky",
            f"post {post.index} quotes {post.quote}, which is not a Bluesky post: Bluesky "
            "quotes posts by their bsky.app address (https://bsky.app/profile/<handle>/post/"
            "<id>) or at:// URI",
            "bluesky",
            post.index,
            post.quote_line or post.source_line,
        )
        for post in thread.posts
        if post.quote is not None and quoted_post(post.quote) is None
    ]


def _tag_findings(post: PlannedPost) -> list[_Finding]:
    encoded = post.text.encode("utf-8")
    tag_facets = {
        encoded[facet.byte_start : facet.byte_end].decode("utf-8", "replace").lstrip("#＃")
        for facet in post.facets
        if facet.kind == "tag"
    } | {facet.value for facet in post.facets if facet.kind == "tag"}
    found: list[_Finding] = []
    for match in _HASHTAG.finditer(post.text):
        tag = match.group(1).rstrip(_TRAILING_PUNCTUATION)
        if not tag or tag.isdigit():
            continue
        count = grapheme_count(tag)
        if count <= MAX_TAG_GRAPHEMES:
            continue
        if tag in tag_facets:
            # Such a facet would make the PDS reject the whole record.
            found.append(
                (
                    "error",
                    "tag-too-long",
                    f"#{tag[:20]}… is {count} characters; Bluesky tags are at most "
                    f"{MAX_TAG_GRAPHEMES}",
                )
            )
        else:
            found.append(
                (
                    "warning",
                    "tag-too-long",
                    f"#{tag[:20]}… is {count} characters, over Bluesky's {MAX_TAG_GRAPHEMES}: "
                    "it stays plain text, not a tag",
                )
            )
    return found


def _mention_findings(post: PlannedPost) -> list[_Finding]:
    """@names that Bluesky will not turn into mentions (they stay plain text)."""
    mention_spans = [(f.byte_start, f.byte_end) for f in post.facets if f.kind == "mention"]
    found: list[_Finding] = []
    for match in _AT_WORD.finditer(post.text):
        name = match.group(1).rstrip(_TRAILING_PUNCTUATION)
        if not name:
            continue
        start = len(post.text[: match.start()].encode("utf-8"))
        if any(begin <= start < end for begin, end in mention_spans):
            continue
        if "@" in name:
            reason = (
                f"@{name} is a Mastodon address, not a Bluesky handle: on Bluesky it stays "
                "plain text"
            )
        elif "." not in name:
            reason = (
                f"@{name} cannot be a Bluesky handle (handles are domain names such as "
                f"{name.lower().replace('_', '-')}.bsky.social): it stays plain text; "
                f'map it to an account under [aliases] in the config ("@{name}" = '
                '{ bluesky = "@handle" })'
            )
        else:
            reason = f"@{name} is not a valid Bluesky handle: it stays plain text"
        found.append(("warning", "mention-not-handle", reason))
    return found


BLUESKY_RULES: Final = BlueskyRules()

#: app.bsky.embed.external thumb: maxSize 1,000,000 bytes (link-card images are made to fit).
MAX_THUMB_BYTES: Final = 1_000_000
