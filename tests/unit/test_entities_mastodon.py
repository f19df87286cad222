"""Mastodon detection: twitter-text URLs (scheme required), MENTION_RE, HASHTAG_RE."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entities_support import check_entities
from threadpost.text import entities as entities_module
from threadpost.text.count import mastodon_countable_text, mastodon_length
from threadpost.text.entities import mastodon_entities, protected_spans
from threadpost.text.tlds import ruby_word_class, twitter_text_tlds

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


def test_ruby_word_table_is_derived_from_the_rule() -> None:
    """data/ruby_word.txt is Ruby's [[:word:]]: L*, Nl, Nd, M*, Pc, Other_Alphabetic symbols
    (circled and squared Latin letters) and the joiners; Python's \\w differs (², ½, ①)."""
    word = re.compile(f"[{ruby_word_class()}]")
    categories = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Nd", "Mn", "Mc", "Me", "Pc"}
    extra = {*range(0x24B6, 0x24EA), *range(0x1F130, 0x1F14A), *range(0x1F150, 0x1F16A)}
    extra |= {*range(0x1F170, 0x1F18A), 0x200C, 0x200D}
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        expected = unicodedata.category(ch) in categories or code in extra
        assert (word.match(ch) is not None) == expected, hex(code)
    assert not word.match("²") and not word.match("½") and not word.match("①")
    assert word.match("Ⓐ") and word.match("\u0301") and word.match("_")


def test_mastodon_url_rules_examples() -> None:
    """Mastodon's own URL rules (twitter_regex.rb), pinned on the issue's examples."""
    assert mastodon_countable_text("https://ja.wikipedia.org/wiki/東京都") == "x" * 23
    assert mastodon_countable_text("https://example.com/日本語.") == "x" * 23 + "."
    assert mastodon_countable_text("https://example.com/search?q=café&lang=fr") == "x" * 23
    assert mastodon_countable_text("gemini://gemini.circumlunar.space") == "x" * 23
    assert mastodon_countable_text("@alice@mastodon.social@x") == "@alice@mastodon.social@x"
    assert mastodon_countable_text("https://t.co/abc?amp=1") == "x" * 23 + "?amp=1"
    assert mastodon_countable_text("https://🦄.example.com") == "https://🦄.example.com"
    assert mastodon_length("  \n hello") == 5


def test_remembered_detections_are_the_same_and_each_call_gets_its_own_list() -> None:
    text = "see https://example.org/a and @alice@example.social now"
    first = entities_module._mastodon_urls(text)
    assert first == [(4, 25, "link", "https://example.org/a")]
    first.append((0, 1, "link", "x"))  # a caller adding to its list changes no later answer
    assert entities_module._mastodon_urls(text) == [(4, 25, "link", "https://example.org/a")]
    mentions = entities_module._mastodon_mentions(text)
    mentions.clear()
    assert [m[3] for m in entities_module._mastodon_mentions(text)] == ["alice@example.social"]
    assert mastodon_entities(text) == mastodon_entities(text[:-4] + " now")


# Mastodon's MENTION_RE and HASHTAG_RE (4.3) written out whole, look-behinds included, with
# [[:word:]] as the Ruby class: the reference the sigil scanners (which match the rules'
# shapes on a string of character classes, to compile that class once) must agree with.
_W = ruby_word_class()
_AZ = "a-zA-Zſ\u212a"
_SEP = "_\u00b7\u30fb\u200c"
_USERNAME = rf"[{_AZ}0-9_]+(?:[.-]+[{_AZ}0-9_]+)*"
REFERENCE_MENTION = re.compile(rf"(?<![=/{_W}])@({_USERNAME}(?:@[{_W}]+(?:[.-]+[{_W}]+)*)?)")
REFERENCE_TAG = re.compile(
    rf"(?<![=/)])(?<![^\W_])[#＃]("
    rf"[{_W}][{_W}{_SEP}]*(?:[^\W\d_]|[{_SEP}])[{_W}{_SEP}]*[{_W}]"
    rf"|[{_W}]*[^\W\d_][{_W}]*)"
)
#: Letters, digits, marks, the separators, the sigils and what may not precede them.
SIGIL_ALPHABET = "aZ09_·・\u200c#＃@.-=/) é\u0301²Ⓐ日١ſ\u212a🦋\n"
SIGIL_TEXT = st.text(st.sampled_from(SIGIL_ALPHABET), max_size=40)


