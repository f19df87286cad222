"""Mastodon: a 429 whose X-RateLimit-Reset cannot be trusted becomes a bounded wait.

Issue 18's Mastodon mirror of the Bluesky `ratelimit-reset` item: a reset that is missing,
in the past, absurdly far, or not a time at all must give a RateLimited with a reset the
retry policy can hold (RATE_LIMIT_FALLBACK from now) and a reason in words, never an
exception and never a thread deferred to the year 9999. A skewed instance's reset is read
on its own clock (its Date header).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, settings_for, write_draft
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.errors import RateLimited
from threadpost.plan import plan_thread

STATUSES = "/api/v1/statuses"
#: http.RATE_LIMIT_FALLBACK (spelled out, so that this file also runs against old code).
RATE_LIMIT_FALLBACK = timedelta(minutes=5)


def _send_into_429(settings: Any, tmp_path: Path) -> RateLimited:
    publisher = make_publisher(settings)
    thread = plan_thread(write_draft(tmp_path / "d", "A.\n---\nB."), publisher.limits())
    keys = publisher.post_keys("t1", thread)
    with pytest.raises(RateLimited) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    return raised.value


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "no X-RateLimit-Reset header"),
        ("soon", "unreadable X-RateLimit-Reset 'soon'"),
        ("Wed, 21 Oct 2026 07:28:00 GMT", "unreadable X-RateLimit-Reset"),
        ("2020-01-01T00:00:00.000000Z", "is already past"),
        ("9999-12-31T23:59:59.999999Z", "is implausibly far away"),
        ("99999999999999999999", "unreadable X-RateLimit-Reset"),
        ("0", "is already past"),
    ],
)
def test_an_untrustworthy_reset_is_a_bounded_wait_with_a_reason(
    mastodon_server: MastodonTestServer,
    mastodon_settings: Any,
    tmp_path: Path,
    header: str,
    reason: str,
) -> None:
    mastodon_server.faults.add("rate_limit", STATUSES, at_count=2, reset_header=header)
    before = datetime.now(UTC)
    error = _send_into_429(mastodon_settings, tmp_path)
    assert error.post == 2
    assert error.reset_at is not None
    assert before + RATE_LIMIT_FALLBACK <= error.reset_at
    assert error.reset_at <= datetime.now(UTC) + RATE_LIMIT_FALLBACK
    assert reason in error.message
    assert "trying again after 300 s" in error.message


def test_a_reset_that_passed_while_the_answer_was_read_is_retried_at_once(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    """On a loaded machine a reset 1 s ahead may be behind our clock by the time the answer
    is read: the window is open again, so the retry waits only the policy's margin, not the
    five minutes meant for a reset that is wrong."""
    reset = datetime.now(UTC) - timedelta(seconds=5)
    mastodon_server.faults.add("rate_limit", STATUSES, at_count=2, reset_at=reset)
    error = _send_into_429(mastodon_settings, tmp_path)
    assert error.reset_at is not None
    assert error.reset_at <= datetime.now(UTC)
    assert "trying again after 300 s" not in error.message


def test_a_reset_in_epoch_milliseconds_is_read_as_such(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=40)
    millis = str(int(reset.timestamp() * 1000))
    mastodon_server.faults.add("rate_limit", STATUSES, at_count=2, reset_header=millis)
    assert _send_into_429(mastodon_settings, tmp_path).reset_at == reset


def test_a_skewed_instances_reset_is_read_on_its_own_clock(tmp_path: Path) -> None:
    """The instance runs an hour behind: its reset 40 s ahead by its clock is 40 s ahead by
    ours, not an hour ago (which would make the policy retry at once, over and over)."""
    with running_server(clock_offset=timedelta(hours=-1)) as server:
        server_now = datetime.now(UTC) - timedelta(hours=1)
        server.faults.add(
            "rate_limit", STATUSES, at_count=2, reset_at=server_now + timedelta(seconds=40)
        )
        error = _send_into_429(settings_for(server, tmp_path), tmp_path)
    assert error.reset_at is not None
    wait = (error.reset_at - datetime.now(UTC)).total_seconds()
    assert 30 < wait <= 41, error.message


def test_a_success_with_an_unreadable_reset_header_goes_through(
    mastodon_server: MastodonTestServer,
    mastodon_settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mastodon.py raises on any answer whose reset it cannot parse, a 200 included: the
    transport hides such a header from it, so a stored status is not an unclear outcome."""
    rate_headers = mastodon_server._rate_headers

    def garbled(who: str, *, count: bool) -> tuple[dict[str, str], bool]:
        headers, over = rate_headers(who, count=count)
        return {**headers, "X-RateLimit-Reset": "2026-13-45T99:99:99Z"}, over

    monkeypatch.setattr(mastodon_server, "_rate_headers", garbled)
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(write_draft(tmp_path / "d", "A.\n---\nB."), publisher.limits())
    refs: list[Any] = []
    keys = publisher.post_keys("t1", thread)
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert [r.index for r in refs] == [1, 2]


def test_an_absurd_reset_waits_a_bounded_time_and_the_thread_is_published(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    """Through the orchestration: before, the year-9999 reset deferred the thread to 9999."""
    from threadpost.clock import utc_now
    from threadpost.publish import freeze_thread, publish_thread
    from threadpost.retry import RetryPolicy
    from threadpost.store import open_ledger

    waits: list[float] = []
    publisher = make_publisher(mastodon_settings)
    draft = write_draft(tmp_path / "d", "A.\n---\nB.\n---\nC.")
    plan = plan_thread(draft, publisher.limits())
    mastodon_server.faults.add(
        "rate_limit", STATUSES, at_count=2, reset_header="9999-12-31T23:59:59Z"
    )
    with open_ledger(mastodon_settings.db_path) as ledger:
        frozen = freeze_thread(ledger, draft, {"mastodon": plan}, schedule_at=None, now=utc_now())
        result = publish_thread(
            ledger,
            frozen.thread_id,
            lambda platform: publisher,
            max_attempts=8,
            policy=RetryPolicy(sleep=waits.append),
        )
    assert result.state == "published"
    assert len(waits) == 1 and 295 <= waits[0] <= 303
    assert [s.text for s in mastodon_server.published()] == [p.text for p in plan.posts]
