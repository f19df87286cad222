"""Every Bluesky request passes through here: one XRPC transport per service.

XRPC is plain HTTP: a query is `GET /xrpc/<nsid>?params`, a procedure `POST /xrpc/<nsid>`
with a JSON (or blob) body, an error an HTTP status with a JSON `{"error", "message"}`.
`XrpcTransport` owns the wire (`threadpost.http_wire`: its timeout, the proxy policy) and
`invoke`, the one place where an answer or a failure becomes a result or one of the
`PlatformError`s of `errors.py`, with secrets (app password, tokens, session strings) kept
out of every message. The publisher (logged in) and the handle look-up of `check`
(anonymous) both use it, so timeouts, error classification and scrubbing are decided once.

The atproto SDK's client is not used: importing `atproto_client` alone costs ~0.85 s (its
generated models), more than a whole thread takes to publish, for four calls that need
nothing but JSON. Nor is httpx: its import and client cost ~50-65 ms before the first
request; even the standard library's `http.client` costs ~12-14 ms of imports, so the wire
is threadpost's own (`http_wire`).

What an answer means (the reset of a 429, the JSON of a success) is decided by the pure
functions of `answers.py`, which any other transport can call as well.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, NoReturn, Protocol
from urllib.parse import urlencode

from threadpost.errors import (
    AuthFailed,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.http_wire import Answer, ConnectFailed, Dropped, HttpWire, TimedOut
from threadpost.platforms.bluesky.answers import parse_reset, read_json_body
from threadpost.redact import register_secrets
from threadpost.values import PlatformName

PLATFORM: Final[PlatformName] = "bluesky"
LOGIN_HINT: Final = "log in again: threadpost login bluesky"
RESOLVE_HANDLE: Final = "com.atproto.identity.resolveHandle"
#: Error names that mean "this access token is no good" (refresh or log in, then retry).
TOKEN_ERRORS: Final = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_JWT_LIKE: Final = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*")
_MISSING_ERRORS: Final = frozenset({"RecordNotFound", "InvalidRequest", "NotFound"})
#: Statuses that say the request reached a server but not whether it was applied (a
#: conflict, a gateway between us and the PDS): a write is looked up before any resend.
_GATEWAY_STATUSES: Final = frozenset({409, 502})
#: The code a call runs through below threadpost's wire: an exception raised in there (and
#: not in threadpost's own code) is a failure of the call, however odd its type.
_TRANSPORT_PACKAGES: Final = frozenset({"ssl", "socket", "select", "certifi"})


class Wire(Protocol):
    """What carries the requests: `http_wire.HttpWire`, or a test's stand-in."""

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> Answer: ...

    def close(self) -> None: ...


