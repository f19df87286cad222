"""A plain-http service (a local or development PDS) is called without loading the CA
bundle (≈35 ms of a publish); an https one gets a client that verifies certificates."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from threadpost.platforms.bluesky.xrpc import XrpcTransport


class _Describe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"did": "did:web:localhost", "availableUserDomains": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def plain_http_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Describe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def bundle_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every CA bundle loaded into an SSL context from here on."""
    loads: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    return loads


def test_a_plain_http_service_is_called_without_loading_the_ca_bundle(
    plain_http_service: str, bundle_loads: list[object]
) -> None:
    net = XrpcTransport(plain_http_service, timeout=5)
    try:
        answer = net.invoke(net.new_client(), "com.atproto.server.describeServer", what="x")
    finally:
        net.close()
    assert answer["did"] == "did:web:localhost"
    assert bundle_loads == []


def test_an_https_service_gets_a_client_that_verifies_certificates(
    bundle_loads: list[object],
) -> None:
    net = XrpcTransport("https://pds.example", timeout=5)
    try:
        https = net._session("https://pds.example/xrpc/x")
        plain = net._session("http://127.0.0.1:9/xrpc/x")
    finally:
        net.close()
    assert https is not plain
    assert bundle_loads, "the https client loaded no CA bundle"
