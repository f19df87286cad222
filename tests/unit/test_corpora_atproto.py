"""Bluesky's reference detection and grapheme counts, measured on atproto's own test data.

Ground truth: bluesky-social/atproto packages/api/tests/rich-text-detection.test.ts (97 cases)
and the grapheme-length tests (14 cases), copied to tests/data/corpora/atproto/.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance import record_pass_rate
from threadpost.text.entities import bluesky_entities
from threadpost.text.graphemes import grapheme_count
from threadpost.text.tlds import npm_tlds

CORPUS = Path(__file__).parent.parent / "data" / "corpora" / "atproto"


def _facets(text: str, *, cashtags_only: bool) -> list[tuple[object, ...]]:
    entities = bluesky_entities(text)
    if cashtags_only:
        return [(e.byte_start, e.byte_end, e.value) for e in entities if e.kind == "cashtag"]
    return sorted((e.kind, e.byte_start, e.byte_end, e.text, e.value) for e in entities)


def _expected(case: dict[str, object], *, cashtags_only: bool) -> list[tuple[object, ...]]:
    expected = case["expected"]
    assert isinstance(expected, list)
    if cashtags_only:
        return [(f["byteStart"], f["byteEnd"], f["tag"]) for f in expected]
    return sorted(
        (
            f["type"],
            f["byteStart"],
            f["byteEnd"],
            f["text"],
            f.get("uri") or f.get("handle") or f.get("tag"),
        )
        for f in expected
    )


def test_atproto_rich_text_detection() -> None:
    cases = json.loads((CORPUS / "atproto-richtext-cases.json").read_text(encoding="utf-8"))[
        "cases"
    ]
    failures = []
    for case in cases:
        cashtags_only = "cashtag facets only" in case["asserts"]
        got = _facets(case["text"], cashtags_only=cashtags_only)
        want = _expected(case, cashtags_only=cashtags_only)
        if got != want:
            failures.append((case["id"], case["text"], got, want))
    passed = len(cases) - len(failures)
    record_pass_rate("atproto rich-text", passed, len(cases))
    assert len(cases) == 97
    assert failures == []


def test_atproto_grapheme_lengths() -> None:
    cases = json.loads((CORPUS / "atproto-grapheme-cases.json").read_text(encoding="utf-8"))
    failures = [c for c in cases if grapheme_count(c["text"]) != c["expected_graphemes"]]
    record_pass_rate("atproto graphemes", len(cases) - len(failures), len(cases))
    assert failures == []


def test_packaged_npm_tld_list_is_the_corpus_list() -> None:
    listed = json.loads((CORPUS / "tlds-npm-1.261.0.json").read_text(encoding="utf-8"))
    assert npm_tlds() == frozenset(listed)
