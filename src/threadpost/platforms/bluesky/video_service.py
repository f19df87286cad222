"""Bluesky's video service: which one an account uses, and what its answers mean.

The official app does not put a video on the PDS itself. It asks the video service
(`app.bsky.video.getUploadLimits`, with a service token for that service), sends the
bytes to `app.bsky.video.uploadVideo` with a service token the PDS signs for
`com.atproto.repo.uploadBlob` (audience: the PDS's own DID, 30 minutes), and polls
`app.bsky.video.getJobStatus` until the job has a blob: the service has processed the
video and uploaded the result to the PDS with that token. That blob goes in the embed.
A video uploaded straight to the PDS is only processed once its post is in the firehose
(the post shows "video not found" meanwhile), and the service's ingest of such a file
has no way to report a failure (bsky-docs, tutorials/video.mdx; bluesky-social/atproto
#3026), so the service path is the default where Bluesky hosts the account.

Pure: the HTTP side is video_service_upload.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

#: Bluesky's own video service (the app's VIDEO_SERVICE; its DID is did:web:video.bsky.app).
BLUESKY_VIDEO_SERVICE: Final = "https://video.bsky.app"
#: Hosts of Bluesky's own hosting: the entryway and the PDSes behind it.
_BLUESKY_HOSTING: Final = ("bsky.social", ".bsky.social", ".bsky.network")

UPLOAD_LIMITS: Final = "app.bsky.video.getUploadLimits"
UPLOAD_VIDEO: Final = "app.bsky.video.uploadVideo"
JOB_STATUS: Final = "app.bsky.video.getJobStatus"
SERVICE_AUTH: Final = "com.atproto.server.getServiceAuth"
DESCRIBE_SERVER: Final = "com.atproto.server.describeServer"
UPLOAD_BLOB: Final = "com.atproto.repo.uploadBlob"
#: Lifetime asked for the upload's service token: the service uploads to the PDS with
#: it once processing is done (the app and the docs ask for 30 minutes).
UPLOAD_TOKEN_SECONDS: Final = 30 * 60

#: Longest wait for the service to process one video: processing takes seconds for a
#: short clip, minutes for a long one.
DEFAULT_MAX_WAIT: Final = 600.0

JOB_FAILED: Final = "JOB_STATE_FAILED"


@dataclass(frozen=True)
class VideoService:
    """A video service: where to call it and the DID its service tokens are made for."""

    url: str
    did: str


def video_service_for(service: str, setting: str | None) -> VideoService | None:
    """The video service an account of `service` uses, from the `video_service` setting
    (None: Bluesky's for Bluesky's hosting, else none; "direct": none; a URL: that one).
    None means videos go to the PDS directly."""
    if setting == "direct":
        return None
    if setting is None:
        host = (urlsplit(service).hostname or "").lower()
        if not any(host == h or (h.startswith(".") and host.endswith(h)) for h in _BLUESKY_HOSTING):
            return None
        setting = BLUESKY_VIDEO_SERVICE
    url = setting.rstrip("/")
    return VideoService(url, service_did(url))


def service_did(url: str) -> str:
    """did:web of a service at `url` (its host; a port is written %3A, as did:web says)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"did:web:{host}%3A{parts.port}" if parts.port else f"did:web:{host}"


def limits_refusal(answer: Mapping[str, Any], sizes: list[int]) -> str | None:
    """Why getUploadLimits' `answer` refuses videos of `sizes` bytes; None if it allows."""
    if answer.get("canUpload") is not True:
        said = answer.get("message") or answer.get("error")
        return (
            f"it takes no videos from this account now: {said}"
            if said
            else (
                "it takes no videos from this account now (a Bluesky account must have a "
                "verified email address; there is a daily limit)"
            )
        )
    videos = answer.get("remainingDailyVideos")
    if isinstance(videos, int) and videos < len(sizes):
        return (
            f"the account may upload {videos} more video{'s' if videos != 1 else ''} "
            f"today; this thread has {len(sizes)}"
        )
    remaining = answer.get("remainingDailyBytes")
    if isinstance(remaining, int) and remaining < sum(sizes):
        return (
            f"the account may upload {remaining:,} more bytes of video today; this thread's "
            f"videos are {sum(sizes):,} bytes"
        )
    return None


@dataclass(frozen=True)
class JobState:
    """One answer about a processing job (uploadVideo's or getJobStatus')."""

    job_id: str | None
    state: str
    blob: dict[str, Any] | None
    error: str | None
    message: str | None

    @property
    def outcome(self) -> Literal["done", "failed", "pending"]:
        # A blob means done, whatever else is said: a video the service has processed
        # before comes back with error "already_exists" and its blob (bsky-docs).
        if self.blob is not None:
            return "done"
        if self.state == JOB_FAILED or (self.error and not self.job_id):
            return "failed"
        return "pending"

    def reason(self) -> str:
        """What the service said went wrong, for a message."""
        if self.message and self.error:
            return f"{self.message} ({self.error})"
        return self.message or self.error or self.state or "no reason given"


def job_state(answer: Mapping[str, Any]) -> JobState:
    """The job of `answer`: the lexicon puts it under `jobStatus`; the service has been
    seen answering uploadVideo with the job's fields at the top (atproto#3026), so
    both are read."""
    inner = answer.get("jobStatus")
    status: Mapping[str, Any] = inner if isinstance(inner, Mapping) else answer
    blob = status.get("blob")

    def text(name: str) -> str | None:
        value = status.get(name)
        return value if isinstance(value, str) and value else None

    return JobState(
        job_id=text("jobId"),
        state=text("state") or "",
        blob=dict(blob) if isinstance(blob, Mapping) and blob.get("ref") else None,
        error=text("error"),
        message=text("message"),
    )
