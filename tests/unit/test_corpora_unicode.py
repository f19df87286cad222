"""Grapheme cluster boundaries against the Unicode test file (GraphemeBreakTest-15.0.0.txt).

threadpost counts with `ugrapheme`, which implements Unicode 16 (ICU-exact); the file is 15.0.
The rules changed between them in one place: Unicode 15.1 added GB9c, which keeps Indic
conjuncts (consonant + virama/InCB-Linker + consonant) in one cluster. GraphemeBreakTest 15.0
contains no such sequence, so every one of its 602 lines passes and none needs excusing. The
only real difference is pinned in `test_unicode_15_1_conjuncts_join` below: there a Unicode
15.0 segmenter would say 2 clusters, and ICU (Bluesky's Intl.Segmenter) and ugrapheme say 1.
"""

from __future__ import annotations

from pathlib import Path

from conformance import record_pass_rate
from threadpost.text.graphemes import grapheme_boundaries, grapheme_count

CORPUS = Path(__file__).parent.parent / "data" / "corpora" / "unicode"


def _cases() -> list[tuple[int, str, list[int]]]:
    cases = []
    lines = (CORPUS / "GraphemeBreakTest.txt").read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        text = ""
        breaks = []
        for token in body.split():
            if token == "÷":
                breaks.append(len(text))
            elif token != "×":
                text += chr(int(token, 16))
        cases.append((lineno, text, breaks))
    return cases


def test_grapheme_break_test_file() -> None:
    cases = _cases()
    failures = [
        (n, t, grapheme_boundaries(t), b) for n, t, b in cases if grapheme_boundaries(t) != b
    ]
    record_pass_rate("GraphemeBreakTest 15.0", len(cases) - len(failures), len(cases))
    assert len(cases) == 602
    assert failures == []


def test_unicode_15_1_conjuncts_join() -> None:
    # DEVANAGARI KA + VIRAMA + SSA: 2 clusters under Unicode 15.0, 1 under 15.1+ (GB9c) and ICU.
    assert grapheme_count("\u0915\u094d\u0937") == 1
    assert grapheme_count("\u0915\u094d\u200d\u0937") == 1
