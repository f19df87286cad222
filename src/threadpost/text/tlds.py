"""The TLD lists each network's link detection relies on, loaded once from package data.

`data/tlds.json` holds two lists, as data: twitter-text's `tld_lib.yml` (Mastodon extracts URLs
with twitter-text) and the npm `tlds` package (Bluesky's `detectFacets` imports it). They differ,
and each platform must use its own.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _data() -> dict[str, object]:
    text = resources.files("threadpost").joinpath("data/tlds.json").read_text(encoding="utf-8")
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


@cache
def word_extra_class() -> str:
    """A regex class body of Mn/Mc/Me/Pc code points: what Ruby's [[:word:]] has beyond `\\w`."""
    text = resources.files("threadpost").joinpath("data/word_extra.txt").read_text(encoding="ascii")
    parts: list[str] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        first, _, last = line.partition("-")
        parts.append(f"{chr(int(first, 16))}-{chr(int(last, 16))}")
    return "".join(parts)
