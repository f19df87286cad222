"""Publishing one thread's networks at the same time: one worker thread per network, so
that a thread for both takes about as long as the slower network, not the sum.

What each worker shares, and how:

- The ledger: a SQLite connection belongs to the thread that opened it, so each worker
  opens its own connection to the same file (`open_second_connection`) and SQLite
  serializes the writers (WAL, `BEGIN IMMEDIATE`, busy timeout), as it already does for two
  processes. The caller's connection is left alone while the workers run.
- The lease: each worker renews it through its own connection on every confirmed post.
- Output: the callbacks that may print (`on_confirm`, the retry policy's `on_retry`) run
  under one lock, so lines from two networks never mix mid-line. Outcomes come back in the
  order the platforms were given, whichever finished first.
- Failures: a network's failure is its own outcome; the other network goes on. Only what
  `PlatformEngine.publish` lets through (a broken ledger, an interrupt, a crash) ends the
  pass: the other worker then stops at its next step, and the first such error is raised
  once both have stopped.
- Ctrl-C reaches the main thread only: it asks the workers to stop, and each raises
  `KeyboardInterrupt` at its next step (after recording the post that just landed, in a
  retry wait, at the start of an attempt), which leaves the ledger as an interrupted
  one-network publish does (a post in flight stays 'sending' and is looked up next time).
  The main thread waits for them before re-raising, so the lease is held until no worker
  writes any more.

With one network to publish, it runs in the calling thread, exactly as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Final, TypeVar

from threadpost.retry import WITHOUT_SLEEP_VARIABLE, backoff_sleep
from threadpost.store import open_second_connection

if TYPE_CHECKING:
    from concurrent.futures import Future

    from threadpost.lease import Lease
    from threadpost.retry import RetryPolicy
    from threadpost.store import Ledger, PlatformRecord
    from threadpost.values import PostRef

#: How one platform's publishing went (publish.PlatformOutcome).
Outcome = TypeVar("Outcome")

#: How often the main thread looks up from waiting: a signal may be handled by another
#: thread at the C level, and Python runs the Ctrl-C handler only between waits.
_WAIT_SLICE_SECONDS: Final = 0.1


class _Stop:
    """The workers' shared stop request, and the error that caused it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.cause: BaseException | None = None
        self._lock = threading.Lock()

    def request(self, cause: BaseException | None = None) -> None:
        with self._lock:
            if self.cause is None and cause is not None:
                self.cause = cause
        self.event.set()

    def check(self) -> None:
        """Raise `KeyboardInterrupt` once a stop was requested."""
        if self.event.is_set():
            raise KeyboardInterrupt


def publish_platforms(
    ledger: Ledger,
    records: Sequence[PlatformRecord],
    publish_one: Callable[
        [Ledger, PlatformRecord, Callable[[PostRef], None], RetryPolicy], Outcome
    ],
    *,
    policy: RetryPolicy,
    lease: Lease | None,
    on_confirm: Callable[[PostRef], None] | None,
) -> list[Outcome]:
    """Publish each platform of `records` with `publish_one` (its ledger connection, its
    record, the hook to call on each confirmed post, its retry policy), at once when there
    are several; their outcomes in the same order."""
    if len(records) <= 1:
        return [
            publish_one(ledger, record, _confirm_hook(lease, on_confirm), policy)
            for record in records
        ]
    # Only a thread for several networks needs the pool (concurrent.futures imports
    # logging: ~3 ms of every one-network publish).
    from concurrent.futures import ThreadPoolExecutor, wait

    stop = _Stop()
    output = threading.Lock()

    def work(record: PlatformRecord) -> Outcome:
        stop.check()
        own = open_second_connection(ledger)
        try:
            hook = _confirm_hook(
                lease.through(own) if lease is not None else None,
                _locked(on_confirm, output),
                stop,
            )
            return publish_one(own, record, hook, _worker_policy(policy, stop, output))
        except BaseException as error:
            stop.request(error)
            raise
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="publish") as pool:
        futures = [pool.submit(work, record) for record in records]
        try:
            _wait_all(futures)
        except BaseException:
            stop.request()
            wait(futures)  # each worker stops at its next step
            raise
    if stop.cause is not None:
        raise stop.cause
    return [future.result() for future in futures]


def _wait_all(futures: Sequence[Future[Outcome]]) -> None:
    """Wait for every worker, in short slices so that Ctrl-C is heard at once; bounded by
    the workers, which each end (their attempts and requests are bounded)."""
    from concurrent.futures import FIRST_EXCEPTION, wait

    while True:
        done, pending = wait(futures, timeout=_WAIT_SLICE_SECONDS, return_when=FIRST_EXCEPTION)
        if not pending:
            return
        if any(future.exception() is not None for future in done):
            # The other workers were asked to stop by the failing one: let them finish.
            wait(pending)
            return


def _confirm_hook(
    lease: Lease | None,
    on_confirm: Callable[[PostRef], None] | None,
    stop: _Stop | None = None,
) -> Callable[[PostRef], None]:
    """Called after each post is confirmed in the ledger: renew the lease, tell the caller,
    then stop here if asked to (the post that landed is recorded, the next is not sent)."""

    def confirmed(ref: PostRef) -> None:
        if lease is not None:
            lease.renew()
        if on_confirm is not None:
            on_confirm(ref)
        if stop is not None:
            stop.check()

    return confirmed


def _locked(
    callback: Callable[[PostRef], None] | None, lock: threading.Lock
) -> Callable[[PostRef], None] | None:
    if callback is None:
        return None

    def call(ref: PostRef) -> None:
        with lock:
            callback(ref)

    return call


def _worker_policy(policy: RetryPolicy, stop: _Stop, output: threading.Lock) -> RetryPolicy:
    """The policy with a retry wait that a stop request cuts short (a rate-limit wait may
    last minutes) and its retry notices printed under the output lock."""
    sleep = policy.sleep

    def stoppable_sleep(seconds: float) -> None:
        stop.check()
        if sleep is backoff_sleep:
            # The default wait, made interruptible; the test switch still skips it.
            if not os.environ.get(WITHOUT_SLEEP_VARIABLE):
                stop.event.wait(seconds)
        else:
            sleep(seconds)
        stop.check()

    on_retry = policy.on_retry
    if on_retry is None:
        return replace(policy, sleep=stoppable_sleep)

    def locked_on_retry(error: BaseException, seconds: float) -> None:
        with output:
            on_retry(error, seconds)

    return replace(policy, sleep=stoppable_sleep, on_retry=locked_on_retry)
