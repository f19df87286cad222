"""Bluesky detection (the reference client's detectFacets) beyond the corpus."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from entities_support import check_entities
from threadpost.text.entities import bluesky_entities, protected_spans

ENTITY_TEXT = st.lists(
    st.sampled_from(
        [
            "word",
            " ",
            "\n",
            "(",
            ")",
            ".",
            "!",
            "é",
            "🦋",
            "👩🏽‍🔬",
            "日本語",
            "@alice.bsky.social",
            "@bob.test",
            "#tag",
            "#Sécurité",
            "＃全角",
            "$AAPL",
            "https://example.com/a?b=c",
            "example.com",
            "bsky.app/profile/x",
            "http://x.co.uk.",
        ]
    ),
    max_size=30,
).map("".join)


def kinds(text: str) -> list[tuple[str, str, str]]:
    return [(e.kind, e.text, e.value) for e in bluesky_entities(text)]


def test_examples() -> None:
    text = "Voir https://example.com/page, @alice.bsky.social et #Sécurité $aapl (bsky.app)."
    assert kinds(text) == [
        ("link", "https://example.com/page", "https://example.com/page"),
        ("mention", "@alice.bsky.social", "alice.bsky.social"),
        ("tag", "#Sécurité", "Sécurité"),
        ("cashtag", "$aapl", "$AAPL"),
        ("link", "bsky.app", "https://bsky.app"),
    ]


def test_byte_offsets_count_utf8() -> None:
    [tag] = bluesky_entities("é #été")
    assert (tag.start, tag.end) == (2, 6)
    assert (tag.byte_start, tag.byte_end) == (3, 9)


def test_unknown_tld_is_not_a_link_or_mention() -> None:
    assert kinds("see example.notatld and @me.notatld") == []


@given(ENTITY_TEXT)
def test_offsets_and_order(text: str) -> None:
    check_entities(text, bluesky_entities(text), disjoint=False)


@given(ENTITY_TEXT)
def test_protected_spans_cover_every_entity(text: str) -> None:
    spans = protected_spans(text)
    for entity in bluesky_entities(text):
        assert any(a <= entity.start and entity.end <= b for a, b in spans)
    for (a, b), (c, _) in itertools.pairwise(spans):
        assert a < b < c
