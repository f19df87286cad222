"""Captions files for a post's video: the `> captions <lang> <file>` line in a draft, and
`check` on them (Bluesky takes up to 20 WebVTT files of at most 20,000 bytes, each with a
language given once; Mastodon takes none, so a warning there; captions without a video
are an error). Every finding names the file and its draft line."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from threadpost.captions import CaptionsWontGo, read_captions_file
from threadpost.check import check_thread
from threadpost.config import Settings
from threadpost.draft import Caption, Image, parse_draft
from threadpost.errors import DraftError
from threadpost.fingerprint import images_hash, plan_images
from threadpost.plan import PlannedPost, Thread
from threadpost.platforms.bluesky.captions import BLUESKY_CAPTION_LIMITS
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.preview_parts import extras_lines
from threadpost.store import thread_from_json, thread_to_json
from video_builders import mp4_bytes

VTT = b"WEBVTT\n\n00:00.000 --> 00:02.000\nThe cat jumps.\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("Europe/Paris"),
    )


def draft_text(*lines: str) -> bytes:
    return ("Look at this.\n![A cat jumps](clip.mp4)\n" + "\n".join(lines) + "\n").encode()


def test_a_captions_line_gives_the_post_its_language_and_file(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(mp4_bytes())
    draft = parse_draft(
        draft_text("> captions en subs/clip.en.vtt", "> caption: pt-BR <subs/my clip.pt.vtt>"),
        tmp_path / "d.md",
    )
    [post] = draft.posts
    assert post.text == "Look at this."
    assert post.captions == (
        Caption("en", (tmp_path / "subs/clip.en.vtt").resolve(), 3, "subs/clip.en.vtt"),
        Caption("pt-BR", (tmp_path / "subs/my clip.pt.vtt").resolve(), 4, "subs/my clip.pt.vtt"),
    )


@pytest.mark.parametrize(
    "line",
    ["> captions matter a lot", "> captions en", "> captions: are they read?"],
)
def test_prose_that_starts_with_captions_stays_text(tmp_path: Path, line: str) -> None:
    (tmp_path / "clip.mp4").write_bytes(mp4_bytes())
    [post] = parse_draft(draft_text(line), tmp_path / "d.md").posts
    assert post.captions == ()
    assert post.text == f"Look at this.\n{line}"


def test_a_captions_file_given_as_a_web_address_is_refused_on_its_line(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(mp4_bytes())
    with pytest.raises(DraftError) as caught:
        parse_draft(draft_text("> captions en https://example.org/c.vtt"), tmp_path / "d.md")
    assert caught.value.line == 3
    assert "web address" in str(caught.value)


def thread(platform: str, post: PlannedPost) -> Thread:
    limits = BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
    return Thread(platform, limits, (post,), "en", None, ())  # type: ignore[arg-type]


def post_with(tmp_path: Path, *captions: Caption, video: bool = True) -> PlannedPost:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4_bytes())
    images = (Image(clip, "A cat jumps", 2, "clip.mp4"),) if video else ()
    return PlannedPost(
        index=1,
        text="Look",
        length=4,
        bytes=4,
        facets=(),
        images=images,
        source_post=1,
        source_line=1,
        captions=captions,
    )


def caption(tmp_path: Path, lang: str, name: str, data: bytes | None, line: int) -> Caption:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    return Caption(lang, path, line, name)


def found(platform: str, settings: Settings, post: PlannedPost) -> list[tuple[object, ...]]:
    problems = check_thread(thread(platform, post), settings)
    return [(p.severity, p.code, p.post, p.line, p.message) for p in problems]


def test_good_captions_pass_on_bluesky(tmp_path: Path, settings: Settings) -> None:
    post = post_with(
        tmp_path,
        caption(tmp_path, "en", "en.vtt", VTT, 3),
        caption(tmp_path, "fr", "fr.vtt", b"\xef\xbb\xbfWEBVTT - French\n\n", 4),
        caption(tmp_path, "pt-BR", "pt.vtt", b"WEBVTT", 5),
    )
    assert found("bluesky", settings, post) == []


def test_each_bad_captions_file_is_an_error_on_its_line(tmp_path: Path, settings: Settings) -> None:
    post = post_with(
        tmp_path,
        caption(tmp_path, "en", "en.vtt", VTT, 3),
        caption(tmp_path, "de", "missing.vtt", None, 4),
        caption(tmp_path, "fr", "fr.srt", b"1\n00:00:00,000 --> 00:00:02,000\nBonjour\n", 5),
        caption(tmp_path, "es", "big.vtt", b"WEBVTT\n\n" + b"x" * 20_000, 6),
        caption(tmp_path, "english", "word.vtt", VTT, 7),
        caption(tmp_path, "EN", "again.vtt", VTT, 8),
        caption(tmp_path, "it", "WEBVTTX.vtt", b"WEBVTTX\n", 9),
    )
    problems = found("bluesky", settings, post)
    assert [(severity, code, at, line) for severity, code, at, line, _ in problems] == [
        ("error", "captions-unreadable", 1, 4),
        ("error", "captions-invalid", 1, 5),
        ("error", "captions-too-large", 1, 6),
        ("error", "captions-lang-invalid", 1, 7),
        ("error", "captions-lang-twice", 1, 8),
        ("error", "captions-invalid", 1, 9),
    ]
    messages = [message for *_, message in problems]
    assert messages[0].startswith("captions missing.vtt: file not found")
    assert messages[1] == 'captions fr.srt: is not a WebVTT file (it must start with "WEBVTT")'
    assert "20,008 bytes); Bluesky accepts at most 20,000 bytes" in messages[2]
    assert "'english' is not a language tag" in messages[3]
    assert "language EN has a captions file already (line 3)" in messages[4]


def test_a_file_of_exactly_the_limit_goes(tmp_path: Path) -> None:
    data = b"WEBVTT\n\n" + b"x" * (20_000 - 8)
    path = tmp_path / "edge.vtt"
    path.write_bytes(data)
    assert read_captions_file(path, "edge.vtt", BLUESKY_CAPTION_LIMITS, "Bluesky") == data
    path.write_bytes(data + b"x")
    with pytest.raises(CaptionsWontGo) as caught:
        read_captions_file(path, "edge.vtt", BLUESKY_CAPTION_LIMITS, "Bluesky")
    assert caught.value.code == "captions-too-large"


def test_more_than_twenty_captions_is_an_error_on_the_twenty_first(
    tmp_path: Path, settings: Settings
) -> None:
    # 21 distinct language tags, all valid: only the count is wrong.
    langs = [f"en-{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(21)]
    files = [caption(tmp_path, lang, f"{lang}.vtt", VTT, 10 + i) for i, lang in enumerate(langs)]
    post = post_with(tmp_path, *files)
    assert [(code, line) for _, code, _, line, _ in found("bluesky", settings, post)] == [
        ("too-many-captions", 30)
    ]
    post = post_with(tmp_path, *post.captions[:20])
    assert found("bluesky", settings, post) == []


def test_captions_without_a_video_are_an_error_on_every_network(
    tmp_path: Path, settings: Settings
) -> None:
    post = post_with(tmp_path, caption(tmp_path, "en", "en.vtt", VTT, 3), video=False)
    for platform in ("bluesky", "mastodon"):
        [(severity, code, at, line, message)] = found(platform, settings, post)
        assert (severity, code, at, line) == ("error", "captions-without-video", 1, 3)
        assert "this post has no video" in message


def test_mastodon_warns_the_captions_are_not_sent_there(tmp_path: Path, settings: Settings) -> None:
    post = post_with(
        tmp_path,
        caption(tmp_path, "en", "en.vtt", VTT, 3),
        caption(tmp_path, "fr", "fr.vtt", VTT, 4),
    )
    [(severity, code, at, line, message)] = found("mastodon", settings, post)
    assert (severity, code, at, line) == ("warning", "captions-not-sent", 1, 3)
    assert "captions (en, fr) are not sent to Mastodon" in message
    assert "alt text" in message


def test_preview_lists_the_captions_where_they_are_sent(tmp_path: Path) -> None:
    post = post_with(tmp_path, caption(tmp_path, "en", "subs/en.vtt", None, 3))
    assert extras_lines(post, captions=True) == ["Captions: en (subs/en.vtt)"]
    assert extras_lines(post, captions=False) == []


def test_a_frozen_plan_keeps_its_captions(tmp_path: Path) -> None:
    post = post_with(tmp_path, caption(tmp_path, "en", "en.vtt", VTT, 3))
    planned = thread("bluesky", post)
    assert thread_from_json(thread_to_json(planned)) == planned
    old = thread_to_json(planned)
    del old["posts"][0]["captions"]  # a plan frozen before captions existed
    assert thread_from_json(old).posts[0].captions == ()


def test_the_media_hash_covers_captions_files(tmp_path: Path) -> None:
    post = post_with(tmp_path, caption(tmp_path, "en", "en.vtt", VTT, 3))
    planned = thread("bluesky", post)
    assert plan_images([planned]) == [tmp_path / "clip.mp4", tmp_path / "en.vtt"]
    before = images_hash(plan_images([planned]))
    (tmp_path / "en.vtt").write_bytes(VTT + b"\n00:02.000 --> 00:03.000\nAnd back.\n")
    assert images_hash(plan_images([planned])) != before
