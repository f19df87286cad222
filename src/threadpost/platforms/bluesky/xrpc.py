"""Every Bluesky request passes through here: one XRPC transport per service.

`XrpcTransport` owns the atproto `Client` (the SDK's HTTP session, its timeout, the proxy
policy) and `guarded`, the one place where SDK and httpx failures become the
`PlatformError`s of `errors.py`, with secrets (app password, tokens, session strings) kept
out of every message. The publisher (logged in) and the handle look-up of `check`
(anonymous) both use it, so timeouts, error classification and scrubbing are decided once.

Only public SDK API is used: `Client(base_url, request=Request(...))`, `invoke_query`,
`invoke_procedure`, `login`, `on_session_change`, the `com.atproto.*` namespaces, and
`Request.close`, and httpx's public `event_hooks` (to know whether an answer arrived and
with which status). atproto is imported lazily (it costs ~0.65 s).

What an answer means (the reset of a 429, the JSON of a success) is decided by the pure
functions of `answers.py`, which any other transport can call as well.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from threadpost.errors import (
    AuthFailed,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.platforms.bluesky.answers import parse_reset, read_json_body, unreadable_answer
from threadpost.redact import register_secrets
from threadpost.values import PlatformName

if TYPE_CHECKING:
    import httpx

PLATFORM: Final[PlatformName] = "bluesky"
LOGIN_HINT: Final = "log in again: threadpost login bluesky"
RESOLVE_HANDLE: Final = "com.atproto.identity.resolveHandle"
#: Error names that mean "this access token is no good" (refresh or log in, then retry).
TOKEN_ERRORS: Final = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_JWT_LIKE: Final = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*")
_MISSING_ERRORS: Final = frozenset({"RecordNotFound", "InvalidRequest", "NotFound"})
#: The third-party code a call runs through: an exception raised in there (and not in
#: threadpost's own code) is a failure of the call, however odd its type.
_TRANSPORT_PACKAGES: Final = frozenset(
    {
        "atproto",
        "atproto_client",
        "atproto_core",
        "httpx",
        "httpcore",
        "h11",
        "pydantic",
        "pydantic_core",
        "libipld",
        "anyio",
    }
)


class NotFound(Exception):
    """The record or handle asked for does not exist (raised only when `missing_ok`)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "not found")
        self.reason = reason


class TokenRejected(Exception):
    """The access token was refused: the caller refreshes (or logs in) and retries once."""


