"""Sentence and clause boundaries for English and French (threadpost.text.sentences)."""

from __future__ import annotations

import random
import re

import pytest

from threadpost.text import sentences as sentences_module
from threadpost.text.sentences import BreakKind, break_opportunities, classify_break, sentence_spans

NBSP = "\u00a0"
NNBSP = "\u202f"


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


SENTENCE_CASES = [
    # English
    ("Mr. Smith went home. He slept.", ["Mr. Smith went home.", "He slept."]),
    (
        "Mrs. Jones and Dr. Who met at St. Paul's. Then tea.",
        ["Mrs. Jones and Dr. Who met at St. Paul's.", "Then tea."],
    ),
    ("It costs 3.14 dollars. Next.", ["It costs 3.14 dollars.", "Next."]),
    (
        "See e.g. the report, i.e. the long one. Next.",
        ["See e.g. the report, i.e. the long one.", "Next."],
    ),
    ("Cats vs. Dogs is a film. Right.", ["Cats vs. Dogs is a film.", "Right."]),
    ("Compare cf. Smith's book. Done.", ["Compare cf. Smith's book.", "Done."]),
    ("J. R. R. Tolkien wrote it. Then.", ["J. R. R. Tolkien wrote it.", "Then."]),
    ("Wait... what? Really?! Yes!! Ok.", ["Wait... what?", "Really?!", "Yes!!", "Ok."]),
    ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
    ("He said “Stop!” Then left.", ["He said “Stop!”", "Then left."]),
    ("(See above.) Next one.", ["(See above.)", "Next one."]),
    ("Apples, pears, etc. are fine.", ["Apples, pears, etc. are fine."]),
    ("Apples, pears, etc. And more.", ["Apples, pears, etc.", "And more."]),
    ("It weighs approx. five kilos. Yes.", ["It weighs approx. five kilos.", "Yes."]),
    ("On Jan. 5 it rained. Then.", ["On Jan. 5 it rained.", "Then."]),
    ("The end is near… Really. Soon.", ["The end is near…", "Really.", "Soon."]),
    ("Version 2.0 is out. Get it.", ["Version 2.0 is out.", "Get it."]),
    ("A title line\nThe body. More.", ["A title line", "The body.", "More."]),
    # French
    ("M. Dupont est arrivé. Mme Durand aussi.", ["M. Dupont est arrivé.", "Mme Durand aussi."]),
    ("MM. Martin et Durand sont là. Ensuite.", ["MM. Martin et Durand sont là.", "Ensuite."]),
    ("Il est né en 52 av. J.-C. Il est mort.", ["Il est né en 52 av. J.-C.", "Il est mort."]),
    ("Il est né en 52 av. J.-C. et il est mort.", ["Il est né en 52 av. J.-C. et il est mort."]),
    ("Le 3 janv. 2024 il pleuvait. Ensuite.", ["Le 3 janv. 2024 il pleuvait.", "Ensuite."]),
    ("Le 3 févr. 2024 et le 4 apr. midi. Fin.", ["Le 3 févr. 2024 et le 4 apr. midi.", "Fin."]),
    ("Voir p. 12 et pp. 14-15. Fin.", ["Voir p. 12 et pp. 14-15.", "Fin."]),
    ("Pi vaut 3,14 environ. Oui.", ["Pi vaut 3,14 environ.", "Oui."]),
    ("Quoi ? Vraiment ! Oui.", ["Quoi ?", "Vraiment !", "Oui."]),
    (f"Quoi{NBSP}? Vraiment{NNBSP}! Oui.", [f"Quoi{NBSP}?", f"Vraiment{NNBSP}!", "Oui."]),
    ("Il a dit « Bonjour. » Puis il est parti.", ["Il a dit « Bonjour. »", "Puis il est parti."]),
    (f"Il a dit «{NNBSP}Bonjour.{NNBSP}» Puis.", [f"Il a dit «{NNBSP}Bonjour.{NNBSP}»", "Puis."]),
    ("Il a crié « Stop ! » Silence.", ["Il a crié « Stop ! »", "Silence."]),
    ("Et puis… rien. Enfin… Presque.", ["Et puis… rien.", "Enfin…", "Presque."]),
    ("Quoi ?! Non !! Si.", ["Quoi ?!", "Non !!", "Si."]),
    ("Cf. le chapitre 3, etc. Voilà.", ["Cf. le chapitre 3, etc.", "Voilà."]),
    ("Le Dr. House et M. Spock. Fin.", ["Le Dr. House et M. Spock.", "Fin."]),
]


