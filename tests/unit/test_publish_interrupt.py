"""Ctrl-C while both networks publish at once (each in its own worker thread): the
interrupt reaches the main thread only; both workers stop, the lease is released only
after they have, and the ledger stays consistent, so that the next pass sends each post
exactly once."""

from __future__ import annotations

import _thread
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes import FakePublisher, FakeServer, make_thread
from threadpost import concurrent_networks
from threadpost.lease import thread_lease
from threadpost.platforms.base import Publisher
from threadpost.publish import publish_thread
from threadpost.retry import RetryPolicy
from threadpost.store import Ledger, open_ledger
from threadpost.values import PlatformName

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3).without_sleep()
POSTS = 5


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


def _thread_for_both(ledger: Ledger) -> str:
    return ledger.create_thread(
        draft_path="/drafts/t.md",
        content_hash="h1",
        title=None,
        plans={p: make_thread(p, POSTS) for p in ("mastodon", "bluesky")},
        schedule_at=None,
        state="scheduled",
        now=NOW,
    )


def _opener(*publishers: FakePublisher):  # type: ignore[no-untyped-def]
    by_platform = {p.platform: p for p in publishers}

    def open_publisher(platform: PlatformName) -> Publisher:
        return by_platform[platform]

    return open_publisher


def _publish_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("publish")]


def test_ctrl_c_stops_both_networks_and_the_next_pass_sends_each_post_once(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen from the test: the main thread has heard Ctrl-C and asked the workers to stop.
    asked = threading.Event()
    request = concurrent_networks._Stop.request

    def noted(self: concurrent_networks._Stop, cause: BaseException | None = None) -> None:
        request(self, cause)
        asked.set()

    monkeypatch.setattr(concurrent_networks._Stop, "request", noted)
    server = FakeServer()

    def bluesky_before(index: int) -> None:
        if index == 2:
            # Ctrl-C as Bluesky is about to send post 2: the main thread handles it.
            _thread.interrupt_main()
            assert asked.wait(10)

    def mastodon_before(index: int) -> None:
        if index == 2:
            assert asked.wait(10)

    mastodon = FakePublisher("mastodon", server, before_post=mastodon_before)
    bluesky = FakePublisher("bluesky", server, before_post=bluesky_before)
    thread_id = _thread_for_both(ledger)

    with (
        pytest.raises(KeyboardInterrupt),
        thread_lease(ledger, thread_id, ttl=timedelta(minutes=5)) as lease,
    ):
        publish_thread(
            ledger,
            thread_id,
            _opener(mastodon, bluesky),
            max_attempts=8,
            policy=POLICY,
            lease=lease,
        )

    assert _publish_workers() == [], "a worker is still running after publish_thread"
    assert ledger.lease_holder(f"thread:{thread_id}", None) is None, "lease released"
    for platform in ("mastodon", "bluesky"):
        posts = ledger.posts(thread_id, platform)
        sent = [p["idx"] for p in server.posts(platform)]
        confirmed = [p.index for p in posts if p.state == "confirmed"]
        # What the ledger confirms landed; what landed is confirmed or still in doubt.
        assert confirmed == list(range(1, len(confirmed) + 1))
        assert set(confirmed) <= set(sent)
        doubtful = {p.index for p in posts if p.state == "sending"}
        assert set(sent) <= set(confirmed) | doubtful
    # Each worker stopped at its next step: the post in flight landed and was recorded,
    # the next one was never sent.
    for platform in ("mastodon", "bluesky"):
        assert [p["idx"] for p in server.posts(platform)] == [1, 2], platform
        states = [p.state for p in ledger.posts(thread_id, platform)]
        # As after a Ctrl-C with one network: the rest of the attempt stays in doubt.
        assert states == ["confirmed", "confirmed", "sending", "sending", "sending"]

    # Nothing lost, nothing twice: the next pass looks up what is in doubt and finishes.
    again = publish_thread(
        ledger, thread_id, _opener(mastodon, bluesky), max_attempts=8, policy=POLICY
    )
    assert again.state == "published"
    for platform in ("mastodon", "bluesky"):
        posts = [p for p in server.posts(platform) if not p["deleted"]]
        assert [p["idx"] for p in posts] == list(range(1, POSTS + 1)), "each post once"
        for before, post in itertools.pairwise(posts):
            assert post["parent"] == before["remote_id"]
