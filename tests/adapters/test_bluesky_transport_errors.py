"""The rest of the adapter's error choke point (`XrpcTransport.guarded`): failures that are
not an HTTP status. A dropped connection on a write is unclear (it may have landed), and
no exception text (which may hold a token) reaches the message; a bug in threadpost's own
code is not disguised as a network failure. Issue 18: broken 429 resets and unreadable 200
answers, put on the wire with httpx's mock transport. No server needed."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from answering_server import answering_server
from httpx_wire import HttpxWire
from threadpost.config import BlueskySettings, Settings
from threadpost.errors import AuthFailed, RateLimited, TransientError, UnclearOutcome
from threadpost.platforms.bluesky.answers import MAX_RESET_AHEAD, RATE_LIMIT_FALLBACK, parse_reset
from threadpost.platforms.bluesky.auth import create_session, refresh_session
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.session import SavedSession, Session, save_session
from threadpost.platforms.bluesky.xrpc import XrpcTransport

PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOngifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def settings_for(tmp_path: Path, password: str | None = PASSWORD) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service="http://127.0.0.1:9", handle="me.test", app_password=password
        ),
    )


def raising(exc: BaseException) -> Any:
    def call(*args: object) -> Any:
        raise exc

    return call


def test_a_refused_session_without_a_password_asks_to_log_in_again(tmp_path: Path) -> None:
    """The saved session's token is refused (ExpiredToken) and so is its refresh: with no
    app password to log in with, an AuthFailed with the login hint, no token in it."""
    settings = settings_for(tmp_path, password=None)
    token = _jwt(int(datetime.now(UTC).timestamp()) + 7200)
    session = Session("me.test", "did:plc:me", token, token, "http://127.0.0.1:9")
    save_session(
        settings.state_dir,
        SavedSession(settings.bluesky.service, "me.test", "did:plc:me", session.encode()),
    )
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(400, json={"error": "ExpiredToken", "message": f"expired {token}"})

    pub = BlueskyPublisher(settings, transport=HttpxWire(httpx.MockTransport(handler)))
    with pytest.raises(AuthFailed) as caught:
        pub.resolve_handles(["friend.test"])
    assert caught.value.message == "the saved Bluesky session of me.test has expired"
    assert caught.value.hint == "log in again: threadpost login bluesky"
    assert asked == ["com.atproto.identity.resolveHandle", "com.atproto.server.refreshSession"]
    assert token not in str(caught.value) + repr(caught.value)


@pytest.mark.parametrize(
    ("write", "expected", "tail"),
    [
        (True, UnclearOutcome, "(the write may have been applied)"),
        (False, TransientError, "the connection closed without an answer"),
    ],
)
def test_a_connection_closed_without_an_answer(
    write: bool, expected: type[Exception], tail: str
) -> None:
    dropped = httpx.RemoteProtocolError(f"Server disconnected; token {JWT}")
    net, client = wire(raising(dropped))
    with pytest.raises(expected) as caught:
        net.invoke(
            client, "com.atproto.repo.applyWrites", body={}, what="publishing", write=write, post=3
        )
    assert type(caught.value) is expected
    message = str(caught.value)
    assert message.startswith("Bluesky: publishing: the connection closed without an answer")
    assert message.endswith(tail)
    assert caught.value.post == 3  # type: ignore[attr-defined]
    assert JWT not in message + repr(caught.value)
    assert caught.value.__cause__ is None


def test_a_non_transport_exception_is_not_disguised() -> None:
    """A bug in threadpost (not a network failure) surfaces as itself, not as a retryable
    error that would hide it behind retries."""
    net = XrpcTransport("http://127.0.0.1:9", timeout=5)
    with pytest.raises(KeyError):
        net.guarded(raising(KeyError("cid")), what="publishing", write=True)


# -- issue 18: faults on the wire, through the real SDK and httpx (a mock transport) -------

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
EPOCH_NOW = int(NOW.timestamp())
HTML = b"<html><body>Welcome to the hotel network</body></html>"


def wire(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[XrpcTransport, Any]:
    """A transport whose every request is answered by `handler`, and a client on it."""
    net = XrpcTransport(
        "http://127.0.0.1:9",
        timeout=5,
        transport=HttpxWire(httpx.MockTransport(handler)),
        clock=lambda: NOW,
    )
    return net, net.new_client()


def answer(status: int, body: bytes, content_type: str | None, **headers: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        kind = {"Content-Type": content_type} if content_type else {}
        return httpx.Response(status, content=body, headers={**kind, **headers})

    return handler


@pytest.mark.parametrize(
    ("headers", "expected", "reason"),
    [
        ({"ratelimit-reset": str(EPOCH_NOW + 30)}, NOW + timedelta(seconds=30), "it resets at"),
        # Milliseconds (what some proxies send): read as such, not as the year 58,000.
        ({"RateLimit-Reset": str((EPOCH_NOW + 30) * 1000)}, NOW + timedelta(seconds=30), "resets"),
        ({"ratelimit-reset": "99999999999999999999"}, NOW + RATE_LIMIT_FALLBACK, "a day away"),
        ({"ratelimit-reset": str(EPOCH_NOW + 2 * 86400)}, NOW + RATE_LIMIT_FALLBACK, "a day away"),
        ({"ratelimit-reset": "1e400"}, NOW + RATE_LIMIT_FALLBACK, "unreadable"),
        ({"ratelimit-reset": "soon"}, NOW + RATE_LIMIT_FALLBACK, "unreadable ratelimit-reset"),
        ({"ratelimit-reset": "-5"}, NOW + RATE_LIMIT_FALLBACK, "unreadable"),
        ({"ratelimit-reset": str(EPOCH_NOW - 3600)}, NOW + RATE_LIMIT_FALLBACK, "already past"),
        # Whole seconds and clocks a little apart: a reset just gone by means "now".
        ({"ratelimit-reset": str(EPOCH_NOW - 5)}, NOW, "it resets at"),
        ({}, NOW + RATE_LIMIT_FALLBACK, "no ratelimit-reset or retry-after header"),
        ({"retry-after": "45"}, NOW + timedelta(seconds=45), "it resets at"),
        (
            {"retry-after": "Wed, 02 Dec 2026 12:10:00 GMT"},
            NOW + timedelta(minutes=10),
            "it resets at",
        ),
        ({"retry-after": "99999999999999999999"}, NOW + RATE_LIMIT_FALLBACK, "a day away"),
        # Both usable: the later one (waiting for both satisfies both).
        (
            {"ratelimit-reset": str(EPOCH_NOW + 10), "retry-after": "60"},
            NOW + timedelta(seconds=60),
            "it resets at",
        ),
        (
            {"ratelimit-reset": "99999999999999999999", "retry-after": "20"},
            NOW + timedelta(seconds=20),
            "it resets at",
        ),
    ],
)
def test_parse_reset(headers: dict[str, str], expected: datetime, reason: str) -> None:
    reset = parse_reset(headers, NOW)
    assert reset.at == expected
    assert reason in reset.reason
    assert reset.at - NOW <= MAX_RESET_AHEAD


@pytest.mark.parametrize(
    ("reset", "expected"),
    [
        (str((EPOCH_NOW + 30) * 1000), NOW + timedelta(seconds=30)),
        ("99999999999999999999", NOW + RATE_LIMIT_FALLBACK),  # "year … is out of range"
        ("31536000000000", NOW + RATE_LIMIT_FALLBACK),  # ms, but a millennium ahead
    ],
)
def test_a_429_with_a_reset_in_ms_or_absurd_is_a_bounded_rate_limit(
    reset: str, expected: datetime
) -> None:
    body = json.dumps({"error": "RateLimitExceeded", "message": "slow down"}).encode()
    net, client = wire(answer(429, body, "application/json", **{"RateLimit-Reset": reset}))
    with pytest.raises(RateLimited) as caught:
        net.invoke(client, "com.atproto.repo.applyWrites", body={}, what="publishing", write=True)
    assert caught.value.reset_at == expected
    assert caught.value.message.startswith("Bluesky: publishing: HTTP 429 RateLimitExceeded")


UNREADABLE_SUCCESSES = [
    pytest.param(HTML, "text/html", id="html-page"),
    pytest.param(HTML, "application/json", id="claims-json"),
    pytest.param(b"", None, id="empty"),
    pytest.param(b"[1, 2]", "application/json", id="json-list"),
    pytest.param(b'{"status": "ok"}', "application/json", id="wrong-shape"),
]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE_SUCCESSES[:4])
def test_an_unreadable_success_of_a_write_is_unclear(body: bytes, content_type: str | None) -> None:
    """applyWrites answered 200 but not with JSON: the write may have landed. (A JSON object
    without `results` is the publisher's to refuse: the wrong-shape reliability cells.)"""
    net, client = wire(answer(200, body, content_type))
    publisher_like = _Applier(net, client)
    with pytest.raises(UnclearOutcome) as caught:
        publisher_like.apply()
    assert "answered HTTP 200 with a body that is not the expected JSON" in caught.value.message
    assert caught.value.post == 1
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE_SUCCESSES[:4])
def test_an_unreadable_success_of_a_read_is_transient(
    body: bytes, content_type: str | None
) -> None:
    net, client = wire(answer(200, body, content_type))
    with pytest.raises(TransientError) as caught:
        net.invoke(client, "com.atproto.repo.getRecord", params={"rkey": "x"}, what="looking up")
    assert type(caught.value) is TransientError
    assert caught.value.message.startswith(
        "Bluesky: looking up: answered HTTP 200 with a body that is not the expected JSON"
    )


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE_SUCCESSES)
@pytest.mark.parametrize("call", ["login", "refresh"])
def test_an_unreadable_session_answer_is_transient(
    body: bytes, content_type: str | None, call: str
) -> None:
    """createSession / refreshSession answered 200 with no session in it: a clear,
    retryable failure, never a ValueError or a KeyError."""
    net, client = wire(answer(200, body, content_type))
    current = Session("me.test", "did:plc:me", "access", "refresh", None)

    with pytest.raises(TransientError) as caught:
        if call == "login":
            create_session(net, client, "me.test", PASSWORD)
        else:
            refresh_session(net, current, "http://127.0.0.1:9")
    assert type(caught.value) is TransientError
    what = "logging in" if call == "login" else "refreshing the session"
    assert caught.value.message.startswith(
        f"Bluesky: {what}: answered HTTP 200 with a body that is not the expected JSON"
    )


