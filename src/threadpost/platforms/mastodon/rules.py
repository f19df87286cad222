"""Mastodon's rules, pure: no I/O, no SDK."""

from __future__ import annotations

from typing import Final

from threadpost.values import PlatformLimits

#: The offline fallback: the instance's own limits replace it whenever they can be read.
MASTODON_DEFAULT_LIMITS: Final = PlatformLimits(
    platform="mastodon",
    max_graphemes=500,
    max_bytes=None,
    url_weight=23,
    max_images=4,
    max_image_bytes=16 * 1024 * 1024,
)
