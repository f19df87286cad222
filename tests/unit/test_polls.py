"""Polls: the `> poll` lines, `check` against the instance's poll limits, the payload,
Bluesky's warning, the ledger (pure)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from threadpost.draft import DEFAULT_POLL_SECONDS, Draft, Poll, parse_draft, poll_duration
from threadpost.errors import DraftError
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.platforms.mastodon.instance import limits_from_instance
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.store import thread_from_json, thread_to_json


def _draft(text: str, folder: Path = Path("/tmp")) -> Draft:
    return parse_draft(text.encode(), folder / "d.md")


def test_poll_lines_make_a_poll_and_leave_the_text() -> None:
    draft = _draft(
        "Intro.\n---\nWhich?\n> poll Tea | Coffee |  Water \n> poll-duration 1d 12h\n"
        "> poll-multiple\n> poll-hide-totals\n---\nNo poll.\n> poll-ish prose | stays"
    )
    one, two, three = draft.posts
    assert one.poll is None
    assert two.text == "Which?"
    assert two.poll == Poll(
        options=("Tea", "Coffee", "Water"),
        expires_in=36 * 3600,
        multiple=True,
        hide_totals=True,
        line=4,
    )
    assert three.poll is None and "poll-ish" in three.text


def test_a_poll_alone_lasts_a_day_single_choice_totals_shown() -> None:
    (post,) = _draft("Q?\n> poll: Yes | No").posts
    assert post.poll == Poll(options=("Yes", "No"), line=2)
    assert post.poll.expires_in == DEFAULT_POLL_SECONDS == 86_400


def test_a_line_without_a_bar_is_prose() -> None:
    (post,) = _draft("Q?\n> poll everyone you know").posts
    assert post.poll is None and post.text.endswith("> poll everyone you know")


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("30m", 1800), ("6h", 21600), ("3d", 259200), ("1w", 604800), ("2 days, 3 hours", 183600)],
)
def test_durations(written: str, seconds: int) -> None:
    assert poll_duration(written) == seconds


@pytest.mark.parametrize("written", ["soon", "3 fortnights", "3", "3d and more"])
def test_bad_durations(written: str) -> None:
    assert poll_duration(written) is None


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("Q\n> poll A | | B", 2, "option is empty"),
        ("Q\n> poll A | B\n> poll C | D", 3, "one poll"),
        ("Q\n> poll-multiple", 2, "without a poll"),
        ("Q\n> poll A | B\n> poll-duration forever", 3, "not a duration"),
        ("Q\n> poll A | B\n> poll-duration", 3, "needs a duration"),
        ("Q\n> poll A | B\n> poll-multiple yes", 3, "takes no value"),
        ("Q\n> poll A | B\n> poll-multiple\n> poll-multiple", 4, "given twice"),
    ],
)
def test_bad_poll_lines_name_their_line(body: str, line: int, words: str) -> None:
    with pytest.raises(DraftError) as caught:
        _draft(body)
    assert caught.value.line == line
    assert words in caught.value.message


def _mastodon_problems(text: str, limits=MASTODON_DEFAULT_LIMITS, folder=Path("/tmp")):  # type: ignore[no-untyped-def]
    draft = _draft(text, folder)
    thread = plan_thread(draft, limits)
    return MASTODON_RULES.thread_problems(thread, draft.front)


def test_a_valid_poll_has_no_problem_and_is_the_payload() -> None:
    draft = _draft("Q?\n> poll A | B | C | D\n> poll-duration 5m\n> poll-hide-totals")
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert MASTODON_RULES.thread_problems(thread, draft.front) == []
    (payload,) = draft_statuses(thread)
    assert payload["poll"] == {
        "options": ["A", "B", "C", "D"],
        "expires_in": 300,
        "multiple": False,
        "hide_totals": True,
    }


@pytest.mark.parametrize(
    ("poll", "words"),
    [
        ("> poll A | B | C | D | E", "5 options; Mastodon by default allows at most 4"),
        (f"> poll A | {'x' * 51}", "is 51 characters; Mastodon by default allows 50"),
        ("> poll A | B | A", "the option 'A' twice"),
        ("> poll A | B\n> poll-duration 4m", "lasts 4 minutes"),
        ("> poll A | B\n> poll-duration 31d", "lasts 31 days"),
    ],
)
def test_polls_over_the_limits_are_errors_naming_the_poll_line(poll: str, words: str) -> None:
    problems = _mastodon_problems(f"Intro\n---\nQ?\n{poll}")
    (problem,) = problems
    assert (problem.severity, problem.code, problem.post, problem.line) == (
        "error",
        "poll-invalid",
        2,
        4,
    )
    assert words in problem.message


def test_the_instance_limits_are_the_ones_checked() -> None:
    limits = limits_from_instance(
        {
            "configuration": {
                "polls": {
                    "max_options": 8,
                    "max_characters_per_option": 100,
                    "min_expiration": 60,
                    "max_expiration": 86_400,
                }
            }
        }
    )
    assert (limits.poll_max_options, limits.poll_max_characters_per_option) == (8, 100)
    assert (limits.poll_min_expiration, limits.poll_max_expiration) == (60, 86_400)
    assert _mastodon_problems("Q\n> poll A|B|C|D|E|F\n> poll-duration 1m", limits) == []
    (problem,) = _mastodon_problems("Q\n> poll A | B\n> poll-duration 2d", limits)
    assert "the instance allows 1 minute to 1 day" in problem.message
    # An instance stating nothing keeps Mastodon's documented defaults.
    bare = limits_from_instance({})
    assert (bare.poll_max_options, bare.poll_max_characters_per_option) == (4, 50)
    assert (bare.poll_min_expiration, bare.poll_max_expiration) == (300, 2_629_746)


def test_a_poll_and_images_on_one_post_is_an_error(tmp_path: Path) -> None:
    from mastodon_server.fixtures import write_image

    write_image(tmp_path / "a.png")
    (problem,) = _mastodon_problems("Q\n![a cat](a.png)\n> poll A | B", folder=tmp_path)
    assert (problem.code, problem.line) == ("poll-with-media", 3)


def test_bluesky_warns_and_sends_no_poll() -> None:
    draft = _draft("Q?\n> poll Tea | Coffee")
    thread = plan_thread(draft, BLUESKY_LIMITS)
    (problem,) = BLUESKY_RULES.thread_problems(thread, draft.front)
    assert (problem.severity, problem.code, problem.line) == ("warning", "poll-not-on-bluesky", 2)
    (record,) = BLUESKY_RULES.draft_payloads(thread)
    assert "poll" not in str(record).lower() and record["text"] == "Q?"


def test_the_poll_goes_on_the_first_post_of_a_split_and_survives_the_ledger() -> None:
    long = " ".join(["A sentence that takes some room in the post."] * 20)
    draft = _draft(f"{long}\n> poll A | B\n> poll-multiple")
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert [post.poll is not None for post in thread.posts] == [True, False]
    assert thread_from_json(thread_to_json(thread)) == thread
    data = thread_to_json(thread)
    for post in data["posts"]:
        del post["poll"]
    assert thread_from_json(data) == replace(
        thread, posts=tuple(replace(p, poll=None) for p in thread.posts)
    )


def test_the_poll_is_part_of_the_idempotency_key() -> None:
    from threadpost.platforms.mastodon.publisher import idempotency_key

    def key(text: str) -> str:
        thread = plan_thread(_draft(text), MASTODON_DEFAULT_LIMITS)
        return idempotency_key("alice@x", "t1", thread.posts[0], thread)

    assert key("Q?\n> poll A | B") != key("Q?\n> poll A | C")
    assert key("Q?\n> poll A | B") != key("Q?\n> poll A | B\n> poll-multiple")
    assert key("Q?\n> poll A | B") != key("Q?")
