"""Bluesky facets and graphemes on generated texts, class by class (issue 13).

Expectations are written from the reference's rules (@atproto/api RichText `detectFacets`,
0.21: cashtag facets, the 64-grapheme tag rule, `https?://\\S+` links, no overlap removal,
`\\p{P}` of current Unicode; Intl.Segmenter on Unicode 17), never from threadpost's code. The
facets are read from the plan, which is what is sent. Seeded and bounded; the pass rate of each
class is printed in the terminal summary beside the corpora's.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from conformance import record_pass_rate
from threadpost.draft import parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.text.graphemes import grapheme_count

CASES_PER_CLASS = 200

# An expected facet, relative to its piece: (kind, covered text, value, offset in the piece).
Expected = tuple[str, str, str, int]
Piece = tuple[str, list[Expected]]
Facet = tuple[str, int, int, str]  # kind, byteStart, byteEnd, value

PROSE = ["Voir", "l'été", "東京都", "🦋", "ok", "naïve", "Москва"]


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _assemble(rng: random.Random, pieces: list[Piece]) -> tuple[str, list[Facet]]:
    text = ""
    facets: list[tuple[int, int, Facet]] = []
    for order, (piece, expected) in enumerate(pieces):
        words = [rng.choice(PROSE) for _ in range(rng.randint(0, 2))]
        text += (" " if text else "") + " ".join([*words, ""])
        base = text
        for kind, covered, value, offset in expected:
            start = _utf8(base + piece[:offset])
            facets.append((start, order, (kind, start, start + _utf8(covered), value)))
        text += piece
    # The reference sorts by byteStart; its sort is stable, so mentions, links, tags and
    # cashtags (its detection order) keep that order at one start.
    return text, [f for _, _, f in sorted(facets, key=lambda item: item[0])]


def _planned_facets(text: str) -> list[Facet]:
    [post] = plan_thread(parse_draft(text.encode(), "d.md"), BLUESKY_LIMITS).posts
    assert post.text == text
    return [(f.kind, f.byte_start, f.byte_end, f.value) for f in post.facets]


def gen_cashtags(rng: random.Random) -> tuple[str, list[Facet]]:
    """`$` + 1-5 letters/digits (a letter first) after start, space or "(", before a space, the
    end or one of .,;:!?)"'’ is a tag facet `$` + the ticker in upper case."""
    pieces: list[Piece] = []
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for _ in range(rng.randint(1, 4)):
        ticker = rng.choice(letters) + "".join(
            rng.choice(letters + "0123456789") for _ in range(rng.randint(0, 4))
        )
        form = rng.randrange(4)
        if form == 0:
            after = rng.choice(["", ".", ",", ";", ":", "!", "?", '"', "'", "\u2019"])
            pieces.append((f"${ticker}{after}", [("tag", f"${ticker}", f"${ticker.upper()}", 0)]))
        elif form == 1:
            pieces.append((f"(${ticker})", [("tag", f"${ticker}", f"${ticker.upper()}", 1)]))
        elif form == 2:  # not a cashtag: glued, too long, digits first, wrong follower
            pieces.append(
                (rng.choice(["no$ABC", "$TOOLONG", "$100", "$ABC123", "$AB-", "$A_B"]), [])
            )
        else:
            pieces.append((f"${ticker}", [("tag", f"${ticker}", f"${ticker.upper()}", 0)]))
    return _assemble(rng, pieces)


# Graphemes of 1 code point and of several (a combining mark, a skin tone, a flag).
TAG_GRAPHEMES = ["a", "é", "e\u0301", "👍🏽", "🇫🇷", "ж", "日"]


def gen_long_tags(rng: random.Random) -> tuple[str, list[Facet]]:
    """A tag is dropped only when it is longer than 64 graphemes, whatever its UTF-16 length."""
    pieces: list[Piece] = []
    for _ in range(rng.randint(1, 2)):
        size = rng.randint(56, 70)
        body = "t" + "".join(rng.choice(TAG_GRAPHEMES) for _ in range(size - 1))
        expected = [("tag", "#" + body, body, 0)] if size <= 64 else []
        pieces.append(("#" + body, expected))
    return _assemble(rng, pieces)


def gen_dotless_links(rng: random.Random) -> tuple[str, list[Facet]]:
    """A URL with a scheme is a link without any dot in the text."""
    pieces: list[Piece] = []
    for _ in range(rng.randint(1, 3)):
        url = rng.choice(
            [
                "http://localhost:3000/x",
                "https://intranet/wiki/Accueil",
                "http://localhost",
                "https://[::1]:8080/",
                "http://nas:5000/photos?album=été",
            ]
        )
        trailer = rng.choice(["", "!", ",", "?"])
        pieces.append((url + trailer, [("link", url, url, 0)]))
    return _assemble(rng, pieces)


