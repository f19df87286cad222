"""The rest of the adapter's error choke point (`_xrpc_call`): failures the SDK does not
convert itself. A dropped connection on a write is unclear (it may have landed), any other
SDK error is transient, and none of their texts (which may hold a token) reach the message.
No server needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from atproto_client import exceptions as sdk

from threadpost.config import BlueskySettings, Settings
from threadpost.errors import AuthFailed, TransientError, UnclearOutcome
from threadpost.platforms.bluesky.publisher import BlueskyPublisher

PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOngifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def publisher(tmp_path: Path) -> BlueskyPublisher:
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service="http://127.0.0.1:9", handle="me.test", app_password=PASSWORD
        ),
    )
    return BlueskyPublisher(settings)


def raising(exc: BaseException) -> Any:
    def call() -> Any:
        raise exc

    return call


def test_not_logged_in_is_an_auth_failure_with_the_login_hint(tmp_path: Path) -> None:
    with pytest.raises(AuthFailed) as caught:
        publisher(tmp_path)._xrpc_call(raising(sdk.LoginRequiredError()), what="posting")
    assert caught.value.message == "Bluesky: posting: not logged in"
    assert caught.value.hint


@pytest.mark.parametrize(
    ("write", "expected", "tail"),
    [
        (True, UnclearOutcome, "(the write may have been applied)"),
        (False, TransientError, "the connection closed without an answer"),
    ],
)
def test_a_connection_closed_without_an_answer(
    tmp_path: Path, write: bool, expected: type[Exception], tail: str
) -> None:
    dropped = httpx.RemoteProtocolError(f"Server disconnected; token {JWT}")
    with pytest.raises(expected) as caught:
        publisher(tmp_path)._xrpc_call(raising(dropped), what="publishing", write=write, post=3)
    assert type(caught.value) is expected
    message = str(caught.value)
    assert message.startswith("Bluesky: publishing: the connection closed without an answer")
    assert message.endswith(tail)
    assert caught.value.post == 3  # type: ignore[attr-defined]
    assert JWT not in message + repr(caught.value)
    assert caught.value.__cause__ is None


def test_any_other_sdk_error_is_transient_and_names_only_its_type(tmp_path: Path) -> None:
    odd = sdk.ModelError(f"cannot parse answer holding {JWT} and {PASSWORD}")
    with pytest.raises(TransientError) as caught:
        publisher(tmp_path)._xrpc_call(raising(odd), what="reading the thread", post=2)
    assert type(caught.value) is TransientError
    assert caught.value.message == "Bluesky: reading the thread: ModelError"
    assert caught.value.post == 2
    assert caught.value.__cause__ is None


def test_a_non_sdk_exception_is_not_disguised(tmp_path: Path) -> None:
    """A bug in threadpost (not a network failure) surfaces as itself, not as a retryable
    error that would hide it behind retries."""
    with pytest.raises(KeyError):
        publisher(tmp_path)._xrpc_call(raising(KeyError("cid")), what="publishing", write=True)
