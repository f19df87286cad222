"""Unrolled-thread import on generated reader pages (issue 13).

A generator writes threads the way a thread reader shows them: header lines, numbered posts,
`• • •` between threads, and the reader's footer in its exact form (two lines, "Missing some
Tweet in this thread? You can try to" / "force a refresh") among its other usual lines. The
expectation is the posts the generator wrote, nothing else, and the title those posts make.
Seeded and bounded; the pass rate is printed in the terminal summary beside the corpora's.
"""

from __future__ import annotations

import random
from pathlib import Path

from conformance import record_pass_rate
from threadpost.draft import read_draft
from threadpost.importer.model import ImportedPost, ImportedThread
from threadpost.importer.run import import_text
from threadpost.importer.unrolled import parse_unrolled
from threadpost.importer.writer import title

CASES = 300

POSTS = [
    "Bikes are faster than cars in town, most of the time.",
    "Les caméras coûtent cher, et personne ne mesure ce qu'elles rapportent.",
    "東京の地下鉄は時間通りに来る。",
    "Read the report first: https://example.com/report.pdf",
    "Thanks @someone for the data!",
    "Buses need lanes, not more buses.",
    "Follow the money: buses are cheaper per rider than new roads.",
    "Why does nobody force a refresh of the budget?",
    "I read on Twitter that trains are back, and they are.",
]
HEADERS = [
    "Thread Reader App",
    "Thread by @synthetic_author on Thread Reader App",
    "Synthetic Author @synthetic_author · Mar 1, 2019 · 3 tweets • 1 min read",
    "Read on Twitter",
]
# The reader's footer, first in its exact two-line form, then its other usual lines.
FOOTER_EXACT = ["Missing some Tweet in this thread? You can try to", "force a refresh"]
FOOTER_MORE = [
    "Missing some Tweet in this thread? You can try to force a refresh",
    "Keep Current with Synthetic Author",
    "Stay in touch and get notified when new unrolls are available from this author!",
    "This Thread may be Removed Anytime!",
    "Twitter may remove this content at anytime! Save it as PDF for later use!",
    "Get real-time email alerts when new unrolls are available from this author!",
    "Help us keep this service running!",
    "Did Thread Reader help you today?",
    "Support us! We are indie developers!",
    "Become a Premium Member ($3/month or $30/year) and get exclusive features!",
    "Don't want to be a Premium member but still want to support us?",
    "Make a small donation by buying us coffee ($5) or help with server cost ($10)",
    "Donate via Paypal",
    "Or Donate anonymously using crypto!",
    "Thank you for your support!",
    "Share this Scrolly Tale with your friends.",
    "Enjoy Reading",
    "Save as PDF",
    "Make your own unrolls!",
]


def _numbered(rng: random.Random, post: str, index: int, total: int) -> str:
    form = rng.randrange(4)
    if form == 0:
        return f"{index}/ {post}"
    if form == 1:
        return f"{post} {index}/{total}"
    if form == 2:
        return f"{post} ({index}/{total})"
    return post


def gen_page(rng: random.Random) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """A reader page of 1-3 threads and the posts it holds, thread by thread."""
    lines: list[str] = rng.sample(HEADERS, rng.randint(0, len(HEADERS)))
    threads: list[tuple[str, ...]] = []
    for number in range(rng.randint(1, 3)):
        if number:
            lines.append(rng.choice(["• • •", "* * *", "---"]))
        posts = tuple(rng.sample(POSTS, rng.randint(1, 4)))
        threads.append(posts)
        lines.extend(_numbered(rng, p, i, len(posts)) for i, p in enumerate(posts, start=1))
        footer = [*FOOTER_EXACT] if rng.random() < 0.7 else []
        footer += rng.sample(FOOTER_MORE, rng.randint(0, 4))
        if rng.random() < 0.3:
            rng.shuffle(footer)
        lines.extend(footer)
    return "\n".join(lines) + "\n", tuple(threads)


def test_reader_pages_import_only_the_posts(tmp_path: Path) -> None:
    rng = random.Random("unrolled reader pages")
    failures = []
    for case in range(CASES):
        text, expected = gen_page(rng)
        got = parse_unrolled(text).threads
        if case % 30 == 0 and got == expected:
            # Through the whole import: drafts hold the posts, titled from the posts alone.
            source = tmp_path / f"page-{case}.txt"
            source.write_text(text)
            out = tmp_path / f"out-{case}"
            out.mkdir()
            drafts = [read_draft(d.path) for d in import_text(source, out).written]
            got = tuple(tuple(p.text for p in d.posts) for d in drafts)
            titles = [title(ImportedThread(tuple(map(ImportedPost, p)))) for p in expected]
            if [d.front.title for d in drafts] != titles:
                got = ()
        if got != expected:
            failures.append((text, got, expected))
    record_pass_rate("differential unrolled import (reader footer)", CASES - len(failures), CASES)
    assert failures[:3] == []