def gen_overlaps(rng: random.Random) -> tuple[str, list[Facet]]:
    """Detections that overlap are all emitted, as the reference emits them."""
    pieces: list[Piece] = []
    for _ in range(rng.randint(1, 3)):
        form = rng.randrange(4)
        if form == 0:  # a link inside a tag
            word = rng.choice(["voir", "see", "ici"])
            tag = f"{word}(example.com"
            link = ("link", "example.com", "https://example.com", len(word) + 2)
            pieces.append((f"#{tag}", [("tag", f"#{tag}", tag, 0), link]))
        elif form == 1:  # a mention inside a link
            handle = rng.choice(["alice.bsky.social", "bob.test"])
            url = f"https://example.com/(@{handle})"
            pieces.append(
                (url, [("link", url, url, 0), ("mention", f"@{handle}", handle, url.index("@"))])
            )
        elif form == 2:  # a cashtag inside a link
            url = "https://example.com/($AAPL)"
            pieces.append((url, [("link", url, url, 0), ("tag", "$AAPL", "$AAPL", url.index("$"))]))
        else:  # a mention inside a tag
            tag = "tag(@bob.test"
            pieces.append(
                (f"#{tag}", [("tag", f"#{tag}", tag, 0), ("mention", "@bob.test", "bob.test", 5)])
            )
    return _assemble(rng, pieces)


# General_Category P characters added in Unicode 15 (Kawi), 16 (Garay, Tulu-Tigalari, Sunuwar,
# Kirat Rai, Balinese, Ol Onal, Devanagari Extended-A) and 17: unknown to Python 3.11 (14.0).
NEW_PUNCTUATION = [
    "\U00011f43",
    "\U00011f4f",
    "\U00010d6e",
    "\U000113d4",
    "\U00011be1",
    "\U00016d6e",
    "\u1b4e",
    "\u1b7f",
    "\U0001e5ff",
    "\U00011b00",
    "\U00010ed0",
]


def gen_new_punctuation(rng: random.Random) -> tuple[str, list[Facet]]:
    """Punctuation of current Unicode ends a tag, and alone with digits makes no tag."""
    pieces: list[Piece] = []
    for _ in range(rng.randint(1, 3)):
        mark = rng.choice(NEW_PUNCTUATION)
        form = rng.randrange(3)
        word = rng.choice(["kawi", "été", "東京"])
        if form == 0:  # trailing: stripped
            pieces.append((f"#{word}{mark}", [("tag", f"#{word}", word, 0)]))
        elif form == 1:  # inside: kept
            tag = f"{word}{mark}x"
            pieces.append((f"#{tag}", [("tag", f"#{tag}", tag, 0)]))
        else:  # only digits and punctuation: no tag
            pieces.append((f"#1{mark}2{mark}", []))
    return _assemble(rng, pieces)


FacetClass = Callable[[random.Random], tuple[str, list[Facet]]]
CLASSES: dict[str, FacetClass] = {
    "cashtags as tag facets": gen_cashtags,
    "64-grapheme tags": gen_long_tags,
    "scheme links without a dot": gen_dotless_links,
    "overlapping detections": gen_overlaps,
    "Unicode 15+ punctuation in tags": gen_new_punctuation,
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_bluesky_facets_as_the_reference(name: str) -> None:
    rng = random.Random(f"bluesky {name}")
    failures = []
    for _ in range(CASES_PER_CLASS):
        text, expected = CLASSES[name](rng)
        got = _planned_facets(text)
        if got != expected:
            failures.append((text, got, expected))
    record_pass_rate(
        f"differential Bluesky {name}", CASES_PER_CLASS - len(failures), CASES_PER_CLASS
    )
    assert failures[:5] == []


KHMER_CONSONANTS = "កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវសហឡអ"
MYANMAR_CONSONANTS = "ကခဂဃငစဆဇဈညဋဌဍဎဏတထဒဓနပဖဗဘမ"
KHMER_VOWELS = ["", "ា", "ិ", "ុ", "ើ", "ោ"]


def gen_conjuncts(rng: random.Random) -> tuple[str, int]:
    """Unicode 17 joins Khmer (coeng U+17D2) and Myanmar (virama U+1039) conjuncts into one
    cluster, as Devanagari's already were: each syllable below is one grapheme."""
    syllables = []
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.5:
            stack = [rng.choice(KHMER_CONSONANTS) for _ in range(rng.randint(1, 3))]
            syllables.append("\u17d2".join(stack) + rng.choice(KHMER_VOWELS))
        else:
            stack = [rng.choice(MYANMAR_CONSONANTS) for _ in range(rng.randint(1, 2))]
            syllables.append("\u1039".join(stack))
    spaces = rng.randint(0, 2)
    return " " * spaces + "".join(syllables), spaces + len(syllables)


def test_graphemes_follow_unicode_17_conjuncts() -> None:
    rng = random.Random("graphemes conjuncts")
    failures = []
    for _ in range(CASES_PER_CLASS):
        text, expected = gen_conjuncts(rng)
        if grapheme_count(text) != expected:
            failures.append((text, grapheme_count(text), expected))
    record_pass_rate(
        "differential Bluesky graphemes (Unicode 17 conjuncts)",
        CASES_PER_CLASS - len(failures),
        CASES_PER_CLASS,
    )
    assert failures[:5] == []
