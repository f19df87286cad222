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
     a. the number of word breaks, among splits into at most k + 1 posts, k being the greedy
        (fill each post) minimum: a sentence cut mid-way costs readers more than one more
        post, so a paragraph uses k + 1 posts only when that needs fewer word breaks;
     b. the number of posts (k unless a. says otherwise; a clause or sentence break never
        buys a post);
     c. fewest clause breaks, then fewest sentence breaks (line and paragraph breaks are
        free; the rank of a break is `LEVEL`);
     d. unevenness: the sum of the squared chunk lengths (code points), which for a fixed
        number of posts and total is least when they are equal (170/170 rather than 299/40).

Cost: a greedy pass forward gives k and, for post j, the farthest break hi[j] it can end at;
a pass backward gives the earliest break lo[j] from which the rest still fits in the posts
left. With k posts, post j must end in [lo[j], hi[j]], after hi[j - 1] (a window of at most
one post); with k + 1 posts, after hi[j - 2] (at most two posts). The k + 1 split is only
sought when the k-post one breaks a word and windows holding better breaks could save one.
The programme first keeps only the best-ranked breaks of each window (if a path through them
exists it has the least possible penalty), then admits clause breaks, then word breaks, as
needed. How far a post may reach from each start is found once (a probe or two of `fits`,
going on from the previous start's answer) and shared by every stage and both post counts;
the best predecessor of every break of a window is found by divide and conquer, since the
cost matrix is Monge (the best start only moves right as the end does): O(w log w) per
window of w breaks, linear in the text for a fixed limit.

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

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import eq
from typing import Final, Protocol

from threadpost.text.sentences import (
    Break,
    BreakColumns,
    BreakKind,
    break_columns,
    paragraph_breaks,
)

#: fits(candidate_text, chunk_index) -> bool; chunk_index counts from 0 within this text, so a
#: caller can account for per-post numbering.
FitsFn = Callable[[str, int], bool]
#: fits_span(start, end, chunk_index) -> bool: `fits(text[start:end], chunk_index)` answered
#: from offsets (start and end always at break points), e.g. from prefix counts, in O(1) or
#: O(log n) instead of recounting the candidate: the search probes `fits` a few times per
#: break, so recounting every candidate makes a split cost O(text x post length).
SpanFitsFn = Callable[[int, int, int], bool]


@dataclass(frozen=True)
class Prefixes:
    """Two additive sizes of the text (a count and, when capped, UTF-8 bytes) before each
    break, as a chunk's end (`*_at_end[v]`, for end_of(v)) and as a chunk's start
    (`*_at_start[u + 1]`, for start_of(u), u = -1 being the text's start).

    The chunk from node u to node v holds `count_at_end[v] - count_at_start[u + 1]` (and the
    same for bytes). Every list is non-decreasing (a longer chunk never holds less): the
    splitter finds how far a post reaches by bisection instead of probing `fits`.
    """

    count_at_end: list[int]
    count_at_start: list[int]
    bytes_at_end: list[int] | None  # None: no byte cap
    bytes_at_start: list[int] | None


class SpanMeasure(Protocol):
    """`fits` as sizes: text[start:end] fits as post i when its count is at most budget(i)[0]
    and, with a byte cap, its bytes at most budget(i)[1]."""

    def prefixes(self, ends: list[int], starts: list[int]) -> Prefixes | None:
        """The sizes before each chunk end offset in `ends` and each start offset in `starts`
        (both sorted), or None when they are not additive there (then `fits` is probed)."""
        ...

    def budget(self, index: int) -> tuple[int, int | None]:
        """The most a chunk may hold as post `index` (count, bytes or None)."""
        ...


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
    breaks: Callable[[], Sequence[Break] | BreakColumns] | None = None,
    fits_span: Callable[[], SpanFitsFn] | None = None,
    measure: Callable[[], SpanMeasure] | None = None,
) -> list[Chunk]:
    """Split `text` into chunks for which `fits(chunk.text, index)` holds, at the best breaks.

    `protected`: (start, end) code-point spans never to split (entities). `cluster_starts`:
    sorted code-point offsets where grapheme clusters start (plus len(text)); when given,
    breaks that would cut a cluster are moved or dropped. `breaks`: called (only when the text
    does not fit whole) for the break points, e.g. cached `allowed_break_columns` (the planner
    splits each text once per numbering width); `protected` and `cluster_starts` are then
    unused.
    `fits_span`: called (only when the text does not fit whole) for a faster stand-in for
    `fits` (see `SpanFitsFn`) that the search uses. It must agree with `fits` at break points;
    every chunk it chooses is checked with `fits` itself, and if one disagrees the text is
    split again with `fits` alone, so a wrong stand-in costs time, never a chunk that does not
    fit. `measure`: the same answers as sizes (see `SpanMeasure`), preferred to `fits_span`
    when its prefixes are additive: a post's reach is then a bisection, not a search of probes.
    Both give the same chunks (the searches find the unique answer of a monotone `fits`).
    """
    if fits(text, 0):
        return [Chunk(0, len(text), text)]
    found = (
        _as_columns(breaks())
        if breaks is not None
        else allowed_break_columns(text, protected=protected, cluster_starts=cluster_starts)
    )
    if fits_span is not None or measure is not None:
        packer = _Packer(text, found, fits, fits_span() if fits_span is not None else None)
        if measure is not None:
            packer.use_measure(measure())
        if packer.fits_span is not None or packer.sizes is not None:
            fast = packer.pack()
            if all(fits(chunk.text, index) == chunk.fits for index, chunk in enumerate(fast)):
                return fast
    return _pack(text, found, fits)


