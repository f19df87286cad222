"""`Problem.where()`: the one way every message says where a problem is; `post_line()`: the
one "post N: message" of a network's warnings (publish's outcomes, `status`) (issue 11)."""

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


@pytest.mark.parametrize(
    ("post", "message", "expected"),
    [
        # The texts publish's outcomes and `status` printed before (tests/unit/
        # test_publish_warnings.py, tests/cli/test_publish_warnings_cli.py): the post named
        # once, whether or not the adapter's message already starts with it.
        (2, "no link card: connection refused", "post 2: no link card: connection refused"),
        (2, "post 2: no link card", "post 2: no link card"),
        (12, "post 1: quoted", "post 12: post 1: quoted"),
        (None, "published 40 min late", "published 40 min late"),
    ],
)
def test_post_line_names_the_post_once(post: int | None, message: str, expected: str) -> None:
    problem = Problem("warning", "link-card-failed", message, platform="bluesky", post=post)
    assert problem.post_line() == expected
