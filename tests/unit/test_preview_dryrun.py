"""The dry run: the adapters' exact payloads per platform, nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from threadpost.config import Settings
from threadpost.dryrun import dry_run, jsonable, render

DRAFT = """+++
title = "Dry"
platforms = ["mastodon", "bluesky"]
lang = "fr"
cw = "spoilers"
+++
Premier message avec un lien https://example.com/page et #Paris

---

Deuxième message.
![Un carré rouge](red.png)
"""


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    Image.new("RGB", (30, 20), (220, 0, 0)).save(tmp_path / "red.png")
    path = tmp_path / "dry.md"
    path.write_text(DRAFT, encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    from zoneinfo import ZoneInfo

    return Settings(
        config_path=None,
        db_path=tmp_path / "db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
    )


def test_mastodon_status_parameters(draft: Path, settings: Settings) -> None:
    report = dry_run(draft, settings, ["mastodon"], offline=True)
    json.dumps(report)
    assert report["sent"] is False
    assert report["ok"] is True
    mastodon = report["platforms"]["mastodon"]
    assert mastodon["limit"] == 500
    first, second = mastodon["payloads"]
    assert first["status"].startswith("Premier message avec un lien https://example.com/page")
    assert first["status"].endswith("1/2")
    assert first["spoiler_text"] == "spoilers"
    assert first["language"] == "fr"
    assert first["in_reply_to_id"] is None
    assert second["in_reply_to_id"] == "<id of post 1>"
    assert first["visibility"] == "public"
    assert second["visibility"] == "unlisted"
    assert second["media"] == [
        {"path": str(draft.parent / "red.png"), "description": "Un carré rouge"}
    ]


def test_bluesky_records(draft: Path, settings: Settings) -> None:
    report = dry_run(draft, settings, ["bluesky"], offline=True)
    first, second = report["platforms"]["bluesky"]["payloads"]
    text = first["text"]
    assert text.startswith("Premier message")
    assert first["langs"] == ["fr"]
    encoded = text.encode()
    kinds = {}
    for facet in first["facets"]:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        kinds[facet["features"][0]["$type"]] = encoded[start:end].decode()
    assert kinds["app.bsky.richtext.facet#link"] == "https://example.com/page"
    assert kinds["app.bsky.richtext.facet#tag"] == "#Paris"
    assert "reply" not in first or first["reply"] is None
    assert second["reply"]  # a reply to the first post
    assert "Un carré rouge" in json.dumps(second["embed"], ensure_ascii=False)


def test_render_says_nothing_is_sent(draft: Path, settings: Settings) -> None:
    report = dry_run(draft, settings, ["mastodon"], offline=True)
    console = Console(record=True, width=120)
    console.print(render(report))
    text = console.export_text()
    assert f"Dry run of {draft}: nothing is sent." in text
    assert "mastodon · 2 × POST /api/v1/statuses parameters" in text
    assert "mastodon 1/2" in text
    assert '"spoiler_text": "spoilers"' in text
    assert "would be published" in text


def test_errors_show_in_the_report(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "bad.md"
    path.write_text('+++\nlang = "français"\n+++\nSalut\n', encoding="utf-8")
    report = dry_run(path, settings, ["mastodon"], offline=True)
    assert report["ok"] is False
    assert [p["code"] for p in report["problems"]] == ["invalid-lang"]
    console = Console(record=True, width=120)
    console.print(render(report))
    assert "would NOT be published (errors)" in console.export_text()


def test_jsonable() -> None:
    assert jsonable({"a": (Path("/x"), b"\x00\x01"), 1: None}) == {
        "a": ["/x", "<2 bytes>"],
        "1": None,
    }


def test_render_shows_every_character_of_a_long_post_on_a_narrow_terminal(
    tmp_path: Path, settings: Settings
) -> None:
    long_text = "Une phrase assez longue pour dépasser la largeur du terminal, " * 3
    path = tmp_path / "long.md"
    path.write_text(f"{long_text.strip()}\n", encoding="utf-8")
    report = dry_run(path, settings, ["bluesky"], offline=True)
    console = Console(record=True, width=60)
    console.print(render(report))

    def squeeze(text: str) -> str:
        return "".join(char for char in text if char not in " \n│")

    assert squeeze(long_text) in squeeze(console.export_text())
