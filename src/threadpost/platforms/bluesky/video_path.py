"""What preview and dry run say of the way a Bluesky video goes up (video_service.py
decides it): the line shown on the post, and the calls a publish would make for it.

Pure: built from the settings and the plan, nothing asked of the network. Values only
known when publishing (the account's DID, the PDS's, the job) show as placeholders in
parentheses, as the dry run's records do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from threadpost.platforms.bluesky.video_service import (
    DEFAULT_MAX_WAIT,
    DESCRIBE_SERVER,
    JOB_STATUS,
    SERVICE_AUTH,
    UPLOAD_BLOB,
    UPLOAD_LIMITS,
    UPLOAD_TOKEN_SECONDS,
    UPLOAD_VIDEO,
    service_did,
    video_service_for,
)
from threadpost.video_route import VideoRoute
from threadpost.videos import VideoError, inspect_video, is_video

if TYPE_CHECKING:
    from threadpost.config import BlueskySettings
    from threadpost.thread import PlannedPost

#: The account as the dry run's records name it before publishing (records.draft_records).
_ACCOUNT_DID: Final = "did:plc:(your-account)"
_VIDEO_MIME: Final = "video/mp4"


def bluesky_video_route(bluesky: BlueskySettings) -> VideoRoute:
    """The way this account's videos go up, and how the preview says it."""
    pds = bluesky.service.rstrip("/")
    configured = bluesky.video_service is not None
    service = video_service_for(pds, bluesky.video_service)
    if service is not None:
        return VideoRoute(
            "video-service",
            service.url,
            pds,
            configured,
            f"Video via the video service ({service.url})",
        )
    why = 'video_service = "direct"' if configured else "the PDS is not on Bluesky's hosting"
    return VideoRoute(
        "direct",
        pds,
        pds,
        configured,
        # The README's reason for the service path: Bluesky processes a video uploaded
        # directly only once its post is out, so apps may show it as not found meanwhile.
        f"Video uploaded directly to the PDS (no video service: {why}; apps may not play "
        "it until Bluesky has processed it)",
    )


def video_upload_requests(posts: Sequence[PlannedPost], route: VideoRoute) -> list[dict[str, Any]]:
    """Per post of `posts` (each sending a video), in order: {"post", "path", "upload",
    "words", "requests"}: the way it goes up, the preview's line for it, and the calls
    publishing would make for it (the service's limits asked once, before the first)."""
    shown: list[dict[str, Any]] = []
    for post in posts:
        image = post.images[0]
        name = image.written_path.rsplit("/", 1)[-1]
        body = _body(image.path)
        if route.via == "direct":
            requests = [
                {"to": route.server, "call": UPLOAD_BLOB, "content_type": _VIDEO_MIME, "body": body}
            ]
        else:
            requests = _service_requests(route, name, body, first=not shown)
        shown.append(
            {
                "post": post.index,
                "path": str(image.path),
                "upload": route.to_json(),
                "words": route.words,
                "requests": requests,
            }
        )
    return shown


def _body(path: Path) -> str:
    """How the dry run shows the bytes sent: the file's size, or the MP4 a GIF becomes."""
    if not is_video(path):
        return "(the MP4 made from the GIF)"
    try:
        return f"<{inspect_video(path).size_bytes} bytes>"
    except VideoError:
        return "(the file, which `check` reports)"


def _service_requests(
    route: VideoRoute, name: str, body: str, *, first: bool
) -> list[dict[str, Any]]:
    pds = route.server
    requests: list[dict[str, Any]] = []
    if first:
        requests += [
            {
                "to": pds,
                "call": SERVICE_AUTH,
                "params": {"aud": service_did(route.url), "lxm": UPLOAD_LIMITS},
            },
            {"to": route.url, "call": UPLOAD_LIMITS},
            {"to": pds, "call": DESCRIBE_SERVER},
        ]
    requests += [
        {
            "to": pds,
            "call": SERVICE_AUTH,
            "params": {
                "aud": "(the PDS's DID, from describeServer)",
                "lxm": UPLOAD_BLOB,
                "exp": f"(now + {UPLOAD_TOKEN_SECONDS} s)",
            },
        },
        {
            "to": route.url,
            "call": UPLOAD_VIDEO,
            "params": {"did": _ACCOUNT_DID, "name": name},
            "content_type": _VIDEO_MIME,
            "body": body,
        },
        {
            "to": route.url,
            "call": JOB_STATUS,
            "params": {"jobId": "(from uploadVideo's answer)"},
            "repeated": (
                "until the job has the video's blob (at most "
                f"{DEFAULT_MAX_WAIT / 60:.0f} minutes of waiting)"
            ),
        },
    ]
    return requests