def test_an_unexpected_exception_inside_the_http_stack_is_a_named_platform_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Raised inside the standard library's socket layer (under the real wire, talking to a
    real local server), an exception of any type is a failure of the call: retryable,
    unclear for a write, its type named, no secret in its message."""
    client_thread = threading.get_ident()
    real_recv_into = socket.socket.recv_into

    def broken_recv_into(self: socket.socket, *args: Any, **kwargs: Any) -> int:
        if threading.get_ident() == client_thread:  # the server's thread reads as ever
            raise AssertionError(f"internal state with {JWT}")
        return real_recv_into(self, *args, **kwargs)

    with answering_server(200, "application/json", b"{}") as url:
        monkeypatch.setattr(socket.socket, "recv_into", broken_recv_into)
        net = XrpcTransport(url, timeout=5)
        client = net.new_client(token=JWT)
        with pytest.raises(UnclearOutcome) as caught:
            net.invoke(
                client, "com.atproto.repo.applyWrites", body={}, what="publishing", write=True
            )
        assert "the request failed unexpectedly inside the HTTP client (AssertionError in " in (
            caught.value.message
        )
        assert JWT not in caught.value.message
        with pytest.raises(TransientError) as read:
            net.invoke(
                client, "com.atproto.repo.getRecord", params={"rkey": "x"}, what="looking up"
            )
        assert type(read.value) is TransientError
        net.close()


class _Applier:
    """An applyWrites of one create through the transport, read as the publisher does."""

    def __init__(self, net: XrpcTransport, client: Any) -> None:
        self.net, self.client = net, client

    def apply(self) -> dict[str, Any]:
        return self.net.invoke(
            self.client,
            "com.atproto.repo.applyWrites",
            body={"repo": "did:plc:x", "writes": []},
            what="publishing post 1 (one atomic write)",
            post=1,
            write=True,
        )


def _jwt(exp: int) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"scope": "com.atproto.access", "sub": "did:plc:me", "iat": exp - 7200, "exp": exp}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _session_answer(request: httpx.Request) -> httpx.Response:
    token = _jwt(int(datetime.now(UTC).timestamp()) + 7200)
    body = {"did": "did:plc:me", "handle": "me.test", "accessJwt": token, "refreshJwt": token}
    return httpx.Response(200, json=body)


def test_a_failure_in_threadpost_code_the_sdk_called_back_is_not_disguised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """createSession succeeded, then saving the session (threadpost's own code) failed:
    that is not an unreadable answer, and surfaces as itself."""
    import threadpost.platforms.bluesky.publisher as module

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "save_session", full_disk)
    settings = settings_for(tmp_path)
    pub = BlueskyPublisher(settings, transport=HttpxWire(httpx.MockTransport(_session_answer)))
    with pytest.raises(OSError, match="No space left"):
        pub.account_id()


def test_one_failed_login_does_not_leave_a_client_without_a_session(tmp_path: Path) -> None:
    """The first createSession answers 200 with a page, the second a session: the second
    attempt logs in (once: AssertionError on a client kept from the first)."""
    answers = [answer(200, HTML, "text/html"), _session_answer]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)(request)

    settings = settings_for(tmp_path)
    pub = BlueskyPublisher(settings, transport=HttpxWire(httpx.MockTransport(handler)))
    with pytest.raises(TransientError) as caught:
        pub.account_id()
    assert caught.value.message.startswith("Bluesky: logging in: answered HTTP 200")
    assert pub.account_id() == "did:plc:me"
    assert answers == []
