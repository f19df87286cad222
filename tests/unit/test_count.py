"""Countable lengths and the fits() check."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.platforms.rules import countable_length, fits
from threadpost.text.count import (
    bluesky_length,
    mastodon_countable_text,
    mastodon_length,
    short_url,
    shorten_links_for_display,
    utf8_length,
)
from threadpost.text.entities import bluesky_entities
from threadpost.text.graphemes import grapheme_count

URL = "https://example.com/" + "a" * 100


def test_mastodon_weighting() -> None:
    assert mastodon_length("see " + URL) == 4 + 23
    assert mastodon_length("see " + URL, url_weight=30) == 4 + 30
    assert mastodon_length("see example.com") == len("see example.com")
    assert mastodon_length("hi @alice@example.social") == len("hi @alice")
    assert mastodon_length("hi @alice") == len("hi @alice")
    assert mastodon_length("🏳️‍⚧️ x", spoiler_text="CW ") == 3 + 3
    assert mastodon_length("   \n ") == 0  # blank text counts as empty (Ruby blank?)
    assert mastodon_length("   ", spoiler_text="cw") == 2
    assert mastodon_countable_text("a http://x.co b") == "a " + "x" * 23 + " b"


def test_short_url_counts_as_weight_even_when_shorter() -> None:
    assert mastodon_length("http://x.co") == 23


def test_bluesky_counts() -> None:
    assert bluesky_length("👩🏽‍🔬 é") == 3
    assert utf8_length("é") == 2
    assert utf8_length("abc") == 3


def test_fits_mastodon() -> None:
    limits = MASTODON_DEFAULT_LIMITS
    assert fits("a" * 500, limits)
    assert not fits("a" * 501, limits)
    assert fits("a" * 476 + " " + URL, limits)  # 476 + 1 + 23 = 500
    assert not fits("a" * 477 + " " + URL, limits)
    assert not fits("a" * 450, limits, spoiler_text="b" * 51)
    assert fits("a" * 499 + " ", replace(limits, max_graphemes=500))
    assert countable_length("x " + URL, limits) == 25
    assert not fits("http://x.co " * 30, limits)  # short URLs count 23 each: 24 * 30 > 500


def test_fits_bluesky_graphemes_and_bytes() -> None:
    limits = BLUESKY_LIMITS
    assert fits("a" * 300, limits)
    assert not fits("a" * 301, limits)
    family = "👨‍👩‍👧‍👧"  # 1 grapheme, 25 bytes
    assert fits(family * 120, limits)  # 120 graphemes, 3000 bytes
    assert not fits(family * 121, limits)  # 121 graphemes but 3025 bytes
    assert countable_length(URL, limits) == len(URL)


@given(st.text(max_size=600), st.text(max_size=40))
def test_fits_agrees_with_countable_length(text: str, spoiler: str) -> None:
    for limits in (MASTODON_DEFAULT_LIMITS, BLUESKY_LIMITS):
        expected = countable_length(text, limits, spoiler_text=spoiler) <= limits.max_graphemes
        if limits.max_bytes is not None:
            expected = expected and utf8_length(text) <= limits.max_bytes
        assert fits(text, limits, spoiler_text=spoiler) == expected


@given(st.text())
def test_utf8_length(text: str) -> None:
    assert utf8_length(text) == len(text.encode("utf-8", "surrogatepass"))


def test_short_url() -> None:
    assert short_url("https://example.com/") == "example.com"
    assert short_url("https://example.com/abc") == "example.com/abc"
    assert short_url("https://Example.com/a-long-path/with/more") == "example.com/a-long-path/..."
    assert short_url("https://grå.org/x") == "xn--gr-zia.org/x"
    assert short_url("example.com/a-long-path/with/more") == "example.com/a-long-path/with/more"
    assert short_url("http://example.com:8080/") == "example.com:8080"


def test_shorten_links_for_display_reoffsets_entities() -> None:
    text = "é https://example.com/a-very-long-path/here #tag"
    shown, entities = shorten_links_for_display(text, bluesky_entities(text))
    assert shown == "é example.com/a-very-long-... #tag"
    link, tag = entities
    assert link.value == "https://example.com/a-very-long-path/here"
    assert link.text == shown[link.start : link.end] == "example.com/a-very-long-..."
    assert shown.encode()[link.byte_start : link.byte_end].decode() == link.text
    assert (tag.text, tag.value) == ("#tag", "tag")
    assert shown.encode()[tag.byte_start : tag.byte_end].decode() == "#tag"


@given(st.lists(st.sampled_from(["x ", "é ", "https://example.com/" + "p" * 30 + " ", "#t "])))
def test_shortening_never_lengthens(parts: list[str]) -> None:
    text = "".join(parts)
    shown, entities = shorten_links_for_display(text, bluesky_entities(text))
    assert grapheme_count(shown) <= grapheme_count(text)
    for entity in entities:
        assert shown.encode()[entity.byte_start : entity.byte_end].decode() == entity.text
