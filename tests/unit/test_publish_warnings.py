"""publish.py: adapter warnings reach the outcome and the ledger; posts that landed with
doubts (Bluesky CIDs) are published, not failed; look-ups get the plan, the parent and
the first attempt time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes import Crash, FakePublisher, FakeServer, make_thread
from threadpost.clock import FrozenClock
from threadpost.errors import ExitStatus
from threadpost.platforms.base import Publisher
from threadpost.publish import publish_thread
from threadpost.retry import RetryPolicy
from threadpost.store import Ledger, open_ledger
from threadpost.values import PlatformName

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3).without_sleep()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


def _new(ledger: Ledger, platform: PlatformName = "bluesky", n: int = 5) -> str:
    return ledger.create_thread(
        # A draft of its own: the ledger allows one unfinished thread per draft.
        draft_path=f"/drafts/t{len(ledger.threads())}.md",
        content_hash="h1",
        title=None,
        plans={platform: make_thread(platform, n)},
        schedule_at=None,
        state="scheduled",
        now=NOW,
    )


def _opener(fake: FakePublisher):  # type: ignore[no-untyped-def]
    def open_publisher(platform: PlatformName) -> Publisher:
        assert platform == fake.platform
        return fake

    return open_publisher


def test_adapter_warnings_reach_the_outcome_and_the_ledger_once(ledger: Ledger) -> None:
    server = FakeServer()
    # A warning at post 2, then a transient failure at post 4 that is retried: the
    # warning is reported once, the retry does not repeat it.
    fake = FakePublisher("bluesky", server).fail_at(2, "warn").fail_at(4, "transient")
    thread_id = _new(ledger)
    result = publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    (outcome,) = result.outcomes
    assert outcome.status == "published" and result.exit_status == ExitStatus.OK
    assert outcome.warnings == ("post 2: no link card: connection refused",)
    assert outcome.to_json()["warnings"] == ["post 2: no link card: connection refused"]
    (recorded,) = ledger.warnings(thread_id)
    assert (recorded.platform, recorded.post, recorded.code) == ("bluesky", 2, "link-card-failed")


def test_warnings_of_an_earlier_thread_are_not_reported_again(ledger: Ledger) -> None:
    """`run` reuses one publisher for every due thread: each outcome has its own warnings."""
    fake = FakePublisher("bluesky", FakeServer()).fail_at(1, "warn")
    first, second = _new(ledger), _new(ledger)
    one = publish_thread(ledger, first, _opener(fake), max_attempts=8, policy=POLICY)
    two = publish_thread(ledger, second, _opener(fake), max_attempts=8, policy=POLICY)
    assert one.outcomes[0].warnings == ("post 1: no link card: connection refused",)
    assert two.outcomes[0].warnings == ()
    assert ledger.warnings(second) == []


@pytest.mark.parametrize("k", [1, 3, 5])
def test_posts_that_landed_with_doubts_are_published_with_a_loud_warning(
    ledger: Ledger, k: int
) -> None:
    """Like Bluesky's CidMismatch: raised after the write's posts were confirmed. The
    platform is published (not failed), the rest of the thread follows, and the warning
    says why."""
    server = FakeServer()
    fake = FakePublisher("bluesky", server).fail_at(k, "doubts")
    thread_id = _new(ledger)
    result = publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    (outcome,) = result.outcomes
    assert outcome.status == "published" and outcome.published == 5
    assert result.state == "published" and result.exit_status == ExitStatus.OK
    assert outcome.error is None
    assert outcome.warnings == (
        f"post {k}: the server's CID of post {k} differs from the computed one",
    )
    assert [p["idx"] for p in server.posts()] == [1, 2, 3, 4, 5], "each post once"
    # The rest was sent from the ledger's (server's) references, in the same run.
    expected = [("send", 1)] + ([("send", k + 1)] if k < 5 else [])
    assert [c for c in fake.calls if c[0] == "send"] == expected
    outcomes = [a["outcome"] for a in ledger.attempts(thread_id)]
    assert outcomes == ["landed-with-doubts"] + (["ok"] if k < 5 else [])
    assert [w.code for w in ledger.warnings(thread_id)] == ["landed-with-doubts"]
    assert ledger.platforms(thread_id)[0].state == "published"


def test_the_real_cid_mismatch_is_such_a_doubt() -> None:
    from threadpost.errors import LandedWithDoubts, PermanentError
    from threadpost.platforms.bluesky.publisher import CidMismatch

    assert issubclass(CidMismatch, LandedWithDoubts)
    assert issubclass(CidMismatch, PermanentError)  # callers catching it before still do


def test_lookups_get_the_plan_the_parent_and_the_first_attempt_time(ledger: Ledger) -> None:
    server = FakeServer()
    clock = FrozenClock(NOW)
    crashing = FakePublisher("mastodon", server).fail_at(3, "crash")
    thread_id = _new(ledger, "mastodon")
    with pytest.raises(Crash):
        publish_thread(
            ledger, thread_id, _opener(crashing), max_attempts=8, policy=POLICY, clock=clock
        )
    posts = ledger.posts(thread_id, "mastodon")
    assert [p.state for p in posts] == ["confirmed"] * 2 + ["sending"] * 3
    assert {p.first_sent_at for p in posts} == {NOW}
    assert posts[2].post_key.first_attempt_at == NOW

    clock.advance(hours=3)  # resumed by a cron run long after the Idempotency hour
    resumed = FakePublisher("mastodon", server)
    seen: list[object] = []
    original = resumed.find_published

    def spy(keys, *, thread=None, parent=None):  # type: ignore[no-untyped-def]
        seen.append(([k.index for k in keys], [k.first_attempt_at for k in keys], parent))
        return original(keys, thread=thread, parent=parent)

    resumed.find_published = spy  # type: ignore[method-assign]
    result = publish_thread(
        ledger, thread_id, _opener(resumed), max_attempts=8, policy=POLICY, clock=clock
    )
    assert result.state == "published"
    ((indexes, times, parent),) = seen
    assert indexes == [3, 4, 5] and times == [NOW] * 3
    assert parent is not None and parent.index == 2
    assert resumed.lookups == [(3, parent.remote_id, True)]
    assert [p["idx"] for p in server.posts()] == [1, 2, 3, 4, 5]
    # A later attempt does not move the first attempt time.
    assert {p.first_sent_at for p in ledger.posts(thread_id, "mastodon")} == {NOW}
    assert clock() - NOW == timedelta(hours=3)
