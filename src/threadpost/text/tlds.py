"""The TLD lists and character tables the networks' detection relies on, from package data.

`data/tlds.json` holds two lists, as data: twitter-text's `tld_lib.yml` (Mastodon extracts URLs
with twitter-text) and the npm `tlds` package (Bluesky's `detectFacets` imports it). They differ,
and each platform must use its own. `data/ruby_word.txt` is Ruby's `[[:word:]]` (Mastodon's
mention and hashtag regexes) and `data/punctuation.txt` Unicode 17's `\\p{P}` (Bluesky tags).
"""

from __future__ import annotations

import json
from functools import cache

from threadpost.package_data import read_text


@cache
def _data() -> dict[str, object]:
    text = read_text("data/tlds.json")
    loaded: dict[str, object] = json.loads(text)
    return loaded


@cache
def twitter_text_tlds() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """twitter-text's (generic, country) TLDs, in the library's order."""
    lists = _data()["twitter_text"]
    assert isinstance(lists, dict)
    return tuple(lists["generic"]), tuple(lists["country"])


@cache
def npm_tlds() -> frozenset[str]:
    """The npm `tlds` list Bluesky's reference client checks domains against."""
    values = _data()["npm_tlds"]
    assert isinstance(values, list)
    return frozenset(values)


def _class_body(name: str) -> str:
    """A regex class body for a data file of `first-last` hex code point ranges."""
    text = read_text(f"data/{name}", encoding="ascii")
    parts: list[str] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        first, _, last = line.partition("-")
        parts.append(f"{_class_char(int(first, 16))}-{_class_char(int(last, 16))}")
    return "".join(parts)


def _class_char(code: int) -> str:
    ch = chr(code)
    return "\\" + ch if ch in "\\]^-[" else ch


@cache
def ruby_word_class() -> str:
    """A regex class body matching Ruby's `[[:word:]]` (not Python's `\\w`: no `²½①`, with `Ⓐ`)."""
    return _class_body("ruby_word.txt")


@cache
def punctuation_class() -> str:
    """A regex class body matching `\\p{P}` of Unicode 17, as the Bluesky reference has it."""
    return _class_body("punctuation.txt")
