"""Run network coroutines so that their deadline is the caller's deadline.

`asyncio.timeout` abandons a name look-up that hangs (getaddrinfo runs in the loop's
default executor, a thread), but `asyncio.run` then waits for that thread on the way out,
so a resolver that never answers holds the caller for as long as it likes. Here blocking
helpers run in daemon threads that nobody waits for: what was abandoned stays abandoned.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

_T = TypeVar("_T")
_P = ParamSpec("_P")


class _DaemonThreads(ThreadPoolExecutor):
    """Each call in a daemon thread of its own; shutting down never waits for them.

    A ThreadPoolExecutor only because asyncio accepts nothing else as a default executor;
    its pool is never used.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1)

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        future: Future[_T] = Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=work, name="threadpost-blocking", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=cancel_futures)


def run_bounded(main: Coroutine[Any, Any, _T]) -> _T:
    """`asyncio.run(main)`, without waiting on exit for blocking calls `main` gave up on."""
    with asyncio.Runner() as runner:
        runner.get_loop().set_default_executor(_DaemonThreads())
        return runner.run(main)
