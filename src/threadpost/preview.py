"""A checked draft shown three ways: rich terminal cards, the JSON object, an HTML page.

Nothing here prints: the CLI prints what these functions return.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator, Sequence
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any, Final

from threadpost.platforms.rules import rules_for
from threadpost.values import Problem

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from threadpost.check import CheckReport
    from threadpost.draft import Image
    from threadpost.plan import Facet, PlannedPost, Thread

#: Fraction of the limit from which a count shows as "near" (yellow).
NEAR_LIMIT: Final = 0.9
#: Images larger than this are not embedded in the HTML page (shown as a note instead).
MAX_EMBEDDED_IMAGE_BYTES: Final = 8 * 1024 * 1024

_FACET_STYLES: Final = {"link": "underline bright_blue", "mention": "magenta", "tag": "cyan"}


# --- shared ------------------------------------------------------------------------


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


def labels_text(thread: Thread) -> str:
    """ "Labels: graphic-media, nudity": the self-labels on each of the thread's posts."""
    return f"Label{'s' if len(thread.labels) > 1 else ''}: {', '.join(thread.labels)}"


def controls_text(thread: Thread) -> str | None:
    """ "Replies: mentioned, following · no quotes": who may reply to and quote the thread
    (Bluesky's threadgate and postgates), or None when both are open."""
    parts = []
    if thread.reply_rules is not None:
        parts.append(f"replies: {', '.join(thread.reply_rules) or 'nobody'}")
    if not thread.quotes_allowed:
        parts.append("no quotes")
    return " · ".join(parts).capitalize() if parts else None


def extras_lines(post: PlannedPost) -> list[str]:
    """ "Quotes: <address>" and "Tags: #a #b": what the post carries beyond its text."""
    lines = []
    if post.quote is not None:
        lines.append(f"Quotes: {post.quote}")
    if post.tags:
        lines.append("Tags: " + " ".join(f"#{tag}" for tag in post.tags))
    return lines


def _post_problems(report: CheckReport, platform: str, index: int) -> list[Problem]:
    return [p for p in report.problems if p.platform == platform and p.post == index]


def _draft_problems(report: CheckReport) -> list[Problem]:
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
                # Bluesky self-labels on every post ([] where none, and on Mastodon).
                "labels": list(thread.labels),
                # Who may reply (null: everyone, []: nobody) and whether posts may be quoted.
                "replies": None if thread.reply_rules is None else list(thread.reply_rules),
                "quotes": thread.quotes_allowed,
                "posts": [post.to_json() for post in thread.posts],
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
    if thread.spoiler_text:
        parts.append(Text(f"CW: {thread.spoiler_text}", style="black on yellow"))
    if thread.labels:
        parts.append(Text(labels_text(thread), style="black on yellow"))
    parts.append(highlighted(post))
    for image in post.images:
        alt = image.alt or "(no alt text)"
        parts.append(Text(f"🖼  {image.written_path} — {alt}", style="dim"))
    parts += [Text(line, style="cyan") for line in extras_lines(post)]
    parts += [_problem_line(p) for p in _post_problems(report, thread.platform, post.index)]
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
    parts += [_problem_line(p) for p in _draft_problems(report)]
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

    lines: list[RenderableType] = []
    for problem in report.problems:
        where = str(report.draft.path)
        if problem.line is not None:
            where += f":{problem.line}"
        if problem.platform:
            where += f" {problem.platform}"
        if problem.post is not None:
            where += f" post {problem.post}"
        line = Text(f"{where}: ", style="bold")
        line.append_text(_problem_line(problem))
        lines.append(line)
    lines.append(summary_renderable(report))
    return Group(*lines)


# --- HTML --------------------------------------------------------------------------


