"""The adapter's one choke point: how every failure on the wire is classified, and that no
secret (app password, tokens, session string) ever reaches a message. Each failure is put
on the wire by httpx's mock transport under the real `XrpcTransport`; no server needed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from httpx_wire import HttpxWire
from threadpost.config import BlueskySettings, Settings
from threadpost.errors import (
    AuthFailed,
    ConfigError,
    PermanentError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.session import (
    SavedSession,
    load_session,
    save_session,
    session_path,
)
from threadpost.platforms.bluesky.xrpc import XrpcTransport

PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOngifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
APPLY_WRITES = "com.atproto.repo.applyWrites"


def publisher(tmp_path: Path, **bluesky: Any) -> BlueskyPublisher:
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service="http://127.0.0.1:9", handle="me.test", app_password=PASSWORD, **bluesky
        ),
    )
    return BlueskyPublisher(settings)


Handler = Callable[[httpx.Request], httpx.Response]


def error_answer(status: int, error: str, message: str, **headers: str) -> Handler:
    """Every request answered with an XRPC error body."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.dumps({"error": error, "message": message}).encode()
        return httpx.Response(
            status, content=body, headers={"Content-Type": "application/json", **headers}
        )

    return handler


def raising(exc: BaseException) -> Handler:
    """Every request fails on the way (what httpx raises for a timeout, a refusal...)."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def call(handler: Handler, *, write: bool, what: str = "doing it", **kwargs: Any) -> Any:
    net = XrpcTransport(
        "http://127.0.0.1:9",
        timeout=5,
        transport=HttpxWire(httpx.MockTransport(handler)),
        secrets=[PASSWORD],
    )
    for secret in kwargs.pop("secrets", ()):
        net.add_secret(secret)
    client = net.new_client(token=JWT)
    if write:
        return net.invoke(client, APPLY_WRITES, body={}, what=what, write=True, **kwargs)
    return net.invoke(client, "com.atproto.repo.getRecord", params={}, what=what, **kwargs)


def test_rate_limit_carries_the_epoch_reset() -> None:
    # Ten minutes ahead: a reset more than a day away is not trusted (issue 18).
    reset = int(time.time()) + 600
    answer = error_answer(
        429, "RateLimitExceeded", "Rate Limit Exceeded", **{"ratelimit-reset": str(reset)}
    )
    with pytest.raises(RateLimited) as caught:
        call(answer, what="publishing posts 1–3", write=True, post=1)
    assert caught.value.reset_at == datetime.fromtimestamp(reset, UTC)
    assert caught.value.post == 1
    assert "HTTP 429 RateLimitExceeded" in caught.value.message


@pytest.mark.parametrize(
    ("handler", "write", "expected"),
    [
        (error_answer(500, "InternalServerError", "boom"), True, UnclearOutcome),
        (error_answer(500, "InternalServerError", "boom"), False, TransientError),
        (raising(httpx.ReadTimeout("slow")), True, UnclearOutcome),
        (raising(httpx.ReadTimeout("slow")), False, TransientError),
        (raising(httpx.ReadError("reset by peer")), True, UnclearOutcome),
        (error_answer(502, "BadGateway", "upstream"), True, UnclearOutcome),
        (error_answer(409, "Conflict", "busy"), True, UnclearOutcome),
        (error_answer(413, "PayloadTooLarge", "too big"), True, PermanentError),
        (error_answer(400, "InvalidRequest", "bad record"), True, PermanentError),
        (error_answer(401, "AuthMissing", "no"), True, AuthFailed),
        (error_answer(403, "Forbidden", "no"), False, AuthFailed),
    ],
)
def test_classification(handler: Handler, write: bool, expected: type[Exception]) -> None:
    with pytest.raises(expected) as caught:
        call(handler, write=write)
    assert type(caught.value) is expected
    assert caught.value.__cause__ is None  # httpx's exception (and its request) is dropped
    assert caught.value.__suppress_context__
    if expected is UnclearOutcome:
        assert caught.value.unclear  # type: ignore[attr-defined]


def test_refused_connection_is_clear_even_for_a_write() -> None:
    with pytest.raises(TransientError) as caught:
        call(raising(httpx.ConnectError("refused")), what="publishing", write=True)
    assert not caught.value.unclear


def test_secrets_are_scrubbed_from_messages(tmp_path: Path) -> None:
    answer = error_answer(
        400, "InvalidRequest", f"password {PASSWORD} token {JWT} other eyJabcdefghij.k.l"
    )
    session = f"me.test:::did:plc:x:::{JWT}:::{JWT}x:::http://127.0.0.1:9"
    with pytest.raises(PermanentError) as caught:
        call(answer, what="x", write=False, secrets=[session])
    text = str(caught.value) + repr(caught.value)
    assert PASSWORD not in text and JWT not in text and "eyJabcdefghij" not in text
    assert "[redacted]" in text
    assert PASSWORD not in repr(publisher(tmp_path))


def test_missing_handle_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(
        config_path=None, db_path=tmp_path / "db", state_dir=tmp_path, timezone=ZoneInfo("UTC")
    )
    with pytest.raises(ConfigError, match="handle"):
        BlueskyPublisher(settings)


def test_session_file_is_private_atomic_and_per_account(tmp_path: Path) -> None:
    saved = SavedSession(
        service="https://pds.example", handle="me.test", did="did:plc:x", session_string="s3cret"
    )
    path = save_session(tmp_path, saved)
    assert path == session_path(tmp_path, "https://pds.example/", "ME.test")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_session(tmp_path, "https://pds.example", "me.test") == saved
    assert "s3cret" not in repr(saved)
    assert load_session(tmp_path, "https://other.example", "me.test") is None
    assert load_session(tmp_path, "https://pds.example", "you.test") is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    path.write_text("{ damaged")
    assert load_session(tmp_path, "https://pds.example", "me.test") is None
