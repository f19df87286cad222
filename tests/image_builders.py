"""Test images with the private metadata cameras and editors write (EXIF GPS, orientation,
PNG text chunks, comments), and pictures that compress badly (noise), for the upload tests."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from PIL import Image

#: EXIF tags written by `exif_with_gps`.
ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825
#: A camera make no encoder would write by itself: found in the output, it leaked.
CAMERA_MAKE = "LeakyCam-7731"
#: The GPS position written (degrees, minutes, seconds), Paris.
LATITUDE = (48.0, 51.0, 24.0)
LONGITUDE = (2.0, 21.0, 3.0)


def exif_with_gps(orientation: int | None = None) -> bytes:
    """EXIF with a camera make, a GPS position and, if given, an orientation tag."""
    exif = Image.Exif()
    exif[MAKE] = CAMERA_MAKE
    if orientation is not None:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: LATITUDE, 3: "E", 4: LONGITUDE})
    return exif.tobytes()


def halves(size: tuple[int, int]) -> Image.Image:
    """Left half red, right half blue: which way up a picture stands is visible."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


def noise(size: tuple[int, int], seed: int = 7, mode: str = "RGB") -> Image.Image:
    """Random pixels: they compress to about their raw size (3 bytes a pixel for RGB)."""
    rng = random.Random(seed)
    channels = len(mode)
    return Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * channels))


def photo_like(size: tuple[int, int], seed: int = 3) -> Image.Image:
    """Smooth gradients with fine noise: compresses like a photograph (JPEG size grows
    steadily with quality and with the pixel count)."""
    gradient = Image.linear_gradient("L").resize(size)
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    base = Image.merge("RGB", (gradient, gradient.rotate(90).resize(size), mirrored))
    return Image.blend(base, noise(size, seed), 0.25)


def save(image: Image.Image, path: Path, kind: str, **options: Any) -> Path:
    image.save(path, format=kind, **options)
    return path


def encoded(image: Image.Image, kind: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


def has_private_metadata(data: bytes) -> list[str]:
    """What private metadata an image file still carries (empty: none), read with Pillow
    and by scanning the bytes for what was written (so nothing hides from the decoder)."""
    found = []
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        if len(exif):
            found.append(f"EXIF tags {sorted(exif)}")
        if exif.get_ifd(GPS_IFD):
            found.append("GPS")
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop"):
            if image.info.get(key):
                found.append(f"info[{key}]")
        if getattr(image, "text", None):
            found.append(f"text chunks {sorted(image.text)}")
    for marker in (b"Exif\0\0", CAMERA_MAKE.encode(), b"eXIf", b"tEXt", b"iTXt", b"zTXt"):
        if marker in data:
            found.append(f"bytes {marker!r}")
    return found
