"""Animated GIFs as Bluesky videos: ffmpeg (from the imageio-ffmpeg wheel, a dev
dependency) makes an MP4 that threadpost's reader and the test server's probe both read;
`check` warns about a lost animation only where the GIF stays an image."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image as PILImage

from mastodon_server.video_probe import probe_mp4
from threadpost.check import check_thread
from threadpost.config import Settings
from threadpost.draft import Image
from threadpost.gif_to_video import GifConversionError, gif_as_mp4
from threadpost.mp4_boxes import read_mp4
from threadpost.plan import PlannedPost, Thread
from threadpost.platforms.bluesky import gif_video
from threadpost.platforms.bluesky.gif_video import gif_seconds, goes_as_video
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS


def animated_gif(path: Path, size: tuple[int, int] = (61, 41), frames: int = 10) -> Path:
    """`frames` frames of 100 ms each, changing colour (odd sizes: padded to even)."""
    pictures = [PILImage.new("RGB", size, (i * 25, 40, 250 - i * 25)) for i in range(frames)]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=100, loop=0)
    return path


def test_the_mp4_made_from_a_gif(tmp_path: Path) -> None:
    gif = animated_gif(tmp_path / "spin.gif")
    data = gif_as_mp4(gif)
    info = read_mp4(io.BytesIO(data), len(data))
    assert (info.width, info.height) == (62, 42)  # padded to even sizes for H.264
    assert info.duration_seconds == pytest.approx(1.0, abs=0.05)
    assert info.frame_rate == pytest.approx(10.0, abs=0.5)
    assert info.fast_start
    probe = probe_mp4(data)  # the test server's own reader agrees
    assert probe is not None and (probe.width, probe.height) == (62, 42)
    assert gif_seconds(gif) == pytest.approx(1.0)


def test_a_file_that_is_no_gif_is_a_conversion_error(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gif"
    fake.write_bytes(b"GIF89a" + bytes(20))
    with pytest.raises(GifConversionError) as raised:
        gif_as_mp4(fake)
    assert "ffmpeg could not convert it" in raised.value.reason


def test_which_gifs_go_as_video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moving = animated_gif(tmp_path / "moving.gif")
    still = tmp_path / "still.gif"
    PILImage.new("RGB", (20, 10)).save(still)
    long = animated_gif(tmp_path / "long.gif", frames=4)
    limit = BLUESKY_LIMITS.max_video_seconds
    assert goes_as_video(moving, alone=True, max_seconds=limit)
    assert not goes_as_video(moving, alone=False, max_seconds=limit)  # beside other images
    assert not goes_as_video(still, alone=True, max_seconds=limit)
    assert not goes_as_video(long, alone=True, max_seconds=0.3)  # 0.4 s of frames
    monkeypatch.setattr(gif_video, "converter", lambda: None)
    assert not goes_as_video(moving, alone=True, max_seconds=limit)


def test_check_warns_only_where_the_gif_stays_an_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
    )
    moving = animated_gif(tmp_path / "moving.gif")
    attached = Image(path=moving, alt="A spinning top", line=4, written_path="moving.gif")
    post = PlannedPost(
        index=1,
        text="Spin",
        length=4,
        bytes=4,
        facets=(),
        images=(attached,),
        source_post=1,
        source_line=3,
    )
    thread = Thread("bluesky", BLUESKY_LIMITS, (post,), "en", None, ())
    assert check_thread(thread, settings) == []
    monkeypatch.setattr(gif_video, "converter", lambda: None)
    [problem] = check_thread(thread, settings)
    assert (problem.code, problem.line) == ("image-animation-lost", 4)