class NotFound(Exception):
    """The record or handle asked for does not exist (raised only when `missing_ok`)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "not found")
        self.reason = reason


class TokenRejected(Exception):
    """The access token was refused: the caller refreshes (or logs in) and retries once."""


@dataclass(frozen=True)
class XrpcClient:
    """Where calls go and as whom: a base URL (the service, or the account's own PDS
    behind an entryway) and the bearer token sent with them (None: anonymous)."""

    base_url: str
    token: str | None = field(default=None, repr=False)


class XrpcTransport:
    """The HTTP side of one Bluesky service: the wire and the error funnel."""

    def __init__(
        self,
        service: str,
        *,
        timeout: float,
        transport: Wire | None = None,
        secrets: Iterable[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.service = service.rstrip("/")
        self.timeout = timeout
        self._transport = transport
        #: Reads rate-limit resets; the real time unless a test freezes it.
        self._now = clock or (lambda: datetime.now(UTC))
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)
        self._wire: Wire | None = None
        self._wire_lock = threading.Lock()

    # -- clients ---------------------------------------------------------------------------

    def new_client(self, *, base_url: str | None = None, token: str | None = None) -> XrpcClient:
        """Calls to this service (or to `base_url`, the account's own PDS), anonymous or
        with `token` as the bearer; they share the transport's connections."""
        return XrpcClient(base_url=(base_url or self.service).rstrip("/"), token=token)

    def _wire_for_requests(self) -> Wire:
        with self._wire_lock:
            if self._wire is None:
                self._wire = self._transport or HttpWire.for_server(
                    self.service, timeout=self.timeout
                )
            return self._wire

    def close(self) -> None:
        """Release the HTTP connections (idempotent; a later call opens new ones)."""
        with self._wire_lock:
            wire = self._wire
        if wire is not None:
            wire.close()

    # -- requests --------------------------------------------------------------------------

    def invoke(
        self,
        client: XrpcClient,
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
        auth_call: bool = False,
        require: tuple[str, ...] = (),
        procedure: bool = False,
    ) -> dict[str, Any]:
        """One XRPC call through `client` (a query unless `body` or `content` is given, or
        `procedure` for one without input), its failures classified; the answer's JSON
        object (lacking none of `require`).

        `write`: the call changes the repository (a failure after sending is unclear).
        `missing_ok`: "not found" raises `NotFound` instead of an error. `auth_call`: the
        call is itself a login or refresh, so a refused token is AuthFailed, not
        `TokenRejected`."""
        procedure = procedure or body is not None or content is not None
        payload = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            if body is not None
            else content
        )
        headers = {"Accept": "application/json"}
        if client.token:
            headers["Authorization"] = f"Bearer {client.token}"
        if payload is not None:
            headers["Content-Type"] = content_type or "application/json"
        url = f"{client.base_url}/xrpc/{nsid}"

        if params:
            url = f"{url}?{query_string(params)}"
        method = "POST" if procedure else "GET"

        def exchange() -> Answer:
            return self._wire_for_requests().request(
                method, url, headers=headers, body=payload if procedure else None
            )

        answer = self.guarded(exchange, what=what, post=post, write=write)
        if not 200 <= answer.status < 300:
            self._refuse(
                answer,
                what=what,
                post=post,
                write=write,
                missing_ok=missing_ok,
                auth_call=auth_call,
            )
        return read_json_body(
            answer.body, what=what, write=write, post=post, status=answer.status, require=require
        )

    def guarded(
        self,
        call: Callable[[], Any],
        *,
        what: str,
        post: int | None = None,
        write: bool = False,
    ) -> Any:
        """Run `call` (an HTTP exchange) and turn every failure to get an answer into a
        PlatformError; an exception raised by threadpost's own code surfaces as itself.

        `write`: the call changes the repository, so a failure once the request may have
        left is an `UnclearOutcome` (the planned records are read back before resending)."""
        try:
            return call()
        except TimedOut as exc:
            raise failed_call(
                f"Bluesky: {what}: no answer within {self.timeout:g} s",
                may_have_landed=write and exc.sent,
                post=post,
            ) from None
        except ConnectFailed:
            # Refused, unresolvable, a failed TLS handshake: the request never left, safe
            # to resend as clear.
            raise failed_call(
                f"Bluesky: {what}: network error", may_have_landed=False, post=post
            ) from None
        except Dropped:
            # A server that closes the connection without answering (or resets it): the
            # write may have landed (reconciled by reading the planned rkeys back).
            raise failed_call(
                f"Bluesky: {what}: the connection closed without an answer",
                may_have_landed=write,
                post=post,
            ) from None
        except Exception as exc:
            if _raised_in_transport(exc):
                # An exception of an unexpected type raised inside the HTTP library (an
                # AssertionError in a transport): a failure of this call, retried like one
                # (and looked up first for a write). Its type and place are named; its
                # text (which may quote a token) is not.
                raise failed_call(
                    f"Bluesky: {what}: the request failed unexpectedly inside the HTTP client "
                    f"({type(exc).__name__} in {_where(exc)})",
                    may_have_landed=write,
                    post=post,
                ) from None
            # Raised in threadpost's own code: a bug, which retries would only hide.
            raise

    def _refuse(
        self,
        answer: Answer,
        *,
        what: str,
        post: int | None,
        write: bool,
        missing_ok: bool,
        auth_call: bool,
    ) -> NoReturn:
        """The PlatformError (or `TokenRejected`, `NotFound`) an error answer means; each
        raised `from None`, as a failure inside `guarded` is: nothing chained to it."""
        status = answer.status
        name, detail = _error_fields(answer.body)
        if status == 429:
            reset = parse_reset(answer.headers, self._now())
            raise RateLimited(
                self._message(what, answer, "rate limited by the server") + f"; {reset.reason}",
                platform=PLATFORM,
                reset_at=reset.at,
                post=post,
            ) from None
        if status in (401, 403):
            if not auth_call and name in TOKEN_ERRORS:
                raise TokenRejected from None
            raise AuthFailed(
                self._message(what, answer, "the server refused the credentials"),
                platform=PLATFORM,
                post=post,
                hint=LOGIN_HINT,
            ) from None
        if status == 400:
            if name in TOKEN_ERRORS:
                if not auth_call:
                    raise TokenRejected from None
                raise AuthFailed(
                    self._message(what, answer, "the session was refused"),
                    platform=PLATFORM,
                    hint=LOGIN_HINT,
                ) from None
            if missing_ok and name in _MISSING_ERRORS:
                raise NotFound(detail or name) from None
            raise PermanentError(
                self._message(what, answer, "the server refused the request"),
                platform=PLATFORM,
                post=post,
            ) from None
        if status == 413:
            raise PermanentError(
                self._message(what, answer, "the request is too large"),
                platform=PLATFORM,
                post=post,
            ) from None
        if missing_ok and status == 404:
            raise NotFound(detail or name) from None
        # 5xx, a gateway's 502, a 409, anything else: the request reached a server, so a
        # write may have been applied; retried (a write looked up first).
        fallback = "network error" if status in _GATEWAY_STATUSES else "server error"
        raise failed_call(
            self._message(what, answer, fallback), may_have_landed=write, post=post
        ) from None

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

    def _message(self, what: str, answer: Answer, fallback: str) -> str:
        name, detail = _error_fields(answer.body)
        parts = [str(part) for part in (name, detail) if part]
        reason = ": ".join(parts) if parts else fallback
        return self.scrub(f"Bluesky: {what}: HTTP {answer.status} {reason}")


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

        from concurrent.futures import ThreadPoolExecutor  # with logging: ~3 ms, when needed

        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wanted)))) as pool:
            found = list(pool.map(one, wanted))
    finally:
        transport.close()
    return {result.handle: result for result in found}


# -- helpers ---------------------------------------------------------------------------------


def query_string(params: Mapping[str, Any]) -> str:
    """`params` as a URL query, the way XRPC reads one: booleans as `true`/`false`, a list
    as the parameter repeated, None left out."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, text(item)) for item in values if item is not None)
    return urlencode(pairs)


def failed_call(message: str, *, may_have_landed: bool, post: int | None) -> TransientError:
    """A retryable failure; `UnclearOutcome` when a write may have been applied anyway, so
    the orchestration reads the planned records back before sending again."""
    if may_have_landed:
        return UnclearOutcome(
            f"{message} (the write may have been applied)", platform=PLATFORM, post=post
        )
    return TransientError(message, platform=PLATFORM, post=post)


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """The `error` and `message` of an XRPC error answer's JSON body (whatever content
    type the server gave it); (None, None) for a body that is not such an object."""
    try:
        decoded = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return (None, None)
    if not isinstance(decoded, dict):
        return (None, None)
    name, detail = decoded.get("error"), decoded.get("message")
    return (str(name) if name else None, str(detail) if detail else None)


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
