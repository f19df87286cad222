"""The Bluesky transport's wire (`threadpost.http_wire`) against real sockets on 127.0.0.1:
what it answers, how each way of failing is reported (sent or not), keep-alive and the
stale connection, proxies from the environment, certificates."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from threadpost.http_wire import Answer, ConnectFailed, Dropped, HttpWire, TimedOut

#: What a scripted server does with one connection (its socket, the count of requests).
Script = Callable[[socket.socket], None]


def _read_request(conn: socket.socket) -> bytes:
    """One request's head and body (by Content-Length), or b"" at end of file."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head


def _answer(body: bytes = b"{}", *extra: str) -> bytes:
    headers = "".join(f"{line}\r\n" for line in extra)
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


class ScriptedServer:
    """A TCP server on 127.0.0.1 running `script` on each accepted connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.accepted = 0
        self.heads: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.script(conn)

    def close(self) -> None:
        self._sock.close()


@contextmanager
def serving(script: Script) -> Iterator[ScriptedServer]:
    server = ScriptedServer(script)
    try:
        yield server
    finally:
        server.close()


def keep_alive(server_heads: list[bytes], *answers: bytes) -> Script:
    """Answer each request on the connection in turn, keeping it open between them."""

    def script(conn: socket.socket) -> None:
        for answer in answers:
            head = _read_request(conn)
            if not head:
                return
            server_heads.append(head)
            conn.sendall(answer)
        _read_request(conn)  # then wait for the client to hang up

    return script


def test_an_answer_has_its_status_lowercased_headers_and_whole_body() -> None:
    heads: list[bytes] = []
    chunked = (
        b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n"
        b"RateLimit-Reset: 1700000000\r\nVary: a\r\nVary: b\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    with serving(keep_alive(heads, chunked)) as server:
        wire = HttpWire(timeout=5, trust_env=False)
        answer = wire.request(
            "POST", f"http://127.0.0.1:{server.port}/xrpc/x?a=1", headers={"X": "y"}, body=b"{}"
        )
        wire.close()
    assert answer == Answer(
        429,
        {"transfer-encoding": "chunked", "ratelimit-reset": "1700000000", "vary": "a, b"},
        b"hello world",
    )
    assert heads[0].startswith(b"POST /xrpc/x?a=1 HTTP/1.1\r\n")
    assert b"\r\nX: y" in heads[0]


def test_requests_share_one_kept_alive_connection() -> None:
    heads: list[bytes] = []
    with serving(keep_alive(heads, _answer(b'{"n":1}'), _answer(b'{"n":2}'))) as server:
        wire = HttpWire(timeout=5, trust_env=False)
        url = f"http://127.0.0.1:{server.port}/xrpc/x"
        bodies = [wire.request("GET", url, headers={}).body for _ in range(2)]
        wire.close()
    assert bodies == [b'{"n":1}', b'{"n":2}']
    assert server.accepted == 1


def test_an_idle_connection_the_server_closed_is_replaced_before_the_next_request() -> None:
    def answer_once_then_close(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(_answer())  # keep-alive by HTTP/1.1's default, yet closed right after

    with serving(answer_once_then_close) as server:
        wire = HttpWire(timeout=5, trust_env=False)
        url = f"http://127.0.0.1:{server.port}/xrpc/x"
        first = wire.request("POST", url, headers={}, body=b"{}")
        threading.Event().wait(0.2)  # the server's FIN arrives
        second = wire.request("POST", url, headers={}, body=b"{}")
        wire.close()
    assert (first.status, second.status) == (200, 200)
    assert server.accepted == 2  # a new connection, not a failed write on the dead one


def test_a_refused_connection_never_sent_the_request() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectFailed, match="connection refused"):
        HttpWire(timeout=5, trust_env=False).request(
            "POST", f"http://127.0.0.1:{port}/xrpc/x", headers={}, body=b"{}"
        )


def test_a_connection_closed_without_an_answer_is_dropped_after_sending() -> None:
    def hang_up(conn: socket.socket) -> None:
        _read_request(conn)

    with serving(hang_up) as server, pytest.raises(Dropped, match="the connection broke"):
        HttpWire(timeout=5, trust_env=False).request(
            "POST", f"http://127.0.0.1:{server.port}/xrpc/x", headers={}, body=b"{}"
        )


def test_a_server_that_never_answers_times_out_after_sending() -> None:
    release = threading.Event()

    def stall(conn: socket.socket) -> None:
        _read_request(conn)
        release.wait(10)

    with serving(stall) as server:
        try:
            with pytest.raises(TimedOut) as caught:
                HttpWire(timeout=0.3, trust_env=False).request(
                    "POST", f"http://127.0.0.1:{server.port}/xrpc/x", headers={}, body=b"{}"
                )
        finally:
            release.set()
    assert caught.value.sent


def test_a_plain_http_request_goes_through_the_environments_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heads: list[bytes] = []
    with serving(keep_alive(heads, _answer(b'{"via":"proxy"}'))) as proxy:
        monkeypatch.setenv("http_proxy", f"http://user:pa%40ss@127.0.0.1:{proxy.port}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        answer = HttpWire(timeout=5, trust_env=True).request(
            "GET", "http://pds.example/xrpc/x?y=1", headers={}
        )
    assert answer.body == b'{"via":"proxy"}'
    assert heads[0].startswith(b"GET http://pds.example/xrpc/x?y=1 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic dXNlcjpwYUBzcw==" in heads[0]  # user:pa@ss


def test_without_trust_env_the_environments_proxy_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serving(keep_alive([], _answer())) as proxy, serving(keep_alive([], _answer())) as pds:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
        HttpWire(timeout=5, trust_env=False).request(
            "GET", f"http://127.0.0.1:{pds.port}/xrpc/x", headers={}
        )
    assert (proxy.accepted, pds.accepted) == (0, 1)


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


def test_plain_http_loads_no_ca_bundle(bundle_loads: list[object]) -> None:
    with serving(keep_alive([], _answer())) as server:
        HttpWire(timeout=5, trust_env=False).request(
            "GET", f"http://127.0.0.1:{server.port}/xrpc/x", headers={}
        )
    assert bundle_loads == []


def test_https_verifies_certificates_and_host_names(bundle_loads: list[object]) -> None:
    wire = HttpWire(timeout=5, trust_env=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectFailed):  # nothing listens: the context is made all the same
        wire.request("GET", f"https://127.0.0.1:{port}/xrpc/x", headers={})
    context = wire._tls_context()
    assert bundle_loads, "no CA bundle was loaded for https"
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_tls_handshake_with_an_unknown_certificate_never_sent_the_request() -> None:
    def speak_no_tls(conn: socket.socket) -> None:
        conn.recv(65536)  # the ClientHello
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")  # not a TLS server at all

    with serving(speak_no_tls) as server, pytest.raises(ConnectFailed):
        HttpWire(timeout=5, trust_env=False).request(
            "GET", f"https://127.0.0.1:{server.port}/xrpc/x", headers={}
        )


def test_a_loopback_server_gets_no_proxies_from_the_environment() -> None:
    assert not HttpWire.for_server("http://127.0.0.1:9/x", timeout=5).trust_env
    assert not HttpWire.for_server("http://[::1]:9/x", timeout=5).trust_env
    assert not HttpWire.for_server("http://localhost:9/x", timeout=5).trust_env
    # A name that merely starts like a loopback address is anyone's.
    assert HttpWire.for_server("https://127.evil.example/x", timeout=5).trust_env
    assert HttpWire.for_server("https://bsky.social", timeout=5).trust_env
