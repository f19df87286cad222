"""HTTP/1.1 requests on the standard library's `http.client`: the Bluesky transport's wire.

A publish makes a handful of requests to one or two hosts, each a small JSON body or one
blob, so all it needs is keep-alive connections, timeouts, TLS verification and the
environment's proxies. httpx did the same at ~50-65 ms of imports and client set-up before
a publish's first request (httpcore, h11, anyio and their decoders), as long as the whole
applyWrites round trip to a nearby PDS.

What it promises its caller (`XrpcTransport.guarded` turns these into PlatformErrors):
- an `Answer` for every HTTP answer, whatever its status;
- `ConnectFailed` when the request surely never left (refused, no such host, a TLS
  handshake that failed), `TimedOut` with `sent` saying whether it may have, and `Dropped`
  when the connection broke after sending, before a whole answer arrived.

Connections are kept per origin (scheme, host, port) and handed to one request at a time, so
several threads may share a wire. An idle connection the server has closed meanwhile is
noticed before reuse (its socket reads as ready: end of file), not by failing a request on
it. Certificates are checked against `SSL_CERT_FILE` / `SSL_CERT_DIR` when the environment
names them (and `trust_env`), else certifi's bundle; a plain-http origin never loads one.
"""

from __future__ import annotations

import base64
import http.client
import os
import select
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

from threadpost.loopback import is_loopback_url

#: At most this many idle connections are kept per origin.
MAX_IDLE_PER_ORIGIN: Final = 4
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class WireError(Exception):
    """No usable answer arrived (the message names no secret: it is made from the host and
    the operating system's reason only)."""


class ConnectFailed(WireError):
    """The request never left: no connection (refused, no such host, TLS handshake).
    `reason`: why, in a few words ("connection refused", "no such host", what was wrong
    with the certificate...)."""

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


class HttpWire:
    """Keep-alive HTTP/1.1 connections, handed to one request at a time."""

    def __init__(self, *, timeout: float, trust_env: bool = True) -> None:
        self.timeout = timeout
        #: Whether proxies and CA locations come from the environment (not for loopback).
        self.trust_env = trust_env
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
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
        """Send one request, read its whole answer (see the module for what is raised)."""
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
        connection = self._idle_connection(origin) or self._connect(origin, proxy)
        try:
            connection.request(method, target, body=body, headers=sent_headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            connection.close()
            raise TimedOut(f"{origin[1]}: no answer in time", sent=True) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise Dropped(f"{origin[1]}: the connection broke ({_reason(exc)})") from None
        answer = Answer(response.status, Headers.from_pairs(response.getheaders()), data)
        if response.will_close:
            connection.close()
        else:
            self._keep(origin, connection)
        return answer

    def close(self) -> None:
        """Close every idle connection (a later request opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # -- connections -----------------------------------------------------------------------

    def _idle_connection(self, origin: _Origin) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                pool = self._idle.get(origin)
                if not pool:
                    return None
                connection = pool.pop()
            if _still_open(connection):
                return connection
            connection.close()

    def _keep(self, origin: _Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            pool = self._idle.setdefault(origin, [])
            if len(pool) < MAX_IDLE_PER_ORIGIN:
                pool.append(connection)
                return
        connection.close()

    def _connect(self, origin: _Origin, proxy: _Proxy | None) -> http.client.HTTPConnection:
        scheme, host, port = origin
        # Through a proxy the connection goes to it: an https request tunnels through it
        # (CONNECT), a plain-http one names the whole URL (`request`).
        address = (proxy.host, proxy.port) if proxy is not None else (host, port)
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                *address, timeout=self.timeout, context=self._tls_context()
            )
            if proxy is not None:
                connection.set_tunnel(host, port, headers=dict(proxy.authorization))
        else:
            connection = http.client.HTTPConnection(*address, timeout=self.timeout)
        try:
            connection.connect()
        except TimeoutError:
            connection.close()
            raise TimedOut(f"{host}: no connection in time", sent=False) from None
        except ssl.SSLError as exc:
            connection.close()
            from threadpost.tls_words import plain_tls_reason

            reason = plain_tls_reason(exc)
            raise ConnectFailed(f"{host}: {reason}", reason=reason) from None
        except (OSError, http.client.HTTPException) as exc:
            # Refused, no such host, a proxy that refused the tunnel: nothing was sent.
            connection.close()
            reason = _reason(exc)
            raise ConnectFailed(f"{host}: cannot connect ({reason})", reason=reason) from None
        return connection

    def _tls_context(self) -> ssl.SSLContext:
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


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """False when an idle connection's server has closed it (or sent something unasked):
    its socket then reads as ready."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _reason(exc: BaseException) -> str:
    """The operating system's or the protocol's reason, in a few words."""
    if isinstance(exc, socket.gaierror):
        return "no such host"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed without an answer"
    if isinstance(exc, http.client.IncompleteRead):
        return "the answer was cut short"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