class XrpcTransport:
    """The HTTP side of one Bluesky service: the SDK client and the error funnel."""

    def __init__(
        self,
        service: str,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service.rstrip("/")
        self.timeout = timeout
        self._transport = transport
        #: Reads rate-limit resets; the real time unless a test freezes it.
        self._now = clock or (lambda: datetime.now(UTC))
        #: The status of the last answer this thread received (`_AnswerLog`).
        self._answers = _AnswerLog()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)
        self._request: Any = None

    # -- clients ---------------------------------------------------------------------------

    def new_client(
        self,
        on_session_change: Callable[[Any, Any], None] | None = None,
        *,
        base_url: str | None = None,
    ) -> Any:
        """A fresh atproto `Client` on this service (or on `base_url`, the account's own PDS
        behind an entryway), sharing the transport's HTTP session."""
        from atproto_client import Client

        client = Client(base_url=base_url or self.service, request=self._shared_request())
        if on_session_change is not None:
            client.on_session_change(on_session_change)
        return client

    def _shared_request(self) -> Any:
        if self._request is None:
            from atproto_client.request import Request

            kwargs: dict[str, Any] = {
                "timeout": self.timeout,
                "event_hooks": {"response": [self._answers.record]},
            }
            if self._transport is not None:
                kwargs["transport"] = self._transport
            else:
                # Never send tokens through a proxy picked up from the environment for a
                # loopback PDS (tests, local development).
                kwargs["trust_env"] = not is_loopback(self.service)
            self._request = Request(**kwargs)
        return self._request

    def close(self) -> None:
        """Release the HTTP connections (idempotent; a later call opens new ones)."""
        request, self._request = self._request, None
        if request is not None:
            request.close()

    # -- requests --------------------------------------------------------------------------

    def invoke(
        self,
        client: Any,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        what: str,
        post: int | None = None,
        write: bool = False,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        """One XRPC call through `client` (a query unless `body` or `content` is given),
        its failures classified; the answer's JSON object ({} when it has none)."""
        url_nsid = f"{nsid}?{urlencode(params, doseq=True)}" if params else nsid
        procedure = body is not None or content is not None
        payload = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            if body is not None
            else content
        )

        def call() -> Any:
            if procedure:
                return client.invoke_procedure(
                    url_nsid,
                    content=payload,
                    headers={"Content-Type": content_type or "application/json"},
                )
            return client.invoke_query(url_nsid)

        response = self.guarded(call, what=what, post=post, write=write, missing_ok=missing_ok)
        return read_json_body(
            getattr(response, "content", None),
            what=what,
            write=write,
            post=post,
            status=getattr(response, "status_code", None),
        )

    def guarded(
        self,
        call: Callable[[], Any],
        *,
        what: str,
        post: int | None = None,
        write: bool = False,
        missing_ok: bool = False,
        auth_call: bool = False,
    ) -> Any:
        """Run `call` and turn every SDK/transport failure into a PlatformError.

        `write`: the call changes the repository (a failure after sending is unclear).
        `missing_ok`: "not found" raises `NotFound` instead of an error. `auth_call`: the
        call is itself a login or refresh, so a refused token is AuthFailed, not
        `TokenRejected`."""
        from atproto_client import exceptions as sdk

        self._answers.forget()
        try:
            return call()
        except sdk.RateLimitExceededError as exc:
            # Never `exc.reset_at`: it raises on a reset in milliseconds or far away.
            reset = parse_reset(getattr(exc.response, "headers", None), self._now())
            raise RateLimited(
                self._message(what, exc, "rate limited by the server") + f"; {reset.reason}",
                platform=PLATFORM,
                reset_at=reset.at,
                post=post,
            ) from None
        except sdk.InvokeTimeoutError:
            raise failed_call(
                f"Bluesky: {what}: no answer within {self.timeout:g} s",
                may_have_landed=write,
                post=post,
            ) from None
        except sdk.UnauthorizedError as exc:
            if not auth_call and error_name(exc) in TOKEN_ERRORS:
                raise TokenRejected from None
            raise AuthFailed(
                self._message(what, exc, "the server refused the credentials"),
                platform=PLATFORM,
                post=post,
                hint=LOGIN_HINT,
            ) from None
        except sdk.BadRequestError as exc:
            name = error_name(exc)
            if name in TOKEN_ERRORS:
                if not auth_call:
                    raise TokenRejected from None
                raise AuthFailed(
                    self._message(what, exc, "the session was refused"),
                    platform=PLATFORM,
                    hint=LOGIN_HINT,
                ) from None
            if missing_ok and name in _MISSING_ERRORS:
                raise NotFound(_server_detail(exc)) from None
            raise PermanentError(
                self._message(what, exc, "the server refused the request"),
                platform=PLATFORM,
                post=post,
            ) from None
        except sdk.NetworkError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == 413:
                raise PermanentError(
                    self._message(what, exc, "the request is too large"),
                    platform=PLATFORM,
                    post=post,
                ) from None
            sent = status is not None or not _connect_failed(exc)
            raise failed_call(
                self._message(what, exc, "network error"), may_have_landed=write and sent, post=post
            ) from None
        except sdk.RequestException as exc:  # 5xx and anything unexpected with a response
            if missing_ok and exc.response is not None and exc.response.status_code == 404:
                raise NotFound(_server_detail(exc)) from None
            raise failed_call(
                self._message(what, exc, "server error"), may_have_landed=write, post=post
            ) from None
        except sdk.LoginRequiredError:
            raise AuthFailed(
                f"Bluesky: {what}: not logged in", platform=PLATFORM, hint=LOGIN_HINT
            ) from None
        except Exception as exc:
            # Anything else from the SDK (a malformed answer, a session string it cannot
            # parse): never let its text (which may hold a token) through.
            import httpx
            from atproto_core.exceptions import AtProtocolError  # type: ignore[import-untyped]

            status = self._answers.status()
            if status is not None and 200 <= status < 300 and _raised_in_transport(exc):
                # A success the SDK could not read (not JSON, not the model it expects):
                # ModelError, pydantic's ValidationError, a JSON ValueError alike.
                raise unreadable_answer(
                    what, status, write=write, post=post, detail=type(exc).__name__
                ) from None
            if isinstance(exc, httpx.TransportError):
                # The SDK converts only timeouts and httpx.NetworkError; a server that
                # closes the connection without answering raises RemoteProtocolError
                # ("Server disconnected without sending a response"), and the write may
                # have landed (reconciled by reading the planned rkeys back).
                raise failed_call(
                    f"Bluesky: {what}: the connection closed without an answer",
                    may_have_landed=write,
                    post=post,
                ) from None
            if isinstance(exc, AtProtocolError):
                raise TransientError(
                    f"Bluesky: {what}: {type(exc).__name__}", platform=PLATFORM, post=post
                ) from None
            if _raised_in_transport(exc):
                # An exception of an unexpected type raised inside the SDK or the HTTP
                # library (an AssertionError, a pydantic error): a failure of this call,
                # driven by what the server sent, so retried like one (and looked up first
                # for a write). Its type and place are named; its text (which may quote a
                # token) is not.
                raise failed_call(
                    f"Bluesky: {what}: the request failed unexpectedly inside the atproto SDK "
                    f"or httpx ({type(exc).__name__} in {_where(exc)})",
                    may_have_landed=write,
                    post=post,
                ) from None
            # Raised in threadpost's own code: a bug, which retries would only hide.
            raise

    # -- secrets ---------------------------------------------------------------------------

    def add_secret(self, secret: str) -> None:
        """Never let `secret` (nor, for a session string, its tokens) into a message, this
        transport's or any output of the process (`threadpost.redact`)."""
        if not secret:
            return
        tokens = {secret} | {part for part in secret.split(":::") if part.count(".") == 2}
        self._secrets.update(tokens)
        register_secrets(*tokens)

    def scrub(self, text: str) -> str:
        """`text` with every known secret and anything shaped like a JWT redacted."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        return _JWT_LIKE.sub("[redacted]", text)

    def _message(self, what: str, exc: Any, fallback: str) -> str:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        name, detail = _error_fields(exc)
        parts = [str(part) for part in (name, detail) if part]
        reason = ": ".join(parts) if parts else fallback
        prefix = f"HTTP {status} " if status is not None else ""
        return self.scrub(f"Bluesky: {what}: {prefix}{reason}")


# -- handles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandleResult:
    """Whether a handle resolves to a DID. `did` None + `reason`: it does not, or unknown."""

    handle: str
    did: str | None
    #: True when the service said the handle does not exist; False when it could not be asked.
    missing: bool = False
    reason: str | None = None


#: One XRPC query that may miss: (nsid, params, what) → the answer, or `NotFound`.
Query = Callable[[str, Mapping[str, Any], str], dict[str, Any]]


def resolve_handle(query: Query, handle: str) -> HandleResult:
    """handle → DID via com.atproto.identity.resolveHandle, asked through `query`.

    A handle the service does not know, or refuses as malformed (400), is `missing`. When
    the service cannot be asked, the PlatformError is raised (a publisher retries it)."""
    try:
        got = query(RESOLVE_HANDLE, {"handle": handle}, f"resolving @{handle}")
    except NotFound as exc:
        return HandleResult(handle, None, missing=True, reason=exc.reason)
    except PermanentError as exc:
        if isinstance(exc, AuthFailed):
            raise
        return HandleResult(handle, None, missing=True, reason=exc.message)
    did = got.get("did")
    if isinstance(did, str) and did:
        return HandleResult(handle, did)
    return HandleResult(handle, None, missing=True, reason="the answer names no DID")


def resolve_handles(
    handles: Iterable[str], service: str, *, timeout: float = 10.0, concurrency: int = 8
) -> dict[str, HandleResult]:
    """Ask `service` (anonymously) for each distinct handle's DID, concurrently."""
    wanted = list(dict.fromkeys(handles))
    if not wanted:
        return {}
    transport = XrpcTransport(service, timeout=timeout)
    try:
        client = transport.new_client()

        def query(nsid: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
            return transport.invoke(client, nsid, params=params, what=what, missing_ok=True)

        def one(handle: str) -> HandleResult:
            try:
                return resolve_handle(query, handle)
            except PlatformError as exc:
                return HandleResult(handle, None, reason=exc.message)

        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wanted)))) as pool:
            found = list(pool.map(one, wanted))
    finally:
        transport.close()
    return {result.handle: result for result in found}


