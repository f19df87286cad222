"""The HTML preview: each network's column drawn the way its app shows a thread.

One renderer for both pages: the self-contained file `preview --html` writes (CSS inline,
images as data: URIs) and the live page `watch` serves (CSS and script from its own
127.0.0.1 origin, images through it). Either way the page loads nothing from elsewhere.

What each network shows differently (`NetworkLook`): the avatar's shape, how a link's text
is displayed (Mastodon hides the scheme and cuts the rest at 30 characters; the Bluesky app
shows every link facet's text through its `toShortUrl`, host + path cut at 13 + "...", the
planner's `short_url`, whether or not `shorten_links` already shortened the text sent), and
who makes a link card (the Mastodon instance fetches the page itself; on Bluesky threadpost
attaches one when publishing, if `link_cards` is on). Everything else comes from the plan
and the check: no second planner.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from threadpost.linkcard_cache import CachedCard, CardSource
from threadpost.platforms.rules import rules_for
from threadpost.preview_accounts import PreviewAccount, placeholder_accounts
from threadpost.preview_parts import (
    controls_text,
    count_label,
    count_level,
    draft_problems,
    extras_lines,
    facet_spans,
    labels_text,
    post_problems,
    replying_to_text,
    summary_text,
    video_route_line,
)
from threadpost.text.count import short_url
from threadpost.values import PlatformName, Problem
from threadpost.videos import video_line

if TYPE_CHECKING:
    from threadpost.check import CheckReport
    from threadpost.draft import Image
    from threadpost.thread import PlannedPost, Thread

#: Images larger than this are not embedded in the HTML page (shown as a note instead).
MAX_EMBEDDED_IMAGE_BYTES: Final = 8 * 1024 * 1024
#: Mastodon's TextFormatter shows this many characters of a link after its prefix.
MASTODON_LINK_DISPLAY_CHARS: Final = 30
#: What Mastodon hides at the start of a link's text (TextFormatter's URL_PREFIX_REGEX).
_MASTODON_LINK_PREFIX: Final = re.compile(r"\A(?:https?://(?:www\.)?|xmpp:)", re.IGNORECASE)
#: The strict policy of both pages: nothing but the page's own origin (or data: images).
STATIC_CSP: Final = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
LIVE_CSP: Final = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

#: Where an image's picture comes from: a URL (data: or the watch server's), None when the
#: image cannot be shown.
ImageSource = Callable[["Image"], "str | None"]


@dataclass(frozen=True)
class NetworkLook:
    """How one network's app draws a post, where the plan alone does not say."""

    #: "square" (Mastodon's rounded squares) or "round" (Bluesky's circles).
    avatar: str
    #: How the app shows a link facet's text.
    link_display: Callable[[str], LinkDisplay]
    #: "instance": the server makes a card for the first link of a post without media;
    #: "client": threadpost attaches one when publishing (when the thread's link_cards).
    card_maker: str
    #: Whether a post shows its visibility (public, unlisted, …) and a sensitive-media mark.
    visibility_labels: bool


@dataclass(frozen=True)
class LinkDisplay:
    """A link's text split as Mastodon marks it up: hidden prefix, shown part, hidden rest."""

    prefix: str
    shown: str
    rest: str

    @property
    def cut(self) -> bool:
        """True when the shown part ends with an ellipsis."""
        return bool(self.rest)


def mastodon_link_display(url: str) -> LinkDisplay:
    """How Mastodon shows a link: without "https://" (or "https://www."), the next 30
    characters, "…" when more follow (TextFormatter.shortened_link)."""
    prefix = match.group(0) if (match := _MASTODON_LINK_PREFIX.match(url)) else ""
    body = url[len(prefix) :]
    return LinkDisplay(
        prefix, body[:MASTODON_LINK_DISPLAY_CHARS], body[MASTODON_LINK_DISPLAY_CHARS:]
    )


