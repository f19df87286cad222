"""The bytes actually uploaded for an image: private metadata stripped, network limits met.

Both networks keep what they are sent (the Bluesky PDS stores the original blob and serves
it to anyone), so an attached photo would publish its GPS position, camera serial and the
like. Every image goes through `prepare_upload` before it is sent:

- No metadata and within the limits: the file's own bytes, untouched (no generation loss).
- Private metadata (EXIF, XMP, IPTC, comments, PNG text chunks): decoded and re-encoded
  without it. EXIF orientation is applied to the pixels first, so the picture still stands
  the right way up once the tag is gone. The ICC colour profile is kept (it is not private
  and the colours depend on it). JPEG is re-encoded at quality 95, PNG and GIF losslessly.
- Over the network's pixel or byte limit: downscaled, keeping the quality as high as fits:
  for JPEG/WebP the highest quality in [MIN_QUALITY, 95] that fits (binary search) at the
  largest scale that fits; PNG/GIF stay lossless and only the scale is searched.
- Cannot fit even at MIN_QUALITY and MIN_LONG_SIDE: `ImageWontFit`.

Animated GIF/WebP are passed through unchanged (re-encoding every frame is out of scope;
GIF carries no EXIF), and still count against the byte limit.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from threadpost.images import ACCEPTED_TYPES

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

#: Re-encoding quality when only metadata is stripped, and the top of the quality search.
HIGH_QUALITY: Final = 95
#: Below this a JPEG shows visible blocking: an image that fits only lower is refused.
MIN_QUALITY: Final = 70
#: The long side is not shrunk below this (or the original, if smaller) to meet a byte limit.
MIN_LONG_SIDE: Final = 1024
#: Most scale search steps (each narrows the interval by at least a tenth, usually far
#: more): the loop is bounded; it stops sooner, at 1 % precision.
SCALE_STEPS: Final = 10

#: Pillow `info` keys that carry private metadata (PNG tEXt/iTXt/zTXt chunks appear as
#: their own keywords; they are found through `image.text` instead).
_PRIVATE_INFO_KEYS: Final = ("exif", "xmp", "XML:com.adobe.xmp", "photoshop", "comment", "iptc")
_EXIF_ORIENTATION: Final = 0x0112


@dataclass(frozen=True)
class PreparedImage:
    """What to upload for one image, and what was done to it."""

    data: bytes
    mime: str
    width: int
    height: int
    #: Private metadata was found and removed.
    stripped: bool
    #: (width, height) it was downscaled from; None if its size was kept.
    downscaled_from: tuple[int, int] | None = None


class ImageWontFit(Exception):
    """The image exceeds the limits even at the smallest size and lowest quality allowed.

    `reason` starts with "is" (callers write "image NAME {reason}") and names the limit."""

    def __init__(
        self,
        reason: str,
        *,
        original: tuple[int, int],
        smallest: tuple[int, int] | None = None,
        smallest_bytes: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        #: The image's own (width, height).
        self.original = original
        #: The smallest (width, height) tried and its encoded size; None for an animation
        #: (never downscaled).
        self.smallest = smallest
        self.smallest_bytes = smallest_bytes


def prepare_upload(
    path: Path | str, *, max_bytes: int, max_pixels: int | None = None
) -> PreparedImage:
    """The bytes to upload for `path` under these limits (see the module docstring).

    The file is assumed to have passed `images.inspect_image`; raises ImageWontFit."""
    from PIL import Image, ImageOps

    raw = Path(path).read_bytes()
    with Image.open(io.BytesIO(raw)) as opened:
        kind = opened.format or ""
        mime = ACCEPTED_TYPES[kind]
        width, height = opened.size
        animated = bool(getattr(opened, "is_animated", False))
        private = _has_private_metadata(opened)
        too_many_pixels = max_pixels is not None and width * height > max_pixels
        too_big = len(raw) > max_bytes
        if animated:
            if too_big or too_many_pixels:
                raise ImageWontFit(
                    f"is an animated image of {width}×{height}, {len(raw):,} bytes, over "
                    f"{_limits_text(max_bytes, max_pixels)}, and animations are not downscaled",
                    original=(width, height),
                )
            return PreparedImage(raw, mime, width, height, stripped=False)
        if not (private or too_many_pixels or too_big):
            return PreparedImage(raw, mime, width, height, stripped=False)
        if kind == "JPEG" and too_many_pixels:
            # Let the JPEG decoder scale by 1/2, 1/4, 1/8 while decoding (much faster for a
            # 24 MP photo); it never goes below the size requested.
            scale = math.sqrt(max_pixels / (width * height)) if max_pixels else 1.0
            opened.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        opened.load()
        upright = ImageOps.exif_transpose(opened)
        icc = opened.info.get("icc_profile")
        transparency = opened.info.get("transparency")
    # Some encoders copy `info` (JPEG and GIF comments, EXIF) into what they write: start
    # from an empty one so only what _Saver passes on is written.
    upright.info = {}
    saver = _Saver(kind, icc, transparency)
    # The size limits apply to the upright picture (a rotated portrait swaps width/height).
    full_w, full_h = upright.size
    if not (too_many_pixels or too_big):
        data = saver.encode(upright, HIGH_QUALITY)
        if len(data) <= max_bytes:
            return PreparedImage(data, mime, full_w, full_h, stripped=True)
    return _downscale(upright, saver, mime, (width, height), max_bytes, max_pixels, private)


def _downscale(
    image: PILImage,
    saver: _Saver,
    mime: str,
    original: tuple[int, int],
    max_bytes: int,
    max_pixels: int | None,
    private: bool,
) -> PreparedImage:
    from PIL import Image

    if image.mode == "P":
        # A palette image resizes with nearest-neighbour only; resample in full colour.
        image = image.convert("RGBA")
    w, h = image.size
    full_w, full_h = (max(original), min(original)) if w >= h else (min(original), max(original))
    top = 1.0
    if max_pixels is not None and full_w * full_h > max_pixels:
        top = math.sqrt(max_pixels / (full_w * full_h))
    long_side = max(full_w, full_h)
    bottom = min(top, MIN_LONG_SIDE / long_side) if long_side > MIN_LONG_SIDE else top

    def at(scale: float) -> Any:
        size = (max(1, math.floor(full_w * scale)), max(1, math.floor(full_h * scale)))
        while max_pixels is not None and size[0] * size[1] > max_pixels:
            size = (size[0] - 1, max(1, size[1] - 1))
        return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)

    # The smallest encoding allowed decides whether a size fits: the lowest quality for
    # JPEG/WebP, the only (lossless) one for PNG/GIF. The scale is searched on it alone,
    # then the quality once, at the scale found: the same answer as searching the quality
    # at every scale tried, with a fraction of the encodings (a 24 MP JPEG takes a good
    # fraction of a second to encode).
    floor_quality = MIN_QUALITY if saver.lossy else HIGH_QUALITY

    def highest_quality(scaled: Any, floor: bytes) -> bytes:
        """The highest-quality encoding of `scaled` within max_bytes; `floor` fits."""
        if not saver.lossy:
            return floor
        low, high, found = MIN_QUALITY + 1, HIGH_QUALITY, floor
        while low <= high:  # at most 5 rounds for 71..95
            quality = (low + high) // 2
            data = saver.encode(scaled, quality)
            if len(data) <= max_bytes:
                found, low = data, quality + 1
            else:
                high = quality - 1
        return found

    def wont_fit(smallest: Any, size: int) -> ImageWontFit:
        at_smallest = f"{smallest.size[0]}×{smallest.size[1]}"
        return ImageWontFit(
            f"is {original[0]}×{original[1]}; even at {at_smallest} (as small as threadpost "
            "shrinks it)"
            + (f" and quality {MIN_QUALITY}" if saver.lossy else "")
            + f" it is {size:,} bytes, over {_limits_text(max_bytes, max_pixels)}",
            original=original,
            smallest=smallest.size,
            smallest_bytes=size,
        )

    def estimate(scale: float, size: int) -> float:
        """The scale at which an encoding `size` bytes at `scale` would just fit, taking
        bytes to grow with the pixel count (the square of the scale), less 2 %."""
        return scale * math.sqrt(max_bytes / size) * 0.98

    scaled = at(top)
    if saver.lossy:
        data = saver.encode(scaled, HIGH_QUALITY)
        if len(data) <= max_bytes:
            return _prepared(data, mime, scaled, (full_w, full_h), original, private)
    floor = saver.encode(scaled, floor_quality)
    if len(floor) <= max_bytes:
        best = highest_quality(scaled, floor)
        return _prepared(best, mime, scaled, (full_w, full_h), original, private)
    if bottom >= top:
        raise wont_fit(scaled, len(floor))
    # A scale that fits (the estimate, else the smallest allowed) and one that does not.
    high, high_size = top, len(floor)
    guess = max(bottom, min(top, estimate(top, high_size)))
    candidate = at(guess)
    encoded = saver.encode(candidate, floor_quality)
    if len(encoded) > max_bytes:
        if guess <= bottom:
            raise wont_fit(candidate, len(encoded))
        high, high_size = guess, len(encoded)
        candidate = at(bottom)
        encoded = saver.encode(candidate, floor_quality)
        if len(encoded) > max_bytes:
            raise wont_fit(candidate, len(encoded))
        guess = bottom
    low, low_size, scaled, floor = guess, len(encoded), candidate, encoded
    # Narrow down to 1 % of the side (bounded): interpolate between the two, as sizes go
    # as a power of the scale, kept inside the interval so that each step narrows it.
    for _ in range(SCALE_STEPS):
        if high <= low * 1.01:
            break
        power = math.log(high_size / low_size) / math.log(high / low) if high_size > low_size else 2
        target = low * (max_bytes / low_size) ** (1 / max(power, 0.5)) * 0.995
        span = high - low
        middle = min(max(target, low + span * 0.1), high - span * 0.1)
        candidate = at(middle)
        encoded = saver.encode(candidate, floor_quality)
        if len(encoded) <= max_bytes:
            low, low_size, scaled, floor = middle, len(encoded), candidate, encoded
        else:
            high, high_size = middle, len(encoded)
    return _prepared(
        highest_quality(scaled, floor), mime, scaled, (full_w, full_h), original, private
    )


def _prepared(
    data: bytes,
    mime: str,
    scaled: Any,
    upright: tuple[int, int],
    original: tuple[int, int],
    private: bool,
) -> PreparedImage:
    # Only re-compressed (same size, lower quality or metadata gone): not downscaled.
    smaller = scaled.size != upright
    return PreparedImage(
        data,
        mime,
        scaled.size[0],
        scaled.size[1],
        stripped=private,
        downscaled_from=original if smaller else None,
    )


def _limits_text(max_bytes: int, max_pixels: int | None) -> str:
    text = f"{max_bytes:,} bytes"
    return text + (f" or {max_pixels:,} pixels" if max_pixels is not None else "")


def _has_private_metadata(image: PILImage) -> bool:
    """EXIF (any tag), XMP, IPTC/Photoshop blocks, comments or PNG text chunks."""
    if any(image.info.get(key) for key in _PRIVATE_INFO_KEYS):
        return True
    if getattr(image, "text", None):  # PNG tEXt/zTXt/iTXt
        return True
    if len(image.getexif()) > 0:
        return True
    applist = getattr(image, "applist", None) or []
    # JPEG APP13 is Photoshop/IPTC; APP1 is EXIF or XMP (caught above, kept as a backstop).
    return any(marker in ("APP1", "APP13") for marker, _ in applist)


class _Saver:
    """Encodes a picture in the file's own format, with nothing but the pixels and colours."""

    def __init__(self, kind: str, icc: bytes | None, transparency: Any) -> None:
        self.kind = kind
        self.icc = icc
        self.transparency = transparency
        self.lossy = kind in ("JPEG", "WEBP")

    def encode(self, image: PILImage, quality: int) -> bytes:
        out = io.BytesIO()
        options: dict[str, Any] = {}
        if self.icc:
            options["icc_profile"] = self.icc
        if self.kind == "JPEG":
            if image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            options.update(quality=quality, optimize=True)
        elif self.kind == "WEBP":
            options.update(quality=quality, method=4)
        elif self.transparency is not None and image.mode in ("P", "L", "RGB"):
            options["transparency"] = self.transparency
        # Nothing else is passed on: no exif=, no pnginfo=, no comment= — that is the point.
        image.save(out, format=self.kind, **options)
        return out.getvalue()
