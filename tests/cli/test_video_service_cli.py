"""Bluesky videos through a video service, end to end through the CLI: the real local PDS
and the local video-service server (tests/video_service_server.py), which checks every
service token (signature, aud, lxm, exp) and puts the video on the PDS with the user's
token, as Bluesky's does.

- With `video_service` set, publish asks getUploadLimits first, sends the bytes to
  uploadVideo with a PDS-signed uploadBlob token, polls getJobStatus, and embeds the
  blob the service returns; captions still go straight to the PDS.
- Limits that refuse, and a job that fails, send nothing to Bluesky.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from threadpost.platforms.bluesky.records import POST_COLLECTION
from video_builders import mp4_bytes
from video_service_server import VideoServiceServer, running_video_service

pytestmark = pytest.mark.pds

DRAFT = """The jump.
![A grey cat jumps onto a bookshelf](jump.mp4)
> captions en jump.en.vtt

---

A still moment.
"""
CAPTIONS = b"WEBVTT\n\n00:00.000 --> 00:02.000\nThere she goes.\n"


@pytest.fixture
def video_service(pds: pds_harness.LocalPDS) -> Iterator[VideoServiceServer]:
    with running_video_service(pds.url, pds.plc_url, polls_before_done=2) as server:
        yield server


def _setup(folder: Path, pds: pds_harness.LocalPDS, account: dict[str, Any], service: str):
    clip = mp4_bytes(seconds=3, width=640, height=360)
    (folder / "jump.mp4").write_bytes(clip)
    (folder / "jump.en.vtt").write_bytes(CAPTIONS)
    draft = folder / "jump.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
        "THREADPOST_BLUESKY_VIDEO_SERVICE": service,
    }
    return clip, draft, env


def test_a_video_goes_through_the_video_service_and_its_blob_is_embedded(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    video_service: VideoServiceServer,
    isolated_env: Path,
) -> None:
    clip, draft, env = _setup(isolated_env, pds, pds_account, video_service.url)
    uploads = pds.count("com.atproto.repo.uploadBlob")

    published = run_cli("publish", "--yes", "--platform", "bluesky", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr

    nsids = [nsid for _, nsid in video_service.requests]
    assert nsids[:2] == ["app.bsky.video.getUploadLimits", "app.bsky.video.uploadVideo"]
    assert nsids[2:] == ["app.bsky.video.getJobStatus"] * 2  # done after the second poll
    limits_claims, upload_claims = video_service.claims
    assert (limits_claims["aud"], limits_claims["lxm"]) == (
        video_service.did,
        "app.bsky.video.getUploadLimits",
    )
    assert (upload_claims["aud"], upload_claims["lxm"], upload_claims["iss"]) == (
        video_service.pds_did,
        "com.atproto.repo.uploadBlob",
        pds_account["did"],
    )
    assert 25 * 60 < upload_claims["exp"] - time.time() <= 30 * 60  # lasts while processing
    [job] = video_service.jobs.values()
    assert (job.did, job.name, job.data) == (pds_account["did"], "jump.mp4", clip)

    records = sorted(
        pds.list_records(pds_account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    embed = records[0]["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["video"]["ref"] == job.blob["ref"]  # the service's blob, not a new upload
    assert pds.get_blob(pds_account["did"], embed["video"]["ref"]["$link"]) == clip
    [caption] = embed["captions"]
    assert caption["lang"] == "en"
    assert pds.get_blob(pds_account["did"], caption["file"]["ref"]["$link"]) == CAPTIONS
    # The service's upload of the video, and the captions file sent directly.
    assert pds.count("com.atproto.repo.uploadBlob") == uploads + 2


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (
            {"limits": {"canUpload": False, "message": "Please verify your email"}},
            "it takes no videos from this account now: Please verify your email",
        ),
        (
            {"limits": {"canUpload": True, "remainingDailyVideos": 0}},
            "the account may upload 0 more videos today; this thread has 1",
        ),
        ({"fail_jobs": True}, "the video service could not process it: Failed to process"),
    ],
)
def test_a_refusal_of_the_video_service_sends_nothing(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
    settings: dict[str, Any],
    said: str,
) -> None:
    with running_video_service(pds.url, pds.plc_url, **settings) as service:
        _, draft, env = _setup(isolated_env, pds, pds_account, service.url)
        writes = pds.count("com.atproto.repo.applyWrites")
        uploads = pds.count("com.atproto.repo.uploadBlob")

        published = run_cli(
            "publish", "--yes", "--json", "--platform", "bluesky", str(draft), env=env
        )
        assert published.exit_code != 0, published.stdout + published.stderr
        assert said in " ".join((published.stdout + published.stderr).split())
        refused_before_upload = "limits" in settings
        assert (service.calls("app.bsky.video.uploadVideo") == 0) is refused_before_upload
    assert pds.count("com.atproto.repo.applyWrites") == writes
    assert pds.count("com.atproto.repo.uploadBlob") == uploads  # not even the captions
    assert pds.list_records(pds_account["did"], POST_COLLECTION) == []
