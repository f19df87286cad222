"""A small HTTP server on 127.0.0.1 for the link checker's tests and benchmark.

Paths: /ok (200), /redirect (301 → /ok), /missing (404), /error (500), /slow (answers after
`slow_seconds`), /nohead (405 to HEAD, 200 to GET), /delay/<anything> (200 after
`delay_seconds`), the Bluesky handle resolver /xrpc/com.atproto.identity.resolveHandle
that knows the handles in `handles`, and two slow-drip answers that never go quiet long
enough for a per-read timeout: /drip-headers sends its header block one byte every
`drip_seconds`, /drip-body sends headers at once and then its body that way (both end after
`drip_bytes` bytes, so a client without a wall-clock deadline waits about
`drip_bytes * drip_seconds` seconds and then gets a normal page). Any path in `pages` is
answered with its (status, headers, body).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class LinkServer:
    base: str
    hits: Counter[str] = field(default_factory=Counter)
    slow_seconds: float = 3.0
    delay_seconds: float = 0.2
    handles: dict[str, str] = field(default_factory=dict)
    drip_seconds: float = 0.25
    drip_bytes: int = 16
    #: path → (status, headers, body), answered as is (GET and HEAD).
    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many concurrent connects: the default backlog of 5 would make clients retry SYNs (1 s).
    request_queue_size = 128
    # Don't wait for a deliberately slow handler when the test is over.
    block_on_close = False
    state: LinkServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drip(self, data: bytes, seconds: float) -> None:
        """Write `data` one byte at a time, `seconds` apart (stops when the client leaves)."""
        for byte in data:
            time.sleep(seconds)
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return

    def _answer(self, *, head: bool) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = parts.path
        state.hits[f"{self.command} {path}"] += 1
        page = DRIP_PAGE
        if path in state.pages:
            status, headers, body = state.pages[path]
            self._send(status, body, headers)
        elif path == "/drip-headers":
            # The status line at once, then a header block that takes drip_bytes ticks.
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            filler = b"X-Drip: " + b"." * max(1, state.drip_bytes - 10) + b"\r\n"
            self._drip(filler, state.drip_seconds)
            head_block = f"Content-Type: text/html\r\nContent-Length: {len(page)}\r\n\r\n".encode()
            with contextlib.suppress(OSError):  # the client gave up waiting: expected
                self.wfile.write(head_block + (b"" if head else page))
        elif path == "/drip-body":
            padding = b" " * state.drip_bytes  # leading white space: still the same page
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(padding) + len(page)))
            self.end_headers()
            if not head:
                self.wfile.flush()
                self._drip(padding, state.drip_seconds)
                with contextlib.suppress(OSError):
                    self.wfile.write(page)
        elif path == "/ok":
            self._send(200, b"fine")
        elif path == "/redirect":
            self._send(301, headers={"Location": "/ok"})
        elif path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        elif path == "/missing":
            self._send(404, b"not here")
        elif path == "/error":
            self._send(500, b"boom")
        elif path == "/slow":
            time.sleep(state.slow_seconds)
            self._send(200, b"late")
        elif path == "/nohead":
            self._send(405 if head else 200, b"get me")
        elif path.startswith("/delay/"):
            time.sleep(state.delay_seconds)
            self._send(200, b"ok")
        elif path == "/xrpc/com.atproto.identity.resolveHandle":
            handle = parse_qs(parts.query).get("handle", [""])[0]
            if handle in state.handles:
                self._send(200, json.dumps({"did": state.handles[handle]}).encode())
            else:
                body = {"error": "InvalidRequest", "message": "Unable to resolve handle"}
                self._send(400, json.dumps(body).encode())
        else:
            self._send(404, b"unknown path")


#: What the drip paths finally deliver: a page that would make a link card.
DRIP_PAGE = (
    b"<html><head><title>Late page</title>"
    b'<meta property="og:description" content="worth the wait?"></head></html>'
)


@contextmanager
def serve(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[LinkServer]:
    """Run the server on a free port of `host` (a loopback address) for the block; over
    TLS with `tls` (a server context, see `tls_certificate`), and then `base` is https."""
    server = _Server((host, 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    server.state = LinkServer(base=f"{scheme}://{host}:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header claiming `width`×`height` grey pixels, with a tiny body of zeros.

    A few hundred bytes that a decoder would turn into width×height bytes of memory: the
    shape of a decompression bomb, without the cost of building a real one.
    """
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\0" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def tls_certificate(folder: Path, name: str = "localhost") -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for `name` (a DNS name only, no IP address in the certificate)
    and the PEM file of the test CA that signed it, written in `folder`."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "threadpost test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, ca_file
