"""Publishing orchestration against the fake network: resume, no duplicates, independence."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakes import Crash, FakePublisher, FakeServer, make_thread
from threadpost.clock import FrozenClock
from threadpost.draft import parse_draft
from threadpost.errors import ExitStatus, PlatformError, RateLimited, StoreError, ValidationFailed
from threadpost.platforms.base import Publisher
from threadpost.publish import Freeze, delete_thread, freeze_thread, publish_thread
from threadpost.retry import RetryPolicy
from threadpost.store import Ledger, open_ledger
from threadpost.values import PlatformName, Problem

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3).without_sleep()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.db") as opened:
        yield opened


def _new(ledger: Ledger, n: int = 5, platforms: tuple[PlatformName, ...] = ("mastodon",)) -> str:
    return ledger.create_thread(
        draft_path="/drafts/t.md",
        content_hash="h1",
        title=None,
        plans={p: make_thread(p, n) for p in platforms},
        schedule_at=None,
        state="scheduled",
        now=NOW,
    )


def _opener(*publishers: FakePublisher):  # type: ignore[no-untyped-def]
    by_platform = {p.platform: p for p in publishers}

    def open_publisher(platform: PlatformName) -> Publisher:
        return by_platform[platform]

    return open_publisher


def _chain_ok(server: FakeServer, platform: str, n: int) -> None:
    posts = [p for p in server.posts(platform) if not p["deleted"]]
    assert [p["idx"] for p in posts] == list(range(1, n + 1)), "each post once, in order"
    for before, post in itertools.pairwise(posts):
        assert post["parent"] == before["remote_id"], "intact reply chain"
        assert post["root"] == posts[0]["remote_id"]


def test_publishes_every_post_and_records_it(ledger: Ledger) -> None:
    server = FakeServer()
    fake = FakePublisher("mastodon", server)
    thread_id = _new(ledger)
    result = publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    assert result.exit_status == ExitStatus.OK
    assert result.state == "published"
    assert result.outcomes[0].published == 5
    _chain_ok(server, "mastodon", 5)
    assert [p.state for p in ledger.posts(thread_id, "mastodon")] == ["confirmed"] * 5
    assert ledger.thread(thread_id).state == "published"
    assert [a["outcome"] for a in ledger.attempts(thread_id)] == ["ok"]


@pytest.mark.parametrize("k", [1, 3, 5])
def test_resume_after_failure_at_post_k_continues_with_the_same_key(ledger: Ledger, k: int) -> None:
    server = FakeServer()
    first = FakePublisher("mastodon", server).fail_at(k, "transient", times=99)
    thread_id = _new(ledger)
    result = publish_thread(ledger, thread_id, _opener(first), max_attempts=8, policy=POLICY)
    assert result.exit_status == ExitStatus.PUBLISH_INCOMPLETE
    outcome = result.outcomes[0]
    assert (outcome.status, outcome.published) == ("incomplete", k - 1)
    assert outcome.next_retry_at is not None
    keys_before = [p.key for p in ledger.posts(thread_id, "mastodon")]

    # A later run, a new process: a fresh publisher, same ledger.
    second = FakePublisher("mastodon", server)
    result = publish_thread(ledger, thread_id, _opener(second), max_attempts=8, policy=POLICY)
    assert result.state == "published"
    assert second.calls == [("send", k)], "starts at the first unconfirmed post"
    assert second.keys_made == 0, "keys come from the ledger, not made again"
    assert [p.key for p in ledger.posts(thread_id, "mastodon")] == keys_before
    _chain_ok(server, "mastodon", 5)


@pytest.mark.parametrize("kind", ["lost-response", "unclear"])
def test_unclear_failure_looks_up_before_resending(ledger: Ledger, kind: str) -> None:
    server = FakeServer()
    fake = FakePublisher("mastodon", server).fail_at(3, kind)  # type: ignore[arg-type]
    thread_id = _new(ledger)
    result = publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    assert result.state == "published"
    assert ("find", [3, 4, 5]) in fake.calls
    _chain_ok(server, "mastodon", 5)  # the committed post 3 was found, not sent again


def test_crash_between_commit_and_ledger_write_is_recovered_by_the_next_run(
    ledger: Ledger,
) -> None:
    server = FakeServer()
    fake = FakePublisher("mastodon", server).fail_at(2, "crash")
    thread_id = _new(ledger)
    with pytest.raises(Crash):
        publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    assert [p.state for p in ledger.posts(thread_id, "mastodon")][:3] == [
        "confirmed",
        "sending",
        "sending",
    ]
    after = FakePublisher("mastodon", server)
    result = publish_thread(ledger, thread_id, _opener(after), max_attempts=8, policy=POLICY)
    assert result.state == "published"
    assert after.calls[0] == ("find", [2, 3, 4, 5])
    assert after.calls[1] == ("send", 3)
    _chain_ok(server, "mastodon", 5)


def test_a_failing_platform_does_not_stop_the_others(ledger: Ledger) -> None:
    server = FakeServer()
    mastodon = FakePublisher("mastodon", server).fail_at(2, "permanent")
    bluesky = FakePublisher("bluesky", server)
    thread_id = _new(ledger, platforms=("mastodon", "bluesky"))
    result = publish_thread(
        ledger, thread_id, _opener(mastodon, bluesky), max_attempts=8, policy=POLICY
    )
    statuses = {o.platform: o.status for o in result.outcomes}
    assert statuses == {"mastodon": "failed", "bluesky": "published"}
    failed = result.outcomes[0]
    assert (
        failed.error
        == "mastodon post 2 was refused: Validation failed: Text character limit exceeded"
    )
    assert result.exit_status == ExitStatus.ERROR
    assert ledger.thread(thread_id).state == "failed"
    _chain_ok(server, "bluesky", 5)
    assert mastodon.calls == [("send", 1)], "permanent errors are not retried"


def test_an_unexpected_error_defers_its_platform_and_the_next_pass_finds_the_post(
    ledger: Ledger,
) -> None:
    """An exception no rule foresaw (a RuntimeError from an adapter) escaped publish_thread:
    the other network was never published and nothing recorded why."""
    server = FakeServer()
    mastodon = FakePublisher("mastodon", server).fail_at(2, "unexpected")
    bluesky = FakePublisher("bluesky", server)
    thread_id = _new(ledger, platforms=("mastodon", "bluesky"))
    result = publish_thread(
        ledger, thread_id, _opener(mastodon, bluesky), max_attempts=8, policy=POLICY
    )
    statuses = {o.platform: o.status for o in result.outcomes}
    assert statuses == {"mastodon": "incomplete", "bluesky": "published"}
    assert result.outcomes[0].error == (
        "unexpected error: RuntimeError: cannot read the answer to post 2"
    )
    assert result.outcomes[0].next_retry_at is not None
    assert mastodon.calls == [("send", 1)], "an unexpected error is not retried in the run"
    assert [a["outcome"] for a in ledger.attempts(thread_id) if a["platform"] == "mastodon"] == [
        "unexpected"
    ]
    # Post 2 may have landed (it did): the next pass looks it up instead of resending it.
    again = publish_thread(
        ledger, thread_id, _opener(mastodon, bluesky), max_attempts=8, policy=POLICY
    )
    assert again.state == "published"
    assert mastodon.calls[1] == ("find", [2, 3, 4, 5])
    _chain_ok(server, "mastodon", 5)


def test_the_error_table_agrees_with_the_retry_policy() -> None:
    """`ERROR_RULES.retry` states what `retry.is_retryable` decides, row by row."""
    from threadpost.publish import ERROR_RULES, error_rule
    from threadpost.retry import is_retryable

    def sample(kind: type[Exception]) -> Exception:
        if issubclass(kind, RateLimited):
            return kind("x", platform="mastodon", reset_at=None)
        if issubclass(kind, PlatformError):
            return kind("x", platform="mastodon")
        return kind("x")

    for rule in ERROR_RULES:
        error = sample(rule.kind)
        assert error_rule(error) == rule
        assert is_retryable(error) == rule.retry, rule


def test_auth_failure_says_log_in_again_and_stays_resumable(ledger: Ledger) -> None:
    fake = FakePublisher("bluesky", FakeServer()).fail_at(1, "auth")
    thread_id = _new(ledger, platforms=("bluesky",))
    result = publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    outcome = result.outcomes[0]
    assert outcome.status == "incomplete"
    assert outcome.hint == "log in again: threadpost login bluesky"
    assert result.exit_status == ExitStatus.PUBLISH_INCOMPLETE


def test_rate_limit_past_the_cap_leaves_it_for_the_reset(ledger: Ledger) -> None:
    fake = FakePublisher("mastodon", FakeServer()).fail_at(
        2, "rate-limited", reset_in=timedelta(hours=1)
    )
    thread_id = _new(ledger)
    policy = RetryPolicy(max_rate_limit_wait=timedelta(minutes=15)).without_sleep()
    result = publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=policy)
    outcome = result.outcomes[0]
    assert outcome.status == "incomplete"
    assert outcome.published == 1
    assert outcome.next_retry_at is not None
    assert outcome.next_retry_at > datetime.now(UTC) + timedelta(minutes=55)


def test_gives_up_after_max_attempts_runs(ledger: Ledger) -> None:
    server = FakeServer()
    thread_id = _new(ledger)
    clock = FrozenClock(NOW)
    statuses = []
    for _ in range(3):
        fake = FakePublisher("mastodon", server).fail_at(1, "transient", times=99)
        result = publish_thread(
            ledger, thread_id, _opener(fake), max_attempts=3, policy=POLICY, clock=clock
        )
        statuses.append(result.outcomes[0].status)
    assert statuses == ["incomplete", "incomplete", "failed"]
    assert "gave up after 3 failed attempts" in (result.outcomes[0].error or "")
    assert ledger.thread(thread_id).state == "failed"


def test_delete_removes_confirmed_posts_last_first(ledger: Ledger) -> None:
    server = FakeServer()
    fake = FakePublisher("mastodon", server)
    thread_id = _new(ledger, n=3)
    publish_thread(ledger, thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    assert delete_thread(ledger, thread_id, _opener(fake)) == {"mastodon": 3}
    assert fake.calls[-1] == ("delete", [3, 2, 1])
    assert all(p["deleted"] for p in server.posts())
    assert ledger.thread(thread_id).state == "deleted"


# -- freezing drafts ------------------------------------------------------------------------


def _draft(tmp_path: Path, body: str = "One.\n---\nTwo.\n"):  # type: ignore[no-untyped-def]
    path = tmp_path / "t.md"
    path.write_text(body)
    return parse_draft(body.encode(), path)


def test_already_published_draft_is_refused_unless_again(ledger: Ledger, tmp_path: Path) -> None:
    draft = _draft(tmp_path)
    plans = {"mastodon": make_thread("mastodon", 2)}
    frozen = freeze_thread(ledger, draft, plans, schedule_at=None, now=NOW)
    assert frozen.action == Freeze.CREATED
    publish_thread(
        ledger,
        frozen.thread_id,
        _opener(FakePublisher("mastodon", FakeServer())),
        max_attempts=8,
        policy=POLICY,
    )
    with pytest.raises(StoreError, match=r"already published as thread .*--again"):
        freeze_thread(ledger, draft, plans, schedule_at=None, now=NOW)
    again = freeze_thread(ledger, draft, plans, schedule_at=None, now=NOW, again=True)
    assert again.thread_id != frozen.thread_id


def test_edited_draft_replaces_an_unstarted_plan(ledger: Ledger, tmp_path: Path) -> None:
    at = NOW + timedelta(days=1)
    first = freeze_thread(
        ledger, _draft(tmp_path), {"mastodon": make_thread("mastodon", 2)}, schedule_at=at, now=NOW
    )
    edited = _draft(tmp_path, "One!\n---\nTwo.\n---\nThree.\n")
    second = freeze_thread(
        ledger, edited, {"mastodon": make_thread("mastodon", 3)}, schedule_at=at, now=NOW
    )
    assert second.thread_id == first.thread_id
    assert second.action == Freeze.REPLACED
    assert "plan was replaced" in (second.message or "")
    assert len(ledger.posts(first.thread_id, "mastodon")) == 3


def test_edited_draft_is_refused_once_posting_began(ledger: Ledger, tmp_path: Path) -> None:
    draft = _draft(tmp_path)
    frozen = freeze_thread(
        ledger, draft, {"mastodon": make_thread("mastodon", 3)}, schedule_at=None, now=NOW
    )
    fake = FakePublisher("mastodon", FakeServer()).fail_at(2, "transient", times=99)
    publish_thread(ledger, frozen.thread_id, _opener(fake), max_attempts=8, policy=POLICY)
    edited = _draft(tmp_path, "Changed.\n")
    with pytest.raises(StoreError, match=r"changed after thread .* began posting"):
        freeze_thread(
            ledger, edited, {"mastodon": make_thread("mastodon", 1)}, schedule_at=None, now=NOW
        )
    # The same draft resumes the thread instead.
    same = freeze_thread(
        ledger, draft, {"mastodon": make_thread("mastodon", 3)}, schedule_at=None, now=NOW
    )
    assert (same.thread_id, same.action) == (frozen.thread_id, Freeze.RESUMED)


def test_plans_with_errors_are_refused_before_anything_is_recorded(
    ledger: Ledger, tmp_path: Path
) -> None:
    thread = make_thread("mastodon", 2)
    bad = thread.__class__(
        **{
            **thread.__dict__,
            "problems": (Problem("error", "too-long", "too long", "mastodon", 2),),
        }
    )
    with pytest.raises(ValidationFailed, match="mastodon post 2: too long; nothing was sent"):
        freeze_thread(ledger, _draft(tmp_path), {"mastodon": bad}, schedule_at=None, now=NOW)
    assert ledger.threads() == []