# -- helpers ---------------------------------------------------------------------------------


def failed_call(message: str, *, may_have_landed: bool, post: int | None) -> TransientError:
    """A retryable failure; `UnclearOutcome` when a write may have been applied anyway, so
    the orchestration reads the planned records back before sending again."""
    if may_have_landed:
        return UnclearOutcome(
            f"{message} (the write may have been applied)", platform=PLATFORM, post=post
        )
    return TransientError(message, platform=PLATFORM, post=post)


def error_name(exc: Any) -> str | None:
    """The XRPC error name of an SDK exception's answer ("ExpiredToken", ...), if any."""
    return _error_fields(exc)[0]


def _server_detail(exc: Any) -> str | None:
    name, detail = _error_fields(exc)
    return detail or name


def _error_fields(exc: Any) -> tuple[str | None, str | None]:
    """The `error` and `message` of an XRPC error answer: the SDK's parsed model, or the
    raw JSON body when the server sent it without a JSON content type."""
    content = getattr(getattr(exc, "response", None), "content", None)
    if isinstance(content, bytes | str):
        fields: Mapping[str, Any] = _json_object(content)
        name, detail = fields.get("error"), fields.get("message")
    else:
        name, detail = getattr(content, "error", None), getattr(content, "message", None)
    return (str(name) if name else None, str(detail) if detail else None)


