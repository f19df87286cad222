"""Every Mastodon request passes through here: one HTTP transport per instance.

`MastodonHttp` owns the `requests.Session` (timeouts, user agent, the last answer each
thread saw, for the 429's reset header), builds Mastodon.py clients on it through their
public constructor (`session=`, `request_timeout=`, `ratelimit_method="throw"`), and runs
every call through `call`, the one place where Mastodon.py and requests failures become the
`PlatformError`s of `errors.py`, secrets removed. The publisher, the login flow (`auth.py`)
and the instance-limits read (`instance.py`) all use it.

requests is imported when the first request is made, Mastodon.py (~140 ms) only when a
client is built: reading instance limits needs only requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final, TypeVar

from threadpost.errors import (
    AuthFailed,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.redact import register_secrets
from threadpost.values import PlatformName

T = TypeVar("T")

PLATFORM: Final[PlatformName] = "mastodon"
LOGIN_HINT: Final = "log in again: threadpost login mastodon --instance URL"
USER_AGENT: Final = "threadpost"
DEFAULT_TIMEOUT: Final = 30.0


class MastodonHttp:
    """The HTTP side of one instance: a shared session, Mastodon.py clients, the funnel."""

    def __init__(
        self,
        instance: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        secrets: Sequence[str] = (),
    ) -> None:
        self.instance = instance.rstrip("/")
        self.timeout = timeout
        self._secrets = tuple(secret for secret in secrets if secret)
        register_secrets(*self._secrets)
        self._session: Any = None
        self._lock = threading.Lock()

    # -- clients ---------------------------------------------------------------------------

    def session(self) -> Any:
        """The `requests.Session` every request of this instance goes through."""
        with self._lock:
            if self._session is None:
                self._session = _recording_session_class()()
                self._session.headers["User-Agent"] = USER_AGENT
            return self._session

    def client(
        self,
        *,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> Any:
        """A Mastodon.py client on this transport's session (no version probing, 429s
        raised, not waited on: publish.py owns the retry policy)."""
        from mastodon import Mastodon

        return Mastodon(
            api_base_url=self.instance,
            access_token=access_token,
            client_id=client_id,
            client_secret=client_secret,
            ratelimit_method="throw",
            request_timeout=self.timeout,
            version_check_mode="none",
            session=self.session(),
            user_agent=USER_AGENT,
        )

    def close(self) -> None:
        """Release the HTTP connections (idempotent; a later request opens new ones)."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    # -- requests --------------------------------------------------------------------------

    def call(
        self,
        action: str,
        call: Callable[[], T],
        *,
        post: int | None = None,
        write: bool = False,
        not_found: str | None = None,
    ) -> T:
        """Run one Mastodon.py call; every failure leaves as a PlatformError."""
        from mastodon.errors import MastodonError

        session = self.session()
        session.forget_response()
        try:
            return call()
        except MastodonError as exc:
            raise classify_error(
                exc,
                action=action,
                instance=self.instance,
                post=post,
                write=write,
                not_found=not_found,
                response=session.last_response(),
                secrets=self._secrets,
            ) from exc

    def get(self, path: str, *, action: str) -> Any:
        """GET `path` of the instance without Mastodon.py; the `requests.Response` whatever
        its status. Network failures raise TransientError."""
        import requests

        try:
            return self.session().get(
                f"{self.instance}{path}", timeout=self.timeout, allow_redirects=True
            )
        except requests.RequestException as exc:
            raise classify_error(
                exc, action=action, instance=self.instance, secrets=self._secrets
            ) from None


@cache
def _recording_session_class() -> type[Any]:
    """A `requests.Session` that remembers, per thread, the last answer it received
    (Mastodon.py raises a 429 without it; the reset time is in its headers)."""
    import requests

    class RecordingSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self._last = threading.local()

        def request(self, *args: Any, **kwargs: Any) -> Any:
            response = super().request(*args, **kwargs)
            self._last.response = response
            return response

        def forget_response(self) -> None:
            self._last.response = None

        def last_response(self) -> Any:
            return getattr(self._last, "response", None)

    return RecordingSession


