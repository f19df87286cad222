"""HTTP/1.1 requests on plain sockets: the Bluesky and Mastodon transports' wire.

A publish makes a handful of requests to one or two hosts, each a small JSON body or one
blob, so all it needs is keep-alive connections, timeouts, TLS verification and the
environment's proxies. httpx did the same at ~50-65 ms of imports and client set-up before
a publish's first request. The standard library's `http.client` costs ~12-14 ms to import
(the `email` package it parses headers with, `ssl` even for plain http, the `HTTPStatus`
enum): a tenth of a Bluesky publish's start-up. What a client of a few JSON APIs needs of
HTTP/1.1 is small and written out here, each rule of RFC 9112 it follows named where it is
applied: the request head; the answer's status line and headers (interim 1xx answers
skipped, obsolete folded lines joined); a body delimited by `Transfer-Encoding: chunked`,
by `Content-Length` or by the connection's end; whether the connection stays open. `ssl`
is imported for https only.

What it promises its caller (`XrpcTransport.guarded` turns these into PlatformErrors):
- an `Answer` for every HTTP answer, whatever its status;
- `ConnectFailed` when the request surely never left (refused, no such host, a TLS
  handshake that failed, a proxy that refused the tunnel), `TimedOut` with `sent` saying
  whether it may have, and `Dropped` when the connection broke after sending, before a
  whole answer arrived (or the answer was not HTTP).

Connections are kept per origin (scheme, host, port) and handed to one request at a time, so
several threads may share a wire. An idle connection the server has closed meanwhile is
noticed before reuse (its socket reads as ready: end of file), not by failing a request on
it. Certificates are checked against `SSL_CERT_FILE` / `SSL_CERT_DIR` when the environment
names them (and `trust_env`), else certifi's bundle; a plain-http origin never loads one.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol
from urllib.parse import unquote, urlsplit

from threadpost.loopback import is_loopback_url

if TYPE_CHECKING:
    import ssl

#: At most this many idle connections are kept per origin.
MAX_IDLE_PER_ORIGIN: Final = 4
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
#: The longest answer line (status line, header, chunk size) and the most header lines
#: accepted, as http.client has them: a server past either is not speaking HTTP to us.
_MAX_LINE: Final = 65536
_MAX_HEADERS: Final = 100
#: A body up to this size leaves in the same send as the request's head.
_JOINED_BODY: Final = 65536
#: Methods whose request has a body even when empty (`Content-Length: 0`), as http.client.
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_HEX_DIGITS: Final = b"0123456789abcdefABCDEF"
#: Characters no header name may hold (RFC 9110's token excludes them) and no request
#: target may: a space or a control character would let a value end the line early.
_NOT_IN_NAME: Final = frozenset(' \t\r\n:()<>@,;\\"/[]?={}\x00\x7f')
_END_OF_HEAD: Final = (b"\r\n", b"\n")


class WireError(Exception):
    """No usable answer arrived (the message names no secret: it is made from the host and
    the operating system's reason only)."""


class ConnectFailed(WireError):
    """The request never left: no connection (refused, no such host, TLS handshake, a
    proxy's refused tunnel). `reason`: why, in a few words ("connection refused", "no such
    host", what was wrong with the certificate...)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class TimedOut(WireError):
    """No answer in time. `sent`: the request may have reached the server."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class Dropped(WireError):
    """The connection closed or broke once the request was (maybe partly) sent, before a
    whole answer arrived."""


class _Broken(Exception):
    """What came back breaks HTTP/1.1 or ends too early; `reason` says how, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Headers(dict[str, str]):
    """Answer headers by lower-case name (repeats joined by ", "), looked up in any case."""

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """The headers of an answer, from its (name, value) pairs as they came."""
        found = cls()
        for name, value in pairs:
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        return found

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: its status, headers (`Headers`: a dict by lower-case name) and whole
    body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


_Origin = tuple[str, str, int]


class _LineReader(Protocol):
    """Where answer lines are read from: a connection's buffered reader, or the raw socket
    (for a proxy's answer to CONNECT, which must not be read past)."""

    def readline(self, size: int = ..., /) -> bytes: ...


class _Connection:
    """One open connection: its socket (TLS-wrapped for https) and the buffered reader its
    answers are read through."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: BinaryIO = sock.makefile("rb")

    def still_open(self) -> bool:
        """False when the server has closed this idle connection (or sent something
        unasked): its socket then reads as ready."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class HttpWire:
    """Keep-alive HTTP/1.1 connections, handed to one request at a time."""

    def __init__(self, *, timeout: float, trust_env: bool = True) -> None:
        self.timeout = timeout
        #: Whether proxies and CA locations come from the environment (not for loopback).
        self.trust_env = trust_env
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    @classmethod
    def for_server(cls, url: str, *, timeout: float) -> HttpWire:
        """A wire for one server's requests: with the environment's proxies and CA
        locations, except for a loopback server (tests, local development), whose tokens
        are never sent through a proxy picked up from the environment."""
        return cls(timeout=timeout, trust_env=not is_loopback_url(url))

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> Answer:
        """Send one request, read its whole answer (see the module for what is raised). A
        header or target that would break the request's lines is a ValueError, raised
        before anything is sent."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ConnectFailed(
                f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}",
                reason="not an http(s) URL",
            )
        origin = (scheme, parts.hostname, parts.port or _DEFAULT_PORTS[scheme])
        proxy = self._proxy_for(scheme, parts.hostname)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        sent_headers = dict(headers)
        if proxy is not None and scheme == "http":
            target = url  # a plain-http request through a proxy names the whole URL
            sent_headers.update(proxy.authorization)
        head = _request_head(method, target, _host_header(origin), sent_headers, body)

        connection = self._idle_connection(origin) or self._connect(origin, proxy)
        try:
            _send(connection.sock, head, body)
            answer, keep_open = _read_answer(connection.reader, bodiless=method == "HEAD")
        except TimeoutError:
            connection.close()
            raise TimedOut(f"{origin[1]}: no answer in time", sent=True) from None
        except (OSError, _Broken) as exc:
            connection.close()
            raise Dropped(f"{origin[1]}: the connection broke ({_reason(exc)})") from None
        except BaseException:
            connection.close()  # mid-answer: the connection's state is unknown
            raise
        if keep_open:
            self._keep(origin, connection)
        else:
            connection.close()
        return answer

    def close(self) -> None:
        """Close every idle connection (a later request opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # -- connections -----------------------------------------------------------------------

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        while True:
            with self._lock:
                pool = self._idle.get(origin)
                if not pool:
                    return None
                connection = pool.pop()
            if connection.still_open():
                return connection
            connection.close()

    def _keep(self, origin: _Origin, connection: _Connection) -> None:
        with self._lock:
            pool = self._idle.setdefault(origin, [])
            if len(pool) < MAX_IDLE_PER_ORIGIN:
                pool.append(connection)
                return
        connection.close()

    def _connect(self, origin: _Origin, proxy: _Proxy | None) -> _Connection:
        scheme, host, port = origin
        # Through a proxy the connection goes to it: an https request tunnels through it
        # (CONNECT), a plain-http one names the whole URL (`request`).
        to_host, to_port = (proxy.host, proxy.port) if proxy is not None else (host, port)
        try:
            address = (_lookup_name(to_host), to_port)
            sock = socket.create_connection(address, self.timeout)  # type: ignore[arg-type]
        except TimeoutError:
            raise TimedOut(f"{host}: no connection in time", sent=False) from None
        except OSError as exc:  # refused, no such host: nothing was sent
            reason = _reason(exc)
            raise ConnectFailed(f"{host}: cannot connect ({reason})", reason=reason) from None
        # Each request leaves whole (`_send`); waiting to fill a packet would only delay it.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            sock = self._secured(sock, host, port, proxy)
        return _Connection(sock)

    def _secured(
        self, sock: socket.socket, host: str, port: int, proxy: _Proxy | None
    ) -> socket.socket:
        """`sock` speaking TLS to `host` (through the proxy's tunnel, if any), the server's
        certificate and name verified; ConnectFailed (or TimedOut, not sent) if not."""
        import ssl  # here: a plain-http origin never needs it

        try:
            if proxy is not None:
                _open_tunnel(sock, host, port, proxy.authorization)
            return self._tls_context().wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            sock.close()
            raise TimedOut(f"{host}: no connection in time", sent=False) from None
        except ssl.SSLError as exc:
            sock.close()
            from threadpost.tls_words import plain_tls_reason

            reason = plain_tls_reason(exc)
            raise ConnectFailed(f"{host}: {reason}", reason=reason) from None
        except (OSError, _Broken) as exc:
            sock.close()
            reason = _reason(exc)
            raise ConnectFailed(f"{host}: cannot connect ({reason})", reason=reason) from None

    def _tls_context(self) -> ssl.SSLContext:
        import ssl

        with self._lock:
            if self._tls is None:
                cafile = os.environ.get("SSL_CERT_FILE") if self.trust_env else None
                capath = os.environ.get("SSL_CERT_DIR") if self.trust_env else None
                if not cafile and not capath:
                    import certifi

                    cafile = certifi.where()
                self._tls = ssl.create_default_context(cafile=cafile, capath=capath)
            return self._tls

    # -- proxies ---------------------------------------------------------------------------

    def _proxy_for(self, scheme: str, host: str) -> _Proxy | None:
        if not self.trust_env or not any(key.lower().endswith("_proxy") for key in os.environ):
            return None  # the common case, without importing urllib.request
        import urllib.request

        if urllib.request.proxy_bypass(host):
            return None
        proxies = urllib.request.getproxies()
        address = proxies.get(scheme) or proxies.get("all")
        return _Proxy.parse(address) if address else None


@dataclass(frozen=True)
class _Proxy:
    """An http:// proxy from the environment (https:// proxies are not supported)."""

    host: str
    port: int
    #: The Proxy-Authorization header for the proxy's user and password, if it has them.
    authorization: Mapping[str, str]

    @classmethod
    def parse(cls, address: str) -> _Proxy:
        parts = urlsplit(address if "://" in address else f"http://{address}")
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise ConnectFailed(
                f"unsupported proxy {parts.scheme}://{parts.hostname or ''} in the environment "
                "(threadpost speaks to http:// proxies only)",
                reason="unsupported proxy",
            )
        authorization: dict[str, str] = {}
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            authorization["Proxy-Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return cls(parts.hostname, parts.port or 8080, authorization)


# -- the request ----------------------------------------------------------------------------


def _host_header(origin: _Origin) -> str:
    """The Host header's value: the host (an IPv6 address in brackets, a non-ASCII name in
    its IDNA form) and the port unless it is the scheme's own."""
    scheme, host, port = origin
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    return host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"


def _request_head(
    method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The request line and headers, ended by the empty line. Host, `Accept-Encoding:
    identity` (the body is read as it comes: nothing here decompresses) and Content-Length
    are added unless `headers` has them."""
    if not target.isascii() or any(ch <= " " or ch == "\x7f" for ch in target):
        raise ValueError("a request target with a space, a control or a non-ASCII character")
    given = {name.lower() for name in headers}
    lines = [f"{method} {target} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {host}")
    if "accept-encoding" not in given:
        lines.append("Accept-Encoding: identity")
    if "content-length" not in given and (body is not None or method in _BODY_METHODS):
        lines.append(f"Content-Length: {len(body or b'')}")
    for name, value in headers.items():
        if not name or not name.isascii() or not _NOT_IN_NAME.isdisjoint(name):
            raise ValueError(f"an invalid header name: {name!r}")
        if "\r" in value or "\n" in value or "\x00" in value:
            # The value is not quoted: it may be a token.
            raise ValueError(f"header {name}: a value with a line break or a NUL")
        lines.append(f"{name}: {value}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


def _send(sock: socket.socket, head: bytes, body: bytes | None) -> None:
    if body and len(body) <= _JOINED_BODY:
        sock.sendall(head + body)  # one write: the server reads it whole, without a wait
        return
    sock.sendall(head)
    if body:
        sock.sendall(body)


def _lookup_name(host: str) -> str | bytes:
    """`host` as the resolver is given it: an ASCII name as bytes, which `getaddrinfo` takes
    as it is, where a str would first go through the IDNA codec (importing it costs ~1 ms
    of every start-up, for no change to an ASCII name). `create_connection` hands the host
    to `getaddrinfo` untouched, which takes bytes, though typeshed types it as a str."""
    return host.encode("ascii") if host.isascii() else host


def _open_tunnel(
    sock: socket.socket, host: str, port: int, authorization: Mapping[str, str]
) -> None:
    """Ask the proxy on `sock` for a tunnel to host:port (CONNECT); _Broken if refused."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in authorization.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    # Unbuffered: the proxy's answer head must be read without reading past it.
    reader = sock.makefile("rb", buffering=0)
    try:
        _, status = _status_line(reader)
        _header_lines(reader)
    finally:
        reader.close()
    if not 200 <= status < 300:
        raise _Broken(f"the proxy refused the tunnel: HTTP {status}")


# -- the answer -----------------------------------------------------------------------------


def _read_answer(reader: BinaryIO, *, bodiless: bool) -> tuple[Answer, bool]:
    """The whole answer to the request just sent, and whether the connection may carry the
    next request. `bodiless`: the request was a HEAD, whose answer has no body."""
    while True:
        version, status = _status_line(reader)
        pairs = _header_lines(reader)
        if status >= 200 or status == 101:
            break
        # An interim answer (100 Continue, 103 Early Hints): the final one follows.
    headers = Headers.from_pairs(pairs)
    keep_open = _keeps_open(version, headers) and status != 101
    # RFC 9112 6.3: how the body is delimited, in this order.
    encoding = headers.get("transfer-encoding")
    if bodiless or status in (101, 204, 304):
        body = b""
    elif encoding is not None:
        if encoding.rsplit(",", 1)[-1].strip().lower() == "chunked":
            body = _read_chunked(reader)
        else:
            body, keep_open = reader.read(), False
        if "content-length" in headers:
            keep_open = False  # both: a message a server should not send; not reused
    elif (length := _content_length(headers)) is not None:
        body = _read_exactly(reader, length)
    else:
        body, keep_open = reader.read(), False  # until the server closes the connection
    return Answer(status, headers, body), keep_open


def _line(reader: _LineReader) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise _Broken("an answer line longer than 64 KiB")
    return line


def _status_line(reader: _LineReader) -> tuple[str, int]:
    """The answer's HTTP version and status, from `HTTP/1.x NNN reason`."""
    line = _line(reader)
    if not line:
        raise _Broken("closed without an answer")
    fields = line.decode("latin-1").split(None, 2)
    if (
        len(fields) < 2
        or not fields[0].startswith("HTTP/1.")
        or not (len(fields[1]) == 3 and fields[1].isascii() and fields[1].isdigit())
    ):
        raise _Broken("the answer is not HTTP/1.1")
    return fields[0], int(fields[1])


def _header_lines(reader: _LineReader) -> list[tuple[str, str]]:
    """The (name, value) pairs of a header section (or a chunked body's trailers), read up
    to and with its ending empty line."""
    pairs: list[tuple[str, str]] = []
    while (line := _line(reader)) not in _END_OF_HEAD:
        if not line:
            raise _Broken("the answer was cut short")
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and pairs:
            # Obsolete line folding (RFC 9112 5.2): the line continues the last value.
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or not _NOT_IN_NAME.isdisjoint(name):
            raise _Broken("a malformed answer header")
        pairs.append((name, value.strip(" \t")))
        if len(pairs) > _MAX_HEADERS:
            raise _Broken("more than 100 answer headers")
    return pairs


def _content_length(headers: Headers) -> int | None:
    """The Content-Length, if given; repeats must agree (they come joined by ", ")."""
    given = headers.get("content-length")
    if given is None:
        return None
    values = {value.strip() for value in given.split(",")}
    if len(values) != 1 or not (value := values.pop()).isascii() or not value.isdigit():
        raise _Broken("an invalid Content-Length")
    return int(value)


def _read_exactly(reader: BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise _Broken("the answer was cut short")
    return data


def _read_chunked(reader: BinaryIO) -> bytes:
    """A chunked body (RFC 9112 7.1): sized chunks up to the empty one, then trailers."""
    chunks: list[bytes] = []
    while True:
        line = _line(reader)
        if not line:
            raise _Broken("the answer was cut short")
        size = line.split(b";", 1)[0].strip()  # a chunk extension after ";" is ignored
        if not size or size.strip(_HEX_DIGITS):
            raise _Broken("a malformed chunk size")
        if (length := int(size, 16)) == 0:
            _header_lines(reader)  # trailers, unused
            return b"".join(chunks)
        chunks.append(_read_exactly(reader, length))
        if _line(reader) not in _END_OF_HEAD:
            raise _Broken("a malformed chunk")


def _keeps_open(version: str, headers: Headers) -> bool:
    """Whether the server keeps the connection open after this answer (RFC 9112 9.3):
    HTTP/1.1 unless it says `close`, HTTP/1.0 only if it says `keep-alive`."""
    options = {option.strip().lower() for option in (headers.get("connection") or "").split(",")}
    if "close" in options:
        return False
    return version != "HTTP/1.0" or "keep-alive" in options


def _reason(exc: BaseException) -> str:
    """The operating system's or the protocol's reason, in a few words."""
    if isinstance(exc, _Broken):
        return exc.reason
    if isinstance(exc, socket.gaierror):
        return "no such host"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
