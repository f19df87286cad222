"""Which video service a Bluesky account uses and what the service's answers mean
(platforms/bluesky/video_service.py), and the `video_service` setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadpost.config import load_settings
from threadpost.errors import ConfigError
from threadpost.platforms.bluesky.video_service import (
    VideoService,
    job_state,
    limits_refusal,
    service_did,
    video_service_for,
)

BLUESKYS = VideoService("https://video.bsky.app", "did:web:video.bsky.app")
BLOB = {"$type": "blob", "ref": {"$link": "bafkrei"}, "mimeType": "video/mp4", "size": 9}


@pytest.mark.parametrize(
    ("service", "setting", "expected"),
    [
        ("https://bsky.social", None, BLUESKYS),
        ("https://amanita.us-east.host.bsky.network", None, BLUESKYS),
        ("https://pds.example.org", None, None),  # a self-hosted PDS: direct
        ("https://notbsky.social", None, None),  # a look-alike host is not Bluesky's
        ("https://bsky.social", "direct", None),
        (
            "https://pds.example.org",
            "https://video.example.org/",
            VideoService("https://video.example.org", "did:web:video.example.org"),
        ),
        (
            "http://localhost:2583",
            "http://localhost:9001",
            VideoService("http://localhost:9001", "did:web:localhost%3A9001"),
        ),
    ],
)
def test_which_video_service(service: str, setting: str | None, expected: object) -> None:
    assert video_service_for(service, setting) == expected


def test_service_did_is_did_web_of_the_host() -> None:
    assert service_did("https://video.bsky.app") == "did:web:video.bsky.app"
    assert service_did("http://localhost:8123/") == "did:web:localhost%3A8123"


@pytest.mark.parametrize(
    ("answer", "sizes", "refusal"),
    [
        (
            {"canUpload": True, "remainingDailyVideos": 3, "remainingDailyBytes": 100},
            [60, 40],
            None,
        ),
        ({"canUpload": True}, [10**9], None),  # no counts given: nothing to hold against
        (
            {"canUpload": False, "message": "Email not verified", "error": "unconfirmed_email"},
            [1],
            "it takes no videos from this account now: Email not verified",
        ),
        ({"canUpload": False}, [1], "it takes no videos from this account now (a Bluesky"),
        ({"canUpload": True, "remainingDailyVideos": 1}, [1, 1], "may upload 1 more video today"),
        ({"canUpload": True, "remainingDailyBytes": 99}, [60, 40], "99 more bytes of video"),
    ],
)
def test_upload_limits(answer: dict[str, object], sizes: list[int], refusal: str | None) -> None:
    said = limits_refusal(answer, sizes)
    if refusal is None:
        assert said is None
    else:
        assert said is not None and refusal in said


def test_job_answers_wrapped_or_not_read_the_same() -> None:
    flat = {"jobId": "j1", "did": "did:plc:x", "state": "JOB_STATE_CREATED"}
    assert job_state(flat) == job_state({"jobStatus": flat})
    job = job_state(flat)
    assert (job.job_id, job.state, job.outcome) == ("j1", "JOB_STATE_CREATED", "pending")


def test_job_outcomes() -> None:
    done = job_state({"jobStatus": {"jobId": "j", "state": "JOB_STATE_COMPLETED", "blob": BLOB}})
    assert (done.outcome, done.blob) == ("done", BLOB)
    seen = job_state(
        {"jobId": "j", "state": "JOB_STATE_COMPLETED", "error": "already_exists", "blob": BLOB}
    )
    assert seen.outcome == "done"  # a blob wins over the error
    failed = job_state(
        {
            "jobStatus": {
                "jobId": "j",
                "state": "JOB_STATE_FAILED",
                "message": "Failed to process video",
                "error": "video processing error",
            }
        }
    )
    assert failed.outcome == "failed"
    assert failed.reason() == "Failed to process video (video processing error)"
    # How the service answers an account without a verified email (atproto#3097).
    refused = job_state(
        {"jobStatus": {"did": "", "error": "unconfirmed_email", "jobId": "", "state": ""}}
    )
    assert (refused.outcome, refused.reason()) == ("failed", "unconfirmed_email")


def test_the_video_service_setting(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "THREADPOST_TIMEZONE": "UTC"}
    config = tmp_path / "config.toml"
    config.write_text('[bluesky]\nvideo_service = "DIRECT"\n')
    config.chmod(0o600)
    assert load_settings(config, environ=env).bluesky.video_service == "direct"
    assert load_settings(environ=env).bluesky.video_service is None
    override = {**env, "THREADPOST_BLUESKY_VIDEO_SERVICE": "https://video.example.org/"}
    assert load_settings(config, environ=override).bluesky.video_service == (
        "https://video.example.org"
    )
    config.write_text('[bluesky]\nvideo_service = "http://video.example.org"\n')
    with pytest.raises(ConfigError, match=r"bluesky\.video_service"):
        load_settings(config, environ=env)
