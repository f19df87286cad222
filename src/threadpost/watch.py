"""`threadpost watch`: the live preview, served on 127.0.0.1 and redrawn on every save.

The draft and its images are polled (size and mtime, every `POLL_SECONDS`): no new
dependency, and an editor's save is seen within a poll whatever way it writes the file
(in place, or a new file renamed over the old one, which inotify-style watchers on the
file itself miss). Each change re-plans and re-checks the draft, offline unless asked, and
the new preview goes to every open page as a Server-Sent Event on the same local server:
the page's script (`templates/live.js`) swaps it in. The page loads nothing from anywhere
else (its Content-Security-Policy allows only its own origin), and the server answers only
requests addressed to 127.0.0.1 or localhost (a web page elsewhere cannot read it through
DNS rebinding).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from threadpost.check import CheckReport, check_draft
from threadpost.errors import DraftError, ThreadpostError
from threadpost.linkcard_cache import cached_cards, fill_cache
from threadpost.preview_accounts import preview_accounts
from threadpost.preview_html import (
    LIVE_CSP,
    MAX_EMBEDDED_IMAGE_BYTES,
    live_script,
    render_failure,
    render_live_page,
    render_preview,
    stylesheet,
)
from threadpost.preview_parts import summary_text
from threadpost.values import PlatformName

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.draft import Image

#: How often the draft and its images are looked at.
POLL_SECONDS: Final = 0.1
#: After a change, how long the files must stay unchanged before re-planning (an editor
#: may truncate then write: planning the half-written file would flash an error).
SETTLE_SECONDS: Final = 0.03
#: An open page hears from the server at least this often (a comment line), so a page
#: whose server is gone notices, and proxies do not drop the stream.
KEEPALIVE_SECONDS: Final = 10.0

#: (mtime_ns, size) of a file, or None when it is missing.
Signature = tuple[int, int] | None


def signature(paths: Sequence[Path]) -> tuple[Signature, ...]:
    """What changes when any of `paths` is saved, created or removed."""
    found: list[Signature] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            found.append(None)
        else:
            found.append((info.st_mtime_ns, info.st_size))
    return tuple(found)


@dataclass(frozen=True)
class Revision:
    """One drawing of the preview: what a page shows after save number `version`."""

    version: int
    html: str
    title: str
    lang: str
    #: The summary line for the terminal ("mastodon: 3 posts · 0 errors · …").
    summary: str
    errors: int
    #: Every file whose change means re-planning (the draft, then its images).
    watched: tuple[Path, ...]
    #: The watched files' signature when they were read: a save after it is a change,
    #: even one made while this revision was being drawn.
    stamp: tuple[Signature, ...] = ()
    #: The images the page may load, by URL path ("/media/0").
    media: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


class PreviewBuilder:
    """Plans and checks the draft, and draws the preview the live page shows."""

    def __init__(
        self,
        draft: Path,
        settings: Settings,
        platforms: Sequence[PlatformName] | None,
        *,
        offline: bool,
    ) -> None:
        self.draft = draft
        self.settings = settings
        self.platforms = platforms
        self.offline = offline
        self._watched: tuple[Path, ...] = (draft,)
        #: Links whose card could not be made: not fetched again on every save.
        self.card_failures: dict[str, str] = {}

    def build(self, version: int) -> Revision:
        """The preview of the draft as it is now; an unreadable draft draws its error."""
        started = time.perf_counter()
        # Taken before reading: a save during the build is seen by the next poll.
        before = dict(zip(self._watched, signature(self._watched), strict=True))
        draft_stamp = (before[self.draft],)
        try:
            report = check_draft(self.draft, self.settings, self.platforms, offline=self.offline)
        except ThreadpostError as error:
            # The images of the last good read stay watched: fixing the draft is enough.
            return Revision(
                version=version,
                html=render_failure(self.draft, error.message),
                title=self.draft.name,
                lang="und",
                summary=f"cannot read the draft: {error.message}",
                errors=1,
                watched=self._watched,
                stamp=tuple(before.values()),
                seconds=time.perf_counter() - started,
            )
        images = self._images(report)
        image_stamps = tuple(
            before[path] if path in before else signature([path])[0] for path in images
        )
        # Only these paths are served: the page names an image by its number, never a path.
        keys = {path: f"/media/{number}" for number, path in enumerate(images)}
        stamps = dict(zip(images, image_stamps, strict=True))

        def source(image: Image) -> str:
            stamp = stamps[image.path]
            # A new query on every change of the file: the page shows the new picture.
            return f"{keys[image.path]}?v={stamp[0] if stamp else 0}"

        if not self.offline:
            self._fill_cards(report)
        html = render_preview(
            report,
            {**preview_accounts(self.settings), **report.accounts},
            images=source,
            cards=cached_cards(self.settings.state_dir),
        )
        self._watched = (self.draft, *images)

        return Revision(
            version=version,
            html=html,
            title=report.draft.front.title or self.draft.name,
            lang=report.draft.front.lang or "und",
            summary=summary_text(report),
            errors=report.errors,
            watched=self._watched,
            stamp=draft_stamp + image_stamps,
            media={key: path for path, key in keys.items()},
            seconds=time.perf_counter() - started,
        )

    def _fill_cards(self, report: CheckReport) -> None:
        """Online: fetch (once) the card of each post's first link, where it gets one."""
        links: list[str] = []
        for thread in report.threads.values():
            for post in thread.posts:
                first = next((f.value for f in post.facets if f.kind == "link"), None)
                if first and not post.images and first not in self.card_failures:
                    links.append(first)
        self.card_failures.update(fill_cache(self.settings.state_dir, links))

    @staticmethod
    def _images(report: CheckReport) -> list[Path]:
        return list(
            dict.fromkeys(image.path for post in report.draft.posts for image in post.images)
        )


