"""Every Bluesky request passes through here: one XRPC transport per service.

`XrpcTransport` owns the HTTP client (httpx: its timeout, the proxy policy) and `guarded`,
the one place where failures become the `PlatformError`s of `errors.py`, with secrets (app
password, tokens, session strings) kept out of every message. The publisher (logged in) and
the handle look-up of `check` (anonymous) both use it, so timeouts, error classification and
scrubbing are decided once.

Calls are plain XRPC over HTTP (`call`): a GET for a query, a POST for a procedure, the
answer's JSON. The atproto SDK's client is not used: importing it costs ~0.9 s, more than a
whole thread's applyWrites round trip; the light parts of the atproto distribution (CIDs,
DAG-CBOR in `records.py`) are. `guarded` still classifies the SDK's exceptions, for a caller
that makes an SDK call through it, without importing the SDK when none was raised.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

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

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

PLATFORM: Final[PlatformName] = "bluesky"
LOGIN_HINT: Final = "log in again: threadpost login bluesky"
RESOLVE_HANDLE: Final = "com.atproto.identity.resolveHandle"
#: Error names that mean "this access token is no good" (refresh or log in, then retry).
TOKEN_ERRORS: Final = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_JWT_LIKE: Final = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*")
_MISSING_ERRORS: Final = frozenset({"RecordNotFound", "InvalidRequest", "NotFound"})


class NotFound(Exception):
    """The record or handle asked for does not exist (raised only when `missing_ok`)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "not found")
        self.reason = reason


class TokenRejected(Exception):
    """The access token was refused: the caller refreshes (or logs in) and retries once."""


class XrpcStatusError(Exception):
    """An XRPC answer that is not a success (classified by `XrpcTransport.guarded`)."""

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.content = content


