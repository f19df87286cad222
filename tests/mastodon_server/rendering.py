"""A status's `content` rendered as Mastodon 4.x renders a local status (TextFormatter).

Deliberately independent of threadpost (a server that reused the code under test could not
catch its bugs). What Mastodon does, and what this reproduces:

- the text is HTML-escaped; paragraphs (separated by blank lines) become `<p>`, single line
  breaks `<br />` (Rails' simple_format), and no newline is left in the HTML;
- an http(s) URL becomes a link whose text is split into spans: the scheme (and "www.")
  invisible, the next 30 characters visible (class "ellipsis" when more follows), the rest
  invisible;
- a mention of a known account becomes an h-card link showing only `@user`, even for
  `@user@domain` (remote accounts are taken as resolvable); an unknown local `@user` stays
  text;
- a hashtag becomes a link to /tags/name showing `#<span>name</span>`.

So `content` is not the text that was sent: a client matching statuses by text must reduce
the HTML to words, or read the source (GET /api/v1/statuses/:id/source).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import Any, Final

from mastodon_server.length import _MENTION, _url_spans

_HASHTAG: Final = re.compile(r"(?<![=/)\w])#(?P<tag>\w*[^\W\d_]\w*)", re.UNICODE)
_PARAGRAPHS: Final = re.compile(r"\n\s*\n")
_VISIBLE_URL_CHARS: Final = 30


@dataclass
class Rendered:
    html: str
    mentions: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)


def render_status(text: str, *, base_url: str, local: set[str]) -> Rendered:
    """`text` as Mastodon's `content` HTML, with the `mentions` and `tags` it produced."""
    rendered = Rendered(html="")
    entities: list[tuple[int, int, str]] = []
    urls = _url_spans(text)
    for start, end in urls:
        entities.append((start, end, _link(text[start:end])))

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e, _ in entities)

    for match in _MENTION.finditer(text):
        start, end = match.span()
        user, domain = match.group("user"), match.group("domain")
        if not free(start, end) or (domain is None and user not in local):
            continue
        href = f"https://{domain}/@{user}" if domain else f"{base_url}/@{user}"
        entities.append(
            (
                start,
                end,
                '<span class="h-card" translate="no">'
                f'<a href="{html.escape(href)}" class="u-url mention">'
                f"@<span>{html.escape(user)}</span></a></span>",
            )
        )
        rendered.mentions.append(
            {
                "id": str(int(hashlib.sha256(href.encode()).hexdigest()[:8], 16)),
                "username": user,
                "acct": f"{user}@{domain}" if domain else user,
                "url": href,
            }
        )
    for match in _HASHTAG.finditer(text):
        start, end = match.span()
        if not free(start, end):
            continue
        tag = match.group("tag")
        href = f"{base_url}/tags/{tag.lower()}"
        entities.append(
            (
                start,
                end,
                f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(tag)}</span></a>",
            )
        )
        rendered.tags.append({"name": tag.lower(), "url": href})

    out: list[str] = []
    position = 0
    for start, end, markup in sorted(entities):
        out.append(html.escape(text[position:start], quote=False))
        out.append(markup)
        position = end
    out.append(html.escape(text[position:], quote=False))
    body = "".join(out).replace("\r\n", "\n")
    paragraphs = [p.strip("\n") for p in _PARAGRAPHS.split(body.strip("\n"))]
    rendered.html = "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs if p)
    return rendered


def _link(url: str) -> str:
    match = re.match(r"(https?://(?:www\.)?)(.*)", url, re.IGNORECASE | re.DOTALL)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", url)
    visible, hidden = rest[:_VISIBLE_URL_CHARS], rest[_VISIBLE_URL_CHARS:]
    shown = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span>'
        f'<span class="{shown}">{html.escape(visible)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )
