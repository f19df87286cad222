"""A per-post content warning and a poll published to both networks through the CLI, against
the local Mastodon API test server and the real local Bluesky PDS, asserting on what each
stored: Mastodon gets the post's spoiler_text and the poll; Bluesky blurs the thread's
media behind the label a thread cw would give, and sends the post without the poll."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import write_image
from mastodon_server.server import MastodonTestServer
from threadpost.platforms.bluesky.records import POST_COLLECTION, record_cid

pytestmark = pytest.mark.pds


def test_a_post_cw_and_a_poll_on_both_networks(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    write_image(isolated_env / "img" / "eye.png")
    draft = isolated_env / "both.md"
    draft.write_text(
        "How a cataract is removed.\n---\n> cw Eye surgery\nThe operation itself.\n"
        "![A surgeon's view of an eye](img/eye.png)\n---\nWould you have it done?\n"
        "> poll Yes | No | Not sure\n> poll-duration 2d\n",
        encoding="utf-8",
    )
    env = {
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": mastodon_server.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    checked = json.loads(run_cli("check", "--json", str(draft), env=env).stdout)
    assert checked["ok"] is True
    assert [(p["platform"], p["post"], p["code"]) for p in checked["problems"]] == [
        ("bluesky", 2, "content-warning-not-on-bluesky"),
        ("bluesky", 3, "poll-not-on-bluesky"),
    ]

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr

    statuses = mastodon_server.published()
    assert [s.spoiler_text for s in statuses] == ["", "Eye surgery", ""]
    assert [s.sensitive for s in statuses] == [False, True, False]
    assert [len(s.media_ids) for s in statuses] == [0, 1, 0]
    assert statuses[2].poll is not None and statuses[2].poll.options == ["Yes", "No", "Not sure"]

    records = sorted(
        pds.list_records(pds_account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    assert [r["value"]["text"] for r in records] == [
        "How a cataract is removed. 1/3",
        "The operation itself. 2/3",
        "Would you have it done? 3/3",
    ]
    for record in records:
        assert record["value"]["labels"]["values"] == [{"val": "graphic-media"}]
        assert "poll" not in json.dumps(record["value"]).lower()
        assert record_cid(record["value"]) == record["cid"]
