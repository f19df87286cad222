"""Whether a piece of a draft post fits one post, answered from prefix counts.

The splitter probes "does text[start:end] fit as post i?" a few times per break point. Asking
the network's rules each time recounts the whole candidate (graphemes, entity detection):
O(text length x post length) for a long paragraph, seconds for 100 KB. Between break points
(whitespace outside any link, mention or tag, or between two CJK characters) the networks'
counts are additive: the graphemes of the piece, plus, for each entity inside it, what the
network counts for the entity instead of its graphemes (a Mastodon URL counts 23, a remote
mention `@user`, a shortened Bluesky link its short form). So the pieces' counts come from
the post's cluster boundaries and entities, found once, with two bisections per probe.

`text.split.split_text` checks every chunk it chooses with the rules' own `fits`, and splits
again with that alone if one disagrees: this is a shortcut, never the judge.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from itertools import accumulate, repeat
from operator import add, le, sub

from threadpost.platforms.rules import NetworkRules
from threadpost.text.count import short_url, utf8_length
from threadpost.text.split import Prefixes
from threadpost.values import PlatformLimits

#: Where a cluster of several code points may be: an ASCII cluster is one code point, but
#: for CR LF.
_NOT_PLAIN = re.compile("[^\x00-\x7f]+|\r\n")


def _long_clusters(text: str, cluster_starts: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(head, tail) of every cluster of more than one code point, in order; found around the
    text's non-ASCII runs instead of walking every cluster."""
    last = -1  # index of the last cluster looked at
    for run in _NOT_PLAIN.finditer(text):
        first, end = run.span()
        index = max(bisect_right(cluster_starts, first) - 1, last + 1)
        while index < len(cluster_starts) - 1 and cluster_starts[index] < end:
            head, tail = cluster_starts[index], cluster_starts[index + 1]
            if tail - head > 1:
                yield head, tail
            index += 1
        last = index - 1


def pairwise_deltas(prefix: list[int]) -> list[int]:
    """The steps of a prefix sum: [b - a for a, b in pairwise(prefix)]."""
    return list(map(sub, prefix[1:], prefix[:-1]))


def _sizes(offsets: list[int], events: list[tuple[int, int, int]]) -> tuple[list[int], list[int]]:
    """(count, bytes) before each offset (sorted): the offset plus the deltas of the events at
    a position below it."""
    # An event at position p adds to every offset above p: a step at the first of them, and
    # one running sum over the offsets (few events, many offsets).
    count_steps = [0] * (len(offsets) + 1)
    byte_steps = [0] * (len(offsets) + 1)
    for position, count, size in events:
        first_above = bisect_right(offsets, position)
        count_steps[first_above] += count
        byte_steps[first_above] += size
    return (
        list(map(add, offsets, accumulate(count_steps))),
        list(map(add, offsets, accumulate(byte_steps))),
    )


@cache
def _wide_runs() -> re.Pattern[str]:
    # Characters over one UTF-8 byte, in runs of one width (2, 3 or 4 bytes each). Compiled
    # for the first text that has one (its classes span every plane: ≈2 ms).
    return re.compile("[\u0080-\u07ff]+|[\u0800-\uffff]+|[\U00010000-\U0010ffff]+")


def wide_byte_events(text: str, *offset_lists: list[int]) -> list[tuple[int, int, int]]:
    """Events (position, 0, extra bytes) for `_sizes`: with them, the bytes before each offset
    of the (sorted) `offset_lists` are its UTF-8 prefix. One event per run of characters of
    one width at its last character, unless an offset falls inside the run (CJK breaks): then
    one per character of the run."""
    events: list[tuple[int, int, int]] = []
    if text.isascii():
        return events
    for first, end in map(re.Match.span, _wide_runs().finditer(text)):
        char = text[first]
        width = 1 if char < "\u0800" else 2 if char <= "\uffff" else 3
        if end - first == 1:  # most runs (an accented letter): no offset inside
            events.append((first, 0, width))
        elif any(_holds_one(offsets, first, end) for offsets in offset_lists):
            events.extend((at, 0, width) for at in range(first, end))
        else:
            events.append((end - 1, 0, width * (end - first)))
    return events


def _holds_one(offsets: list[int], first: int, end: int) -> bool:
    """Whether an offset lies strictly between `first` and `end`."""
    above = bisect_right(offsets, first)
    return above < len(offsets) and offsets[above] < end


