"""`split.count_bounds` brackets the number of chunks `split_text` makes, from the greedy
passes alone: the planner relies on it for the numbering's width of the unnumbered split."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import partial

import pytest

from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.rules import NetworkRules
from threadpost.span_fit import SpanCounter
from threadpost.text.entities import protected_spans
from threadpost.text.graphemes import grapheme_boundaries
from threadpost.text.split import allowed_breaks, count_bounds, split_text
from threadpost.values import PlatformLimits

SENTENCES = [
    "The tide comes in faster than anyone expects, and the causeway is gone in minutes.",
    "Read https://example.org/research/deadlines-and-tides?ref=thread first.",
    "Thanks to @alice.bsky.social and @bob@mastodon.social 🙏",
    "Mr. Smith wrote about it; e.g. in 2019 — nobody read it.",
    "潮見表は港町ならどこでも印刷されている。",
    "x" * 130,  # longer than a post: an unbreakable piece
]

NETWORKS: list[tuple[NetworkRules, PlatformLimits]] = [
    (MASTODON_RULES, replace(MASTODON_DEFAULT_LIMITS, max_graphemes=120)),
    (BLUESKY_RULES, replace(BLUESKY_LIMITS, max_graphemes=100, max_bytes=250)),
]


def _text(seed: int) -> str:
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(rng.randint(1, 30)):
        joiner = rng.choice([" ", " ", "\n", ""])
        paragraphs.append(joiner.join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 8))))
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize(("rules", "limits"), NETWORKS, ids=["mastodon", "bluesky"])
@pytest.mark.parametrize("seed", range(12))
def test_bounds_hold_the_real_count(rules: NetworkRules, limits: PlatformLimits, seed: int) -> None:
    text = _text(seed)
    clusters = grapheme_boundaries(text)
    breaks = allowed_breaks(text, protected=protected_spans(text), cluster_starts=clusters)
    counter = SpanCounter(text, clusters, rules, limits, spoiler_text="", shorten=False)

    def fits(candidate: str, index: int) -> bool:
        return rules.fits(candidate, limits, spoiler_text="")

    found = count_bounds(
        text,
        fits,
        breaks=lambda: breaks,
        measure=partial(counter.measure_with, lambda i: ""),
    )
    chunks = split_text(
        text,
        fits,
        breaks=lambda: breaks,
        measure=partial(counter.measure_with, lambda i: ""),
    )
    assert found is not None
    least, most = found
    assert least <= len(chunks) <= most


def test_whole_paragraphs_are_counted_exactly() -> None:
    # Runs of whole paragraphs keep their greedy count: no word break to save.
    text = "\n\n".join(["Short paragraph number one.", "And a second one.", "A third."] * 9)
    rules, limits = MASTODON_RULES, replace(MASTODON_DEFAULT_LIMITS, max_graphemes=60)
    counter = SpanCounter(
        text, grapheme_boundaries(text), rules, limits, spoiler_text="", shorten=False
    )
    breaks = allowed_breaks(text, cluster_starts=grapheme_boundaries(text))

    def fits(candidate: str, index: int) -> bool:
        return rules.fits(candidate, limits)

    measure = partial(counter.measure_with, lambda i: "")
    chunks = split_text(text, fits, breaks=lambda: breaks, measure=measure)
    assert count_bounds(text, fits, breaks=lambda: breaks, measure=measure) == (
        len(chunks),
        len(chunks),
    )
    assert len(chunks) > 1


def test_text_that_fits_is_one_chunk_exactly() -> None:
    text = "Short enough."
    counter = SpanCounter(
        text,
        grapheme_boundaries(text),
        MASTODON_RULES,
        MASTODON_DEFAULT_LIMITS,
        spoiler_text="",
        shorten=False,
    )
    bounds = count_bounds(
        text,
        lambda candidate, index: True,
        breaks=list,
        measure=partial(counter.measure_with, lambda i: ""),
    )
    assert bounds == (1, 1)
