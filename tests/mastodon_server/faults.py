"""Faults the Mastodon test server can be told to inject, matched by method, path and count.

    server.faults.add("error", on_path="/api/v1/statuses", at_count=3, status=503)

means: the 3rd POST /api/v1/statuses from now is answered 503 (without storing the
status). Kinds:

- "error":      answer `status` (default 500) with {"error": ...}; `commit=True` stores the
                status first (a 5xx after the write landed).
- "rate_limit": answer 429 with X-RateLimit-Remaining 0 and an ISO-8601 X-RateLimit-Reset
                (`reset_at`, default 60 s from now); `reset_header` sends that text as the
                header instead ("" leaves the header out: a broken proxy or server).
- "delay":      wait `delay` seconds, then handle the request normally (the write lands
                after the client may have timed out).
- "hold":       keep the request until the test calls `fault.release()` (or `delay`
                seconds pass, 30 by default), then handle it normally: a request the test
                knows is in flight (`fault.arrived` is set once it is), for acting at
                that exact moment (a Ctrl-C while a status is being sent).
- "drop_after_commit": handle the request (the status is stored), then close the connection
                without answering.
- "non_json_after_commit": handle the request (the status or media is stored), then answer
                200 with an HTML body instead of the JSON one (the success is unreadable).
- "reset":      read the request, store nothing, close the connection without answering.
- "refuse":     like "reset", and from then on the server refuses connections (its listening
                socket is closed) until `server.resume()`, or for `refuse_for` seconds.
- "echo_authorization": answer `status` (default 401; 403 and 400 are the other usual ones)
                before the token is checked, storing nothing, with an error that quotes the
                request's Authorization header as received, as some servers and proxies do
                ({"error": "... (Authorization: Bearer <token>)"}). The recorded request
                keeps the header redacted all the same.

`on_path` is an fnmatch pattern ("/api/v1/media/*"); `method` defaults to POST for
/api/v1/statuses and /api/v2/media, else to "*" (any). `at_count` counts the matching
requests from the moment the fault is added (1 = the next one); `times` is how many
consecutive matching requests it hits (None: all from `at_count` on).
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

FaultKind = Literal[
    "error",
    "rate_limit",
    "delay",
    "hold",
    "drop_after_commit",
    "non_json_after_commit",
    "reset",
    "refuse",
    "echo_authorization",
]
FAULT_KINDS: Final = (
    "error",
    "rate_limit",
    "delay",
    "hold",
    "drop_after_commit",
    "non_json_after_commit",
    "reset",
    "refuse",
    "echo_authorization",
)
_WRITE_PATHS: Final = ("/api/v1/statuses", "/api/v2/media")


@dataclass
class Fault:
    kind: FaultKind
    on_path: str
    method: str
    at_count: int
    times: int | None
    status: int = 500
    commit: bool = False
    delay: float = 0.0
    reset_at: datetime | None = None
    reset_header: str | None = None
    refuse_for: float | None = None
    seen: int = 0  # matching requests so far
    fired: int = 0
    #: "hold": set when a held request has arrived; setting `released` lets it go on.
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """Let a held request (and any later one this fault hits) through."""
        self.released.set()

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and fnmatch.fnmatchcase(
            path, self.on_path
        )

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultPlan:
    """The faults still to fire. Thread-safe: request handlers run in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: FaultKind,
        on_path: str = "/api/v1/statuses",
        at_count: int = 1,
        *,
        method: str | None = None,
        times: int | None = 1,
        status: int | None = None,
        commit: bool = False,
        delay: float = 0.0,
        reset_at: datetime | None = None,
        reset_header: str | None = None,
        refuse_for: float | None = None,
    ) -> Fault:
        """Arm a fault (see the module docstring); returns it so tests can read `fired`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")
        if status is None:
            status = 401 if kind == "echo_authorization" else 500
        if at_count < 1:
            raise ValueError("at_count counts from 1")
        if method is None:
            method = "POST" if on_path in _WRITE_PATHS else "*"
        fault = Fault(
            kind=kind,
            on_path=on_path,
            method=method.upper(),
            at_count=at_count,
            times=times,
            status=status,
            commit=commit,
            delay=delay,
            reset_at=reset_at,
            reset_header=reset_header,
            refuse_for=refuse_for,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_from_json(self, data: dict[str, Any]) -> Fault:
        """The control API's form of `add` (reset_at as an ISO-8601 string)."""
        args = dict(data)
        if isinstance(args.get("reset_at"), str):
            args["reset_at"] = datetime.fromisoformat(args["reset_at"])
        return self.add(**args)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [fault for fault in self._faults if not fault.spent]

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request triggers, if any (counting it for every matching fault)."""
        hit: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.spent or not fault.matches(method, path):
                    continue
                fault.seen += 1
                if hit is None and fault.seen >= fault.at_count:
                    fault.fired += 1
                    hit = fault
        return hit
