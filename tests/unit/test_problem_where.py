"""`Problem.where()`: the one way every message says where a problem is (issue 11)."""

from __future__ import annotations

import pytest

from threadpost.values import Problem


def _problem(platform: str | None, post: int | None, line: int | None) -> Problem:
    return Problem("error", "too-long", "too long", platform=platform, post=post, line=line)


@pytest.mark.parametrize(
    ("platform", "post", "line", "expected"),
    [
        ("mastodon", 2, 7, "mastodon post 2"),
        (None, 3, None, "draft post 3"),
        ("bluesky", None, 4, "bluesky"),
        (None, None, 1, ""),
    ],
)
def test_where_without_a_file(
    platform: str | None, post: int | None, line: int | None, expected: str
) -> None:
    assert _problem(platform, post, line).where() == expected


@pytest.mark.parametrize(
    ("platform", "post", "line", "expected"),
    [
        ("mastodon", 2, 12, "notes.md:12 mastodon post 2"),
        (None, 3, 4, "notes.md:4 post 3"),
        ("bluesky", None, None, "notes.md bluesky"),
        (None, None, None, "notes.md"),
    ],
)
def test_where_with_the_file_puts_file_and_line_first(
    platform: str | None, post: int | None, line: int | None, expected: str
) -> None:
    assert _problem(platform, post, line).where("notes.md") == expected
