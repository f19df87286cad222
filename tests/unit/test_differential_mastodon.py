"""Mastodon's countable length on generated real-world texts, class by class (issue 13).

Each generator builds a text from pieces whose countable form is known from the server's own
rules (Mastodon's StatusLengthValidator after `Status#strip`, its twitter_regex.rb overrides of
twitter-text, `Extractor.extract_mentions_or_lists_with_indices`, libidn's IDNA2003), so the
expectation is written from the rules, never from threadpost's code. Seeded and bounded; the
pass rate of each class is printed in the terminal summary beside the corpora's.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from conformance import record_pass_rate
from mastodon_server.length import status_length
from threadpost.text.count import mastodon_countable_text, mastodon_length
from threadpost.text.graphemes import grapheme_count

CASES_PER_CLASS = 300
URL = "x" * 23  # what every counted URL becomes

# Prose between entities: a space, then words that are no entity in any rule.
PROSE = [
    "Voir",
    "l'été",
    "était",
    "東京都の天気",
    "これは日本語です",
    "Ελλάδα",
    "Москва",
    "🦋",
    "👩🏽‍🔬",
    "ok",
    "42",
    "naïve",
]
DOMAINS = [
    "example.com",
    "ja.wikipedia.org",
    "fr.wikipedia.org",
    "www.lemonde.fr",
    "example.co.jp",
    "sub.example.social",
]
# Path segments that end on a character valid at the end of a path (not sentence punctuation).
PATH_SEGMENTS = [
    "wiki",
    "東京都",
    "日本語",
    "記事",
    "café",
    "Ελλάδα",
    "Москва",
    "🐪",
    "a-b_c",
    "%E6%9D%B1",
    "été-2026",
    "東京都の天気は晴れ",
    "naïve",
    "x.html",
    "Foo_(bar)",
]
# What may directly follow a URL and is not part of it: the path may not end on these.
TRAILERS = ["", ".", ",", "!", ";", ":", "...", "!?", "'", '"', "」"]
QUERY_VALUES = ["café", "東京", "a^b", "x+y", "1%2C2", "fr", "naïve", "Ελλάδα", "日本語", "q_1"]


Case = tuple[str, str]  # (text, the countable text the server measures)


def _prose(rng: random.Random) -> str:
    return " ".join(rng.choice(PROSE) for _ in range(rng.randint(0, 3)))


def _assemble(rng: random.Random, pieces: list[Case]) -> Case:
    """Pieces joined by prose and spaces; the expectation is joined the same way."""
    text: list[str] = []
    expected: list[str] = []
    for piece, counted in pieces:
        gap = _prose(rng)
        gap = f"{gap} " if gap else ""
        text.append(gap + piece)
        expected.append(gap + counted)
    tail = _prose(rng)
    return " ".join(text) + (" " + tail if tail else ""), " ".join(expected) + (
        " " + tail if tail else ""
    )


def _path(rng: random.Random) -> str:
    return "/" + "/".join(rng.choice(PATH_SEGMENTS) for _ in range(rng.randint(1, 3)))


def gen_iri_path(rng: random.Random) -> Case:
    """https URLs with non-ASCII paths, followed by sentence punctuation or glued CJK text."""
    pieces: list[Case] = []
    for _ in range(rng.randint(1, 3)):
        url = f"https://{rng.choice(DOMAINS)}{_path(rng)}"
        form = rng.randrange(4)
        if form == 0:  # sentence punctuation after the URL is not part of it
            trailer = rng.choice(TRAILERS)
            pieces.append((url + trailer, URL + trailer))
        elif form == 1:  # text glued to the URL with no space is part of its path
            glued = rng.choice(["の記事", "を見て", "。次", "、そして"])
            pieces.append((url + glued, URL))
        elif form == 2:  # a parenthesis closes it: "(" and ")" are not path characters
            pieces.append((f"({url})", f"({URL})"))
        else:
            pieces.append((url, URL))
    return _assemble(rng, pieces)


def gen_iri_query(rng: random.Random) -> Case:
    """Queries with IRI characters and "^", then sentence punctuation."""
    pieces: list[Case] = []
    for _ in range(rng.randint(1, 3)):
        pairs = [
            f"{rng.choice(['q', 'lang', 'k'])}={rng.choice(QUERY_VALUES)}"
            for _ in range(rng.randint(1, 3))
        ]
        path = rng.choice(["/search", "/", "/wiki/東京", ""])
        url = f"https://{rng.choice(DOMAINS)}{path}?{'&'.join(pairs)}"
        if rng.random() < 0.2:
            # An ideographic space is an IRI character: the query runs on over it.
            url += "\u3000" + rng.choice(["大阪", "京都"])
        # "」" is an IRI character (U+300D): in a query it is part of the URL.
        trailer = rng.choice([t for t in TRAILERS if t != "」"])
        pieces.append((url + trailer, URL + trailer))
    return _assemble(rng, pieces)


EXTRA_SCHEMES = ["dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini"]


def gen_extra_schemes(rng: random.Random) -> Case:
    """dat/dweb/ipfs/ipns/ssb/gopher/gemini URLs count as 23; ftp:// is no URL for Mastodon."""
    pieces: list[Case] = []
    for _ in range(rng.randint(1, 3)):
        scheme = rng.choice([*EXTRA_SCHEMES, "ftp"])
        if rng.random() < 0.2:
            scheme = scheme.upper()
        host = rng.choice(["gemini.circumlunar.space", "example.com", "docs.ipfs.tech"])
        url = f"{scheme}://{host}" + (_path(rng) if rng.random() < 0.5 else "")
        counted = url if scheme.lower() == "ftp" else URL
        pieces.append((url, counted))
    return _assemble(rng, pieces)


