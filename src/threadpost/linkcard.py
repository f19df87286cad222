"""Link cards: a page's OpenGraph title, description and image, fetched within bounds.

Bluesky builds no cards itself: the client reads the page and uploads the thumbnail. The
page and the image are strangers' content, so every fetch is bounded:
- time: one wall-clock deadline (`timeout`, 8 s) for the whole card, headers included: a
  server that drips a byte every second cannot stretch it;
- addresses: never loopback, private, link-local or other non-public addresses, unless the
  link itself names that address (see `threadpost.addresses`); redirects are judged per hop;
- bytes: the page and the image are read up to a bound (compressed bodies too);
- pixels: an image's dimensions are read from its header and checked before it is decoded.
On failure the caller sends the post without a card and records a warning. The fetching
machinery (asyncio, httpx, the HTML parser, Pillow) is imported only when a card is
actually fetched: the publisher imports this module for every thread, most without a link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import urljoin, urlsplit

from threadpost.addresses import AddressPolicy
from threadpost.images import ACCEPTED_TYPES
from threadpost.platforms.bluesky.rules import MAX_THUMB_BYTES

if TYPE_CHECKING:
    from threadpost.webfetch import Fetched

#: The <head> is where OpenGraph tags live; more than this is never read.
MAX_HTML_BYTES: Final = 512 * 1024
#: Images larger than this are not even downloaded.
MAX_IMAGE_DOWNLOAD_BYTES: Final = 8 * 1024 * 1024
#: Images with more pixels than this are refused before decoding: decoded, one pixel takes
#: 3-4 bytes, and a PNG of a few KB can claim 15000×15000 (225 M pixels, ~700 MB).
#: 25 M pixels is a 6000×4000 photo, far more than a 1200-pixel thumbnail needs.
MAX_IMAGE_PIXELS: Final = 25_000_000
MAX_TITLE_CHARS: Final = 300
MAX_DESCRIPTION_CHARS: Final = 1000
#: The whole card (page, redirects, image) within this many seconds of wall-clock time.
DEFAULT_TIMEOUT_S: Final = 8.0
_USER_AGENT: Final = "threadpost link card fetcher (+https://github.com/threadpost)"
_PAGE_TYPES: Final = ("text/html", "application/xhtml+xml")


class LinkCardError(Exception):
    """The card could not be made; the message says why (shown as a warning)."""


class LinkCardRefused(LinkCardError):
    """A safety bound refused the page or its image (address, size, pixels).

    Unlike a missing or broken image, which only costs the thumbnail, a refused image fails
    the whole card: the user hears of it (a warning) instead of it passing unnoticed.
    """


@dataclass(frozen=True)
class LinkCard:
    """A page's card: what it says about itself, and its image, ready to upload."""

    uri: str
    title: str
    description: str
    image: bytes | None = field(default=None, repr=False)
    image_mime: str | None = None


