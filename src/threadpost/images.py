"""Image inspection: what a file really is (type, dimensions, size), read from its bytes.

Used by `check` (accepted type, size limits) and by the Bluesky adapter (aspectRatio).
Pillow is imported only when an image is actually inspected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from threadpost.errors import ExitStatus, ThreadpostError

#: Pillow format name → the MIME type both networks accept (attachments and link-card images).
ACCEPTED_TYPES: Final = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


@dataclass(frozen=True)
class ImageInfo:
    """What an image file is, as read from its content (not its name)."""

    mime: str
    width: int
    height: int
    size_bytes: int
    #: More than one frame (an animated GIF or WebP).
    animated: bool = False


class ImageError(ThreadpostError):
    """An attached file is missing, unreadable, not an image, or of a type no network takes.

    `code` is the stable problem code `check` reports: image-missing, image-unreadable,
    image-invalid or image-type.
    """

    exit_status = ExitStatus.VALIDATION_FAILED

    def __init__(self, path: Path, code: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.code = code
        self.reason = reason


def inspect_image(path: Path | str) -> ImageInfo:
    """Read `path`'s header (and check its structure) → ImageInfo; raise ImageError if unusable."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageError(path, "image-missing", "image file not found") from None
    except OSError as exc:
        raise ImageError(path, "image-unreadable", f"cannot read: {exc.strerror or exc}") from None
    if not path.is_file():
        raise ImageError(path, "image-unreadable", "is not a file")

    from PIL import Image, UnidentifiedImageError

    try:
        # open() reads the header only; Pillow refuses (raises) when it claims far more
        # pixels than any photo (over ~179 M), the mark of a decompression bomb.
        with Image.open(path) as image:
            kind = image.format or ""
            width, height = image.size
            animated = bool(getattr(image, "is_animated", False))
            # verify() walks the file's structure (chunks, CRCs for PNG): a truncated or
            # corrupt file that would be rejected after upload is caught here instead.
            image.verify()
    except UnidentifiedImageError:
        readable = ", ".join(ACCEPTED_TYPES)
        raise ImageError(
            path,
            "image-invalid",
            f"is not an image threadpost can read; save it as {readable} and attach that file",
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageError(path, "image-invalid", f"has too many pixels: {exc}") from None
    except PermissionError:
        raise ImageError(path, "image-unreadable", "permission denied") from None
    except OSError as exc:
        raise ImageError(path, "image-unreadable", f"cannot read: {exc.strerror or exc}") from None
    except (SyntaxError, ValueError) as exc:
        # Pillow reports broken image structure as SyntaxError/ValueError.
        raise ImageError(path, "image-invalid", f"is a damaged image file: {exc}") from None
    mime = ACCEPTED_TYPES.get(kind)
    if mime is None:
        accepted = ", ".join(name.lower() for name in ACCEPTED_TYPES)
        raise ImageError(
            path,
            "image-type",
            f"is a {kind or 'unknown'} image; accepted types are {accepted}",
        )
    if width < 1 or height < 1:
        raise ImageError(path, "image-invalid", f"has no pixels ({width}×{height})")
    return ImageInfo(mime=mime, width=width, height=height, size_bytes=size, animated=animated)
