"""Every Mastodon request passes through here: one HTTP transport per instance.

`MastodonHttp` owns the transport (timeouts, user agent, the last answer each thread saw,
for the 429's reset header and the instance's clock). A publish's own requests (its
statuses, the first publish's verify_credentials) and the edits' PUTs go out as JSON on
threadpost's own wire (`request_json`, `threadpost.http_wire`, on plain sockets); everything
else runs Mastodon.py clients built on a `requests.Session` through their public
constructor (`session=`, `request_timeout=`, `ratelimit_method="throw"`) through `call`.
Both end in the same rules (`rate_limited`, `network_failure`, `refusal`), the one place where
failures become the `PlatformError`s of `errors.py`, secrets removed. The publisher, the
login flow (`auth.py`) and the instance-limits read (`instance.py`) all use it.

Mastodon.py (~0.2 s) is imported only when a client is built, requests (~45-60 ms with
urllib3 and charset_normalizer) only when the session is first used: publishing text
needs neither.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from threadpost.http_wire import (
    ConnectFailed,
    Dropped,
    HttpWire,
    TimedOut,
    WireError,
)
from threadpost.redact import register_secrets
from threadpost.values import PlatformName

T = TypeVar("T")

PLATFORM: Final[PlatformName] = "mastodon"
LOGIN_HINT: Final = "log in again: threadpost login mastodon --instance URL"
USER_AGENT: Final = "threadpost"
DEFAULT_TIMEOUT: Final = 30.0
#: Clock offsets below this are measurement noise (Date has whole seconds): ignored.
CLOCK_NOISE: Final = timedelta(seconds=2)
#: A 429 without a reset time to trust is retried this long after (Mastodon's general API
#: limit has 5-minute windows).
RATE_LIMIT_FALLBACK: Final = timedelta(minutes=5)
#: A reset at most this far behind our clock has simply passed while the answer was read.
RECENTLY_PAST: Final = timedelta(minutes=1)
#: Mastodon's longest rate-limit window for what threadpost does is 3 hours (statuses);
#: a reset further than this is a broken header, not a limit.
MAX_RATE_LIMIT_RESET: Final = timedelta(days=1)


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
        self._wire: HttpWire | None = None
        self._lock = threading.Lock()
        #: The last answer each thread received (either way), for `last_clock_offset`.
        self._last = threading.local()

    # -- clients ---------------------------------------------------------------------------

    def session(self) -> Any:
        """The `requests.Session` every request of this instance goes through."""
        with self._lock:
            if self._session is None:
                self._session = _recording_session_class()(self._remember)
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

    def wire(self) -> HttpWire:
        """The wire `request_json` sends on."""
        with self._lock:
            if self._wire is None:
                self._wire = HttpWire.for_server(self.instance, timeout=self.timeout)
            return self._wire

    def close(self) -> None:
        """Release the HTTP connections (idempotent; a later request opens new ones)."""
        with self._lock:
            session, self._session = self._session, None
            wire, self._wire = self._wire, None
        if session is not None:
            session.close()
        if wire is not None:
            wire.close()

    def _remember(self, response: Any) -> None:
        self._last.response = response

    def _forget_response(self) -> None:
        self._last.response = None

    def _last_response(self) -> Any:
        return getattr(self._last, "response", None)

    # -- requests --------------------------------------------------------------------------

    def call(
        self,
        action: str,
        call: Callable[[], T],
        *,
        post: int | None = None,
        write: bool = False,
        not_found: str | None = None,
        expect: str | None = None,
    ) -> T:
        """Run one Mastodon.py call; every failure leaves as a PlatformError.

        `expect`: a field the answer must have (a status's or media's "id"); a success
        without it is an unreadable answer, unclear for a write (issue 18)."""
        from mastodon.errors import MastodonError

        self._forget_response()
        try:
            answer = call()
        except MastodonError as exc:
            raise classify_error(
                exc,
                action=action,
                instance=self.instance,
                post=post,
                write=write,
                not_found=not_found,
                response=self._last_response(),
                secrets=self._secrets,
            ) from exc
        if expect is not None and not (isinstance(answer, dict) and answer.get(expect)):
            raise unreadable_answer(
                action,
                self.instance,
                getattr(self._last_response(), "status_code", None),
                post=post,
                write=write,
            )
        return answer

    def request_json(
        self,
        action: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        access_token: str,
        headers: dict[str, str] | None = None,
        post: int | None = None,
        write: bool = False,
        not_found: str | None = None,
        expect: str | None = None,
    ) -> Any:
        """One JSON request on this instance without Mastodon.py (on the wire), its answer
        as plain JSON; every failure leaves as the PlatformError `call` raises for the same
        answer. A publish posts its statuses this way: neither Mastodon.py's import (~0.2 s)
        and typed answers (~5 ms a status) nor requests' import (~45-60 ms) is paid before
        the first status is sent. Keys whose value is None are left out of `body`, as
        Mastodon.py leaves them out (None: no body, for a GET)."""
        where = _Where(action, self.instance, post, write, not_found, self._secrets)
        payload = (
            None
            if body is None
            else json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        )
        sent = {
            "Authorization": f"Bearer {access_token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **({"Content-Type": "application/json"} if payload is not None else {}),
            **(headers or {}),
        }
        self._forget_response()
        try:
            got = self.wire().request(method, f"{self.instance}{path}", headers=sent, body=payload)
        except WireError as exc:
            raise network_failure(exc, where) from exc
        response = _WireResponse(got.status, got.headers, datetime.now(UTC))
        self._remember(response)
        if got.status == 429:
            raise rate_limited(response, where)
        try:
            answer = json.loads(got.body) if got.body else None
        except (ValueError, RecursionError):
            answer = None
        if got.status >= 400:
            reason = answer.get("error") if isinstance(answer, dict) else None
            if reason is None and got.status == 404:
                reason = "Endpoint not found."  # what Mastodon.py reports for a bare 404
            raise refusal(got.status, reason, where)
        if expect is not None and not (isinstance(answer, dict) and answer.get(expect)):
            raise unreadable_answer(action, self.instance, got.status, post=post, write=write)
        return answer

    def last_clock_offset(self) -> timedelta | None:
        """How far the instance's clock is ahead of ours, from the Date of the last answer
        this thread received (None without a readable one)."""
        return clock_offset(self._last_response())

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


@dataclass(frozen=True)
class _WireResponse:
    """A wire answer as the rate-limit and clock readers read a `requests.Response`."""

    status_code: int
    headers: Mapping[str, str]
    #: When it arrived by our clock (see `clock_offset`).
    threadpost_received_at: datetime

    @property
    def threadpost_reset(self) -> str | None:
        return self.headers.get("X-RateLimit-Reset")


@cache
def _recording_session_class() -> type[Any]:
    """A `requests.Session` that hands each answer it receives to `remember` (the last one
    of a thread: Mastodon.py raises a 429 without it; the reset time is in its headers)."""
    import requests

    class RecordingSession(requests.Session):
        def __init__(self, remember: Callable[[Any], None]) -> None:
            super().__init__()
            self._remember = remember

        def request(self, *args: Any, **kwargs: Any) -> Any:
            response: Any = super().request(*args, **kwargs)
            # When it arrived by our clock: with its Date header, how far the instance's
            # clock is from ours (see `clock_offset`).
            response.threadpost_received_at = datetime.now(UTC)
            # Mastodon.py raises on any answer whose X-RateLimit-Reset it cannot parse, a
            # success included: hide such a header from it (kept for the 429's reason).
            reset = response.headers.get("X-RateLimit-Reset")
            response.threadpost_reset = reset
            if reset is not None and parse_reset(reset) is None:
                del response.headers["X-RateLimit-Reset"]
            self._remember(response)
            return response

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
    where = _Where(action, instance, post, write, not_found, tuple(secrets))
    return _classify(exc, where, response)


def _classify(exc: BaseException, where: _Where, response: Any) -> PlatformError:
    import requests

    if isinstance(exc, requests.RequestException):
        return network_failure(exc, where)
    from mastodon.errors import (
        MastodonAPIError,
        MastodonIllegalArgumentError,
        MastodonNetworkError,
        MastodonRatelimitError,
        MastodonVersionError,
    )

    if isinstance(exc, MastodonVersionError) and exc.__cause__ is not None:
        # retrieve_mastodon_version(fail_hard=True) wraps the real error
        return _classify(exc.__cause__, where, response)
    action, instance, post, write = where.action, where.instance, where.post, where.write
    status = getattr(response, "status_code", None)
    if isinstance(exc, MastodonRatelimitError):
        if status is not None and status != 429:
            # Mastodon.py also raises this when it cannot parse the reset header of an
            # answer that was otherwise fine: the request went through.
            kind = UnclearOutcome if write else TransientError
            return kind(
                where.clean(f"{action}: unreadable rate-limit headers from {instance}"),
                platform=PLATFORM,
                post=post,
            )
        return rate_limited(response, where)
    if isinstance(exc, MastodonNetworkError):
        return network_failure(_requests_cause(exc), where)
    if isinstance(exc, MastodonAPIError):
        args = exc.args
        code = args[1] if len(args) > 1 and isinstance(args[1], int) else status
        server_reason = args[3] if len(args) > 3 and args[3] else None
        return refusal(code, server_reason, where)
    if isinstance(exc, MastodonIllegalArgumentError):
        return PermanentError(where.clean(f"{action}: {exc}"), platform=PLATFORM, post=post)
    return PermanentError(
        where.clean(f"{action}: {type(exc).__name__}: {exc}"), platform=PLATFORM, post=post
    )


@dataclass(frozen=True)
class _Where:
    """What a failed request was doing, for the PlatformError that reports it."""

    action: str
    instance: str
    post: int | None
    write: bool
    not_found: str | None
    secrets: tuple[str, ...]

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "<token>")
        return text


def rate_limited(response: Any, where: _Where) -> RateLimited:
    """A 429: when to try again, from the answer's headers (`rate_limit_reset`)."""
    reset_at, when = rate_limit_reset(response)
    return RateLimited(
        where.clean(f"{where.action}: {where.instance} says too many requests (HTTP 429); {when}"),
        platform=PLATFORM,
        reset_at=reset_at,
        post=where.post,
    )


