"""Links, mentions and hashtags, found the way each network finds them.

Two detectors, because the networks disagree:

- Mastodon (server side) extracts URLs with twitter-text's `valid_url` regex, keeps only those
  with an `http(s)://` scheme (`extract_url_without_protocol: false`), and finds mentions and
  hashtags with its own `Account::MENTION_RE` and `Tag::HASHTAG_RE`.
- Bluesky has no server-side detection: the reference client's `detectFacets`
  (@atproto/api `rich-text/detection.ts`) decides, links include bare domains whose TLD is in
  the npm `tlds` list, and facets are addressed in UTF-8 bytes.

The rules below are re-implemented from those projects' documented regexes (facts, not code)
and measured against their own conformance data in tests/unit/test_corpora_*.py.

Offsets are code points (Python `str` indices) plus UTF-8 byte offsets, computed in one
incremental pass per text.
"""

from __future__ import annotations

import re
import stringprep
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from typing import Literal

from threadpost.text.graphemes import grapheme_count
from threadpost.text.split import merge_spans
from threadpost.text.tlds import npm_tlds, punctuation_class, ruby_word_class, twitter_text_tlds

EntityKind = Literal["link", "mention", "tag", "cashtag"]


@dataclass(frozen=True)
class Entity:
    """One link, mention, hashtag or cashtag inside a text.

    `value` per kind: link, the full URI (a bare domain gets `https://`); mention, the Bluesky
    handle without `@`, or Mastodon's `user` / `user@domain`; tag, the name without `#`/`＃`;
    cashtag, `$` plus the ticker in upper case (`$AAPL`), which is what Bluesky stores in its
    `#tag` facet feature for a cashtag.
    """

    kind: EntityKind
    start: int  # code-point offset, inclusive
    end: int  # code-point offset, exclusive
    byte_start: int  # UTF-8 byte offset, inclusive
    byte_end: int  # UTF-8 byte offset, exclusive
    text: str  # exactly as written: text[start:end]
    value: str


# (start, end, kind, value): what the detectors produce before byte offsets are added.
_Raw = tuple[int, int, EntityKind, str]


def _utf8_len(text: str) -> int:
    if text.isascii():
        return len(text)
    # surrogatepass: a lone surrogate should never reach here, but must not crash counting.
    return len(text.encode("utf-8", "surrogatepass"))


def _finish(text: str, raw: Iterable[_Raw], *, overlaps: bool = False) -> list[Entity]:
    """Sort by start and add byte offsets.

    Overlapping entities are dropped (the earlier wins, as twitter-text does) unless `overlaps`
    (Bluesky's reference keeps them all; its sort is stable, so at one start the detection
    order stands).
    """
    if overlaps:
        kept = sorted(raw, key=lambda r: r[0])
    else:
        kept = []
        last_end = -1
        for item in sorted(raw, key=lambda r: (r[0], -r[1])):
            if item[0] < last_end:
                continue
            kept.append(item)
            last_end = item[1]
    ascii_text = text.isascii()
    entities: list[Entity] = []
    cp = 0
    byte = 0
    for start, end, kind, value in kept:
        if ascii_text:
            byte_start, byte_end = start, end
        else:
            # Starts are sorted, so the prefix is encoded once: linear overall.
            byte_start = byte + _utf8_len(text[cp:start])
            byte_end = byte_start + _utf8_len(text[start:end])
            cp, byte = start, byte_start
        entities.append(Entity(kind, start, end, byte_start, byte_end, text[start:end], value))
    return entities


# --------------------------------------------------------------------------------------------
# Bluesky: the reference client's detectFacets.

# JavaScript's \s (what the reference regexes mean by whitespace), spelled out because Python's
# \s differs (it includes U+001C..U+001F and U+0085 and lacks U+FEFF).
_JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Invisible characters that end a Bluesky tag (the reference TAG_REGEX excludes them).
_TAG_BREAKERS = _JS_WS + "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"