def bluesky_link_display(text: str) -> LinkDisplay:
    """How the Bluesky app shows a link's text: `toShortUrl` (host + path cut to 13 + "...");
    text that is not an http(s) URL (already shortened) is shown as it is."""
    return LinkDisplay("", short_url(text), "")


#: The registry of looks, beside `platforms.rules.RULES`: one entry per network.
LOOKS: Final[Mapping[PlatformName, NetworkLook]] = {
    "mastodon": NetworkLook(
        avatar="square",
        link_display=mastodon_link_display,
        card_maker="instance",
        visibility_labels=True,
    ),
    "bluesky": NetworkLook(
        avatar="round",
        link_display=bluesky_link_display,
        card_maker="client",
        visibility_labels=False,
    ),
}


def data_uri_images() -> ImageSource:
    """Images embedded as data: URIs (each file read once per page)."""
    from threadpost.images import ImageError, inspect_image

    embedded: dict[Path, str | None] = {}

    def source(image: Image) -> str | None:
        if image.path not in embedded:
            try:
                info = inspect_image(image.path)
                if info.size_bytes > MAX_EMBEDDED_IMAGE_BYTES:
                    embedded[image.path] = None
                else:
                    data = base64.b64encode(image.path.read_bytes()).decode("ascii")
                    embedded[image.path] = f"data:{info.mime};base64,{data}"
            except (ImageError, OSError):
                embedded[image.path] = None
        return embedded[image.path]

    return source


# --- the page ----------------------------------------------------------------------------


def _templates() -> Path:
    return Path(str(resources.files("threadpost") / "templates"))


def stylesheet() -> str:
    """The page's CSS (inline in the static page, /preview.css on the live one)."""
    return (_templates() / "preview.css").read_text(encoding="utf-8")


def live_script() -> str:
    """The live page's script (/live.js): follows the server's events, swaps the preview."""
    return (_templates() / "live.js").read_text(encoding="utf-8")


def render_html(
    report: CheckReport,
    accounts: Mapping[PlatformName, PreviewAccount] | None = None,
    *,
    images: ImageSource | None = None,
    cards: CardSource | None = None,
) -> str:
    """The self-contained page (inline CSS, images as data: URIs): the networks side by side.

    `accounts`: each column's author (default: placeholders); `cards`: the link cards kept
    on this machine (default: none, every card a placeholder)."""
    head = f'<meta http-equiv="Content-Security-Policy" content="{STATIC_CSP}">\n'
    head += f"<style>\n{stylesheet()}\n</style>"
    return _page(
        report,
        head=head,
        body=render_preview(report, accounts, images=images or data_uri_images(), cards=cards),
        live="",
    )


def render_live_page(body: str, *, title: str, lang: str) -> str:
    """The page `watch` serves: its CSS and script from the same origin, `body` inside."""
    head = (
        f'<meta http-equiv="Content-Security-Policy" content="{LIVE_CSP}">\n'
        '<link rel="stylesheet" href="/preview.css">\n'
        '<script src="/live.js" defer></script>'
    )
    live = (
        '<div class="live-status" id="live-status" role="status" aria-live="polite">'
        "Watching the draft: the page follows every save.</div>"
    )
    return _page(None, head=head, body=body, live=live, title=title, lang=lang)


def _page(
    report: CheckReport | None,
    *,
    head: str,
    body: str,
    live: str,
    title: str | None = None,
    lang: str | None = None,
) -> str:
    from threadpost import __version__

    page = Template((_templates() / "preview.html").read_text(encoding="utf-8"))
    if report is not None:
        title = report.draft.front.title or report.draft.path.name
        lang = report.draft.front.lang
    return page.substitute(
        lang=_e(lang or "und"),
        version=_e(__version__),
        title=_e(title or "draft"),
        head=head,
        live=live,
        body=body,
    )


