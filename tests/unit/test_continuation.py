"""`--continue ID` against a ledger (no network): the chain's end on each network, the
count numbering goes on from, networks the chain never reached, and a chain whose end is
still being posted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes import make_thread
from threadpost.continuation import continuation_of
from threadpost.errors import UsageError
from threadpost.store import Ledger, open_ledger
from threadpost.thread import ReplyTarget
from threadpost.values import PlatformName, PostRef

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _thread(
    ledger: Ledger,
    name: str,
    counts: dict[PlatformName, int],
    *,
    continues: str | None = None,
    published: bool = True,
    at: int = 0,
) -> str:
    plans = {}
    for platform, n in counts.items():
        plan = make_thread(platform, n)
        if continues is not None:
            plan = replace(plan, reply_to=ReplyTarget(address="x", continues=continues))
        plans[platform] = plan
    now = NOW + timedelta(minutes=at)
    thread_id = ledger.create_thread(
        draft_path=f"/drafts/{name}.md",
        content_hash=name,
        title=None,
        plans=plans,
        schedule_at=None,
        state="published" if published else "incomplete",
        now=now,
    )
    if published:
        for platform, n in counts.items():
            for index in range(1, n + 1):
                ref = PostRef(
                    platform, index, f"{name}-{platform}-{index}", f"https://x/{name}/{index}"
                )
                ledger.confirm_posts(thread_id, [ref], now)
            ledger.set_platform(thread_id, platform, state="published")
    return thread_id


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return open_ledger(tmp_path / "ledger.db")


def test_the_chain_end_and_its_count_per_network(ledger: Ledger) -> None:
    first = _thread(ledger, "a", {"mastodon": 3, "bluesky": 4})
    _thread(ledger, "b", {"mastodon": 2}, continues=first, at=1)
    continued = continuation_of(ledger, first[:5], ["mastodon", "bluesky"])
    mastodon, bluesky = continued.by_network["mastodon"], continued.by_network["bluesky"]
    assert (mastodon.parent.remote_id, mastodon.earlier_posts) == ("b-mastodon-2", 5)
    assert (bluesky.parent.remote_id, bluesky.earlier_posts) == ("a-bluesky-4", 4)
    assert mastodon.parent.continues == first
    assert continued.skipped == {}


def test_naming_a_continuation_continues_the_same_chain(ledger: Ledger) -> None:
    first = _thread(ledger, "a", {"mastodon": 3})
    second = _thread(ledger, "b", {"mastodon": 2}, continues=first, at=1)
    by_second = continuation_of(ledger, second, ["mastodon"]).by_network["mastodon"]
    assert (by_second.parent.remote_id, by_second.earlier_posts) == ("b-mastodon-2", 5)


def test_a_network_the_chain_never_reached_is_skipped_or_refused(ledger: Ledger) -> None:
    first = _thread(ledger, "a", {"mastodon": 3})
    continued = continuation_of(ledger, first, ["mastodon", "bluesky"])
    assert list(continued.by_network) == ["mastodon"]
    assert continued.skipped == {"bluesky": f"thread {first} was not published to bluesky"}
    with pytest.raises(UsageError, match="was not published to bluesky"):
        continuation_of(ledger, first, ["bluesky"])


def test_an_unfinished_end_is_refused(ledger: Ledger) -> None:
    first = _thread(ledger, "a", {"mastodon": 3})
    second = _thread(ledger, "b", {"mastodon": 2}, continues=first, published=False, at=1)
    with pytest.raises(UsageError) as caught:
        continuation_of(ledger, first, ["mastodon"])
    assert f"thread {second}" in caught.value.message
    assert "once it is published" in caught.value.message
