"""The retry policy: what is retried, how long it waits, and what surfaces at the end."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from threadpost.clock import FrozenClock
from threadpost.errors import AuthFailed, PermanentError, RateLimited, TransientError
from threadpost.retry import (
    WITHOUT_SLEEP_VARIABLE,
    RetryPolicy,
    backoff_sleep,
    call_with_retries,
    next_retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _policy(sleeps: list[float], **kw: object) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append, clock=FrozenClock(NOW), **kw)  # type: ignore[arg-type]


def _failing(errors: list[BaseException]):  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return attempt, calls


def test_transient_errors_are_retried_with_growing_jittered_backoff() -> None:
    sleeps: list[float] = []
    attempt, calls = _failing([TransientError("503", platform="mastodon") for _ in range(3)])
    assert call_with_retries(attempt, _policy(sleeps, attempts=4, jitter=0.5)) == "ok"
    assert len(calls) == 4
    assert 1.0 <= sleeps[0] <= 1.5
    assert 2.0 <= sleeps[1] <= 2.5
    assert 4.0 <= sleeps[2] <= 4.5


def test_the_original_error_surfaces_when_attempts_run_out() -> None:
    sleeps: list[float] = []
    errors: list[BaseException] = [
        TransientError(f"503 #{i}", platform="bluesky") for i in range(9)
    ]
    attempt, calls = _failing(errors)
    with pytest.raises(TransientError, match="503 #2"):
        call_with_retries(attempt, _policy(sleeps, attempts=3))
    assert len(calls) == 3


def test_total_time_bounds_the_retries() -> None:
    attempt, calls = _failing([TransientError("x", platform="bluesky") for _ in range(9)])
    with pytest.raises(TransientError):
        call_with_retries(attempt, _policy([], attempts=9, total=timedelta(0)))
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        PermanentError("422 text too long", platform="mastodon", post=3),
        AuthFailed("401", platform="bluesky"),
        ValueError("a bug"),
    ],
)
def test_permanent_errors_are_not_retried(error: Exception) -> None:
    sleeps: list[float] = []
    attempt, calls = _failing([error])
    with pytest.raises(type(error)):
        call_with_retries(attempt, _policy(sleeps))
    assert len(calls) == 1
    assert sleeps == []


def test_rate_limit_waits_until_reset_plus_margin() -> None:
    sleeps: list[float] = []
    reset = NOW + timedelta(seconds=40)
    attempt, calls = _failing([RateLimited("429", platform="mastodon", reset_at=reset)])
    assert call_with_retries(attempt, _policy(sleeps, rate_limit_margin=2.0)) == "ok"
    assert sleeps == [42.0]
    assert len(calls) == 2


def test_rate_limit_longer_than_the_cap_gives_up_at_once() -> None:
    sleeps: list[float] = []
    reset = NOW + timedelta(hours=1)
    error = RateLimited("429", platform="bluesky", reset_at=reset)
    attempt, calls = _failing([error])
    policy = _policy(sleeps, max_rate_limit_wait=timedelta(minutes=15))
    with pytest.raises(RateLimited) as raised:
        call_with_retries(attempt, policy)
    assert raised.value is error
    assert sleeps == []
    assert len(calls) == 1
    # The thread stays resumable: a later run comes back at the reset.
    assert next_retry_after(error, 1, NOW) == reset


def test_rate_limit_without_reset_backs_off_like_other_transient_errors() -> None:
    sleeps: list[float] = []
    attempt, _ = _failing([RateLimited("429", platform="bluesky", reset_at=None)])
    call_with_retries(attempt, _policy(sleeps, jitter=0.0))
    assert sleeps == [1.0]


def test_without_sleep_makes_the_same_decisions_instantly() -> None:
    policy = RetryPolicy(attempts=3).without_sleep()
    attempt, calls = _failing([TransientError("x", platform="bluesky") for _ in range(2)])
    assert call_with_retries(attempt, policy) == "ok"
    assert len(calls) == 3


def test_the_test_switch_makes_the_default_policy_skip_even_a_long_rate_limit_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The policy the CLI and the library build (default sleep) waits for nothing in test
    mode, yet announces the wait it decided: a 10-minute reset, under the 15-minute cap."""
    monkeypatch.setenv(WITHOUT_SLEEP_VARIABLE, "1")
    reset = NOW + timedelta(minutes=10)
    attempt, calls = _failing([RateLimited("429", platform="mastodon", reset_at=reset)])
    announced: list[float] = []
    policy = RetryPolicy(clock=FrozenClock(NOW), on_retry=lambda _, s: announced.append(s))
    results: list[str] = []
    # In a daemon thread: a policy that really sleeps fails this test in seconds, not minutes.
    worker = threading.Thread(
        target=lambda: results.append(call_with_retries(attempt, policy)), daemon=True
    )
    worker.start()
    worker.join(timeout=20)
    assert results == ["ok"], "the retry slept for real"
    assert len(calls) == 2
    assert announced == [602.0]


def test_without_the_switch_the_default_sleep_really_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(WITHOUT_SLEEP_VARIABLE, raising=False)
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    backoff_sleep(1.5)
    monkeypatch.setenv(WITHOUT_SLEEP_VARIABLE, "")  # empty: off
    backoff_sleep(2.5)
    assert slept == [1.5, 2.5]
    monkeypatch.setenv(WITHOUT_SLEEP_VARIABLE, "1")
    backoff_sleep(3.5)
    assert slept == [1.5, 2.5]


def test_backoff_between_runs_doubles_and_is_capped() -> None:
    error = TransientError("x", platform="mastodon")
    delays = [next_retry_after(error, n, NOW) - NOW for n in (1, 2, 3, 20)]
    assert delays == [
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(hours=6),
    ]


def test_a_call_that_succeeds_at_once_never_imports_tenacity() -> None:
    """tenacity takes over from the first failure: the usual first-time success (every
    publish of a healthy network) skips its ~5 ms import."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from threadpost.errors import TransientError\n"
        "from threadpost.retry import RetryPolicy, call_with_retries\n"
        "policy = RetryPolicy(attempts=3).without_sleep()\n"
        "assert call_with_retries(lambda: 'ok', policy) == 'ok'\n"
        "print('tenacity' in sys.modules)\n"
        "calls = []\n"
        "def flaky():\n"
        "    calls.append(1)\n"
        "    if len(calls) < 3:\n"
        "        raise TransientError('down', platform='bluesky')\n"
        "    return 'late'\n"
        "assert call_with_retries(flaky, policy) == 'late' and len(calls) == 3\n"
        "print('tenacity' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
