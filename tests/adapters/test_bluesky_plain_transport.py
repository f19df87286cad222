"""The plain XRPC transport: a query and a procedure over HTTP, and no TLS set up (the CA
bundle loaded) for a PDS on http://localhost; https:// would get httpx's verified TLS."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from threadpost.platforms.bluesky.xrpc import XrpcTransport, resolve_handles


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, str | None, bytes]]] = []

    def _answer(self, body: bytes) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        payload = json.dumps({"did": "did:plc:abc", "ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_queries_and_procedures_are_plain_xrpc(server: str) -> None:
    net = XrpcTransport(server, timeout=5)
    try:
        assert net.call("com.example.get", params={"a": "b"}, what="asking")["ok"] is True
        net.call("com.example.put", token="tok", body={"x": "é"}, what="putting")
        net.call("com.example.bare", base_url=f"{server}/xrpc", procedure=True, what="bare")
    finally:
        net.close()
    assert _Handler.seen == [
        ("GET", "/xrpc/com.example.get?a=b", None, b""),
        ("POST", "/xrpc/com.example.put", "Bearer tok", '{"x":"é"}'.encode()),
        ("POST", "/xrpc/com.example.bare", None, b""),
    ]


def test_an_http_service_sets_no_tls_up(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[Any] = []
    real = httpx.HTTPTransport

    def recording(*args: Any, **kwargs: Any) -> httpx.HTTPTransport:
        if kwargs.get("verify", True) is not False:
            verified.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "HTTPTransport", recording)
    assert resolve_handles(["a.test"], server)["a.test"].did == "did:plc:abc"
    assert verified == []
