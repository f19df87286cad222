"""`check` on videos attached with `![alt](clip.mp4)`: each network's type, size, picture,
frame-rate and duration limits, one video a post and none beside images, alt text; every
finding names the file and its draft line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image as PILImage

from threadpost.check import check_thread
from threadpost.config import Settings
from threadpost.draft import Image
from threadpost.plan import PlannedPost, Thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon import instance
from threadpost.platforms.mastodon.instance import limits_from_instance
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import PlatformLimits
from video_builders import mp4_bytes, webm_bytes


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("Europe/Paris"),
    )


def attach(path: Path, alt: str = "A cat jumps onto a shelf", line: int = 7) -> Image:
    return Image(path=path, alt=alt, line=line, written_path=path.name)


def thread(platform: str, *attachments: Image, limits: PlatformLimits | None = None) -> Thread:
    post = PlannedPost(
        index=1,
        text="Look",
        length=4,
        bytes=4,
        facets=(),
        images=attachments,
        source_post=1,
        source_line=5,
    )
    default = BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
    return Thread(platform, limits or default, (post,), "en", None, ())  # type: ignore[arg-type]


def found(platform: str, settings: Settings, *attachments: Image, **kw: object) -> list[tuple]:
    problems = check_thread(thread(platform, *attachments, **kw), settings)  # type: ignore[arg-type]
    return [(p.severity, p.code, p.post, p.line) for p in problems]


def test_a_small_mp4_with_alt_is_fine_on_both(settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4_bytes())
    assert found("mastodon", settings, attach(clip)) == []
    assert found("bluesky", settings, attach(clip)) == []


def test_webm_and_quicktime_go_to_mastodon_only(settings: Settings, tmp_path: Path) -> None:
    webm = tmp_path / "clip.webm"
    webm.write_bytes(webm_bytes())
    mov = tmp_path / "clip.mov"
    mov.write_bytes(mp4_bytes(brand=b"qt  "))
    assert found("mastodon", settings, attach(webm)) == []
    assert found("mastodon", settings, attach(mov)) == []
    [problem] = check_thread(thread("bluesky", attach(webm)), settings)
    assert (problem.code, problem.line) == ("video-type", 7)
    assert problem.message == "video clip.webm is video/webm; Bluesky takes video/mp4"
    assert found("bluesky", settings, attach(mov)) == [("error", "video-type", 1, 7)]


def test_bluesky_duration_limit(settings: Settings, tmp_path: Path) -> None:
    long = tmp_path / "long.mp4"
    long.write_bytes(mp4_bytes(seconds=181))
    [problem] = check_thread(thread("bluesky", attach(long)), settings)
    assert problem.code == "video-too-long"
    assert problem.message == "video long.mp4 lasts 181.0 s; Bluesky accepts at most 180 s"
    # Mastodon states no duration limit.
    assert found("mastodon", settings, attach(long)) == []


def test_instance_limits_size_pixels_and_frame_rate(settings: Settings, tmp_path: Path) -> None:
    limits = limits_from_instance(
        {
            "configuration": {
                "media_attachments": {
                    "supported_mime_types": ["image/png", "video/mp4"],
                    "video_size_limit": 500,
                    "video_matrix_limit": 640 * 360,
                    "video_frame_rate_limit": 30,
                }
            }
        }
    )
    assert (limits.max_video_bytes, limits.max_video_pixels) == (500, 230_400)
    assert (limits.max_video_frame_rate, limits.video_types) == (30, ("video/mp4",))
    big = tmp_path / "big.mp4"
    big.write_bytes(mp4_bytes(width=1280, height=720, fps=60, media_bytes=1024))
    problems = check_thread(thread("mastodon", attach(big), limits=limits), settings)
    assert [p.code for p in problems] == ["video-too-large", "video-too-large", "video-frame-rate"]
    assert "Mastodon accepts at most 500 bytes" in problems[0].message
    assert (
        "1280×720 (921,600 pixels); Mastodon accepts at most 230,400 pixels" in problems[1].message
    )
    assert problems[2].message.endswith("60.00 frames a second; Mastodon accepts at most 30")
    webm = tmp_path / "clip.webm"
    webm.write_bytes(webm_bytes())
    assert found("mastodon", settings, attach(webm), limits=limits) == [
        ("error", "video-type", 1, 7)
    ]


def test_one_video_a_post_and_none_beside_images(settings: Settings, tmp_path: Path) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    a.write_bytes(mp4_bytes())
    b.write_bytes(mp4_bytes())
    picture = tmp_path / "still.png"
    PILImage.new("RGB", (20, 10)).save(picture)
    for platform, name in (("mastodon", "Mastodon"), ("bluesky", "Bluesky")):
        [two] = check_thread(thread(platform, attach(a), attach(b, line=8)), settings)
        assert (two.code, two.post, two.line) == ("too-many-videos", 1, 8)
        assert two.message.startswith(f"2 videos (a.mp4, b.mp4); {name} takes one video a post")
        [mixed] = check_thread(thread(platform, attach(picture), attach(a)), settings)
        assert mixed.code == "video-with-images"
        assert "video a.mp4 beside images (still.png)" in mixed.message


def test_video_alt_text_rules(settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4_bytes())
    [bare] = check_thread(thread("bluesky", attach(clip, alt="")), settings)
    assert (bare.code, bare.line) == ("missing-alt", 7)
    assert bare.message == "video clip.mp4 has no alt text: write ![what the video shows](clip.mp4)"
    wordy = attach(clip, alt="x" * 1501)
    assert found("mastodon", settings, wordy) == [("error", "alt-too-long", 1, 7)]
    assert found("bluesky", settings, wordy) == []


def test_a_damaged_or_disguised_video(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(mp4_bytes()[:-300])
    [problem] = check_thread(thread("mastodon", attach(broken)), settings)
    assert (problem.code, problem.line) == ("video-invalid", 7)
    assert problem.message.startswith("video broken.mp4: is a damaged video file")
    disguised = tmp_path / "clip.png"
    disguised.write_bytes(mp4_bytes())
    assert found("bluesky", settings, attach(disguised)) == []


def test_instance_cache_keeps_the_video_limits(tmp_path: Path) -> None:
    limits = replace(MASTODON_DEFAULT_LIMITS, max_video_bytes=1234, video_types=("video/mp4",))
    instance._write_cache(tmp_path, "example.test", limits, datetime.now(UTC))
    cached = instance._read_cache(tmp_path, "example.test")
    assert cached is not None
    assert (cached[1].max_video_bytes, cached[1].video_types) == (1234, ("video/mp4",))
