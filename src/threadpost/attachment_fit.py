"""Whether an attached file, image or video, can still be sent within a network's limits:
the re-check publishing makes just before sending (the file may have changed since
`check`). An image over the limits is fine when the upload can downscale it (image_fit.py);
a video must be within them as it is (video_limits.py)."""

from __future__ import annotations

from pathlib import Path

from threadpost.image_fit import limit_finding
from threadpost.images import ImageError, inspect_image
from threadpost.values import PlatformLimits
from threadpost.video_limits import video_findings
from threadpost.videos import VideoError, inspect_video, is_video


def attachment_problem(path: Path, name: str, limits: PlatformLimits, network: str) -> str | None:
    """Why the file at `path` (written `name` in the draft) cannot be sent; None if it can."""
    if is_video(path):
        try:
            info = inspect_video(path)
        except VideoError as error:
            return error.reason
        errors = [
            m
            for severity, _, m in video_findings(name, info, limits, network)
            if severity == "error"
        ]
        return "; ".join(errors) if errors else None
    try:
        image = inspect_image(path)
    except ImageError as error:
        return error.reason
    fit = limit_finding(path, image, limits, network)
    return fit.reason if fit is not None and fit.severity == "error" else None