@pytest.mark.parametrize(("text", "expected"), SENTENCE_CASES)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def kind_at(text: str, marker: str) -> BreakKind | None:
    """Kind of the whitespace run that starts right after the first `marker`."""
    start = text.index(marker) + len(marker)
    end = start
    while end < len(text) and text[end] in " \t\n":
        end += 1
    assert end > start, "marker must be followed by whitespace"
    return classify_break(text, start, end)


BREAK_CASES = [
    ("One.\n\nTwo.", "One.", BreakKind.PARAGRAPH),
    ("One.\n \n  Two.", "One.", BreakKind.PARAGRAPH),
    ("One\nTwo", "One", BreakKind.LINE),
    ("One. Two", "One.", BreakKind.SENTENCE),
    ("one, two", "one,", BreakKind.CLAUSE),
    ("one; two", "one;", BreakKind.CLAUSE),
    ("one: two", "one:", BreakKind.CLAUSE),
    ("one — two", "one —", BreakKind.CLAUSE),
    ("one – two", "one –", BreakKind.CLAUSE),
    ("one - two", "one -", BreakKind.CLAUSE),
    ("one — two", "one", BreakKind.WORD),
    ("well-known fact", "well-known", BreakKind.WORD),
    ("one two", "one", BreakKind.WORD),
    # French spacing: never separate « from its word, nor a word from ? ! : ; » %
    ("dit « bonjour »", "«", None),
    ("dit « bonjour »", "bonjour", None),
    ("quoi ? oui", "quoi", None),
    ("oui ! non", "oui", None),
    ("ceci : cela", "ceci", None),
    ("ceci : cela", ":", BreakKind.CLAUSE),
    ("ceci ; cela", "ceci", None),
    ("10 % de plus", "10", None),
    ("dit « bonjour »", "dit", BreakKind.WORD),
]


@pytest.mark.parametrize(("text", "marker", "kind"), BREAK_CASES)
def test_classify_break(text: str, marker: str, kind: BreakKind | None) -> None:
    assert kind_at(text, marker) == kind


def test_non_breaking_spaces_are_never_breaks() -> None:
    text = f"10{NBSP}000 mots{NNBSP}; «{NBSP}citation{NBSP}» fin"
    ends = [brk.end for brk in break_opportunities(text)]
    # After "10", inside "mots ;", after "«" and before "»": no break.
    assert ends == [text.index(" mots"), text.index(";") + 1, text.index("»") + 1]
    for brk in break_opportunities(text):
        assert text[brk.end : brk.next_start].strip() == ""
        assert NBSP not in text[brk.end : brk.next_start]


def test_leading_and_trailing_whitespace_are_not_breaks() -> None:
    assert break_opportunities("  one two  ") == [
        b for b in break_opportunities("  one two  ") if b.end == 5
    ]
    assert len(break_opportunities("  one two  ")) == 1


def test_breaks_are_ordered_whitespace_runs() -> None:
    text = "A first sentence. A second, with a clause — and a dash.\n\nA paragraph\nwith lines."
    breaks = break_opportunities(text)
    assert [b.end for b in breaks] == sorted(b.end for b in breaks)
    for brk in breaks:
        assert brk.end < brk.next_start
        assert text[brk.end : brk.next_start].isspace()


# Chinese and Japanese: breaks between characters (UAX #14), nothing dropped.

CJK_SENTENCE_CASES = [
    ("東京は大きい。大阪も大きい。", ["東京は大きい。", "大阪も大きい。"]),
    ("本当？はい！そうです。", ["本当？", "はい！", "そうです。"]),
    ("「はい。」と言った。次。", ["「はい。」と言った。", "次。"]),
    ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
    ("项目也是如此！最初很平静。", ["项目也是如此！", "最初很平静。"]),
    ("日本語です。 English follows. Yes.", ["日本語です。", "English follows.", "Yes."]),
]


