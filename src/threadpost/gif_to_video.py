"""Animated GIF → MP4 (H.264), for a network that shows images as still pictures but plays
videos (Bluesky): an animated GIF alone in its post is sent there as a looping video.

The conversion runs the ffmpeg binary that the `imageio-ffmpeg` wheel ships (an optional
dependency: `pip install threadpost[gif-video]`); without it the GIF goes as an image and
`check` warns that only its first frame shows. ffmpeg gets the GIF through a temporary
copy, drops every metadata and audio stream, pads odd sizes to even ones (H.264 4:2:0
needs them) and writes a "fast start" MP4. The result is remembered per file version:
`check`, the dry run and publishing convert each GIF once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final

#: A GIF takes well under a second to convert; this only stops a hung ffmpeg.
CONVERT_TIMEOUT_SECONDS: Final = 120


class GifConversionError(Exception):
    """ffmpeg could not turn the GIF into a video; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def converter() -> str | None:
    """The ffmpeg executable from imageio-ffmpeg; None when it is not installed."""
    return _ffmpeg()


@lru_cache(maxsize=1)
def _ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg  # optional, and a 70 MB wheel: imported only here
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:  # the wheel's binary is missing for this platform
        return None


def gif_as_mp4(path: Path) -> bytes:
    """The MP4 made from the animated GIF at `path`; raise GifConversionError."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise GifConversionError(f"cannot read: {exc.strerror or exc}") from None
    return _convert(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _convert(path: str, _mtime_ns: int, _size: int) -> bytes:
    # Imported by the first conversion: every Bluesky thread imports this module (its rules
    # ask whether an image goes as a video), few convert a GIF.
    import shutil
    import subprocess
    import tempfile

    ffmpeg = converter()
    if ffmpeg is None:
        raise GifConversionError("ffmpeg is not installed (pip install threadpost[gif-video])")
    with tempfile.TemporaryDirectory(prefix="threadpost-gif-") as folder:
        # A copy under a fixed name: ffmpeg never sees the user's file name (which could
        # start with "-" or hold a protocol prefix such as "concat:").
        source = Path(folder) / "in.gif"
        target = Path(folder) / "out.mp4"
        shutil.copyfile(path, source)
        command = [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-f",
            "gif",
            "-i",
            str(source),
            "-an",
            "-map_metadata",
            "-1",
            "-movflags",
            "+faststart",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v",
            "libx264",
            # Short loops: encoding speed matters more than the last few percent of size.
            "-preset",
            "veryfast",
            "-f",
            "mp4",
            str(target),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=CONVERT_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise GifConversionError(
                f"ffmpeg took over {CONVERT_TIMEOUT_SECONDS} s to convert it"
            ) from None
        except OSError as exc:
            raise GifConversionError(f"cannot run ffmpeg: {exc.strerror or exc}") from None
        if done.returncode != 0 or not target.is_file():
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GifConversionError(
                "ffmpeg could not convert it" + (f": {said[-1]}" if said else "")
            )
        return target.read_bytes()
