"""Whether an image over a network's limits will be made to fit, for `check` (and so
preview and dry run) and for the re-check before publishing.

An image over the byte or pixel limit is not refused: `image_upload.prepare_upload`
downscales it at upload time. What the user needs to know beforehand is whether that will
succeed, and what will be sent. The answer comes from running the same `prepare_upload`
(so check and publish cannot disagree), remembered per file version and limits: `watch`
re-checks on every save, and a large photo takes a second or so to fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from threadpost.values import PlatformLimits, Severity

if TYPE_CHECKING:
    from threadpost.images import ImageInfo

#: A warning: the image will be sent smaller (or more compressed) than the file.
DOWNSCALED: Final = "image-downscaled"
#: An error: even downscaled as far as threadpost goes, it is over the limits.
TOO_LARGE: Final = "image-too-large"


@dataclass(frozen=True)
class LimitFinding:
    """What happens to an image over a network's limits."""

    severity: Severity
    code: str
    #: Says what the image is, the network's limit and what will be sent, or why it
    #: cannot be made to fit; starts with "is" so callers write "image NAME {reason}".
    reason: str


def limits_text(max_bytes: int, max_pixels: int | None) -> str:
    """ "2,000,000 bytes", with " or 33,177,600 pixels" when there is a pixel limit."""
    text = f"{max_bytes:,} bytes"
    return text + (f" or {max_pixels:,} pixels" if max_pixels is not None else "")


def size_text(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB ({count:,} bytes)"
    return f"{count:,} bytes"


def pixel_limit(limits: PlatformLimits, mime: str) -> int | None:
    """The pixel limit for an image of type `mime`: GIFs may have a tighter one."""
    if mime == "image/gif" and limits.max_gif_pixels is not None:
        if limits.max_image_pixels is None:
            return limits.max_gif_pixels
        return min(limits.max_gif_pixels, limits.max_image_pixels)
    return limits.max_image_pixels


def over_limits(info: ImageInfo, limits: PlatformLimits) -> bool:
    """Whether the file as it is exceeds the byte or the pixel limit."""
    pixels = pixel_limit(limits, info.mime)
    return info.size_bytes > limits.max_image_bytes or (
        pixels is not None and info.width * info.height > pixels
    )


def limit_finding(
    path: Path, info: ImageInfo, limits: PlatformLimits, network: str
) -> LimitFinding | None:
    """None when the image is within `limits`; else a warning saying what will be sent to
    `network` (its name for people), or an error when it cannot be made to fit."""
    if not over_limits(info, limits):
        return None
    try:
        stat = path.stat()
    except OSError:
        stat = None
    version = (stat.st_mtime_ns, stat.st_size) if stat else (0, info.size_bytes)
    pixels = pixel_limit(limits, info.mime)
    return _finding(str(path), version, info, limits.max_image_bytes, pixels, network)


@lru_cache(maxsize=64)
def _finding(
    path: str,
    version: tuple[int, int],
    info: ImageInfo,
    max_bytes: int,
    max_pixels: int | None,
    network: str,
) -> LimitFinding:
    # The upload's image codec, for an image over the limits only: `size_text` is all that
    # the video and captions checks import from here.
    from threadpost.image_upload import ImageWontFit, prepare_upload

    limit = limits_text(max_bytes, max_pixels)
    what = f"is {size_text(info.size_bytes)}, {info.width}×{info.height}"
    try:
        prepared = prepare_upload(path, max_bytes=max_bytes, max_pixels=max_pixels)
    except ImageWontFit as exc:
        if exc.smallest is None:
            why = "it is animated, and animations are not downscaled"
        else:
            why = (
                f"even at {exc.smallest[0]}×{exc.smallest[1]} (as small as threadpost shrinks "
                f"it) it is {size_text(exc.smallest_bytes or 0)}"
            )
        return LimitFinding(
            "error", TOO_LARGE, f"{what}; {network} accepts at most {limit}, and {why}"
        )
    sent = f"{prepared.width}×{prepared.height}, {size_text(len(prepared.data))}"
    how = "downscaled" if prepared.downscaled_from is not None else "re-compressed"
    message = f"{what}: it will be {how} to fit {network}'s limit ({limit}): {sent}"
    return LimitFinding("warning", DOWNSCALED, message)
