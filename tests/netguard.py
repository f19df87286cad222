"""Keep the suite's network traffic on this machine.

Every test runs with `socket.getaddrinfo` and `socket.socket.connect` wrapped: a name that is
not loopback (127.0.0.0/8, ::1, localhost, *.localhost) or a connection to an address that
is not loopback is refused before any packet leaves (getaddrinfo raises `socket.gaierror`,
connect raises `ConnectionRefusedError`), and the attempt is recorded so the test fails even
when the code under test swallows the error (a link checker "expecting" failure would still
send a DNS query). Only tests marked `live` (opt-in, real server) are exempt.

Unix sockets are not addresses on a network and pass through. Subprocesses are not covered:
their tests must point them at local servers.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex

_lock = threading.Lock()
_attempts: list[str] = []
_active = False


def is_loopback_host(host: object) -> bool:
    """True for a name or address that can only mean this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard / loopback
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name in ("", "localhost") or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _record(what: str) -> None:
    with _lock:
        _attempts.append(what)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if _active and not is_loopback_host(host):
        _record(f"DNS look-up of {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"netguard: {host!r} is not loopback")
    return _real_getaddrinfo(host, *args, **kwargs)


def _inet_target(sock: socket.socket, address: Any) -> str | None:
    """The host of an AF_INET/AF_INET6 connect that leaves the machine, else None."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    if not isinstance(address, tuple) or not address:
        return None
    return None if is_loopback_host(address[0]) else str(address[0])


def _guarded_connect(self: socket.socket, address: Any) -> None:
    target = _inet_target(self, address) if _active else None
    if target is not None:
        _record(f"connection to {address!r}")
        raise ConnectionRefusedError(f"netguard: {target} is not loopback")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    target = _inet_target(self, address) if _active else None
    if target is not None:
        _record(f"connection to {address!r}")
        import errno

        return errno.ECONNREFUSED
    return _real_connect_ex(self, address)


def install() -> None:
    """Wrap the socket functions once per session (idle until `guard()` is entered)."""
    socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@contextmanager
def guard() -> Iterator[list[str]]:
    """Refuse off-machine traffic inside the block; yields the attempts made in it (filled
    when the block ends). Blocks nest: an inner block's attempts are not the outer's."""
    global _active
    with _lock:
        outer_active, outer_attempts = _active, list(_attempts)
        _attempts.clear()
        _active = True
    seen: list[str] = []
    try:
        yield seen
    finally:
        with _lock:
            seen.extend(_attempts)
            _attempts[:] = outer_attempts
            _active = outer_active
