"""`mastodon_quotes` (pure): parsed and validated from the front matter, sent as every
status's `quote_approval_policy`, kept through a frozen plan, never on Bluesky."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from threadpost.draft import Draft, parse_draft
from threadpost.errors import DraftError
from threadpost.plan import Thread, plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.edits import edit_fingerprint
from threadpost.platforms.mastodon.quote_policy_edits import policy_change, setting_changes
from threadpost.platforms.mastodon.quotes import (
    policy_problems,
    posted_quote_state,
    quote_denied,
    quote_permission,
    quote_state_warning,
)
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.status_view import quote_states
from threadpost.store import thread_from_json, thread_to_json
from threadpost.values import PlatformLimits, Problem

QUOTING = replace(MASTODON_DEFAULT_LIMITS, quote_posts=True, source="instance")


def _draft(text: str) -> Draft:
    return parse_draft(text.encode(), Path("/tmp/d.md"))


@pytest.mark.parametrize("policy", ["public", "followers", "nobody"])
def test_each_policy_goes_on_every_status(policy: str) -> None:
    draft = _draft(f'+++\nmastodon_quotes = "{policy}"\n+++\nOne.\n---\nTwo.')
    thread = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert [s["quote_approval_policy"] for s in draft_statuses(thread)] == [policy, policy]
    assert thread_from_json(thread_to_json(thread)).quote_policy == policy


def test_without_the_key_nothing_is_sent_so_the_account_default_applies() -> None:
    thread = plan_thread(_draft("One.\n---\nTwo."), MASTODON_DEFAULT_LIMITS)
    assert [s["quote_approval_policy"] for s in draft_statuses(thread)] == [None, None]


def test_bluesky_threads_carry_no_mastodon_policy() -> None:
    draft = _draft('+++\nmastodon_quotes = "nobody"\n+++\nOne.')
    assert plan_thread(draft, BLUESKY_LIMITS).quote_policy is None


def test_a_bad_value_names_the_file_and_line() -> None:
    with pytest.raises(DraftError) as caught:
        _draft('+++\ntitle = "t"\nmastodon_quotes = "everyone"\n+++\nOne.')
    error = caught.value
    assert error.line == 3
    assert "mastodon_quotes must be one of public, followers, nobody" in str(error)
    assert "'everyone'" in str(error)
    assert error.hint == '"public" lets everyone quote'


def _problems(front: str, limits: PlatformLimits) -> list[tuple[str, int | None]]:
    draft = _draft(f'+++\ntitle = "t"\n{front}+++\nOne.\n---\nTwo.')
    thread = plan_thread(draft, limits)
    return [(p.code, p.line) for p in policy_problems(thread, draft.front)]


def test_an_instance_before_4_5_is_warned_about_on_the_key_line() -> None:
    old = replace(MASTODON_DEFAULT_LIMITS, source="instance")
    assert _problems('mastodon_quotes = "nobody"\n', old) == [("quote-policy-unsupported", 3)]
    assert _problems('mastodon_quotes = "nobody"\n', QUOTING) == []
    assert _problems("", old) == []


def test_private_visibility_forces_nobody_which_is_said_unless_asked_for() -> None:
    front = 'visibility = "private"\nmastodon_quotes = "public"\n'
    assert _problems(front, QUOTING) == [("quote-policy-forced", 4)]
    assert _problems('visibility = "private"\nmastodon_quotes = "nobody"\n', QUOTING) == []
    # Only the replies private: still said (those statuses are forced).
    front = 'reply_visibility = "private"\nmastodon_quotes = "followers"\n'
    assert _problems(front, QUOTING) == [("quote-policy-forced", 4)]


def test_current_user_is_read_and_anything_else_is_unknown() -> None:
    def status(current: object) -> dict[str, object]:
        return {"quote_approval": {"automatic": [], "manual": [], "current_user": current}}

    assert [quote_permission(status(v)) for v in ("automatic", "manual", "denied")] == [
        "automatic",
        "manual",
        "denied",
    ]
    assert quote_permission(status("someday_new")) == "unknown"
    assert quote_permission({}) == "unknown"  # an instance before 4.5
    assert quote_permission({"quote_approval": None}) == "unknown"
    assert quote_denied(status("denied")) and not quote_denied(status("manual"))


def test_the_policy_does_not_change_an_edit_fingerprint() -> None:
    # A ledger written before mastodon_quotes existed must not see every post as edited.
    plain = plan_thread(_draft("One."), MASTODON_DEFAULT_LIMITS)
    draft = _draft('+++\nmastodon_quotes = "nobody"\n+++\nOne.')
    policed = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    assert edit_fingerprint(plain, plain.posts[0]) == edit_fingerprint(policed, policed.posts[0])


def test_the_posted_quote_state_is_read_from_the_answer() -> None:
    assert posted_quote_state({"quote": {"state": "pending", "quoted_status": None}}) == "pending"
    assert posted_quote_state({"quote": None}) is None
    assert posted_quote_state({"id": "1"}) is None  # an instance before 4.5


def test_a_quote_not_accepted_is_kept_as_a_warning_status_reads_back() -> None:
    assert quote_state_warning(1, "https://a.example/@x/1", "accepted") is None
    pending = quote_state_warning(2, "https://a.example/@x/1", "pending")
    rejected = quote_state_warning(3, "https://a.example/@x/1", "rejected")
    assert pending is not None and rejected is not None
    assert (pending.code, pending.post) == ("quote-pending", 2)
    assert "pending until they approve" in pending.message
    assert rejected.code == "quote-rejected" and "as rejected" in rejected.message
    unrelated = Problem("warning", "quote-as-link", "linked", "mastodon", 4)
    assert quote_states([pending, rejected, unrelated]) == {2: "pending", 3: "rejected"}


def test_a_policy_edit_needs_a_new_policy_and_an_instance_that_takes_it() -> None:
    def planned(front: str, limits: PlatformLimits) -> Thread:
        return plan_thread(_draft(f"+++\n{front}+++\nOne."), limits)

    public = planned('mastodon_quotes = "public"\n', QUOTING)
    nobody = planned('mastodon_quotes = "nobody"\n', QUOTING)
    dropped = planned("", QUOTING)
    assert policy_change(public, nobody) == "nobody"
    assert setting_changes(public, nobody) == (["quote policy"], None)
    assert policy_change(nobody, nobody) is None
    assert setting_changes(public, dropped) == ([], None)  # the statuses keep theirs
    old_instance = planned('mastodon_quotes = "nobody"\n', MASTODON_DEFAULT_LIMITS)
    fields, note = setting_changes(
        public, replace(old_instance, limits=replace(MASTODON_DEFAULT_LIMITS, source="instance"))
    )
    assert fields == [] and note is not None and "Mastodon 4.5" in note
