"""What every preview shows, whatever it is drawn with: counts against each limit, the
facets located in the text, the problems of each post, the summary line.

A leaf below `preview` (terminal and JSON) and `preview_html` (the page), so that neither
imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from threadpost.draft import duration_text
from threadpost.platforms.rules import rules_for
from threadpost.values import Problem
from threadpost.video_route import sends_video

if TYPE_CHECKING:
    from threadpost.check import CheckReport
    from threadpost.draft import Poll
    from threadpost.thread import Facet, PlannedPost, Thread

#: Fraction of the limit from which a count shows as "near" (yellow).
NEAR_LIMIT: Final = 0.9


def count_level(post: PlannedPost, thread: Thread) -> str:
    """ "ok", "near" (≥ 90 % of a limit) or "over", by characters and (Bluesky) bytes."""
    limits = thread.limits
    ratios = [post.length / limits.max_graphemes]
    if limits.max_bytes:
        ratios.append(post.bytes / limits.max_bytes)
    worst = max(ratios)
    if worst > 1:
        return "over"
    return "near" if worst >= NEAR_LIMIT else "ok"


def count_label(post: PlannedPost, thread: Thread) -> str:
    """ "123/300" (plus the bytes where the network caps them)."""
    limits = thread.limits
    label = f"{post.length}/{limits.max_graphemes}"
    if limits.max_bytes:
        label += f" · {post.bytes}/{limits.max_bytes} bytes"
    return label


def facet_spans(text: str, facets: Sequence[Facet]) -> list[tuple[int, int, str, str]]:
    """Facets located in code points: (start, end, kind, value), sorted, overlaps dropped."""
    offsets: dict[int, int] = {}
    position = 0
    for index, char in enumerate(text):
        offsets[position] = index
        position += len(char.encode("utf-8"))
    offsets[position] = len(text)
    spans: list[tuple[int, int, str, str]] = []
    for facet in sorted(facets, key=lambda f: f.byte_start):
        start, end = offsets.get(facet.byte_start), offsets.get(facet.byte_end)
        # A facet off a character boundary is the planner's bug; show the text plain.
        if start is None or end is None or end <= start:
            continue
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end, facet.kind, facet.value))
    return spans


def post_problems(report: CheckReport, platform: str, index: int) -> list[Problem]:
    """The problems of post `index` on `platform`."""
    return [p for p in report.problems if p.platform == platform and p.post == index]


def draft_problems(report: CheckReport) -> list[Problem]:
    """Problems not tied to one post (draft-wide or platform-wide)."""
    return [p for p in report.problems if p.post is None]


def summary_text(report: CheckReport) -> str:
    """ "mastodon: 3 posts · bluesky: 4 posts · 1 error · 2 warnings"."""
    parts = [
        f"{name}: {len(thread.posts)} post{'s' if len(thread.posts) != 1 else ''}"
        for name, thread in report.threads.items()
    ]
    parts.append(f"{report.errors} error{'s' if report.errors != 1 else ''}")
    parts.append(f"{report.warnings} warning{'s' if report.warnings != 1 else ''}")
    return " · ".join(parts)


def poll_text(poll: Poll) -> str:
    """ "Poll: Tea | Coffee (3 days · multiple choice · totals hidden)"."""
    notes = [duration_text(poll.expires_in)]
    if poll.multiple:
        notes.append("multiple choice")
    if poll.hide_totals:
        notes.append("totals hidden")
    return f"Poll: {' | '.join(poll.options)} ({' · '.join(notes)})"


def labels_text(thread: Thread) -> str:
    """ "Labels: graphic-media, nudity": the self-labels on each of the thread's posts."""
    return f"Label{'s' if len(thread.labels) > 1 else ''}: {', '.join(thread.labels)}"


def replying_to_text(thread: Thread) -> str:
    """ "replying to <address>" (and which thread it continues) for a thread whose first
    post replies to a post; "" for one that starts a conversation."""
    target = thread.reply_to
    if target is None:
        return ""
    text = f"↳ replying to {target.address}"
    if target.continues is not None:
        text += f" (continuing thread {target.continues})"
    return text


def controls_text(thread: Thread) -> str | None:
    """ "Replies: mentioned, following · no quotes": who may reply to and quote the thread
    (Bluesky's threadgate and postgates), or None when both are open."""
    parts = []
    if thread.reply_rules is not None:
        parts.append(f"replies: {', '.join(thread.reply_rules) or 'nobody'}")
    if not thread.quotes_allowed:
        parts.append("no quotes")
    if thread.quote_policy is not None:  # Mastodon's quote_approval_policy
        parts.append(f"quotes: {thread.quote_policy}")
    return " · ".join(parts).capitalize() if parts else None


def extras_lines(post: PlannedPost, *, polls: bool = True, captions: bool = True) -> list[str]:
    """ "Quotes: <address>", "Poll: A | B (1 day)" (where the network has `polls`),
    "Captions: en (subs/clip.en.vtt)" (where it takes `captions`) and "Tags: #a #b": what
    the post carries beyond its text."""
    lines = []
    if post.captions and captions:
        lines.append(
            "Captions: "
            + ", ".join(f"{caption.lang} ({caption.written_path})" for caption in post.captions)
        )
    if post.quote is not None:
        lines.append(f"Quotes: {post.quote}")
    if post.poll is not None and polls:
        lines.append(poll_text(post.poll))
    if post.tags:
        lines.append("Tags: " + " ".join(f"#{tag}" for tag in post.tags))
    return lines


def video_route_line(report: CheckReport, thread: Thread, post: PlannedPost) -> str | None:
    """ "Video via the video service (https://video.bsky.app)": which way the post's video
    goes up, on a network with more than one way; None for a post without a video."""
    route = report.video_routes.get(thread.platform)
    if route is None or not post.images:
        return None
    return route.words if sends_video(rules_for(thread.platform), post, 0) else None


def post_json(report: CheckReport, thread: Thread, post: PlannedPost) -> dict[str, object]:
    """A post in `--json`: `PlannedPost.to_json`, each attachment sent as a video with
    `"upload"` (which way it goes up, `VideoRoute.to_json`) on a network with more than
    one way."""
    shown = post.to_json()
    route = report.video_routes.get(thread.platform)
    images = shown["images"]
    if route is None or not isinstance(images, list):
        return shown
    rules = rules_for(thread.platform)
    shown["images"] = [
        {**attachment, "upload": route.to_json()} if sends_video(rules, post, index) else attachment
        for index, attachment in enumerate(images)
    ]
    return shown
