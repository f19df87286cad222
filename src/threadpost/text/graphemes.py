"""Extended grapheme clusters, counted the way the networks count them.

Bluesky counts with ICU (`Intl.Segmenter`, Unicode 17 on a current Node) and Mastodon with
Ruby's `each_grapheme_cluster`. `ugrapheme` (Unicode 16 rules) agreed with ICU on 5,000/5,000
tricky strings, where `regex`'s `\\X` and the `grapheme` package did not; it is the newest
release there is (0.8). Unicode 17 widened rule GB9c (no break inside a conjunct: consonant,
linker, consonant) from six Indic scripts to Khmer, Myanmar, Balinese, Javanese and more;
those joins are applied here on top of ugrapheme's clusters, from `data/conjuncts.txt`.
See tests/unit/test_graphemes.py for the conformance runs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from ugrapheme import grapheme_len, grapheme_offsets, grapheme_split

from threadpost.package_data import read_text

# InCB=Extend beyond the marks (Mn, Me): ZWJ, emoji modifiers, tag characters.
_EXTEND_MORE = re.compile("[\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


@cache
def _conjunct_data() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    """(linkers, consonants, a pattern finding any linker) of Unicode 17's GB9c."""
    text = read_text("data/conjuncts.txt", encoding="ascii")
    sets: dict[str, set[str]] = {"linker": set(), "consonant": set()}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        kind, _, span = line.partition(" ")
        first, _, last = span.partition("-")
        sets[kind].update(chr(cp) for cp in range(int(first, 16), int(last, 16) + 1))
    linkers = frozenset(sets["linker"])
    pattern = re.compile("[" + "".join(sorted(linkers)) + "]")
    return linkers, frozenset(sets["consonant"]), pattern


def _ends_in_linked_consonant(cluster: str, linkers: frozenset[str]) -> bool:
    """Whether `cluster` ends with consonant [extend | linker]* linker [extend | linker]*."""
    _, consonants, _ = _conjunct_data()
    seen_linker = False
    at = len(cluster) - 1
    while at >= 0:
        ch = cluster[at]
        if ch in linkers:
            seen_linker = True
        elif not (unicodedata.category(ch) in ("Mn", "Me") or _EXTEND_MORE.match(ch)):
            break
        at -= 1
    return seen_linker and at >= 0 and cluster[at] in consonants


def _clusters(text: str) -> list[str]:
    """ugrapheme's clusters, joined where Unicode 17's GB9c forbids a break."""
    clusters: list[str] = list(grapheme_split(text))
    linkers, consonants, find_linker = _conjunct_data()
    if find_linker.search(text) is None:
        return clusters
    joined: list[str] = []
    for cluster in clusters:
        if joined and cluster[0] in consonants and _ends_in_linked_consonant(joined[-1], linkers):
            joined[-1] += cluster
        else:
            joined.append(cluster)
    return joined


def grapheme_count(text: str) -> int:
    """How many user-perceived characters (extended grapheme clusters) `text` holds."""
    if text.isascii():
        # Every ASCII character is its own cluster except CR LF, which is one.
        return len(text) - text.count("\r\n")
    if _conjunct_data()[2].search(text) is None:
        return int(grapheme_len(text))
    return len(_clusters(text))


def grapheme_count_without_conjuncts(text: str) -> int:
    """Clusters under the rules before Unicode 15.1, which had no GB9c: a consonant after a
    virama starts a new cluster ("क्ष" is 2).

    Ruby's grapheme clusters (Mastodon's `each_grapheme_cluster`) follow the Unicode version
    of the server's Ruby, 15.0 on Ruby 3.3/3.4. Counting this way is never fewer than a server
    with newer rules, so it is the safe count for Mastodon.
    """
    if text.isascii():
        return len(text) - text.count("\r\n")
    linkers, consonants, find_linker = _conjunct_data()
    if find_linker.search(text) is None:
        return int(grapheme_len(text))
    count = 0
    for cluster in grapheme_split(text):
        count += 1
        for at in range(1, len(cluster)):
            if cluster[at] in consonants and _ends_in_linked_consonant(cluster[:at], linkers):
                count += 1
    return count


def grapheme_boundaries(text: str) -> list[int]:
    """Code-point offsets where clusters start, followed by `len(text)`.

    Always starts with 0 and ends with `len(text)`, so `""` gives `[0]` and
    `len(grapheme_boundaries(t)) - 1 == grapheme_count(t)`. Cluster i is
    `text[b[i]:b[i + 1]]`; a splitter may cut `text` at any offset in the list and nowhere else.
    """
    if not text:
        return [0]
    if text.isascii() or _conjunct_data()[2].search(text) is None:
        # ugrapheme returns every cluster start plus the end offset.
        return list(grapheme_offsets(text))
    offsets = [0]
    for cluster in _clusters(text):
        offsets.append(offsets[-1] + len(cluster))
    return offsets


def graphemes(text: str) -> list[str]:
    """The clusters of `text`, in order (`"".join(graphemes(t)) == t`)."""
    if not text:
        return []
    return _clusters(text)
