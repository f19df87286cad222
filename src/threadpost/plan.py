"""Draft + PlatformLimits → Thread: the posts exactly as they will be sent to one network.

The values it makes (`Thread`, `PlannedPost`, `Facet`) live in `threadpost.thread`; they are
re-exported here, where most readers of a plan import them from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Final, Literal

from threadpost.draft import Draft, DraftPost, FrontMatter
from threadpost.platforms.mastodon.visibility import reply_visibility as narrowed_reply
from threadpost.platforms.rules import NetworkRules, rules_for
from threadpost.span_fit import NumberedMeasure, SpanCounter
from threadpost.text.count import shorten_links_for_display, utf8_length
from threadpost.text.entities import Entity, protected_spans
from threadpost.text.graphemes import grapheme_boundaries
from threadpost.text.sentences import BreakColumns
from threadpost.text.split import (
    Chunk,
    FitsFn,
    SpanFitsFn,
    allowed_break_columns_inside,
    count_bounds,
    split_text,
)
from threadpost.thread import Facet, FacetKind, PlannedPost, ReplyTarget, Thread
from threadpost.values import PlatformLimits, Problem

if TYPE_CHECKING:
    from threadpost.aliases import AliasTargets

__all__ = [
    "Continuation",
    "Facet",
    "FacetKind",
    "PlannedPost",
    "ReplyTarget",
    "Thread",
    "numbering_suffix",
    "plan_thread",
]

# --------------------------------------------------------------------------------------
# Planning


#: The entity kinds that become facets: a cashtag is a tag facet (`$AAPL`), as Bluesky's
#: reference client makes it.
_FACET_KINDS: Final[dict[str, FacetKind]] = {
    "link": "link",
    "mention": "mention",
    "tag": "tag",
    "cashtag": "tag",
}
#: Rounds of re-planning when the numbering's width changes the post count. A split is kept
#: as soon as its own total is no wider than the total it was fitted for, which happens in
#: a round or two (a wider number can also make a split use fewer posts); the cap is a guard.
_MAX_NUMBERING_ROUNDS: Final = 8
#: Scripts written without spaces whose word breaks need a dictionary: never split inside.
_UNSPACED_SCRIPT: Final = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff]")


def plan_thread(
    draft: Draft,
    limits: PlatformLimits,
    *,
    spoiler_text: str | None = None,
    visibility: str | None = None,
    reply_visibility: str | None = None,
    link_cards: bool | None = None,
    lang: str | None = None,
    numbering: str | Literal[False] | None = False,
    sensitive: bool | None = None,
    continuation: Continuation | None = None,
    shorten_links: bool = False,
    aliases: Mapping[str, AliasTargets] | None = None,
) -> Thread:
    """Plan `draft` for one platform: split, number, count and locate facets. Pure.

    Keyword arguments override the draft's front matter (`cw`, `visibility`,
    `reply_visibility`, `link_cards`, `lang`, `numbering`, `sensitive`); left out (None, or
    False for `numbering`), the front matter's value or the default applies. The replies'
    visibility is narrowed to the first post's; the network's rules choose the posts'
    labels (Bluesky self-labels).

    Each draft post is split on its own (a draft post boundary is always a post boundary),
    its images go on its first chunk. Within it a post is whole paragraphs or part of one,
    and a long paragraph is split evenly at the best breaks into as few posts as the greedy
    split would use, or one more when that ends fewer posts between two words of a clause
    (`threadpost.text.split`); Chinese and Japanese break between characters.
    Numbering ({i}/{n} appended after a space by default)
    is counted inside the limit and the total is exact; a thread of one post is not
    numbered. `shorten_links` (Bluesky only) shows long links as the official app does
    (host + path cut to 13 characters + "..."), the facet keeping the full URI; the limit
    then applies to the shortened text. Problems (an unbreakable token over the limit, too
    many images) are returned in `Thread.problems`, never raised. `aliases` (the config's
    [aliases]) rewrite mentions into this platform's accounts before anything is counted.
    The first post replies to the front matter's `reply_to` for this network, if any; a
    `continuation` (`publish --continue`) replies to the earlier thread's last post
    instead and numbers on from its `earlier_posts` (13/15 after 12 posts).
    """
    front = draft.front
    platform = limits.platform
    rules = rules_for(platform)
    if aliases:
        from threadpost.aliases import alias_draft  # (a config with [aliases] only)

        # Mentions become each network's account before anything is split or counted.
        draft = alias_draft(draft, aliases, platform)
    # A quote the network (or server) cannot make natively is a link in the text: counted.
    draft = _with_quote_links(draft, rules, limits)
    wanted_cw = (spoiler_text if spoiler_text is not None else front.cw) or None
    # A network without content warnings (Bluesky) has nowhere to put one.
    cw = wanted_cw if rules.content_warnings else None
    number_format = front.numbering if numbering is False else numbering
    shorten = shorten_links and rules.shortens_links

    def cw_of(post: DraftPost) -> str:
        # A post's own `> cw` line replaces the thread's; where the network shows none
        # (Bluesky) nothing is counted.
        return (post.cw or cw or "") if rules.content_warnings else ""

    before = continuation.earlier_posts if continuation is not None else 0
    pieces = _split_all(draft, rules, limits, cw_of, number_format, shorten, before)
    total = len(pieces)
    posts: list[PlannedPost] = []
    problems: list[Problem] = []
    for index, piece in enumerate(pieces, start=1):
        text = _numbered(piece.chunk.text, number_format, before + index, before + total)
        entities = rules.entities(text)
        if shorten:
            text, entities = shorten_links_for_display(text, entities)
        post_cw = cw_of(piece.post)
        post = _planned_post(index, text, entities, piece, rules, limits, post_cw, front)
        posts.append(post)
        problems.extend(_piece_problems(post, piece, rules, limits, post_cw))

    first_visibility = visibility or front.visibility or "public"
    is_sensitive = sensitive if sensitive is not None else front.sensitive
    reply_rules, quotes_allowed = rules.interaction_controls(front)
    return Thread(
        platform=platform,
        limits=limits,
        posts=tuple(posts),
        lang=lang if lang is not None else front.lang,
        spoiler_text=cw,
        problems=tuple(problems),
        visibility=first_visibility,
        # Replies never reach further than the first post. A wider reply_visibility written
        # in the draft is also an error (`check`: the network's thread_problems).
        reply_visibility=narrowed_reply(
            first_visibility, reply_visibility or front.reply_visibility or "unlisted"
        ),
        quote_policy=rules.quote_policy(front),
        sensitive=is_sensitive,
        labels=rules.content_labels(
            front,
            sensitive=is_sensitive,
            # Media Mastodon hides: behind the thread's cw, or a post's own one.
            cw=wanted_cw or next((p.cw for p in draft.posts if p.cw and p.images), None),
            has_images=any(post.images for post in draft.posts),
        ),
        link_cards=(
            link_cards
            if link_cards is not None
            else (front.link_cards if front.link_cards is not None else True)
        ),
        reply_rules=reply_rules,
        quotes_allowed=quotes_allowed,
        reply_to=(
            replace(continuation.parent, earlier_posts=continuation.earlier_posts)
            if continuation is not None
            else _reply_target(front, rules)
        ),
    )


@dataclass(frozen=True)
class Continuation:
    """`publish --continue`: the thread goes on under an earlier one on this network."""

    #: The earlier thread's last post, to reply to.
    parent: ReplyTarget
    #: How many posts the earlier thread (with its own continuations) has here: numbering
    #: goes on from there.
    earlier_posts: int


def _reply_target(front: FrontMatter, rules: NetworkRules) -> ReplyTarget | None:
    address = rules.reply_address(front)
    if address is None:
        return None
    return ReplyTarget(address=address, line=front.lines.get("reply_to"))


def numbering_suffix(number_format: str | None, index: int, total: int) -> str:
    """The text appended to post `index` of `total` ("" when numbering is off or total is 1)."""
    if number_format is None or total <= 1:
        return ""
    return number_format.format(i=index, n=total)


def _with_quote_links(draft: Draft, rules: NetworkRules, limits: PlatformLimits) -> Draft:
    """`draft` with each quote the network cannot make natively appended to its post's text
    as a link (after a blank line; the quote line is where it was written)."""
    posts = []
    for post in draft.posts:
        link = rules.quote_link(post, limits)
        if link is not None:
            line = post.quote_line or post.line
            text = f"{post.text}\n\n{link}" if post.text else link
            lines = (*post.text_lines, line, line) if post.text else (line,)
            post = replace(post, text=text, text_lines=lines)
        posts.append(post)
    return replace(draft, posts=tuple(posts))


@dataclass(frozen=True)
class _Piece:
    """A chunk of one draft post, before numbering."""

    post: DraftPost
    chunk: Chunk
    first: bool  # the first chunk of its draft post (carries the images)


def _numbered(text: str, number_format: str | None, index: int, total: int) -> str:
    suffix = numbering_suffix(number_format, index, total)
    if not suffix:
        return text
    return f"{text} {suffix}" if text else suffix


def _split_all(
    draft: Draft,
    rules: NetworkRules,
    limits: PlatformLimits,
    cw_of: Callable[[DraftPost], str],
    number_format: str | None,
    shorten: bool,
    before: int = 0,
) -> list[_Piece]:
    """Split every draft post; re-plan until the numbering's total is the real total.
    `before` posts come first (a continued thread): numbers and total count them."""
    # Break points, cluster boundaries and prefix counts are computed lazily, once per draft
    # post, and reused by every round.
    breaks: dict[int, BreakColumns] = {}
    clusters: dict[int, list[int]] = {}

    def clusters_of(post: DraftPost) -> list[int]:
        if post.index not in clusters:
            clusters[post.index] = grapheme_boundaries(post.text)
        return clusters[post.index]

    counters: dict[int, SpanCounter] = {}

    def counter_of(post: DraftPost) -> SpanCounter:
        if post.index not in counters:
            counters[post.index] = SpanCounter(
                post.text,
                clusters_of(post),
                rules,
                limits,
                spoiler_text=cw_of(post),
                shorten=shorten,
            )
        return counters[post.index]

    # No post of this thread can be numbered wider than this: each holds a character or more.
    most_posts = before + sum(len(post.text) + 1 for post in draft.posts)
    widest = numbering_suffix(number_format, most_posts, most_posts)

    def breaks_of(post: DraftPost) -> BreakColumns:
        if post.index not in breaks:
            # A paragraph that fits one post whole even with the widest numbering is never
            # split: its inner break points are not needed.
            fits_whole = counter_of(post).fits_with(lambda i: widest)
            breaks[post.index] = allowed_break_columns_inside(
                post.text,
                lambda start, end: not fits_whole(start, end, 0),
                protected_spans,
                cluster_starts=clusters_of(post),
            )
        return breaks[post.index]

    # Draft posts too long for one post even unnumbered: numbered, they are no shorter (the
    # splitter asks first whether the whole text fits: a full count of it, once is enough).
    too_long: set[int] = set()

    def fits_of(post: DraftPost, offset: int, total: int) -> FitsFn:
        """The rules' `fits` for the chunks of `post`, numbered from `offset` (after the
        `before` posts) of `total` (not counting them)."""
        cw = cw_of(post)

        def fits_numbered(candidate: str, chunk_index: int) -> bool:
            whole = candidate is post.text
            if whole and post.index in too_long:
                return False
            text = _numbered(
                candidate, number_format, before + offset + chunk_index + 1, before + total
            )
            if shorten:
                text = shorten_links_for_display(text, rules.entities(text))[0]
            fits = rules.fits(text, limits, spoiler_text=cw)
            if whole and not fits and text is candidate:
                too_long.add(post.index)
            return fits

        return fits_numbered

    def measure_of(post: DraftPost, offset: int, total: int) -> NumberedMeasure:
        # The same answers as sizes: how far a post reaches is then a bisection.
        return counter_of(post).measure_with(
            lambda i: numbering_suffix(number_format, before + offset + i + 1, before + total)
        )

    def split(total: int) -> list[_Piece]:
        pieces: list[_Piece] = []
        for post in draft.posts:
            offset = len(pieces)

            def fits_span(post: DraftPost = post, offset: int = offset) -> SpanFitsFn:
                # The same question from prefix counts: a long paragraph is probed a few
                # times per break, too often to recount every candidate.
                return counter_of(post).fits_with(
                    lambda i: numbering_suffix(
                        number_format, before + offset + i + 1, before + total
                    )
                )

            chunks = split_text(
                post.text,
                fits_of(post, offset, total),
                breaks=partial(breaks_of, post),
                fits_span=fits_span,
                measure=partial(measure_of, post, offset, total),
            )
            pieces.extend(_Piece(post, chunk, n == 0) for n, chunk in enumerate(chunks))
        return pieces

    def unnumbered_count() -> tuple[int, int] | None:
        """Bounds on len(split(1 - before)), the unnumbered split, from the greedy passes
        alone (None: not known cheaply)."""
        least = most = 0
        for post in draft.posts:
            found = count_bounds(
                post.text,
                fits_of(post, 0, 1 - before),
                breaks=partial(breaks_of, post),
                measure=partial(measure_of, post, 0, 1 - before),
            )
            if found is None:
                return None
            least, most = least + found[0], most + found[1]
        return least, most

    if number_format is None:
        return split(1 - before)
    # The unnumbered split only tells the numbering's width (a split with "i/n" depends on
    # n's digits alone, see below): when the greedy bounds on its count give as many digits,
    # that width is known without splitting for real.
    bounds = unnumbered_count()
    if (
        bounds is not None
        and before + bounds[0] >= 2
        and len(str(before + bounds[0])) == len(str(before + bounds[1]))
    ):
        total = bounds[0]
    else:
        # Without numbering first: a thread of one post stays unnumbered (a continued one is
        # numbered on, however short).
        pieces = split(1 - before)
        if len(pieces) + before == 1:
            return pieces
        total = len(pieces)
    for _ in range(_MAX_NUMBERING_ROUNDS):
        pieces = split(total)
        if len(pieces) <= total or len(str(before + len(pieces))) == len(str(before + total)):
            # Every post was fitted with "i/total"; "i/len(pieces)" has no more digits, so it
            # is never wider (and with as many digits the split would come out the same).
            return pieces
        total = len(pieces)
    return pieces  # not reached in practice; a post that does not fit is reported anyway


def _planned_post(
    index: int,
    text: str,
    entities: list[Entity],
    piece: _Piece,
    rules: NetworkRules,
    limits: PlatformLimits,
    cw: str,
    front: FrontMatter,
) -> PlannedPost:
    facets = tuple(
        Facet(
            kind=_FACET_KINDS[entity.kind],
            byte_start=entity.byte_start,
            byte_end=entity.byte_end,
            value=entity.value,
        )
        for entity in entities
        if entity.kind in _FACET_KINDS
    )
    return PlannedPost(
        index=index,
        text=text,
        length=rules.countable_length(text, limits, spoiler_text=cw),
        bytes=utf8_length(text),
        facets=facets,
        images=piece.post.images if piece.first else (),
        source_post=piece.post.index,
        source_line=piece.post.line,
        # Like its images, a draft post's tags and quote go on its first post.
        tags=rules.record_tags(front, piece.post) if piece.first else (),
        quote=piece.post.quote if piece.first else None,
        quote_line=piece.post.quote_line if piece.first else None,
        cw=piece.post.cw,
        cw_line=piece.post.cw_line,
        poll=piece.post.poll if piece.first else None,
        captions=piece.post.captions if piece.first else (),
    )


def _piece_problems(
    planned: PlannedPost, piece: _Piece, rules: NetworkRules, limits: PlatformLimits, cw: str
) -> list[Problem]:
    problems: list[Problem] = []
    platform = limits.platform
    index = planned.index
    post = piece.post
    if piece.chunk.fits and not rules.fits(planned.text, limits, spoiler_text=cw):
        problems.append(
            Problem(
                severity="error",
                code="too-long",
                message=f"post {index} (draft post {post.index}) does not fit {platform}'s limit",
                platform=platform,
                post=index,
                line=post.line_at(piece.chunk.start),
            )
        )
    if not piece.chunk.fits:
        line = post.line_at(piece.chunk.start)
        column = piece.chunk.start - post.text.rfind("\n", 0, piece.chunk.start)
        token = piece.chunk.text
        shown = token if len(token) <= 40 else token[:37] + "..."
        hint = ""
        if _UNSPACED_SCRIPT.search(token):
            hint = " (Thai, Lao, Khmer and Myanmar text is only split at spaces: add some)"
        limit = f"{limits.max_graphemes} characters"
        if limits.max_bytes is not None:
            limit += f" and {limits.max_bytes} bytes"
        problems.append(
            Problem(
                severity="error",
                code="too-long",
                message=(
                    f"post {index} (draft post {post.index}, line {line}, column {column}): "
                    f"{shown!r} cannot "
                    f"be split (no space outside a link, mention or tag): the post is "
                    f"{planned.length} characters ({planned.bytes} bytes); "
                    f"{platform} allows {limit}{hint}"
                ),
                platform=platform,
                post=index,
                line=line,
            )
        )
    if piece.first and len(post.images) > limits.max_images:
        extra = post.images[limits.max_images]
        problems.append(
            Problem(
                severity="error",
                code="too-many-images",
                message=(
                    f"post {index} (draft post {post.index}) has {len(post.images)} images; "
                    f"{platform} allows {limits.max_images} per post: move some to another "
                    "post with a --- line"
                ),
                platform=platform,
                post=index,
                line=extra.line,
            )
        )
    return problems
