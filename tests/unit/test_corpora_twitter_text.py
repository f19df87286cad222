"""twitter-text's URL extraction, which Mastodon's server uses (scheme required).

Ground truth: twitter/twitter-text conformance/extract.yml (URL sections, only inputs that carry
an http(s) scheme, since Mastodon runs with extract_url_without_protocol: false) and tlds.yml.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from conformance import record_pass_rate
from threadpost.text.entities import mastodon_entities
from threadpost.text.tlds import twitter_text_tlds

CORPUS = Path(__file__).parent.parent / "data" / "corpora" / "twitter-text"
URL_SECTIONS = (
    "urls",
    "urls_with_indices",
    "urls_with_directional_markers",
    "tco_urls_with_params",
)
SCHEMES = ("http://", "https://")


def _links(text: str) -> list[tuple[str, int, int]]:
    return [(e.value, e.start, e.end) for e in mastodon_entities(text) if e.kind == "link"]


def _has_scheme(text: str) -> bool:
    lowered = text.lower()
    return any(scheme in lowered for scheme in SCHEMES)


def test_extract_yml_urls_with_scheme() -> None:
    tests = yaml.safe_load((CORPUS / "extract.yml").read_text(encoding="utf-8"))["tests"]
    total = 0
    failures = []
    for section in URL_SECTIONS:
        for case in tests[section]:
            if not _has_scheme(case["text"]):
                continue  # schemeless URLs are not entities on Mastodon
            total += 1
            got = _links(case["text"])
            if section in ("urls", "tco_urls_with_params"):
                want_urls = [u for u in case["expected"] if u.lower().startswith(SCHEMES)]
                ok = [url for url, _, _ in got] == want_urls
            else:
                want = [
                    (u["url"], *u["indices"])
                    for u in case["expected"]
                    if u["url"].lower().startswith(SCHEMES)
                ]
                ok = got == want
            if not ok:
                failures.append((section, case["description"], case["text"], got))
    passed = total - len(failures)
    record_pass_rate("twitter-text extract.yml URLs with a scheme", passed, total)
    assert total >= 90
    assert passed / total >= 0.98, failures


def test_tlds_yml() -> None:
    tests = yaml.safe_load((CORPUS / "tlds.yml").read_text(encoding="utf-8"))["tests"]
    total = 0
    failures = []
    for section, cases in tests.items():
        for case in cases:
            total += 1
            got = [url for url, _, _ in _links(case["text"])]
            if got != case["expected"]:
                failures.append((section, case["text"], got))
    record_pass_rate("twitter-text tlds.yml", total - len(failures), total)
    assert total == 1574
    assert failures == []


def test_packaged_tld_list_is_the_corpus_list() -> None:
    listed = yaml.safe_load((CORPUS / "tld_lib.yml").read_text(encoding="utf-8"))
    generic, country = twitter_text_tlds()
    assert list(generic) == listed["generic"]
    assert list(country) == listed["country"]