@given(SIGIL_TEXT | st.text(max_size=40))
def test_sigil_scanners_match_mastodons_whole_regexes(text: str) -> None:
    mentions = entities_module._scan_anchored(
        text, "@", entities_module._after_mention_boundary, entities_module._mention_end
    )
    tags = entities_module._scan_anchored(
        text, "#＃", entities_module._after_tag_boundary, entities_module._tag_end
    )
    assert mentions == [m.span() for m in REFERENCE_MENTION.finditer(text)]
    assert tags == [m.span() for m in REFERENCE_TAG.finditer(text)]


def test_sigil_scanners_examples() -> None:
    text = "Hi @alice@example.social and #cameras_in·city #123 x#no (#yes) #Café_2 @bob. a@b"
    assert [e.text for e in mastodon_entities(text)] == [
        "@alice@example.social",
        "#cameras_in·city",
        "#yes",
        "#Café_2",
        "@bob",
    ]


def test_python_ignorecase_accepts_every_ruby_variant_of_each_tld_character() -> None:
    """The premise of `_tt_url_regex_fast`: for every character of every TLD, what Ruby's /i
    lets match it (`_ruby_ci`) Python's IGNORECASE lets match it too."""
    generic, country = twitter_text_tlds()
    for ch in sorted({ch for tld in (*generic, *country) for ch in tld}):
        ruby = re.compile(entities_module._ruby_ci(ch))
        python = re.compile(re.escape(ch), re.IGNORECASE)
        variants = {ch, ch.lower(), ch.upper(), ch.casefold(), "ſ", "\u212a", "ı", "İ", "ς"}
        variants |= {v.upper() for v in set(variants)} | {v.lower() for v in set(variants)}
        for variant in (v for v in variants if len(v) == 1 and ruby.fullmatch(v)):
            assert python.fullmatch(variant), (ch, variant)


#: TLDs as written, in every case: ASCII, IDN, and the characters where Python's IGNORECASE
#: and Ruby's /i part (ı, İ, ϵ), ſ and the Kelvin sign (which both take for s and k).
TLD_SPELLINGS = [
    *["com", "COM", "Com", "org", "co", "uk", "io", "biz", "xn--p1ai", "XN--P1AI", "ſite"],
    *["\u212ao", "онлайн", "ОНЛАЙН", "みんな", "中国", "ελ", "ΕΛ", "ϵλ", "bız", "BİZ", "bIz"],
    *["katalog", "ınfo", "İnfo", "zz", "c0m"],
]
URLISH = st.tuples(
    st.sampled_from(["https://", "http://", "HTTP://", "gemini://", ""]),
    st.lists(st.sampled_from(["x", "Sub", "b_c", "a-b", "é", "1", "-"]), min_size=1, max_size=3),
    st.sampled_from(TLD_SPELLINGS),
    st.sampled_from(["", "/", "/path", "?q=1", ":8080", ".", ")", "-x", "x", "@"]),
).map(lambda parts: parts[0] + "".join(f"{label}." for label in parts[1]) + parts[2] + parts[3])
URL_TEXT = st.lists(URLISH | st.sampled_from([" ", "\n", "(", "@", "#", "é"]), max_size=6).map(
    "".join
)


@given(URL_TEXT)
def test_fast_url_pattern_finds_what_the_exact_one_finds(text: str) -> None:
    find = entities_module._mastodon_urls.__wrapped__  # type: ignore[attr-defined]
    fast = find(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(entities_module, "_tt_url_regex_fast", entities_module._tt_url_regex)
        exact = find(text)
    assert fast == exact


def test_fast_url_pattern_examples() -> None:
    """ASCII TLDs: the fast pattern's match stands; a TLD written with ı, İ or ϵ (which
    Python's IGNORECASE takes for i, i and ε, and Ruby's /i does not) is no URL."""
    find = entities_module._mastodon_urls.__wrapped__  # type: ignore[attr-defined]
    text = "a https://Example.COM/a b http://x.bız c http://x.BİZ/ d http://x.ϵλ e http://x.ſite"
    assert [url for *_, url in find(text)] == ["https://Example.COM/a", "http://x.ſite"]