def classify_error(
    exc: BaseException,
    *,
    action: str,
    instance: str,
    post: int | None = None,
    write: bool = False,
    not_found: str | None = None,
    response: Any = None,
    secrets: Sequence[str] = (),
) -> PlatformError:
    """Map a Mastodon.py or requests exception to errors.py's tree (messages never hold a
    secret). `response` is the HTTP answer that came with it, when one did."""
    from mastodon.errors import (
        MastodonAPIError,
        MastodonIllegalArgumentError,
        MastodonNetworkError,
        MastodonRatelimitError,
        MastodonVersionError,
    )

    if isinstance(exc, MastodonVersionError) and exc.__cause__ is not None:
        exc = exc.__cause__  # retrieve_mastodon_version(fail_hard=True) wraps the real error
    status = getattr(response, "status_code", None)

    def clean(text: str) -> str:
        for secret in secrets:
            if secret:
                text = text.replace(secret, "<token>")
        return text

    if isinstance(exc, MastodonRatelimitError):
        if status is not None and status != 429:
            # Mastodon.py also raises this when it cannot parse the reset header of an
            # answer that was otherwise fine: the request went through.
            kind = UnclearOutcome if write else TransientError
            return kind(
                clean(f"{action}: unreadable rate-limit headers from {instance}"),
                platform=PLATFORM,
                post=post,
            )
        # (`if response` would be wrong: a requests Response is falsy when not ok.)
        reset_at = (
            parse_reset(response.headers.get("X-RateLimit-Reset")) if response is not None else None
        )
        when = f"; it resets at {reset_at.isoformat(timespec='seconds')}" if reset_at else ""
        return RateLimited(
            clean(f"{action}: {instance} says too many requests (HTTP 429){when}"),
            platform=PLATFORM,
            reset_at=reset_at,
            post=post,
        )

    import requests

    if isinstance(exc, MastodonNetworkError | requests.RequestException):
        cause = exc if isinstance(exc, requests.RequestException) else _requests_cause(exc)
        reason = _network_reason(cause)
        if write and not _surely_unsent(cause):
            return UnclearOutcome(
                clean(
                    f"{action}: {reason}; the status may or may not have been published "
                    "(a resend with the same Idempotency-Key will not duplicate it)"
                ),
                platform=PLATFORM,
                post=post,
            )
        return TransientError(
            clean(f"{action}: {reason}"),
            platform=PLATFORM,
            post=post,
            hint="check the network connection and [mastodon].instance",
        )

    if isinstance(exc, MastodonAPIError):
        args = exc.args
        code = args[1] if len(args) > 1 and isinstance(args[1], int) else status
        server_reason = args[3] if len(args) > 3 and args[3] else None
        said = f": {server_reason}" if server_reason else ""
        if code in (401, 403):
            return AuthFailed(
                clean(f"{action}: {instance} refused the access token (HTTP {code}{said})"),
                platform=PLATFORM,
                post=post,
                hint=LOGIN_HINT,
            )
        if code == 404 and not_found:
            return PermanentError(clean(not_found), platform=PLATFORM, post=post)
        if code is None or code >= 500:
            kind = UnclearOutcome if write else TransientError
            what = f"HTTP {code}" if code else "an answer that is not JSON"
            return kind(
                clean(f"{action}: {instance} answered {what}{said}"), platform=PLATFORM, post=post
            )
        if code in (408, 409, 425):
            return TransientError(
                clean(f"{action}: {instance} answered HTTP {code}{said}"),
                platform=PLATFORM,
                post=post,
            )
        where = f"post {post} was refused" if post is not None else f"{action} failed"
        return PermanentError(
            clean(f"{where} by {instance} (HTTP {code}{said})"),
            platform=PLATFORM,
            post=post,
        )

    if isinstance(exc, MastodonIllegalArgumentError):
        return PermanentError(clean(f"{action}: {exc}"), platform=PLATFORM, post=post)
    return PermanentError(
        clean(f"{action}: {type(exc).__name__}: {exc}"), platform=PLATFORM, post=post
    )


def parse_reset(value: str | None) -> datetime | None:
    """X-RateLimit-Reset → aware UTC datetime: Mastodon's ISO-8601 (with microseconds), or
    epoch seconds (GoToSocial)."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _requests_cause(exc: BaseException) -> BaseException | None:
    """The requests exception a MastodonNetworkError was raised from, if any."""
    import requests

    for link in _chain(exc):
        if isinstance(link, requests.RequestException):
            return link
    return exc.__context__ or exc.__cause__


def _chain(exc: BaseException | None) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or during (bounded)."""
    links: list[BaseException] = []
    while exc is not None and len(links) < 12:
        links.append(exc)
        exc = exc.__cause__ or exc.__context__
    return links


def _surely_unsent(cause: BaseException | None) -> bool:
    """True when the request never reached the server (refused, DNS, connect timeout).

    Judged from the standard library's exceptions at the root of the chain (requests and
    urllib3 raise theirs from them), not from urllib3's own classes."""
    import socket

    import requests

    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError):
        return any(
            isinstance(link, ConnectionRefusedError | socket.gaierror) for link in _chain(cause)
        )
    return False


def _network_reason(cause: BaseException | None) -> str:
    import socket

    import requests

    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(cause, requests.exceptions.ReadTimeout):
        return "no answer in time (read timeout)"
    if isinstance(cause, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(cause, requests.exceptions.ConnectionError):
        if _surely_unsent(cause):
            if any(isinstance(link, socket.gaierror) for link in _chain(cause)):
                return "cannot resolve the instance's host name"
            return "cannot connect to the instance (connection refused)"
        return "the connection was lost before an answer came"
    return "network error"


__all__ = ["LOGIN_HINT", "PLATFORM", "MastodonHttp", "classify_error", "parse_reset"]
