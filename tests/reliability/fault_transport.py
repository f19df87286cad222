"""A fault-injecting HTTP transport in front of the real local PDS (which has no fault
switches). Every request really goes to the PDS over TCP, except where a fault says
otherwise; faults fire on the k-th call of one XRPC method (applyWrites by default).

Kinds: "refused" (this call and every later one go to a closed port on 127.0.0.1: a real
ECONNREFUSED, until `heal()`), "error" (answer `status` without forwarding), "error-after-
commit" (forward, then answer `status`), "rate_limit" (429 RateLimitExceeded with an
epoch-seconds RateLimit-Reset), "timeout" (forward, the write lands, then a read timeout),
"lost" (forward, the write lands, the connection drops without an answer).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass

import httpx


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


class FaultTransport(httpx.BaseTransport):
    """Forward to the PDS; fire the armed fault on the k-th matching call."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.fault: Fault | None = None
        self.seen = 0
        self.fired = 0
        self.refusing = False
        self._dead = closed_port()

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self.fault, self.seen, self.fired = fault, 0, 0

    def heal(self) -> None:
        with self._lock:
            self.fault, self.refusing = None, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.rsplit("/", 1)[-1]
        kind = None
        with self._lock:
            fault = self.fault
            if fault is not None and nsid == fault.nsid and self.fired == 0:
                self.seen += 1
                if self.seen == fault.at_count:
                    self.fired += 1
                    kind = fault.kind
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
            reset = int(time.time() + fault.reset_in)
            return _json(
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {
                    "RateLimit-Limit": "5000",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(reset),
                    "RateLimit-Policy": "5000;w=3600",
                },
            )
        response = self._inner.handle_request(request)
        if kind in ("error-after-commit", "timeout", "lost"):
            response.read()
            response.close()
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