USERS = ["alice", "bob_k", "c.d", "e-f", "gh9"]
REMOTE = ["mastodon.social", "example.com", "fosstodon.org", "social.example.co.jp"]


def gen_mentions(rng: random.Random) -> Case:
    """`@user@domain` counts as `@user`, unless `@`, a Latin accent or `://` follows the match,
    or the domain is longer than 253 characters (then it counts as typed)."""
    pieces: list[Case] = []
    for _ in range(rng.randint(1, 3)):
        user = rng.choice(USERS)
        form = rng.randrange(5)
        if form == 0:
            domain = rng.choice(REMOTE)
            pieces.append((f"@{user}@{domain}", f"@{user}"))
        elif form == 1:  # end_mention_match: followed by an at sign
            domain = rng.choice(REMOTE)
            after = rng.choice(["@x", "@", "＠y"])
            pieces.append((f"@{user}@{domain}{after}", f"@{user}@{domain}{after}"))
        elif form == 2:  # followed by "://"
            domain = rng.choice(REMOTE)
            pieces.append((f"@{user}@{domain}://", f"@{user}@{domain}://"))
        elif form == 3:  # a Latin accent right after the ASCII user name
            accent = rng.choice(["é", "ñ", "ö", "ȩ"])
            domain = rng.choice(REMOTE)
            pieces.append((f"@{user}{accent}@{domain}", f"@{user}{accent}@{domain}"))
        else:  # the 253-character domain cap
            domain = _long_domain(rng.choice([200, 252, 253, 254, 255, 300]))
            counted = f"@{user}" if len(domain) <= 253 else f"@{user}@{domain}"
            pieces.append((f"@{user}@{domain}", counted))
    return _assemble(rng, pieces)


def _long_domain(size: int) -> str:
    """A domain of exactly `size` characters, labels of at most 62."""
    stem = ""
    while len(stem) < size - len(".example"):
        stem += "a" * 62 + "."
    stem = stem[: size - len(".example")]
    if stem.endswith("."):
        stem = stem[:-1] + "a"
    return stem + ".example"


def gen_strip(rng: random.Random) -> Case:
    """Leading and trailing ASCII whitespace does not count; U+00A0 and U+3000 do."""
    body, counted = gen_iri_path(rng) if rng.random() < 0.5 else (_prose(rng) or "ok",) * 2
    lead = "".join(rng.choice([" ", "\n", "\t", "\r\n", "\u3000", "\xa0"]) for _ in range(3))
    trail = "".join(rng.choice([" ", "\n", "\t", "\u3000"]) for _ in range(rng.randint(0, 3)))
    kept_lead = lead.lstrip("\t\n\v\f\r ")
    # Ruby strips only ASCII whitespace and NUL: an ideographic space stops it.
    kept_trail = trail.rstrip("\t\n\v\f\r ")
    return lead + body + trail, kept_lead + counted + kept_trail


def gen_tco(rng: random.Random) -> Case:
    """The Ruby gem's t.co rule: the URL ends with its slug, a query is counted as typed."""
    pieces: list[Case] = []
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for _ in range(rng.randint(1, 3)):
        slug = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 12)))
        url = f"{rng.choice(['https', 'http'])}://t.co/{slug}"
        query = rng.choice(["", "?amp=1", "?s=20&t=abc", "?a=b#123"])
        pieces.append((url + query, URL + query))
    return _assemble(rng, pieces)


