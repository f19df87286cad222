"""Link cards against hostile servers on loopback: slow drips, bombs, redirects elsewhere.

Everything is served on 127.0.0.1 (and 127.0.0.2, a different loopback address standing in
for "another machine on the local network"). Names that must look public resolve through a
patched `socket.getaddrinfo`: no real DNS query is made, and tests/netguard.py would fail
the test if one were.
"""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bluesky_support import card_page, png_bytes
from linkserver import LinkServer, png_claiming, serve, tls_certificate
from threadpost.linkcard import (
    MAX_IMAGE_DOWNLOAD_BYTES,
    MAX_IMAGE_PIXELS,
    LinkCardError,
    LinkCardRefused,
    fetch_link_card,
    thumbnail,
)

HTML = {"Content-Type": "text/html; charset=utf-8"}
#: The drip paths take DRIP_BYTES × DRIP_SECONDS = 4 s; the fetches below allow 1 s.
DRIP_SECONDS = 0.25
DRIP_BYTES = 16
DEADLINE = 1.0
#: The deadline plus scheduling slack on a loaded machine, well short of the 4 s drip.
WITHIN_DEADLINE = 2.5


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serve() as running:
        running.drip_seconds, running.drip_bytes = DRIP_SECONDS, DRIP_BYTES
        running.pages["/article"] = (200, HTML, card_page("Title", "Text", "/og.png"))
        running.pages["/og.png"] = (200, {"Content-Type": "image/png"}, png_bytes(12, 8))
        yield running


@pytest.fixture
def elsewhere() -> Iterator[LinkServer]:
    """A second server on another loopback address, 127.0.0.2, with the same pages."""
    with serve("127.0.0.2") as running:
        running.pages["/article"] = (200, HTML, card_page("Elsewhere", "Text", "/og.png"))
        running.pages["/og.png"] = (200, {"Content-Type": "image/png"}, png_bytes(12, 8))
        yield running


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """name → addresses, answered by socket.getaddrinfo (["hang"]: 3 s, then no answer);
    other names go to the real one."""
    names: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host not in names:
            return real(host, port, *args, **kwargs)
        answers: list[Any] = []
        if names[host] == ["hang"]:  # a DNS server that never answers (in time)
            time.sleep(3.0)
            raise socket.gaierror(socket.EAI_AGAIN, "the resolver gave up")
        for address in names[host]:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def timed_fetch(url: str) -> tuple[object, float]:
    """(the card or the LinkCardError, seconds taken) with the short test deadline."""
    started = time.monotonic()
    try:
        outcome: object = fetch_link_card(url, timeout=DEADLINE)
    except LinkCardError as exc:
        outcome = exc
    return outcome, time.monotonic() - started


# --- time ---------------------------------------------------------------------------------


def test_headers_dripped_a_byte_at_a_time_are_cut_at_the_deadline(server: LinkServer) -> None:
    # Each byte comes well within httpx's per-read timeout: only a wall-clock deadline helps.
    outcome, seconds = timed_fetch(server.url("/drip-headers"))
    assert isinstance(outcome, LinkCardError), outcome
    assert "timed out" in str(outcome)
    assert seconds < WITHIN_DEADLINE


def test_a_body_dripped_a_byte_at_a_time_is_cut_at_the_deadline(server: LinkServer) -> None:
    outcome, seconds = timed_fetch(server.url("/drip-body"))
    assert isinstance(outcome, LinkCardError), outcome
    assert seconds < WITHIN_DEADLINE


def test_the_deadline_covers_the_image_too(server: LinkServer) -> None:
    server.pages["/slow-image"] = (200, HTML, card_page("Slow", "Image drips", "/drip-headers"))
    card, seconds = timed_fetch(server.url("/slow-image"))
    assert not isinstance(card, Exception), card
    assert getattr(card, "title", None) == "Slow"
    assert getattr(card, "image", "?") is None  # the page's card, without its late image
    assert seconds < WITHIN_DEADLINE


