"""GET a URL that a page or a draft points to, within hard bounds (for link cards).

- Addresses: every hop's host is resolved here and each address is judged by an
  `AddressPolicy` before anything connects; the request then goes to the judged address
  itself (the name travels in the Host header and TLS SNI), so a second DNS answer cannot
  swap in another address between the check and the connection.
- Redirects are followed here, one hop at a time, at most `MAX_REDIRECTS`.
- Bytes: the body (after gzip/deflate decoding, which is bounded too) is cut at `max_bytes`.
- Time: none here. The caller wraps its whole fetch in `asyncio.timeout`, which also
  interrupts a server that drips its headers a byte at a time (httpx's timeouts are per
  read and never fire then), and runs it with `eventloop.run_bounded`, so that a hanging
  name look-up cannot hold it past its deadline either.
"""

from __future__ import annotations

import asyncio
import socket
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urljoin

from threadpost.addresses import AddressPolicy, IPAddress, parse_address

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS: Final = 5
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class FetchError(Exception):
    """The URL could not be fetched within the bounds; the message says why."""


class AddressRefused(FetchError):
    """A hop's host has an address the policy refuses; nothing was sent to it."""


@dataclass(frozen=True)
class Fetched:
    """A final (non-redirect) answer, its body read up to the byte bound."""

    #: Where the redirects ended, as a URL with the host's name (for resolving relative links).
    url: str
    status: int
    #: The Content-Type without parameters, lower-case ("" when the server sent none).
    media_type: str
    charset: str | None
    body: bytes
    #: The body was longer than the bound and `body` is its beginning.
    truncated: bool


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: AddressPolicy,
    max_bytes: int,
    accept: str,
) -> Fetched:
    """GET `url` (following redirects) to a final answer; raise FetchError when refused.

    `client` must not follow redirects itself (each hop is judged here). Error messages
    leave `url` for the caller to name, and name the hop when a redirect led there.
    """
    import httpx

    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        where = "" if current == url else f"redirected to {current}: "
        try:
            target = httpx.URL(current)
        except (httpx.InvalidURL, ValueError):
            raise FetchError(f"{where}not a valid URL") from None
        if target.scheme not in _DEFAULT_PORTS:
            raise FetchError(f"{where}not an http(s) link")
        addresses = await _vetted_addresses(target, policy)
        response = await _send_pinned(client, target, addresses, accept)
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                try:
                    current = urljoin(current, location)
                except ValueError:  # e.g. an unclosed "[" of an IPv6 address
                    raise FetchError(f"{where}redirects to an invalid URL") from None
                continue
            body, truncated = await _read_bounded(response, max_bytes, where)
            content_type = response.headers.get("content-type", "")
            return Fetched(
                url=current,
                status=response.status_code,
                media_type=content_type.split(";")[0].strip().lower(),
                charset=response.charset_encoding,
                body=body,
                truncated=truncated,
            )
        finally:
            await response.aclose()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


async def _vetted_addresses(target: httpx.URL, policy: AddressPolicy) -> list[IPAddress]:
    """Every address of `target`'s host, once all of them are allowed (one refused: none is).

    All, not just the first: a name that resolves to a public and a private address would
    otherwise reach the private one whenever the public one fails to answer.
    """
    host = target.raw_host.decode("ascii")
    port = target.port or _DEFAULT_PORTS[target.scheme]
    literal = parse_address(host)
    addresses = [literal] if literal is not None else await _resolve(host, port)
    if not addresses:
        raise FetchError(f"the name {host} has no address")
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            shown = host if literal is not None else f"{host} ({address})"
            raise AddressRefused(f"{shown} is {reason}: not fetched")
    return addresses


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to, in the resolver's order, without duplicates.

    The look-up runs in the loop's executor: under `eventloop.run_bounded` a daemon thread,
    so that a resolver that never answers cannot outlast the caller's deadline.
    """
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchError(f"the name {host} does not resolve (DNS)") from None
    except OSError as exc:
        raise FetchError(f"the name {host} cannot be looked up: {exc}") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = parse_address(str(sockaddr[0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    return addresses


async def _send_pinned(
    client: httpx.AsyncClient, target: httpx.URL, addresses: list[IPAddress], accept: str
) -> httpx.Response:
    """Send the GET to the first of `addresses` that accepts a connection."""
    import httpx

    headers = {
        "Host": target.netloc.decode("ascii"),
        "Accept": accept,
        # Only encodings _read_bounded can decode within its bound.
        "Accept-Encoding": "gzip, deflate",
    }
    extensions = {"sni_hostname": target.raw_host.decode("ascii")}

    async def send_to(address: IPAddress) -> httpx.Response:
        pinned = target.copy_with(host=str(address).split("%", 1)[0])
        request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
        return await client.send(request, stream=True)

    for address in addresses[:-1]:
        try:
            return await send_to(address)
        except httpx.ConnectError:
            continue  # this address does not answer: the next one may
    return await send_to(addresses[-1])  # the last one's failure is the one reported


async def _read_bounded(response: httpx.Response, max_bytes: int, where: str) -> tuple[bytes, bool]:
    """The decoded body up to `max_bytes`, and whether there was more.

    Decoding is bounded as well: a few KB of gzip can inflate to gigabytes, so no more than
    what is still wanted is ever inflated.
    """
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        inflater = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)  # gzip or zlib header
    else:
        raise FetchError(f"{where}unsupported content encoding {encoding!r}")
    wanted = max_bytes + 1  # one byte more than the bound tells "longer than the bound"
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        if inflater is None:
            piece = raw
        else:
            try:
                # max_length caps the output; what it leaves unread stays in unconsumed_tail,
                # which is only ever needed when the bound has not been reached.
                piece = inflater.decompress(inflater.unconsumed_tail + raw, wanted - size)
            except zlib.error:
                raise FetchError(f"{where}damaged compressed body") from None
        chunks.append(piece)
        size += len(piece)
        if size >= wanted:
            break
    body = b"".join(chunks)
    return body[:max_bytes], len(body) > max_bytes