def network_failure(cause: BaseException | None, where: _Where) -> PlatformError:
    """No answer (`cause`: the requests exception, if known): for a write that may have
    reached the server, an unclear outcome; otherwise worth a retry."""
    reason = _network_reason(cause)
    if where.write and not _surely_unsent(cause):
        return UnclearOutcome(
            where.clean(
                f"{where.action}: {reason}; the status may or may not have been published "
                "(a resend with the same Idempotency-Key will not duplicate it)"
            ),
            platform=PLATFORM,
            post=where.post,
        )
    return TransientError(
        where.clean(f"{where.action}: {reason}"),
        platform=PLATFORM,
        post=where.post,
        hint="check the network connection and [mastodon].instance",
    )


def refusal(code: int | None, server_reason: str | None, where: _Where) -> PlatformError:
    """An answer other than a success or a 429 (`code`: its HTTP status, None when it
    could not be read; `server_reason`: its JSON `error`)."""
    action, instance, post = where.action, where.instance, where.post
    if code is not None and 200 <= code < 300:
        # A success that could not be parsed: the request was carried out (a status
        # stored, an image uploaded) but what it made cannot be read.
        return unreadable_answer(action, instance, code, post=post, write=where.write)
    said = f": {server_reason}" if server_reason else ""
    if code in (401, 403):
        return AuthFailed(
            where.clean(f"{action}: {instance} refused the access token (HTTP {code}{said})"),
            platform=PLATFORM,
            post=post,
            hint=LOGIN_HINT,
        )
    if code == 404 and where.not_found:
        return PermanentError(where.clean(where.not_found), platform=PLATFORM, post=post)
    if code is None or code >= 500:
        kind = UnclearOutcome if where.write else TransientError
        what = f"HTTP {code}" if code else "an answer that is not JSON"
        return kind(
            where.clean(f"{action}: {instance} answered {what}{said}"),
            platform=PLATFORM,
            post=post,
        )
    if code in (408, 409, 425):
        return TransientError(
            where.clean(f"{action}: {instance} answered HTTP {code}{said}"),
            platform=PLATFORM,
            post=post,
        )
    refused = f"post {post} was refused" if post is not None else f"{action} failed"
    return PermanentError(
        where.clean(f"{refused} by {instance} (HTTP {code}{said})"),
        platform=PLATFORM,
        post=post,
    )


