"""Whether a host or URL can only mean this machine: `localhost` or a loopback IP address
(127.0.0.0/8, ::1, and 127.x mapped into IPv6), never a name that merely starts like one
(`127.evil.example` is anyone's). Standard library only, nothing imported until asked."""

from __future__ import annotations

from typing import Final

#: Every character of an IP address as urlsplit gives it (an IPv6 zone aside: `%` and what
#: follows is a name): a host with any other character is a name, and only `localhost`
#: among names is this machine.
_ADDRESS_CHARACTERS: Final = frozenset("0123456789abcdef.:%")


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (`host` as urlsplit gives it: lowercase, no [])."""
    if not set(host.partition("%")[0]) <= _ADDRESS_CHARACTERS:
        return host == "localhost"  # a name (bsky.social): no need to import ipaddress
    import ipaddress  # here: only an address to judge needs it (~1 ms)

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def is_loopback_url(url: str) -> bool:
    """Whether `url`'s host is a loopback host (`is_loopback_host`)."""
    from urllib.parse import urlsplit

    return is_loopback_host(urlsplit(url).hostname or "")