class SpanCounter:
    """The counts of pieces of one text on one network, from its clusters and entities
    (found once: a planner asks again for every numbering width it tries)."""

    def __init__(
        self,
        text: str,
        cluster_starts: Sequence[int],
        rules: NetworkRules,
        limits: PlatformLimits,
        *,
        spoiler_text: str,
        shorten: bool,
    ) -> None:
        """`cluster_starts`: the cluster boundaries of `text` (`grapheme_boundaries`)."""
        self.text = text
        self.cluster_starts = cluster_starts
        self.rules = rules
        self.limits = limits
        # A cluster of several code points may count otherwise than 1 (Mastodon counts an
        # Indic conjunct as the clusters of older Unicode rules): its own count, measured
        # between two letters so that no stripping or joining at the edges gets in the way.
        marker = rules.countable_length("xx", limits)
        fix_at: list[int] = []
        fixes: list[int] = []
        #: Offsets inside a cluster (not starting one), sorted.
        self.inside: list[int] = []
        # Counted once per distinct cluster and entity text (a text repeats its emoji, links
        # and tags; counting is pure).
        counted: dict[str, int] = {}
        for head, tail in _long_clusters(text, cluster_starts):
            self.inside.extend(range(head + 1, tail))
            between = f"x{text[head:tail]}x"
            if between not in counted:
                counted[between] = rules.countable_length(between, limits)
            delta = counted[between] - marker - 1
            if delta:
                fix_at.append(head)
                fixes.append(delta)
        self.fix_at = fix_at
        self.fix_before = [0, *accumulate(fixes)]
        entities = rules.entities(text)
        self.starts = [entity.start for entity in entities]
        self.ends = [entity.end for entity in entities]
        # What each entity adds to the count and the bytes beyond its own clusters and bytes.
        extra_count: list[int] = []
        extra_bytes: list[int] = []
        around = rules.countable_length("x  x", limits)
        for entity in entities:
            shown = short_url(entity.text) if shorten and entity.kind == "link" else entity.text
            between = f"x {shown} x"
            if between not in counted:
                counted[between] = rules.countable_length(between, limits)
            extra_count.append(counted[between] - around - self.clusters(entity.start, entity.end))
            extra_bytes.append(utf8_length(shown) - utf8_length(entity.text))
        self.count_before = [0, *accumulate(extra_count)]
        self.bytes_before = [0, *accumulate(extra_bytes)]
        self.base = rules.countable_length("", limits, spoiler_text=spoiler_text)
        self._prefixes: tuple[list[int], list[int], Prefixes | None] | None = None

    def prefixes(self, ends: list[int], starts: list[int]) -> Prefixes | None:
        """What `fits_with`'s answers add up from, before each offset (see `Prefixes`): the
        counted clusters plus what the entities ended (at an end) or started (at a start)
        before it add, and the same for bytes. None when an entity holds a start offset or
        the sums do not grow (the answers would then not be differences of prefixes).
        Kept for the last offsets asked about: every numbering round asks again."""
        cached = self._prefixes
        if cached is not None and cached[0] == ends and cached[1] == starts:
            return cached[2]
        found = self._compute_prefixes(ends, starts)
        self._prefixes = (list(ends), list(starts), found)
        return found

    def _compute_prefixes(self, ends: list[int], starts: list[int]) -> Prefixes | None:
        entity_starts, entity_ends = self.starts, self.ends
        if not all(map(le, entity_ends, entity_ends[1:])):
            return None  # overlapping entities: an entity's extra is not one prefix step
        for first, last in zip(entity_starts, entity_ends, strict=True):
            # A chunk starting inside an entity: `fits_with` counts none of the entity's
            # extra, a difference of prefixes would count part of it.
            after = bisect_right(starts, first)
            if after < len(starts) and starts[after] < last:
                return None
        # The sizes before offset o are o plus what every event at a position below o adds
        # (a code point inside a cluster: one less; a fix of a cluster's count; an entity's
        # extra once it has ended, or for a start, once it has begun; the extra bytes of a
        # character over one byte, by runs). Events are few: one step each, one running sum.
        common: list[tuple[int, int, int]] = [(at, -1, 0) for at in self.inside]
        common += zip(self.fix_at, pairwise_deltas(self.fix_before), repeat(0))
        capped = self.limits.max_bytes is not None
        if capped:
            common += wide_byte_events(self.text, ends, starts)
        count_extra = pairwise_deltas(self.count_before)
        bytes_extra = pairwise_deltas(self.bytes_before)
        at_end = _sizes(
            ends,
            common
            + list(zip([end - 1 for end in entity_ends], count_extra, bytes_extra, strict=True)),
        )
        at_start = _sizes(
            starts, common + list(zip(entity_starts, count_extra, bytes_extra, strict=True))
        )
        sums = [at_end[0], at_start[0]]
        if capped:
            sums += [at_end[1], at_start[1]]
        if not all(all(map(le, values, values[1:])) for values in sums):
            return None
        if self.limits.max_bytes is None:
            return Prefixes(at_end[0], at_start[0], None, None)
        return Prefixes(at_end[0], at_start[0], at_end[1], at_start[1])

    def measure_with(self, suffix: Callable[[int], str]) -> NumberedMeasure:
        """`fits_with`'s answers as sizes for `text.split` (its `SpanMeasure`)."""
        return NumberedMeasure(self, suffix)

    def clusters(self, start: int, end: int) -> int:
        """What the network counts for text[start:end], entities aside (offsets at clusters)."""
        starts, fix_at, fix_before = self.cluster_starts, self.fix_at, self.fix_before
        count = bisect_left(starts, end) - bisect_left(starts, start)
        if fix_at:
            count += fix_before[bisect_left(fix_at, end)] - fix_before[bisect_left(fix_at, start)]
        return count

    def fits_with(self, suffix: Callable[[int], str]) -> Callable[[int, int, int], bool]:
        """fits(start, end, chunk_index) for pieces cut at break points, as the rules' `fits`
        would answer for `text[start:end]` followed by " " + suffix(chunk_index) (nothing
        when the suffix is "")."""
        text, clusters, rules, limits = self.text, self.clusters, self.rules, self.limits
        starts, ends = self.starts, self.ends
        count_before, bytes_before = self.count_before, self.bytes_before
        base, max_count, max_bytes = self.base, limits.max_graphemes, limits.max_bytes
        suffixes: dict[int, tuple[int, int]] = {}
        letter = rules.countable_length("x", limits)

        def suffix_size(index: int) -> tuple[int, int]:
            size = suffixes.get(index)
            if size is None:
                tail = suffix(index)
                tail = f" {tail}" if tail else ""
                # After a letter, as it will be: a network that strips the text would not
                # count the space at the start of the suffix alone.
                counted = rules.countable_length(f"x{tail}", limits) - letter
                size = suffixes[index] = (counted, utf8_length(tail))
            return size

        # Each break's offsets are asked about again and again: remember where they fall.
        cluster_at: dict[int, int] = {}
        entity_from: dict[int, int] = {}
        entity_to: dict[int, int] = {}

        def fits(start: int, end: int, index: int) -> bool:
            first = entity_from.get(start)
            if first is None:
                first = entity_from[start] = bisect_left(starts, start)
            last = entity_to.get(end)
            if last is None:
                last = entity_to[end] = bisect_right(ends, end)
            tail_count, tail_bytes = suffixes.get(index) or suffix_size(index)
            if max_bytes is not None:
                size = utf8_length(text[start:end]) + tail_bytes
                if last > first:
                    size += bytes_before[last] - bytes_before[first]
                if size > max_bytes:
                    return False
            # Counted clusters before each offset (from the text's start).
            head = cluster_at.get(start)
            if head is None:
                head = cluster_at[start] = clusters(0, start)
            tail = cluster_at.get(end)
            if tail is None:
                tail = cluster_at[end] = clusters(0, end)
            count = tail - head
            if last > first:
                count += count_before[last] - count_before[first]
            return base + count + tail_count <= max_count

        return fits


class NumberedMeasure:
    """A `SpanCounter` with a numbering: the sizes and budgets `text.split.SpanMeasure` asks
    for. A chunk fits as post i exactly when `SpanCounter.fits_with(suffix)` says it does."""

    def __init__(self, counter: SpanCounter, suffix: Callable[[int], str]) -> None:
        self.counter = counter
        self.suffix = suffix

    def prefixes(self, ends: list[int], starts: list[int]) -> Prefixes | None:
        return self.counter.prefixes(ends, starts)

    def budget(self, index: int) -> tuple[int, int | None]:
        counter = self.counter
        rules, limits = counter.rules, counter.limits
        tail = self.suffix(index)
        tail = f" {tail}" if tail else ""
        # As `fits_with` counts the suffix: after a letter, so a stripping network counts
        # the space in front of it.
        counted = rules.countable_length(f"x{tail}", limits) - rules.countable_length("x", limits)
        count = limits.max_graphemes - counter.base - counted
        if limits.max_bytes is None:
            return count, None
        return count, limits.max_bytes - utf8_length(tail)
