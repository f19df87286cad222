"""Mastodon's StatusLengthValidator, re-implemented for the test server.

Deliberately independent of threadpost's text core: a test server that reused the code
under test could not catch its bugs. The rules (PLATFORM_RULES.md, Mastodon 4.x
`app/validators/status_length_validator.rb`):

    length = graphemes(spoiler_text + countable_text(text))

where countable_text replaces every http(s) URL that twitter-text would autolink (at
most 4096 characters) by 23 placeholder characters, and every mention `@user@domain`
(domain at most 253 characters) by `@user`. The regexes here are simpler than
twitter-text's but agree with it on the texts the tests use; the corpus test
(`server` cases of mastodon-length-cases.json) pins them.
"""

from __future__ import annotations

import re
from typing import Final

from ugrapheme import grapheme_len

MAX_URL_LENGTH: Final = 4096
MAX_DOMAIN_LENGTH: Final = 253

# twitter-text: a URL must not be glued to a preceding letter, digit, @, $ or #.
_URL = re.compile(
    r"(?<![A-Za-z0-9@＠$#＃])"
    r"https?://"
    r"[^\s/?#<>\"'()]+\.[^\s/?#<>\"'().]{2,}[^\s/?#<>\"'()]*"  # host with a dot and a TLD
    r"(?::\d+)?"
    r"(?:[/?#][^\s<>\"]*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\""

# Account::MENTION_RE (4.x): not after "=", "/" or a word character.
_MENTION = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@(?P<domain>[\w.-]+\w))?",
    re.IGNORECASE,
)


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        url = match.group(0)
        # Trailing punctuation ends a sentence, not the URL; a ")" belongs to the URL
        # only when the URL opened one.
        while url and (
            url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))
        ):
            url = url[:-1]
            end -= 1
        if len(url) <= MAX_URL_LENGTH:
            spans.append((start, end))
    return spans


def countable_text(text: str, url_weight: int = 23) -> str:
    """The text as the validator measures it: URLs as `url_weight` x's, remote mentions short."""
    urls = _url_spans(text)
    replacements: list[tuple[int, int, str]] = [(s, e, "x" * url_weight) for s, e in urls]
    for match in _MENTION.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for s, e in urls):
            continue  # overlapping entities: the URL wins (remove_overlapping_entities)
        domain = match.group("domain")
        if domain is not None and len(domain) > MAX_DOMAIN_LENGTH:
            continue  # not a mention at all: counts as typed
        replacements.append((start, end, "@" + match.group("user")))
    out = []
    position = 0
    for start, end, replacement in sorted(replacements):
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


def status_length(text: str, spoiler_text: str = "", url_weight: int = 23) -> int:
    """The status's length as Mastodon's server counts it."""
    return int(grapheme_len(spoiler_text + countable_text(text, url_weight)))
