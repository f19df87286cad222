"""`threadpost edit` on a thread published to both networks, against the local Mastodon API
test server and the real local Bluesky PDS: Mastodon's changed post is edited in place;
Bluesky, which has no edits, is left exactly as it was (no record deleted, rewritten or
added) and the output says so."""

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

pytestmark = pytest.mark.pds


def test_edit_changes_mastodon_and_leaves_bluesky_as_published(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    draft = isolated_env / "both.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon", "bluesky"]\n+++\nFirst post.\n---\nSecond post.\n',
        encoding="utf-8",
    )
    env = {
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": mastodon_server.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    published = run_cli("publish", "--yes", "--json", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    thread_id = json.loads(published.stdout)["thread"]
    before = pds.list_records(pds_account["did"], POST_COLLECTION)

    draft.write_text(draft.read_text().replace("Second post.", "Second post, corrected."))
    edited = run_cli("edit", "--yes", thread_id, env=env)
    assert edited.exit_code == 0, edited.stdout + edited.stderr
    assert "mastodon post 2: edited (text)" in edited.stdout
    assert "bluesky: 1 post(s) differ from the draft; Bluesky has no edits" in edited.stderr

    assert [s.text for s in mastodon_server.published()] == [
        "First post. 1/2",
        "Second post, corrected. 2/2",
    ]
    after = pds.list_records(pds_account["did"], POST_COLLECTION)
    assert sorted((r["uri"], r["cid"]) for r in after) == sorted(
        (r["uri"], r["cid"]) for r in before
    )
    assert sorted(r["value"]["text"] for r in after) == ["First post. 1/2", "Second post. 2/2"]
