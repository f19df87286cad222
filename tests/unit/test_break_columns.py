"""Break points as parallel lists (`sentences.BreakColumns`, the planner's form) hold exactly
the `Break`s of `break_opportunities`, and `split_text` splits alike from either form."""

from __future__ import annotations

import random

import pytest

from threadpost.text.entities import protected_spans
from threadpost.text.graphemes import grapheme_boundaries
from threadpost.text.sentences import (
    Break,
    BreakColumns,
    BreakKind,
    break_columns,
    break_opportunities,
)
from threadpost.text.split import allowed_break_columns, allowed_breaks, split_text

WORDS = [
    "Mr. Smith",
    "said:",
    "« oui »",
    "Stop. Then",
    "why? no",
    "https://example.org/a b",
    "@alice.bsky.social",
    "#tag",
    "潮見表は港町。",
    "「はい。」と",
    "e\u0301te\u0301",
    "🇫🇷",
    "end.",
    "\n",
    "\n\n",
    " \t ",
]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 120)))


@pytest.mark.parametrize("seed", range(5))
def test_columns_hold_the_breaks(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        text = _text(rng)
        columns = break_columns(text)
        breaks = break_opportunities(text)
        assert list(columns) == breaks
        assert all(type(brk.kind) is BreakKind for brk in columns)
        assert columns == BreakColumns.of(breaks)
        assert all(type(kind) is int for kind in columns.kinds)
        first = rng.randint(0, len(text))
        last = rng.randint(first, len(text))
        assert list(break_columns(text, first, last)) == break_opportunities(text, first, last)


def test_columns_append_and_extend() -> None:
    columns = BreakColumns()
    columns.append(3, 4, int(BreakKind.WORD))
    columns.extend(BreakColumns([7], [9], [int(BreakKind.PARAGRAPH)]))
    assert list(columns) == [Break(3, 4, BreakKind.WORD), Break(7, 9, BreakKind.PARAGRAPH)]
    assert len(columns) == 2


@pytest.mark.parametrize("seed", range(4))
def test_split_from_columns_equals_split_from_breaks(seed: int) -> None:
    rng = random.Random(seed)
    text = _text(rng) + " final words here."
    clusters = grapheme_boundaries(text)
    spans = protected_spans(text)
    breaks = allowed_breaks(text, protected=spans, cluster_starts=clusters)
    columns = allowed_break_columns(text, protected=spans, cluster_starts=clusters)
    assert list(columns) == breaks
    for limit in (20, 45, 120):

        def fits(candidate: str, index: int, limit: int = limit) -> bool:
            return len(candidate) <= limit

        assert split_text(text, fits, breaks=lambda: columns) == split_text(
            text, fits, breaks=lambda: breaks
        )
