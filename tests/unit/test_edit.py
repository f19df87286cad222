"""Editing a published thread (`threadpost.edit`, `platforms/mastodon/edits.py`), without a
network: what counts as changed, what an edit refuses, how the ledger records edits, and
that a second pass or a pass after a failure sends only what is left."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes import make_thread
from threadpost.draft import Image, Poll
from threadpost.edit import apply_edit, edit_offer, plan_edit
from threadpost.errors import PermanentError, StoreError, ValidationFailed
from threadpost.plan import PlannedPost, Thread
from threadpost.platforms.mastodon.edits import (
    edit_body,
    edit_fingerprint,
    edit_refusal,
    edited_fields,
)
from threadpost.store import Ledger, open_ledger
from threadpost.values import PlatformName, PostRef

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


def _with_post(thread: Thread, index: int, **changes: object) -> Thread:
    posts = tuple(
        replace(post, **changes) if post.index == index else post  # type: ignore[arg-type]
        for post in thread.posts
    )
    return replace(thread, posts=posts)


def _published(ledger: Ledger, platforms: tuple[PlatformName, ...] = ("mastodon",)) -> str:
    thread_id = ledger.create_thread(
        draft_path="/drafts/t.md",
        content_hash="h1",
        title=None,
        plans={p: make_thread(p, 3) for p in platforms},
        schedule_at=None,
        state="published",
        now=NOW,
    )
    for platform in platforms:
        for index in (1, 2, 3):
            ref = PostRef(platform, index, f"{platform}-{index}", f"https://x/{platform}/{index}")
            ledger.confirm_posts(thread_id, [ref], NOW)
        ledger.set_platform(thread_id, platform, state="published")
    return thread_id


class FakeEditor:
    """An editing publisher recording what it was asked to edit; fails on `fail_on`."""

    platform: PlatformName = "mastodon"

    def __init__(self, fail_on: int | None = None) -> None:
        self.edited: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def edit(
        self, ref: PostRef, thread: Thread, post: PlannedPost, changes: Sequence[str] = ()
    ) -> str | None:
        if post.index == self.fail_on:
            raise PermanentError("refused", platform="mastodon", post=post.index)
        self.edited.append((ref.remote_id, post.text))
        return "2026-12-03T09:00:00.000Z"


# -- what changes, what is refused ----------------------------------------------------------


def test_the_fingerprint_follows_what_is_sent_not_where_it_came_from() -> None:
    thread = make_thread("mastodon", 3)
    post = thread.posts[1]
    assert edit_fingerprint(thread, post) == edit_fingerprint(thread, replace(post, source_line=99))
    assert edit_fingerprint(thread, post) != edit_fingerprint(thread, replace(post, text="x"))
    assert edit_fingerprint(thread, post) != edit_fingerprint(
        replace(thread, spoiler_text="cw"), post
    )


def test_edited_fields_name_what_changes() -> None:
    old = make_thread("mastodon", 3)
    new = replace(_with_post(old, 2, text="New text 2/3"), lang="de", spoiler_text="cw")
    assert edited_fields(old, old.posts[1], new, new.posts[1]) == [
        "text",
        "content warning",
        "language",
    ]


def test_what_an_edit_cannot_carry_is_refused() -> None:
    old = make_thread("mastodon", 3)
    image = Image(path=Path("/d/a.png"), alt="A", line=3, written_path="a.png")
    cases = {
        "visibility": replace(old, visibility="unlisted"),
        "images changed": _with_post(old, 1, images=(image,)),
        "poll": _with_post(old, 1, poll=Poll(options=("A", "B"))),
        "quoted post": _with_post(old, 1, quote="https://example.org/@a/1"),
    }
    for words, new in cases.items():
        refusal = edit_refusal(old, old.posts[0], new, new.posts[0])
        assert refusal is not None and words in refusal, words
    assert edit_refusal(old, old.posts[0], old, replace(old.posts[0], text="new")) is None


def test_the_edit_body_keeps_each_attachment_with_its_alt_text() -> None:
    image = Image(path=Path("/d/a.png"), alt="New alt", line=3, written_path="a.png")
    thread = _with_post(make_thread("mastodon", 3), 2, images=(image,))
    body = edit_body(thread, thread.posts[1], ["m1"])
    assert body["media_ids"] == ["m1"]
    assert body["media_attributes"] == [{"id": "m1", "description": "New alt"}]
    assert body["language"] == "fr" and body["spoiler_text"] == ""
    assert "in_reply_to_id" not in body and "visibility" not in body


# -- planning and applying against the ledger -----------------------------------------------


def test_only_changed_posts_are_planned_and_a_second_pass_sends_nothing(ledger: Ledger) -> None:
    thread_id = _published(ledger)
    new = _with_post(make_thread("mastodon", 3), 2, text="Post 2 corrected 2/3")
    plan = plan_edit(ledger, thread_id, {"mastodon": new}, "h2")
    assert [(e.index, e.fields, e.ref.remote_id) for e in plan.edits] == [
        (2, ("text",), "mastodon-2")
    ]
    editor = FakeEditor()
    apply_edit(ledger, plan, lambda platform: editor, clock=lambda: NOW)
    assert editor.edited == [("mastodon-2", "Post 2 corrected 2/3")]
    [recorded] = ledger.edits(thread_id)
    assert (recorded.index, recorded.text, recorded.edited_at) == (2, "Post 2 corrected 2/3", NOW)
    assert ledger.plan(thread_id, "mastodon").posts[1].text == "Post 2 corrected 2/3"
    assert ledger.thread(thread_id).content_hash == "h2"
    assert plan_edit(ledger, thread_id, {"mastodon": new}, "h2").edits == ()


def test_a_failed_edit_keeps_the_ones_made_and_the_next_pass_sends_the_rest(
    ledger: Ledger,
) -> None:
    thread_id = _published(ledger)
    new = make_thread("mastodon", 3, tag=" fixed")
    plan = plan_edit(ledger, thread_id, {"mastodon": new}, "h2")
    assert [e.index for e in plan.edits] == [1, 2, 3]
    with pytest.raises(PermanentError):
        apply_edit(ledger, plan, lambda platform: FakeEditor(fail_on=2), clock=lambda: NOW)
    assert [e.index for e in ledger.edits(thread_id)] == [1]
    assert ledger.thread(thread_id).content_hash == "h1"  # not every post is edited yet
    again = plan_edit(ledger, thread_id, {"mastodon": new}, "h2")
    assert [e.index for e in again.edits] == [2, 3]


def test_a_different_number_of_posts_and_an_unfinished_thread_are_refused(
    ledger: Ledger,
) -> None:
    thread_id = _published(ledger)
    with pytest.raises(ValidationFailed, match=r"makes 4 post.* where 3 were published"):
        plan_edit(ledger, thread_id, {"mastodon": make_thread("mastodon", 4)}, "h2")
    ledger.set_thread_state(thread_id, "incomplete", NOW)
    with pytest.raises(StoreError, match="is incomplete; only a published thread"):
        plan_edit(ledger, thread_id, {"mastodon": make_thread("mastodon", 3)}, "h2")


def test_bluesky_is_never_edited_and_its_differences_are_counted(ledger: Ledger) -> None:
    thread_id = _published(ledger, ("mastodon", "bluesky"))
    plans = {
        "mastodon": make_thread("mastodon", 3),
        "bluesky": _with_post(make_thread("bluesky", 3), 3, text="changed 3/3"),
    }
    plan = plan_edit(ledger, thread_id, plans, "h2")
    assert plan.edits == ()
    assert plan.not_editable == {"bluesky": 1}
    assert plan.notes() == [
        "bluesky: 1 post(s) differ from the draft; Bluesky has no edits; its posts stay as "
        "published (deleting and posting again would lose their replies, likes and reposts, "
        "so threadpost never does it by itself)"
    ]
    assert "threadpost edit" in edit_offer(ledger.thread(thread_id))
    bluesky_only = _published(ledger, ("bluesky",))
    assert edit_offer(ledger.thread(bluesky_only)) == ""