def render_preview(
    report: CheckReport,
    accounts: Mapping[PlatformName, PreviewAccount] | None = None,
    *,
    images: ImageSource,
    cards: CardSource | None = None,
) -> str:
    """The preview itself (header, draft-wide problems, one column per network): what the
    live page swaps in on every save."""
    accounts = accounts or placeholder_accounts()
    draft = report.draft
    title = draft.front.title or draft.path.name
    meta = [str(draft.path)]
    if draft.front.lang:
        meta.append(f"lang {draft.front.lang}")
    if draft.front.schedule:
        meta.append(f"scheduled {draft.front.schedule.isoformat(sep=' ')}")
    meta.append("links not checked (offline)" if report.offline else "links checked")
    summary_class = "errors" if report.errors else "warnings" if report.warnings else "clean"
    columns = "\n".join(
        _column(report, thread, accounts.get(thread.platform), images, cards)
        for thread in report.threads.values()
    )
    return (
        f'<header class="draft">\n<h1>{_e(title)}</h1>\n'
        f'<div class="meta">{" · ".join(_e(item) for item in meta)}</div>\n'
        f'<div class="summary" id="summary" data-errors="{report.errors}" '
        f'data-warnings="{report.warnings}">'
        f'<span class="{summary_class}">{_e(summary_text(report))}</span></div>\n'
        f"</header>\n"
        f"{_problems(draft_problems(report), 'problems draft-wide')}\n"
        f'<main class="networks">\n{columns}\n</main>'
    )


