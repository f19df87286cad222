"""Captions for a video end to end through the CLI, against the real local PDS and the local
Mastodon API test server:

- `> captions en subs/jump.en.vtt` lines in the post with the video: `check` warns only
  that Mastodon gets no captions, preview and the dry run show them, and publishing puts
  them in the Bluesky record's `app.bsky.embed.video` `captions` ({lang, file}); each
  file's blob, fetched back with com.atproto.sync.getBlob, is the file byte for byte.
  Mastodon gets the video without them.
- A bad captions file is a `check` error naming the file, the line and the post, and
  publish sends nothing anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.platforms.bluesky.records import POST_COLLECTION
from video_builders import mp4_bytes

pytestmark = pytest.mark.pds

DRAFT = """+++
title = "Cats"
+++
The jump.
![A grey cat jumps onto a bookshelf](clips/jump.mp4)
> captions en subs/jump.en.vtt
> captions fr-CA subs/jump.fr.vtt

---

That is all.
"""

ENGLISH = b"WEBVTT\n\n00:00.000 --> 00:02.000\nThere she goes.\n"
FRENCH = "WEBVTT\n\n00:00.000 --> 00:02.000\nLa voilà partie.\n".encode()


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


def _write(folder: Path, draft_text: str = DRAFT) -> Path:
    (folder / "clips").mkdir()
    (folder / "subs").mkdir()
    (folder / "clips" / "jump.mp4").write_bytes(mp4_bytes(seconds=3, width=640, height=360))
    (folder / "subs" / "jump.en.vtt").write_bytes(ENGLISH)
    (folder / "subs" / "jump.fr.vtt").write_bytes(FRENCH)
    draft = folder / "cats.md"
    draft.write_text(draft_text, encoding="utf-8")
    return draft


def test_captions_are_checked_shown_and_published_to_bluesky(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    draft = _write(isolated_env)
    env = _env(mastodon_server, pds, pds_account)

    checked = run_cli("check", "--json", str(draft), env=env)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    [warning] = json.loads(checked.stdout)["problems"]
    assert (warning["platform"], warning["post"], warning["line"], warning["code"]) == (
        "mastodon",
        1,
        6,
        "captions-not-sent",
    )

    preview = run_cli("preview", str(draft), env=env)
    assert preview.exit_code == 0, preview.stdout + preview.stderr
    flat = " ".join(preview.stdout.replace("│", " ").split())
    assert "Captions: en (subs/jump.en.vtt), fr-CA (subs/jump.fr.vtt)" in flat
    shown = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)
    first = shown["platforms"]["bluesky"]["posts"][0]
    assert first["captions"] == [
        {"lang": "en", "path": str((isolated_env / "subs" / "jump.en.vtt").resolve())},
        {"lang": "fr-CA", "path": str((isolated_env / "subs" / "jump.fr.vtt").resolve())},
    ]
    assert "captions" not in shown["platforms"]["bluesky"]["posts"][1]

    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    planned = dry["platforms"]["bluesky"]["payloads"][0]["embed"]["captions"]
    assert [(c["lang"], c["file"]["mimeType"], c["file"]["size"]) for c in planned] == [
        ("en", "text/vtt", len(ENGLISH)),
        ("fr-CA", "text/vtt", len(FRENCH)),
    ]
    uploads = pds.count("com.atproto.repo.uploadBlob")

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    assert pds.count("com.atproto.repo.uploadBlob") == uploads + 3  # the video, 2 captions

    records = sorted(
        pds.list_records(pds_account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    embed = records[0]["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    captions = embed["captions"]
    assert [(c["lang"], c["file"]["$type"], c["file"]["mimeType"]) for c in captions] == [
        ("en", "blob", "text/vtt"),
        ("fr-CA", "blob", "text/vtt"),
    ]
    assert [c["file"]["size"] for c in captions] == [len(ENGLISH), len(FRENCH)]
    fetched = [pds.get_blob(pds_account["did"], c["file"]["ref"]["$link"]) for c in captions]
    assert fetched == [ENGLISH, FRENCH]

    [media] = mastodon_server.media.values()  # the video alone: no captions there
    assert media.kind == "video"


def test_a_bad_captions_file_is_an_error_and_sends_nothing(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    draft = _write(
        isolated_env,
        DRAFT.replace("subs/jump.fr.vtt", "subs/jump.fr.srt").replace(
            "That is all.", "That is all.\n> captions de subs/jump.de.vtt"
        ),
    )
    (isolated_env / "subs" / "jump.fr.srt").write_text("1\n00:00:00,000 --> 00:00:02,000\nx\n")
    env = _env(mastodon_server, pds, pds_account)
    writes = pds.count("com.atproto.repo.applyWrites")
    uploads = pds.count("com.atproto.repo.uploadBlob")

    checked = run_cli("check", "--json", str(draft), env=env)
    assert checked.exit_code == 3, checked.stdout + checked.stderr
    found = {
        (p["platform"], p["post"], p["line"], p["code"])
        for p in json.loads(checked.stdout)["problems"]
    }
    assert found == {
        ("bluesky", 1, 7, "captions-invalid"),
        ("mastodon", 1, 6, "captions-not-sent"),
        ("bluesky", 2, 12, "captions-without-video"),
        ("mastodon", 2, 12, "captions-without-video"),
    }
    text = " ".join(run_cli("check", str(draft), env=env).stdout.split())
    assert (
        f"{draft}:7 bluesky post 1: error: captions subs/jump.fr.srt: is not a WebVTT file (it "
        'must start with "WEBVTT")' in text
    )

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 3, published.stdout + published.stderr
    assert pds.count("com.atproto.repo.applyWrites") == writes
    assert pds.count("com.atproto.repo.uploadBlob") == uploads
    assert pds.list_records(pds_account["did"], POST_COLLECTION) == []
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []
    assert mastodon_server.published() == []