def count_bounds(
    text: str,
    fits: FitsFn,
    *,
    breaks: Callable[[], Sequence[Break] | BreakColumns],
    measure: Callable[[], SpanMeasure],
) -> tuple[int, int] | None:
    """(least, most): bounds on how many chunks `split_text` makes of `text`, from the greedy
    passes alone (no dynamic programme, no chunk checked), for a `fits` that does not depend
    on the chunk index. None when `measure` has no additive sizes for these breaks.

    Each run of whole paragraphs takes exactly its greedy count of posts, an unbreakable piece
    one, and a split paragraph its greedy count k or, when k > 1, possibly k + 1: a planner
    that only needs the number of digits of the total (its numbering's width) need not split
    for real when both bounds have as many. `measure` must agree with `fits` (as for
    `split_text`, whose check of every chunk this skips)."""
    if fits(text, 0):
        return 1, 1
    packer = _Packer(text, _as_columns(breaks()), fits)
    packer.use_measure(measure())
    if packer.sizes is None:
        return None
    return packer.count_bounds()


def allowed_breaks(
    text: str,
    *,
    protected: Sequence[tuple[int, int]] = (),
    cluster_starts: Sequence[int] | None = None,
) -> list[Break]:
    """The break points `split_text` may use (compute once to split one text several times)."""
    return list(allowed_break_columns(text, protected=protected, cluster_starts=cluster_starts))


def allowed_break_columns(
    text: str,
    *,
    protected: Sequence[tuple[int, int]] = (),
    cluster_starts: Sequence[int] | None = None,
) -> BreakColumns:
    """`allowed_breaks` as `BreakColumns`, as `split_text` works on them."""
    return _allowed_breaks(text, break_columns(text), protected, cluster_starts)


def allowed_breaks_inside(
    text: str,
    needs_inner: Callable[[int, int], bool],
    protected_of: Callable[[str], Sequence[tuple[int, int]]],
    *,
    cluster_starts: Sequence[int],
) -> list[Break]:
    """`allowed_breaks(text, protected=protected_of(text), cluster_starts=...)` but for the
    breaks inside the paragraphs text[start:end] for which needs_inner(start, end) is false
    (paragraphs that surely fit one post whole, which `split_text` never splits).

    Each paragraph needing them is looked at on its own (its break points and protected spans
    depend on nothing beyond its blank lines), so a text of short paragraphs costs a scan
    for blank lines, not the classification of every space and four entity detectors.
    """
    return list(
        allowed_break_columns_inside(text, needs_inner, protected_of, cluster_starts=cluster_starts)
    )


