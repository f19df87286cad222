"""`publish --dry-run` (issue 12, "Feedback"): payloads a person can copy from the terminal
(plain JSON under a heading, never cut by a box; `--json` gives them raw), and what can
be looked up resolved when online (mention DIDs against the local PDS, link card titles
from a local page); placeholders only offline, each one named."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from linkserver import LinkServer, serve

LONG = "A sentence long enough to run well past the width of any terminal it is shown on, " * 3


@pytest.fixture
def link_server() -> Iterator[LinkServer]:
    with serve() as running:
        yield running


def _blocks(stdout: str) -> dict[str, Any]:
    """Each "# heading" of the dry run → the JSON printed under it, parsed."""
    found: dict[str, Any] = {}
    parts = re.split(r"^# (.+)$", stdout, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        end = body.index("\n}\n") + 2
        found[heading.strip()] = json.loads(body[:end])
    return found


def test_terminal_payloads_are_the_json_payloads_whole(isolated_env: Path) -> None:
    draft = isolated_env / "long.md"
    draft.write_text(f'+++\nplatforms = ["mastodon", "bluesky"]\n+++\n{LONG.strip()}\n')
    text = run_cli("publish", "--dry-run", "--offline", str(draft))
    assert text.exit_code == 0, text.stderr
    raw = json.loads(run_cli("publish", "--dry-run", "--offline", "--json", str(draft)).stdout)
    blocks = _blocks(text.stdout)
    assert "│" not in text.stdout and "╭" not in text.stdout
    for name in ("mastodon", "bluesky"):
        payloads = raw["platforms"][name]["payloads"]
        for number, payload in enumerate(payloads, start=1):
            shown = blocks[f"{name} {number}/{len(payloads)}"]
            if name == "bluesky":  # the one value made afresh on every run
                shown.pop("createdAt"), payload.pop("createdAt")
            assert shown == payload
    # Each long text is one JSON string on one line: what a copy gives back.
    assert any(len(line) > 200 for line in text.stdout.splitlines())


@pytest.mark.pds
def test_online_resolves_mentions_and_cards_offline_marks_placeholders(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    link_server: LinkServer,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THREADPOST_BLUESKY_SERVICE", pds.url)
    link_server.pages["/article"] = (
        200,
        {"Content-Type": "text/html"},
        b'<html><head><meta property="og:title" content="Cameras in cities">'
        b'<meta property="og:description" content="Who buys them"></head></html>',
    )
    handle = pds_account["handle"]
    draft = isolated_env / "mention.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\n+++\n'
        f"Thanks @{handle} for this.\n---\nRead {link_server.url('/article')} now.\n"
    )

    online = run_cli("publish", "--dry-run", "--json", str(draft))
    assert online.exit_code == 0, online.stderr
    bluesky = json.loads(online.stdout)["platforms"]["bluesky"]
    first, second = bluesky["payloads"]
    assert [f["features"][0]["did"] for f in first["facets"]] == [pds_account["did"]]
    card = second["embed"]["external"]
    assert (card["title"], card["description"]) == ("Cameras in cities", "Who buys them")
    assert bluesky["placeholders"] == []
    assert "Placeholder" not in run_cli("publish", "--dry-run", str(draft)).stdout

    offline = run_cli("publish", "--dry-run", "--offline", "--json", str(draft))
    bluesky = json.loads(offline.stdout)["platforms"]["bluesky"]
    first, second = bluesky["payloads"]
    assert first["facets"][0]["features"][0]["did"] == f"did:?:{handle}"
    assert second["embed"]["external"]["title"] == "(fetched when publishing)"
    assert [mark["for"] for mark in bluesky["placeholders"]] == [
        f"@{handle}",
        link_server.url("/article"),
    ]
    shown = run_cli("publish", "--dry-run", "--offline", str(draft)).stdout
    assert f"Placeholder (offline or not found): @{handle}: its account id" in shown
