"""Draft syntax and `check` rules of reply/quote controls, record tags and quotes (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadpost.draft import parse_draft
from threadpost.errors import DraftError
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.store import thread_from_json, thread_to_json


def _draft(text: str):  # type: ignore[no-untyped-def]
    return parse_draft(text.encode(), Path("/tmp/d.md"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"everyone"', None),
        ('"nobody"', ()),
        ("[]", ()),
        ('"following"', ("following",)),
        ('["mentioned", "followers"]', ("mentioned", "followers")),
    ],
)
def test_bluesky_replies_values(value: str, expected: tuple[str, ...] | None) -> None:
    front = _draft(f"+++\nbluesky_replies = {value}\n+++\nHi").front
    assert front.bluesky_replies == expected


@pytest.mark.parametrize("value", ['"friends"', '["nobody", "following"]', "3"])
def test_bad_bluesky_replies_name_the_line(value: str) -> None:
    with pytest.raises(DraftError) as caught:
        _draft(f'+++\ntitle = "x"\nbluesky_replies = {value}\n+++\nHi')
    assert caught.value.line == 3


def test_per_post_lines_are_taken_out_of_the_text() -> None:
    draft = _draft(
        "One.\n> quote https://bsky.app/profile/a.test/post/3aaaaaaaaaaaa\n---\n"
        "Two.\n> tags #x, #y\n---\n> quote from a book, not a directive"
    )
    one, two, three = draft.posts
    assert (one.text, one.quote, one.quote_line) == (
        "One.",
        "https://bsky.app/profile/a.test/post/3aaaaaaaaaaaa",
        2,
    )
    assert (two.text, two.tags, two.tags_line) == ("Two.", ("x", "y"), 5)
    assert three.quote is None and three.text == "> quote from a book, not a directive"


def test_two_quote_lines_in_a_post_are_an_error() -> None:
    with pytest.raises(DraftError) as caught:
        _draft(
            "A\n> quote at://did:plc:x/app.bsky.feed.post/3a\n> quote at://did:plc:x/app.bsky.feed.post/3b"
        )
    assert caught.value.line == 3


def test_tags_go_on_the_first_post_and_a_tags_line_overrides() -> None:
    draft = _draft('+++\nbluesky_tags = ["#a", "b"]\n+++\nOne\n---\nTwo\n> tags #c')
    thread = plan_thread(draft, BLUESKY_LIMITS)
    assert [post.tags for post in thread.posts] == [("a", "b"), ("c",)]


def test_check_refuses_too_many_or_too_long_tags_and_foreign_quotes() -> None:
    tags = ", ".join(f'"t{n}"' for n in range(9))
    draft = _draft(
        f"+++\nbluesky_tags = [{tags}]\n+++\nOne\n---\nTwo\n> tags #{'x' * 65}\n---\n"
        "Three\n> quote https://mastodon.social/@a/1"
    )
    thread = plan_thread(draft, BLUESKY_LIMITS)
    problems = BLUESKY_RULES.thread_problems(thread, draft.front)
    found = [(p.code, p.post, p.line) for p in problems]
    assert ("tags-invalid", 1, 2) in found
    assert ("tags-invalid", 2, 6) in found
    assert ("quote-not-bluesky", 3, 10) in found


def test_an_older_plan_reads_back_with_open_controls_and_no_tags() -> None:
    draft = _draft('+++\nbluesky_replies = "nobody"\nbluesky_quotes = false\n+++\nHi')
    thread = plan_thread(draft, BLUESKY_LIMITS)
    assert thread_from_json(thread_to_json(thread)) == thread
    data = thread_to_json(thread)
    del data["reply_rules"], data["quotes_allowed"]
    for post in data["posts"]:
        del post["tags"], post["quote"], post["quote_line"]
    old = thread_from_json(data)
    assert (old.reply_rules, old.quotes_allowed, old.posts[0].tags) == (None, True, ())
