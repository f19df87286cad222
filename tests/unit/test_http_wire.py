"""The Bluesky transport's wire (`threadpost.http_wire`) against real sockets on 127.0.0.1:
what it answers, how each way of failing is reported (sent or not), keep-alive and the
stale connection, proxies from the environment, certificates."""

from __future__ import annotations

import contextlib
import os
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


# -- how an answer's body is delimited, and whether its connection is kept -------------------


def _two_requests(answer: bytes, *, method: str = "GET") -> tuple[list[Answer], int]:
    """Two requests to a server giving `answer` to each on a connection it keeps open as long
    as the client does: the answers, and how many connections the wire opened."""
    with serving(keep_alive([], answer, answer)) as server:
        wire = HttpWire(timeout=5, trust_env=False)
        url = f"http://127.0.0.1:{server.port}/x"
        answers = [wire.request(method, url, headers={}) for _ in range(2)]
        wire.close()
    return answers, server.accepted


def test_a_body_without_a_length_is_read_until_the_server_closes() -> None:
    def until_close(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ")
        conn.sendall(b"it")

    with serving(until_close) as server:
        wire = HttpWire(timeout=5, trust_env=False)
        url = f"http://127.0.0.1:{server.port}/x"
        bodies = [wire.request("GET", url, headers={}).body for _ in range(2)]
        wire.close()
    assert bodies == [b"all of it", b"all of it"]
    assert server.accepted == 2  # a connection that ended the body is not reused


def test_a_head_answer_has_no_body_whatever_its_length_says() -> None:
    answers, connections = _two_requests(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", method="HEAD"
    )
    assert [(a.status, a.headers["Content-Length"], a.body) for a in answers] == [
        (200, "1234", b""),
        (200, "1234", b""),
    ]
    assert connections == 1


@pytest.mark.parametrize("status", [204, 304])
def test_a_no_content_or_not_modified_answer_has_no_body(status: int) -> None:
    answers, connections = _two_requests(f"HTTP/1.1 {status} Nothing\r\n\r\n".encode())
    assert [(a.status, a.body) for a in answers] == [(status, b""), (status, b"")]
    assert connections == 1


def test_interim_answers_are_skipped_for_the_final_one() -> None:
    answers, _ = _two_requests(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + _answer(b"{}")
    )
    assert [(a.status, a.body, "link" in a.headers) for a in answers] == [(200, b"{}", False)] * 2


def test_a_folded_header_line_continues_the_value_before_it() -> None:
    answers, _ = _two_requests(
        b"HTTP/1.1 200 OK\r\nX-Long: first part\r\n \t second part\r\nX-Spaced:   v  \r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert answers[0].headers["x-long"] == "first part second part"
    assert answers[0].headers["x-spaced"] == "v"


@pytest.mark.parametrize(
    ("head", "kept"),
    [
        ("HTTP/1.1 200 OK\r\nConnection: close\r\n", False),
        ("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\n", False),
        ("HTTP/1.0 200 OK\r\n", False),
        ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", True),
        ("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n", True),
    ],
)
def test_a_connection_is_kept_only_as_the_answer_allows(head: str, kept: bool) -> None:
    _, connections = _two_requests(f"{head}Content-Length: 2\r\n\r\n{{}}".encode())
    assert connections == (1 if kept else 2)


def test_a_body_shorter_than_its_length_is_dropped() -> None:
    def cut_short(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")

    with serving(cut_short) as server, pytest.raises(Dropped, match="cut short"):
        HttpWire(timeout=5, trust_env=False).request(
            "POST", f"http://127.0.0.1:{server.port}/x", headers={}, body=b"{}"
        )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not HTTP/1.1"),
        (b"HTTP/2 200\r\n\r\n", "not HTTP/1.1"),
        (b"HTTP/1.1 2OO OK\r\n\r\n", "not HTTP/1.1"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", "longer than 64 KiB"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", "more than 100"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed answer header"),
        (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "malformed answer header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}!!\r\n", "malformed chunk"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "cut short"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", "cut short"),
    ],
)
def test_an_answer_that_is_not_http_is_dropped_with_its_reason(answer: bytes, reason: str) -> None:
    def answer_then_close(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(answer)

    with serving(answer_then_close) as server, pytest.raises(Dropped, match=reason):
        HttpWire(timeout=5, trust_env=False).request(
            "GET", f"http://127.0.0.1:{server.port}/x", headers={}
        )


def test_a_repeated_content_length_that_agrees_is_accepted() -> None:
    answers, _ = _two_requests(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"
    )
    assert answers[0].body == b"{}"


def test_a_chunked_body_with_extensions_and_trailers_is_read_whole() -> None:
    answers, connections = _two_requests(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;name=value\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    assert [a.body for a in answers] == [b"abc0123456789"] * 2
    assert connections == 1


# -- the request -----------------------------------------------------------------------------


def test_the_request_head_names_the_host_its_port_and_the_body_length() -> None:
    heads: list[bytes] = []
    with serving(keep_alive(heads, _answer(), _answer(), _answer())) as server:
        wire = HttpWire(timeout=5, trust_env=False)
        url = f"http://127.0.0.1:{server.port}/xrpc/x"
        wire.request("POST", url, headers={"Content-Type": "application/json"}, body=b"[1]")
        wire.request("POST", url, headers={})  # a POST without a body says so
        wire.request("GET", url, headers={"Host": "pds.example"})
        wire.close()
    first, second, third = (head.split(b"\r\n") for head in heads)
    assert first[:5] == [
        b"POST /xrpc/x HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}".encode(),
        b"Accept-Encoding: identity",
        b"Content-Length: 3",
        b"Content-Type: application/json",
    ]
    assert b"Content-Length: 0" in second
    assert [line for line in third if line.lower().startswith(b"host:")] == [b"Host: pds.example"]
    assert not any(line.lower().startswith(b"content-length") for line in third)


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("http://127.0.0.1:{port}/x", {"Authorization": "Bearer t\r\nX-Injected: 1"}),
        ("http://127.0.0.1:{port}/x", {"Bad Name": "v"}),
        ("http://127.0.0.1:{port}/x", {"X": "nul\x00"}),
        ("http://127.0.0.1:{port}/x y", {}),
        ("http://127.0.0.1:{port}/caf\u00e9", {}),
    ],
)
def test_a_request_that_would_break_its_lines_is_refused_before_anything_is_sent(
    url: str, headers: dict[str, str]
) -> None:
    with serving(keep_alive([], _answer())) as server:
        with pytest.raises(ValueError) as caught:
            HttpWire(timeout=5, trust_env=False).request(
                "GET", url.format(port=server.port), headers=headers
            )
        assert server.accepted == 0
    assert "Bearer" not in str(caught.value)  # a header's value may be a token


def test_a_host_name_that_does_not_resolve_never_sent_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_up: list[object] = []

    def no_such_host(host: object, *args: object, **kwargs: object) -> list[Any]:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # the tests' DNS is loopback-only
    with pytest.raises(ConnectFailed, match="no such host"):
        HttpWire(timeout=5, trust_env=False).request(
            "GET", "http://no-such-host.invalid/x", headers={}
        )
    assert looked_up == [b"no-such-host.invalid"]  # an ASCII name skips the IDNA codec


# -- https, directly and through a proxy's tunnel ---------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, str]]:
    """An https server on 127.0.0.1 with a certificate for `localhost` from a test CA the
    environment names (SSL_CERT_FILE); no proxy in the environment. Yields its port and the
    CA file."""
    from linkserver import serve, tls_certificate

    context, ca_file = tls_certificate(tmp_path)
    for key in list(os.environ):
        if key.lower().endswith("_proxy"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with serve("127.0.0.1", tls=context) as server:
        yield int(server.base.rsplit(":", 1)[1]), str(ca_file)


def test_https_requests_verify_the_server_and_share_one_connection(
    tls_server: tuple[int, str],
) -> None:
    port, _ = tls_server
    wire = HttpWire(timeout=5, trust_env=True)
    answers = [wire.request("GET", f"https://localhost:{port}/ok", headers={}) for _ in range(2)]
    assert [(a.status, a.body) for a in answers] == [(200, b"fine"), (200, b"fine")]
    with wire._lock:
        assert sum(len(pool) for pool in wire._idle.values()) == 1  # one kept-alive connection
    wire.close()


def test_https_to_an_address_its_certificate_does_not_name_never_sent_the_request(
    tls_server: tuple[int, str],
) -> None:
    port, _ = tls_server
    with pytest.raises(ConnectFailed, match="different address"):
        HttpWire(timeout=5, trust_env=True).request(
            "GET", f"https://127.0.0.1:{port}/ok", headers={}
        )


def _tunnel_proxy(heads: list[bytes], answer: bytes | None = None) -> Script:
    """A proxy that records each CONNECT head and then, unless it refuses with `answer`,
    relays bytes both ways to the port the head names (on 127.0.0.1)."""

    def relay(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def script(conn: socket.socket) -> None:
        head = _read_request(conn)
        heads.append(head)
        if answer is not None:
            conn.sendall(answer)
            return
        port = int(head.split(b" ")[1].rsplit(b":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=relay, args=(upstream, conn), daemon=True)
            back.start()
            relay(conn, upstream)
            back.join(5)

    return script


def test_https_goes_through_the_environments_proxy_in_a_tunnel(
    tls_server: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = tls_server
    heads: list[bytes] = []
    with serving(_tunnel_proxy(heads)) as proxy:
        monkeypatch.setenv("https_proxy", f"http://user:pa%40ss@127.0.0.1:{proxy.port}")
        wire = HttpWire(timeout=5, trust_env=True)
        answer = wire.request("GET", f"https://localhost:{port}/ok", headers={"X": "y"})
        wire.close()
    assert (answer.status, answer.body) == (200, b"fine")
    tunnel = heads[0].split(b"\r\n")
    assert tunnel[0] == f"CONNECT localhost:{port} HTTP/1.1".encode()
    assert b"Proxy-Authorization: Basic dXNlcjpwYUBzcw==" in tunnel  # user:pa@ss
    assert b"X: y" not in tunnel  # the request's own headers go inside the tunnel only


def test_a_proxy_that_refuses_the_tunnel_never_sent_the_request(
    tls_server: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = tls_server
    refusal = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    with serving(_tunnel_proxy([], refusal)) as proxy:
        monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(ConnectFailed, match="refused the tunnel: HTTP 407"):
            HttpWire(timeout=5, trust_env=True).request(
                "GET", f"https://localhost:{port}/ok", headers={}
            )