def unreadable_answer(
    action: str, instance: str, code: int | None, *, post: int | None, write: bool
) -> TransientError:
    """A success whose body is not what was asked for (not JSON, not a status): for a write,
    an unclear outcome (look it up, then resume); for a read, worth a retry."""
    said = f"HTTP {code}" if code else "success"
    if write:
        return UnclearOutcome(
            f"{action}: {instance} answered {said} with a body that is not the expected JSON; "
            "the write may have been carried out, so it is looked up before any resend",
            platform=PLATFORM,
            post=post,
        )
    return TransientError(
        f"{action}: {instance} answered {said} with a body that is not the expected JSON",
        platform=PLATFORM,
        post=post,
    )


def clock_offset(response: Any) -> timedelta | None:
    """The instance's clock minus ours, from an answer's Date header and the moment it was
    received; zero when under CLOCK_NOISE (Date has whole seconds), None without a Date."""
    # Imported here: email.utils (with socket) would cost every `threadpost run` ~7 ms.
    from email.utils import parsedate_to_datetime

    received = getattr(response, "threadpost_received_at", None)
    if response is None or not isinstance(received, datetime):
        return None
    try:
        date = parsedate_to_datetime(response.headers.get("Date") or "")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    offset = date - received
    return timedelta(0) if abs(offset) < CLOCK_NOISE else offset


