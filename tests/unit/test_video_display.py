"""How a video shows before publishing: the Bluesky dry-run record (a quote post with a
video is recordWithMedia around the video), and the HTML preview's description of it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from threadpost.check import check_draft
from threadpost.config import Settings
from threadpost.draft import parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.records import draft_records
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.preview_html import render_html
from video_builders import mp4_bytes


def test_a_quote_post_with_a_video_embeds_the_video_in_record_with_media(
    tmp_path: Path,
) -> None:
    (tmp_path / "clip.mp4").write_bytes(mp4_bytes(width=720, height=1280))
    path = tmp_path / "d.md"
    text = (
        "Look at this.\n![A dog catches a ball](clip.mp4)\n"
        "> quote at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabcdefghi2a\n"
    )
    thread = plan_thread(parse_draft(text.encode(), path), BLUESKY_LIMITS)
    [record] = draft_records(thread, now=datetime(2026, 1, 1, tzinfo=UTC))
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    media = embed["media"]
    assert media["$type"] == "app.bsky.embed.video"
    assert media["alt"] == "A dog catches a ball"
    assert media["aspectRatio"] == {"width": 720, "height": 1280}
    assert media["video"]["mimeType"] == "video/mp4"
    assert media["video"]["size"] == (tmp_path / "clip.mp4").stat().st_size


def test_the_html_preview_describes_the_video(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(mp4_bytes(seconds=3, width=1280, height=720))
    draft = tmp_path / "d.md"
    draft.write_text("A clip.\n![A cat](clip.mp4)\n", encoding="utf-8")
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
    )
    page = render_html(check_draft(draft, settings, offline=True))
    size = (tmp_path / "clip.mp4").stat().st_size
    shown = f"▶ clip.mp4: video/mp4, 3.0 s, 1280×720 (16:9), {size:,} bytes"
    assert page.count(shown) == 2  # one per network
    assert "cannot be shown" not in page
