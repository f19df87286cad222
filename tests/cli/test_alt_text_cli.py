"""Alt-text limits per network through `check` (issue 15): Mastodon refuses descriptions
over 1,500 characters (MediaAttachment::MAX_DESCRIPTION_LENGTH), named by post, line and
image; Bluesky's lexicon documents no cap (app.bsky.embed.images#image `alt` has no
maxLength), so the same draft is fine there."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import write_image


def test_alt_text_over_mastodons_limit_is_an_error_naming_post_line_and_image(
    isolated_env: Path,
) -> None:
    write_image(isolated_env / "img" / "chart.png")
    write_image(isolated_env / "img" / "map.png")
    long_alt = "A bar chart" + " of camera sales by year" * 63  # 1,523 characters
    assert len(long_alt) > 1500
    exact = "m" * 1500
    draft = isolated_env / "alt.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon", "bluesky"]\n+++\nFirst post.\n'
        f"![{exact}](img/map.png)\n---\nSecond post.\n![{long_alt}](img/chart.png)\n",
        encoding="utf-8",
    )
    checked = run_cli("check", "--offline", str(draft))
    assert checked.exit_code == 3, checked.stdout + checked.stderr
    flat = " ".join(checked.stdout.split())
    assert (
        f"{draft}:8 mastodon post 2: error: alt text of img/chart.png is {len(long_alt)} "
        "characters; Mastodon accepts at most 1500 [alt-too-long]"
    ) in flat
    report = json.loads(run_cli("check", "--offline", "--json", str(draft)).stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    # Exactly 1,500 is accepted; nothing at all for Bluesky.
    assert [(p["platform"], p["post"], p["line"], p["code"]) for p in errors] == [
        ("mastodon", 2, 8, "alt-too-long")
    ]
    bluesky_only = run_cli("check", "--offline", "--platform", "bluesky", str(draft))
    assert bluesky_only.exit_code == 0, bluesky_only.stdout + bluesky_only.stderr
