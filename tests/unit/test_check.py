"""check: problems of hand-built planned threads (independent of the planner's splitting)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image as PILImage

from image_builders import halves, noise, photo_like
from linkserver import LinkServer, closed_port, serve
from threadpost.check import check_front_matter, check_thread, check_threads, link_syntax_problem
from threadpost.config import Settings
from threadpost.draft import Image, parse_draft
from threadpost.linkcheck import HandleResult, LinkResult, ProgressSink
from threadpost.plan import Facet, PlannedPost, Thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import Problem

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=PARIS,
    )


def post(
    text: str, *, index: int = 1, facets: tuple[Facet, ...] = (), images: tuple[Image, ...] = ()
) -> PlannedPost:
    return PlannedPost(
        index=index,
        text=text,
        length=len(text),
        bytes=len(text.encode()),
        facets=facets,
        images=images,
        source_post=index,
        source_line=10 + index,
    )


def facet(text: str, piece: str, kind: str, value: str) -> Facet:
    start = len(text[: text.index(piece)].encode())
    return Facet(kind, start, start + len(piece.encode()), value)  # type: ignore[arg-type]


def thread(platform: str, *posts: PlannedPost, problems: tuple[Problem, ...] = ()) -> Thread:
    limits = BLUESKY_LIMITS if platform == "bluesky" else MASTODON_DEFAULT_LIMITS
    return Thread(platform, limits, posts, "en", None, problems)  # type: ignore[arg-type]


def codes(problems: list[Problem]) -> list[tuple[str, str, int | None]]:
    return [(p.severity, p.code, p.post) for p in problems]


def png(path: Path, size: tuple[int, int] = (20, 10)) -> Path:
    PILImage.new("RGB", size).save(path, "PNG")
    return path


def image(path: Path, alt: str = "A red square") -> Image:
    return Image(path=path, alt=alt, line=42, written_path=path.name)


# --- lengths -------------------------------------------------------------------------


def test_a_clean_thread_has_no_problems(settings: Settings) -> None:
    assert check_thread(thread("bluesky", post("Hello"), post("World", index=2)), settings) == []


def test_over_the_limit_is_an_error_unless_planning_said_so(settings: Settings) -> None:
    long = post("x" * 301)
    assert codes(check_thread(thread("bluesky", long), settings)) == [("error", "too-long", 1)]
    planned = Problem("error", "too-long", "cannot fit", "bluesky", 1)
    assert check_thread(thread("bluesky", long, problems=(planned,)), settings) == []


def test_bluesky_byte_limit(settings: Settings) -> None:
    heavy = replace(post("é"), length=200, bytes=3001)
    [problem] = check_thread(thread("bluesky", heavy), settings)
    assert problem.code == "too-long"
    assert "3001 bytes" in problem.message


def test_empty_post(settings: Settings) -> None:
    assert codes(check_thread(thread("mastodon", post("  ")), settings)) == [
        ("error", "empty-post", 1)
    ]


# --- images --------------------------------------------------------------------------


def test_images_fine(settings: Settings, tmp_path: Path) -> None:
    ok = post("Look", images=(image(png(tmp_path / "a.png")),))
    assert check_thread(thread("bluesky", ok), settings) == []


def test_too_many_images(settings: Settings, tmp_path: Path) -> None:
    picture = image(png(tmp_path / "a.png"))
    crowded = post("Five", images=(picture,) * 5)
    assert codes(check_thread(thread("mastodon", crowded), settings)) == [
        ("error", "too-many-images", 1)
    ]


def test_missing_alt_is_an_error_by_default_and_a_warning_when_configured(
    settings: Settings, tmp_path: Path
) -> None:
    bare = post("Look", images=(image(png(tmp_path / "a.png"), alt=""),))
    [problem] = check_thread(thread("bluesky", bare), settings)
    assert (problem.severity, problem.code, problem.line) == ("error", "missing-alt", 42)
    relaxed = replace(settings, missing_alt="warning")
    [problem] = check_thread(thread("bluesky", bare), relaxed)
    assert problem.severity == "warning"


def test_image_too_large_for_bluesky_only(settings: Settings, tmp_path: Path) -> None:
    # Random pixels do not compress: even at 1024×1024 the PNG is over 3 MB.
    big = tmp_path / "big.png"
    noise((1100, 1100)).save(big)
    heavy = post("Big", images=(image(big),))
    [problem] = check_thread(thread("bluesky", heavy), settings)
    assert (problem.severity, problem.code, problem.line) == ("error", "image-too-large", 42)
    assert "2,000,000 bytes" in problem.message
    assert problem.message.startswith("image big.png is 3.6 MB")
    assert "even at 1024×1024 (as small as threadpost shrinks it) it is 3.2 MB" in problem.message
    assert check_thread(thread("mastodon", heavy), settings) == []


def test_an_image_over_the_limit_that_can_be_fit_is_a_warning(
    settings: Settings, tmp_path: Path
) -> None:
    padded = tmp_path / "padded.png"
    png(padded)
    with padded.open("ab") as file:  # trailing bytes keep it a valid PNG, but heavier
        file.write(b"\0" * 2_100_000)
    [problem] = check_thread(thread("bluesky", post("P", images=(image(padded),))), settings)
    assert (problem.severity, problem.code) == ("warning", "image-downscaled")
    assert "it will be re-compressed to fit Bluesky's limit (2,000,000 bytes): 20×10, 72 bytes" in (
        problem.message
    )
    wide = tmp_path / "wide.jpg"
    photo_like((1200, 800)).save(wide, quality=90)
    small_instance = replace(MASTODON_DEFAULT_LIMITS, max_image_pixels=240_000)
    planned = replace(thread("mastodon", post("W", images=(image(wide),))), limits=small_instance)
    [problem] = check_thread(planned, settings)
    assert (problem.severity, problem.code) == ("warning", "image-downscaled")
    assert problem.message.startswith("image wide.jpg is ")
    assert "1200×800: it will be downscaled to fit Mastodon's limit" in problem.message
    assert "or 240,000 pixels): 600×400, " in problem.message


def test_broken_image_and_wrong_type(settings: Settings, tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    bmp = tmp_path / "pic.bmp"
    PILImage.new("RGB", (4, 4)).save(bmp, "BMP")
    gone = tmp_path / "gone.png"
    both = post("Bad", images=(image(fake), image(bmp), image(gone)))
    assert [p.code for p in check_thread(thread("mastodon", both), settings)] == [
        "image-invalid",
        "image-type",
        "image-missing",
    ]


def test_alt_too_long_on_mastodon(settings: Settings, tmp_path: Path) -> None:
    wordy = post("Alt", images=(image(png(tmp_path / "a.png"), alt="a" * 1501),))
    assert [p.code for p in check_thread(thread("mastodon", wordy), settings)] == ["alt-too-long"]
    assert check_thread(thread("bluesky", wordy), settings) == []


# --- tags and mentions ---------------------------------------------------------------


def test_hashtag_over_64_graphemes(settings: Settings) -> None:
    tag = "Très" + "long" * 16  # 68 graphemes
    text = f"A post #{tag}."
    [problem] = check_thread(thread("bluesky", post(text)), settings)
    assert (problem.severity, problem.code) == ("warning", "tag-too-long")
    as_facet = post(text, facets=(facet(text, f"#{tag}", "tag", tag),))
    [problem] = check_thread(thread("bluesky", as_facet), settings)
    assert problem.severity == "error"
    ok = "A post #" + "é" * 64
    assert check_thread(thread("bluesky", post(ok)), settings) == []


def test_twitter_style_mention_is_flagged_on_both_networks(settings: Settings) -> None:
    text = "Thanks @Some_Name, and @alice.bsky.social! Also @bob@mastodon.social."
    planned = post(
        text, facets=(facet(text, "@alice.bsky.social", "mention", "alice.bsky.social"),)
    )
    problems = check_thread(thread("bluesky", planned), settings)
    assert [(p.severity, p.code) for p in problems] == [("warning", "mention-not-handle")] * 2
    assert "@Some_Name cannot be a Bluesky handle" in problems[0].message
    assert "@bob@mastodon.social is a Mastodon address" in problems[1].message
    # Mastodon: only the X-style name; a handle with dots and an address are accounts there.
    [problem] = check_thread(thread("mastodon", post(text)), settings)
    assert (problem.severity, problem.code) == ("warning", "mention-not-handle")
    assert problem.message.startswith("@Some_Name is not an account there")


def test_email_addresses_are_not_mentions(settings: Settings) -> None:
    assert check_thread(thread("bluesky", post("Write to me@example.com")), settings) == []


# --- links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://example.com/a?b=c", None),
        ("http://127.0.0.1:8080/", None),
        ("https://exa mple.com", "contains whitespace"),
        ("ftp://example.com", "is not http or https"),
        ("https:///path", "has no host name"),
        ("https://-bad-.com/", "not a valid domain name"),
        ("https://example.com:99999/", "malformed address"),
        ("https://bücher.example/", None),
    ],
)
def test_link_syntax(uri: str, reason: str | None) -> None:
    found = link_syntax_problem(uri)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found


def test_invalid_link_facet(settings: Settings) -> None:
    text = "See ftp://example.com"
    bad = post(text, facets=(facet(text, "ftp://example.com", "link", "ftp://example.com"),))
    assert codes(check_thread(thread("mastodon", bad), settings)) == [("error", "link-invalid", 1)]


# --- front matter --------------------------------------------------------------------


def draft_with(front: str) -> object:
    return parse_draft(f"+++\n{front}\n+++\nHello\n".encode(), Path("/tmp/d.md"))


@pytest.mark.parametrize(
    "tag", ["en", "fr", "pt-BR", "zh-Hant-TW", "sl-rozaj-biske", "x-klingon", "es-419"]
)
def test_valid_language_tags(settings: Settings, tag: str) -> None:
    assert check_front_matter(draft_with(f'lang = "{tag}"'), settings) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("tag", ["english", "fr_FR", "e", "en-", "123", "fr--FR", "en-US-x"])
def test_invalid_language_tags(settings: Settings, tag: str) -> None:
    [problem] = check_front_matter(draft_with(f'title = "t"\nlang = "{tag}"'), settings)  # type: ignore[arg-type]
    assert (problem.code, problem.line, problem.platform) == ("invalid-lang", 3, None)


def test_schedule_in_the_past_naive_is_read_in_the_configured_zone(settings: Settings) -> None:
    draft = draft_with('schedule = "2030-06-01 09:00"')
    before = datetime(2030, 6, 1, 6, 59, tzinfo=ZoneInfo("UTC"))  # 08:59 in Paris
    after = datetime(2030, 6, 1, 7, 1, tzinfo=ZoneInfo("UTC"))
    assert check_front_matter(draft, settings, now=before) == []  # type: ignore[arg-type]
    [problem] = check_front_matter(draft, settings, now=after)  # type: ignore[arg-type]
    assert problem.code == "schedule-past"
    assert "Europe/Paris" in problem.message
    assert problem.line == 2


def test_schedule_with_offset(settings: Settings) -> None:
    draft = draft_with('schedule = "2030-06-01T09:00:00+00:00"')
    now = datetime(2030, 6, 1, 10, 0, tzinfo=PARIS)  # 08:00 UTC
    assert check_front_matter(draft, settings, now=now) == []  # type: ignore[arg-type]


# --- network (injected, and against the local server) -------------------------------


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serve() as running:
        yield running


def linked(*urls: str) -> PlannedPost:
    text = " ".join(urls)
    return post(text, facets=tuple(facet(text, url, "link", url) for url in urls))


def test_offline_follows_nothing(settings: Settings) -> None:
    def refuse(urls: list[str], progress: ProgressSink | None) -> Mapping[str, LinkResult]:
        raise AssertionError("offline must not check links")

    draft = draft_with('title = "t"')
    found = check_threads(
        draft,
        [thread("mastodon", linked("https://example.com/"))],
        settings,  # type: ignore[arg-type]
        offline=True,
        link_checker=refuse,
    )
    assert found == []


def test_link_problems_against_local_server(settings: Settings, server: LinkServer) -> None:
    urls = [server.url(p) for p in ("/ok", "/redirect", "/missing", "/error")]
    refused = f"http://127.0.0.1:{closed_port()}/"
    threads = [thread("mastodon", linked(*urls)), thread("bluesky", post("x"), linked(refused))]
    found = check_threads(
        draft_with('title = "t"'),
        threads,
        settings,
        offline=False,  # type: ignore[arg-type]
        handle_resolver=lambda handles: {},
    )
    assert [(p.platform, p.post, p.severity, p.code) for p in found] == [
        ("mastodon", 1, "warning", "link-redirected"),
        ("mastodon", 1, "error", "link-broken"),
        ("mastodon", 1, "warning", "link-failing"),
        ("bluesky", 1, "warning", "link-unreachable"),
    ]
    assert f"redirects to {server.url('/ok')}" in found[0].message
    assert "HTTP 404 Not Found" in found[1].message
    assert "connection refused" in found[3].message
    assert (settings.state_dir / "linkcheck.json").exists()


def test_bluesky_handles_are_resolved(settings: Settings, server: LinkServer) -> None:
    server.handles["alice.test"] = "did:plc:alice"
    text = "Hi @alice.test and @ghost.test"
    planned = post(
        text,
        facets=(
            facet(text, "@alice.test", "mention", "alice.test"),
            facet(text, "@ghost.test", "mention", "ghost.test"),
        ),
    )
    local = replace(settings, bluesky=replace(settings.bluesky, service=server.base))
    [problem] = check_threads(
        draft_with('title = "t"'),
        [thread("bluesky", planned)],
        local,
        offline=False,  # type: ignore[arg-type]
    )
    assert (problem.severity, problem.code, problem.post) == ("warning", "mention-unresolved", 1)
    assert "@ghost.test does not resolve" in problem.message


def test_injected_resolver(settings: Settings) -> None:
    text = "Hi @alice.test"
    planned = post(text, facets=(facet(text, "@alice.test", "mention", "alice.test"),))
    asked: list[list[str]] = []

    def resolver(handles: list[str]) -> Mapping[str, HandleResult]:
        asked.append(handles)
        return {"alice.test": HandleResult("alice.test", None, reason="service down")}

    [problem] = check_threads(
        draft_with('title = "t"'),
        [thread("bluesky", planned)],
        settings,  # type: ignore[arg-type]
        offline=False,
        handle_resolver=resolver,
    )
    assert asked == [["alice.test"]]
    assert "could not be looked up: service down" in problem.message


def test_every_host_failing_means_no_network_not_dead_links(settings: Settings) -> None:
    def no_network(urls: list[str], progress: ProgressSink | None) -> Mapping[str, LinkResult]:
        return {url: LinkResult(url, "dns", reason="does not resolve (DNS)") for url in urls}

    both = [thread("mastodon", linked("https://a.example/", "https://b.example/"))]
    found = check_threads(
        draft_with('title = "t"'),  # type: ignore[arg-type]
        both,
        settings,
        offline=False,
        link_checker=no_network,
    )
    assert codes(found) == [
        ("warning", "network-unavailable", None),
        ("warning", "link-broken", 1),
        ("warning", "link-broken", 1),
    ]
    one = [thread("mastodon", linked("https://typo.example/"))]
    found = check_threads(
        draft_with('title = "t"'),  # type: ignore[arg-type]
        one,
        settings,
        offline=False,
        link_checker=no_network,
    )
    assert codes(found) == [("error", "link-broken", 1)]


def test_mastodon_gifs_have_their_own_pixel_limit(settings: Settings, tmp_path: Path) -> None:
    """Mastodon refuses a GIF over 1280×720 pixels (GIF_MATRIX_LIMIT) whatever the instance
    says: a still GIF is downscaled (a warning), an animated one cannot be (an error)."""
    still = tmp_path / "still.gif"
    photo_like((1600, 900)).save(still)
    [problem] = check_thread(thread("mastodon", post("S", images=(image(still),))), settings)
    assert (problem.severity, problem.code) == ("warning", "image-downscaled")
    assert "1600×900: it will be downscaled to fit Mastodon's limit" in problem.message
    assert "or 921,600 pixels)" in problem.message
    moving = tmp_path / "moving.gif"
    frames = [halves((1600, 900)), halves((1600, 900)).rotate(180)]  # small in bytes
    frames[0].save(moving, save_all=True, append_images=frames[1:], duration=100)
    [problem] = check_thread(thread("mastodon", post("M", images=(image(moving),))), settings)
    assert (problem.severity, problem.code) == ("error", "image-too-large")
    assert "Mastodon accepts at most" in problem.message and "921,600 pixels" in problem.message
    assert "it is animated, and animations are not downscaled" in problem.message
    both = post("B", images=(image(still), image(moving)))
    # No pixel limit on Bluesky; the animation, though, does not play there.
    assert codes(check_thread(thread("bluesky", both), settings)) == [
        ("warning", "image-animation-lost", 1)
    ]


def test_an_animated_image_warns_where_only_its_first_frame_shows(
    settings: Settings, tmp_path: Path
) -> None:
    moving = tmp_path / "blink.webp"
    frames = [halves((60, 40)), halves((60, 40)).rotate(180)]
    frames[0].save(moving, save_all=True, append_images=frames[1:], duration=100)
    planned = post("Blink", images=(image(moving),))
    [problem] = check_thread(thread("bluesky", planned), settings)
    assert (problem.severity, problem.code, problem.line) == ("warning", "image-animation-lost", 42)
    assert problem.message == (
        "image blink.webp is animated, but Bluesky shows images as still pictures: only its "
        "first frame will show there"
    )
    assert check_thread(thread("mastodon", planned), settings) == []  # a gifv there
    still = post("Still", images=(image(png(tmp_path / "still.png")),))
    assert check_thread(thread("bluesky", still), settings) == []