# The reference patterns start with `(?:^|(?<=[\s(]))`: at the text's start or after a space
# (or "("). Written that way `re` tries them at every character of the text; each is written
# here starting with its sigil instead, the look-behind checking the character before the
# sigil (`(?<![^\s(]@)`: none, or a space or "("), so `re` jumps from sigil to sigil. Same
# matches (tests/unit/test_entities_bluesky.py compares them with the reference form).
_BSKY_MENTION = re.compile(rf"@(?<![^{_JS_WS}(]@)([a-zA-Z0-9.-]+)\b", re.ASCII)
_BSKY_LINK_BODY = (
    rf"(?P<link>https?://[^{_JS_WS}]+|(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)[^{_JS_WS}]*)"
)
# A link has no sigil: a link at the text's start, then the space (or "(") before a link and
# the link. A link runs to the next space or the text's end, so the space a later link needs
# is never inside the link before it: the same matches as the reference form.
_BSKY_LINK_HEAD = re.compile(_BSKY_LINK_BODY, re.ASCII | re.IGNORECASE)
_BSKY_LINK_AFTER = re.compile(rf"[{_JS_WS}(]{_BSKY_LINK_BODY}", re.ASCII | re.IGNORECASE)
_BSKY_TAG = re.compile(rf"[#＃](?<![^{_JS_WS}][#＃])([^{_TAG_BREAKERS}]*)")
_BSKY_CASHTAG = re.compile(
    rf"\$(?<![^{_JS_WS}(]\$)([A-Za-z][A-Za-z0-9]{{0,4}})"
    rf"(?=[{_JS_WS}]|$|[.,;:!?)\"'\u2019])"
)
_LINK_TRAILING = frozenset(".,;:!?")
#: The reference client drops a tag longer than 64 graphemes.
BLUESKY_TAG_MAX_GRAPHEMES = 64


def _npm_domain(domain: str) -> bool:
    """The reference `isValidDomain`: ends in `.` + a TLD of the npm list (case-sensitive)."""
    dot = domain.rfind(".")
    return dot >= 0 and domain[dot + 1 :] in npm_tlds()


@cache
def _punct() -> re.Pattern[str]:
    # \p{P} of current Unicode (the reference runs on a current Node): Python 3.11's unicodedata
    # is Unicode 14 and misses U+11F43 and the other punctuation added since.
    return re.compile(f"[{punctuation_class()}]")


def _is_punct(ch: str) -> bool:
    return _punct().match(ch) is not None


def _bluesky_links(text: str) -> list[re.Match[str]]:
    """The reference LINK_REGEX's matches, in order; the link itself is each match's group
    `link` (see `_BSKY_LINK_AFTER`)."""
    head = _BSKY_LINK_HEAD.match(text)
    found = [head] if head is not None else []
    found.extend(_BSKY_LINK_AFTER.finditer(text, head.end() if head is not None else 0))
    return found


def _bluesky_raw(text: str) -> list[_Raw]:
    raw: list[_Raw] = []
    if "@" in text:
        for m in _BSKY_MENTION.finditer(text):
            handle = m.group(1)
            if _npm_domain(handle) or handle.endswith(".test"):
                raw.append((m.start(), m.end(), "mention", handle))
    if "." in text or "://" in text:  # a scheme needs no dot: http://localhost:3000/x
        for m in _bluesky_links(text):
            uri = m.group("link")
            start, end = m.span("link")
            if not uri.startswith("http"):
                domain = m.group("domain")
                if not domain or not _npm_domain(domain):
                    continue
                uri = "https://" + uri
            if uri[-1] in _LINK_TRAILING:
                uri, end = uri[:-1], end - 1
            if uri.endswith(")") and "(" not in uri:
                uri, end = uri[:-1], end - 1
            raw.append((start, end, "link", uri))
    if "#" in text or "＃" in text:
        for m in _BSKY_TAG.finditer(text):
            body = m.group(1)
            # The reference regex needs one character that is neither an ASCII digit nor
            # punctuation, and refuses a tag starting with U+FE0F (keycap "#️⃣").
            if not body or body[0] == "\ufe0f":
                continue
            if not any(ch not in "0123456789" and not _is_punct(ch) for ch in body):
                continue
            tag = body
            while tag and _is_punct(tag[-1]):
                tag = tag[:-1]
            if not tag or grapheme_count(tag) > BLUESKY_TAG_MAX_GRAPHEMES:
                continue
            raw.append((m.start(), m.start() + 1 + len(tag), "tag", tag))
    if "$" in text:
        for m in _BSKY_CASHTAG.finditer(text):
            raw.append((m.start(), m.end(), "cashtag", "$" + m.group(1).upper()))
    return raw


