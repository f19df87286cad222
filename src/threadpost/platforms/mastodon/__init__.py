"""Mastodon: its rules (`rules.py`, pure), its publisher (imports Mastodon.py lazily) and
the instance's own limits (`instance.py`).

This package's functions are the network's I/O entry points for `threadpost.platforms`;
they import what they need when called, so importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.linkcheck import HandleResult
    from threadpost.platforms.base import Publisher
    from threadpost.values import PlatformLimits


def open_publisher(settings: Settings) -> Publisher:
    """A publisher for the configured account (raises AuthFailed without a token)."""
    from threadpost.platforms.mastodon.publisher import MastodonPublisher

    return MastodonPublisher(settings)


def read_limits(settings: Settings, *, offline: bool) -> PlatformLimits:
    """The instance's own limits: from the instance, its day-old cache, or the defaults."""
    from threadpost.platforms.mastodon.instance import instance_limits

    return instance_limits(settings, offline=offline)


def resolve_handles(handles: list[str], settings: Settings) -> dict[str, HandleResult]:
    """Nothing to ask: the instance resolves mentions itself when a status is posted."""
    return {}
