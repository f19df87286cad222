"""Adapter warnings through the CLI: `publish` and `status` show what the Bluesky adapter
could not do (here: a link card whose page is unreachable), and the post is published
without the card. Against the real local PDS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from linkserver import closed_port

pytestmark = pytest.mark.pds


def test_an_unreachable_link_card_is_a_printed_warning_and_the_post_goes_out_without_it(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], isolated_env: Path
) -> None:
    page = f"http://127.0.0.1:{closed_port()}/article"
    draft = isolated_env / "card.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\nlang = "en"\n+++\n'
        f"A thread about cards. Read {page} first.\n\n---\n\nNo link in this one.\n",
        encoding="utf-8",
    )
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    # --offline: no link check before publishing, so the only word about the page is the
    # adapter's, at publishing time.
    published = run_cli("publish", "--yes", "--offline", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    assert "bluesky: published, 2/2 posts" in published.stdout
    warnings = [line for line in published.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1, published.stderr
    assert warnings[0].startswith("Warning: bluesky post 1: no link card: ")
    assert "post 1: post 1" not in warnings[0]

    records = pds.list_records(pds_account["did"], "app.bsky.feed.post", limit=10)
    first = next(r["value"] for r in records if "cards" in r["value"]["text"])
    assert "embed" not in first  # published, without a card
    assert first["facets"][0]["features"][0]["uri"] == page  # the link itself is kept

    thread_id = published.stdout.split()[1].rstrip(":")
    status = run_cli("status", thread_id, env=env)
    assert status.exit_code == 0, status.stderr
    assert "  warning: post 1: no link card: " in status.stdout
    as_json = json.loads(run_cli("status", thread_id, "--json", env=env).stdout)
    (warning,) = as_json["platforms"]["bluesky"]["warnings"]
    assert warning["post"] == 1 and warning["code"] == "link-card-failed"

    again = run_cli("publish", "--yes", "--offline", "--again", "--json", str(draft), env=env)
    assert again.exit_code == 0, again.stderr
    outcome = json.loads(again.stdout)["platforms"]["bluesky"]
    assert outcome["status"] == "published"
    assert [w.split(": ")[:2] for w in outcome["warnings"]] == [["post 1", "no link card"]]
