"""A content warning per post: the `> cw <text>` line, planning, payloads, Bluesky (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mastodon_server.length import status_length
from threadpost.draft import Draft, parse_draft
from threadpost.errors import DraftError
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.store import thread_from_json, thread_to_json


def _draft(text: str, folder: Path = Path("/tmp")) -> Draft:
    return parse_draft(text.encode(), folder / "d.md")


def test_a_cw_line_is_taken_out_of_the_text_with_its_line() -> None:
    draft = _draft("One.\n---\n> cw: spoilers, episode 3\nTwo.\n---\n> CW food\nThree.")
    one, two, three = draft.posts
    assert (one.cw, one.cw_line) == (None, None)
    assert (two.text, two.cw, two.cw_line) == ("Two.", "spoilers, episode 3", 3)
    assert (three.text, three.cw) == ("Three.", "food")


@pytest.mark.parametrize("indent", [" ", "\t", "\u00a0", "\u3000", "\u2003 "])
def test_a_per_post_line_indented_with_any_whitespace_is_still_one(indent: str) -> None:
    """The parser looks at a line's patterns only when it starts with ">" after its
    whitespace (str.lstrip), which must be the whitespace the patterns' \\s allow."""
    (post,) = _draft(f"Text.\n{indent}> cw spoilers").posts
    assert (post.text, post.cw) == ("Text.", "spoilers")


@pytest.mark.parametrize("line", ["> cw", "> cw:", "> cwtch is a game", "> cws are good"])
def test_lines_that_are_no_cw_line_stay_text(line: str) -> None:
    (post,) = _draft(f"Text.\n{line}").posts
    assert post.cw is None
    assert post.text == f"Text.\n{line}"


def test_two_cw_lines_in_a_post_are_an_error_naming_the_second() -> None:
    with pytest.raises(DraftError) as caught:
        _draft("A\n> cw one\n> cw two")
    assert caught.value.line == 3
    assert "one '> cw' line" in caught.value.message


def test_a_post_cw_replaces_the_thread_cw_on_every_post_made_from_it() -> None:
    long = " ".join(["A sentence that takes some room in the post."] * 20)
    draft = _draft(f'+++\ncw = "thread"\n+++\nOne.\n---\n> cw mine\n{long}\n---\nThree.')
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    payloads = draft_statuses(thread)
    assert len(payloads) > 3  # the long post was split
    assert payloads[0]["spoiler_text"] == "thread"
    assert {p["spoiler_text"] for p in payloads[1:-1]} == {"mine"}
    assert payloads[-1]["spoiler_text"] == "thread"


def test_a_post_cw_counts_in_its_length_as_mastodon_counts_it() -> None:
    cw = "x" * 100
    text = " ".join(["word"] * 95)  # 474 characters: fits alone, not with the cw
    draft = _draft(f"> cw {cw}\n{text}")
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert len(thread.posts) == 2
    for post in thread.posts:
        assert post.length == status_length(post.text, cw, 23)
        assert post.length <= 500
    # Without the cw the same text is one post.
    assert len(plan_thread(_draft(text), MASTODON_DEFAULT_LIMITS).posts) == 1


def test_bluesky_counts_no_cw_warns_per_post_and_labels_hidden_media(tmp_path: Path) -> None:
    from mastodon_server.fixtures import write_image

    write_image(tmp_path / "a.png")
    text = " ".join(["word"] * 55)  # 274 graphemes: a cw would not fit if it were counted
    draft = _draft(f"One.\n---\n> cw {'x' * 50}\n{text}\n![a cat](a.png)", tmp_path)
    thread = plan_thread(draft, BLUESKY_LIMITS)
    assert len(thread.posts) == 2
    assert thread.posts[1].length == len(thread.posts[1].text)
    # Mastodon hides that post's image behind its cw: Bluesky blurs it (the thread's labels).
    assert thread.labels == ("graphic-media",)
    problems = BLUESKY_RULES.thread_problems(thread, draft.front)
    assert [(p.code, p.post, p.line) for p in problems] == [
        ("content-warning-not-on-bluesky", 2, 3)
    ]
    assert "post 2's content warning 'xxxx" in problems[0].message
    assert "labelled graphic-media" in problems[0].message


def test_a_post_cw_without_images_puts_no_label_and_chosen_labels_silence_it() -> None:
    draft = _draft("One.\n---\n> cw spoilers\nTwo.")
    thread = plan_thread(draft, BLUESKY_LIMITS)
    assert thread.labels == ()
    assert [p.post for p in BLUESKY_RULES.thread_problems(thread, draft.front)] == [2]
    chosen = _draft("+++\nbluesky_labels = []\n+++\nOne.\n---\n> cw spoilers\nTwo.")
    assert BLUESKY_RULES.thread_problems(plan_thread(chosen, BLUESKY_LIMITS), chosen.front) == []


def test_the_post_cw_survives_the_ledger_and_older_plans_have_none() -> None:
    draft = _draft('+++\ncw = "t"\n+++\nOne.\n---\n> cw mine\nTwo.')
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert thread_from_json(thread_to_json(thread)) == thread
    data = thread_to_json(thread)
    for post in data["posts"]:
        del post["cw"], post["cw_line"]
    old = thread_from_json(data)
    assert [p["spoiler_text"] for p in draft_statuses(old)] == ["t", "t"]


def test_bluesky_warns_once_for_a_split_post_with_a_cw() -> None:
    long = " ".join(["A sentence that takes some room in the post."] * 20)
    draft = _draft(f"> cw mine\n{long}")
    thread = plan_thread(draft, BLUESKY_LIMITS)
    assert len(thread.posts) > 2
    assert all(post.cw == "mine" for post in thread.posts)
    problems = BLUESKY_RULES.thread_problems(thread, draft.front)
    assert [(p.post, p.line) for p in problems] == [(1, 1)]