@pytest.mark.parametrize(("text", "expected"), CJK_SENTENCE_CASES)
def test_cjk_sentence_spans(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def cjk_breaks(text: str) -> list[int]:
    return [brk.end for brk in break_opportunities(text) if brk.end == brk.next_start]


@pytest.mark.parametrize(
    ("text", "never_before"),
    [
        ("ちょっと", "ょ"),
        ("キャッシュ", "ャ"),
        ("キャッシュ", "ッ"),
        ("コーヒー", "ー"),
        ("「はい」と", "」"),
        ("はい。次", "。"),
        ("はい、次", "、"),
        ("人々", "々"),
        ("待って…何", "…"),
    ],
)
def test_cjk_no_break_before_small_kana_closers_and_punctuation(
    text: str, never_before: str
) -> None:
    assert text.index(never_before) not in cjk_breaks(text)


def test_cjk_no_break_after_an_opening_bracket() -> None:
    text = "彼は「はい」と言った"
    assert text.index("「") + 1 not in cjk_breaks(text)
    assert text.index("「") in cjk_breaks(text)


def test_no_break_between_cjk_and_latin_or_in_latin_runs() -> None:
    assert cjk_breaks("iPhone発売") == [len("iPhone発")]
    assert cjk_breaks("x" * 50) == []
    # Hangul is spaced like Latin: only the space breaks.
    assert [brk.end for brk in break_opportunities("한국어 문장")] == [3]
    # Thai, Lao, Khmer, Myanmar: no dictionary, no guessing.
    assert break_opportunities("ภาษาไทยไม่มีการเว้นวรรค") == []


def test_no_mark_that_classify_break_looks_at_is_a_letter_or_digit() -> None:
    # break_opportunities takes a lone space between two letters or digits for a WORD break
    # without classifying it: sound only while none of these marks is one.
    marks = (
        sentences_module._NO_BREAK_AFTER
        | sentences_module._NO_BREAK_BEFORE
        | sentences_module._CLOSERS
        | sentences_module._OPENERS
        | sentences_module._TERMINATORS
        | sentences_module._CLAUSE_MARKS
        | sentences_module._DASHES
        | {"."}
    )
    assert [mark for mark in marks if re.match(r"[^\W_]", mark)] == []


def test_plain_gaps_are_classified_as_classify_break_would() -> None:
    rng = random.Random(11)
    pieces = [
        "word",
        "Mot",
        "3",
        "é",
        "e\u0301",
        "x.",
        "M.",
        "etc.",
        "«",
        "»",
        "?",
        "—",
        "-",
        ",",
        "\u00a0",
        "\t",
        " ",
        "  ",
        "\n",
        "\n\n",
        "_",
        "あ",
        "。",
        "(",
        ")",
        "…",
        "J.-C.",
    ]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        expected = []
        for match in re.finditer(r"(?:(?![\u00a0\u2007\u202f])\s)+", text):
            start, end = match.span()
            if start == 0 or end == len(text):
                continue
            kind = classify_break(text, start, end)
            if kind is not None:
                expected.append((start, end, kind))
        found = [
            (b.end, b.next_start, b.kind)
            for b in break_opportunities(text)
            if b.end != b.next_start
        ]
        assert found == expected, text


def test_breakable_class_is_whitespace_but_the_non_breaking_spaces() -> None:
    # `_BREAKABLE` is a class (fast to search for); it must mean what the look-ahead form
    # "any \s but U+00A0, U+2007 and U+202F" means, for every code point.
    reference = re.compile(r"(?:(?![\u00a0\u2007\u202f])\s)")
    breakable = re.compile(sentences_module._BREAKABLE)
    differ = [
        hex(code)
        for code in range(0x110000)
        if bool(breakable.fullmatch(chr(code))) != bool(reference.fullmatch(chr(code)))
    ]
    assert differ == []
    assert breakable.fullmatch(" ") and breakable.fullmatch("\u3000")
    assert not breakable.fullmatch("\u00a0") and not breakable.fullmatch("x")


def test_plain_gaps_between_any_whitespace_are_classified_as_classify_break_would() -> None:
    # Also after clause marks and terminators, which break_opportunities ranks itself.
    rng = random.Random(12)
    pieces = ["a", "Z", "7", "é", "É", "_", ".", "«", "»", "あ", "x.", "\u0301", "M.", "etc."]
    pieces += [",", ";", ":", "!", "?", "…", "‽", "、", "，", "。", "？", "｡", "—", "%", ")"]
    pieces += [" ", "\t", "\n", "\u00a0", "\u2007", "\u202f", "\u3000", "\x85", "\x1c", "\u2028"]
    for _ in range(6000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        expected = []
        for match in re.finditer(r"(?:(?![\u00a0\u2007\u202f])\s)+", text):
            start, end = match.span()
            if start == 0 or end == len(text):
                continue
            kind = classify_break(text, start, end)
            if kind is not None:
                expected.append((start, end, kind))
        found = [
            (b.end, b.next_start, b.kind)
            for b in break_opportunities(text)
            if b.end != b.next_start
        ]
        assert found == expected, repr(text)
