"""Replying to a post and continuing a thread (pure): the `reply_to` syntax, which network
each address is for, what `check` says, numbering that goes on, the frozen plan, and the
dry run's reply parameters."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from threadpost.draft import Draft, parse_draft
from threadpost.errors import DraftError
from threadpost.plan import Continuation, ReplyTarget, plan_thread
from threadpost.platforms.bluesky.records import draft_records
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.preview_parts import replying_to_text
from threadpost.store import thread_from_json, thread_to_json

TOOT = "https://mastodon.social/@bob/113000000000000001"
SKEET = "https://bsky.app/profile/bob.bsky.social/post/3kabc2defgh2k"
AT_URI = "at://did:plc:abc123/app.bsky.feed.post/3kabc2defgh2k"


def _draft(front: str, body: str = "One.\n---\nTwo.") -> Draft:
    return parse_draft(f"+++\n{front}\n+++\n{body}".encode(), Path("/tmp/d.md"))


def test_a_single_address_applies_to_the_network_it_belongs_to() -> None:
    for address, mastodon, bluesky in (
        (TOOT, TOOT, None),
        (SKEET, None, SKEET),
        (AT_URI, None, AT_URI),
    ):
        front = _draft(f'reply_to = "{address}"').front
        assert MASTODON_RULES.reply_address(front) == mastodon
        assert BLUESKY_RULES.reply_address(front) == bluesky


def test_a_table_names_one_post_per_network() -> None:
    draft = _draft(f'title = "x"\nreply_to = {{ mastodon = "{TOOT}", bluesky = "{AT_URI}" }}')
    assert draft.front.reply_to_networks == (("mastodon", TOOT), ("bluesky", AT_URI))
    mastodon = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    bluesky = plan_thread(draft, BLUESKY_LIMITS)
    assert mastodon.reply_to == ReplyTarget(address=TOOT, line=3)
    assert bluesky.reply_to == ReplyTarget(address=AT_URI, line=3)
    assert MASTODON_RULES.thread_problems(mastodon, draft.front) == []
    assert BLUESKY_RULES.thread_problems(bluesky, draft.front) == []


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ('reply_to = ""', "reply_to is empty"),
        ("reply_to = 3", "not a number"),
        ('reply_to = { threads = "https://x.example/1" }', "unknown network 'threads'"),
        ("reply_to = { mastodon = 1 }", "reply_to.mastodon must be a post's address"),
    ],
)
def test_malformed_reply_to_names_its_line(front: str, message: str) -> None:
    with pytest.raises(DraftError) as caught:
        _draft(f'title = "x"\n{front}')
    assert caught.value.line == 3
    assert message in str(caught.value)


def test_check_refuses_an_address_of_the_wrong_network_and_warns_about_the_other() -> None:
    wrong = _draft(f'reply_to = {{ mastodon = "{AT_URI}", bluesky = "{TOOT}" }}')
    (on_mastodon,) = MASTODON_RULES.thread_problems(
        plan_thread(wrong, MASTODON_DEFAULT_LIMITS), wrong.front
    )
    (on_bluesky,) = BLUESKY_RULES.thread_problems(plan_thread(wrong, BLUESKY_LIMITS), wrong.front)
    assert (on_mastodon.severity, on_mastodon.code, on_mastodon.line) == (
        "error",
        "reply-to-not-mastodon",
        2,
    )
    assert (on_bluesky.severity, on_bluesky.code, on_bluesky.line) == (
        "error",
        "reply-to-not-bluesky",
        2,
    )

    single = _draft(f'reply_to = "{SKEET}"')
    mastodon = plan_thread(single, MASTODON_DEFAULT_LIMITS)
    assert mastodon.reply_to is None  # the Mastodon thread starts on its own...
    (warning,) = MASTODON_RULES.thread_problems(mastodon, single.front)
    assert (warning.severity, warning.code, warning.line) == ("warning", "reply-to-elsewhere", 2)


def test_an_address_of_no_network_is_an_error() -> None:
    draft = _draft('reply_to = "hello there"')
    for rules, limits in (
        (MASTODON_RULES, MASTODON_DEFAULT_LIMITS),
        (BLUESKY_RULES, BLUESKY_LIMITS),
    ):
        (problem,) = rules.thread_problems(plan_thread(draft, limits), draft.front)
        assert (problem.severity, problem.code, problem.line) == ("error", "reply-to-not-a-post", 2)


def test_bluesky_reply_controls_cannot_rule_a_reply() -> None:
    draft = _draft(f'reply_to = "{SKEET}"\nbluesky_replies = "nobody"')
    thread = plan_thread(draft, BLUESKY_LIMITS)
    (problem,) = BLUESKY_RULES.thread_problems(thread, draft.front)
    assert (problem.code, problem.line) == ("reply-controls-on-reply", 3)


def test_the_dry_run_shows_the_parent_as_post_1_reply() -> None:
    draft = _draft(f'reply_to = {{ mastodon = "{TOOT}", bluesky = "{SKEET}" }}')
    first, second = draft_statuses(plan_thread(draft, MASTODON_DEFAULT_LIMITS))
    assert first["in_reply_to_id"] == f"<id of {TOOT}>"
    assert second["in_reply_to_id"] == "<id of post 1>"

    one, two = draft_records(plan_thread(draft, BLUESKY_LIMITS))
    parent = "at://did:?:bob.bsky.social/app.bsky.feed.post/3kabc2defgh2k"
    assert one["reply"]["parent"]["uri"] == parent
    assert "root of" in one["reply"]["root"]["uri"]
    # The second post's root is the conversation's, not the thread's first post.
    assert two["reply"]["root"] == one["reply"]["root"]
    assert two["reply"]["parent"]["uri"].startswith("at://did:plc:(your-account)/")


def test_a_found_parent_is_what_the_records_name() -> None:
    found = ReplyTarget(
        address=SKEET,
        remote_id=AT_URI,
        cid="bafyparent",
        root_id="at://did:plc:root/app.bsky.feed.post/3kroot22222k2",
        root_cid="bafyroot",
    )
    draft = _draft(f'reply_to = "{SKEET}"')
    thread = plan_thread(draft, BLUESKY_LIMITS)
    one, two = draft_records(replace(thread, reply_to=found))
    assert one["reply"] == {
        "root": {"uri": found.root_id, "cid": "bafyroot"},
        "parent": {"uri": AT_URI, "cid": "bafyparent"},
    }
    assert two["reply"]["root"] == {"uri": found.root_id, "cid": "bafyroot"}


def test_a_continuation_numbers_on_and_replies_to_the_earlier_last_post() -> None:
    parent = ReplyTarget(address=TOOT, continues="3f2a91c0", remote_id="113000000000000001")
    draft = _draft('title = "more"', "Thirteen.\n---\nFourteen.\n---\nFifteen.")
    thread = plan_thread(
        draft, MASTODON_DEFAULT_LIMITS, continuation=Continuation(parent, earlier_posts=12)
    )
    assert [post.text for post in thread.posts] == [
        "Thirteen. 13/15",
        "Fourteen. 14/15",
        "Fifteen. 15/15",
    ]
    assert thread.reply_to == replace(parent, earlier_posts=12)
    assert draft_statuses(thread)[0]["in_reply_to_id"] == "113000000000000001"
    assert replying_to_text(thread) == f"↳ replying to {TOOT} (continuing thread 3f2a91c0)"


def test_one_post_continuing_a_thread_is_numbered_and_numbering_false_stays_off() -> None:
    parent = ReplyTarget(address=TOOT, continues="3f2a91c0", remote_id="1")
    one = _draft('title = "x"', "Just one more.")
    (post,) = plan_thread(one, MASTODON_DEFAULT_LIMITS, continuation=Continuation(parent, 4)).posts
    assert post.text == "Just one more. 5/5"
    off = _draft("numbering = false", "Just one more.")
    (post,) = plan_thread(off, MASTODON_DEFAULT_LIMITS, continuation=Continuation(parent, 4)).posts
    assert post.text == "Just one more."


def test_numbering_that_gains_a_digit_counts_it_in_the_limit() -> None:
    parent = ReplyTarget(address=TOOT, continues="3f2a91c0", remote_id="1")
    body = "\n---\n".join(" ".join(["word"] * 98) for _ in range(3))  # 489 characters each
    thread = plan_thread(
        _draft('title = "x"', body), MASTODON_DEFAULT_LIMITS, continuation=Continuation(parent, 98)
    )
    total = 98 + len(thread.posts)
    assert total >= 101
    for n, post in enumerate(thread.posts, start=99):
        assert post.text.endswith(f" {n}/{total}")
        assert post.length <= 500
    assert thread.problems == ()


def test_the_reply_target_survives_the_frozen_plan() -> None:
    found = ReplyTarget(
        address=SKEET, line=2, remote_id=AT_URI, cid="bafy", root_id=AT_URI, root_cid="bafy"
    )
    thread = plan_thread(_draft(f'reply_to = "{SKEET}"'), BLUESKY_LIMITS)
    frozen = replace(thread, reply_to=found)
    assert thread_from_json(thread_to_json(frozen)) == frozen
    # A plan frozen before replies existed starts a conversation.
    old = thread_to_json(thread)
    del old["reply_to"]
    assert thread_from_json(old).reply_to is None


def test_an_edited_continuation_is_replanned_under_the_same_post_numbered_on() -> None:
    from threadpost.reply_parents import frozen_continuation

    parent = ReplyTarget(address=TOOT, continues="3f2a91c0", remote_id="113000000000000001")
    before = _draft('title = "x"', "Thirteen.\n---\nFourteen.")
    frozen = plan_thread(
        before, MASTODON_DEFAULT_LIMITS, continuation=Continuation(parent, earlier_posts=12)
    )
    frozen = thread_from_json(thread_to_json(frozen))  # as the ledger keeps it
    again = frozen_continuation({"mastodon": frozen})
    assert again is not None
    edited = _draft('title = "x"', "Thirteen, edited.\n---\nFourteen.\n---\nFifteen.")
    replanned = plan_thread(edited, MASTODON_DEFAULT_LIMITS, continuation=again["mastodon"])
    assert [p.text[-5:] for p in replanned.posts] == ["13/15", "14/15", "15/15"]
    assert replanned.reply_to == frozen.reply_to
    assert frozen_continuation({"mastodon": plan_thread(before, MASTODON_DEFAULT_LIMITS)}) is None


def test_the_example_follow_up_replies_on_both_networks() -> None:
    from threadpost.draft import read_draft

    draft = read_draft(Path(__file__).resolve().parents[2] / "drafts" / "follow-up.md")
    mastodon = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    bluesky = plan_thread(draft, BLUESKY_LIMITS)
    assert mastodon.reply_to is not None and "mastodon.example" in mastodon.reply_to.address
    assert bluesky.reply_to is not None and "bsky.app" in bluesky.reply_to.address
    assert MASTODON_RULES.thread_problems(mastodon, draft.front) == []
    assert BLUESKY_RULES.thread_problems(bluesky, draft.front) == []
