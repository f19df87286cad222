"""The suite's own guard against network traffic off the machine (tests/netguard.py)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

import netguard
from linkserver import serve


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost", "a.localhost", "0.0.0.0", None],
)
def test_loopback_names_and_addresses_are_allowed(host: str | None) -> None:
    assert netguard.is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["example.com", "example.invalid", "10.0.0.1", "192.168.1.1", "1.1.1.1", "::2"]
)
def test_other_names_and_addresses_are_not(host: str) -> None:
    assert not netguard.is_loopback_host(host)


def test_a_public_name_is_refused_before_any_query_and_recorded() -> None:
    with netguard.guard() as attempts, pytest.raises(socket.gaierror, match="not loopback"):
        socket.getaddrinfo("example.com", 443)
    assert attempts == ["DNS look-up of 'example.com'"]


def test_a_connection_to_a_public_address_is_refused_and_recorded() -> None:
    with (
        netguard.guard() as attempts,
        socket.socket() as sock,
        pytest.raises(ConnectionRefusedError, match="not loopback"),
    ):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: refused before any packet
    assert attempts == ["connection to ('192.0.2.1', 80)"]


def test_a_swallowed_attempt_is_still_recorded() -> None:
    """Code that catches the error (a link checker reporting 'unreachable') is still caught."""
    with netguard.guard() as attempts, pytest.raises(urllib.error.URLError):
        urllib.request.urlopen("http://example.com/", timeout=5)
    assert attempts and "example.com" in attempts[0]


def test_loopback_traffic_passes_and_is_not_recorded() -> None:
    with (
        netguard.guard() as attempts,
        serve() as server,
        urllib.request.urlopen(server.url("/ok"), timeout=30) as response,
    ):
        assert response.status == 200
    assert attempts == []
    assert server.hits["GET /ok"] == 1
