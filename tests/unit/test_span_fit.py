"""The planner's prefix-count shortcut answers exactly as the rules' own `fits` at break points,
and a shortcut that is wrong never makes the splitter return a chunk that does not fit."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.rules import NetworkRules
from threadpost.span_fit import SpanCounter, _sizes, wide_byte_events
from threadpost.text.count import shorten_links_for_display
from threadpost.text.entities import protected_spans
from threadpost.text.graphemes import grapheme_boundaries
from threadpost.text.split import allowed_breaks, split_text
from threadpost.values import PlatformLimits

PIECES = [
    "The tide comes in faster than anyone expects.",
    "Read https://example.org/research/deadlines-and-tides?ref=thread first.",
    "Thanks to @alice.bsky.social and @bob@mastodon.social 🙏",
    "क्षत्रिय और क्षमा",  # Indic conjuncts: Mastodon counts them as older Unicode did
    "Flags 🇫🇷🇩🇪 and a family 👨‍👩‍👧 here.",
    "Line one\r\nline two",
    "#SécuritéGlobale coûte cher 💶",
    "潮見表は港町ならどこでも印刷されている。",
    "e\u0301te\u0301 (https://fr.wikipedia.org/wiki/Été_(saison)).",
]

# Small limits, so that random pieces of a few dozen words both fit and do not; Bluesky's
# byte cap is low enough to decide some of them.
NETWORKS: list[tuple[NetworkRules, PlatformLimits]] = [
    (MASTODON_RULES, replace(MASTODON_DEFAULT_LIMITS, max_graphemes=150)),
    (BLUESKY_RULES, replace(BLUESKY_LIMITS, max_graphemes=150, max_bytes=400)),
]


def _text(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(PIECES) for _ in range(300))


@pytest.mark.parametrize(("rules", "limits"), NETWORKS, ids=["mastodon", "bluesky"])
@pytest.mark.parametrize("shorten", [False, True])
@pytest.mark.parametrize("spoiler", ["", "cw: tides"])
def test_span_fits_agrees_with_the_rules_at_break_points(
    rules: NetworkRules, limits: PlatformLimits, shorten: bool, spoiler: str
) -> None:
    text = _text(7)
    clusters = grapheme_boundaries(text)
    breaks = allowed_breaks(text, protected=protected_spans(text), cluster_starts=clusters)
    counter = SpanCounter(
        text, clusters, rules, limits, spoiler_text=spoiler, shorten=shorten and not spoiler
    )
    suffix = f"{{i}}/{len(breaks)}"
    span_fits = counter.fits_with(lambda i: suffix.format(i=i + 1))
    rng = random.Random(3)
    starts = [0] + [brk.next_start for brk in breaks]
    ends = [brk.end for brk in breaks] + [len(text)]
    checked = {True: 0, False: 0}
    for _ in range(1500):
        first = rng.randrange(len(starts))
        last = min(first + rng.randrange(60), len(ends) - 1)
        start, end = starts[first], ends[last]
        if end <= start:
            continue
        index = rng.randrange(20)
        numbered = f"{text[start:end]} {suffix.format(i=index + 1)}"
        if shorten and not spoiler:
            numbered = shorten_links_for_display(numbered, rules.entities(numbered))[0]
        expected = rules.fits(numbered, limits, spoiler_text=spoiler)
        assert span_fits(start, end, index) == expected, (start, end, numbered)
        checked[expected] += 1
    assert checked[True] > 100 and checked[False] > 100  # both answers were exercised


def test_a_wrong_shortcut_never_yields_a_chunk_that_does_not_fit() -> None:
    text = " ".join(f"word{i}" for i in range(200))

    def fits(candidate: str, index: int) -> bool:
        return len(candidate) <= 50

    def always(start: int, end: int, index: int) -> bool:
        return True  # wrong: says every piece fits

    chunks = split_text(text, fits, fits_span=lambda: always)
    assert chunks == split_text(text, fits)
    assert all(len(chunk.text) <= 50 for chunk in chunks)


@pytest.mark.parametrize(("rules", "limits"), NETWORKS, ids=["mastodon", "bluesky"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_splits_by_prefix_sizes_are_the_splits_by_fits(
    rules: NetworkRules, limits: PlatformLimits, seed: int
) -> None:
    # The bisections over prefix sizes give the chunks that probing the rules' own fits
    # gives (the straightforward reference), numbered "i/n" as the planner numbers.
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) + rng.choice([" ", " ", "\n", "\n\n"]) for _ in range(120))
    text = text.strip()
    clusters = grapheme_boundaries(text)
    breaks = allowed_breaks(text, protected=protected_spans(text), cluster_starts=clusters)
    counter = SpanCounter(text, clusters, rules, limits, spoiler_text="", shorten=False)
    sizes = counter.prefixes(
        [brk.end for brk in breaks] + [len(text)], [0] + [brk.next_start for brk in breaks]
    )
    assert sizes is not None  # the shortcut is in use, not the probing fallback

    probes = 0

    def fits(candidate: str, index: int) -> bool:
        nonlocal probes
        probes += 1
        return rules.fits(f"{candidate} {index + 1}/99", limits)

    measured = split_text(
        text,
        fits,
        breaks=lambda: breaks,
        measure=lambda: counter.measure_with(lambda i: f"{i + 1}/99"),
    )
    # fits was asked only about the whole text and each chosen chunk: no fallback split.
    assert probes == 1 + len(measured)
    assert measured == split_text(text, fits)
    assert len(measured) > 5


def test_prefix_sizes_answer_as_fits_with() -> None:
    rules, limits = NETWORKS[1]
    text = _text(5)
    clusters = grapheme_boundaries(text)
    breaks = allowed_breaks(text, protected=protected_spans(text), cluster_starts=clusters)
    counter = SpanCounter(text, clusters, rules, limits, spoiler_text="", shorten=False)
    ends = [brk.end for brk in breaks] + [len(text)]
    starts = [0] + [brk.next_start for brk in breaks]
    sizes = counter.prefixes(ends, starts)
    assert sizes is not None and sizes.bytes_at_end is not None
    assert sizes.bytes_at_start is not None
    measure = counter.measure_with(lambda i: f"{i + 1}/7")
    span_fits = counter.fits_with(lambda i: f"{i + 1}/7")
    rng = random.Random(8)
    for _ in range(1000):
        u = rng.randrange(-1, len(breaks))
        v = min(u + 1 + rng.randrange(40), len(breaks))
        index = rng.randrange(7)
        count, most_bytes = measure.budget(index)
        assert most_bytes is not None
        by_sizes = (
            sizes.count_at_end[v] - sizes.count_at_start[u + 1] <= count
            and sizes.bytes_at_end[v] - sizes.bytes_at_start[u + 1] <= most_bytes
        )
        assert by_sizes == span_fits(starts[u + 1], ends[v], index)


def test_wide_byte_events_sum_to_the_utf8_bytes_before_each_offset() -> None:
    rng = random.Random(5)
    pieces = ["a", " ", "é", "ßü", "日本", "🦋🦋", "e\u0301", "\ud800", "\n"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        ends = sorted(rng.sample(range(len(text) + 1), rng.randint(1, len(text) + 1)))
        starts = sorted(rng.sample(range(len(text) + 1), rng.randint(1, len(text) + 1)))
        events = wide_byte_events(text, ends, starts)
        for offsets in (ends, starts):
            expected = [len(text[:o].encode("utf-8", "surrogatepass")) for o in offsets]
            assert _sizes(offsets, list(events))[1] == expected, (text, offsets)
    # One event per run unless an offset falls inside it.
    assert wide_byte_events("a日本語 é", [0, 5], [6]) == [(3, 0, 6), (5, 0, 1)]
    assert wide_byte_events("日本語", [2], [0]) == [(0, 0, 2), (1, 0, 2), (2, 0, 2)]
