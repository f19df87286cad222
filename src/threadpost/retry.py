"""The one retry policy both adapters' calls go through (tenacity).

- `TransientError` (connection errors, timeouts, 5xx): exponential backoff with jitter,
  bounded by a number of attempts and by total time.
- `RateLimited` (429): wait until the network's `reset_at` plus a small margin; when that
  wait is longer than `max_rate_limit_wait`, stop at once and let the caller leave the
  thread resumable for a later run (next retry = `reset_at`).
- `PermanentError` / `AuthFailed`: never retried.

The original exception surfaces when retries run out (never tenacity's `RetryError`).
Unclear outcomes are not special here: the attempt function passed in starts by looking
up what landed (see `publish.py`), so every retry is safe to make.

Test mode: with the environment variable `THREADPOST_RETRY_WITHOUT_SLEEP` set to a
non-empty value, the default sleep returns at once: same attempts, same waits announced
to `on_retry`, no time spent. The test suite sets it for every test (tests/conftest.py);
being a variable, it also reaches a real `threadpost` process started by a test. A
policy given its own `sleep` (tests recording the waits) is not affected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, TypeVar

from threadpost.clock import Clock, utc_now
from threadpost.errors import RateLimited, TransientError

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from threadpost.config import Settings

T = TypeVar("T")

#: Set (non-empty) to make the default retry sleep instant: the test suite's one switch.
WITHOUT_SLEEP_VARIABLE: Final = "THREADPOST_RETRY_WITHOUT_SLEEP"


def _no_sleep(seconds: float) -> None:
    """Test mode: retries happen immediately."""


def backoff_sleep(seconds: float) -> None:
    """Wait before the next attempt, unless test mode is on (`WITHOUT_SLEEP_VARIABLE`).

    The variable is looked up at each wait, not at import, so a test can switch it
    for a process whose modules are already imported."""
    if os.environ.get(WITHOUT_SLEEP_VARIABLE):
        return
    time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How one run retries a failing network call."""

    #: Attempts in this run, the first included.
    attempts: int = 4
    #: No new attempt starts once this much time has gone by since the first.
    total: timedelta = timedelta(minutes=2)
    #: Backoff: initial * 2**(n-1), capped at `maximum`, plus up to `jitter` seconds.
    initial: float = 1.0
    maximum: float = 30.0
    jitter: float = 1.0
    #: Added to a rate limit's reset time: clocks differ and resets are rounded.
    rate_limit_margin: float = 2.0
    #: Longest 429 wait accepted; longer ones end the run's attempts for this platform.
    max_rate_limit_wait: timedelta = timedelta(minutes=15)
    #: The default obeys the test switch; tests recording the waits pass their own.
    sleep: Callable[[float], None] = field(default=backoff_sleep, compare=False)
    clock: Clock = field(default=utc_now, compare=False)
    #: Called before each sleep with (exception, seconds): progress messages, tests.
    on_retry: Callable[[BaseException, float], None] | None = field(default=None, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> RetryPolicy:
        """The policy with the configured rate-limit cap."""
        policy = cls(max_rate_limit_wait=settings.max_rate_limit_wait)
        return replace(policy, **overrides)  # type: ignore[arg-type]

    def without_sleep(self) -> RetryPolicy:
        """The same policy in test mode: no sleeping, same decisions."""
        return replace(self, sleep=_no_sleep)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based), jitter included."""
        import random  # here: only a failure waits, and a publish that fails none needs none

        base = min(self.maximum, self.initial * 2 ** max(0, attempt - 1))
        return float(base) + random.uniform(0, self.jitter)

    def rate_limit_wait(self, error: RateLimited) -> float | None:
        """Seconds until the rate limit resets (with the margin); None when unknown."""
        if error.reset_at is None:
            return None
        return max(0.0, (error.reset_at - self.clock()).total_seconds()) + self.rate_limit_margin

    def rate_limit_too_long(self, error: RateLimited) -> bool:
        """True when waiting for this reset would exceed the cap."""
        wait = self.rate_limit_wait(error)
        return wait is not None and wait > self.max_rate_limit_wait.total_seconds()


def is_retryable(error: BaseException) -> bool:
    """Transient failures (429 included) are worth another attempt; nothing else is."""
    return isinstance(error, TransientError)


def call_with_retries(attempt: Callable[[], T], policy: RetryPolicy) -> T:
    """Call `attempt` until it succeeds or the policy says stop; re-raise the last error."""
    started = time.monotonic()
    try:
        return attempt()
    except Exception as error:
        if not is_retryable(error):
            raise
        first_failure: Exception = error
    # Nearly every call succeeds at once: tenacity (~5 ms to import) takes over from the
    # first failure, which it is handed as its own first attempt's outcome.
    from tenacity import Retrying, retry_if_exception

    replay = [first_failure]

    def attempts() -> T:
        if replay:
            raise replay.pop()
        return attempt()

    def stop(state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited) and policy.rate_limit_too_long(error):
            return True
        if state.attempt_number >= policy.attempts:
            return True
        return time.monotonic() - started >= policy.total.total_seconds()

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited):
            seconds = policy.rate_limit_wait(error)
            if seconds is not None:
                return seconds
        return policy.backoff(state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if policy.on_retry is not None and error is not None and state.next_action is not None:
            policy.on_retry(error, state.next_action.sleep)

    retrying = Retrying(
        sleep=policy.sleep,
        stop=stop,
        wait=wait,
        retry=retry_if_exception(is_retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempts)


def next_retry_after(
    error: BaseException, failures: int, now: datetime, *, base: timedelta | None = None
) -> datetime:
    """When a later run should try again after `failures` failed runs (1-based):
    the rate limit's reset if known, else exponential backoff (2 min, 4, 8, … capped at 6 h)."""
    if isinstance(error, RateLimited) and error.reset_at is not None:
        reset: datetime = error.reset_at
        return max(reset, now)
    step = base or timedelta(minutes=2)
    delay: timedelta = min(step * 2 ** max(0, failures - 1), timedelta(hours=6))
    later: datetime = now + delay
    return later
