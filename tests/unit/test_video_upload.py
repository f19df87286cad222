"""prepare_video: the file's own bytes when within the network's limits; VideoWontGo naming
the video and every limit it is over otherwise (the publishers' last check before upload)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.video_upload import VideoWontGo, prepare_video
from video_builders import mp4_bytes, webm_bytes


def test_within_the_limits_the_bytes_are_the_files(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4_bytes(seconds=3))
    prepared = prepare_video(clip, "clips/clip.mp4", BLUESKY_LIMITS, "Bluesky")
    assert prepared.data == clip.read_bytes()
    assert (prepared.info.mime, prepared.info.duration_seconds) == ("video/mp4", 3.0)


def test_over_the_limits_says_each(tmp_path: Path) -> None:
    loop = tmp_path / "loop.webm"
    loop.write_bytes(webm_bytes(seconds=200))
    with pytest.raises(VideoWontGo) as raised:
        prepare_video(loop, "loop.webm", BLUESKY_LIMITS, "Bluesky")
    assert raised.value.reason == (
        "video loop.webm is video/webm; Bluesky takes video/mp4; "
        "video loop.webm lasts 200.0 s; Bluesky accepts at most 180 s"
    )
    small = replace(MASTODON_DEFAULT_LIMITS, max_video_bytes=100)
    with pytest.raises(VideoWontGo) as raised:
        prepare_video(loop, "loop.webm", small, "Mastodon")
    assert raised.value.reason.startswith("video loop.webm is ")
    assert "Mastodon accepts at most 100 bytes" in raised.value.reason


def test_a_damaged_or_missing_video(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(mp4_bytes()[:100])
    with pytest.raises(VideoWontGo) as raised:
        prepare_video(broken, "broken.mp4", BLUESKY_LIMITS, "Bluesky")
    assert raised.value.reason.startswith("video broken.mp4: is a damaged video file")
    with pytest.raises(VideoWontGo) as raised:
        prepare_video(tmp_path / "gone.mp4", "gone.mp4", BLUESKY_LIMITS, "Bluesky")
    assert raised.value.reason == "video gone.mp4: video file not found"
