"""Animated GIFs on Bluesky: the app shows image blobs as still JPEGs, but plays videos. An
animated GIF alone in its post is therefore sent as an MP4 made from it (gif_to_video.py)
in `app.bsky.embed.video` with `presentation: "gif"` (the lexicon's hint to show it as a
looping GIF), when ffmpeg is installed and the animation is within Bluesky's video
duration. Otherwise (beside other images, no ffmpeg, too long) it stays an image, and
`check` warns that only its first frame shows there.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Final

from threadpost.gif_to_video import converter, gif_as_mp4
from threadpost.images import ImageError, inspect_image
from threadpost.videos import VideoInfo

#: app.bsky.embed.video `presentation` for a video shown the way GIFs are.
GIF_PRESENTATION: Final = "gif"


def goes_as_video(path: Path, *, alone: bool, max_seconds: float | None) -> bool:
    """Whether the image at `path` is sent to Bluesky as a video (see the module docstring)."""
    if not alone or converter() is None:
        return False
    try:
        info = inspect_image(path)
    except ImageError:
        return False
    if not (info.animated and info.mime == "image/gif"):
        return False
    return max_seconds is None or gif_seconds(path) <= max_seconds


def gif_seconds(path: Path) -> float:
    """How long one loop of the GIF lasts (the sum of its frames' delays)."""
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        total_ms = sum(
            frame.info.get("duration", 0) or 0 for frame in ImageSequence.Iterator(image)
        )
    return total_ms / 1000


def gif_video(path: Path) -> tuple[bytes, VideoInfo]:
    """The MP4 made from the GIF, and what it is (raise GifConversionError)."""
    from threadpost.mp4_boxes import read_mp4

    data = gif_as_mp4(path)
    info = read_mp4(io.BytesIO(data), len(data))
    return data, VideoInfo(
        "video/mp4", info.width, info.height, info.duration_seconds, len(data), info.frame_rate
    )