def allowed_break_columns_inside(
    text: str,
    needs_inner: Callable[[int, int], bool],
    protected_of: Callable[[str], Sequence[tuple[int, int]]],
    *,
    cluster_starts: Sequence[int],
) -> BreakColumns:
    """`allowed_breaks_inside` as `BreakColumns`, as `split_text` works on them."""
    raw = BreakColumns.of(paragraph_breaks(text))
    paragraphs = _allowed_breaks(text, raw, (), cluster_starts)
    if paragraphs != raw or _ODD_SPACE.search(text):
        # A blank line carrying a combining mark, or whitespace that an entity may hold (JS
        # and twitter-text do not count \x1c-\x1f and \x85 as spaces): the whole text, as is.
        return allowed_break_columns(
            text, protected=protected_of(text), cluster_starts=cluster_starts
        )
    found = BreakColumns()
    start = 0
    last = len(paragraphs)
    for index in range(last + 1):
        end = len(text) if index == last else paragraphs.ends[index]
        if needs_inner(start, end):
            inner = break_columns(text, start, end)
            spans = [(a + start, b + start) for a, b in protected_of(text[start:end])]
            found.extend(_allowed_breaks(text, inner, spans, cluster_starts))
        if index < last:
            start = paragraphs.next_starts[index]
            found.append(paragraphs.ends[index], start, paragraphs.kinds[index])
    return found


def _as_columns(breaks: Sequence[Break] | BreakColumns) -> BreakColumns:
    return breaks if isinstance(breaks, BreakColumns) else BreakColumns.of(breaks)


def _pack(text: str, breaks: BreakColumns, fits: FitsFn) -> list[Chunk]:
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
#: LEVEL by `BreakKind` value.
_LEVEL_OF: Final = (_WORST, *(LEVEL[kind] for kind in BreakKind))
_PARAGRAPH: Final = int(BreakKind.PARAGRAPH)
#: Python whitespace the networks' entity patterns do not stop at.
_ODD_SPACE: Final = re.compile("[\x1c-\x1f\x85]")


