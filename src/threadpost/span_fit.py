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

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate, pairwise

from threadpost.platforms.rules import NetworkRules
from threadpost.text.count import short_url, utf8_length
from threadpost.values import PlatformLimits


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
        for head, tail in pairwise(cluster_starts):
            if tail - head > 1:
                delta = rules.countable_length(f"x{text[head:tail]}x", limits) - marker - 1
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
        for entity in entities:
            shown = short_url(entity.text) if shorten and entity.kind == "link" else entity.text
            extra_count.append(
                rules.countable_length(f"x {shown} x", limits)
                - rules.countable_length("x  x", limits)
                - self.clusters(entity.start, entity.end)
            )
            extra_bytes.append(utf8_length(shown) - utf8_length(entity.text))
        self.count_before = [0, *accumulate(extra_count)]
        self.bytes_before = [0, *accumulate(extra_bytes)]
        self.base = rules.countable_length("", limits, spoiler_text=spoiler_text)

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