def test_a_hanging_name_look_up_is_cut_at_the_deadline(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["hangs.example.com"] = ["hang"]  # the patched resolver sleeps 3 s on it
    outcome, seconds = timed_fetch("http://hangs.example.com/article")
    assert isinstance(outcome, LinkCardError), outcome
    assert "timed out" in str(outcome)
    assert seconds < WITHIN_DEADLINE


# --- pixels and bytes ---------------------------------------------------------------------


def test_a_decompression_bomb_image_is_refused_not_raised(server: LinkServer) -> None:
    server.pages["/bomb"] = (200, HTML, card_page("Bomb", "A huge PNG", "/bomb.png"))
    server.pages["/bomb.png"] = (
        200,
        {"Content-Type": "image/png"},
        png_claiming(15000, 15000),
    )
    with pytest.raises(LinkCardRefused, match="pixels"):
        fetch_link_card(server.url("/bomb"))


def test_thumbnail_refuses_a_pixel_bomb_before_decoding() -> None:
    with pytest.raises(LinkCardRefused, match="refused before decoding"):
        thumbnail(png_claiming(15000, 15000))  # over Pillow's own bound: it raises in open()


def test_thumbnail_refuses_images_over_the_pixel_bound() -> None:
    # Under Pillow's bound, over ours: decoding would take ~36 MB and is never tried.
    side = 6000
    assert side * side > MAX_IMAGE_PIXELS
    with pytest.raises(LinkCardRefused, match=f"{side}×{side} pixels"):
        thumbnail(png_claiming(side, side))


def test_an_image_over_the_byte_bound_is_refused(server: LinkServer) -> None:
    server.pages["/heavy"] = (200, HTML, card_page("Heavy", "9 MB image", "/heavy.png"))
    server.pages["/heavy.png"] = (
        200,
        {"Content-Type": "image/png"},
        b"\x89PNG" + b"\0" * MAX_IMAGE_DOWNLOAD_BYTES,
    )
    with pytest.raises(LinkCardRefused, match="larger than"):
        fetch_link_card(server.url("/heavy"))


def test_a_gzip_bomb_page_is_inflated_only_up_to_the_bound(server: LinkServer) -> None:
    head = b"<html><head><title>Zipped</title></head><body>"
    body = gzip.compress(head + b" " * 64_000_000, compresslevel=9)  # ~60 KB on the wire
    server.pages["/zipped"] = (200, {**HTML, "Content-Encoding": "gzip"}, body)
    tracemalloc.start()
    try:
        card = fetch_link_card(server.url("/zipped"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert card.title == "Zipped"
    assert peak < 16_000_000  # the page bound is 512 KB; inflating it all would be 64 MB


# --- addresses ----------------------------------------------------------------------------


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
    server: LinkServer, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["cards.example.com"] = ["127.0.0.1"]
    port = server.base.rsplit(":", 1)[1]
    with pytest.raises(
        LinkCardRefused, match=r"cards\.example\.com \(127\.0\.0\.1\) is a loopback"
    ):
        fetch_link_card(f"http://cards.example.com:{port}/article")
    assert server.hits["GET /article"] == 0  # refused before connecting


def test_one_private_address_among_public_ones_is_enough_to_refuse(
    server: LinkServer, fake_dns: dict[str, list[str]]
) -> None:
    # A public first answer would be tried first; nothing is connected to at all (netguard
    # fails the test if anything off the machine is).
    fake_dns["mixed.example.com"] = ["93.184.215.14", "127.0.0.1"]
    port = server.base.rsplit(":", 1)[1]
    with pytest.raises(LinkCardRefused, match="loopback"):
        fetch_link_card(f"http://mixed.example.com:{port}/article")
    assert server.hits["GET /article"] == 0


def test_a_redirect_from_the_linked_server_to_another_local_address_is_refused(
    server: LinkServer, elsewhere: LinkServer
) -> None:
    server.pages["/hop"] = (302, {"Location": elsewhere.url("/article")}, b"")
    with pytest.raises(LinkCardRefused, match=r"127\.0\.0\.2 is a loopback address"):
        fetch_link_card(server.url("/hop"))
    assert server.hits["GET /hop"] == 1
    assert sum(elsewhere.hits.values()) == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://0.0.0.0:{port}/article",  # "this host": reaches local services on Linux
        "http://10.1.2.3/",
        "http://192.168.1.1/admin",
        "http://169.254.169.254/latest/meta-data/",  # a cloud metadata service
        "http://[fd00::1]/",
        "http://[::ffff:169.254.169.254]/",  # the same, written as IPv6
    ],
)
def test_redirects_to_non_public_addresses_are_refused(server: LinkServer, target: str) -> None:
    port = server.base.rsplit(":", 1)[1]
    server.pages["/hop"] = (301, {"Location": target.format(port=port)}, b"")
    with pytest.raises(LinkCardRefused, match="address: not fetched"):
        fetch_link_card(server.url("/hop"))
    assert server.hits["GET /article"] == 0


def test_an_image_on_another_local_address_is_refused(
    server: LinkServer, elsewhere: LinkServer
) -> None:
    server.pages["/pointing"] = (200, HTML, card_page("T", "D", elsewhere.url("/og.png")))
    with pytest.raises(LinkCardRefused, match="its image"):
        fetch_link_card(server.url("/pointing"))
    assert sum(elsewhere.hits.values()) == 0


def test_a_link_the_user_wrote_to_a_local_address_is_fetched(
    server: LinkServer, elsewhere: LinkServer
) -> None:
    assert fetch_link_card(elsewhere.url("/article")).title == "Elsewhere"
    # Redirects and images on the link's own address are the same server: followed.
    server.pages["/hop"] = (302, {"Location": "/article"}, b"")
    card = fetch_link_card(server.url("/hop"))
    assert (card.title, card.image_mime) == ("Title", "image/png")


def test_a_localhost_link_is_fetched(server: LinkServer) -> None:
    # localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    port = server.base.rsplit(":", 1)[1]
    card = fetch_link_card(f"http://localhost:{port}/article")
    assert card.title == "Title"
    assert card.uri == f"http://localhost:{port}/article"


def test_redirects_are_bounded(server: LinkServer) -> None:
    with pytest.raises(LinkCardError, match="more than 5 redirects"):
        fetch_link_card(server.url("/loop"))
    assert server.hits["GET /loop"] == 6


def test_a_malformed_link_is_a_link_card_error() -> None:
    with pytest.raises(LinkCardError, match="not a valid link"):
        fetch_link_card("http://[::1/article")


def test_https_to_a_pinned_address_still_verifies_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The connection goes to the vetted address (127.0.0.1), but TLS must still be made with
    # and checked against the link's name: the certificate names only "localhost".
    import certifi

    context, ca_file = tls_certificate(tmp_path, "localhost")
    monkeypatch.setattr(certifi, "where", lambda: str(ca_file))  # trust the test CA only
    with serve(tls=context) as secure:
        secure.pages["/article"] = (200, HTML, card_page("Secure", "Over TLS", None))
        port = secure.base.rsplit(":", 1)[1]
        assert fetch_link_card(f"https://localhost:{port}/article").title == "Secure"
        # The same server by address: the certificate does not name 127.0.0.1.
        with pytest.raises(LinkCardError, match=r"certificate is for a different address"):
            fetch_link_card(secure.url("/article"))
