"""AddressPolicy: which addresses a link card's fetch may connect to (pure, no network)."""

from __future__ import annotations

import ipaddress

import pytest

from threadpost.addresses import AddressPolicy, address_kind

PUBLIC = AddressPolicy.for_link("https://example.com/post")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.215.14", None),
        ("2606:4700::6810:85e5", None),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved, which ipaddress counts as private too
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        # IPv6 spellings of IPv4 addresses are judged as the IPv4 they carry.
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::5db8:d70e", None),  # NAT64 of a public address
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_address_kind(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind
    assert (PUBLIC.refusal(ipaddress.ip_address(address)) is None) == (kind is None)


def test_the_link_own_address_is_allowed_and_no_other() -> None:
    policy = AddressPolicy.for_link("http://127.0.0.1:8000/page")
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None  # same address
    assert policy.refusal(ipaddress.ip_address("127.0.0.2")) == "a loopback address"
    assert policy.refusal(ipaddress.ip_address("10.0.0.1")) == "a private address"
    assert policy.refusal(ipaddress.ip_address("93.184.215.14")) is None


def test_an_ipv6_link_address_is_allowed() -> None:
    policy = AddressPolicy.for_link("http://[fd00::5]/page")
    assert policy.refusal(ipaddress.ip_address("fd00::5")) is None
    assert policy.refusal(ipaddress.ip_address("fd00::6")) == "a private address"


@pytest.mark.parametrize(
    "link", ["http://localhost:8000/", "http://app.localhost/", "http://LOCALHOST./"]
)
def test_localhost_allows_loopback_only(link: str) -> None:
    policy = AddressPolicy.for_link(link)
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("::1")) is None
    assert policy.refusal(ipaddress.ip_address("192.168.0.1")) == "a private address"


def test_a_name_grants_nothing_even_when_it_resolves_locally() -> None:
    policy = AddressPolicy.for_link("http://intranet.example.com/")
    assert policy.refusal(ipaddress.ip_address("10.0.0.1")) == "a private address"
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) == "a loopback address"
    assert policy.refusal(ipaddress.ip_address("169.254.169.254")) == "a link-local address"