class _Packer:
    """One text's split. Nodes are break indices: -1 is the text's start, len(breaks) its end.

    A chunk from node u to node v (u < v) is text[start_of(u):end_of(v)].
    """

    def __init__(
        self,
        text: str,
        breaks: BreakColumns,
        fits: FitsFn,
        fits_span: SpanFitsFn | None = None,
    ) -> None:
        self.text = text
        self.ends = breaks.ends
        self.next_starts = breaks.next_starts
        self.kinds = breaks.kinds
        self.levels = list(map(_LEVEL_OF.__getitem__, breaks.kinds))
        self.count = len(breaks)
        self.fits = fits
        self.fits_span = fits_span
        self.sizes: Prefixes | None = None
        self.budget: Callable[[int], tuple[int, int | None]] = lambda index: (0, None)
        self.budgets: dict[int, tuple[int, int | None]] = {}
        self.chunks: list[Chunk] = []

    def use_measure(self, measure: SpanMeasure) -> None:
        """Answer from prefix sizes (when `measure` has them for these breaks)."""
        ends = [*self.ends, len(self.text)]
        starts = [0, *self.next_starts]
        self.sizes = measure.prefixes(ends, starts)
        self.budget = measure.budget

    def budget_of(self, index: int) -> tuple[int, int | None]:
        budget = self.budgets.get(index)
        if budget is None:
            budget = self.budgets[index] = self.budget(index)
        return budget

    def farthest_node(self, u: int, index: int) -> int:
        """The last node v at which a post from node u may end (u or less when none may);
        with prefix sizes only."""
        sizes = self.sizes
        assert sizes is not None
        count, most_bytes = self.budget_of(index)
        far = bisect_right(sizes.count_at_end, sizes.count_at_start[u + 1] + count) - 1
        if most_bytes is not None and sizes.bytes_at_end is not None:
            assert sizes.bytes_at_start is not None
            limit = sizes.bytes_at_start[u + 1] + most_bytes
            far = min(far, bisect_right(sizes.bytes_at_end, limit) - 1)
        return far

    def earliest_node(self, v: int, index: int) -> int:
        """The first node u from which a post may end at node v (v or more when none may);
        with prefix sizes only."""
        sizes = self.sizes
        assert sizes is not None
        count, most_bytes = self.budget_of(index)
        near = bisect_left(sizes.count_at_start, sizes.count_at_end[v] - count)
        if most_bytes is not None and sizes.bytes_at_end is not None:
            assert sizes.bytes_at_start is not None
            floor = sizes.bytes_at_end[v] - most_bytes
            near = max(near, bisect_left(sizes.bytes_at_start, floor))
        return near - 1

    def start_of(self, node: int) -> int:
        return 0 if node < 0 else self.next_starts[node]

    def end_of(self, node: int) -> int:
        return len(self.text) if node >= self.count else self.ends[node]

    def ok(self, u: int, v: int, index: int) -> bool:
        sizes = self.sizes
        if sizes is not None:
            count, most_bytes = self.budget_of(index)
            if sizes.count_at_end[v] - sizes.count_at_start[u + 1] > count:
                return False
            if most_bytes is None or sizes.bytes_at_end is None:
                return True
            assert sizes.bytes_at_start is not None
            return sizes.bytes_at_end[v] - sizes.bytes_at_start[u + 1] <= most_bytes
        if self.fits_span is not None:
            return self.fits_span(self.start_of(u), self.end_of(v), index)
        return self.fits(self.text[self.start_of(u) : self.end_of(v)], index)

    def chunk(self, u: int, v: int, fit: bool = True) -> Chunk:
        start, end = self.start_of(u), self.end_of(v)
        return Chunk(start, end, self.text[start:end], fits=fit)

    def level(self, node: int) -> int:
        return 0 if node >= self.count else self.levels[node]

    # -- level 1: paragraphs ---------------------------------------------------------------

    def pack(self) -> list[Chunk]:
        bounds = [-1, *_indices(self.kinds, _PARAGRAPH), self.count]
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

    def count_bounds(self) -> tuple[int, int]:
        """`pack`'s number of chunks, bounded from its greedy passes (see `count_bounds`)."""
        bounds = [-1, *_indices(self.kinds, _PARAGRAPH), self.count]
        least = most = 0
        k = 0
        last = len(bounds) - 1
        while k < last:
            path = self._greedy(bounds, k, least)
            if len(path) > 1:
                # Whole paragraphs: no word break to save, the programme keeps the count.
                least += len(path) - 1
                most += len(path) - 1
                k = path[-1]
                continue
            nodes = range(bounds[k], bounds[k + 1] + 1)
            at, end = 0, len(nodes) - 1
            while at < end:
                path = self._greedy(nodes, at, least)
                if len(path) > 1:
                    posts = len(path) - 1
                    least += posts
                    most += posts + (posts > 1)  # `_best_path` may add one post
                    at = path[-1]
                else:
                    least += 1
                    most += 1
                    at += 1
            k += 1
        return least, most

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

            if self.sizes is not None:
                # Positions hold increasing nodes: the last one the post reaches, bisected.
                reached = bisect_right(nodes, self.farthest_node(u, index), at + 1, last + 1) - 1
                if reached < at + 1:
                    break
                path.append(reached)
                at = reached
                continue
            if not ok(at + 1):
                break
            reached = _last_true(at + 1, last, ok, at + jump)
            jump = max(reached - at, 1)
            at = reached
            path.append(at)
        return path

    def _earliest_ends(
        self, nodes: Sequence[int], greedy: list[int], posts: int, base: int
    ) -> list[int]:
        """lo[j]: the earliest position post j may end at so that the rest still fits in
        `posts` - j posts (a greedy split run backward from the end); lo[0] is the start.
        [] if no split into `posts` posts exists or `fits` is not monotone here."""
        first, last = greedy[0], greedy[-1]
        lo = [first] * posts + [last]
        width = max(last - greedy[-2], 1)  # the last post's width: the next one is alike
        for j in range(posts - 1, 0, -1):
            v = lo[j + 1]
            index = base + j
            if v - 1 < first + j:
                return []  # not enough breaks left for the j posts before this one

            def ok(u: int, v: int = v, index: int = index) -> bool:
                return self.ok(nodes[u], nodes[v], index)

            if not ok(v - 1):
                return []
            if self.sizes is not None:
                earliest = self.earliest_node(nodes[v], index)
                lo[j] = max(first + j, bisect_left(nodes, earliest, first + j, v - 1))
            else:
                lo[j] = _first_true(first + j, v - 1, ok, v - width)
            if lo[j] > greedy[min(j, len(greedy) - 1)]:
                return []
            width = max(v - lo[j], 1)
        return lo

    # -- level 2: the dynamic programme over one run ----------------------------------------

    def _solve_run(self, nodes: Sequence[int], greedy: list[int], base: int) -> None:
        """Emit the best split of nodes[0]..nodes[greedy[-1]]: len(greedy) - 1 posts, or one
        more when that needs fewer word breaks."""
        chosen = None if len(greedy) == 2 else self._best_path(nodes, greedy, base)
        path = greedy if chosen is None else chosen
        for j in range(len(path) - 1):
            self.chunks.append(self.chunk(nodes[path[j]], nodes[path[j + 1]]))

    def _best_path(self, nodes: Sequence[int], greedy: list[int], base: int) -> list[int] | None:
        """The best split into k = len(greedy) - 1 posts or, if it has fewer word breaks,
        into k + 1 posts (a word break costs readers more than one more post); None to keep
        the greedy split (`fits` not monotone)."""
        posts = len(greedy) - 1
        reach = _Reach(self, nodes, greedy[-1])
        best = self._least_path(nodes, greedy, posts, base, reach)
        if best is None:
            return None
        path, words = best
        if words and self._may_save_words(nodes, greedy, words):
            # Only when the k-post split breaks a word is one more post worth trying: a
            # clause or sentence break never buys a post.
            more = self._least_path(nodes, greedy, posts + 1, base, reach, below=words)
            if more is not None and more[1] < words and self._checked(nodes, more[0], base):
                return more[0]
        return path if self._checked(nodes, path, base) else None

    def _may_save_words(self, nodes: Sequence[int], greedy: list[int], words: int) -> bool:
        """Whether k + 1 posts might need fewer than `words` word breaks: a cheap bound
        checked before any `fits` probe for the extra post."""
        # In a split into k + 1 posts, post j ends after the greedy's post j - 2 (or k would
        # not be the least count) and no later than the greedy's post j: a window with no
        # better break than a word forces one word break.
        first = greedy[0]
        better = [0]  # better[i]: breaks above word rank among positions first + 1 .. first + i
        for u in range(first + 1, greedy[-1] + 1):
            better.append(better[-1] + (self.level(nodes[u]) < _WORST))
        posts = len(greedy) - 1
        forced = 0
        for j in range(1, posts + 1):
            low = greedy[j - 2] if j >= 2 else first  # exclusive
            high = min(greedy[j], greedy[-1] - 1)
            if high > low and better[high - first] == better[low - first]:
                forced += 1
        return forced < words

    def _checked(self, nodes: Sequence[int], path: list[int], base: int) -> bool:
        # Every chunk was checked by the walk, but from an earlier start: check it as chosen.
        return all(
            self.ok(nodes[path[j]], nodes[path[j + 1]], base + j) for j in range(len(path) - 1)
        )

    def _least_path(
        self,
        nodes: Sequence[int],
        greedy: list[int],
        posts: int,
        base: int,
        reach: _Reach,
        below: int | None = None,
    ) -> tuple[list[int], int] | None:
        """The least (rank penalty, unevenness) split into exactly `posts` posts (k or k + 1,
        k = len(greedy) - 1), and its number of word breaks; None if there is none, or
        (`below` given) if it cannot have fewer than `below` word breaks."""
        lo = self._earliest_ends(nodes, greedy, posts, base)
        if not lo:
            return None
        # Post j ends no later than the greedy's post j (the extra post: than the end, less
        # one break for each post after it).
        k, end = len(greedy) - 1, greedy[-1]
        windows = [
            list(range(lo[j], min(greedy[min(j, k)], end - posts + j) + 1))
            for j in range(posts + 1)
        ]
        windows[0] = [greedy[0]]
        windows[-1] = [greedy[-1]]
        levels = [[self.level(nodes[u]) for u in window] for window in windows]
        least = [min(window) for window in levels]
        if below is not None and least[1:].count(_WORST) >= below:
            return None  # every split has a word break in those windows: no fewer than `below`
        # Rank penalties weigh lexicographically: one break of a level costs more than all the
        # better-ranked breaks of the run together (a run has `posts` chunk ends).
        weights = [(posts + 1) ** level for level in range(_WORST + 1)]
        seen: list[list[int]] = []
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
            path = self._programme(nodes, kept, base, weights, reach)
            if path is not None:
                words = sum(1 for u in path[1:] if self.level(nodes[u]) == _WORST)
                return path, words
        return None

    def _programme(
        self,
        nodes: Sequence[int],
        windows: list[list[int]],
        base: int,
        weights: list[int],
        reach: _Reach,
    ) -> list[int] | None:
        """Least (penalty, unevenness) path through one position per window, or None."""
        cost: dict[int, tuple[int, int]] = {windows[0][0]: (0, 0)}
        back: list[dict[int, int]] = [{}]
        for j in range(len(windows) - 1):
            index = base + j
            # Columns: the reachable starts u; rows: the ends v of the next window.
            cols = [u for u in windows[j] if u in cost]
            rows = windows[j + 1]
            starts = [self.start_of(nodes[u]) for u in cols]
            ends = [self.end_of(nodes[v]) for v in rows]
            far: list[int] = []
            reached = previous = 0  # the farthest end from the previous u fits from this one
            for u in cols:
                # A start one break later usually ends about one break later.
                reached = reach.farthest(u, index, max(reached, u), reached + u - previous)
                previous = u
                far.append(reached)
            # Row v may come from columns band[0]..band[1]: those that start before v and
            # reach it. Both bounds only grow with v (a later start reaches no less far).
            bands: list[tuple[int, int, int]] = []
            low = high = 0
            for row, v in enumerate(rows):
                while high < len(cols) and cols[high] < v:
                    high += 1
                while low < high and far[low] < v:
                    low += 1
                if low < high:
                    bands.append((row, low, high - 1))
            new_cost: dict[int, tuple[int, int]] = {}
            came: dict[int, int] = {}
            # cost(u) + charge(v) + (end(v) - start(u))^2 is a Monge matrix inside the bands
            # (the square is, the rest depends on one side only), so the leftmost best u only
            # moves right as v does: divide and conquer finds every row's best in
            # O((rows + columns) log rows) instead of rows x columns.
            pending = [(0, len(bands) - 1, 0, len(cols) - 1)]
            while pending:
                first, last, left, right = pending.pop()
                if first > last:
                    continue
                middle = (first + last) // 2
                row, low, high = bands[middle]
                if max(left, low) <= min(right, high):
                    low, high = max(left, low), min(right, high)
                # else: `fits` is not monotone here; search the whole band (checked later)
                charge = weights[self.level(nodes[rows[row]])]
                end = ends[row]
                best: tuple[int, int] | None = None
                best_col = low
                for col in range(low, high + 1):
                    penalty, ragged = cost[cols[col]]
                    size = end - starts[col]
                    candidate = (penalty + charge, ragged + size * size)
                    if best is None or candidate < best:
                        best, best_col = candidate, col
                assert best is not None
                new_cost[rows[row]] = best
                came[rows[row]] = cols[best_col]
                pending.append((first, middle - 1, left, best_col))
                pending.append((middle + 1, last, best_col, right))
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


