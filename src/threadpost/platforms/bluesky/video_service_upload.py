"""A video sent through a video service (video_service.py says which and why): the
upload limits asked before anything is sent, the bytes sent with a service token the
PDS signs, the job polled (bounded) until the processed video's blob is on the PDS.

Every call goes through the publisher's choke points: calls to the PDS as the account
(`pds_call`, the session kept fresh) and calls to the service through the same
`XrpcTransport` (`service_call`), so timeouts, errors and token scrubbing are decided
once. Tokens never appear in messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

from threadpost.errors import PermanentError, TransientError
from threadpost.platforms.bluesky.video_service import (
    DEFAULT_MAX_WAIT,
    DESCRIBE_SERVER,
    JOB_STATUS,
    SERVICE_AUTH,
    UPLOAD_BLOB,
    UPLOAD_LIMITS,
    UPLOAD_TOKEN_SECONDS,
    UPLOAD_VIDEO,
    JobState,
    VideoService,
    job_state,
    limits_refusal,
)
from threadpost.platforms.bluesky.xrpc import PLATFORM, XrpcTransport

__all__ = ["DEFAULT_MAX_WAIT", "PdsCall", "VideoServiceUpload"]

#: The pause between polls (growing to `_MAX_PAUSE`, bounded by DEFAULT_MAX_WAIT).
_FIRST_PAUSE: Final = 0.5
_MAX_PAUSE: Final = 5.0


class PdsCall(Protocol):
    def __call__(
        self, nsid: str, *, params: Mapping[str, Any] | None = ..., what: str
    ) -> dict[str, Any]: ...


class VideoServiceUpload:
    """Videos of one account through `service`."""

    def __init__(
        self,
        service: VideoService,
        net: XrpcTransport,
        pds_call: PdsCall,
        account_did: Callable[[], str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.service = service
        self._net = net
        self._pds_call = pds_call
        self._did = account_did
        self._sleep = sleep
        self._now = now
        self._max_wait = max_wait
        self._pds_did: str | None = None

    def check_limits(self, sizes: Sequence[int], first_post: int) -> None:
        """Refuse (PermanentError) when the service will not take videos of `sizes` bytes
        from this account today: asked before anything of the thread is sent."""
        token = self._token(self.service.did, UPLOAD_LIMITS, post=first_post)
        answer = self._net.invoke(
            self._net.new_client(base_url=self.service.url, token=token),
            UPLOAD_LIMITS,
            what="asking the video service for the account's upload limits",
            post=first_post,
        )
        refusal = limits_refusal(answer, list(sizes))
        if refusal is not None:
            raise PermanentError(
                f"post {first_post}: Bluesky's video service at {self.service.url}: "
                f"{refusal}; nothing was sent to Bluesky",
                platform=PLATFORM,
                post=first_post,
            )

    def upload(self, data: bytes, mime: str, name: str, *, post: int) -> dict[str, Any]:
        """Send `data` (the video written `name`) to the service and wait for its blob."""
        token = self._token(
            self._pds_audience(post),
            UPLOAD_BLOB,
            post=post,
            exp=int(self._now()) + UPLOAD_TOKEN_SECONDS,
        )
        answer = self._net.invoke(
            self._net.new_client(base_url=self.service.url, token=token),
            UPLOAD_VIDEO,
            params={"did": self._did(), "name": name.rsplit("/", 1)[-1]},
            content=data,
            content_type=mime,
            what=f"uploading the video of post {post} to the video service",
            post=post,
        )
        return self._wait(job_state(answer), name, post=post)

    def _wait(self, job: JobState, name: str, *, post: int) -> dict[str, Any]:
        # Bounded by the time spent waiting between polls (the calls themselves are
        # bounded by the transport's timeout), so the bound holds without a clock.
        waited = 0.0
        pause = _FIRST_PAUSE
        while job.outcome == "pending":
            if job.job_id is None:
                raise PermanentError(
                    f"post {post}: video {name}: the video service answered without a job "
                    f"({job.reason()}); nothing was sent to Bluesky",
                    platform=PLATFORM,
                    post=post,
                )
            if waited >= self._max_wait:
                raise TransientError(
                    f"post {post}: video {name}: Bluesky's video service had not finished "
                    f"processing it after {waited:.0f} s (job {job.job_id}, "
                    f"{job.state or 'no state'}); nothing was posted: try again later",
                    platform=PLATFORM,
                    post=post,
                )
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, _MAX_PAUSE)
            job = job_state(
                self._net.invoke(
                    self._net.new_client(base_url=self.service.url),
                    JOB_STATUS,
                    params={"jobId": job.job_id},
                    what=f"asking the video service about the video of post {post}",
                    post=post,
                )
            )
        if job.outcome == "failed" or job.blob is None:
            raise PermanentError(
                f"post {post}: video {name}: the video service could not process it: "
                f"{job.reason()}; nothing was sent to Bluesky",
                platform=PLATFORM,
                post=post,
            )
        return job.blob

    def _pds_audience(self, post: int) -> str:
        """The PDS's own DID (describeServer), which its service tokens name as audience."""
        if self._pds_did is None:
            answer = self._pds_call(DESCRIBE_SERVER, what="asking the PDS for its DID")
            did = answer.get("did")
            if not isinstance(did, str) or not did.startswith("did:"):
                raise PermanentError(
                    f"post {post}: the PDS did not say its DID (describeServer), which the "
                    "video service's upload token needs",
                    platform=PLATFORM,
                    post=post,
                )
            self._pds_did = did
        return self._pds_did

    def _token(self, aud: str, lxm: str, *, post: int, exp: int | None = None) -> str:
        params: dict[str, Any] = {"aud": aud, "lxm": lxm}
        if exp is not None:
            params["exp"] = exp
        answer = self._pds_call(
            SERVICE_AUTH, params=params, what=f"asking the PDS for a token for {lxm}"
        )
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise PermanentError(
                f"post {post}: the PDS gave no service token for {lxm}",
                platform=PLATFORM,
                post=post,
            )
        self._net.add_secret(token)
        return token
