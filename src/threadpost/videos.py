"""Video inspection: whether an attached file is a video, and its container, duration,
picture size and frame rate, read from its bytes (not its name).

A draft attaches a video with the same `![alt](clip.mp4)` line as an image. The file is a
video when its name ends in a video extension or its first bytes are a video container's
(an MP4/QuickTime `ftyp` box, WebM's EBML header): a clip saved as `clip.png` is still
found to be a video, and `clip.mp4` holding something else is an error, not an image.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Final

from threadpost.errors import ExitStatus, ThreadpostError
from threadpost.image_fit import size_text

#: File name endings taken to mean a video (the content decides what kind).
VIDEO_EXTENSIONS: Final = frozenset({".mp4", ".m4v", ".mov", ".webm"})
#: `ftyp` major brands of QuickTime files (the rest of the ISO family is MP4).
_QUICKTIME_BRANDS: Final = frozenset({"qt  "})
_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"


@dataclass(frozen=True)
class VideoInfo:
    """What a video file is, as read from its content."""

    mime: str  # video/mp4, video/quicktime or video/webm
    width: int
    height: int
    duration_seconds: float
    size_bytes: int
    #: Frames a second; None when the file does not say (WebM keeps no frame count).
    frame_rate: float | None = None

    def summary(self) -> str:
        """ "video/mp4, 12.5 s, 1920×1080 (16:9), 3.2 MB" for preview and dry run."""
        ratio = aspect_ratio(self.width, self.height)
        return (
            f"{self.mime}, {self.duration_seconds:.1f} s, {self.width}×{self.height} "
            f"({ratio[0]}:{ratio[1]}), {size_text(self.size_bytes)}"
        )


class VideoError(ThreadpostError):
    """An attached video is unreadable or not a valid video file.

    `code` is the problem code `check` reports: video-unreadable or video-invalid."""

    exit_status = ExitStatus.VALIDATION_FAILED

    def __init__(self, path: Path, code: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.code = code
        self.reason = reason


def is_video(path: Path | str) -> bool:
    """Whether the attachment at `path` is (meant to be) a video: by extension or content."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return True
    try:
        with path.open("rb") as stream:
            head = stream.read(12)
    except OSError:
        return False  # the image checks report the unreadable file
    return head[4:8] == b"ftyp" or head.startswith(_EBML_MAGIC)


def inspect_video(path: Path | str) -> VideoInfo:
    """Read `path`'s container headers → VideoInfo; raise VideoError if it is not a video."""
    # The container readers are imported by the first video read, not by every thread.
    from threadpost.mp4_boxes import Mp4Error, read_mp4
    from threadpost.webm_ebml import HEADER_BYTES, WebmError, read_webm

    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(12)
            if head[4:8] == b"ftyp":
                info = read_mp4(stream, size)
                quicktime = info.brand in _QUICKTIME_BRANDS
                mime = "video/quicktime" if quicktime else "video/mp4"
                return VideoInfo(
                    mime, info.width, info.height, info.duration_seconds, size, info.frame_rate
                )
            if head.startswith(_EBML_MAGIC):
                stream.seek(0)
                webm = read_webm(stream.read(HEADER_BYTES))
                if webm.doc_type != "webm":
                    raise VideoError(
                        path, "video-type", f"is a {webm.doc_type} file; of Matroska only WebM"
                    )
                return VideoInfo("video/webm", webm.width, webm.height, webm.duration_seconds, size)
    except FileNotFoundError:
        raise VideoError(path, "video-unreadable", "video file not found") from None
    except OSError as exc:
        raise VideoError(path, "video-unreadable", f"cannot read: {exc.strerror or exc}") from None
    except (Mp4Error, WebmError) as exc:
        raise VideoError(path, "video-invalid", f"is a damaged video file: it {exc}") from None
    raise VideoError(path, "video-invalid", "is not an MP4, QuickTime or WebM video")


def video_details(path: Path | str) -> dict[str, object] | None:
    """What preview and dry run show of a video attachment (its `--json` "video" field);
    None when `path` is not a video, {"error": reason} when it cannot be read."""
    if not is_video(path):
        return None
    try:
        info = inspect_video(path)
    except VideoError as error:
        return {"error": error.reason}
    ratio = aspect_ratio(info.width, info.height)
    return {
        "mime": info.mime,
        "size_bytes": info.size_bytes,
        "duration_seconds": round(info.duration_seconds, 3),
        "width": info.width,
        "height": info.height,
        "aspect_ratio": f"{ratio[0]}:{ratio[1]}",
    }


def video_field(path: Path | str) -> dict[str, object]:
    """{"video": details} for a video attachment's JSON, {} for an image (whose JSON stays
    as it was)."""
    details = video_details(path)
    return {} if details is None else {"video": details}


def video_line(path: Path | str) -> str | None:
    """One line on a video attachment for the terminal preview; None if not a video."""
    if not is_video(path):
        return None
    try:
        return inspect_video(path).summary()
    except VideoError as error:
        return f"video: {error.reason}"


def aspect_ratio(width: int, height: int) -> tuple[int, int]:
    """`width`:`height` in lowest terms (what the Bluesky embed's aspectRatio carries)."""
    divisor = gcd(width, height) or 1
    return width // divisor, height // divisor
