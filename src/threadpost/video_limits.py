"""Whether a video goes to a network as it is: its type, size, picture size, frame rate and
duration against the network's limits (PlatformLimits, from the instance for Mastodon and
from the lexicon and Bluesky's documented limits for Bluesky), and how a post may hold it.

Videos are never transcoded or shortened: one over a limit is an error for `check`, and
publishing refuses it before anything is sent. The findings start with "video NAME" (the
path as written in the draft); callers add the post and the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from threadpost.image_fit import size_text
from threadpost.values import PlatformLimits, Severity
from threadpost.videos import VideoInfo

#: Both networks take one video a post and nothing else beside it: Mastodon refuses a
#: video with other media (422), and Bluesky's embed is either images or one video.
MAX_VIDEOS_PER_POST: Final = 1

VideoFinding = tuple[Severity, str, str]


def video_findings(
    name: str, info: VideoInfo, limits: PlatformLimits, network: str
) -> list[VideoFinding]:
    """Every way `info` is over `limits` of `network` (its name for people); [] when none."""
    found: list[VideoFinding] = []
    if info.mime not in limits.video_types:
        accepted = ", ".join(limits.video_types)
        found.append(
            ("error", "video-type", f"video {name} is {info.mime}; {network} takes {accepted}")
        )
    if info.size_bytes > limits.max_video_bytes:
        found.append(
            (
                "error",
                "video-too-large",
                f"video {name} is {size_text(info.size_bytes)}; {network} accepts at most "
                f"{size_text(limits.max_video_bytes)} (videos are not re-encoded)",
            )
        )
    pixels = limits.max_video_pixels
    if pixels is not None and info.width * info.height > pixels:
        found.append(
            (
                "error",
                "video-too-large",
                f"video {name} is {info.width}×{info.height} ({info.width * info.height:,} "
                f"pixels); {network} accepts at most {pixels:,} pixels",
            )
        )
    rate = limits.max_video_frame_rate
    if rate is not None and info.frame_rate is not None and info.frame_rate > rate + 0.01:
        found.append(
            (
                "error",
                "video-frame-rate",
                f"video {name} has {info.frame_rate:.2f} frames a second; {network} accepts "
                f"at most {rate:g}",
            )
        )
    longest = limits.max_video_seconds
    if longest is not None and info.duration_seconds > longest:
        found.append(
            (
                "error",
                "video-too-long",
                f"video {name} lasts {info.duration_seconds:.1f} s; {network} accepts at most "
                f"{longest:g} s",
            )
        )
    if info.width < 1 or info.height < 1:
        found.append(("error", "video-invalid", f"video {name} has no picture size"))
    return found


def mix_finding(videos: Sequence[str], images: Sequence[str], network: str) -> VideoFinding | None:
    """An error when a post has more than one video, or a video beside images."""
    if len(videos) > MAX_VIDEOS_PER_POST:
        return (
            "error",
            "too-many-videos",
            f"{len(videos)} videos ({', '.join(videos)}); {network} takes one video a post: "
            "put each in its own post",
        )
    if videos and images:
        return (
            "error",
            "video-with-images",
            f"video {videos[0]} beside images ({', '.join(images)}); {network} takes a video "
            "alone: move the images to another post",
        )
    return None
