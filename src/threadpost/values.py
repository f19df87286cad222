"""The values every layer exchanges: networks, their limits, post identities, problems.

A leaf module: it imports only the standard library, so the text core, the draft parser,
the ledger and the adapters can all depend on it without depending on one another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

PlatformName = Literal["mastodon", "bluesky"]
PLATFORMS: Final[tuple[PlatformName, ...]] = ("mastodon", "bluesky")

#: Mastodon's visibilities, from the widest audience to the narrowest. Here, not in the
#: Mastodon package, because config validates them and config sits below the platforms;
#: the rules about them are in `platforms/mastodon/visibility.py`.
#: How an account is named in the config (`[accounts.NAME.…]`), a draft's `account = "…"`
#: and `--account`; "default" names the account of the `[mastodon]` / `[bluesky]` tables.
ACCOUNT_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
DEFAULT_ACCOUNT: Final = "default"
MASTODON_VISIBILITIES: Final = ("public", "unlisted", "private", "direct")


@dataclass(frozen=True)
class PlatformLimits:
    """How one network (or one Mastodon instance) measures and bounds a post."""

    platform: PlatformName
    max_graphemes: int
    #: UTF-8 byte cap on the text (Bluesky: 3000); None where the network has none.
    max_bytes: int | None
    #: Mastodon's characters_reserved_per_url: an http(s) URL counts as this many characters.
    #: None: URLs count as typed (Bluesky).
    url_weight: int | None
    max_images: int
    max_image_bytes: int
    #: Where the numbers come from: "default" (offline fallback), "instance", "cache".
    source: str = "default"
    #: Width × height an uploaded image may have (Mastodon's image_matrix_limit); None: no
    #: pixel limit known. Larger images are downscaled before upload (image_upload.py).
    max_image_pixels: int | None = None
    #: A tighter pixel limit for GIF files (Mastodon's GIF_MATRIX_LIMIT, 1280×720, which
    #: no instance document states); None: GIFs have the same limit as other images.
    max_gif_pixels: int | None = None
    #: Polls (Mastodon's configuration.polls; its documented defaults stand in offline and
    #: on networks without polls): options per poll, graphemes per option, seconds open.
    poll_max_options: int = 4
    poll_max_characters_per_option: int = 50
    poll_min_expiration: int = 300
    poll_max_expiration: int = 2_629_746
    #: Whether the server makes quote posts natively (a Mastodon instance with
    #: api_versions.mastodon ≥ 7); False offline, where it is not known.
    quote_posts: bool = False
    #: Videos (video_limits.py checks them): the byte limit (Mastodon's video_size_limit),
    #: the width × height limit (video_matrix_limit) and frames a second
    #: (video_frame_rate_limit), the longest duration in seconds (None: the network states
    #: none) and the container types taken, as MIME types.
    max_video_bytes: int = 99 * 1024 * 1024
    max_video_pixels: int | None = None
    max_video_frame_rate: float | None = None
    max_video_seconds: float | None = None
    video_types: tuple[str, ...] = ("video/mp4",)


@dataclass(frozen=True)
class PostKey:
    """The identity of one planned post, chosen and stored before it is first sent.

    Mastodon: `key` is the Idempotency-Key. Bluesky: `key` is the record's TID rkey and
    `created_at` the record's createdAt, frozen so a retry sends a byte-identical record.
    `first_attempt_at` (filled in by the ledger) is when the post may first have reached
    the network: a look-up after an unclear failure never needs to search further back.
    """

    index: int
    key: str
    created_at: str | None = None
    first_attempt_at: datetime | None = None


@dataclass(frozen=True)
class PostRef:
    """Where a published post lives."""

    platform: PlatformName
    index: int
    #: Mastodon status id; Bluesky at:// URI.
    remote_id: str
    #: The post's web address for people.
    url: str
    #: Bluesky record CID (half of a strong ref); None on Mastodon.
    cid: str | None = None


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding. `platform`/`post` are None when it concerns the whole draft."""

    severity: Severity
    code: str  # stable, kebab-case: "too-long", "missing-alt", "link-unreachable", ...
    message: str
    platform: str | None = None
    post: int | None = None  # 1-based index in that platform's planned thread
    line: int | None = None  # line in the draft file, where known

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def where(self, file: str | None = None) -> str:
        """Where the problem is, as every message names it (the one formatter of issue 11).

        Without `file`: "mastodon post 2", "draft post 3" (a post of the draft itself),
        "bluesky", or "" for the whole draft. With `file`, the file and line come first and
        the network and post follow: "notes.md:12 mastodon post 2", "notes.md:4 post 3",
        "notes.md"."""
        post = f"post {self.post}" if self.post is not None else None
        if file is not None:
            head = file if self.line is None else f"{file}:{self.line}"
            return " ".join(part for part in (head, self.platform, post) if part)
        if post is not None:
            return f"{self.platform or 'draft'} {post}"
        return self.platform or ""

    def post_line(self) -> str:
        """The message led by its post, as a network's warnings are listed under its name:
        "post 2: no link card" (a "post 2: " the adapter already wrote is not repeated); the
        message alone when it concerns no one post. Used by publish's outcomes and
        `status`."""
        if self.post is None:
            return self.message
        prefix = f"post {self.post}: "
        return prefix + self.message.removeprefix(prefix)

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "platform": self.platform,
            "post": self.post,
            "line": self.line,
            "code": self.code,
            "message": self.message,
        }