class XrpcTransport:
    """The HTTP side of one Bluesky service: the HTTP client and the error funnel."""

    def __init__(
        self,
        service: str,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.service = service.rstrip("/")
        self.timeout = timeout
        self._transport = transport
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)
        self._http: httpx.Client | None = None

    # -- the HTTP client -------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._http is None:
            import httpx

            kwargs: dict[str, Any] = {
                "timeout": self.timeout,
                "transport": self._transport or _tls_when_needed(),
            }
            if self._transport is None:
                # Never send tokens through a proxy picked up from the environment for a
                # loopback PDS (tests, local development).
                kwargs["trust_env"] = not is_loopback(self.service)
            self._http = httpx.Client(**kwargs)
        return self._http

    def close(self) -> None:
        """Release the HTTP connections (idempotent; a later call opens new ones)."""
        client, self._http = self._http, None
        if client is not None:
            client.close()

    # -- requests --------------------------------------------------------------------------

    def call(
        self,
        nsid: str,
        *,
        base_url: str | None = None,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        procedure: bool = False,
        what: str,
        post: int | None = None,
        write: bool = False,
        missing_ok: bool = False,
        auth_call: bool = False,
    ) -> dict[str, Any]:
        """One XRPC call on `base_url` (default: the service) with `token` as its bearer: a
        procedure (POST) when `body` (JSON) or `content` is given or `procedure` is set, else
        a query (GET). Its failures classified (see `guarded`); the answer's JSON object ({}
        when it has none)."""
        url = f"{xrpc_root(base_url or self.service)}/{nsid}"
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = content
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if payload is not None:
            headers["Content-Type"] = content_type or "application/json"

        def send() -> dict[str, Any]:
            client = self._client()
            if payload is not None or procedure:
                response = client.post(url, params=params, content=payload, headers=headers)
            else:
                response = client.get(url, params=params, headers=headers)
            if not response.is_success:
                raise XrpcStatusError(response.status_code, response.headers, response.content)
            return _json_object(response.content)

        result: dict[str, Any] = self.guarded(
            send, what=what, post=post, write=write, missing_ok=missing_ok, auth_call=auth_call
        )
        return result

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
        """Run `call` and turn every HTTP, transport (and SDK) failure into a PlatformError.

        `write`: the call changes the repository (a failure after sending is unclear).
        `missing_ok`: "not found" raises `NotFound` instead of an error. `auth_call`: the
        call is itself a login or refresh, so a refused token is AuthFailed, not
        `TokenRejected`."""
        try:
            return call()
        except XrpcStatusError as exc:
            name, detail = _body_fields(exc.content)
            answer = _Answer(exc.status, exc.headers, name, detail)
            raise self._classified(answer, what, post, write, missing_ok, auth_call) from None
        except Exception as exc:
            # The SDK's exceptions only exist once a caller imported it: never import it here.
            sdk_module = sys.modules.get("atproto_client.exceptions")
            if sdk_module is not None and isinstance(exc, sdk_module.AtProtocolError):
                raise self._sdk_error(
                    exc, sdk_module, what, post, write, missing_ok, auth_call
                ) from None
            if "httpx" in sys.modules:
                import httpx

                if isinstance(exc, httpx.TimeoutException):
                    raise failed_call(
                        f"Bluesky: {what}: no answer within {self.timeout:g} s",
                        may_have_landed=write,
                        post=post,
                    ) from None
                if isinstance(exc, httpx.NetworkError):
                    # Refused or unresolved: the request never left, so it is safe to resend.
                    sent = not isinstance(exc, httpx.ConnectError)
                    raise failed_call(
                        f"Bluesky: {what}: network error",
                        may_have_landed=write and sent,
                        post=post,
                    ) from None
                if isinstance(exc, httpx.TransportError):
                    # A server that closes the connection without answering raises
                    # RemoteProtocolError ("Server disconnected without sending a
                    # response"): the write may have landed (reconciled by reading the
                    # planned rkeys back).
                    raise failed_call(
                        f"Bluesky: {what}: the connection closed without an answer",
                        may_have_landed=write,
                        post=post,
                    ) from None
            raise

    def _classified(
        self,
        answer: _Answer,
        what: str,
        post: int | None,
        write: bool,
        missing_ok: bool,
        auth_call: bool,
    ) -> Exception:
        """The error an unsuccessful answer means (the SDK's classes, status by status)."""
        status = answer.kind if answer.kind is not None else answer.status
        name = answer.name
        if status == 429:
            return RateLimited(
                self._message(what, answer, "rate limited by the server"),
                platform=PLATFORM,
                reset_at=answer.reset_at(),
                post=post,
            )
        if status in (401, 403):
            if not auth_call and name in TOKEN_ERRORS:
                return TokenRejected()
            return AuthFailed(
                self._message(what, answer, "the server refused the credentials"),
                platform=PLATFORM,
                post=post,
                hint=LOGIN_HINT,
            )
        if status == 400:
            if name in TOKEN_ERRORS:
                if not auth_call:
                    return TokenRejected()
                return AuthFailed(
                    self._message(what, answer, "the session was refused"),
                    platform=PLATFORM,
                    hint=LOGIN_HINT,
                )
            if missing_ok and name in _MISSING_ERRORS:
                return NotFound(answer.detail or name)
            return PermanentError(
                self._message(what, answer, "the server refused the request"),
                platform=PLATFORM,
                post=post,
            )
        if status == 413:
            return PermanentError(
                self._message(what, answer, "the request is too large"),
                platform=PLATFORM,
                post=post,
            )
        if status in (409, 502):
            return failed_call(
                self._message(what, answer, "network error"), may_have_landed=write, post=post
            )
        # 5xx and anything unexpected with an answer.
        if missing_ok and status == 404:
            return NotFound(answer.detail or name)
        return failed_call(
            self._message(what, answer, "server error"), may_have_landed=write, post=post
        )

    def _sdk_error(
        self,
        exc: Exception,
        sdk: Any,
        what: str,
        post: int | None,
        write: bool,
        missing_ok: bool,
        auth_call: bool,
    ) -> Exception:
        """An SDK exception (raised by an SDK call run through `guarded`) as a PlatformError."""
        if isinstance(exc, sdk.InvokeTimeoutError):
            return failed_call(
                f"Bluesky: {what}: no answer within {self.timeout:g} s",
                may_have_landed=write,
                post=post,
            )
        if isinstance(exc, sdk.LoginRequiredError):
            return AuthFailed(f"Bluesky: {what}: not logged in", platform=PLATFORM, hint=LOGIN_HINT)
        response = getattr(exc, "response", None)
        if isinstance(exc, sdk.NetworkError) and response is None:
            sent = not _connect_failed(exc)
            return failed_call(
                self._message(what, _Answer(None, {}, None, None), "network error"),
                may_have_landed=write and sent,
                post=post,
            )
        if isinstance(exc, sdk.RequestErrorBase):
            name, detail = _error_fields(exc)
            headers = getattr(response, "headers", None) or {}
            status = int(response.status_code) if response is not None else None
            # Classified as the SDK's class says (it chose it from the status).
            if isinstance(exc, sdk.RateLimitExceededError):
                kind = 429
            elif isinstance(exc, sdk.UnauthorizedError):
                kind = 401
            elif isinstance(exc, sdk.BadRequestError):
                kind = 400
            elif isinstance(exc, sdk.NetworkError):
                kind = 413 if status == 413 else 502
            else:
                kind = status if status is not None else 500
            answer = _Answer(status, headers, name, detail, kind=kind)
            return self._classified(answer, what, post, write, missing_ok, auth_call)
        # Anything else from the SDK (a malformed answer, a session string it cannot parse):
        # never let its text (which may hold a token) through.
        return TransientError(
            f"Bluesky: {what}: {type(exc).__name__}", platform=PLATFORM, post=post
        )

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

    def _message(self, what: str, answer: _Answer, fallback: str) -> str:
        parts = [str(part) for part in (answer.name, answer.detail) if part]
        reason = ": ".join(parts) if parts else fallback
        prefix = f"HTTP {answer.status} " if answer.status is not None else ""
        return self.scrub(f"Bluesky: {what}: {prefix}{reason}")