class _Reach:
    """The farthest position a post may end at from a given start, found once per (start,
    post index) and shared by every stage of the programme and by both post counts.

    The programme asks in increasing order of start and passes the previous answer: the
    search goes on from there, one `fits` probe when the answer has not moved.
    """

    def __init__(self, packer: _Packer, nodes: Sequence[int], last: int) -> None:
        self.packer = packer
        self.nodes = nodes
        self.last = last  # the run's end (a position into `nodes`)
        self.known: dict[tuple[int, int], int] = {}
        self.width = 1  # the last answer's width: a guess for a search from scratch

    def farthest(self, u: int, index: int, floor: int, guess: int) -> int:
        """Largest v in (u, last] such that chunk u..v fits as post `index`, or u if none
        does. `floor` > u must be known to fit (the answer for an earlier start: `fits` is
        assumed monotone, so a piece of a chunk that fits fits too); the search starts at
        `guess`."""
        key = (u, index)
        far = self.known.get(key)
        if far is not None:
            return far
        nodes, packer, last = self.nodes, self.packer, self.last
        if packer.sizes is not None:
            far = bisect_right(nodes, packer.farthest_node(nodes[u], index), u + 1, last + 1) - 1
            far = max(far, u)
            self.known[key] = far
            return far

        def ok(v: int) -> bool:
            return packer.ok(nodes[u], nodes[v], index)

        if floor > u and guess <= floor + 1:
            # The start moved by a break or so: so does the end, if at all (one probe or two).
            far = floor
            while far < last and far <= floor + 1 and ok(far + 1):
                far += 1
            if far > floor + 1:
                far = _last_true(far, last, ok, far + 1)
        elif floor > u:
            far = _last_true(floor, last, ok, guess)
        elif u >= last or not ok(u + 1):
            far = u
        else:
            far = _last_true(u + 1, last, ok, u + self.width)
        self.known[key] = far
        self.width = max(far - u, 1)
        return far


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
    breaks: BreakColumns,
    protected: Sequence[tuple[int, int]],
    cluster_starts: Sequence[int] | None,
) -> BreakColumns:
    """Drop breaks inside protected spans; keep both ends of a break on cluster boundaries.

    Most breaks are a space between two characters below U+0300, outside any span: they pass
    as they are (`breaks` itself is returned when all do). Only the others
    (`_suspect_breaks`) are looked at one by one."""
    spans = merge_spans(protected)
    suspects = _suspect_breaks(text, breaks, spans, cluster_starts)
    if not suspects:
        return breaks
    span_ends = [end for _, end in spans]
    ends, next_starts, kinds = breaks.ends, breaks.next_starts, breaks.kinds
    allowed = BreakColumns()
    done = 0
    for index in suspects:
        allowed.ends.extend(ends[done:index])
        allowed.next_starts.extend(next_starts[done:index])
        allowed.kinds.extend(kinds[done:index])
        done = index + 1
        kept = _allowed_break(
            text, ends[index], next_starts[index], spans, span_ends, cluster_starts
        )
        if kept is not None:
            allowed.append(kept[0], kept[1], kinds[index])
    allowed.ends.extend(ends[done:])
    allowed.next_starts.extend(next_starts[done:])
    allowed.kinds.extend(kinds[done:])
    return allowed


