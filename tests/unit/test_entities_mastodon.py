"""Mastodon detection: twitter-text URLs (scheme required), MENTION_RE, HASHTAG_RE."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from entities_support import check_entities
from threadpost.text.entities import mastodon_entities, protected_spans

ENTITY_TEXT = st.lists(
    st.sampled_from(
        [
            "word",
            " ",
            "\n",
            "(",
            ")",
            ".",
            ",",
            "é",
            "🦋",
            "日本語",
            "/",
            "=",
            "@alice",
            "@bob@example.social",
            "@arnt@grå.org",
            "#tag",
            "#Sécurité",
            "＃全角",
            "https://example.com/a?b=c",
            "http://t.co/abc",
            "https://grå.org/",
            "example.com",
        ]
    ),
    max_size=30,
).map("".join)


def kinds(text: str) -> list[tuple[str, str, str]]:
    return [(e.kind, e.text, e.value) for e in mastodon_entities(text)]


def test_examples() -> None:
    text = "Lire https://example.com/a_(b) avec @alice@mastodon.social, @bob et #SécuritéGlobale."
    assert kinds(text) == [
        ("link", "https://example.com/a_(b)", "https://example.com/a_(b)"),
        ("mention", "@alice@mastodon.social", "alice@mastodon.social"),
        ("mention", "@bob", "bob"),
        ("tag", "#SécuritéGlobale", "SécuritéGlobale"),
    ]


def test_bare_domains_are_not_links() -> None:
    assert kinds("example.com and www.example.org/path") == []


def test_url_glued_to_a_letter_is_not_a_link() -> None:
    assert kinds("xhttp://example.com") == []


def test_idn_mentions_and_tags() -> None:
    assert kinds("hi @arnt@grå.org #日本語") == [
        ("mention", "@arnt@grå.org", "arnt@grå.org"),
        ("tag", "#日本語", "日本語"),
    ]


def test_mention_inside_url_path_is_part_of_the_url() -> None:
    assert kinds("https://example.com/@alice@example.org") == [
        ("link", "https://example.com/@alice@example.org", "https://example.com/@alice@example.org")
    ]


def test_hashtag_rules() -> None:
    assert kinds("#123") == []  # needs a letter
    assert kinds("a#tag") == []  # glued to a word
    # The tag stops before "http" when a URL follows (Mastodon's extractor); the URL itself,
    # glued to a letter, is not a twitter-text URL.
    assert kinds("#foohttp://example.com") == [("tag", "#foo", "foo")]


def test_long_cjk_text_with_glued_url_is_fast_enough_to_finish() -> None:
    # Was quadratic when every position was tried: must stay linear in the run length.
    text = ("日本語のテキストです。" * 3000) + "https://example.com/x"
    assert [e.value for e in mastodon_entities(text)] == ["https://example.com/x"]


@given(ENTITY_TEXT)
def test_offsets_and_order(text: str) -> None:
    check_entities(text, mastodon_entities(text))


@given(ENTITY_TEXT | st.text())
def test_protected_spans_cover_every_entity(text: str) -> None:
    spans = protected_spans(text)
    for entity in mastodon_entities(text):
        assert any(a <= entity.start and entity.end <= b for a, b in spans)
