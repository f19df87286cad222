"""The bytes uploaded for a video: the file as it is, once it is known to be within the
network's limits (videos are never re-encoded here; the networks transcode them).

Both publishers call `prepare_video` at upload time, so a file changed after `check`
is refused before it is sent rather than by the server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threadpost.values import PlatformLimits
from threadpost.video_limits import video_findings
from threadpost.videos import VideoError, VideoInfo, inspect_video


@dataclass(frozen=True)
class PreparedVideo:
    data: bytes
    info: VideoInfo


class VideoWontGo(Exception):
    """The video cannot be sent: unreadable, damaged, or over a limit. `reason` starts
    with "video NAME" and says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def prepare_video(path: Path, name: str, limits: PlatformLimits, network: str) -> PreparedVideo:
    """The video at `path` (written `name` in the draft) as it will be uploaded to `network`."""
    try:
        info = inspect_video(path)
        data = path.read_bytes()
    except VideoError as error:
        raise VideoWontGo(f"video {name}: {error.reason}") from None
    except OSError as exc:
        raise VideoWontGo(f"video {name}: cannot read: {exc.strerror or exc}") from None
    if len(data) != info.size_bytes:
        raise VideoWontGo(f"video {name}: changed while it was being read")
    errors = [
        m for severity, _, m in video_findings(name, info, limits, network) if severity == "error"
    ]
    if errors:
        raise VideoWontGo("; ".join(errors))
    return PreparedVideo(data, info)
