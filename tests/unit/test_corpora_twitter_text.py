"""twitter-text's URL extraction, which Mastodon's server uses (scheme required).

Ground truth: twitter/twitter-text conformance/extract.yml (URL sections, only inputs that carry
an http(s) scheme, since Mastodon runs with extract_url_without_protocol: false) and tlds.yml.
Where Mastodon's server is not twitter-text, `MASTODON_DIFFERS` gives the server's answer.
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

_CJK = (
    "http://twitter.com/これは日本語です。example.com中国語http://t.co/abcde한국twitter.comテスト"
    "example2.comテストhttp://twitter.com/abcde"
)
#: Cases whose expectation on Mastodon's server differs from twitter-text's, with why:
#: - Mastodon's twitter_regex.rb lets a URL path run over any non-space character except
#:   `<>()?`: CJK text and directional marks glued to a URL are part of its path.
#: - The Ruby gem's t.co rule takes no query part (the JavaScript port keeps `?amp=1`).
MASTODON_DIFFERS: dict[str, list[tuple[str, int, int]]] = {
    _CJK: [(_CJK, 0, 114)],
    "\u2066\u202atest abcdef.com پاکستان http://twitter.com/\u202c\u2069": [
        ("http://twitter.com/\u202c\u2069", 26, 47)
    ],
    "This is a test \u2066\u202atwitter.com\u202c\u2069 \u2066\u202ahttp://foobar.پاکستان/"
    "\u202c\u2069\u2069 قطر فلسطين عمان": [("http://foobar.پاکستان/\u202c\u2069\u2069", 33, 58)],
    "text https://t.co/UqIyJAJTfo?amp=1": [("https://t.co/UqIyJAJTfo", 5, 28)],
    "text https://t.co/UqIyJAJTfo?type=js": [("https://t.co/UqIyJAJTfo", 5, 28)],
    "text https://t.co/UqIyJAJTfo?ssr=true": [("https://t.co/UqIyJAJTfo", 5, 28)],
    "text https://t.co/asdfdf?a=b#123": [("https://t.co/asdfdf", 5, 24)],
    "text https://t.co/sadfasdf?a=b&c=d": [("https://t.co/sadfasdf", 5, 26)],
}


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
            if case["text"] in MASTODON_DIFFERS:
                ok = got == MASTODON_DIFFERS[case["text"]]
            elif section in ("urls", "tco_urls_with_params"):
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
