"""Preview and dry run say which way each Bluesky video goes up (issue 15): through the
video service or straight to the PDS, as publishing will do it.

- Against the real local PDS and the local video-service server: with `video_service`
  set, the terminal preview, the HTML page, `--json` ("upload" on the attachment) and the
  dry run (its `video_uploads` calls) all name the service, and publishing then sends the
  video there; without it (a self-hosted PDS's default) they say it goes to the PDS
  directly, and publishing uploads the blob there and asks no service.
- Offline, from the config file: Bluesky's hosting defaults to Bluesky's video service,
  `video_service = "direct"` overrides it; Mastodon's attachments are unchanged.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from threadpost.platforms.bluesky.records import POST_COLLECTION
from video_builders import mp4_bytes
from video_service_server import VideoServiceServer, running_video_service

DRAFT = """+++
platforms = ["bluesky", "mastodon"]
+++
The jump.
![A grey cat jumps onto a bookshelf](clips/jump.mp4)

---

A still moment.
"""
DIRECT_WORDS = (
    "Video uploaded directly to the PDS (no video service: the PDS is not on Bluesky's "
    "hosting; apps may not play it until Bluesky has processed it)"
)


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def _draft(folder: Path) -> tuple[bytes, Path]:
    clip = mp4_bytes(seconds=3, width=640, height=360)
    (folder / "clips").mkdir()
    (folder / "clips" / "jump.mp4").write_bytes(clip)
    draft = folder / "jump.md"
    draft.write_text(DRAFT, encoding="utf-8")
    return clip, draft


def _page_text(page: Path) -> str:
    return _flat(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))))


@pytest.fixture
def video_service(pds: pds_harness.LocalPDS) -> Iterator[VideoServiceServer]:
    with running_video_service(pds.url, pds.plc_url) as server:
        yield server


def _env(pds: pds_harness.LocalPDS, account: dict[str, Any], service: str | None) -> dict[str, str]:
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
    }
    if service is not None:
        env["THREADPOST_BLUESKY_VIDEO_SERVICE"] = service
    return env


@pytest.mark.pds
def test_a_configured_video_service_is_shown_everywhere_and_then_used(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    video_service: VideoServiceServer,
    isolated_env: Path,
) -> None:
    clip, draft = _draft(isolated_env)
    env = _env(pds, pds_account, video_service.url)
    words = f"Video via the video service ({video_service.url})"

    shown = run_cli("preview", "--offline", "--platform", "bluesky", str(draft), env=env)
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    flat = _flat(shown.stdout)
    assert words in flat
    assert "directly to the PDS" not in flat
    # Only the post with the video says it.
    assert flat.count("Video via the video service") == 1

    page = isolated_env / "preview.html"
    assert run_cli("preview", "--offline", "--html", str(page), str(draft), env=env).exit_code == 0
    assert _page_text(page).count(words) == 1  # the Bluesky column only

    preview = json.loads(run_cli("preview", "--offline", "--json", str(draft), env=env).stdout)
    first, second = preview["platforms"]["bluesky"]["posts"]
    [attachment] = first["images"]
    assert attachment["upload"] == {
        "via": "video-service",
        "url": video_service.url,
        "configured": True,
    }
    assert attachment["video"]["size_bytes"] == len(clip)  # the existing keys stay
    assert attachment["path"].endswith("jump.mp4")
    assert second["images"] == []
    [mastodon_attachment] = preview["platforms"]["mastodon"]["posts"][0]["images"]
    assert "upload" not in mastodon_attachment

    dry = json.loads(
        run_cli("publish", "--dry-run", "--offline", "--json", str(draft), env=env).stdout
    )
    [upload] = dry["platforms"]["bluesky"]["video_uploads"]
    assert (upload["post"], upload["words"]) == (1, words)
    assert upload["upload"] == attachment["upload"]
    calls = [(request["to"], request["call"]) for request in upload["requests"]]
    assert calls == [
        (pds.url, "com.atproto.server.getServiceAuth"),
        (video_service.url, "app.bsky.video.getUploadLimits"),
        (pds.url, "com.atproto.server.describeServer"),
        (pds.url, "com.atproto.server.getServiceAuth"),
        (video_service.url, "app.bsky.video.uploadVideo"),
        (video_service.url, "app.bsky.video.getJobStatus"),
    ]
    limits_auth, upload_auth, sent = (upload["requests"][i] for i in (0, 3, 4))
    assert limits_auth["params"] == {
        "aud": video_service.did,
        "lxm": "app.bsky.video.getUploadLimits",
    }
    assert upload_auth["params"]["lxm"] == "com.atproto.repo.uploadBlob"
    assert sent["params"]["name"] == "jump.mp4"
    assert (sent["content_type"], sent["body"]) == ("video/mp4", f"<{len(clip)} bytes>")
    assert dry["platforms"]["mastodon"]["video_uploads"] == []
    terminal = _flat(run_cli("publish", "--dry-run", "--offline", str(draft), env=env).stdout)
    assert (
        f"# bluesky video upload, post 1: video via the video service ({video_service.url})"
        in terminal
    )
    assert video_service.requests == []  # nothing asked of the service yet

    published = run_cli("publish", "--yes", "--platform", "bluesky", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    # What was shown is what happened: the service got the video.
    [job] = video_service.jobs.values()
    assert job.data == clip


@pytest.mark.pds
def test_a_self_hosted_pds_is_shown_as_a_direct_upload_and_then_uploaded_to(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    clip, draft = _draft(isolated_env)
    env = _env(pds, pds_account, None)

    shown = run_cli("preview", "--offline", "--platform", "bluesky", str(draft), env=env)
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert DIRECT_WORDS in _flat(shown.stdout)
    assert "video service (" not in _flat(shown.stdout)

    page = isolated_env / "preview.html"
    assert run_cli("preview", "--offline", "--html", str(page), str(draft), env=env).exit_code == 0
    assert DIRECT_WORDS in _page_text(page)

    preview = json.loads(run_cli("preview", "--offline", "--json", str(draft), env=env).stdout)
    [attachment] = preview["platforms"]["bluesky"]["posts"][0]["images"]
    assert attachment["upload"] == {"via": "direct", "url": pds.url, "configured": False}

    dry = json.loads(
        run_cli("publish", "--dry-run", "--offline", "--json", str(draft), env=env).stdout
    )
    [upload] = dry["platforms"]["bluesky"]["video_uploads"]
    assert upload["requests"] == [
        {
            "to": pds.url,
            "call": "com.atproto.repo.uploadBlob",
            "content_type": "video/mp4",
            "body": f"<{len(clip)} bytes>",
        }
    ]
    terminal = _flat(run_cli("publish", "--dry-run", "--offline", str(draft), env=env).stdout)
    assert "# bluesky video upload, post 1: video uploaded directly to the PDS" in terminal

    uploads = pds.count("com.atproto.repo.uploadBlob")
    published = run_cli("publish", "--yes", "--platform", "bluesky", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    assert pds.count("com.atproto.repo.uploadBlob") == uploads + 1
    [record, _] = sorted(
        pds.list_records(pds_account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    embed = record["value"]["embed"]
    assert pds.get_blob(pds_account["did"], embed["video"]["ref"]["$link"]) == clip


@pytest.mark.parametrize(
    ("config", "upload", "words"),
    [
        (
            '[bluesky]\nservice = "https://bsky.social"\nhandle = "cat.bsky.social"\n',
            {"via": "video-service", "url": "https://video.bsky.app", "configured": False},
            "Video via the video service (https://video.bsky.app)",
        ),
        (
            '[bluesky]\nservice = "https://bsky.social"\nhandle = "cat.bsky.social"\n'
            'video_service = "direct"\n',
            {"via": "direct", "url": "https://bsky.social", "configured": True},
            'Video uploaded directly to the PDS (no video service: video_service = "direct"; '
            "apps may not play it until Bluesky has processed it)",
        ),
    ],
    ids=["bluesky-hosting-default", "direct-in-config"],
)
def test_the_config_chooses_the_path_shown_offline(
    isolated_env: Path, config: str, upload: dict[str, Any], words: str
) -> None:
    (isolated_env / "config.toml").write_text(config, encoding="utf-8")
    _, draft = _draft(isolated_env)

    shown = run_cli("preview", "--offline", str(draft))
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    flat = _flat(shown.stdout)
    assert flat.count(words) == 1  # on Bluesky's video post, not on Mastodon's

    preview = json.loads(run_cli("preview", "--offline", "--json", str(draft)).stdout)
    assert preview["platforms"]["bluesky"]["posts"][0]["images"][0]["upload"] == upload
    dry = json.loads(run_cli("publish", "--dry-run", "--offline", "--json", str(draft)).stdout)
    [planned] = dry["platforms"]["bluesky"]["video_uploads"]
    assert planned["upload"] == upload
    assert planned["requests"][-1]["call"] == (
        "app.bsky.video.getJobStatus"
        if upload["via"] == "video-service"
        else "com.atproto.repo.uploadBlob"
    )


def test_an_animated_gif_sent_as_a_video_shows_its_path_too(isolated_env: Path) -> None:
    """Alone in its post, a GIF goes to Bluesky as a video (gif_video.py): the same path."""
    from PIL import Image

    (isolated_env / "config.toml").write_text(
        '[bluesky]\nservice = "https://bsky.social"\nhandle = "cat.bsky.social"\n',
        encoding="utf-8",
    )
    frames = [Image.new("RGB", (80, 50), (i * 30, 60, 240 - i * 30)) for i in range(8)]
    gif = isolated_env / "spin.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=125, loop=0)
    draft = isolated_env / "spin.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky", "mastodon"]\n+++\nA spinning top.\n'
        "![A top spins and falls](spin.gif)\n",
        encoding="utf-8",
    )
    words = "Video via the video service (https://video.bsky.app)"

    assert _flat(run_cli("preview", "--offline", str(draft)).stdout).count(words) == 1
    preview = json.loads(run_cli("preview", "--offline", "--json", str(draft)).stdout)
    [shown] = preview["platforms"]["bluesky"]["posts"][0]["images"]
    assert shown["upload"]["via"] == "video-service"
    assert "upload" not in preview["platforms"]["mastodon"]["posts"][0]["images"][0]
    dry = json.loads(run_cli("publish", "--dry-run", "--offline", "--json", str(draft)).stdout)
    [upload] = dry["platforms"]["bluesky"]["video_uploads"]
    sent = next(r for r in upload["requests"] if r["call"] == "app.bsky.video.uploadVideo")
    assert sent["body"] == "(the MP4 made from the GIF)"
    assert sent["params"]["name"] == "spin.gif"
