"""Whether a host or URL can only mean this machine: `localhost` or a loopback IP address
(127.0.0.0/8, ::1, and 127.x mapped into IPv6), never a name that merely starts like one
(`127.evil.example` is anyone's). Standard library only, nothing imported until asked."""

from __future__ import annotations


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (`host` as urlsplit gives it: lowercase, no [])."""
    import ipaddress  # here: only a URL to judge needs it (cron's start-up does not)

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
