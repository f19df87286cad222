"""Mastodon quotes (pure): native where the instance quotes, else the address as a link in
the text (counted, and warned about); what the instance document says; the dry run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from threadpost.draft import Draft, parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.instance import limits_from_instance
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.store import thread_from_json, thread_to_json

ADDRESS = "https://mastodon.social/@bob/113000000000000001"
QUOTING = replace(MASTODON_DEFAULT_LIMITS, quote_posts=True, source="instance")
NOT_QUOTING = replace(MASTODON_DEFAULT_LIMITS, source="instance")


def _draft(text: str) -> Draft:
    return parse_draft(text.encode(), Path("/tmp/d.md"))


def test_api_version_7_means_quote_posts() -> None:
    assert limits_from_instance({"api_versions": {"mastodon": 7}}).quote_posts
    assert limits_from_instance({"api_versions": {"mastodon": 8}}).quote_posts
    assert not limits_from_instance({"api_versions": {"mastodon": 6}}).quote_posts
    assert not limits_from_instance({"version": "4.3.0"}).quote_posts  # no api_versions
    assert not limits_from_instance({"api_versions": "7"}).quote_posts
    assert not MASTODON_DEFAULT_LIMITS.quote_posts  # offline: not known


def test_a_quoting_instance_gets_the_quote_as_quoted_status_id_not_in_the_text() -> None:
    draft = _draft(f"About this:\n> quote {ADDRESS}\n---\nTwo.")
    thread = plan_thread(draft, QUOTING)
    first, second = draft_statuses(thread)
    assert (first["status"], first["quoted_status_id"]) == ("About this: 1/2", f"<id of {ADDRESS}>")
    assert second["quoted_status_id"] is None
    assert MASTODON_RULES.thread_problems(thread, draft.front) == []


def test_elsewhere_the_address_is_appended_counted_and_warned_about() -> None:
    draft = _draft(f"About this:\n> quote {ADDRESS}\n---\nTwo.")
    thread = plan_thread(draft, NOT_QUOTING)
    first, _ = draft_statuses(thread)
    assert first["status"] == f"About this:\n\n{ADDRESS} 1/2"
    assert first["quoted_status_id"] is None
    assert thread.posts[0].length == len("About this:\n\n") + 23 + len(" 1/2")
    (problem,) = MASTODON_RULES.thread_problems(thread, draft.front)
    assert (problem.severity, problem.code, problem.post, problem.line) == (
        "warning",
        "quote-as-link",
        1,
        2,
    )
    assert "the instance cannot make quote posts" in problem.message


def test_the_appended_link_can_make_a_post_split_and_the_quote_stays_on_the_first() -> None:
    text = " ".join(["word"] * 96)  # 479 characters: fits alone, not with 2 + 23 more
    thread = plan_thread(_draft(f"{text}\n> quote {ADDRESS}"), NOT_QUOTING)
    assert len(thread.posts) == 2
    assert ADDRESS in thread.posts[1].text and ADDRESS not in thread.posts[0].text
    assert (thread.posts[0].quote, thread.posts[1].quote) == (ADDRESS, None)
    assert all(post.length <= 500 for post in thread.posts)


def test_a_bluesky_post_is_linked_even_where_the_instance_quotes() -> None:
    address = "https://bsky.app/profile/alice.test/post/3jzfcijpj2z2a"
    draft = _draft(f"Look.\n> quote {address}")
    thread = plan_thread(draft, QUOTING)
    (payload,) = draft_statuses(thread)
    assert (payload["status"], payload["quoted_status_id"]) == (f"Look.\n\n{address}", None)
    (problem,) = MASTODON_RULES.thread_problems(thread, draft.front)
    assert problem.code == "quote-as-link"
    assert "a Bluesky post, which no Mastodon instance can quote" in problem.message


def test_an_address_already_in_the_text_is_not_repeated() -> None:
    thread = plan_thread(_draft(f"See {ADDRESS}\n> quote {ADDRESS}"), NOT_QUOTING)
    assert thread.posts[0].text == f"See {ADDRESS}"


def test_a_quote_only_post_gets_the_link_as_its_text() -> None:
    thread = plan_thread(_draft(f"One.\n---\n> quote {ADDRESS}\nTwo."), NOT_QUOTING)
    assert thread.posts[1].text == f"Two.\n\n{ADDRESS} 2/2"


def test_an_at_uri_is_an_error_on_mastodon_and_bluesky_gets_no_link() -> None:
    uri = "at://did:plc:abc/app.bsky.feed.post/3aaa"
    draft = _draft(f"Look.\n> quote {uri}")
    for limits in (QUOTING, NOT_QUOTING):
        thread = plan_thread(draft, limits)
        assert thread.posts[0].text == "Look."
        (problem,) = MASTODON_RULES.thread_problems(thread, draft.front)
        assert (problem.severity, problem.code, problem.line) == ("error", "quote-not-mastodon", 2)
    bluesky = plan_thread(_draft(f"Look.\n> quote {ADDRESS}"), BLUESKY_LIMITS)
    assert bluesky.posts[0].text == "Look."


def test_quote_support_survives_the_ledger_and_the_quote_is_in_the_key() -> None:
    from threadpost.platforms.mastodon.publisher import idempotency_key

    draft = _draft(f"About this:\n> quote {ADDRESS}")
    thread = plan_thread(draft, QUOTING)
    assert thread_from_json(thread_to_json(thread)) == thread
    other = plan_thread(_draft(f"About this:\n> quote {ADDRESS}2"), QUOTING)
    assert idempotency_key("a@x", "t", thread.posts[0], thread) != idempotency_key(
        "a@x", "t", other.posts[0], other
    )
