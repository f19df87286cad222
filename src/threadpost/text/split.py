"""Split one draft post's text into chunks that each fit a platform's limit, as a writer would.

Break points come from `threadpost.text.sentences` (paragraph > line > sentence > clause >
word; CJK text also breaks between characters). The choice is made in two levels:

1. Paragraphs (blank lines). A chunk is either a run of whole paragraphs or a piece of one
   paragraph: the tail of a split paragraph is never carried into a post that goes on with
   the next paragraph, nor is a short paragraph glued to the head of a long one. Runs of
   short paragraphs are packed into as few posts as possible (evenly, see below).
2. A paragraph too long for one post is split on its own, globally rather than greedily: a
   dynamic programme over its break points (Knuth-Plass "minimum raggedness") picks the
   split minimising, in this order,
     a. the number of posts: never more than the greedy (fill each post) minimum k;
     b. the rank of the breaks used (`LEVEL`), lexicographically: fewest word breaks, then
        fewest clause breaks, then fewest sentence breaks (line and paragraph breaks are free);
     c. unevenness: the sum of the squared chunk lengths (code points), which for k posts
        of fixed total is least when they are equal (170/170 rather than 299/40).

Cost: a greedy pass forward gives k and, for post j, the farthest break hi[j] it can end at;
a pass backward gives the earliest break lo[j] from which the rest still fits in k - j posts.
Post j must end in [lo[j], hi[j]] (a window bounded by one post's length). The programme
first keeps only the best-ranked breaks of each window (if a path through them exists it
has the least possible penalty), then admits clause breaks, then word breaks, as needed;
transitions between consecutive windows are found with a two-pointer walk, so `fits` is
called O(breaks in the windows) times and the work is O(candidates x candidates per window):
linear in the text for a fixed limit.

The whitespace of a break is dropped: `chunk[i].text + text[chunk[i].end:chunk[i+1].start]
+ chunk[i+1].text + ...` rebuilds the original text exactly (a CJK break drops nothing).
A break never falls inside a protected span (a URL, mention or hashtag) or a grapheme
cluster. When even the first unbreakable piece does not fit, the chunk is that piece as it
is (over the limit, `fits=False`) and splitting goes on after it: the caller reports it, the
text is never mangled.

`fits` is assumed monotone (a piece of a chunk that fits fits too, and a later post's
numbering is never narrower); every chunk returned as fitting has been checked with `fits`,
and if the assumption fails the greedy split is returned instead.
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
    return _Packer(text, breaks, fits).pack()


#: Rank penalty level of ending a chunk at a break of this kind (the text's end is level 0).
LEVEL: Final[dict[BreakKind, int]] = {
    BreakKind.PARAGRAPH: 0,
    BreakKind.LINE: 0,
    BreakKind.SENTENCE: 1,
    BreakKind.CLAUSE: 2,
    BreakKind.WORD: 3,
}
_WORST: Final = 3


class _Packer:
    """One text's split. Nodes are break indices: -1 is the text's start, len(breaks) its end.

    A chunk from node u to node v (u < v) is text[start_of(u):end_of(v)].
    """

    def __init__(self, text: str, breaks: list[Break], fits: FitsFn) -> None:
        self.text = text
        self.breaks = breaks
        self.count = len(breaks)
        self.fits = fits
        self.chunks: list[Chunk] = []

    def start_of(self, node: int) -> int:
        return 0 if node < 0 else self.breaks[node].next_start

    def end_of(self, node: int) -> int:
        return len(self.text) if node >= self.count else self.breaks[node].end

    def ok(self, u: int, v: int, index: int) -> bool:
        return self.fits(self.text[self.start_of(u) : self.end_of(v)], index)

    def chunk(self, u: int, v: int, fit: bool = True) -> Chunk:
        start, end = self.start_of(u), self.end_of(v)
        return Chunk(start, end, self.text[start:end], fits=fit)

    def level(self, node: int) -> int:
        return 0 if node >= self.count else LEVEL[self.breaks[node].kind]

    # -- level 1: paragraphs ---------------------------------------------------------------

    def pack(self) -> list[Chunk]:
        bounds = [-1]
        bounds.extend(i for i, brk in enumerate(self.breaks) if brk.kind is BreakKind.PARAGRAPH)
        bounds.append(self.count)
        k = 0
        last = len(bounds) - 1
        while k < last:
            # Whole paragraphs from k on, as many posts as they need, until one does not fit.
            path = self._greedy(bounds, k, len(self.chunks))
            if len(path) > 1:
                self._solve_run(bounds, path, len(self.chunks))
                k = path[-1]
                continue
            # Paragraph k does not fit alone: split it at its own breaks.
            self._split_paragraph(range(bounds[k], bounds[k + 1] + 1))
            k += 1
        return self.chunks

    def _split_paragraph(self, nodes: Sequence[int]) -> None:
        """Split nodes[0]..nodes[-1] (consecutive nodes); unbreakable pieces stand alone."""
        at = 0
        end = len(nodes) - 1
        while at < end:
            path = self._greedy(nodes, at, len(self.chunks))
            if len(path) > 1:
                self._solve_run(nodes, path, len(self.chunks))
                at = path[-1]
            else:
                self.chunks.append(self.chunk(nodes[at], nodes[at + 1], fit=False))
                at += 1

    # -- greedy passes ---------------------------------------------------------------------

    def _greedy(self, nodes: Sequence[int], at: int, base: int) -> list[int]:
        """Positions (into `nodes`) of the greedy split from nodes[at]: each post as full as it
        can be. Stops at the end, or where the next piece does not fit on its own."""
        path = [at]
        last = len(nodes) - 1
        jump = 1  # the last post's width in breaks: the next one is probably alike
        while at < last:
            index = base + len(path) - 1
            u = nodes[at]

            def ok(j: int, u: int = u, index: int = index) -> bool:
                return self.ok(u, nodes[j], index)

            if not ok(at + 1):
                break
            reached = _last_true(at + 1, last, ok, at + jump)
            jump = max(reached - at, 1)
            at = reached
            path.append(at)
        return path

    def _earliest_ends(self, nodes: Sequence[int], greedy: list[int], base: int) -> list[int]:
        """lo[j]: the earliest position post j may end at so that the rest still fits in the
        remaining posts (the greedy split run backward); [] if `fits` is not monotone."""
        posts = len(greedy) - 1
        lo = list(greedy)
        for j in range(posts - 1, 0, -1):
            v = lo[j + 1]
            index = base + j

            def ok(u: int, v: int = v, index: int = index) -> bool:
                return self.ok(nodes[u], nodes[v], index)

            if not ok(v - 1):
                return []
            guess = v - (greedy[j + 1] - greedy[j])
            lo[j] = _first_true(greedy[0], v - 1, ok, guess)
            if lo[j] > greedy[j]:
                return []
        return lo

    # -- level 2: the dynamic programme over one run ----------------------------------------

    def _solve_run(self, nodes: Sequence[int], greedy: list[int], base: int) -> None:
        """Emit the best split of nodes[0]..nodes[greedy[-1]] into len(greedy) - 1 posts."""
        posts = len(greedy) - 1
        chosen = None if posts == 1 else self._best_path(nodes, greedy, base)
        path = greedy if chosen is None else chosen
        for j in range(posts):
            self.chunks.append(self.chunk(nodes[path[j]], nodes[path[j + 1]]))

    def _best_path(self, nodes: Sequence[int], greedy: list[int], base: int) -> list[int] | None:
        posts = len(greedy) - 1
        lo = self._earliest_ends(nodes, greedy, base)
        if not lo:
            return None  # `fits` is not monotone here: keep the greedy split
        windows = [list(range(lo[j], greedy[j] + 1)) for j in range(posts + 1)]
        windows[0] = [greedy[0]]
        levels = [[self.level(nodes[u]) for u in window] for window in windows]
        least = [min(window) for window in levels]
        # Rank penalties weigh lexicographically: one break of a level costs more than all the
        # better-ranked breaks of the run together (a run has `posts` chunk ends).
        weights = [(posts + 1) ** level for level in range(_WORST + 1)]
        seen: list[list[int]] = []
        memo: dict[tuple[int, int, int], bool] = {}
        for allowed in range(_WORST + 1):
            # Each window keeps its best-ranked breaks and those ranked `allowed` or better. If
            # a path exists through these, no path through worse breaks can cost less: it
            # would need a worse break in a window where this one used a better one.
            kept = [
                [u for u, level in zip(window, ranks, strict=True) if level <= max(allowed, best)]
                for window, ranks, best in zip(windows, levels, least, strict=True)
            ]
            if kept == seen:
                continue
            seen = kept
            path = self._programme(nodes, kept, base, weights, memo)
            if path is not None:
                break
        else:
            return None
        # Every chunk was checked by the walk, but from an earlier start: check it as chosen.
        for j in range(posts):
            if not self.ok(nodes[path[j]], nodes[path[j + 1]], base + j):
                return None
        return path

    def _programme(
        self,
        nodes: Sequence[int],
        windows: list[list[int]],
        base: int,
        weights: list[int],
        memo: dict[tuple[int, int, int], bool],
    ) -> list[int] | None:
        """Least (penalty, unevenness) path through one position per window, or None."""
        cost: dict[int, tuple[int, int]] = {windows[0][0]: (0, 0)}
        back: list[dict[int, int]] = [{}]
        for j in range(len(windows) - 1):
            here, there = windows[j], windows[j + 1]
            index = base + j
            new_cost: dict[int, tuple[int, int]] = {}
            came: dict[int, int] = {}
            reach = 0  # there[:reach] fit from the current u (those after it)
            for u in here:
                if u not in cost:
                    continue
                start = self.start_of(nodes[u])
                while reach < len(there):
                    v = there[reach]
                    if v > u:
                        key = (u, v, index)
                        fit = memo.get(key)
                        if fit is None:
                            fit = memo[key] = self.ok(nodes[u], nodes[v], index)
                        if not fit:
                            break
                    reach += 1
                penalty, ragged = cost[u]
                for v in there[:reach]:
                    if v <= u:
                        continue
                    size = self.end_of(nodes[v]) - start
                    candidate = (
                        penalty + weights[self.level(nodes[v])],
                        ragged + size * size,
                    )
                    known = new_cost.get(v)
                    if known is None or candidate < known:
                        new_cost[v] = candidate
                        came[v] = u
            if not new_cost:
                return None
            cost = new_cost
            back.append(came)
        end = windows[-1][0]
        if end not in cost:
            return None
        path = [end]
        for j in range(len(windows) - 1, 0, -1):
            path.append(back[j][path[-1]])
        path.reverse()
        return path


def _last_true(low: int, high: int, ok: Callable[[int], bool], guess: int) -> int:
    """Largest j in [low, high] with ok(j), given ok(low) and ok monotone (true, then false).

    Starts at `guess` and gallops away from it: a handful of probes when the guess is close.
    """
    guess = min(max(guess, low), high)
    if guess > low and not ok(guess):
        # The answer is below the guess: gallop down to a true probe, then bisect.
        false, step = guess, 1
        while True:
            probe = max(false - step, low)
            if probe == low or ok(probe):
                return _bisect_last(probe, false, ok)
            false, step = probe, step * 2
    true, step = guess, 1
    while true < high:
        probe = min(true + step, high)
        if not ok(probe):
            return _bisect_last(true, probe, ok)
        true, step = probe, step * 2
    return true


def _bisect_last(true: int, false: int, ok: Callable[[int], bool]) -> int:
    """Largest j in [true, false) with ok(j), given ok(true) and not ok(false)."""
    while false - true > 1:
        middle = (true + false) // 2
        if ok(middle):
            true = middle
        else:
            false = middle
    return true


def _first_true(low: int, high: int, ok: Callable[[int], bool], guess: int) -> int:
    """Smallest j in [low, high] with ok(j), given ok(high) and ok monotone (false, then true)."""
    return -_last_true(-high, -low, lambda j: ok(-j), -guess)


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
    cluster_index = 0  # breaks come in order: walk the cluster starts along with them
    clusters = len(cluster_starts) if cluster_starts is not None else 0
    for brk in breaks:
        end, next_start = brk.end, brk.next_start
        if end == next_start:
            # A break between two CJK characters drops nothing: it must fall between clusters.
            if cluster_starts is not None:
                while cluster_index < clusters and cluster_starts[cluster_index] < end:
                    cluster_index += 1
                if cluster_index == clusters or cluster_starts[cluster_index] != end:
                    continue
        # Below U+0300 nothing extends a cluster, below U+0600 nothing prepends to one.
        elif cluster_starts is not None and (
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
