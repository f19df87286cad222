"""Link cards: a page's OpenGraph title, description and image, fetched within bounds.

Bluesky builds no cards itself: the client reads the page and uploads the thumbnail. Every
fetch here is bounded in bytes and time, so a slow or huge page costs at most a few
seconds and never the whole thread: on any failure the caller sends the post without a
card and records a warning. httpx is imported only when a card is actually fetched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Final
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

#: The <head> is where OpenGraph tags live; more than this is never read.
MAX_HTML_BYTES: Final = 512 * 1024
#: Images larger than this are not even downloaded.
MAX_IMAGE_DOWNLOAD_BYTES: Final = 8 * 1024 * 1024
#: Bluesky's external-embed thumb limit; larger images are scaled down to fit.
MAX_THUMB_BYTES: Final = 1_000_000
MAX_TITLE_CHARS: Final = 300
MAX_DESCRIPTION_CHARS: Final = 1000
DEFAULT_TIMEOUT_S: Final = 8.0
_USER_AGENT: Final = "threadpost link card fetcher (+https://github.com/threadpost)"


class LinkCardError(Exception):
    """The card could not be made; the message says why (shown as a warning)."""


@dataclass(frozen=True)
class LinkCard:
    """A page's card: what it says about itself, and its image, ready to upload."""

    uri: str
    title: str
    description: str
    image: bytes | None = field(default=None, repr=False)
    image_mime: str | None = None


def fetch_link_card(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    transport: httpx.BaseTransport | None = None,
) -> LinkCard:
    """Fetch `url`'s OpenGraph card (and image); raise LinkCardError on any failure.

    The card keeps `url` as its URI (the link the post's facet points to); a missing
    og:image gives a card without a thumbnail, an unusable image too.
    """
    import httpx

    if urlsplit(url).scheme not in ("http", "https"):
        raise LinkCardError(f"{url}: not an http(s) link")
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(
            follow_redirects=True,
            max_redirects=5,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": _USER_AGENT, "Accept": "text/html,application/xhtml+xml"},
            transport=transport,
            trust_env=transport is None,
        ) as client:
            html, final_url = _get_html(client, url, deadline)
            meta = parse_open_graph(html)
            title = meta.get("og:title") or meta.get("twitter:title") or meta.get("title") or ""
            description = (
                meta.get("og:description")
                or meta.get("twitter:description")
                or meta.get("description")
                or ""
            )
            if not title and not description:
                raise LinkCardError(f"{url}: the page has no title or description")
            image_url = meta.get("og:image") or meta.get("twitter:image")
            image: bytes | None = None
            mime: str | None = None
            if image_url:
                try:
                    image, mime = _get_image(client, urljoin(final_url, image_url), deadline)
                except LinkCardError:
                    image = mime = None  # a card without a thumbnail is still a card
    except httpx.HTTPError as exc:
        raise LinkCardError(f"{url}: {_describe(exc)}") from None
    return LinkCard(
        uri=url,
        title=_clip(title, MAX_TITLE_CHARS),
        description=_clip(description, MAX_DESCRIPTION_CHARS),
        image=image,
        image_mime=mime,
    )


def _describe(exc: Exception) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return type(exc).__name__


def _read_bounded(response: httpx.Response, limit: int, deadline: float) -> bytes:
    """The body, up to `limit` bytes (more is cut off), before `deadline`."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
        if time.monotonic() > deadline:
            raise LinkCardError(f"{response.request.url}: too slow")
    return b"".join(chunks)[:limit]


def _get_html(client: httpx.Client, url: str, deadline: float) -> tuple[str, str]:
    with client.stream("GET", url) as response:
        if response.status_code >= 400:
            raise LinkCardError(f"{url}: HTTP {response.status_code}")
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind and kind not in ("text/html", "application/xhtml+xml"):
            raise LinkCardError(f"{url}: not a web page ({kind})")
        body = _read_bounded(response, MAX_HTML_BYTES, deadline)
        encoding = response.charset_encoding or "utf-8"
        final_url = str(response.url)
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    return text, final_url


def _get_image(client: httpx.Client, url: str, deadline: float) -> tuple[bytes, str]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise LinkCardError(f"{url}: not an http(s) image")
    with client.stream("GET", url, headers={"Accept": "image/*"}) as response:
        if response.status_code >= 400:
            raise LinkCardError(f"{url}: HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_IMAGE_DOWNLOAD_BYTES:
            raise LinkCardError(f"{url}: image too large")
        data = _read_bounded(response, MAX_IMAGE_DOWNLOAD_BYTES + 1, deadline)
    if len(data) > MAX_IMAGE_DOWNLOAD_BYTES:
        raise LinkCardError(f"{url}: image too large")
    return thumbnail(data)


def thumbnail(data: bytes) -> tuple[bytes, str]:
    """The image as an upload-ready thumbnail (≤ 1,000,000 bytes) and its MIME type.

    The type is read from the bytes (never trusted from headers); a larger image is
    scaled down and re-encoded as JPEG until it fits.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    mimes = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind in mimes and len(data) <= MAX_THUMB_BYTES:
                return data, mimes[kind]
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise LinkCardError("the page's image is not an image") from None
    side = 1200
    for quality in (85, 75, 65, 55):
        copy = picture.copy()
        copy.thumbnail((side, side))
        out = io.BytesIO()
        copy.save(out, format="JPEG", quality=quality)
        if out.tell() <= MAX_THUMB_BYTES:
            return out.getvalue(), "image/jpeg"
        side = side * 3 // 4
    raise LinkCardError("the page's image cannot be made small enough")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self._in_title = False
        self._title: list[str] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            content = values.get("content")
            if key and content is not None and key not in self.meta:
                self.meta[key] = content.strip()
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)

    def result(self) -> dict[str, str]:
        meta = dict(self.meta)
        title = "".join(self._title).strip()
        if title:
            meta.setdefault("title", title)
        return meta


def parse_open_graph(html: str) -> dict[str, str]:
    """`<meta property|name=… content=…>` values (keys lower-cased, first wins) and `title`."""
    parser = _MetaParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # HTMLParser on badly broken markup
        pass
    return parser.result()
