"""The link checker against a real HTTP server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkserver import LinkServer, closed_port, serve
from threadpost.linkcheck import CACHE_FILE, check_links, resolve_handles


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serve() as running:
        running.slow_seconds = 2.0
        yield running


def test_ok(server: LinkServer) -> None:
    result = check_links([server.url("/ok")])[server.url("/ok")]
    assert result.ok
    assert result.status == 200
    assert result.final_url is None
    assert not result.redirected
    assert server.hits["HEAD /ok"] == 1
    assert server.hits["GET /ok"] == 0  # HEAD sufficed


def test_redirect_is_followed_and_final_url_reported(server: LinkServer) -> None:
    result = check_links([server.url("/redirect")])[server.url("/redirect")]
    assert result.ok
    assert result.status == 200
    assert result.redirected
    assert result.final_url == server.url("/ok")


def test_404_is_an_http_failure_with_reason(server: LinkServer) -> None:
    result = check_links([server.url("/missing")])[server.url("/missing")]
    assert not result.ok
    assert result.outcome == "http"
    assert result.status == 404
    assert result.reason == "HTTP 404 Not Found"
    # HEAD said 404: GET was asked too, as some servers only get HEAD wrong.
    assert server.hits["GET /missing"] == 1


def test_500(server: LinkServer) -> None:
    result = check_links([server.url("/error")])[server.url("/error")]
    assert (result.outcome, result.status) == ("http", 500)
    assert result.reason is not None
    assert "500" in result.reason


def test_head_refused_falls_back_to_get(server: LinkServer) -> None:
    result = check_links([server.url("/nohead")])[server.url("/nohead")]
    assert result.ok
    assert server.hits["HEAD /nohead"] == 1
    assert server.hits["GET /nohead"] == 1


def test_slow_response_past_the_timeout(server: LinkServer) -> None:
    result = check_links([server.url("/slow")], timeout=0.3)[server.url("/slow")]
    assert result.outcome == "timeout"
    assert result.reason == "no answer within 0.3 s"


def test_refused_connection() -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    result = check_links([url])[url]
    assert result.outcome == "refused"
    assert result.reason == "connection refused by 127.0.0.1"


def test_redirect_loop(server: LinkServer) -> None:
    result = check_links([server.url("/loop")])[server.url("/loop")]
    assert result.outcome == "redirects"


def test_duplicates_are_checked_once_and_order_kept(server: LinkServer) -> None:
    urls = [server.url("/missing"), server.url("/ok"), server.url("/missing")]
    results = check_links(urls)
    assert list(results) == [server.url("/missing"), server.url("/ok")]
    assert server.hits["HEAD /missing"] == 1


def test_progress_is_told_every_link(server: LinkServer) -> None:
    events: list[object] = []

    class Sink:
        def start(self, total: int) -> None:
            events.append(("start", total))

        def advance(self) -> None:
            events.append("advance")

        def stop(self) -> None:
            events.append("stop")

    check_links([server.url("/ok"), server.url("/missing")], progress=Sink())
    assert events == [("start", 2), "advance", "advance", "stop"]


def test_answers_are_cached_for_a_day(server: LinkServer, tmp_path: Path) -> None:
    urls = [server.url("/ok"), server.url("/missing"), server.url("/error")]
    clock = [1_000_000.0]
    first = check_links(urls, cache_dir=tmp_path, now=lambda: clock[0])
    assert not any(result.cached for result in first.values())
    assert (tmp_path / CACHE_FILE).exists()

    clock[0] += 3600
    second = check_links(urls, cache_dir=tmp_path, now=lambda: clock[0])
    assert second[server.url("/ok")].cached
    assert second[server.url("/missing")].cached  # a 404 is a lasting answer
    assert not second[server.url("/error")].cached  # a 500 may pass: asked again
    assert server.hits["HEAD /ok"] == 1
    assert server.hits["HEAD /error"] == 2

    clock[0] += 24 * 3600
    third = check_links(urls, cache_dir=tmp_path, now=lambda: clock[0])
    assert not third[server.url("/ok")].cached
    assert server.hits["HEAD /ok"] == 2


def test_a_damaged_cache_is_ignored(server: LinkServer, tmp_path: Path) -> None:
    (tmp_path / CACHE_FILE).write_text("{not json")
    result = check_links([server.url("/ok")], cache_dir=tmp_path)[server.url("/ok")]
    assert result.ok
    assert json.loads((tmp_path / CACHE_FILE).read_text())["links"][server.url("/ok")]


def test_resolve_handles(server: LinkServer) -> None:
    server.handles["alice.test"] = "did:plc:alice"
    results = resolve_handles(["alice.test", "nobody.test"], server.base)
    assert results["alice.test"].did == "did:plc:alice"
    assert results["nobody.test"].did is None
    assert results["nobody.test"].missing
    assert results["nobody.test"].reason == "Unable to resolve handle"


def test_resolve_handles_service_down() -> None:
    results = resolve_handles(["alice.test"], f"http://127.0.0.1:{closed_port()}")
    assert results["alice.test"].did is None
    assert not results["alice.test"].missing
    assert results["alice.test"].reason


def test_headers_dripped_a_byte_at_a_time_are_cut_at_the_deadline(server: LinkServer) -> None:
    # One header byte every 0.25 s never trips a per-read timeout; the check's wall-clock
    # deadline (asyncio.timeout around the whole link) must end it anyway.
    import time

    server.drip_seconds, server.drip_bytes = 0.25, 16  # 4 s of drip
    started = time.monotonic()
    result = check_links([server.url("/drip-headers")], timeout=1.0)[server.url("/drip-headers")]
    assert result.outcome == "timeout"
    assert time.monotonic() - started < 2.5


def test_a_hanging_name_look_up_is_cut_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # The resolver runs in a thread; a deadline that abandons it must not then wait for it
    # on the way out. A patched resolver stands in for a DNS server that never answers.
    import socket
    import time

    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("hangs.example.com", b"hangs.example.com"):  # anyio passes bytes
            time.sleep(3.0)
            raise socket.gaierror(socket.EAI_AGAIN, "the resolver gave up")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    url = "http://hangs.example.com/"
    started = time.monotonic()
    result = check_links([url], timeout=0.5)[url]
    assert result.outcome == "timeout"
    assert time.monotonic() - started < 2.0