def render_html(report: CheckReport) -> str:
    """A self-contained page (inline CSS, images as data: URIs): the networks side by side."""
    from threadpost import __version__

    templates = resources.files("threadpost") / "templates"
    page = Template(templates.joinpath("preview.html").read_text(encoding="utf-8"))
    style = templates.joinpath("preview.css").read_text(encoding="utf-8")
    draft = report.draft
    title = draft.front.title or draft.path.name
    meta = [str(draft.path)]
    if draft.front.lang:
        meta.append(f"lang {draft.front.lang}")
    if draft.front.schedule:
        meta.append(f"scheduled {draft.front.schedule.isoformat(sep=' ')}")
    meta.append("links not checked (offline)" if report.offline else "links checked")
    summary_class = "errors" if report.errors else "warnings" if report.warnings else "clean"
    embedded: dict[str, str] = {}
    columns = "\n".join(
        _html_column(report, thread, embedded) for thread in report.threads.values()
    )
    draft_problems = _html_problems(_draft_problems(report), "problems draft-wide")
    return page.substitute(
        lang=_e(draft.front.lang or "und"),
        version=_e(__version__),
        title=_e(title),
        style=style,
        meta=" · ".join(_e(item) for item in meta),
        summary=f'<span class="{summary_class}">{_e(summary_text(report))}</span>',
        draft_problems=draft_problems,
        columns=columns,
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_column(report: CheckReport, thread: Thread, embedded: dict[str, str]) -> str:
    name = thread.platform
    limits = thread.limits
    limit = f"limit {limits.max_graphemes}"
    if limits.max_bytes:
        limit += f" characters, {limits.max_bytes} bytes"
    posts = "\n".join(_html_post(report, thread, post, embedded) for post in thread.posts)
    return (
        f'<section class="network {_e(name)}" data-platform="{_e(name)}">\n'
        f"<h2>{_e(rules_for(name).name)} "
        f'<span class="limit">{len(thread.posts)} posts · {_e(limit)}</span></h2>\n'
        f"{posts}\n</section>"
    )


def _html_post(
    report: CheckReport, thread: Thread, post: PlannedPost, embedded: dict[str, str]
) -> str:
    level = count_level(post, thread)
    parts = [
        f'<article class="post" data-index="{post.index}">',
        f'<div class="head"><span class="number">{post.index}/{len(thread.posts)}</span>'
        f'<span class="count {level}">{_e(count_label(post, thread))}</span></div>',
    ]
    if thread.spoiler_text:
        parts.append(f'<div class="cw">CW: {_e(thread.spoiler_text)}</div>')
    if thread.labels:
        parts.append(f'<div class="labels">{_e(labels_text(thread))}</div>')
    controls = controls_text(thread)
    if controls and post.index == 1:
        parts.append(f'<div class="controls">{_e(controls)}</div>')
    parts.append(f'<div class="text">{_html_text(post)}</div>')
    parts += [f'<div class="extras">{_e(line)}</div>' for line in extras_lines(post)]
    if post.images:
        parts.append('<div class="images">')
        parts += [_html_image(image, embedded) for image in post.images]
        parts.append("</div>")
    parts.append(_html_problems(_post_problems(report, thread.platform, post.index), "problems"))
    parts.append("</article>")
    return "\n".join(part for part in parts if part)


def _html_text(post: PlannedPost) -> str:
    from threadpost.check import link_syntax_problem

    out: list[str] = []
    cursor = 0
    for start, end, kind, value in facet_spans(post.text, post.facets):
        out.append(_e(post.text[cursor:start]))
        shown = _e(post.text[start:end])
        if kind == "link" and link_syntax_problem(value) is None:
            out.append(
                f'<a class="link" href="{_e(value)}" rel="noopener noreferrer nofollow">{shown}</a>'
            )
        else:
            out.append(f'<span class="{_e(kind)}" title="{_e(value)}">{shown}</span>')
        cursor = end
    out.append(_e(post.text[cursor:]))
    return "".join(out)


def _html_image(image: Image, embedded: dict[str, str]) -> str:
    from threadpost.images import ImageError, inspect_image

    key = str(image.path)
    if key not in embedded:
        try:
            info = inspect_image(image.path)
            if info.size_bytes > MAX_EMBEDDED_IMAGE_BYTES:
                embedded[key] = ""
            else:
                data = base64.b64encode(image.path.read_bytes()).decode("ascii")
                embedded[key] = f"data:{info.mime};base64,{data}"
        except (ImageError, OSError):
            embedded[key] = ""
    caption = f"<figcaption>{_e(image.alt or '(no alt text)')}</figcaption>"
    if not embedded[key]:
        return (
            f'<figure><div class="missing">{_e(image.written_path)} cannot be shown</div>'
            f"{caption}</figure>"
        )
    return f'<figure><img src="{embedded[key]}" alt="{_e(image.alt)}">{caption}</figure>'


def _html_problems(problems: Sequence[Problem], css_class: str) -> str:
    if not problems:
        return ""
    items = "".join(_html_problem_items(problems))
    return f'<ul class="{css_class}">{items}</ul>'


def _html_problem_items(problems: Sequence[Problem]) -> Iterator[str]:
    for problem in problems:
        where = f"{problem.platform}: " if problem.platform and problem.post is None else ""
        yield (
            f'<li class="{_e(problem.severity)}" data-code="{_e(problem.code)}">'
            f"{_e(problem.severity)}: {_e(where)}{_e(problem.message)}</li>"
        )
