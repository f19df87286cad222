"""Bluesky detection (the reference client's detectFacets) beyond the corpus."""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from entities_support import check_entities
from threadpost.text import entities as entities_module
from threadpost.text.entities import bluesky_entities, protected_spans
from threadpost.text.tlds import punctuation_class

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


def test_punctuation_table_is_current_unicode() -> None:
    """data/punctuation.txt holds every P character Python 3.11 knows (Unicode 14) and those
    added since, such as U+11F43 KAWI DANDA (15.0) and U+10D6E GARAY HYPHEN (16.0)."""
    punct = re.compile(f"[{punctuation_class()}]")
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)).startswith("P"):
            assert punct.match(chr(code)), hex(code)
    for ch in ("\U00011f43", "\U00010d6e", "\u1b7f", "\U0001e5ff"):
        assert punct.match(ch)
    assert not punct.match("a") and not punct.match("$")


def test_reference_examples() -> None:
    """The issue's examples, as @atproto/api 0.21 emits them."""
    assert kinds("http://localhost:3000/x") == [
        ("link", "http://localhost:3000/x", "http://localhost:3000/x")
    ]
    assert kinds("$a") == [("cashtag", "$a", "$A")]
    assert kinds("#a\U00011f43") == [("tag", "#a", "a")]
    assert kinds("https://x.com/(@bob.test)") == [
        ("link", "https://x.com/(@bob.test)", "https://x.com/(@bob.test)"),
        ("mention", "@bob.test", "bob.test"),
    ]
    long_tag = "t" + "e\u0301" * 63  # 64 graphemes, 127 UTF-16 units
    assert kinds("#" + long_tag) == [("tag", "#" + long_tag, long_tag)]
    assert kinds("#" + long_tag + "x") == []


# The reference client's patterns as it writes them (`(?:^|(?<=[\s(]))` first): the ones in
# threadpost.text.entities start with their sigil instead, to be searched faster, and must
# find exactly the same matches.
_WS = entities_module._JS_WS
REFERENCE_FORMS = {
    "mention": re.compile(rf"(?:^|(?<=[{_WS}(]))@([a-zA-Z0-9.-]+)\b", re.ASCII),
    "tag": re.compile(rf"(?:^|(?<=[{_WS}]))[#＃]([^{entities_module._TAG_BREAKERS}]*)"),
    "cashtag": re.compile(
        rf"(?:^|(?<=[{_WS}(]))\$([A-Za-z][A-Za-z0-9]{{0,4}})(?=[{_WS}]|$|[.,;:!?)\"'\u2019])"
    ),
}
REFERENCE_LINK = re.compile(
    rf"(?:^|(?<=[{_WS}(]))"
    rf"(?:https?://[^{_WS}]+|(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)[^{_WS}]*)",
    re.ASCII | re.IGNORECASE | re.MULTILINE,
)
SIGIL_PIECES = [
    *["a", "Z", "7", ".", "-", "(", ")", "@", "#", "＃", "$", "AAPL", "x.com", "é", "日"],
    *["http://", "https://", "HTTP://", "a.b", "bsky.social", ",", "!", "'", "\u2019"],
    *[" ", "\n", "\t", "\u00a0", "\u3000", "\ufeff", "\u0085", "\x1c", "\u200b", "\u00ad"],
]
SIGIL_TEXT = st.lists(st.sampled_from(SIGIL_PIECES), max_size=25).map("".join)


def assert_reference_matches(text: str) -> None:
    ours = {
        "mention": entities_module._BSKY_MENTION,
        "tag": entities_module._BSKY_TAG,
        "cashtag": entities_module._BSKY_CASHTAG,
    }
    for kind, reference in REFERENCE_FORMS.items():
        expected = [(m.span(), m.groups()) for m in reference.finditer(text)]
        assert [(m.span(), m.groups()) for m in ours[kind].finditer(text)] == expected, kind
    links = [(m.span("link"), m.group("domain")) for m in entities_module._bluesky_links(text)]
    assert links == [(m.span(), m.group("domain")) for m in REFERENCE_LINK.finditer(text)]


@given(SIGIL_TEXT)
def test_sigil_first_patterns_match_the_reference_forms(text: str) -> None:
    assert_reference_matches(text)


def test_sigil_first_patterns_examples() -> None:
    for text in ["@a.test @b.test", "(@a.test) x@b.test", "#a#b ＃c", "$AAPL ($MSFT) x$IBM"]:
        assert_reference_matches(text)
    text = "https://a.com (b.org) x.com,c.net\nd.io"
    assert [m.group("link") for m in entities_module._bluesky_links(text)] == [
        "https://a.com",
        "b.org)",
        "x.com,c.net",
        "d.io",
    ]
