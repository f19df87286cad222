"""Mastodon's rules, pure: no I/O, no SDK.

What an instance counts (the weighted length of `text.count`), which entities it links
(`text.entities`), what `check` warns about, and the status parameters a dry run shows.
The instance's own limits are read by `instance.py`; the defaults below stand in offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from threadpost.aliases import TWITTER_MENTION
from threadpost.platforms.mastodon.polls import poll_problems
from threadpost.platforms.mastodon.quotes import policy_problems, quote_link, quote_problems
from threadpost.platforms.mastodon.replies import reply_address, reply_problems
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.platforms.mastodon.visibility import VISIBILITIES, is_wider
from threadpost.text.count import DEFAULT_URL_WEIGHT, mastodon_length, utf8_length
from threadpost.text.entities import Entity, mastodon_entities
from threadpost.values import PlatformLimits, PlatformName, Problem, Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from threadpost.captions import CaptionLimits
    from threadpost.config import Settings
    from threadpost.draft import DraftPost, FrontMatter
    from threadpost.thread import PlannedPost, Thread
    from threadpost.video_route import VideoRoute

#: The offline fallback: the instance's own limits replace it whenever they can be read.
MASTODON_DEFAULT_LIMITS: Final = PlatformLimits(
    platform="mastodon",
    max_graphemes=500,
    max_bytes=None,
    url_weight=DEFAULT_URL_WEIGHT,
    max_images=4,
    max_image_bytes=16 * 1024 * 1024,
    # Mastodon's MAX_MATRIX_LIMIT (7680×4320), served as image_matrix_limit.
    max_image_pixels=33_177_600,
    # Attachmentable::GIF_MATRIX_LIMIT: a GIF over 1280×720 pixels is refused (422), and no
    # instance document says so: the same for every instance.
    max_gif_pixels=921_600,
    # MediaAttachment::VIDEO_LIMIT (99 MB), MAX_VIDEO_MATRIX_LIMIT (3840×2160) and
    # MAX_VIDEO_FRAME_RATE, served as video_size_limit, video_matrix_limit and
    # video_frame_rate_limit. Mastodon sets no duration limit; it transcodes MP4, WebM and
    # QuickTime (its supported_mime_types list them).
    max_video_bytes=99 * 1024 * 1024,
    max_video_pixels=8_294_400,
    max_video_frame_rate=120,
    max_video_seconds=None,
    video_types=("video/mp4", "video/quicktime", "video/webm"),
)
#: Mastodon refuses media descriptions longer than this (MediaAttachment::MAX_DESCRIPTION_LENGTH).
MASTODON_MAX_ALT: Final = 1500


class MastodonRules:
    """Mastodon, as `platforms.rules.NetworkRules` describes a network."""

    platform: PlatformName = "mastodon"
    name = "Mastodon"
    default_limits = MASTODON_DEFAULT_LIMITS
    server_limits = True
    content_warnings = True
    polls = True
    shortens_links = False
    max_alt_length: int | None = MASTODON_MAX_ALT
    # An animated GIF becomes a "gifv" attachment: a looping silent video.
    plays_animated_images = True
    # Mastodon's media API has no captions (subtitles) field: a video goes without them.
    captions: CaptionLimits | None = None
    payload_kind = "POST /api/v1/statuses parameters"
    preview_style = "magenta"

    def animated_image_as_video(self, path: Path, *, alone: bool) -> bool:
        """Never: Mastodon plays an animated GIF attached as an image (as gifv)."""
        return False

    def entities(self, text: str) -> list[Entity]:
        """Links, mentions and tags as Mastodon links them."""
        return mastodon_entities(text)

    def countable_length(self, text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> int:
        """Weighted: each URL as the instance's `url_weight`, remote mentions as `@user`,
        the content warning included."""
        weight = DEFAULT_URL_WEIGHT if limits.url_weight is None else limits.url_weight
        return mastodon_length(text, spoiler_text=spoiler_text, url_weight=weight)

    def fits(self, text: str, limits: PlatformLimits, *, spoiler_text: str = "") -> bool:
        """Whether the instance accepts `text` with this content warning as one status."""
        if limits.max_bytes is not None and utf8_length(text) > limits.max_bytes:
            return False
        # Without a URL the weighted length is at most the code-point length.
        if "://" not in text and len(spoiler_text) + len(text) <= limits.max_graphemes:
            return True
        return (
            self.countable_length(text, limits, spoiler_text=spoiler_text) <= limits.max_graphemes
        )

    def post_findings(self, post: PlannedPost) -> list[tuple[Severity, str, str]]:
        """X/Twitter-style @names (no domain): they name no account elsewhere on Mastodon."""
        return [
            (
                "warning",
                "mention-not-handle",
                f"@{name} is not an account there: on Mastodon a name without a domain only "
                "reaches a user of that name on your own instance, otherwise it stays plain "
                f'text; map it under [aliases] in the config ("@{name}" = '
                '{ mastodon = "@user@instance" })',
            )
            for name in dict.fromkeys(m.group("name") for m in TWITTER_MENTION.finditer(post.text))
        ]

    def content_labels(
        self, front: FrontMatter, *, sensitive: bool, cw: str | None, has_images: bool
    ) -> tuple[str, ...]:
        """No labels: Mastodon marks content with `spoiler_text` and `sensitive` instead."""
        return ()

    def thread_problems(self, thread: Thread, front: FrontMatter) -> list[Problem]:
        """Polls the instance would refuse (`polls.poll_problems`), and a reply_visibility
        written in the draft that is wider than the first post's visibility (which then
        came from the configuration: the draft parser refuses the two keys in
        contradiction). A default from the configuration is narrowed instead."""
        return (
            poll_problems(thread)
            + quote_problems(thread)
            + policy_problems(thread, front)
            + reply_problems(thread, front)
            + self._visibility_problems(thread, front)
        )

    def _visibility_problems(self, thread: Thread, front: FrontMatter) -> list[Problem]:
        wanted = front.reply_visibility
        if wanted is None or not is_wider(wanted, thread.visibility):
            return []
        source = "visibility" if front.visibility else "the configuration's [mastodon] visibility"
        narrower = ", ".join(v for v in VISIBILITIES if not is_wider(v, thread.visibility))
        return [
            Problem(
                "error",
                "reply-visibility-wider",
                f"reply_visibility {wanted!r} is wider than {source} {thread.visibility!r}: the "
                f"replies would reach people the first post does not; use one of {narrower}, "
                "or leave reply_visibility out",
                platform=self.platform,
                line=front.lines.get("reply_visibility"),
            )
        ]

    def mention_handles(self, thread: Thread) -> list[str]:
        """None: the instance resolves mentions itself when the status is posted."""
        return []

    def interaction_controls(self, front: FrontMatter) -> tuple[tuple[str, ...] | None, bool]:
        """Bluesky's reply and quote controls do not apply here: replies and quotes open."""
        return None, True

    def record_tags(self, front: FrontMatter, post: DraftPost) -> tuple[str, ...]:
        """No tags beyond the text: a Mastodon status has none."""
        return ()

    def reply_address(self, front: FrontMatter) -> str | None:
        """`reply_to.mastodon`, or the one `reply_to` when it is a Mastodon post's address."""
        return reply_address(front)

    def quote_policy(self, front: FrontMatter) -> str | None:
        """`mastodon_quotes`, sent as each status's `quote_approval_policy`."""
        return front.mastodon_quotes

    def quote_link(self, post: DraftPost, limits: PlatformLimits) -> str | None:
        """The quoted address, appended as a link, where the instance cannot quote."""
        return quote_link(post, limits)

    def side_records(self, thread: Thread) -> list[dict[str, Any]]:
        """Nothing but the statuses."""
        return []

    def card_links(self, thread: Thread) -> list[str]:
        """None: the instance makes link previews itself."""
        return []

    def video_route(self, settings: Settings) -> VideoRoute | None:
        """None: a video has one way to an instance (POST /api/v2/media)."""
        return None

    def video_uploads(self, thread: Thread, route: VideoRoute) -> list[dict[str, Any]]:
        """Nothing beside the media parameters the statuses show."""
        return []

    def draft_payloads(
        self,
        thread: Thread,
        *,
        mention_ids: Mapping[str, str] | None = None,
        cards: Mapping[str, tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """The POST /api/v1/statuses parameters, in posting order (mentions and cards are
        the instance's business: nothing to look up)."""
        return draft_statuses(thread)


MASTODON_RULES: Final = MastodonRules()
