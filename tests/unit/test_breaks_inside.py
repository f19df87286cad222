"""Break points found paragraph by paragraph are those of the whole text: the blank lines
alone (`sentences.paragraph_breaks`), and inside the paragraphs asked for
(`split.allowed_breaks_inside`), the same breaks as `split.allowed_breaks`."""

from __future__ import annotations

import random

import pytest

from threadpost.text.entities import protected_spans
from threadpost.text.graphemes import grapheme_boundaries
from threadpost.text.sentences import Break, BreakKind, break_opportunities, paragraph_breaks
from threadpost.text.split import allowed_breaks, allowed_breaks_inside, merge_spans

CHARS = ["a", "b", " ", "\n", "\r", "\u2029", "\u2028", "\t", "\xa0", ".", "\x0b", "é", "。"]
WORDS = [
    "Mr. Smith",
    "said:",
    "« oui »",
    "https://example.org/a b",
    "@alice.bsky.social",
    "@bob@mastodon.social",
    "#tag",
    "潮見表は港町",
    "e\u0301te\u0301",
    "🇫🇷",
    "end.",
    "\n",
    "\n\n",
    " \n \n ",
]


@pytest.mark.parametrize("seed", range(4))
def test_paragraph_breaks_are_those_of_the_whole_text(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3000):
        text = "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 30)))
        expected = [b for b in break_opportunities(text) if b.kind is BreakKind.PARAGRAPH]
        assert paragraph_breaks(text) == expected, repr(text)


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 200)))


@pytest.mark.parametrize("seed", range(6))
def test_inner_breaks_of_the_paragraphs_asked_for(seed: int) -> None:
    rng = random.Random(seed)
    text = _text(rng)
    clusters = grapheme_boundaries(text)
    whole = allowed_breaks(text, protected=protected_spans(text), cluster_starts=clusters)
    every = allowed_breaks_inside(text, lambda s, e: True, protected_spans, cluster_starts=clusters)
    assert every == whole
    # Inner breaks of every other paragraph only: the others keep their blank lines alone.
    asked: set[tuple[int, int]] = set()

    def needs_inner(start: int, end: int) -> bool:
        if len(asked) % 2 == 0:
            asked.add((start, end))
            return True
        asked.add((-start - 1, end))
        return False

    some = allowed_breaks_inside(text, needs_inner, protected_spans, cluster_starts=clusters)
    kept = [(s, e) for s, e in asked if s >= 0]
    expected = [
        b
        for b in whole
        if b.kind is BreakKind.PARAGRAPH or any(s <= b.end and b.next_start <= e for s, e in kept)
    ]
    assert some == expected


def reference_allowed(text: str, cluster_starts: list[int] | None) -> list[Break]:
    """`allowed_breaks` as a walk over every break, one at a time (how it was first written;
    it now looks only at the breaks near a span, a CJK break or a character >= U+0300)."""
    spans = merge_spans(protected_spans(text))
    starts = set(cluster_starts) if cluster_starts is not None else None
    allowed = []
    for brk in break_opportunities(text):
        end, next_start = brk.end, brk.next_start
        if starts is not None:
            if end == next_start:
                if end not in starts:
                    continue
            else:
                while next_start > end and next_start not in starts:
                    next_start -= 1
                while end < next_start and end not in starts:
                    end += 1
                if end >= next_start:
                    continue
        if any(start < next_start and end < stop for start, stop in spans):
            continue
        allowed.append(Break(end, next_start, brk.kind))
    return allowed


@pytest.mark.parametrize("seed", range(4))
def test_allowed_breaks_are_those_of_a_walk_over_every_break(seed: int) -> None:
    rng = random.Random(100 + seed)
    pieces = [*WORDS, " ", " ", "\u0301", " \u0301", "\u0915\u094d", "ا", "\u200d", "👩🏽‍🔬"]
    pieces += [
        "\u0600",
        "\u0d4e",
        "x",
        "y",
        "日本",
        "\u3000",
        "(#tag)",
        "a.com/x\u3000y",
        "https://a.org/?q=\u3000z",
    ]
    for _ in range(1500):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 16)))
        clusters = grapheme_boundaries(text)
        assert allowed_breaks(
            text, protected=protected_spans(text), cluster_starts=clusters
        ) == reference_allowed(text, clusters), repr(text)
        assert allowed_breaks(text, protected=protected_spans(text)) == reference_allowed(
            text, None
        ), repr(text)
