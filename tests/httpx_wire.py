"""An httpx transport (a `MockTransport` handler, a fault injector) as the Bluesky
transport's wire (`threadpost.http_wire`'s interface), for tests that script answers and
failures with httpx's request and response types.

httpx's failures become the wire's, as `HttpWire` raises them for the same event: a
connect timeout or refusal never sent the request, a read timeout may have, a protocol
error or a read/write error broke the connection after sending. `HttpWire` itself is
tested against real sockets (tests/unit/test_http_wire.py)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from threadpost.http_wire import Answer, ConnectFailed, Dropped, Headers, TimedOut


class HttpxWire:
    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> Answer:
        request = httpx.Request(method, url, headers=dict(headers), content=body)
        try:
            response = self.transport.handle_request(request)
            content = response.read()
        except httpx.ConnectTimeout:
            raise TimedOut("no connection in time", sent=False) from None
        except httpx.TimeoutException:
            raise TimedOut("no answer in time", sent=True) from None
        except httpx.ConnectError:
            raise ConnectFailed("cannot connect", reason="connection refused") from None
        except httpx.TransportError as exc:
            raise Dropped(f"the connection broke ({type(exc).__name__})") from None
        answered = Headers.from_pairs(response.headers.multi_items())
        return Answer(response.status_code, answered, content)

    def close(self) -> None:
        self.transport.close()