def rate_limit_reset(response: Any, *, now: datetime | None = None) -> tuple[datetime, str]:
    """When to try again after a 429, on our clock, and the reason in words.

    The instance's X-RateLimit-Reset is on its own clock: moved by the offset its Date
    shows. A reset that is missing, unreadable, not after the answer, or further than
    MAX_RATE_LIMIT_RESET away cannot be trusted: the answer is then RATE_LIMIT_FALLBACK from
    now (a bounded wait, or a deferral the retry policy can hold), never an exception."""
    now = now or datetime.now(UTC)
    header = (
        getattr(response, "threadpost_reset", response.headers.get("X-RateLimit-Reset"))
        if response is not None
        else None
    )
    shown = repr(header[:40]) if isinstance(header, str) else ""
    pause = f"trying again after {int(RATE_LIMIT_FALLBACK.total_seconds())} s"
    if not header:
        return now + RATE_LIMIT_FALLBACK, f"no X-RateLimit-Reset header; {pause}"
    reset = parse_reset(header)
    if reset is None:
        return now + RATE_LIMIT_FALLBACK, f"unreadable X-RateLimit-Reset {shown}; {pause}"
    offset = clock_offset(response) or timedelta(0)
    try:
        local = reset - offset
    except OverflowError:
        local = reset
    if local <= now:
        # Just past: the answer took a moment to read (a loaded machine), the window is open
        # again. Long past: the header is wrong, so it says nothing about when to retry.
        if now - local <= RECENTLY_PAST:
            return local, f"it reset at {local.isoformat(timespec='seconds')}"
        return now + RATE_LIMIT_FALLBACK, f"X-RateLimit-Reset {shown} is already past; {pause}"
    if local - now > MAX_RATE_LIMIT_RESET:
        return (
            now + RATE_LIMIT_FALLBACK,
            f"X-RateLimit-Reset {shown} is implausibly far away; {pause}",
        )
    return local, f"it resets at {local.isoformat(timespec='seconds')}"


def parse_reset(value: str | None) -> datetime | None:
    """X-RateLimit-Reset → aware UTC datetime: Mastodon's ISO-8601 (with microseconds), or
    epoch seconds (GoToSocial), or epoch milliseconds; None for anything else."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.isdigit():
            number = int(value)
            # Seconds past 10**11 would be the year 5138: that is milliseconds.
            return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
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

    The wire says so itself; for requests, judged from the standard library's exceptions at
    the root of the chain (requests and urllib3 raise theirs from them), not from urllib3's
    own classes."""
    if isinstance(cause, WireError):
        return isinstance(cause, ConnectFailed) or (isinstance(cause, TimedOut) and not cause.sent)
    import socket

    import requests

    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError):
        return any(
            isinstance(link, ConnectionRefusedError | socket.gaierror) for link in _chain(cause)
        )
    return False


def _ssl_in_args(error: BaseException) -> ssl.SSLError | None:
    """requests keeps urllib3's error (which holds the ssl one) in its args, not its cause."""
    from threadpost.tls_words import tls_error_in

    for arg in error.args:
        if isinstance(arg, BaseException):
            reason = getattr(arg, "reason", None)
            found = tls_error_in(reason if isinstance(reason, BaseException) else arg)
            if found is not None:
                return found
    return None


def _network_reason(cause: BaseException | None) -> str:
    if isinstance(cause, WireError):
        return _wire_reason(cause)
    import socket

    import requests

    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(cause, requests.exceptions.ReadTimeout):
        return "no answer in time (read timeout)"
    if isinstance(cause, requests.exceptions.SSLError):
        from threadpost.tls_words import plain_tls_reason, tls_error_in

        tls = tls_error_in(cause.__cause__ or cause.__context__) or _ssl_in_args(cause)
        return plain_tls_reason(tls) if tls is not None else "the secure (https) connection failed"
    if isinstance(cause, requests.exceptions.ConnectionError):
        if _surely_unsent(cause):
            if any(isinstance(link, socket.gaierror) for link in _chain(cause)):
                return "cannot resolve the instance's host name"
            return "cannot connect to the instance (connection refused)"
        return "the connection was lost before an answer came"
    return "network error"


def _wire_reason(cause: WireError) -> str:
    if isinstance(cause, TimedOut):
        return "no answer in time (read timeout)" if cause.sent else "the connection timed out"
    if isinstance(cause, Dropped):
        return "the connection was lost before an answer came"
    if isinstance(cause, ConnectFailed):
        if cause.reason == "no such host":
            return "cannot resolve the instance's host name"
        if cause.reason == "connection refused":
            return "cannot connect to the instance (connection refused)"
        return f"cannot connect to the instance: {cause.reason}"
    return "network error"


__all__ = [
    "LOGIN_HINT",
    "PLATFORM",
    "MastodonHttp",
    "classify_error",
    "clock_offset",
    "parse_reset",
    "rate_limit_reset",
    "unreadable_answer",
]
