"""Link cards: OpenGraph parsing, bounded fetches from a page server on 127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from bluesky_support import CARD_DESCRIPTION, CARD_TITLE, PageServer, png_bytes, serve_pages
from threadpost.linkcard import (
    MAX_THUMB_BYTES,
    LinkCardError,
    fetch_link_card,
    parse_open_graph,
    thumbnail,
)


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    with serve_pages() as server:
        yield server


def test_parse_open_graph() -> None:
    html = (
        "<html><head><title> Page &amp; title </title>"
        '<meta property="og:title" content="OG &quot;title&quot;">'
        '<meta property="og:title" content="second one is ignored">'
        '<meta name="description" content="Plain description">'
        '<meta name="twitter:image" content="/t.png">'
        "</head><body><meta property='og:description' content='in the body'></body></html>"
    )
    meta = parse_open_graph(html)
    assert meta["og:title"] == 'OG "title"'
    assert meta["title"] == "Page & title"
    assert meta["description"] == "Plain description"
    assert meta["twitter:image"] == "/t.png"
    assert parse_open_graph("<<<not html") == {}


def test_card_with_image(pages: PageServer) -> None:
    card = fetch_link_card(pages.url("/article"))
    assert card.uri == pages.url("/article")
    assert (card.title, card.description) == (CARD_TITLE, CARD_DESCRIPTION)
    assert card.image_mime == "image/png"
    assert card.image is not None
    with Image.open(io.BytesIO(card.image)) as image:
        assert image.size == (120, 63)
    assert "b'" not in repr(card)  # the bytes are kept out of repr


def test_card_without_image_and_title_fallback(pages: PageServer) -> None:
    card = fetch_link_card(pages.url("/noimage"))
    assert (card.title, card.image) == ("No image here", None)
    plain = fetch_link_card(pages.url("/plain"))
    assert (plain.title, plain.description) == ("Only a title", "")


def test_unusable_image_gives_a_card_without_thumb(pages: PageServer) -> None:
    card = fetch_link_card(pages.url("/broken-image"))
    assert card.title == "Broken" and card.image is None


def test_large_image_is_scaled_to_the_thumb_limit(pages: PageServer) -> None:
    card = fetch_link_card(pages.url("/big-image"))
    assert card.image is not None and len(card.image) <= MAX_THUMB_BYTES
    assert card.image_mime == "image/jpeg"


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/missing", "HTTP 404"), ("/pdf", "not a web page")],
)
def test_failures_raise_link_card_error(pages: PageServer, path: str, reason: str) -> None:
    with pytest.raises(LinkCardError, match=reason):
        fetch_link_card(pages.url(path))


def test_connection_refused_and_bad_scheme() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LinkCardError, match="cannot connect"):
        fetch_link_card(f"http://127.0.0.1:{port}/x", timeout=2)
    with pytest.raises(LinkCardError, match="not an http"):
        fetch_link_card("ftp://127.0.0.1/x")


def test_thumbnail_keeps_small_images_and_rejects_junk() -> None:
    data = png_bytes(10, 10)
    assert thumbnail(data) == (data, "image/png")
    with pytest.raises(LinkCardError):
        thumbnail(b"junk")