def _json_object(content: Any) -> dict[str, Any]:
    """An XRPC answer's JSON object: the SDK's dict, or the body decoded; {} otherwise."""
    if isinstance(content, Mapping):
        return dict(content)
    if isinstance(content, bytes | str):
        try:
            decoded = json.loads(content)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


class _AnswerLog:
    """The status of the last HTTP answer received, per thread (an httpx response hook):
    tells a success the SDK failed to read apart from a call that got no answer."""

    def __init__(self) -> None:
        self._local = threading.local()

    def forget(self) -> None:
        """Start of a call: nothing received yet."""
        self._local.status = None

    def record(self, response: httpx.Response) -> None:
        """httpx response hook (the headers have arrived, the body not yet read)."""
        self._local.status = response.status_code

    def status(self) -> int | None:
        """The status of the last answer since `forget`, or None."""
        status: int | None = getattr(self._local, "status", None)
        return status


def _frames(exc: BaseException) -> list[TracebackType]:
    frames: list[TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    return frames


def _module_of(tb: TracebackType) -> str:
    return str(tb.tb_frame.f_globals.get("__name__", ""))


def _raised_in_transport(exc: BaseException) -> bool:
    """True when `exc` was raised inside the SDK or the HTTP stack, not in threadpost's own
    code (a session callback the SDK called, say): of the frames that belong to either, the
    innermost decides (standard-library frames, as `tempfile` under a callback, do not)."""
    owner = None
    for tb in _frames(exc):
        package = _module_of(tb).split(".")[0]
        if package == "threadpost":
            owner = "threadpost"
        elif package in _TRANSPORT_PACKAGES:
            owner = "transport"
    return owner == "transport"


def _where(exc: BaseException) -> str:
    """module:line of the innermost frame of `exc` (no text of the exception itself)."""
    frames = _frames(exc)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{_module_of(last)}:{last.tb_lineno}"


def _connect_failed(exc: BaseException) -> bool:
    """True when the request never left (connection refused, DNS): safe to resend."""
    import httpx

    cause = exc.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout))


def is_loopback(url: str) -> bool:
    """True for a localhost / 127.x / ::1 service address."""
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
