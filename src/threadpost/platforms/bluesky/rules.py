"""Bluesky's rules, pure: no I/O, no SDK."""

from __future__ import annotations

from typing import Final

from threadpost.values import PlatformLimits

BLUESKY_LIMITS: Final = PlatformLimits(
    platform="bluesky",
    max_graphemes=300,
    max_bytes=3000,
    url_weight=None,
    max_images=4,
    max_image_bytes=2_000_000,
)

#: app.bsky.embed.external thumb: maxSize 1,000,000 bytes (link-card images are made to fit).
MAX_THUMB_BYTES: Final = 1_000_000
