"""Unrolled text: posts per line or block, thread separators, boilerplate, numbering."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadpost.draft import read_draft
from threadpost.errors import ThreadpostError
from threadpost.importer.run import import_text
from threadpost.importer.unrolled import (
    DroppedLine,
    is_boilerplate,
    is_separator,
    parse_unrolled,
)

UNROLLED = Path(__file__).resolve().parents[1] / "data" / "import" / "unrolled.txt"
FIRST = (
    "Bikes are faster than cars in town, most of the time.",
    "Parking takes longer than the ride itself.",
    "And the bike never gets stuck in traffic, unlike @SomeName's car.",
)
SECOND = (
    "Follow the money: buses are cheaper per rider than new roads.",
    "Buses need lanes, not more buses.",
)


def test_the_sample_has_two_threads_and_drops_the_boilerplate() -> None:
    unrolled = parse_unrolled(UNROLLED.read_text())
    assert unrolled.threads == (FIRST, SECOND)
    assert [line.line for line in unrolled.dropped] == [
        1,
        2,
        3,
        4,
        9,
        10,
        11,
        12,
        13,
        16,
        17,
        18,
        20,
    ]
    assert unrolled.dropped[0] == DroppedLine(1, "Thread Reader App")


@pytest.mark.parametrize("line", ["• • •", "* * *", "---", "***", " — — ", "·····", "___"])
def test_separators(line: str) -> None:
    assert is_separator(line)


@pytest.mark.parametrize("line", ["", "-- signed", "*bold*", "1 - 2"])
def test_not_separators(line: str) -> None:
    assert not is_separator(line)


@pytest.mark.parametrize(
    "line",
    [
        "Missing some Tweet in this thread?",
        "You can try to force a refresh",
        # The reader's footer as it wraps, each line alone.
        "Missing some Tweet in this thread? You can try to",
        "force a refresh",
        "Help us keep this service running!",
        "Don't want to be a Premium member but still want to support us?",
        "Read on Twitter",
        "Keep Current with Someone Else",
        "Follow @someone",
        "Follow",
        "Unroll available on Thread Reader",
        "Share this Scrolly Tale",
        "This Thread may be Removed Anytime!",
        "Enjoy Reading",
        "Did Thread Reader help you today?",
    ],
)
def test_boilerplate(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Follow the money",
        "I read on Twitter that trains are back",
        "Enjoy reading this!!! More",
        "Why does nobody force a refresh of the budget?",
    ],
)
def test_the_authors_own_words_are_kept(line: str) -> None:
    assert not is_boilerplate(line)


def test_blocks_keep_lines_together() -> None:
    text = "1/ First post,\nsecond line.\n\nSecond post\n2/\n\n\nThird. 3/3\n---\nOther thread.\n"
    unrolled = parse_unrolled(text, blocks=True)
    assert unrolled.threads == (
        ("First post,\nsecond line.", "Second post", "Third."),
        ("Other thread.",),
    )
    # Line by line, the same text makes one post per line.
    assert parse_unrolled(text).threads[0][:2] == ("First post,", "second line.")


def test_drafts_have_exactly_the_expected_posts(tmp_path: Path) -> None:
    report = import_text(UNROLLED, tmp_path)
    names = [draft.path.name for draft in report.written]
    assert names == ["bikes-are-faster-than-cars-in.md", "follow-the-money-buses-are-cheaper.md"]
    for written, expected in zip(report.written, (FIRST, SECOND), strict=True):
        draft = read_draft(written.path)
        assert tuple(post.text for post in draft.posts) == expected
        assert draft.front.title == expected[0]
        assert draft.front.lang is None
    assert "# Imported from unrolled.txt (thread 1 of 2)" in report.written[0].path.read_text()
    # Again: nothing is overwritten, the names get a number.
    again = import_text(UNROLLED, tmp_path)
    assert [d.path.name for d in again.written] == [
        "bikes-are-faster-than-cars-in-2.md",
        "follow-the-money-buses-are-cheaper-2.md",
    ]


def test_nothing_to_import(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("Thread Reader App\n• • •\nRead on Twitter\n")
    with pytest.raises(ThreadpostError, match="no posts found"):
        import_text(empty, tmp_path)
    with pytest.raises(ThreadpostError, match="no such file"):
        import_text(tmp_path / "missing.txt", tmp_path)
