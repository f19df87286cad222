"""The adapter's one choke point: how every SDK failure is classified, and that no secret
(app password, tokens, session string) ever reaches a message. No server needed."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from atproto_client import exceptions as sdk
from atproto_client.models.common import XrpcError
from atproto_client.request import Response

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

PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOngifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


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


def response(status: int, error: str, message: str, **headers: str) -> Response:
    return Response(
        success=False,
        status_code=status,
        content=XrpcError(error=error, message=message),
        headers=headers,
    )


def raise_(exc: BaseException) -> Any:
    def call() -> Any:
        raise exc

    return call


def test_rate_limit_carries_the_epoch_reset(tmp_path: Path) -> None:
    # Ten minutes ahead: a reset more than a day away is not trusted (issue 18).
    reset = int(time.time()) + 600
    exc = sdk.RateLimitExceededError(
        response(429, "RateLimitExceeded", "Rate Limit Exceeded", **{"ratelimit-reset": str(reset)})
    )
    with pytest.raises(RateLimited) as caught:
        publisher(tmp_path)._xrpc_call(raise_(exc), what="publishing posts 1–3", write=True, post=1)
    assert caught.value.reset_at == datetime.fromtimestamp(reset, UTC)
    assert caught.value.post == 1
    assert "HTTP 429 RateLimitExceeded" in caught.value.message


@pytest.mark.parametrize(
    ("exc", "write", "expected"),
    [
        (sdk.RequestException(response(500, "InternalServerError", "boom")), True, UnclearOutcome),
        (sdk.RequestException(response(500, "InternalServerError", "boom")), False, TransientError),
        (sdk.InvokeTimeoutError(), True, UnclearOutcome),
        (sdk.InvokeTimeoutError(), False, TransientError),
        (sdk.NetworkError(response(502, "BadGateway", "upstream")), True, UnclearOutcome),
        (sdk.NetworkError(response(413, "PayloadTooLarge", "too big")), True, PermanentError),
        (sdk.BadRequestError(response(400, "InvalidRequest", "bad record")), True, PermanentError),
        (sdk.UnauthorizedError(response(401, "AuthMissing", "no")), True, AuthFailed),
    ],
)
def test_classification(
    tmp_path: Path, exc: Exception, write: bool, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as caught:
        publisher(tmp_path)._xrpc_call(raise_(exc), what="doing it", write=write)
    assert type(caught.value) is expected
    assert caught.value.__cause__ is None  # the SDK's exception (and its response) is dropped
    if expected is UnclearOutcome:
        assert caught.value.unclear  # type: ignore[attr-defined]


def test_refused_connection_is_clear_even_for_a_write(tmp_path: Path) -> None:
    try:
        try:
            raise httpx.ConnectError("refused")
        except httpx.ConnectError as inner:
            raise sdk.NetworkError() from inner
    except sdk.NetworkError as exc:
        error = exc
    with pytest.raises(TransientError) as caught:
        publisher(tmp_path)._xrpc_call(raise_(error), what="publishing", write=True)
    assert not caught.value.unclear


def test_secrets_are_scrubbed_from_messages(tmp_path: Path) -> None:
    pub = publisher(tmp_path)
    pub._net.add_secret(f"me.test:::did:plc:x:::{JWT}:::{JWT}x:::http://127.0.0.1:9")
    exc = sdk.BadRequestError(
        response(400, "InvalidRequest", f"password {PASSWORD} token {JWT} other eyJabcdefghij.k.l")
    )
    with pytest.raises(PermanentError) as caught:
        pub._xrpc_call(raise_(exc), what="x")
    text = str(caught.value) + repr(caught.value)
    assert PASSWORD not in text and JWT not in text and "eyJabcdefghij" not in text
    assert "[redacted]" in text
    assert PASSWORD not in repr(pub)


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
