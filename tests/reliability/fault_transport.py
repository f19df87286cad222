"""A fault-injecting HTTP transport in front of the real local PDS (which has no fault
switches). Every request really goes to the PDS over TCP, except where a fault says
otherwise; faults fire on the k-th call of one XRPC method (applyWrites by default).

Kinds: "refused" (this call and every later one go to a closed port on 127.0.0.1: a real
ECONNREFUSED, until `heal()`), "error" (answer `status` without forwarding), "error-after-
commit" (forward, then answer `status`), "rate_limit" (429 RateLimitExceeded with an
epoch-seconds RateLimit-Reset), "timeout" (forward, the write lands, then a read timeout),
"lost" (forward, the write lands, the connection drops without an answer).

Unreadable successes (issue 18): "non-json" (answer 200 with an HTML page, not forwarded),
"<kind>-after-commit" (forward, the write lands, then that answer), "garbled-json" (200
whose content type says JSON and whose body is not), "wrong-shape" (200 with a JSON object
that is not the answer asked for). A "rate_limit" may carry a raw `reset_value` (a reset in
milliseconds, absurdly far, unreadable) and a `retry_after` header.

`times`: how many matching calls fire (from the `at_count`-th on); `match`: only calls
whose request body (or URL) contains this text count.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass

import httpx

from threadpost.http_wire import HttpWire


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Fault:
    kind: str
    at_count: int
    nsid: str = "com.atproto.repo.applyWrites"
    status: int = 500
    reset_in: float = 1.0
    #: The raw RateLimit-Reset to send instead of now + reset_in (epoch seconds).
    reset_value: str | None = None
    retry_after: str | None = None
    times: int = 1
    match: str | None = None


class _WireForwarder:
    """Forwards an httpx request over threadpost's own wire (`http_wire.HttpWire`), so what
    really reaches the PDS goes the way a publish sends it. Its failures stay the wire's
    (a refused connection raises `ConnectFailed`, which `HttpxWire` passes through)."""

    def __init__(self) -> None:
        self._wire = HttpWire(timeout=30, trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self._wire.request(
            request.method, str(request.url), headers=dict(request.headers), body=request.read()
        )
        return httpx.Response(answer.status, headers=dict(answer.headers), content=answer.body)

    def close(self) -> None:
        self._wire.close()


class FaultTransport(httpx.BaseTransport):
    """Forward to the PDS (over threadpost's wire); fire each armed fault on its k-th
    matching call. Used as the publisher's wire through tests/httpx_wire.py."""

    def __init__(self) -> None:
        self._inner = _WireForwarder()
        self._lock = threading.Lock()
        self.faults: list[Fault] = []
        self._seen: list[int] = []
        self._fired: list[int] = []
        self.refusing = False
        self._dead = closed_port()

    @property
    def fault(self) -> Fault | None:
        return self.faults[0] if self.faults else None

    @property
    def fired(self) -> int:
        """How many times the armed faults fired, in all."""
        with self._lock:
            return sum(self._fired)

    def arm(self, *faults: Fault) -> None:
        with self._lock:
            self.faults = list(faults)
            self._seen = [0] * len(faults)
            self._fired = [0] * len(faults)

    def heal(self) -> None:
        with self._lock:
            self.faults, self._seen, self._fired, self.refusing = [], [], [], False

    def _due(self, request: httpx.Request, nsid: str) -> Fault | None:
        for n, fault in enumerate(self.faults):
            if nsid != fault.nsid or self._fired[n] >= fault.times:
                continue
            if fault.match is not None and not _mentions(request, fault.match):
                continue
            self._seen[n] += 1
            if self._seen[n] >= fault.at_count:
                self._fired[n] += 1
                return fault
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.rsplit("/", 1)[-1]
        with self._lock:
            fault = self._due(request, nsid)
            kind = fault.kind if fault is not None else None
            if kind == "refused":
                self.refusing = True
            refusing = self.refusing
        if refusing:
            dead = request.url.copy_with(host="127.0.0.1", port=self._dead)
            return self._inner.handle_request(
                httpx.Request(request.method, dead, headers=request.headers, content=b"")
            )
        if kind == "error":
            assert fault is not None
            return _json(fault.status, {"error": "InternalServerError", "message": "boom"})
        if kind == "rate_limit":
            assert fault is not None
            reset = fault.reset_value or str(int(time.time() + fault.reset_in))
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return _json(
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {
                    "RateLimit-Limit": "5000",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": reset,
                    "RateLimit-Policy": "5000;w=3600",
                    **extra,
                },
            )
        if kind in UNREADABLE:
            return UNREADABLE[kind]()
        response = self._inner.handle_request(request)
        after = kind.removesuffix("-after-commit") if kind else None
        if kind in ("error-after-commit", "timeout", "lost") or (
            kind != after and after in UNREADABLE
        ):
            response.read()
            response.close()
            if after in UNREADABLE:
                return UNREADABLE[after]()
            if kind == "error-after-commit":
                assert fault is not None
                return _json(fault.status, {"error": "InternalServerError", "message": "boom"})
            if kind == "timeout":
                raise httpx.ReadTimeout("timed out (simulated, after the write)", request=request)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return response

    def close(self) -> None:
        self._inner.close()


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _mentions(request: httpx.Request, text: str) -> bool:
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    return text.encode() in body or text in str(request.url)


_PAGE = b"<html><body><h1>Welcome to the hotel network</h1></body></html>"

#: The unreadable 200 answers, by fault kind.
UNREADABLE = {
    "non-json": lambda: httpx.Response(
        200, content=_PAGE, headers={"Content-Type": "text/html; charset=utf-8"}
    ),
    "garbled-json": lambda: httpx.Response(
        200, content=_PAGE, headers={"Content-Type": "application/json; charset=utf-8"}
    ),
    "wrong-shape": lambda: _json(200, {"status": "ok"}),
}
