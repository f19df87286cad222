"""The network half of `check`: are the links reachable, do the Bluesky handles exist.

Requests run concurrently (asyncio + httpx, imported only here and only when called: the
offline checks every publish runs import this module for its result types, and asyncio
alone would cost them ~15 ms).
Link answers are cached for a day in the state folder so re-checking a draft while
editing it does not hit every site again.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from threadpost.atomic_write import write_atomically
from threadpost.platforms.bluesky.xrpc import HandleResult
from threadpost.platforms.bluesky.xrpc import resolve_handles as _resolve_bluesky_handles

if TYPE_CHECKING:
    import httpx

Outcome = Literal["ok", "http", "dns", "refused", "timeout", "tls", "redirects", "error"]

CACHE_FILE: Final = "linkcheck.json"
CACHE_TTL_SECONDS: Final = 24 * 3600
DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_CONCURRENCY: Final = 32
MAX_REDIRECTS: Final = 10

#: HTTP statuses that say something lasting about the link (cached for a day). 5xx, 408 and
#: 429 are passing states and are asked again on the next check.
_PASSING_STATUSES: Final = frozenset({408, 425, 429})


@dataclass(frozen=True)
class LinkResult:
    """What happened when the link was followed."""

    url: str
    outcome: Outcome
    #: The final HTTP status, when a server answered.
    status: int | None = None
    #: Where the redirects ended (None when there were none or no answer came).
    final_url: str | None = None
    #: Human-readable reason when outcome is not "ok" (e.g. "HTTP 404 Not Found").
    reason: str | None = None
    #: When the answer was obtained (epoch seconds); older than a day → asked again.
    checked_at: float = 0.0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def redirected(self) -> bool:
        return self.final_url is not None and self.final_url != self.url

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "ok": self.ok,
            "outcome": self.outcome,
            "status": self.status,
            "final_url": self.final_url,
            "reason": self.reason,
            "cached": self.cached,
        }


class ProgressSink(Protocol):
    """Told how the checks advance (the CLI shows a progress bar from it)."""

    def start(self, total: int) -> None: ...

    def advance(self) -> None: ...

    def stop(self) -> None: ...


def check_links(
    urls: Iterable[str],
    *,
    cache_dir: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressSink | None = None,
    now: Callable[[], float] = time.time,
) -> dict[str, LinkResult]:
    """Follow every distinct URL (HEAD, then GET when HEAD is refused) → result per URL.

    `timeout` bounds each link as a whole, redirects included. Answers younger than a day
    are taken from `cache_dir`'s cache instead of the network.
    """
    wanted = list(dict.fromkeys(urls))
    cache = _load_cache(cache_dir, now()) if cache_dir is not None else {}
    results = {url: cache[url] for url in wanted if url in cache}
    todo = [url for url in wanted if url not in results]
    if todo:
        if progress is not None:
            progress.start(len(todo))
        try:
            from threadpost.eventloop import run_bounded

            fresh = run_bounded(_check_all(todo, timeout, concurrency, progress, now))
        finally:
            if progress is not None:
                progress.stop()
        results.update(fresh)
        if cache_dir is not None:
            cache.update({url: r for url, r in fresh.items() if _cacheable(r)})
            _save_cache(cache_dir, cache)
    return {url: results[url] for url in wanted}


async def _check_all(
    urls: list[str],
    timeout: float,
    concurrency: int,
    progress: ProgressSink | None,
    now: Callable[[], float],
) -> dict[str, LinkResult]:
    import asyncio

    import httpx

    from threadpost import __version__

    limit = asyncio.Semaphore(max(1, concurrency))
    async with httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=max(1, concurrency)),
        headers={"User-Agent": f"threadpost/{__version__} (link check)"},
        # The user's proxy settings and .netrc have no business in a link check.
        trust_env=False,
    ) as client:

        async def one(url: str) -> LinkResult:
            async with limit:
                result = await _check_one(client, url, timeout, now)
            if progress is not None:
                progress.advance()
            return result

        found = await asyncio.gather(*(one(url) for url in urls))
    return {result.url: result for result in found}


async def _check_one(
    client: httpx.AsyncClient, url: str, timeout: float, now: Callable[[], float]
) -> LinkResult:
    import asyncio

    import httpx

    try:
        async with asyncio.timeout(timeout):
            try:
                response = await client.head(url)
                status = response.status_code
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # Some servers drop the connection on HEAD; GET is the real test.
                status = 0
            if status == 0 or status >= 400:
                # Many servers answer HEAD with 403/404/405/501 while GET works.
                async with client.stream("GET", url) as response:
                    status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return LinkResult(
            url, "timeout", reason=f"no answer within {timeout:g} s", checked_at=now()
        )
    except httpx.TooManyRedirects:
        return LinkResult(
            url, "redirects", reason=f"more than {MAX_REDIRECTS} redirects", checked_at=now()
        )
    except httpx.ConnectError as exc:
        outcome, reason = _connect_failure(exc, url)
        return LinkResult(url, outcome, reason=reason, checked_at=now())
    except httpx.HTTPError as exc:
        return LinkResult(url, "error", reason=_describe(exc), checked_at=now())
    final = str(response.url)
    final_url = final if final != url else None
    if status >= 400:
        phrase = response.reason_phrase or ""
        return LinkResult(
            url,
            "http",
            status=status,
            final_url=final_url,
            reason=f"HTTP {status} {phrase}".strip(),
            checked_at=now(),
        )
    return LinkResult(url, "ok", status=status, final_url=final_url, checked_at=now())


def _connect_failure(exc: BaseException, url: str) -> tuple[Outcome, str]:
    import socket
    import ssl
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or url
    # The exception types deep in the chain say what happened; messages vary by backend.
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(item, socket.gaierror) for item in chain):
        return "dns", f"the name {host} does not resolve (DNS)"
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return "refused", f"connection refused by {host}"
    tls = next((item for item in chain if isinstance(item, ssl.SSLError)), None)
    if tls is not None:
        from threadpost.tls_words import plain_tls_reason

        return "tls", f"{host}: {plain_tls_reason(tls)}"
    return "error", f"cannot connect to {host}: {_describe(exc)}"


def _describe(exc: BaseException) -> str:
    """The innermost useful message of an exception chain."""
    messages: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(messages) < 5:
        if str(current):
            messages.append(str(current))
        current = current.__cause__ or current.__context__
    return messages[-1] if messages else type(exc).__name__


def _cacheable(result: LinkResult) -> bool:
    if result.outcome == "ok":
        return True
    if result.outcome == "http" and result.status is not None:
        return result.status < 500 and result.status not in _PASSING_STATUSES
    return False


def _load_cache(cache_dir: Path, now: float) -> dict[str, LinkResult]:
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
        entries = data["links"]
        found: dict[str, LinkResult] = {}
        for url, entry in entries.items():
            result = LinkResult(**{**entry, "url": url, "cached": True})
            if 0 <= now - result.checked_at < CACHE_TTL_SECONDS:
                found[url] = result
        return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        # A missing or damaged cache only costs a re-check.
        return {}


def _save_cache(cache_dir: Path, cache: Mapping[str, LinkResult]) -> None:
    entries: dict[str, Any] = {}
    for url, result in cache.items():
        entry = asdict(result)
        del entry["url"], entry["cached"]
        entries[url] = entry
    # Atomic (a concurrent check reads either the old cache or the new one) and private:
    # the links of unpublished drafts are the writer's business. Not being able to cache
    # is not worth failing a check over.
    with contextlib.suppress(OSError):
        write_atomically(
            cache_dir / CACHE_FILE, json.dumps({"version": 1, "links": entries}), private=True
        )


# --- Bluesky handles --------------------------------------------------------------------

# Handle resolution lives in the Bluesky package (one XRPC choke point for the network);
# `check` reaches it from here with the link checks.
__all__ = ["HandleResult", "LinkResult", "check_links", "resolve_handles"]


def resolve_handles(
    handles: Iterable[str],
    service: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = 8,
) -> dict[str, HandleResult]:
    """Ask `service` (com.atproto.identity.resolveHandle) for each handle's DID, concurrently."""
    return _resolve_bluesky_handles(handles, service, timeout=timeout, concurrency=concurrency)
