"""Bluesky: its rules (`rules.py`, pure) and its publisher (plain XRPC on threadpost's wire).

This package's functions are the network's I/O entry points for `threadpost.platforms`;
they import what they need when called, so importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.linkcheck import HandleResult
    from threadpost.platforms.base import Publisher
    from threadpost.thread import Thread
    from threadpost.values import PlatformLimits, Problem


def open_publisher(settings: Settings) -> Publisher:
    """A logged-in publisher for the configured account (raises AuthFailed / ConfigError)."""
    from threadpost.platforms.bluesky.publisher import BlueskyPublisher

    return BlueskyPublisher(settings)


def read_limits(settings: Settings, *, offline: bool) -> PlatformLimits:
    """Bluesky's limits are fixed: no server is asked."""
    from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS

    return BLUESKY_LIMITS


def resolve_handles(handles: list[str], settings: Settings) -> dict[str, HandleResult]:
    """Each handle's DID, asked of the configured service (concurrently)."""
    from threadpost.linkcheck import resolve_handles as ask_service

    return ask_service(handles, settings.bluesky.service)


def quote_problems(thread: Thread, settings: Settings) -> list[Problem]:
    """Nothing to look up: a Bluesky post can be quoted unless its author detached it,
    which the publisher learns only when it sends the post."""
    return []
