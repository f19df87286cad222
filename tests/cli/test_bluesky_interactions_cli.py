"""Reply/quote controls, tags and quotes through the CLI, offline: `preview --json` and
`publish --dry-run --json` show what will be written, and `check` names the draft line."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli

ADDRESS = "https://bsky.app/profile/alice.test/post/3jzfcijpj2z2a"
DRAFT = f"""+++
platforms = ["bluesky"]
bluesky_replies = ["mentioned", "following"]
bluesky_quotes = false
bluesky_tags = ["#cities"]
+++
First post.
> quote {ADDRESS}
---
Second post.
> tags #one #two
"""


def test_preview_and_dry_run_show_controls_tags_and_quotes(isolated_env: Path) -> None:
    draft = isolated_env / "gated.md"
    draft.write_text(DRAFT, encoding="utf-8")
    preview = json.loads(run_cli("preview", "--json", "--offline", str(draft)).stdout)
    bluesky = preview["platforms"]["bluesky"]
    assert (bluesky["replies"], bluesky["quotes"]) == (["mentioned", "following"], False)
    assert [(p["tags"], p["quote"]) for p in bluesky["posts"]] == [
        (["cities"], ADDRESS),
        (["one", "two"], None),
    ]
    assert [p["text"] for p in bluesky["posts"]] == ["First post. 1/2", "Second post. 2/2"]

    dry = json.loads(run_cli("publish", "--dry-run", "--json", "--offline", str(draft)).stdout)
    platform = dry["platforms"]["bluesky"]
    assert [gate["$type"] for gate in platform["gates"]] == [
        "app.bsky.feed.threadgate",
        "app.bsky.feed.postgate",
        "app.bsky.feed.postgate",
    ]
    first = platform["payloads"][0]
    assert first["embed"]["$type"] == "app.bsky.embed.record"
    assert first["embed"]["record"]["uri"].endswith("/app.bsky.feed.post/3jzfcijpj2z2a")
    assert first["tags"] == ["cities"]

    shown = run_cli("preview", "--offline", str(draft)).stdout
    assert "replies: mentioned, following" in shown
    assert f"Quotes: {ADDRESS}" in shown


def test_check_names_the_line_of_a_quote_bluesky_cannot_make(isolated_env: Path) -> None:
    draft = isolated_env / "foreign.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\n+++\nHi\n> quote https://example.social/@a/1\n',
        encoding="utf-8",
    )
    checked = run_cli("check", "--offline", str(draft))
    assert checked.exit_code == 3
    assert f"{draft}:5 bluesky post 1: error:" in checked.stdout.replace("\n", " ")
