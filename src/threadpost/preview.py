"""A checked draft shown three ways: rich terminal cards, the JSON object, an HTML page.

The page is drawn by `preview_html` (re-exported here as `render_html`); what every view
shares (counts, facet spans, problems per post) is `preview_parts`'. Nothing here prints:
the CLI prints what these functions return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from threadpost.platforms.rules import rules_for
from threadpost.preview_html import render_html
from threadpost.preview_parts import (
    NEAR_LIMIT,
    controls_text,
    count_label,
    count_level,
    draft_problems,
    extras_lines,
    facet_spans,
    labels_text,
    post_json,
    post_problems,
    replying_to_text,
    summary_text,
    video_route_line,
)
from threadpost.values import PlatformName, Problem
from threadpost.videos import video_line

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from threadpost.check import CheckReport
    from threadpost.plan import PlannedPost, Thread

__all__ = [
    "NEAR_LIMIT",
    "count_label",
    "count_level",
    "facet_spans",
    "highlighted",
    "post_card",
    "problem_list",
    "render_html",
    "render_terminal",
    "summary_renderable",
    "summary_text",
    "to_json",
]

_FACET_STYLES: Final = {"link": "underline bright_blue", "mention": "magenta", "tag": "cyan"}


# --- JSON --------------------------------------------------------------------------


def to_json(report: CheckReport) -> dict[str, Any]:
    """The `--json` object of `check` and `preview` (DESIGN.md's shape, plus extras)."""
    return {
        "draft": str(report.draft.path),
        "ok": report.ok,
        "title": report.draft.front.title,
        "offline": report.offline,
        "platforms": {
            name: {
                "limit": thread.limits.max_graphemes,
                "max_bytes": thread.limits.max_bytes,
                "limit_source": thread.limits.source,
                "lang": thread.lang,
                # Who publishes: {"name": "default" or the config's account name,
                # "handle", "known": false for a stand-in, "login": "known" | "token" | "none"}.
                "account": _account_json(report, name),
                # Bluesky self-labels on every post ([] where none, and on Mastodon).
                "labels": list(thread.labels),
                # Who may reply (null: everyone, []: nobody) and whether posts may be quoted.
                "replies": None if thread.reply_rules is None else list(thread.reply_rules),
                "quotes": thread.quotes_allowed,
                # Mastodon's quote_approval_policy (null: the account's default).
                "quote_policy": thread.quote_policy,
                # The post the first post replies to (null: it starts a conversation).
                "reply_to": None if thread.reply_to is None else thread.reply_to.to_json(),
                # Each video attachment has "upload": {"via", "url", "configured"} where
                # the network has more than one way up (Bluesky).
                "posts": [post_json(report, thread, post) for post in thread.posts],
            }
            for name, thread in report.threads.items()
        },
        "problems": [problem.to_json() for problem in report.problems],
        "links": [result.to_json() for result in report.links.values()],
        "summary": {
            "errors": report.errors,
            "warnings": report.warnings,
            "posts": {name: len(thread.posts) for name, thread in report.threads.items()},
        },
    }


def _account_json(report: CheckReport, platform: PlatformName) -> dict[str, Any] | None:
    account = report.accounts.get(platform)
    return None if account is None else account.to_json()


# --- terminal ----------------------------------------------------------------------


def highlighted(post: PlannedPost) -> Text:
    """The post's text with links, mentions and tags styled."""
    from rich.text import Text

    text = Text(post.text)
    for start, end, kind, _ in facet_spans(post.text, post.facets):
        text.stylize(_FACET_STYLES.get(kind, "bold"), start, end)
    return text


def _problem_line(problem: Problem) -> Text:
    from rich.text import Text

    style = "bold red" if problem.is_error else "yellow"
    line = Text(f"{problem.severity}: ", style=style)
    line.append(problem.message)
    line.append(f" [{problem.code}]", style="dim")
    return line


def post_card(report: CheckReport, thread: Thread, post: PlannedPost) -> RenderableType:
    """One post as a card: number, count against the limit, text, images, problems."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    level = count_level(post, thread)
    colour = {"ok": "green", "near": "yellow", "over": "bold red"}[level]
    parts: list[RenderableType] = []
    cw = thread.content_warning(post) if rules_for(thread.platform).content_warnings else None
    if cw:
        parts.append(Text(f"CW: {cw}", style="black on yellow"))
    if thread.labels:
        parts.append(Text(labels_text(thread), style="black on yellow"))
    parts.append(highlighted(post))
    rules = rules_for(thread.platform)
    extras = extras_lines(post, polls=rules.polls, captions=rules.captions is not None)
    parts += [Text(line, style="cyan") for line in extras]
    for image in post.images:
        alt = image.alt or "(no alt text)"
        video = video_line(image.path)
        if video is None:
            parts.append(Text(f"🖼  {image.written_path} — {alt}", style="dim"))
        else:
            parts.append(Text(f"🎞  {image.written_path} — {alt} ({video})", style="dim"))
    if (route := video_route_line(report, thread, post)) is not None:
        parts.append(Text(route, style="cyan"))
    parts += [_problem_line(p) for p in post_problems(report, thread.platform, post.index)]
    return Panel(
        Group(*parts),
        title=f"{post.index}/{len(thread.posts)}",
        title_align="left",
        subtitle=Text(count_label(post, thread), style=colour),
        subtitle_align="right",
        border_style="red" if level == "over" else "bright_black",
        expand=True,
    )


def render_terminal(report: CheckReport) -> RenderableType:
    """The whole preview: per platform a header and its cards, then a summary line."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.text import Text

    title = report.draft.front.title or report.draft.path.name
    parts: list[RenderableType] = [Text(f"{title}  ({report.draft.path})", style="bold")]
    parts += [_problem_line(p) for p in draft_problems(report)]
    for name, thread in report.threads.items():
        limits = thread.limits
        rules = rules_for(name)
        rule = f"{rules.name} · {len(thread.posts)} posts · limit {limits.max_graphemes}"
        # Where the limit came from matters only where each server states its own.
        rule += f" ({limits.source})" if rules.server_limits else ""
        rule += f" · {labels_text(thread).lower()}" if thread.labels else ""
        controls = controls_text(thread)
        rule += f" · {controls.lower()}" if controls else ""
        parts.append(Rule(rule, style=rules.preview_style))
        if (account := report.accounts.get(name)) is not None:
            parts.append(Text(f"Publishing {account.describe()}", style=rules.preview_style))
        if thread.reply_to is not None:
            parts.append(Text(replying_to_text(thread), style=rules.preview_style))
        parts += [post_card(report, thread, post) for post in thread.posts]
    parts.append(summary_renderable(report))
    return Group(*parts)


def summary_renderable(report: CheckReport) -> Text:
    """The summary line, green when clean, red with errors, yellow with warnings only."""
    from rich.text import Text

    style = "bold red" if report.errors else "yellow" if report.warnings else "bold green"
    return Text(summary_text(report), style=style)


def problem_list(report: CheckReport) -> RenderableType:
    """`check`'s output: the problems, one a line, with where they are, and the summary."""
    from rich.console import Group
    from rich.text import Text

    lines: list[RenderableType] = [
        Text(f"{name}: {replying_to_text(thread)}")
        for name, thread in report.threads.items()
        if thread.reply_to is not None
    ]
    for problem in report.problems:
        line = Text(f"{problem.where(str(report.draft.path))}: ", style="bold")
        line.append_text(_problem_line(problem))
        lines.append(line)
    # The summary names its draft: `check a.md b.md` prints one for each.
    summary = Text(f"{report.draft.path}: ", style="bold")
    summary.append_text(summary_renderable(report))
    lines.append(summary)
    return Group(*lines)