def fetch_link_card(url: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> LinkCard:
    """Fetch `url`'s OpenGraph card (and image); raise LinkCardError on any failure.

    The card keeps `url` as its URI (the link the post's facet points to). A missing, broken
    or late og:image gives a card without a thumbnail; one refused by a bound (address,
    bytes, pixels) raises LinkCardRefused. `timeout` bounds the whole fetch in wall-clock
    time. Safe to call from several threads at once (each call runs its own event loop).
    """
    try:
        scheme = urlsplit(url).scheme
        policy = AddressPolicy.for_link(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        raise LinkCardError(f"{url}: not a valid link") from None
    if scheme not in ("http", "https"):
        raise LinkCardError(f"{url}: not an http(s) link")
    from threadpost.eventloop import run_bounded

    meta, image = run_bounded(_fetch_page_and_image(url, policy, timeout))
    # Decoding happens here, after the fetch: its cost is bounded by MAX_IMAGE_PIXELS.
    thumb = _thumbnail_or_none(url, image) if image is not None else None
    return LinkCard(
        uri=url,
        title=_clip(_title(meta), MAX_TITLE_CHARS),
        description=_clip(_description(meta), MAX_DESCRIPTION_CHARS),
        image=thumb[0] if thumb else None,
        image_mime=thumb[1] if thumb else None,
    )


async def _fetch_page_and_image(
    url: str, policy: AddressPolicy, timeout: float
) -> tuple[dict[str, str], Fetched | None]:
    """The page's meta tags and (when it names one that arrives in time) its image."""
    import asyncio

    import httpx

    from threadpost.webfetch import AddressRefused, FetchError, fetch

    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(
        follow_redirects=False,  # webfetch follows them, judging each hop's address
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": _USER_AGENT},
        # A proxy would connect on our behalf, out of reach of the address checks.
        trust_env=False,
    ) as client:
        try:
            async with asyncio.timeout_at(deadline):
                page = await fetch(
                    client,
                    url,
                    policy=policy,
                    max_bytes=MAX_HTML_BYTES,
                    accept="text/html,application/xhtml+xml",
                )
        except TimeoutError:
            raise LinkCardError(f"{url}: timed out (no page within {timeout:g} s)") from None
        except AddressRefused as exc:
            raise LinkCardRefused(f"{url}: {exc}") from None
        except (FetchError, httpx.HTTPError) as exc:
            raise LinkCardError(f"{url}: {_describe(exc)}") from None
        _check_page(url, page)
        meta = parse_open_graph(_decode_html(page))
        if not _title(meta) and not _description(meta):
            raise LinkCardError(f"{url}: the page has no title or description")
        image_url = meta.get("og:image") or meta.get("twitter:image")
        if not image_url:
            return meta, None
        try:
            async with asyncio.timeout_at(deadline):
                image = await fetch(
                    client,
                    urljoin(page.url, image_url),
                    policy=policy,
                    max_bytes=MAX_IMAGE_DOWNLOAD_BYTES,
                    accept="image/*",
                )
        except AddressRefused as exc:
            raise LinkCardRefused(f"{url}: its image: {exc}") from None
        except (TimeoutError, FetchError, httpx.HTTPError, ValueError):
            return meta, None  # a card without a thumbnail is still a card
    if image.status >= 400:
        return meta, None
    if image.truncated:
        raise LinkCardRefused(f"{url}: its image is larger than {MAX_IMAGE_DOWNLOAD_BYTES:,} bytes")
    return meta, image


def _check_page(url: str, page: Fetched) -> None:
    if page.status >= 400:
        raise LinkCardError(f"{url}: HTTP {page.status}")
    if page.media_type and page.media_type not in _PAGE_TYPES:
        raise LinkCardError(f"{url}: not a web page ({page.media_type})")


def _decode_html(page: Fetched) -> str:
    try:
        return page.body.decode(page.charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return page.body.decode("utf-8", errors="replace")


def _title(meta: dict[str, str]) -> str:
    return meta.get("og:title") or meta.get("twitter:title") or meta.get("title") or ""


def _description(meta: dict[str, str]) -> str:
    return (
        meta.get("og:description")
        or meta.get("twitter:description")
        or meta.get("description")
        or ""
    )


def _thumbnail_or_none(url: str, image: Fetched) -> tuple[bytes, str] | None:
    """`url`'s card thumbnail; None when the image is unusable (refusals by a bound raise)."""
    try:
        return thumbnail(image.body)
    except LinkCardRefused as exc:
        raise LinkCardRefused(f"{url}: its image: {exc}") from None
    except LinkCardError:
        return None


def _describe(exc: Exception) -> str:
    import ssl

    import httpx

    from threadpost.webfetch import FetchError

    if isinstance(exc, FetchError):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        # httpx wraps httpcore's error, which wraps the ssl module's.
        cause: BaseException | None = exc
        for _depth in range(4):
            if cause is None:
                break
            if isinstance(cause, ssl.SSLError):
                from threadpost.tls_words import plain_tls_reason

                return plain_tls_reason(cause)
            cause = cause.__cause__ or cause.__context__
        return "cannot connect"
    return type(exc).__name__


def thumbnail(data: bytes) -> tuple[bytes, str]:
    """The image as an upload-ready thumbnail (≤ MAX_THUMB_BYTES) and its MIME type.

    The type is read from the bytes (never trusted from headers); a larger image is
    scaled down and re-encoded as JPEG until it fits. The dimensions in the image's header
    are checked against MAX_IMAGE_PIXELS before any pixel is decoded (LinkCardRefused).
    """
    import io

    from PIL import Image, UnidentifiedImageError

    too_many = LinkCardRefused(
        f"the image has more than {MAX_IMAGE_PIXELS:,} pixels; refused before decoding"
    )
    try:
        # open() reads the header only; pixels are decoded by convert() below.
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise LinkCardRefused(
                    f"the image is {width}×{height} pixels, more than the "
                    f"{MAX_IMAGE_PIXELS:,} a card image may have; refused before decoding"
                )
            kind = image.format or ""
            if kind in ACCEPTED_TYPES and len(data) <= MAX_THUMB_BYTES:
                return data, ACCEPTED_TYPES[kind]
            picture = image.convert("RGB")
    except Image.DecompressionBombError:
        # Pillow's own bound (far above ours) fires inside open() for the largest claims.
        raise too_many from None
    except Image.DecompressionBombWarning:
        # Only raised (rather than printed) when warnings are errors; same meaning.
        raise too_many from None
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


def parse_open_graph(html: str) -> dict[str, str]:
    """`<meta property|name=… content=…>` values (keys lower-cased, first wins) and `title`."""
    from threadpost.open_graph import meta_tags

    return meta_tags(html)
