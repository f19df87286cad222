"""Grapheme counting and boundaries."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from threadpost.text.graphemes import (
    grapheme_boundaries,
    grapheme_count,
    grapheme_count_without_conjuncts,
    graphemes,
)

# Text rich in what makes clusters hard: combining marks, ZWJ emoji, flags, CR LF, Hangul.
HARD_CHARS = "ae \r\n#@.é\u0301\u200d\ufe0f\u1100\u1161\u11a8\u0915\u094d\u0937" + (
    "\U0001f1eb\U0001f1f7\U0001f469\U0001f3fd\U0001f52c"
)
TRICKY = st.text(alphabet=st.sampled_from(HARD_CHARS)) | st.text()


def test_simple_counts() -> None:
    assert grapheme_count("") == 0
    assert grapheme_count("Hello!") == 6
    assert grapheme_count("a\r\nb") == 3  # CR LF is one cluster
    assert grapheme_count("e\u0301") == 1
    assert grapheme_count("🇫🇷🇭🇷") == 2
    assert grapheme_count("👨‍👩‍👧‍👧") == 1
    assert grapheme_count("🏳️‍⚧️") == 1


def test_boundaries_definition() -> None:
    assert grapheme_boundaries("") == [0]
    assert grapheme_boundaries("ab") == [0, 1, 2]
    assert grapheme_boundaries("a\r\nb") == [0, 1, 3, 4]
    assert grapheme_boundaries("Hi🇭🇷") == [0, 1, 2, 4]
    assert graphemes("Hi🇭🇷") == ["H", "i", "🇭🇷"]
    assert graphemes("") == []


@given(TRICKY)
def test_boundaries_agree_with_graphemes(text: str) -> None:
    bounds = grapheme_boundaries(text)
    clusters = graphemes(text)
    assert bounds[0] == 0
    assert bounds[-1] == len(text)
    assert len(bounds) - 1 == grapheme_count(text) == len(clusters)
    assert [text[a:b] for a, b in itertools.pairwise(bounds)] == clusters
    assert "".join(clusters) == text
    assert all(a < b for a, b in itertools.pairwise(bounds))


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_matches_library(text: str) -> None:
    assert grapheme_count(text) == len(graphemes(text))


def test_unicode_17_conjuncts() -> None:
    """Unicode 17's GB9c joins Khmer, Myanmar, Balinese and Javanese conjuncts (ICU 78 does);
    Mastodon's count keeps every conjunct apart (Ruby's Unicode may predate GB9c)."""
    for text in ("ក្ក", "မ္မ", "ᬓ᭄ᬓ", "ꦏ꧀ꦏ", "क्ष"):
        assert grapheme_count(text) == 1
        assert graphemes(text) == [text]
        assert grapheme_boundaries(text) == [0, len(text)]
        assert grapheme_count_without_conjuncts(text) == 2
    assert grapheme_count("ក្រុម") == 2
    assert grapheme_count_without_conjuncts("नमस्ते") == 4
    assert grapheme_count_without_conjuncts("hello 👩🏽‍🔬") == 7
