"""Which network addresses a fetch made on a page's behalf may connect to. Pure, no I/O.

A link card follows what a page says (its og:image, its redirects), so a page could make
threadpost request the user's router, a cloud metadata service (169.254.169.254) or a
database on localhost. Only public addresses are fetched, except the one address the user
wrote in the link itself (`http://127.0.0.1:8000/` or `http://localhost/` ask for a local
server explicitly); nothing a page points to extends that permission to other addresses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: NAT64 (RFC 6052): an IPv6-only network reaches IPv4 hosts through these; judge the IPv4.
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def parse_address(text: str) -> IPAddress | None:
    """`text` as an IP address (brackets and an IPv6 zone allowed), or None for a name."""
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, Teredo), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_kind(address: IPAddress) -> str | None:
    """Why `address` is not public ("loopback", "private", ...), or None when it is."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_kind(embedded)
    # Order matters: 127.0.0.1 is also "private" to ipaddress; name the most telling kind.
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return kind
    # Shared address space (100.64/10, carrier NAT) and the like: neither private nor global.
    return None if address.is_global else "non-public"


@dataclass(frozen=True)
class AddressPolicy:
    """The addresses one fetch (a link, its redirects and the image its page names) may use."""

    #: A non-public address the user wrote as the link's host.
    named: IPAddress | None = None
    #: The link's host was `localhost` (or `*.localhost`): any loopback address is meant.
    loopback: bool = False

    @classmethod
    def for_link(cls, url: str) -> AddressPolicy:
        """The policy for a fetch that starts at `url`, the link the user wrote."""
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        if host == "localhost" or host.endswith(".localhost"):
            return cls(loopback=True)
        address = parse_address(host)
        if address is not None and address_kind(address) is not None:
            return cls(named=_plain(address))
        return cls()

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be connected to ("a private address"), or None if it may."""
        kind = address_kind(address)
        if kind is None:
            return None
        plain = _plain(address)
        if plain == self.named or (self.loopback and kind == "loopback"):
            return None
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"


def _plain(address: IPAddress) -> IPAddress:
    """`address` without an IPv6 zone, IPv4-mapped addresses as IPv4 (for comparisons)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address