def bluesky_entities(text: str) -> list[Entity]:
    """Links, @handle mentions, #tags and $cashtags as Bluesky's reference client detects them.

    Sorted by start. Like the reference, overlapping detections are all kept (a mention or a
    cashtag inside a link, a link inside a tag). Mentions are not resolved to DIDs here; a
    cashtag is the reference's tag facet with the value `$` + ticker in upper case.
    """
    return _finish(text, _bluesky_raw(text), overlaps=True)


# --------------------------------------------------------------------------------------------
# Mastodon: twitter-text URLs (scheme required), Account::MENTION_RE, Tag::HASHTAG_RE.
# Its patterns that take longest to compile are compiled by their first use (`@cache`): a
# thread for Bluesky alone never compiles them.

# twitter-text's character sets (regex.rb), as class bodies.
_TT_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TT_DIRECTIONAL = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TT_INVALID = "\ufffe\ufeff\uffff"
_TT_LATIN_ACCENTS = (
    "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    "\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_TT_PUNCT = r"!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~"
_TT_CTRL = "\x00-\x1f\x7f"
# \p{Cyrillic} and \p{Pd}, which Python's re lacks.
_CYRILLIC = "\u0400-\u052f\u1c80-\u1c8f\u1d2b\u1d78\u2de0-\u2dff\ua640-\ua69f\ufe2e\ufe2f"
_DASH_PUNCT = (
    "\\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c"
    "\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
#: twitter-text's MAX_URL_LENGTH: a longer URL is not an entity (so Mastodon counts it in full).
MAX_URL_LENGTH = 4096
#: Mastodon's Extractor::MAX_DOMAIN_LENGTH: a longer mention domain makes no mention.
MAX_MENTION_DOMAIN_LENGTH = 253

# Ruby's \p{White_Space}: Mastodon's URL paths run over anything else.
_WHITE_SPACE = "\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# RFC 3987 ucschar + iprivate, as Mastodon's twitter_regex.rb lists them: valid in a query (IRI).
_UCHARS = (
    "\xa0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
#: The schemes Mastodon's valid_url accepts (twitter_regex.rb); each such URL counts as 23.
URL_SCHEMES = ("https", "http", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini")

# A URL holds no ASCII whitespace (nor U+0085); other spaces can sit in an IRI query.
_TT_TOKEN = re.compile("[^\t-\r \x85]+")
# The last ASCII whitespace before the end of the searched range (`search` with `endpos`).
_TT_LAST_SPACE = re.compile("[\t-\r \x85][^\t-\r \x85]*\\Z")
# twitter-text's conformance data refuses a t.co slug over 40 characters; whether the Ruby gem
# enforces it is not certain, and refusing counts the URL in full (more): keep it.
_MAX_TCO_SLUG_LENGTH = 40


@cache
def _tco() -> re.Pattern[str]:
    # Ruby's valid_tco_url (the gem's, unlike the JavaScript port, takes no query part).
    return re.compile(r"[hH][tT][tT][pP][sSſ]?://[tT]\.[cC][oO]/([a-zA-Z0-9ſK]+)")


def _ruby_ci(ch: str) -> str:
    """A class matching what Ruby's /i matches for `ch`: its case variants, by Unicode folding.

    Not Python's IGNORECASE, which also lets `ı` and `İ` match `i` (Ruby does not); like Ruby,
    `ſ` matches `s` and the Kelvin sign `K` matches `k`.
    """
    variants = {ch, ch.lower(), ch.upper(), ch.casefold()}
    variants |= {c.lower() for c in variants} | {c.upper() for c in variants}
    folded = {v for v in variants if (len(v) == 1 and v not in "ıİ") or v == ch}
    if ch.lower() == "s":
        folded.add("ſ")
    elif ch.lower() == "k":
        folded.add("K")
    elif ch in "σς":
        folded |= {"σ", "ς", "Σ"}
    if len(folded) == 1:
        return re.escape(ch)
    return "[" + "".join(re.escape(v) for v in sorted(folded)) + "]"


def _ruby_ci_word(word: str) -> str:
    return "".join(_ruby_ci(ch) for ch in word)


# Ruby's case-insensitive [a-z]: the Latin letters, ſ and K.
_AZ = "a-zA-Zſ\u212a"


_TrieNode = dict[str, "_TrieNode"]


def _trie(words: Iterable[str], letter: Callable[[str], str] = _ruby_ci) -> str:
    """A regex matching the same words as `a|b|c...`, as a prefix tree, longest tried first;
    each character as `letter` spells it (Ruby's /i by default).

    Python's re tries a 1,574-way alternation one branch at a time (12 µs per URL); the tree
    decides in a few steps. Equivalent to twitter-text's list order: with the look-ahead that
    follows a TLD, only two pairs of TLDs can both match at one place (嘉里/嘉里大酒店,
    भारत/भारतम्), and the list puts the longer one first, as the tree does.
    """
    tree: _TrieNode = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: _TrieNode) -> str:
        ends_here = "" in node
        branches = [letter(ch) + build(node[ch]) for ch in sorted(k for k in node if k)]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends_here else body

    return build(tree)


@cache
def _tt_url_regex() -> re.Pattern[str]:
    """Mastodon's `valid_url` (twitter-text's, with twitter_regex.rb's overrides), compiled once.

    The overrides: a path runs over any non-space character but `<>()?`, ends on one that is not
    sentence punctuation; a query takes IRI characters and `^`; more schemes than http(s).
    Case-insensitive the way Ruby's /i is (see `_ruby_ci`), so compiled without IGNORECASE.
    Group `tld`: the domain's TLD (or punycode label).
    """
    return _tt_url_pattern(exact_tlds=True)


@cache
def _tt_url_regex_fast() -> re.Pattern[str]:
    """`_tt_url_regex` with its two TLD lists under Python's IGNORECASE instead of a class
    per character: ~30 ms to compile instead of ~100 ms (the lists' 1,574 TLDs are most of
    the pattern). Python's IGNORECASE accepts every variant Ruby's /i does for each TLD
    character, and more (ı and İ for i, and others outside ASCII; checked by
    tests/unit/test_entities_mastodon.py), so wherever the exact pattern matches this one
    matches too, at the same place or earlier; a match whose TLD is ASCII is one the exact
    pattern makes as well (on ASCII both accept the same case variants). `_mastodon_urls`
    goes to the exact pattern for any token where a TLD is not ASCII."""
    return _tt_url_pattern(exact_tlds=False)


def _tt_url_pattern(*, exact_tlds: bool) -> re.Pattern[str]:
    generic, country = twitter_text_tlds()
    d = f"[^{_TT_DIRECTIONAL}{_TT_PUNCT}{_TT_CTRL}{_TT_INVALID}{_TT_SPACES}]"
    subdomain = rf"(?:(?:{d}(?:[_-]|{d})*)?{d}\.)"
    domain_name = rf"(?:(?:{d}(?:-|{d})*)?{d}\.)"
    after_tld = rf"(?=[^0-9{_AZ}@+-]|$)"
    if exact_tlds:
        gtld = rf"(?:{_trie(generic)}{after_tld})"
        cctld = rf"(?:{_trie(country)}{after_tld})"
    else:
        gtld = rf"(?:(?i:{_trie(generic, re.escape)}){after_tld})"
        cctld = rf"(?:(?i:{_trie(country, re.escape)}){after_tld})"
    punycode = rf"(?:{_ruby_ci_word('xn--')}[0-9{_AZ}]+)"
    domain = rf"(?:{subdomain}*{domain_name}(?P<tld>{gtld}|{cctld}|{punycode}))"
    # twitter-text's own path characters: twitter_regex.rb redefines the balanced parentheses
    # only after interpolating the old ones into the path-ending class, so both are in use.
    g_old = rf"[{_AZ}{_CYRILLIC}0-9!*';:=+,.$/%#\[\]{_DASH_PUNCT}_~&|@{_TT_LATIN_ACCENTS}]"
    balanced_old = rf"(?:\((?:{g_old}+|(?:{g_old}*\({g_old}+\){g_old}*))\))"
    g = rf"[^{_WHITE_SPACE}<>()?]"
    balanced = rf"(?:\((?:{g}+|(?:{g}*\({g}+\){g}*))\))"
    path_end = rf"(?:[^{_WHITE_SPACE}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{balanced_old})"
    path = rf"(?:(?:{g}*(?:{balanced}{g}*)*{path_end})|(?:{g}+/))"
    query = rf"[{_AZ}0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]"
    query_end = rf"[{_AZ}0-9_&=#/\-{_UCHARS}]"
    schemes = "|".join(_ruby_ci_word(scheme) for scheme in URL_SCHEMES)
    return re.compile(
        rf"(?:[^{_AZ}0-9@＠$#＃{_TT_INVALID}]|[{_TT_DIRECTIONAL}]|^)"
        rf"(?P<url>(?P<protocol>(?:{schemes})://)?(?P<domain>{domain})"
        rf"(?::[0-9]+)?(?P<path>/{path}*)?(?:\?{query}*{query_end})?)",
        re.MULTILINE,
    )


@lru_cache(maxsize=4096)
def _idna_growth(domain: str) -> int | None:
    """How many characters IDNA (punycode) encoding adds to `domain`; None if it cannot."""
    if domain.isascii():
        return 0 if all(0 < len(label) < 64 for label in domain.split(".")) else None
    # Mastodon's IDN library is libidn's IDNA2003, which refuses code points unassigned in
    # Unicode 3.2 (emoji, most scripts added since). Python's codec is IDNA2003 too (nameprep on
    # unicodedata.ucd_3_2_0) but allows unassigned code points: check them first.
    if any(stringprep.in_table_a1(ch) for ch in domain):
        return None
    try:
        encoded = domain.encode("idna")
    except UnicodeError:
        return None
    return max(0, len(encoded) - len(domain))


def _valid_url_length(url_length: int, domain: str) -> bool:
    """twitter-text's is_valid_domain for a URL with a scheme: IDNA-encodable, ≤ 4096 long."""
    growth = _idna_growth(domain)
    return growth is not None and url_length + growth <= MAX_URL_LENGTH


#: Texts whose Mastodon URLs and mentions are remembered: a planner counts each post's text
#: three or four times (the chunk checked, its entities, its length, whether it fits), and a
#: thread of a long essay has thousands of posts.
_TEXTS_REMEMBERED = 4096


def _remembered(find: Callable[[str], list[_Raw]]) -> Callable[[str], list[_Raw]]:
    """`find` with its answers remembered for the last `_TEXTS_REMEMBERED` texts (each call
    gets a list of its own: callers add to them)."""
    cached = lru_cache(maxsize=_TEXTS_REMEMBERED)(lambda text: tuple(find(text)))

    @wraps(find)
    def remembered(text: str) -> list[_Raw]:
        return list(cached(text))

    return remembered


@_remembered
def _mastodon_urls(text: str) -> list[_Raw]:
    """URLs with a scheme (`URL_SCHEMES`), as Mastodon's twitter-text extracts them.

    Indices in code points. A t.co URL stops after its slug; a URL whose domain IDNA2003
    refuses, or that is longer than 4096 characters once punycoded, is no URL (counted as typed).
    """
    if "://" not in text:
        return []
    found: list[_Raw] = []
    # A URL never contains ASCII whitespace, so each whitespace-separated token can be
    # scanned alone, and only tokens holding "://" can yield a URL with a scheme. Inside a
    # token the match is tried only where a URL can begin (see _url_candidates): trying every
    # position, as re.finditer does, is quadratic on long runs of letters (CJK text).
    for token_start, token_end in _scheme_tokens(text):
        matches = _scan_token(_tt_url_regex_fast(), text, token_start, token_end)
        if not all(m.group("tld").isascii() for m in matches):
            matches = _scan_token(_tt_url_regex(), text, token_start, token_end)
        for m in matches:
            if not m.group("protocol"):
                continue  # extract_url_without_protocol: false
            url = m.group("url")
            start, end = m.start("url"), m.end("url")
            tco = _tco().match(url)
            if tco:
                if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group(0)  # a t.co URL ends with its slug
                end = start + len(url)
            if not _valid_url_length(len(url), m.group("domain")):
                continue
            found.append((start, end, "link", url))
    return found


def _scheme_tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of each token of `text` (a run without ASCII whitespace, `_TT_TOKEN`)
    holding "://", in order: found from each "://", so the text's other tokens cost nothing."""
    tokens: list[tuple[int, int]] = []
    at = text.find("://")
    while at >= 0:
        token = _TT_TOKEN.match(text, _token_start(text, at))
        assert token is not None  # "://" holds no whitespace
        tokens.append(token.span())
        at = text.find("://", token.end())
    return tokens


def _token_start(text: str, at: int) -> int:
    """Where the token holding position `at` starts: after the last whitespace before it,
    looked for in a window that widens (tokens are short; a long one costs its length)."""
    window = 64
    while True:
        low = max(0, at - window)
        space = _TT_LAST_SPACE.search(text, low, at)
        if space is not None:
            return space.start() + 1
        if low == 0:
            return 0
        window *= 4


def _scan_token(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[re.Match[str]]:
    """What re.finditer(text, start - 1, end) yields, trying only possible start positions."""
    matches: list[re.Match[str]] = []
    first = max(start - 1, 0)
    # Most tokens begin with their URL: then the first position matches and is the leftmost.
    head = pattern.match(text, first, end)
    if head is not None:
        matches.append(head)
        first = head.end()
        if "://" not in text[first:end]:
            return matches
    resume = first
    for at in _url_candidates(text, max(first, start), end):
        if at < resume:
            continue
        m = pattern.match(text, at, end)
        if m is not None:
            matches.append(m)
            resume = m.end()
    return matches


@cache
def _scheme() -> re.Pattern[str]:
    return re.compile("(?:" + "|".join(_ruby_ci_word(s) for s in URL_SCHEMES) + ")://")


@cache
def _domain_run() -> re.Pattern[str]:
    d = f"[^{_TT_DIRECTIONAL}{_TT_PUNCT}{_TT_CTRL}{_TT_INVALID}{_TT_SPACES}]"
    return re.compile(f"(?:{d}|[_-])+")


def _url_candidates(text: str, start: int, end: int) -> list[int]:
    """Every position in text[start-1:end] where twitter-text's valid_url could match.

    A match is one preceding character (or a line start) and then either a scheme or a domain.
    A domain runs over domain characters, "_" and "-" up to a ".", so it can only begin inside
    a maximal run of those that is followed by "."; a scheme begins at "<scheme>://". Both
    positions and the ones just before them (the preceding character) are returned, sorted.
    """
    starts: set[int] = set()
    for m in _scheme().finditer(text, start, end):
        starts.add(m.start())
    for run in _domain_run().finditer(text, start, end):
        if run.end() < end and text[run.end()] == ".":
            starts.update(range(run.start(), run.end()))
    candidates: set[int] = set()
    for at in starts:
        candidates.add(at)
        if at > 0:
            candidates.add(at - 1)
    return sorted(candidates)


def _word() -> str:
    # Ruby's [[:word:]]: Python's \w also has ² ½ ① (No) and lacks marks and Ⓐ.
    return ruby_word_class()


@cache
def _word_char() -> re.Pattern[str]:
    # Python's re expands a class's ~140,000 code points again in every place a pattern names
    # it (≈5 ms each; Mastodon's mention and hashtag rules name [[:word:]] nine times): it is
    # compiled once, here, and the rules' shapes are matched on a string of character classes.
    return re.compile(f"[{_word()}]")


def _is_word(ch: str) -> bool:
    return _word_char().match(ch) is not None


_ALNUM = re.compile(r"[^\W_]")  # Ruby \p{Alnum}, approximated by letters and numbers
_ALPHA = re.compile(r"[^\W\d_]")  # Ruby [[:alpha:]], approximated by Unicode letters
_TAG_SEPARATORS = "_\u00b7\u30fb\u200c"

# Tag::HASHTAG_NAME_PAT (Mastodon 4.3), [[:word:]] as W, the separators as S, [[:alpha:]] as A:
#   W (W|S)* (A|S) (W|S)* W  |  W* A W*
# matched on one digit per character, its classes as bits: 1 W, 2 S, 4 A.
_W, _WS, _AS, _A = "[1357]", "[123567]", "[2-7]", "[4-7]"


@cache
def _tag_shape() -> re.Pattern[str]:
    return re.compile(f"{_W}{_WS}*{_AS}{_WS}*{_W}|{_W}*{_A}{_W}*")


@cache
def _domain_shape() -> re.Pattern[str]:
    # Account::MENTION_RE's domain part, [[:word:]]+([.-]+[[:word:]]+)*: W as w, [.-] as a dot.
    return re.compile(r"w+(?:\.+w+)*")


@cache
def _username() -> re.Pattern[str]:
    # USERNAME_RE is /i: in Ruby that lets ſ and K (Kelvin) match s and k.
    return re.compile(rf"[{_AZ}0-9_]+(?:[.-]+[{_AZ}0-9_]+)*")


#: Each character's class digit for `_tag_shape` (and "w", "." or "" for a mention's domain),
#: by character: a text repeats its characters, and a look-up is cheaper than three tests.
_TAG_CLASS_OF: dict[str, str] = {}
_DOMAIN_CLASS_OF: dict[str, str] = {}


def _tag_classes(ch: str) -> str:
    bits = (
        (1 if _is_word(ch) else 0)
        | (2 if ch in _TAG_SEPARATORS else 0)
        | (4 if _ALPHA.match(ch) else 0)
    )
    symbol = _TAG_CLASS_OF[ch] = "01234567"[bits]
    return symbol


def _domain_class(ch: str) -> str:
    symbol = _DOMAIN_CLASS_OF[ch] = "." if ch in ".-" else "w" if _is_word(ch) else ""
    return symbol


def _tag_end(text: str, sigil: int) -> int | None:
    """Where the hashtag whose `#` is at `sigil` ends (Tag::HASHTAG_RE from the sigil on)."""
    classes: list[str] = []
    known = _TAG_CLASS_OF.get
    at, size = sigil + 1, len(text)
    while at < size:
        ch = text[at]
        symbol = known(ch) or _tag_classes(ch)
        if symbol == "0":
            break
        classes.append(symbol)
        at += 1
    shape = _tag_shape().match("".join(classes))
    return sigil + 1 + shape.end() if shape else None


def _after_tag_boundary(before: str) -> bool:
    # Tag::HASHTAG_RE's (?<![=/)\p{Alnum}])
    return before in "=/)" or _ALNUM.match(before) is not None


def _mention_end(text: str, sigil: int) -> int | None:
    """Where the mention whose `@` is at `sigil` ends (Account::MENTION_RE from the sigil on:
    @user, then @domain when one follows)."""
    user = _username().match(text, sigil + 1)
    if user is None:
        return None
    end = user.end()
    if text.startswith("@", end):
        classes: list[str] = []
        known = _DOMAIN_CLASS_OF.get
        at, size = end + 1, len(text)
        while at < size:
            ch = text[at]
            symbol = known(ch)
            if symbol is None:
                symbol = _domain_class(ch)
            if not symbol:
                break
            classes.append(symbol)
            at += 1
        domain = _domain_shape().match("".join(classes))
        if domain:  # the domain part is optional: without one, the mention ends at the user
            end += 1 + domain.end()
    return end


def _after_mention_boundary(before: str) -> bool:
    # Account::MENTION_RE's (?<![=/[:word:]])
    if before in "=/":
        return True
    symbol = _DOMAIN_CLASS_OF.get(before)
    return (symbol if symbol is not None else _domain_class(before)) == "w"


def _scan_anchored(
    text: str,
    sigils: str,
    not_after: Callable[[str], bool],
    end_of: Callable[[str, int], int | None],
) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of the entities that start at a sigil character, left to
    right: `end_of(text, at)` is where the one starting at `at` ends (None: none does), and
    none starts right after a character `not_after` accepts.

    Scanning from each sigil found by str.find, instead of letting re try every position with a
    look-behind first, is the same search and several times faster on post-sized texts."""
    found_spans: list[tuple[int, int]] = []
    pos = 0
    size = len(text)
    # Next occurrence of each sigil, refreshed only once passed: re-finding an absent sigil
    # (＃) from every position would rescan the rest of the text each time (quadratic).
    next_at = {ch: text.find(ch) for ch in sigils}
    while pos < size:
        for ch, at in next_at.items():
            if 0 <= at < pos:
                next_at[ch] = text.find(ch, pos)
        found = min((i for i in next_at.values() if i >= 0), default=-1)
        if found < 0:
            break
        if found > 0 and not_after(text[found - 1]):
            pos = found + 1
            continue
        end = end_of(text, found)
        if end is None:
            pos = found + 1
            continue
        found_spans.append((found, end))
        pos = end
    return found_spans


@cache
def _end_mention() -> re.Pattern[str]:
    # twitter-text's end_mention_match: a mention followed by one of these is no mention.
    return re.compile(f"[@＠{_TT_LATIN_ACCENTS}]|://")


_TRAILING_HTTP = re.compile(r"(.+?)(https?)\Z", re.DOTALL)


@_remembered
def _mastodon_mentions(text: str) -> list[_Raw]:
    if "@" not in text:
        return []
    found: list[_Raw] = []
    for start, end in _scan_anchored(text, "@", _after_mention_boundary, _mention_end):
        if _end_mention().match(text, end):
            continue  # "@alice@example.com@x", "@alicé", "@alice://": counted as typed
        screen_name = text[start + 1 : end]
        _, _, domain = screen_name.partition("@")
        if domain and len(domain) > MAX_MENTION_DOMAIN_LENGTH:
            continue
        found.append((start, end, "mention", screen_name))
    return found


def _mastodon_tags(text: str) -> list[_Raw]:
    if "#" not in text and "＃" not in text:
        return []
    found: list[_Raw] = []
    for start, end in _scan_anchored(text, "#＃", _after_tag_boundary, _tag_end):
        name = text[start + 1 : end]
        # Mastodon's extractor: "#foohttp://x" is the tag "foo" followed by a URL.
        if text.startswith("://", end):
            trailing = _TRAILING_HTTP.match(name)
            if trailing:
                name = trailing.group(1)
                end -= len(trailing.group(2))
        found.append((start, end, "tag", name))
    return found


def mastodon_entities(text: str) -> list[Entity]:
    """http(s) URLs, @user / @user@domain mentions and #hashtags as Mastodon finds them.

    Sorted by start and non-overlapping (twitter-text's rule: the entity that starts first wins).
    """
    return _finish(text, _mastodon_urls(text) + _mastodon_mentions(text) + _mastodon_tags(text))


def mastodon_counted_spans(text: str) -> list[tuple[int, int, EntityKind, str]]:
    """What Mastodon's StatusLengthValidator rewrites: http(s) URLs and mentions.

    (start, end, kind, value) in code points, sorted, overlaps removed the twitter-text way.
    No byte offsets: this is the hot path of `fits()`.
    """
    kept: list[_Raw] = []
    last_end = -1
    for item in sorted(_mastodon_urls(text) + _mastodon_mentions(text)):
        if item[0] >= last_end:
            kept.append(item)
            last_end = item[1]
    return kept


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Code-point spans a splitter must not break inside: any entity on either network.

    Sorted, merged where they overlap or touch.
    """
    return merge_spans(
        (r[0], r[1])
        for r in _bluesky_raw(text)
        + _mastodon_urls(text)
        + _mastodon_mentions(text)
        + _mastodon_tags(text)
    )