@dataclass(frozen=True)
class _Answer:
    """What an unsuccessful answer said: its status, headers and XRPC error fields."""

    status: int | None
    headers: Mapping[str, str]
    name: str | None
    detail: str | None
    #: The status to classify by, when not `status` (an SDK exception's class says it).
    kind: int | None = None

    def reset_at(self) -> datetime | None:
        """`RateLimit-Reset` (epoch seconds) as a UTC time, if the answer has one."""
        from datetime import UTC, datetime

        value = _header(self.headers, "ratelimit-reset")
        try:
            return datetime.fromtimestamp(int(value), UTC) if value is not None else None
        except (ValueError, OverflowError, OSError):
            return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = {str(key).lower(): item for key, item in headers.items()}
        value = lowered.get(name)
    return None if value is None else str(value)


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

        def query(nsid: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
            return transport.call(nsid, params=params, what=what, missing_ok=True)

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


def xrpc_root(base_url: str) -> str:
    """`base_url`'s XRPC root: `https://host/xrpc` (the SDK saved PDS endpoints either way)."""
    root = base_url.rstrip("/")
    return root if root.endswith("/xrpc") else f"{root}/xrpc"


def _body_fields(content: bytes) -> tuple[str | None, str | None]:
    """The `error` and `message` of an XRPC error body, if it is JSON."""
    fields = _json_object(content)
    name, detail = fields.get("error"), fields.get("message")
    return (str(name) if name else None, str(detail) if detail else None)


def _error_fields(exc: Any) -> tuple[str | None, str | None]:
    """The `error` and `message` of an SDK exception's answer: the SDK's parsed model, or the
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


def _connect_failed(exc: BaseException) -> bool:
    """True when the request never left (connection refused, DNS): safe to resend."""
    import httpx

    cause = exc.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout))


def _tls_when_needed() -> httpx.BaseTransport:
    """A transport that sets TLS up (loading the CA bundle: ~0.1-0.2 s) only for the first
    https:// request: a PDS on http://localhost (tests, development, the benchmarks) never
    pays for it. https:// is verified as httpx always does."""
    import httpx

    class TlsWhenNeeded(httpx.BaseTransport):
        def __init__(self) -> None:
            # Used for http:// only, so no certificate is ever checked with it: verify=False
            # just skips loading the CA bundle.
            self._plain = httpx.HTTPTransport(verify=False)
            self._tls: httpx.HTTPTransport | None = None
            self._lock = threading.Lock()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.scheme != "https":
                return self._plain.handle_request(request)
            with self._lock:
                if self._tls is None:
                    self._tls = httpx.HTTPTransport()
                tls = self._tls
            return tls.handle_request(request)

        def close(self) -> None:
            self._plain.close()
            if self._tls is not None:
                self._tls.close()

    return TlsWhenNeeded()


def is_loopback(url: str) -> bool:
    """True for a localhost / 127.x / ::1 service address."""
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
