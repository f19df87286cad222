"""Countable length per network: what each server compares with its limit.

Pure functions per network; which one applies to a platform is that network's rules object
(`threadpost.platforms.<network>.rules`) to say: the text core knows no platform names.

Mastodon (`StatusLengthValidator`): graphemes of `spoiler_text + countable(text)`, where
countable(text) replaces every http(s) URL twitter-text extracts (≤ 4096 characters) with
`characters_reserved_per_url` placeholder characters and every `@user@domain` with `@user`;
a text that is only whitespace counts as empty (Ruby's `blank?`).

Bluesky (`app.bsky.feed.post`): at most 300 graphemes AND 3000 UTF-8 bytes of the text as sent.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from threadpost.text.entities import Entity, mastodon_counted_spans
from threadpost.text.graphemes import grapheme_count, grapheme_count_without_conjuncts

#: Mastodon's characters_reserved_per_url when the instance does not say.
DEFAULT_URL_WEIGHT = 23

# What Ruby's String#strip removes (Status#text and #spoiler_text are stripped before
# validation): NUL and ASCII whitespace only, not U+00A0 or U+3000.
_RUBY_STRIP = "\x00\t\n\v\f\r "
# Ruby's [[:space:]] (White_Space), for String#blank?.
_BLANK = re.compile(r"[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*\Z")


def utf8_length(text: str) -> int:
    """UTF-8 bytes of `text`."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def bluesky_length(text: str) -> int:
    """Bluesky's countable length: graphemes (the 3000-byte cap is a separate check)."""
    return grapheme_count(text)


def mastodon_countable_text(text: str, *, url_weight: int = DEFAULT_URL_WEIGHT) -> str:
    """The text Mastodon counts: URLs as `url_weight` x's, `@user@domain` as `@user`."""
    if _BLANK.match(text):
        return ""
    if "://" not in text and "@" not in text:
        return text
    placeholder = "x" * url_weight
    parts: list[str] = []
    last = 0
    for start, end, kind, value in mastodon_counted_spans(text):
        parts.append(text[last:start])
        if kind == "link":
            parts.append(placeholder)
        else:
            parts.append("@" + value.partition("@")[0])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def mastodon_length(
    text: str, *, spoiler_text: str = "", url_weight: int = DEFAULT_URL_WEIGHT
) -> int:
    """Mastodon's countable length of a status with this text and content warning.

    The text is stripped first, as the server does before validating (Ruby `strip`). Clusters
    are counted without Indic conjuncts (Ruby's Unicode may predate them): never fewer.
    """
    countable = mastodon_countable_text(text.strip(_RUBY_STRIP), url_weight=url_weight)
    return grapheme_count_without_conjuncts(spoiler_text + countable)


# --------------------------------------------------------------------------------------------
# Bluesky app-style display shortening of long links.

#: The Bluesky app shows a path (with query and fragment) longer than this cut short.
SHORT_URL_PATH_MAX = 15
SHORT_URL_PATH_KEEP = 13


def short_url(url: str) -> str:
    """How the Bluesky app displays a link: host + path, a path over 15 cut to 13 + "...".

    Follows the app's `toShortUrl` on a WHATWG-style parse: the host is lower-cased and
    punycoded, the path percent-encoded; a text that is not an http(s) URL is returned as is.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not host:
        return url
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return url
    default_port = 80 if parts.scheme.lower() == "http" else 443
    if port is not None and port != default_port:
        host = f"{host}:{port}"
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    if path == "/":
        path = ""
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    if parts.fragment:
        path += "#" + quote(parts.fragment, safe="/%:@!$&'()*+,;=-._~?#")
    if len(path) > SHORT_URL_PATH_MAX:
        return host + path[:SHORT_URL_PATH_KEEP] + "..."
    return host + path


def shorten_links_for_display(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Replace each link's visible text by its short form; every entity re-offset.

    `entities` must be sorted by start (as `bluesky_entities` returns them); links never overlap
    one another. Links keep their full URI in `value`; the 300-grapheme limit applies to the
    returned text. An entity overlapping a link whose text was shortened is dropped: the text it
    covered is gone.
    """
    shortened = [
        (entity, shown)
        for entity in entities
        if entity.kind == "link" and (shown := short_url(entity.text)) != entity.text
    ]
    if not shortened:
        return text, list(entities)
    parts: list[str] = []
    last = 0
    # (old start, old end, new start, new end) of each shortened link, in order.
    moves: list[tuple[int, int, int, int]] = []
    written = 0
    for entity, shown in shortened:
        gap = text[last : entity.start]
        parts.append(gap)
        written += len(gap)
        parts.append(shown)
        moves.append((entity.start, entity.end, written, written + len(shown)))
        written += len(shown)
        last = entity.end
    parts.append(text[last:])
    result_text = "".join(parts)

    def moved(position: int) -> int:
        """Where an offset outside every shortened link lands in the new text."""
        shift = 0
        for old_start, old_end, new_start, new_end in moves:
            if position < old_end:
                break
            shift += (new_end - new_start) - (old_end - old_start)
        return position + shift

    result: list[Entity] = []
    for entity in entities:
        move = next((m for m in moves if m[0] == entity.start and m[1] == entity.end), None)
        if move is not None and entity.kind == "link":
            start, end = move[2], move[3]
        elif any(entity.start < m[1] and m[0] < entity.end for m in moves):
            continue
        else:
            start, end = moved(entity.start), moved(entity.end)
        byte_start = utf8_length(result_text[:start])
        result.append(
            Entity(
                kind=entity.kind,
                start=start,
                end=end,
                byte_start=byte_start,
                byte_end=byte_start + utf8_length(result_text[start:end]),
                text=result_text[start:end],
                value=entity.value,
            )
        )
    return result_text, result
