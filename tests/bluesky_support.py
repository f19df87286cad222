"""Helpers for the Bluesky tests: a page server with OpenGraph tags on 127.0.0.1, and a
wire that loses the answer of a chosen XRPC call after the server applied it."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from PIL import Image

from threadpost.http_wire import Answer, Dropped, HttpWire

CARD_TITLE = "Cameras in the city — a survey"
CARD_DESCRIPTION = "Why municipalities buy surveillance cameras, and what they get."


def png_bytes(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


@dataclass
class PageServer:
    base: str
    hits: Counter[str] = field(default_factory=Counter)
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: PageServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0]
        state.hits[path] += 1
        status, kind, body = state.pages.get(path, (404, "text/plain", b"not here"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def card_page(title: str, description: str, image_path: str | None) -> bytes:
    image = f'<meta property="og:image" content="{image_path}">' if image_path else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>fallback title</title>"
        f'<meta property="og:title" content="{title}">'
        f'<meta property="og:description" content="{description}">'
        f"{image}</head><body><p>Hello</p></body></html>"
    ).encode()


@contextmanager
def serve_pages() -> Iterator[PageServer]:
    """A page server on 127.0.0.1 with /article (OG title, description, image /og.png),
    /plain (no OG tags but a <title>), /noimage, /broken-image and /big-image."""
    server = _Server(("127.0.0.1", 0), _Handler)
    state = PageServer(base=f"http://127.0.0.1:{server.server_address[1]}")
    html = "text/html; charset=utf-8"
    state.pages.update(
        {
            "/article": (200, html, card_page(CARD_TITLE, CARD_DESCRIPTION, "/og.png")),
            "/og.png": (200, "image/png", png_bytes(120, 63)),
            "/noimage": (200, html, card_page("No image here", "Just text.", None)),
            "/plain": (200, html, b"<html><head><title>Only a title</title></head></html>"),
            "/broken-image": (200, html, card_page("Broken", "Image is not one", "/junk.png")),
            "/junk.png": (200, "image/png", b"this is not a png"),
            "/big-image": (200, html, card_page("Big", "A large image", "/big.bmp")),
            "/pdf": (200, "application/pdf", b"%PDF-1.4"),
        }
    )
    # A BMP of 800x600 (~1.4 MB): over the 1,000,000-byte thumb limit, scaled down.
    big = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 120, 200)).save(big, format="BMP")
    state.pages["/big.bmp"] = (200, "image/bmp", big.getvalue())
    server.state = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class LoseResponse:
    """A wire (`threadpost.http_wire`) that sends every request over the real one; for the
    first `times` calls of `nsid`, it lets the server apply it, then drops its answer (as a
    connection reset after sending would)."""

    def __init__(self, nsid: str, times: int = 1) -> None:
        self._inner = HttpWire(timeout=30, trust_env=False)
        self.nsid = nsid
        self.left = times
        self.lost = 0
        self.calls: Counter[str] = Counter()

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> Answer:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        self.calls[name] += 1
        answer = self._inner.request(method, url, headers=headers, body=body)
        if name == self.nsid and self.left > 0:
            self.left -= 1
            self.lost += 1
            raise Dropped("connection reset by peer (simulated)")
        return answer

    def close(self) -> None:
        self._inner.close()
