"""Video inspection on containers built here: MP4/QuickTime boxes and WebM elements give
the duration, picture size and frame rate; a file is a video by its name or its content;
damaged or foreign files are VideoError with a code and a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadpost.draft import parse_draft
from threadpost.errors import DraftError
from threadpost.videos import VideoError, aspect_ratio, inspect_video, is_video
from video_builders import mp4_bytes, webm_bytes


def test_mp4_duration_size_and_frame_rate(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4_bytes(seconds=12.5, width=1920, height=1080, fps=30))
    info = inspect_video(path)
    assert (info.mime, info.width, info.height) == ("video/mp4", 1920, 1080)
    assert info.duration_seconds == pytest.approx(12.5)
    assert info.frame_rate == pytest.approx(30.0)
    assert info.size_bytes == path.stat().st_size
    assert info.summary() == f"video/mp4, 12.5 s, 1920×1080 (16:9), {info.size_bytes:,} bytes"


def test_quicktime_with_media_data_before_the_header(tmp_path: Path) -> None:
    path = tmp_path / "clip.mov"
    path.write_bytes(mp4_bytes(brand=b"qt  ", moov_first=False, seconds=3, width=720, height=1280))
    info = inspect_video(path)
    assert (info.mime, info.width, info.height) == ("video/quicktime", 720, 1280)
    assert info.duration_seconds == pytest.approx(3.0)


def test_webm_duration_and_size(tmp_path: Path) -> None:
    path = tmp_path / "clip.webm"
    path.write_bytes(webm_bytes(seconds=3.25, width=640, height=480))
    info = inspect_video(path)
    assert (info.mime, info.width, info.height) == ("video/webm", 640, 480)
    assert info.duration_seconds == pytest.approx(3.25)
    assert info.frame_rate is None


def test_video_by_extension_or_by_content(tmp_path: Path) -> None:
    disguised = tmp_path / "clip.png"
    disguised.write_bytes(mp4_bytes())
    named = tmp_path / "notes.webm"
    named.write_bytes(b"just text")
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    assert is_video(disguised) and inspect_video(disguised).mime == "video/mp4"
    assert is_video(named)
    assert not is_video(picture)
    with pytest.raises(VideoError) as caught:
        inspect_video(named)
    assert caught.value.code == "video-invalid"
    assert "not an MP4, QuickTime or WebM" in caught.value.reason


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (mp4_bytes()[:-300], "truncated"),
        (mp4_bytes(with_video_track=False), "no video track"),
        (mp4_bytes()[:40], "runs past the end"),
    ],
)
def test_damaged_mp4_is_invalid(tmp_path: Path, data: bytes, says: str) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with pytest.raises(VideoError) as caught:
        inspect_video(path)
    assert caught.value.code == "video-invalid"
    assert says in caught.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoError) as caught:
        inspect_video(tmp_path / "gone.mp4")
    assert caught.value.code == "video-unreadable"


def test_aspect_ratio_in_lowest_terms() -> None:
    assert aspect_ratio(1920, 1080) == (16, 9)
    assert aspect_ratio(720, 1280) == (9, 16)
    assert aspect_ratio(0, 0) == (0, 0)


def test_a_missing_video_in_a_draft_is_named_a_video(tmp_path: Path) -> None:
    with pytest.raises(DraftError) as raised:
        parse_draft(b"A clip.\n![A cat](clips/gone.mp4)\n", tmp_path / "d.md")
    assert "video file not found: clips/gone.mp4" in str(raised.value)
    assert raised.value.line == 2
