"""`shorten_links` (front matter, else [bluesky] config) reaches the Bluesky plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadpost.check import plan_draft
from threadpost.config import load_settings
from threadpost.draft import read_draft

LONG_URL = "https://example.com/a/rather/long/path/to/an/article-about-tides?ref=thread"


def plan(tmp_path: Path, front: str, config: str) -> tuple[str, str, str]:
    draft_path = tmp_path / "d.md"
    draft_path.write_text(f"+++\n{front}\n+++\nRead this: {LONG_URL}\n")
    config_path = tmp_path / "c.toml"
    config_path.write_text(config)
    settings = load_settings(config_path, environ={"THREADPOST_STATE_DIR": str(tmp_path)})
    threads = plan_draft(read_draft(draft_path), settings, offline=True)
    bluesky = threads["bluesky"].posts[0]
    (link,) = [facet for facet in bluesky.facets if facet.kind == "link"]
    return bluesky.text, link.value, threads["mastodon"].posts[0].text


@pytest.mark.parametrize(
    ("front", "config", "shortened"),
    [
        ("", "", False),
        ("", "[bluesky]\nshorten_links = true", True),
        ("shorten_links = true", "", True),
        ("shorten_links = false", "[bluesky]\nshorten_links = true", False),
    ],
)
def test_front_matter_wins_over_config(
    tmp_path: Path, front: str, config: str, shortened: bool
) -> None:
    bluesky_text, facet_uri, mastodon_text = plan(tmp_path, front, config)
    assert facet_uri == LONG_URL  # the facet always keeps the full address
    assert mastodon_text == f"Read this: {LONG_URL}"  # Mastodon is never shortened
    if shortened:
        assert LONG_URL not in bluesky_text
        assert bluesky_text.startswith("Read this: example.com/")
        assert bluesky_text.endswith("...")
    else:
        assert bluesky_text == f"Read this: {LONG_URL}"