class PreviewServer(ThreadingHTTPServer):
    """The local server: the page, its CSS and script, the images, the event stream."""

    daemon_threads = True

    def __init__(self, first: Revision, port: int = 0) -> None:
        self.revision = first
        self.stopping = False
        self.changed = threading.Condition()
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        """The page's address (port chosen by the system when 0 was asked)."""
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def publish(self, revision: Revision) -> None:
        """Show `revision` on every open page."""
        with self.changed:
            self.revision = revision
            self.changed.notify_all()

    def wait_for(self, seen: int, timeout: float) -> Revision | None:
        """A revision newer than `seen`, or None after `timeout` (or when stopping)."""
        with self.changed:
            self.changed.wait_for(
                lambda: self.stopping or self.revision.version != seen, timeout=timeout
            )
            if self.stopping or self.revision.version == seen:
                return None
            return self.revision

    def stop(self) -> None:
        """End every event stream, stop serving and close the listening socket."""
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = "threadpost-watch"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal shows re-plans, not requests."""

    def do_GET(self) -> None:
        if not self._addressed_to_us():
            self._send(HTTPStatus.FORBIDDEN, b"not for this host\n", "text/plain")
            return
        path = urlsplit(self.path).path
        revision = self.server.revision
        if path == "/":
            page = render_live_page(
                revision.html, title=revision.title, lang=revision.lang
            ).replace("<html ", f'<html data-version="{revision.version}" ', 1)
            self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")
        elif path == "/preview.css":
            self._send(HTTPStatus.OK, stylesheet().encode(), "text/css; charset=utf-8")
        elif path == "/live.js":
            self._send(HTTPStatus.OK, live_script().encode(), "text/javascript; charset=utf-8")
        elif path == "/events":
            self._events()
        elif path in revision.media:
            self._image(revision.media[path])
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def _addressed_to_us(self) -> bool:
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").lower()
        return host in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _headers(self, status: HTTPStatus, kind: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", LIVE_CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self._headers(status, kind, len(body))
        self.wfile.write(body)

    def _image(self, path: Path) -> None:
        from threadpost.images import ImageError, inspect_image

        try:
            info = inspect_image(path)
            if info.size_bytes > MAX_EMBEDDED_IMAGE_BYTES:
                raise ImageError(path, "image-too-large", "too large to show")
            data = path.read_bytes()
        except (ImageError, OSError):
            self._send(HTTPStatus.NOT_FOUND, b"cannot be shown\n", "text/plain")
            return
        self._send(HTTPStatus.OK, data, info.mime)

    def _events(self) -> None:
        self.close_connection = True
        self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8", None)
        seen = -1
        revision: Revision | None = self.server.revision
        with contextlib.suppress(OSError):  # the page went away (closed, reloaded)
            self.wfile.write(b"retry: 500\n\n")
            while not self.server.stopping:
                if revision is None:
                    self.wfile.write(b": still watching\n\n")
                else:
                    self.wfile.write(_event(revision))
                    seen = revision.version
                self.wfile.flush()
                revision = self.server.wait_for(seen, KEEPALIVE_SECONDS)


def _event(revision: Revision) -> bytes:
    data = json.dumps(
        {"version": revision.version, "html": revision.html, "errors": revision.errors}
    )
    # JSON has no raw line breaks, so the event is one data line.
    return f"event: preview\nid: {revision.version}\ndata: {data}\n\n".encode()


@dataclass
class Watch:
    """A running watch: the server and what it serves (see `start_watch`)."""

    builder: PreviewBuilder
    server: PreviewServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    def updates(self, stop: threading.Event, poll: float = POLL_SECONDS) -> Iterator[Revision]:
        """Re-plan on every change of the watched files until `stop` is set; yields each
        new revision after the open pages have been sent it."""
        revision = self.server.revision
        seen = revision.stamp
        while not stop.wait(poll):
            now = signature(revision.watched)
            if now == seen:
                continue
            # Wait until the files hold still (a save in several writes is planned once).
            while not stop.wait(SETTLE_SECONDS):
                again = signature(revision.watched)
                if again == now:
                    break
                now = again
            revision = self.builder.build(revision.version + 1)
            # The images may have changed with the draft: watch the new set from here on.
            seen = revision.stamp
            self.server.publish(revision)
            yield revision

    def close(self) -> None:
        """Stop serving; the listening socket is closed when this returns."""
        self.server.stop()
        self.thread.join(timeout=5)


def start_watch(
    draft: Path,
    settings: Settings,
    platforms: Sequence[PlatformName] | None = None,
    *,
    offline: bool = True,
    port: int = 0,
) -> Watch:
    """Plan the draft once and serve its preview on 127.0.0.1:`port` (0: a free port).

    A draft that cannot be parsed is served with its error (the author is fixing it); a
    path that is no file at all is refused."""
    if not draft.is_file():
        raise DraftError(draft, "no such file" if not draft.exists() else "is not a file")
    builder = PreviewBuilder(draft, settings, platforms, offline=offline)
    first = builder.build(1)
    try:
        server = PreviewServer(first, port)
    except OSError as exc:
        raise ThreadpostError(
            f"cannot serve the preview on 127.0.0.1:{port}: {exc.strerror or exc}",
            hint="choose another --port, or leave it out for a free one",
        ) from None
    thread = threading.Thread(target=server.serve_forever, name="threadpost-watch", daemon=True)
    thread.start()
    return Watch(builder, server, thread)
