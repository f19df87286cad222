"""Which way a post's video would travel to a network, for preview and dry run.

A network with more than one way (Bluesky: through a video service, or uploaded to the
PDS directly, chosen by `[bluesky] video_service` and the account's host) says which in
its rules (`NetworkRules.video_route`); the views only show what it says. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from threadpost.thread import PlannedPost

#: "video-service": sent to a video service that processes it and puts it on the account's
#: server; "direct": uploaded to the account's server as it is.
RouteKind = Literal["video-service", "direct"]


@dataclass(frozen=True)
class VideoRoute:
    """How a network's videos go up for one account."""

    via: RouteKind
    #: Where the bytes are sent: the video service's URL, or the account's server's.
    url: str
    #: The account's own server (Bluesky: its PDS), which the video ends up on.
    server: str
    #: True when the config chose it (`video_service`), False for the host's default.
    configured: bool
    #: The preview line, in the network's words ("Video via the video service (…)").
    words: str

    def to_json(self) -> dict[str, object]:
        """The `"upload"` field of a video attachment in `--json`."""
        return {"via": self.via, "url": self.url, "configured": self.configured}


class _AnimatedImages(Protocol):
    """The part of `NetworkRules` this needs (named here: the rules import this module)."""

    def animated_image_as_video(self, path: Path, *, alone: bool) -> bool: ...


def sends_video(rules: _AnimatedImages, post: PlannedPost, index: int) -> bool:
    """Whether attachment `index` of `post` goes to the network as a video: a video file,
    or an animated image the network plays only as a video (alone in its post)."""
    from threadpost.videos import is_video  # the video reader: for posts with attachments

    path = Path(post.images[index].path)
    return is_video(path) or rules.animated_image_as_video(path, alone=len(post.images) == 1)