def render_failure(path: Path, message: str) -> str:
    """What the live page shows while the draft cannot be read (a TOML typo, a bad line)."""
    return (
        f'<header class="draft">\n<h1>{_e(path.name)}</h1>\n'
        f'<div class="meta">{_e(path)}</div>\n'
        '<div class="summary" id="summary" data-errors="1" data-warnings="0">'
        '<span class="errors">the draft cannot be read</span></div>\n</header>\n'
        f'<ul class="problems draft-wide"><li class="error" data-code="draft-unreadable">'
        f"error: {_e(message)}</li></ul>"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- a column ----------------------------------------------------------------------------


def _column(
    report: CheckReport,
    thread: Thread,
    account: PreviewAccount | None,
    images: ImageSource,
    cards: CardSource | None,
) -> str:
    name = thread.platform
    rules = rules_for(name)
    look = LOOKS[name]
    account = account or placeholder_accounts()[name]
    limits = thread.limits
    limit = f"limit {limits.max_graphemes}"
    if limits.max_bytes:
        limit += f" characters, {limits.max_bytes} bytes"
    notes: list[str] = []
    wants_cw = report.draft.front.cw or any(post.cw for post in report.draft.posts)
    if wants_cw and not rules.content_warnings:
        notes.append(
            f"{rules.name} has no content warnings: the draft's CW is not shown there, "
            "and the text is not hidden"
        )
    if not account.known:
        notes.append("placeholder account: log in to see yours")
    if thread.reply_to is not None:
        notes.append(replying_to_text(thread))
    posts = "\n".join(
        _post(report, thread, post, account, look, images, cards) for post in thread.posts
    )
    note = "".join(f'<p class="column-note">{_e(text)}</p>' for text in notes)
    return (
        f'<section class="network {_e(name)}" data-platform="{_e(name)}">\n'
        f'<h2><span class="network-name">{_e(rules.name)}</span> '
        f'<span class="limit">{len(thread.posts)} posts · {_e(limit)}</span></h2>\n'
        f"{note}"
        f'<ol class="thread">\n{posts}\n</ol>\n</section>'
    )


def _post(
    report: CheckReport,
    thread: Thread,
    post: PlannedPost,
    account: PreviewAccount,
    look: NetworkLook,
    images: ImageSource,
    cards: CardSource | None,
) -> str:
    level = count_level(post, thread)
    problems = post_problems(report, thread.platform, post.index)
    errors = sum(1 for problem in problems if problem.is_error)
    last = post.index == len(thread.posts)
    # The reply-chain line runs from this avatar down to the next post's.
    chain = "" if last else '<span class="chain"></span>'
    content = [f'<div class="text">{_text(post, look)}</div>']
    if post.images:
        content.append(_image_grid(post.images, images))
    elif (card := _card(thread, post, look, cards)) is not None:
        content.append(card)
    rules = rules_for(thread.platform)
    extras = extras_lines(post, polls=rules.polls, captions=rules.captions is not None)
    content += [f'<div class="extras">{_e(line)}</div>' for line in extras]
    if (route := video_route_line(report, thread, post)) is not None:
        content.append(f'<div class="extras video-route">{_e(route)}</div>')
    controls = controls_text(thread)
    if controls and post.index == 1:
        content.insert(0, f'<div class="controls">{_e(controls)}</div>')
    if thread.labels:
        # Bluesky self-labels: readers' apps hide or blur the post behind them.
        content.insert(0, f'<div class="self-labels">{_e(labels_text(thread))}</div>')
    cw = thread.content_warning(post) if rules_for(thread.platform).content_warnings else None
    if cw:
        content = [
            '<details class="cw"><summary>'
            f'<span class="cw-text">CW: {_e(cw)}</span> '
            '<span class="show-more">Show more</span></summary>',
            *content,
            "</details>",
        ]
    parts = [
        f'<li class="thread-item{" last" if last else ""}">'
        f'<article class="post" data-index="{post.index}" data-level="{level}" '
        f'data-errors="{errors}">',
        f'<div class="rail"><span class="avatar {look.avatar}" aria-hidden="true">'
        f"{_e(account.initial)}</span>{chain}</div>",
        '<div class="body">',
        f'<div class="author"><span class="display-name">{_e(account.display_name)}</span> '
        f'<span class="handle">{_e(account.handle)}</span></div>',
        _labels(thread, post, look),
        *content,
        f'<div class="head"><span class="number">{post.index}/{len(thread.posts)}</span>'
        f'<span class="count {level}">{_e(count_label(post, thread))}</span></div>',
        _problems(problems, "problems"),
        "</div>",
        "</article></li>",
    ]
    return "\n".join(part for part in parts if part)


def _labels(thread: Thread, post: PlannedPost, look: NetworkLook) -> str:
    """What the app shows around the post: visibility, language, sensitive media, reply."""
    labels: list[tuple[str, str]] = []
    if look.visibility_labels:
        visibility = thread.visibility if post.index == 1 else thread.reply_visibility
        labels.append(("visibility", visibility))
        if thread.sensitive and post.images:
            labels.append(("sensitive", "sensitive media"))
    if thread.lang:
        labels.append(("lang", f"lang {thread.lang}"))
    if post.index > 1:
        labels.append(("reply", f"reply to {post.index - 1}"))
    items = "".join(
        f'<span class="label {kind}" data-label="{kind}">{_e(text)}</span>' for kind, text in labels
    )
    return f'<div class="labels">{items}</div>' if items else ""


def _text(post: PlannedPost, look: NetworkLook) -> str:
    from threadpost.check import link_syntax_problem

    out: list[str] = []
    cursor = 0
    for start, end, kind, value in facet_spans(post.text, post.facets):
        out.append(_e(post.text[cursor:start]))
        written = post.text[start:end]
        if kind == "link" and link_syntax_problem(value) is None:
            out.append(
                f'<a class="link" href="{_e(value)}" rel="noopener noreferrer nofollow">'
                f"{_link_text(written, look)}</a>"
            )
        else:
            out.append(f'<span class="{_e(kind)}" title="{_e(value)}">{_e(written)}</span>')
        cursor = end
    out.append(_e(post.text[cursor:]))
    return "".join(out)


def _link_text(written: str, look: NetworkLook) -> str:
    # Mastodon's markup: the hidden parts stay in the text, so copying gives the whole link.
    shown = look.link_display(written)
    text = f'<span class="invisible">{_e(shown.prefix)}</span>' if shown.prefix else ""
    text += f'<span class="shown">{_e(shown.shown)}</span>'
    if shown.cut:
        text += '<span class="ellipsis" aria-hidden="true">…</span>'
        text += f'<span class="invisible">{_e(shown.rest)}</span>'
    return text


def _image_grid(items: Sequence[Image], images: ImageSource) -> str:
    # The apps lay out 1 to 4 images: one wide, two side by side, one tall beside two,
    # a 2 × 2 grid; more are refused by `check` (shown here in the 2 × 2 grid anyway).
    layout = min(len(items), 4)
    cells = "".join(_image(image, images) for image in items)
    return f'<div class="images grid-{layout}" data-count="{len(items)}">{cells}</div>'


def _image(image: Image, images: ImageSource) -> str:
    source = images(image)
    caption = f"<figcaption>{_e(image.alt or '(no alt text)')}</figcaption>"
    badge = (
        '<span class="alt-badge" title="has alt text">ALT</span>'
        if image.alt.strip()
        else '<span class="alt-badge no-alt" title="no alt text">no ALT</span>'
    )
    video = video_line(image.path)
    if video is not None:
        # A preview page shows no video (its policy allows data: images only): what
        # will be sent, described.
        return (
            f'<figure><div class="missing video">▶ {_e(image.written_path)}: {_e(video)}</div>'
            f"{badge}{caption}</figure>"
        )
    if source is None:
        return (
            f'<figure><div class="missing">{_e(image.written_path)} cannot be shown</div>'
            f"{badge}{caption}</figure>"
        )
    return f'<figure><img src="{_e(source)}" alt="{_e(image.alt)}">{badge}{caption}</figure>'


def _card(
    thread: Thread, post: PlannedPost, look: NetworkLook, cards: CardSource | None
) -> str | None:
    """The link card under a post with a link and no images: the card kept on this machine
    when there is one, otherwise a placeholder marked as such (a preview never fetches)."""
    if look.card_maker == "client" and not thread.link_cards:
        return None
    link = next((facet.value for facet in post.facets if facet.kind == "link"), None)
    if link is None:
        return None
    try:
        host = (urlsplit(link).hostname or link).removeprefix("www.")
    except ValueError:
        host = link
    cached = cards(link) if cards is not None else None
    if cached is not None:
        return _cached_card(cached, host)
    made = (
        "the instance makes this card from the page"
        if look.card_maker == "instance"
        else "threadpost fetches this card when publishing"
    )
    return (
        f'<div class="card placeholder" data-card="placeholder" data-uri="{_e(link)}">'
        '<div class="card-thumb" aria-hidden="true"></div>'
        f'<div class="card-text"><span class="card-host">{_e(host)}</span>'
        f'<span class="card-title">Link card (placeholder)</span>'
        f'<span class="card-description">{_e(made)}</span></div></div>'
    )


def _cached_card(card: CachedCard, host: str) -> str:
    thumb = card.image_data_uri
    picture = (
        f'<img class="card-image" src="{_e(thumb)}" alt="">'
        if thumb
        else '<div class="card-thumb" aria-hidden="true"></div>'
    )
    description = (
        f'<span class="card-description cached">{_e(card.description)}</span>'
        if card.description
        else ""
    )
    return (
        f'<div class="card" data-card="cached" data-uri="{_e(card.uri)}">{picture}'
        f'<div class="card-text"><span class="card-host">{_e(host)}</span>'
        f'<span class="card-title">{_e(card.title)}</span>{description}</div></div>'
    )


def _problems(problems: Sequence[Problem], css_class: str) -> str:
    if not problems:
        return ""
    items = "".join(_problem_items(problems))
    return f'<ul class="{css_class}">{items}</ul>'


def _problem_items(problems: Sequence[Problem]) -> Iterator[str]:
    for problem in problems:
        where = f"{problem.platform}: " if problem.platform and problem.post is None else ""
        yield (
            f'<li class="{_e(problem.severity)}" data-code="{_e(problem.code)}">'
            f"{_e(problem.severity)}: {_e(where)}{_e(problem.message)}</li>"
        )
