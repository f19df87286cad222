"""Networks: the I/O half of each one, by name (its pure rules are in `platforms.rules`).

Light on purpose (`threadpost run` imports this package): each network's entry points
(`platforms/<network>/__init__.py`) import their adapter only when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Protocol

from threadpost.platforms import bluesky, mastodon

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.linkcheck import HandleResult
    from threadpost.platforms.base import Publisher
    from threadpost.thread import Thread
    from threadpost.values import PlatformLimits, PlatformName, Problem


class Network(Protocol):
    """A network's I/O entry points (its package: `platforms/<network>/__init__.py`)."""

    def open_publisher(self, settings: Settings) -> Publisher: ...

    def read_limits(self, settings: Settings, *, offline: bool) -> PlatformLimits: ...

    def resolve_handles(self, handles: list[str], settings: Settings) -> dict[str, HandleResult]:
        """Whether each mentioned handle (`NetworkRules.mention_handles`) names an account."""
        ...

    def quote_problems(self, thread: Thread, settings: Settings) -> list[Problem]:
        """Online, what the network says of the thread's quotes before anything is sent."""
        ...


#: The registry of the networks' I/O halves, by name.
NETWORKS: Final[Mapping[PlatformName, Network]] = {"mastodon": mastodon, "bluesky": bluesky}


def open_publisher(platform: PlatformName, settings: Settings) -> Publisher:
    """A logged-in publisher for `platform` (raises AuthFailed / ConfigError)."""
    return NETWORKS[platform].open_publisher(settings)


def limits_for(platform: PlatformName, settings: Settings, *, offline: bool) -> PlatformLimits:
    """The limits to plan for: Bluesky's fixed ones, or the Mastodon instance's own
    (from the instance, its day-old cache, or the 500 fallback when offline)."""
    return NETWORKS[platform].read_limits(settings, offline=offline)
