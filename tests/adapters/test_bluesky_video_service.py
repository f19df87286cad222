"""The Bluesky publisher's video-service path against the real local PDS and the local
video-service server (tests/video_service_server.py): polling is bounded (a service that
never finishes is a TransientError naming the post, the video and the job, with nothing
written), a video the service has processed before comes back at once with its blob
(error "already_exists", as the service answers: bsky-docs), an animated GIF made an MP4
goes the same way, and the stand-in refuses bad service tokens as the service would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

import pds_harness
from threadpost.config import BlueskySettings, Settings
from threadpost.draft import parse_draft
from threadpost.errors import TransientError
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.records import POST_COLLECTION
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.values import PostRef
from video_builders import mp4_bytes
from video_service_server import running_video_service

pytestmark = pytest.mark.pds


def _publisher(
    pds: pds_harness.LocalPDS, account: dict[str, Any], tmp_path: Path, service: str, **kw: Any
) -> BlueskyPublisher:
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "ledger.db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service=pds.url,
            handle=account["handle"],
            app_password=account["password"],
            link_cards=False,
            video_service=service,
        ),
    )
    return BlueskyPublisher(settings, **kw)


def _thread(tmp_path: Path, clip: bytes) -> Any:
    (tmp_path / "clip.mp4").write_bytes(clip)
    draft = parse_draft(b"Look.\n![A cat](clip.mp4)\n", tmp_path / "d.md")
    return plan_thread(draft, BLUESKY_LIMITS)


def test_a_video_service_that_never_finishes_stops_after_the_bound(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    pauses: list[float] = []
    with running_video_service(pds.url, pds.plc_url, polls_before_done=10**6) as service:
        publisher = _publisher(
            pds, pds_account, tmp_path, service.url, sleep=pauses.append, video_wait=8.0
        )
        thread = _thread(tmp_path, mp4_bytes(seconds=2))
        keys = publisher.post_keys("t", thread)
        writes = pds.count("com.atproto.repo.applyWrites")
        with pytest.raises(TransientError) as caught:
            publisher.send(thread, keys, start=1, root=None, parent=None, confirm=print)
        [job] = service.jobs.values()
        assert service.calls("app.bsky.video.getJobStatus") == len(pauses) == 5
    assert pauses == [0.5, 1.0, 2.0, 4.0, 5.0]  # growing, capped; 12.5 s >= the bound
    message = str(caught.value)
    assert message.startswith("post 1: video clip.mp4: Bluesky's video service had not finished")
    assert f"job {job.id}, JOB_STATE_ENCODING" in message
    assert "nothing was posted" in message
    assert pds.count("com.atproto.repo.applyWrites") == writes


def test_a_video_the_service_has_seen_comes_back_at_once(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    clip = mp4_bytes(seconds=2, width=320, height=240)
    with running_video_service(pds.url, pds.plc_url, wrap_upload_answer=True) as service:
        first = _publisher(pds, pds_account, tmp_path / "a", service.url, sleep=lambda _: None)
        thread = _thread(tmp_path, clip)
        confirmed: list[PostRef] = []
        first.send(
            thread,
            first.post_keys("t1", thread),
            start=1,
            root=None,
            parent=None,
            confirm=confirmed.extend,
        )
        [job] = service.jobs.values()
        assert job.blob is not None
        # The real service answers a repeat with the earlier blob and "already_exists".
        job.error, job.message = "already_exists", "Video already processed"
        service.polls_before_done = 10**6
        polls = service.calls("app.bsky.video.getJobStatus")
        again = _publisher(pds, pds_account, tmp_path / "b", service.url, sleep=lambda _: None)
        again.send(
            thread,
            again.post_keys("t2", thread),
            start=1,
            root=None,
            parent=None,
            confirm=confirmed.extend,
        )
        assert service.calls("app.bsky.video.getJobStatus") == polls  # no wait at all
    records = pds.list_records(pds_account["did"], POST_COLLECTION)
    assert len(records) == 2
    assert {r["value"]["embed"]["video"]["ref"]["$link"] for r in records} == {
        job.blob["ref"]["$link"]
    }


def _status(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{url}/xrpc/app.bsky.video.getUploadLimits", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)["error"]


def test_the_local_video_service_checks_tokens_as_the_real_one(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any]
) -> None:
    """The stand-in refuses what the real service would: a token for another audience or
    another method, an expired one, and one whose signature is not the issuer's."""
    access = pds_account["accessJwt"]
    with running_video_service(pds.url, pds.plc_url) as service:

        def token(**params: Any) -> str:
            got = pds.xrpc_get("com.atproto.server.getServiceAuth", params, token=access)
            return str(got["token"])

        good = token(aud=service.did, lxm="app.bsky.video.getUploadLimits")
        assert _status(service.url, good) == (200, "")
        other_aud = token(aud=service.pds_did, lxm="app.bsky.video.getUploadLimits")
        assert _status(service.url, other_aud) == (401, "BadJwtAudience")
        other_lxm = token(aud=service.did, lxm="com.atproto.repo.uploadBlob")
        assert _status(service.url, other_lxm) == (401, "BadJwtLexiconMethod")
        head, body, signature = good.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        assert _status(service.url, f"{head}.{body}.{flipped}") == (401, "BadJwtSignature")
        assert _status(service.url, "not-a-token") == (401, "BadJwt")


def test_an_animated_gif_made_a_video_goes_through_the_service_too(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    frames = [Image.new("RGB", (40, 30), (i * 30, 60, 200)) for i in range(6)]
    frames[0].save(
        tmp_path / "spin.gif", save_all=True, append_images=frames[1:], duration=100, loop=0
    )
    draft = parse_draft(b"Spin.\n![A top spins](spin.gif)\n", tmp_path / "d.md")
    thread = plan_thread(draft, BLUESKY_LIMITS)
    with running_video_service(pds.url, pds.plc_url) as service:
        publisher = _publisher(pds, pds_account, tmp_path, service.url, sleep=lambda _: None)
        publisher.send(
            thread,
            publisher.post_keys("t", thread),
            start=1,
            root=None,
            parent=None,
            confirm=lambda ref: None,
        )
        [job] = service.jobs.values()
    [record] = pds.list_records(pds_account["did"], POST_COLLECTION)
    embed = record["value"]["embed"]
    assert (embed["$type"], embed["presentation"]) == ("app.bsky.embed.video", "gif")
    assert job.blob is not None and embed["video"]["ref"] == job.blob["ref"]
    assert job.data[4:8] == b"ftyp"  # the MP4 made of the GIF, not the GIF
