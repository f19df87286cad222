"""Mastodon's StatusLengthValidator, re-implemented for the test server.

Deliberately independent of threadpost's text core: a test server that reused the code
under test could not catch its bugs. The rules (PLATFORM_RULES.md, Mastodon 4.x
`app/validators/status_length_validator.rb`, `config/initializers/twitter_regex.rb`):

    length = graphemes(spoiler_text + countable_text(text.strip))

where countable_text replaces every URL that twitter-text (with Mastodon's overrides) would
autolink by 23 placeholder characters, and every mention `@user@domain` (domain at most 253
characters) by `@user`. URLs: a scheme of http(s), dat, dweb, ipfs, ipns, ssb, gopher or
gemini; a path over any non-space character but `<>()?`, not ending in sentence punctuation; a
query over ASCII URL characters, `^` and IRI (non-ASCII) characters; a host IDNA2003 accepts
(no code point unassigned in Unicode 3.2); a t.co URL ends with its slug; at most 4096
characters. A mention followed by `@`, a Latin accent or `://` is none. The regexes here are
simpler than twitter-text's (any host with a dot and a 2+ letter last label) but agree with it
on the texts the tests use; tests/adapters/test_mastodon_server.py pins them on the spec cases
and tests/unit/test_differential_mastodon.py on generated texts.
"""

from __future__ import annotations

import re
import stringprep
import unicodedata
from typing import Final

from ugrapheme import grapheme_len

MAX_URL_LENGTH: Final = 4096
MAX_DOMAIN_LENGTH: Final = 253
# What Ruby's String#strip removes: NUL and ASCII whitespace.
_STRIP: Final = "\x00\t\n\v\f\r "
_BLANK = re.compile(r"\s*")

_SCHEMES = "https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini"
_IRI = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0010fffd"
# twitter-text: a URL must not be glued to a preceding letter, digit, @, $ or # (checked in
# _glued: Ruby's /i counts ſ and K as letters there, not ı and İ).
_URL = re.compile(
    rf"(?:{_SCHEMES})://"
    r"(?P<host>[^\s/?#<>\"'()@:.]+(?:\.[^\s/?#<>\"'()@:.]+)*\.[^\W\d_]{2,})"
    r"(?::\d+)?"
    r"(?P<path>/[^\s<>()?]*(?:\([^\s<>()?]*\)[^\s<>()?]*)*)?"
    rf"(?P<query>\?[A-Za-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_IRI}]*)?",
    re.IGNORECASE,
)
# What a path may not end on (sentence punctuation), and what a query may end on.
_PATH_NO_END = set("!*\"'「」<>;:=,.$%[]~&|@")
_QUERY_END = re.compile(rf"[A-Za-z0-9_&=#/\-{_IRI}]")
_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+", re.IGNORECASE)

# Account::MENTION_RE (4.x): not after "=", "/" or a word character (checked in _is_word, as
# is every character of the domain: Ruby's [[:word:]] is not Python's \w).
_MENTION = re.compile(
    r"@(?P<user>[a-zſ\u212a0-9_]+(?:[.-]+[a-zſ\u212a0-9_]+)*)(?:@(?P<domain>[\w.-]+\w))?",
    re.IGNORECASE,
)
# Other_Alphabetic symbols (circled and squared Latin letters): word characters in Ruby.
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))


def _is_word(ch: str) -> bool:
    """Ruby's [[:word:]]: letters, Nl, Nd, marks, Pc, alphabetic symbols, ZWNJ/ZWJ (no ² ½ ①)."""
    category = unicodedata.category(ch)
    if category[0] in "LM" or category in ("Nd", "Nl", "Pc") or ch in "\u200c\u200d":
        return True
    return any(a <= ord(ch) <= b for a, b in _ALPHABETIC_SYMBOLS)


def _glued(text: str, start: int) -> bool:
    """Whether a URL starting at `start` follows a character twitter-text refuses there."""
    if start == 0:
        return False
    before = text[start - 1]
    return (before.isascii() and before.isalnum()) or before in "@＠$#＃ſ\u212a"


# twitter-text's end_mention_match: an at sign, a Latin accented letter or "://" after it.
_END_MENTION = re.compile("[@＠\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff]|://")


def _host_is_valid(host: str) -> bool:
    """libidn's IDNA2003 toASCII: no unassigned (Unicode 3.2) code point, nameprep passes."""
    if any(stringprep.in_table_a1(ch) for ch in host):
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def _trim(url: str, path_start: int, query_start: int) -> str:
    """Drop what may not end the URL: sentence punctuation after a path, a query's tail."""
    while len(url) > path_start:
        last = url[-1]
        if query_start >= 0 and len(url) > query_start:
            if _QUERY_END.match(last):
                return url
            url = url[:-1]
            if len(url) == query_start + 1:  # "?" alone is no query
                url = url[:-1]
                query_start = -1
            continue
        if last == ")" and url.count("(") >= url.count(")"):
            return url
        if last in _PATH_NO_END or last == ")":
            url = url[:-1]
            continue
        return url
    return url


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        start = match.start()
        host = match.group("host")
        # A TLD is ASCII or a script's own letters: Ruby's /i does not read ı or İ as i.
        if _glued(text, start) or not _host_is_valid(host) or re.search("[ıİ]", host):
            continue
        url = match.group(0)
        path = match.group("path") or ""
        path_start = match.start("path") - start if path else len(url)
        query_start = match.start("query") - start if match.group("query") else -1
        if query_start >= 0 and len(path) > 1 and _trim(path, 1, -1) != path:
            # A path must end on a valid character before a query can follow it.
            url, query_start = url[:query_start], -1
        if query_start >= 0 and not path:
            path_start = query_start
        url = _trim(url, path_start, query_start)
        tco = _TCO.match(url)
        if tco:
            url = tco.group(0)  # the Ruby gem's t.co rule: no query part
        if len(url) <= MAX_URL_LENGTH:
            spans.append((start, start + len(url)))
    return spans


def countable_text(text: str, url_weight: int = 23) -> str:
    """The text as the validator measures it: URLs as `url_weight` x's, remote mentions short."""
    text = text.strip(_STRIP)
    if _BLANK.fullmatch(text):
        return ""  # Ruby's blank?
    urls = _url_spans(text)
    replacements: list[tuple[int, int, str]] = [(s, e, "x" * url_weight) for s, e in urls]
    for match in _MENTION.finditer(text):
        start, end = match.span()
        domain = match.group("domain")
        if domain is not None:
            # The domain is Ruby [[:word:]] runs joined by "." or "-": cut it where that ends.
            size = 0
            while size < len(domain) and (_is_word(domain[size]) or domain[size] in ".-"):
                size += 1
            domain = domain[:size].rstrip(".-")
            if domain:
                end = match.start("domain") + len(domain)
            else:
                domain, end = None, match.end("user")
        if (start > 0 and (text[start - 1] in "=/" or _is_word(text[start - 1]))) or (
            _END_MENTION.match(text, end)
        ):
            continue  # "@bob@example.com@x": no mention at all
        if any(s < end and start < e for s, e in urls):
            continue  # overlapping entities: the URL wins (remove_overlapping_entities)
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