def _indices(values: list[int], wanted: int) -> list[int]:
    """The indices at which `values` holds `wanted`, in order (found by `list.index`, in C)."""
    found: list[int] = []
    at = -1
    try:
        while True:
            at = values.index(wanted, at + 1)
            found.append(at)
    except ValueError:
        return found


#: A character from which a cluster may extend or prepend across a run's edge (see
#: `_allowed_break`).
_WIDE_CHAR: Final = re.compile("[^\\x00-\\u02ff]")


def _suspect_breaks(
    text: str,
    breaks: BreakColumns,
    spans: list[tuple[int, int]],
    cluster_starts: Sequence[int] | None,
) -> list[int]:
    """Indices (sorted) of the breaks `_allowed_break` may drop or move: those whose run meets
    a protected span and, with cluster starts, those that drop nothing (CJK) or have a
    character of U+0300 or above next to their run. Every other break is allowed as it is."""
    if not breaks:
        return []
    ends, next_starts = breaks.ends, breaks.next_starts
    found: set[int] = set()
    for start, end in spans:
        # The runs that overlap the span: their next start after its start, their end before
        # its end.
        found.update(range(bisect_right(next_starts, start), bisect_left(ends, end)))
    if cluster_starts is not None:
        if any(map(eq, ends, next_starts)):
            pairs = enumerate(zip(ends, next_starts, strict=True))
            found.update(i for i, (end, after) in pairs if end == after)
        size = len(text)
        # A run ends after the wide character, or the text after a run starts with it.
        for match in _WIDE_CHAR.finditer(text, max(ends[0] - 1, 0), next_starts[-1] + 1):
            at = match.start()
            if at + 1 < size and text[at + 1].isspace():
                _add_if_found(found, ends, at + 1)
            if at > 0 and text[at - 1].isspace():
                _add_if_found(found, next_starts, at)
    return sorted(found)


def _add_if_found(found: set[int], offsets: list[int], offset: int) -> None:
    """Add the index of `offset` in the sorted `offsets`, if it is there."""
    index = bisect_left(offsets, offset)
    if index < len(offsets) and offsets[index] == offset:
        found.add(index)


def _allowed_break(
    text: str,
    end: int,
    next_start: int,
    spans: list[tuple[int, int]],
    span_ends: list[int],
    cluster_starts: Sequence[int] | None,
) -> tuple[int, int] | None:
    """(end, next_start) of the break text[end:next_start] with both ends on cluster
    boundaries, or None when it cannot be or it touches a protected span (`spans` merged,
    `span_ends` their ends)."""
    if end == next_start:
        # A break between two CJK characters drops nothing: it must fall between clusters.
        if cluster_starts is not None and not _is_cluster_start(cluster_starts, end):
            return None
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
            return None
    span_index = bisect_right(span_ends, end)
    if span_index < len(spans) and spans[span_index][0] < next_start:
        return None  # the run touches a protected span (spans hold no whitespace, but be safe)
    return end, next_start


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of the spans: overlapping or touching spans become one."""
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
