"""Videos end to end through the CLI (issue 15, Media), against the real local PDS and the
local Mastodon API test server:

- `![alt](clip.mp4)` attaches a video: `check` passes, preview and dry run show its type,
  duration, size and aspect ratio, and publishing sends it as `app.bsky.embed.video`
  (the blob fetched back with com.atproto.sync.getBlob is the file, byte for byte) and
  as a Mastodon "video" attachment through /api/v2/media, processed before it is attached.
- A video over Bluesky's duration limit, and one beside an image, are `check` errors
  naming the post, its line and the file; publish sends nothing anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from image_builders import halves, save
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from mastodon_server.video_probe import probe_mp4
from threadpost.platforms.bluesky.records import POST_COLLECTION
from video_builders import mp4_bytes

pytestmark = pytest.mark.pds

DRAFT = """+++
title = "Cats"
+++
The jump.
![A grey cat jumps onto a bookshelf](clips/jump.mp4)

---

That is all.
"""


def _env(
    mastodon: MastodonTestServer, pds: pds_harness.LocalPDS, account: dict[str, Any]
) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": mastodon.url,
        "THREADPOST_MASTODON_TOKEN": mastodon.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
    }


def test_a_video_is_checked_shown_and_published_to_both(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    clip = mp4_bytes(seconds=6.4, width=1280, height=720, fps=25, media_bytes=20_000)
    (isolated_env / "clips").mkdir()
    (isolated_env / "clips" / "jump.mp4").write_bytes(clip)
    draft = isolated_env / "cats.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = _env(mastodon_server, pds, pds_account)
    mastodon_server.set_config(media_polls=2)

    checked = run_cli("check", "--json", str(draft), env=env)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["problems"] == []

    preview = run_cli("preview", str(draft), env=env)
    assert preview.exit_code == 0, preview.stdout + preview.stderr
    flat = " ".join(preview.stdout.replace("│", " ").split())
    assert (
        "clips/jump.mp4 — A grey cat jumps onto a bookshelf "
        f"(video/mp4, 6.4 s, 1280×720 (16:9), {len(clip):,} bytes)" in flat
    )
    shown = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)
    video = {
        "mime": "video/mp4",
        "size_bytes": len(clip),
        "duration_seconds": 6.4,
        "width": 1280,
        "height": 720,
        "aspect_ratio": "16:9",
    }
    for network in ("mastodon", "bluesky"):
        assert shown["platforms"][network]["posts"][0]["images"][0]["video"] == video

    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    payloads = dry["platforms"]
    bluesky_embed = payloads["bluesky"]["payloads"][0]["embed"]
    assert bluesky_embed["$type"] == "app.bsky.embed.video"
    assert bluesky_embed["alt"] == "A grey cat jumps onto a bookshelf"
    assert bluesky_embed["aspectRatio"] == {"width": 1280, "height": 720}
    assert bluesky_embed["video"]["mimeType"] == "video/mp4"
    assert bluesky_embed["video"]["size"] == len(clip)
    [media] = payloads["mastodon"]["payloads"][0]["media"]
    assert media["video"] == video
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []  # dry: nothing sent

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr

    records = sorted(
        pds.list_records(pds_account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    assert len(records) == 2
    embed = records[0]["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "A grey cat jumps onto a bookshelf"
    assert embed["aspectRatio"] == {"width": 1280, "height": 720}
    assert embed["video"]["mimeType"] == "video/mp4"
    assert pds.get_blob(pds_account["did"], embed["video"]["ref"]["$link"]) == clip
    assert "embed" not in records[1]["value"]

    [uploaded] = mastodon_server.media.values()
    assert (uploaded.kind, uploaded.content_type, uploaded.data) == ("video", "video/mp4", clip)
    assert uploaded.description == "A grey cat jumps onto a bookshelf"
    first = mastodon_server.published()[0]
    assert first.media_ids == [uploaded.id]
    polls = mastodon_server.requests_to("GET", r"/api/v1/media/\d+")
    assert [r.status for r in polls] == [206, 200]


def test_a_video_over_a_limit_or_beside_an_image_sends_nothing(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    (isolated_env / "clips").mkdir()
    (isolated_env / "clips" / "jump.mp4").write_bytes(mp4_bytes(seconds=200))
    save(halves((40, 20)), isolated_env / "clips" / "still.png", "PNG")
    draft = isolated_env / "cats.md"
    draft.write_text(
        DRAFT.replace(
            "That is all.", "That is all.\n![A still](clips/still.png)\n![Again](clips/jump.mp4)"
        ),
        encoding="utf-8",
    )
    env = _env(mastodon_server, pds, pds_account)
    writes = pds.count("com.atproto.repo.applyWrites")

    checked = run_cli("check", "--json", str(draft), env=env)
    assert checked.exit_code == 3, checked.stdout + checked.stderr
    found = {
        (p["platform"], p["post"], p["line"], p["code"])
        for p in json.loads(checked.stdout)["problems"]
    }
    assert found == {
        ("bluesky", 1, 5, "video-too-long"),
        ("bluesky", 2, 11, "video-too-long"),
        ("bluesky", 2, 11, "video-with-images"),
        ("mastodon", 2, 11, "video-with-images"),
    }
    text = " ".join(run_cli("check", str(draft), env=env).stdout.split())
    assert (
        f"{draft}:5 bluesky post 1: error: video clips/jump.mp4 lasts 200.0 s; Bluesky accepts "
        "at most 180 s" in text
    )

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 3, published.stdout + published.stderr
    assert pds.count("com.atproto.repo.applyWrites") == writes
    assert pds.list_records(pds_account["did"], POST_COLLECTION) == []
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []
    assert mastodon_server.published() == []


def test_an_animated_gif_goes_to_bluesky_as_a_video_and_to_mastodon_as_gifv(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    from PIL import Image

    frames = [Image.new("RGB", (80, 50), (i * 30, 60, 240 - i * 30)) for i in range(8)]
    (isolated_env / "clips").mkdir()
    gif = isolated_env / "clips" / "spin.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=125, loop=0)
    draft = isolated_env / "spin.md"
    draft.write_text("A spinning top.\n![A top spins and falls](clips/spin.gif)\n")
    env = _env(mastodon_server, pds, pds_account)

    checked = run_cli("check", "--json", str(draft), env=env)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["problems"] == []  # no first-frame warning
    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    shown = dry["platforms"]["bluesky"]["payloads"][0]["embed"]
    assert (shown["$type"], shown["presentation"]) == ("app.bsky.embed.video", "gif")
    assert shown["video"]["mimeType"] == "video/mp4"
    assert shown["aspectRatio"] == {"width": 80, "height": 50}

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr

    [record] = pds.list_records(pds_account["did"], POST_COLLECTION)
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["presentation"] == "gif"
    assert embed["alt"] == "A top spins and falls"
    assert embed["aspectRatio"] == {"width": 80, "height": 50}
    assert embed["video"]["mimeType"] == "video/mp4"
    data = pds.get_blob(pds_account["did"], embed["video"]["ref"]["$link"])
    assert len(data) == embed["video"]["size"] > 0
    probe = probe_mp4(data)  # the test server's own MP4 reader
    assert probe is not None and (probe.width, probe.height) == (80, 50)
    assert probe.duration == pytest.approx(1.0, abs=0.05)

    [media] = mastodon_server.media.values()
    assert (media.kind, media.data) == ("gifv", gif.read_bytes())