def gen_ruby_classes(rng: random.Random) -> Case:
    """Ruby's /i and [[:word:]], not Python's: ſ and K are letters of a user name, ı and İ do
    not match i; ² ½ ① are not word characters, Ⓐ is."""
    pieces: list[Case] = []
    for _ in range(rng.randint(1, 3)):
        domain = rng.choice(REMOTE)
        form = rng.randrange(6)
        if form == 0:  # Kelvin sign and long s match k and s in USERNAME_RE's /i
            user = rng.choice(["ſam", "\u212aai", "aſ", "\u212aſ"])
            pieces.append((f"@{user}@{domain}", f"@{user}"))
        elif form == 1:  # a non-word character before "@": the mention stands
            before = rng.choice(["²", "½", "①", "x²"])
            pieces.append((f"{before}@alice@{domain}", f"{before}@alice"))
        elif form == 2:  # a word character before "@" (Ⓐ is Alphabetic): no mention
            before = rng.choice(["Ⓐ", "ⓩ", "🅐", "é"])
            pieces.append((f"{before}@alice@{domain}", f"{before}@alice@{domain}"))
        elif form == 3:  # the domain cannot start with a non-word character: "@" follows
            first = rng.choice(["①", "²", "½"])
            pieces.append((f"@alice@{first}{domain}", f"@alice@{first}{domain}"))
        elif form == 4:  # a dotless/dotted i is not i: "İnfo" is no TLD for Ruby
            host = rng.choice(["example.İnfo", "example.ınfo", "example.cİty"])
            url = f"https://{host}/x"
            pieces.append((url, url))
        else:  # "ı" may precede a URL (Ruby's [^a-z] keeps it; Python's /i does not)
            pieces.append(("ıhttps://example.com/x", "ı" + URL))
    return _assemble(rng, pieces)


def gen_idna2003(rng: random.Random) -> Case:
    """A domain with a code point unassigned in Unicode 3.2 (emoji, newer letters) fails libidn's
    IDNA2003, so the "URL" counts as typed; assigned non-ASCII domains are URLs."""
    pieces: list[Case] = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            label = rng.choice(["🦄", "🍕pizza", "ᏸ", "ꞵeta", "x🦋y"])
            url = f"https://{label}.example.com" + rng.choice(["", "/path"])
            pieces.append((url, url))
        else:
            label = rng.choice(["café", "münchen", "東京", "ελλάδα", "москва"])
            url = f"https://{label}.example.com" + rng.choice(["", "/path"])
            pieces.append((url, URL))
    return _assemble(rng, pieces)


CLASSES: dict[str, Callable[[random.Random], Case]] = {
    "URL paths (IRI)": gen_iri_path,
    "URL queries (IRI, ^)": gen_iri_query,
    "extra schemes": gen_extra_schemes,
    "mentions (end_mention_match, 253-char domain)": gen_mentions,
    "stripped text": gen_strip,
    "t.co (Ruby gem)": gen_tco,
    "Ruby character classes": gen_ruby_classes,
    "IDNA2003 domains": gen_idna2003,
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_mastodon_counts_as_the_server(name: str) -> None:
    rng = random.Random(f"mastodon {name}")
    failures = []
    for _ in range(CASES_PER_CLASS):
        text, expected = CLASSES[name](rng)
        got = mastodon_length(text)
        if got != grapheme_count(expected):
            failures.append((text, mastodon_countable_text(text.strip()), expected))
    record_pass_rate(
        f"differential Mastodon {name}", CASES_PER_CLASS - len(failures), CASES_PER_CLASS
    )
    assert failures[:5] == []


@pytest.mark.parametrize("name", list(CLASSES))
def test_the_mastodon_test_server_counts_as_the_server(name: str) -> None:
    """The adapter tests' server (tests/mastodon_server) must hold to the same rules."""
    rng = random.Random(f"mastodon {name}")
    failures = []
    for _ in range(CASES_PER_CLASS):
        text, expected = CLASSES[name](rng)
        if status_length(text) != grapheme_count(expected):
            failures.append((text, expected))
    record_pass_rate(
        f"differential Mastodon test server {name}",
        CASES_PER_CLASS - len(failures),
        CASES_PER_CLASS,
    )
    assert failures[:5] == []
