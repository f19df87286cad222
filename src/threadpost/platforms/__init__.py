"""Network adapters. Only `base` is light; each adapter imports its SDK lazily, so these
factories import the adapter module only when a platform is actually used."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.platforms.base import Publisher
    from threadpost.values import PlatformLimits, PlatformName


def open_publisher(platform: PlatformName, settings: Settings) -> Publisher:
    """A logged-in publisher for `platform` (raises AuthFailed / ConfigError)."""
    if platform == "bluesky":
        from threadpost.platforms.bluesky.publisher import BlueskyPublisher

        return BlueskyPublisher(settings)
    from threadpost.platforms.mastodon.publisher import MastodonPublisher

    return MastodonPublisher(settings)


def limits_for(platform: PlatformName, settings: Settings, *, offline: bool) -> PlatformLimits:
    """The limits to plan for: Bluesky's fixed ones, or the Mastodon instance's own
    (from the instance, its day-old cache, or the 500 fallback when offline)."""
    from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS

    if platform == "bluesky":
        return BLUESKY_LIMITS
    from threadpost.platforms.mastodon.instance import instance_limits

    return instance_limits(settings, offline=offline)
