"""Split one draft post's text into chunks that each fit a platform's limit.

The rule, greedy but with taste:

1. If the rest of the text fits, it is the last chunk.
2. Otherwise find the longest prefix that fits and ends at a break point (see
   `threadpost.text.sentences`: paragraph > line > sentence > clause > word).
3. Within that window, take the best-ranked break whose chunk is still at least a fraction
   of the window (`MIN_FILL`: a paragraph break is worth a post a third full, a clause break
   must leave it 60% full, a word break may end it anywhere); among breaks of one rank the
   latest wins. So a paragraph break is preferred to a fuller post, but never at the cost
   of a nearly empty one.
4. The whitespace of the break is dropped: `chunk[i].text + text[chunk[i].end:chunk[i+1].start]
   + chunk[i+1].text + ...` rebuilds the original text exactly.

A break never falls inside a protected span (a URL, mention or hashtag) or a grapheme
cluster. When even the first unbreakable token does not fit, the chunk is that token as it
is (over the limit, `fits=False`) and splitting goes on after it: the caller reports it,
the text is never mangled.

Linear time: each chunk is found with a galloping search over break points, so `fits` sees
O(log w) candidates of at most about twice the window w.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from threadpost.text.sentences import Break, BreakKind, break_opportunities

#: fits(candidate_text, chunk_index) -> bool; chunk_index counts from 0 within this text, so a
#: caller can account for per-post numbering.
FitsFn = Callable[[str, int], bool]

#: How full (in code points, relative to the longest chunk that fits) a chunk must be for a
#: break of this rank to be chosen over a later, lower-ranked one.
MIN_FILL: Final[dict[BreakKind, float]] = {
    BreakKind.PARAGRAPH: 1 / 3,
    BreakKind.LINE: 0.4,
    BreakKind.SENTENCE: 0.5,
    BreakKind.CLAUSE: 0.6,
    BreakKind.WORD: 0.0,
}


@dataclass(frozen=True)
class Chunk:
    """One piece of the text: text[start:end]. `fits` is False for an unbreakable overlong piece."""

    start: int
    end: int
    text: str
    fits: bool = True


def split_text(
    text: str,
    fits: FitsFn,
    *,
    protected: Sequence[tuple[int, int]] = (),
    cluster_starts: Sequence[int] | None = None,
    breaks: Callable[[], Sequence[Break]] | None = None,
) -> list[Chunk]:
    """Split `text` into chunks for which `fits(chunk.text, index)` holds, at the best breaks.

    `protected`: (start, end) code-point spans never to split (entities). `cluster_starts`:
    sorted code-point offsets where grapheme clusters start (plus len(text)); when given,
    breaks that would cut a cluster are moved or dropped. `breaks`: called (only when the text
    does not fit whole) for the break points, e.g. cached `allowed_breaks` (the planner splits
    each text once per numbering width); `protected` and `cluster_starts` are then unused.
    """
    if fits(text, 0):
        return [Chunk(0, len(text), text)]
    if breaks is not None:
        return _pack(text, list(breaks()), fits)
    return _pack(
        text, allowed_breaks(text, protected=protected, cluster_starts=cluster_starts), fits
    )


def allowed_breaks(
    text: str,
    *,
    protected: Sequence[tuple[int, int]] = (),
    cluster_starts: Sequence[int] | None = None,
) -> list[Break]:
    """The break points `split_text` may use (compute once to split one text several times)."""
    return _allowed_breaks(text, break_opportunities(text), protected, cluster_starts)


def _pack(text: str, breaks: list[Break], fits: FitsFn) -> list[Chunk]:
    chunks: list[Chunk] = []
    count = len(breaks)
    start = 0
    first = 0  # first break with end > start

    def end_of(j: int) -> int:
        return breaks[j].end if j < count else len(text)

    while True:
        index = len(chunks)

        def ok(j: int, start: int = start, index: int = index) -> bool:
            return fits(text[start : end_of(j)], index)

        if not ok(first):
            # Nothing fits: the first unbreakable piece stands alone, over the limit.
            chunks.append(Chunk(start, end_of(first), text[start : end_of(first)], fits=False))
            if first == count:
                return chunks
            start = breaks[first].next_start
            first += 1
            continue
        best = _longest_fitting(first, count, ok)
        if best == count:
            chunks.append(Chunk(start, len(text), text[start:]))
            return chunks
        chosen = _choose(breaks, first, best, start)
        end = breaks[chosen].end
        chunks.append(Chunk(start, end, text[start:end]))
        start = breaks[chosen].next_start
        first = chosen + 1


def _longest_fitting(first: int, count: int, ok: Callable[[int], bool]) -> int:
    """Largest j in [first, count] with ok(j), given ok(first); gallop then bisect."""
    low, step = first, 1
    high = None
    while True:
        probe = min(low + step, count)
        if probe == low:
            return low
        if ok(probe):
            low = probe
            if probe == count:
                return low
            step *= 2
        else:
            high = probe
            break
    while high - low > 1:
        middle = (low + high) // 2
        if ok(middle):
            low = middle
        else:
            high = middle
    return low


def _choose(breaks: list[Break], first: int, best: int, start: int) -> int:
    """The best-ranked break in breaks[first..best] that leaves the chunk full enough."""
    window = breaks[best].end - start
    latest: dict[BreakKind, int] = {}
    for j in range(best, first - 1, -1):
        kind = breaks[j].kind
        if kind not in latest:
            latest[kind] = j
            if kind is BreakKind.PARAGRAPH:
                break
    for kind in sorted(latest, reverse=True):
        j = latest[kind]
        if breaks[j].end - start >= MIN_FILL[kind] * window:
            return j
    return best


def _allowed_breaks(
    text: str,
    breaks: list[Break],
    protected: Sequence[tuple[int, int]],
    cluster_starts: Sequence[int] | None,
) -> list[Break]:
    """Drop breaks inside protected spans; keep both ends of a break on cluster boundaries."""
    spans = _merge(protected)
    allowed: list[Break] = []
    span_index = 0
    for brk in breaks:
        end, next_start = brk.end, brk.next_start
        # Below U+0300 nothing extends a cluster, below U+0600 nothing prepends to one.
        if cluster_starts is not None and (
            ord(text[next_start]) >= 0x300 or ord(text[end - 1]) >= 0x600
        ):
            # A space can carry combining marks (" \u0301"): keep it with them.
            while next_start > end and not _is_cluster_start(cluster_starts, next_start):
                next_start -= 1
            while end < next_start and not _is_cluster_start(cluster_starts, end):
                end += 1
            if end >= next_start:
                continue
        while span_index < len(spans) and spans[span_index][1] <= end:
            span_index += 1
        if span_index < len(spans) and spans[span_index][0] < next_start:
            continue  # the run touches a protected span (spans hold no whitespace, but be safe)
        if (end, next_start) != (brk.end, brk.next_start):
            brk = Break(end, next_start, brk.kind)
        allowed.append(brk)
    return allowed


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of the spans."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _is_cluster_start(cluster_starts: Sequence[int], offset: int) -> bool:
    position = bisect_left(cluster_starts, offset)
    return position < len(cluster_starts) and cluster_starts[position] == offset
