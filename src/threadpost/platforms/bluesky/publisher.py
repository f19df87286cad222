"""The Bluesky adapter: a whole thread in one atomic `com.atproto.repo.applyWrites`.

Every post gets a client-chosen TID rkey and a frozen createdAt (`post_keys`, stored by the
ledger before the first attempt), so a retry sends byte-identical records with the same
CIDs; each reply's root/parent strong refs use CIDs computed here, and every CID the server
returns is compared with the computed one. After an unclear failure `find_published`
reads the planned rkeys back: never a duplicate, never a gap.

Every XRPC call goes through `_xrpc`, the one place where SDK errors become the
`PlatformError`s of `base.py` and where secrets are kept out of messages. The session is
reused from the state directory (`bluesky_session.py`); createSession is called only when
there is no usable session. atproto is imported lazily (it costs ~0.65 s).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from threadpost.errors import (
    AuthFailed,
    ConfigError,
    LandedWithDoubts,
    PermanentError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.platforms.base import ConfirmPost
from threadpost.platforms.bluesky.records import (
    MAX_WRITES_PER_CALL,
    POST_COLLECTION,
    TID_CLOCK,
    LinkCardData,
    UploadedImage,
    at_uri,
    card_link,
    created_at_sequence,
    draft_records,
    external_embed,
    images_embed,
    is_tid,
    mention_handles,
    post_record,
    record_cid,
    strong_ref,
    web_url,
)
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.bluesky.session import SavedSession, load_session, save_session
from threadpost.redact import register_secrets
from threadpost.values import PlatformLimits, PlatformName, PostKey, PostRef, Problem

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from threadpost.config import Settings
    from threadpost.linkcard import LinkCard, LinkCardError
    from threadpost.plan import PlannedPost, Thread

__all__ = ["BlueskyPublisher", "CidMismatch", "LoginResult", "draft_records"]

PLATFORM: Final[PlatformName] = "bluesky"
LOGIN_HINT: Final = "log in again: threadpost login bluesky"
#: applyWrites accepts at most 1 MB of JSON; stay clear of it.
MAX_WRITE_JSON_BYTES: Final = 900_000
#: Refresh the access token when it has less than this left (the SDK uses the same margin).
REFRESH_MARGIN: Final = timedelta(minutes=15)
_TOKEN_ERRORS: Final = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_JWT_LIKE: Final = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*")

Clock = Callable[[], datetime]
LinkCardFetcher = Callable[[str], "LinkCard"]


class CidMismatch(LandedWithDoubts):
    """The server stored a record whose CID differs from the one computed here (raised after
    the write's posts were confirmed with the server's CIDs: they are published)."""


@dataclass(frozen=True)
class LoginResult:
    """What `threadpost login bluesky` reports (never the secret)."""

    handle: str
    did: str
    service: str
    session_path: Path


class _NotFound(Exception):
    """Internal: the record or handle asked for does not exist."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BlueskyPublisher:
    """One Bluesky account (settings.bluesky.service + handle), logged in on first use."""

    platform: PlatformName = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = _utc_now,
        link_card_fetcher: LinkCardFetcher | None = None,
        on_warning: Callable[[Problem], None] | None = None,
    ) -> None:
        bluesky = settings.bluesky
        if not bluesky.handle:
            raise ConfigError(
                "no Bluesky handle configured",
                hint="set [bluesky] handle in the config file or THREADPOST_BLUESKY_HANDLE",
            )
        self._service = bluesky.service.rstrip("/")
        self._handle = bluesky.handle.removeprefix("@")
        self._password = bluesky.app_password
        self._state_dir = settings.state_dir
        self._link_cards = bluesky.link_cards
        self._timeout = timeout
        self._transport = transport
        self._clock = clock
        self._fetch_card = link_card_fetcher
        self._on_warning = on_warning
        self._client: Any = None
        self._session_did: str | None = None
        self._session_handle: str | None = None
        self._secrets: set[str] = set()
        if self._password:
            self._secrets.add(self._password)
        self._lock = threading.RLock()
        #: Non-fatal findings of the last calls (mentions left as text, cards not made).
        self.warnings: list[Problem] = []

    def __repr__(self) -> str:
        return f"<BlueskyPublisher {self._handle} on {self._service}>"

    # -- the Publisher protocol ------------------------------------------------------------

    def account_id(self) -> str:
        """The account's DID (from the saved session, or a login)."""
        self._ensure_client()
        assert self._session_did is not None
        return self._session_did

    def limits(self) -> PlatformLimits:
        """Bluesky's limits are the lexicon's: the same for every account."""
        return BLUESKY_LIMITS

    def post_keys(self, thread_id: str, thread: Thread) -> list[PostKey]:
        """A fresh TID rkey and a createdAt 1 ms apart per post, frozen for every retry."""
        count = len(thread.posts)
        tids = TID_CLOCK.next_tids(count)
        created = created_at_sequence(self._clock(), count)
        return [
            PostKey(index=post.index, key=tid, created_at=created_at)
            for post, tid, created_at in zip(thread.posts, tids, created, strict=True)
        ]

    def send(
        self,
        thread: Thread,
        keys: Sequence[PostKey],
        *,
        start: int,
        root: PostRef | None,
        parent: PostRef | None,
        confirm: ConfirmPost,
    ) -> None:
        """Write posts `start`..end in applyWrites calls of ≤ 200 (each atomic), confirming
        each post once its call has committed and its CID checked."""
        total = len(thread.posts)
        if not 1 <= start <= total:
            raise ValueError(f"start {start} outside 1..{total}")
        by_index = {key.index: key for key in keys}
        missing = [post.index for post in thread.posts if post.index not in by_index]
        if missing:
            raise ValueError(f"no key for post {missing[0]}")
        for post in thread.posts[start - 1 :]:
            key = by_index[post.index]
            if not is_tid(key.key) or not key.created_at:
                raise PermanentError(
                    f"post {post.index}: the stored key {key.key!r} is not a Bluesky record key",
                    platform=PLATFORM,
                    post=post.index,
                )
        if start > 1 and (root is None or parent is None):
            raise PermanentError(
                f"resuming at post {start} needs the references of the first and previous posts",
                platform=PLATFORM,
                post=start,
            )
        did = self.account_id()
        pending = list(thread.posts[start - 1 :])
        dids = self.resolve_handles(mention_handles(thread, start))
        cards = self._fetch_cards(thread, pending)
        embeds = {post.index: self._embed(post, cards.get(post.index)) for post in pending}

        root_ref = strong_ref(root.remote_id, root.cid or "") if root is not None else None
        parent_ref = strong_ref(parent.remote_id, parent.cid or "") if parent is not None else None
        planned: list[tuple[PlannedPost, str, dict[str, Any], str]] = []
        for post in pending:
            key = by_index[post.index]
            assert key.created_at is not None
            reply = (root_ref, parent_ref) if root_ref and parent_ref else None
            record, dropped = post_record(
                post,
                created_at=key.created_at,
                lang=thread.lang,
                mention_dids=dids,
                reply=reply,
                embed=embeds[post.index],
            )
            for mention in dropped:
                self._warn(
                    "mention-unresolved",
                    f"post {post.index}: @{mention.handle} is not a Bluesky account; "
                    "sent as plain text",
                    post.index,
                )
            cid = record_cid(record)
            ref = strong_ref(at_uri(did, key.key), cid)
            root_ref = root_ref or ref
            parent_ref = ref
            planned.append((post, key.key, record, cid))

        for chunk in _chunks(planned):
            self._apply_chunk(did, chunk, confirm)

    def find_published(
        self,
        keys: Sequence[PostKey],
        *,
        thread: Thread | None = None,
        parent: PostRef | None = None,
    ) -> list[PostRef | None]:
        """Read each planned rkey back: its PostRef when the record exists, else None.
        (`thread` and `parent` are not needed: an rkey is looked up directly.)"""
        did = self.account_id()
        found: list[PostRef | None] = []
        for key in keys:
            try:
                got = self._xrpc(
                    "com.atproto.repo.getRecord",
                    params={"repo": did, "collection": POST_COLLECTION, "rkey": key.key},
                    what=f"looking up post {key.index}",
                    post=key.index,
                    missing_ok=True,
                )
            except _NotFound:
                found.append(None)
                continue
            found.append(self._ref(key.index, str(got["uri"]), str(got["cid"])))
        return found

    def delete(self, refs: Sequence[PostRef]) -> None:
        """Delete the posts, last first, in atomic applyWrites calls; missing ones are fine."""
        did = self.account_id()
        ordered = sorted(refs, key=lambda ref: ref.index, reverse=True)
        # A delete of a missing record fails the whole call: keep only what exists.
        present = [
            ref
            for ref, now in zip(ordered, self._exists([_rkey(ref) for ref in ordered]), strict=True)
            if now
        ]
        for start in range(0, len(present), MAX_WRITES_PER_CALL):
            batch = present[start : start + MAX_WRITES_PER_CALL]
            writes = [
                {
                    "$type": "com.atproto.repo.applyWrites#delete",
                    "collection": POST_COLLECTION,
                    "rkey": _rkey(ref),
                }
                for ref in batch
            ]
            self._xrpc(
                "com.atproto.repo.applyWrites",
                body={"repo": did, "writes": writes},
                what=f"deleting posts {batch[-1].index}–{batch[0].index}",
                post=batch[0].index,
                write=True,
            )

    # -- login and session -----------------------------------------------------------------

    def login(self, password: str | None = None) -> LoginResult:
        """createSession with the app password (verifying it) and save the session.

        For `threadpost login bluesky`; publishing reuses the saved session instead.
        """
        secret = password or self._password
        if not secret:
            raise AuthFailed(
                f"no app password for {self._handle}",
                platform=PLATFORM,
                hint="set THREADPOST_BLUESKY_APP_PASSWORD or type it when asked",
            )
        self._secrets.add(secret)
        register_secrets(secret)
        with self._lock:
            self._client = self._new_client()
            self._create_session(secret)
        assert self._session_did is not None and self._session_handle is not None
        from threadpost.platforms.bluesky.session import session_path

        return LoginResult(
            handle=self._session_handle,
            did=self._session_did,
            service=self._service,
            session_path=session_path(self._state_dir, self._service, self._handle),
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        if self._client is not None:
            self._client.request.close()

    def _new_client(self) -> Any:
        from atproto_client import Client
        from atproto_client.request import Request

        kwargs: dict[str, Any] = {"timeout": self._timeout}
        if self._transport is not None:
            kwargs["transport"] = self._transport
        else:
            # Never send the tokens through a proxy picked up from the environment
            # for a loopback PDS (tests, local development).
            kwargs["trust_env"] = not _is_loopback(self._service)
        client = Client(base_url=self._service, request=Request(**kwargs))
        client.on_session_change(self._session_changed)
        return client

    def _ensure_client(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            client = self._new_client()
            saved = load_session(self._state_dir, self._service, self._handle)
            if saved is not None:
                self._remember(saved.session_string)
                # An import makes no request: the tokens are checked on first use. A file
                # the SDK cannot read (damaged, old format) counts as no session at all.
                try:
                    client.login(session_string=saved.session_string, fetch_bsky_profile=False)
                    _ = int(client._session.access_jwt_payload.exp)
                    self._client = client
                    return client
                except Exception:  # any failure here only means "log in"
                    client = self._new_client()
            if not self._password:
                raise AuthFailed(
                    f"not logged in to Bluesky as {self._handle} on {self._service}",
                    platform=PLATFORM,
                    hint="run: threadpost login bluesky (or set THREADPOST_BLUESKY_APP_PASSWORD)",
                )
            self._client = client
            self._create_session(self._password)
            return client

    def _create_session(self, password: str) -> None:
        client = self._client

        def create() -> Any:
            return client.login(self._handle, password, fetch_bsky_profile=False)

        self._xrpc_call(create, what="logging in", auth_call=True)

    def _session_changed(self, event: Any, session: Any) -> None:
        """Save every new or refreshed session (atomically, 0600)."""
        string = session.export() if hasattr(session, "export") else str(session)
        self._remember(string)
        self._session_did = str(session.did)
        self._session_handle = str(session.handle)
        if getattr(event, "value", event) == "import":
            return
        save_session(
            self._state_dir,
            SavedSession(
                service=self._service,
                handle=str(session.handle),
                did=str(session.did),
                session_string=string,
            ),
            handle=self._handle,
        )

    def _remember(self, session_string: str) -> None:
        self._secrets.add(session_string)
        self._secrets.update(part for part in session_string.split(":::") if part.count(".") == 2)
        register_secrets(*self._secrets)

    def _refresh_if_due(self) -> None:
        """Refresh the access token ourselves when it is (nearly) expired, so that a failed
        refresh is told apart from a failed call."""
        client = self._client
        session = client._session  # the SDK has no public accessor
        if session is None:
            return
        try:
            expires = datetime.fromtimestamp(int(session.access_jwt_payload.exp), UTC)
        except Exception:  # an unreadable token is as good as expired
            expires = self._clock()
        if self._clock() < expires - REFRESH_MARGIN:
            return
        self._refresh_or_relogin()

    def _refresh_or_relogin(self) -> None:
        client = self._client
        try:
            self._xrpc_call(
                client._refresh_and_set_session,  # the SDK has no public refresh
                what="refreshing the session",
                auth_call=True,
            )
        except AuthFailed:
            if not self._password:
                raise AuthFailed(
                    f"the saved Bluesky session of {self._handle} has expired",
                    platform=PLATFORM,
                    hint=LOGIN_HINT,
                ) from None
            self._create_session(self._password)

    # -- the choke point -------------------------------------------------------------------

    def _xrpc(
        self,
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
        """One XRPC call (query when neither `body` nor `content` is given), its errors
        classified. Refreshes the session when due; on a rejected token, refreshes (or logs
        in again with the app password) and retries once: a 401 means nothing was applied."""
        client = self._ensure_client()
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

        with self._lock:
            self._refresh_if_due()
        try:
            response = self._xrpc_call(
                call, what=what, post=post, write=write, missing_ok=missing_ok
            )
        except _TokenRejected:
            with self._lock:
                self._refresh_or_relogin()
            response = self._xrpc_call(
                call, what=what, post=post, write=write, missing_ok=missing_ok
            )
        content_out = getattr(response, "content", None)
        return dict(content_out) if isinstance(content_out, Mapping) else {}

    def _xrpc_call(
        self,
        call: Callable[[], Any],
        *,
        what: str,
        post: int | None = None,
        write: bool = False,
        missing_ok: bool = False,
        auth_call: bool = False,
    ) -> Any:
        """Run `call` and turn every SDK/transport failure into a PlatformError."""
        from atproto_client import exceptions as sdk

        try:
            return call()
        except sdk.RateLimitExceededError as exc:
            raise RateLimited(
                self._message(what, exc, "rate limited by the server"),
                platform=PLATFORM,
                reset_at=exc.reset_at,
                post=post,
            ) from None
        except sdk.InvokeTimeoutError:
            raise _failed_call(
                f"Bluesky: {what}: no answer within {self._timeout:g} s",
                may_have_landed=write,
                post=post,
            ) from None
        except sdk.UnauthorizedError as exc:
            if not auth_call and _error_name(exc) in _TOKEN_ERRORS:
                raise _TokenRejected from None
            raise AuthFailed(
                self._message(what, exc, "the server refused the credentials"),
                platform=PLATFORM,
                post=post,
                hint=LOGIN_HINT,
            ) from None
        except sdk.BadRequestError as exc:
            name = _error_name(exc)
            if name in _TOKEN_ERRORS:
                if not auth_call:
                    raise _TokenRejected from None
                raise AuthFailed(
                    self._message(what, exc, "the session was refused"),
                    platform=PLATFORM,
                    hint=LOGIN_HINT,
                ) from None
            if missing_ok and name in ("RecordNotFound", "InvalidRequest", "NotFound"):
                raise _NotFound from None
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
            raise _failed_call(
                self._message(what, exc, "network error"), may_have_landed=write and sent, post=post
            ) from None
        except sdk.RequestException as exc:  # 5xx and anything unexpected with a response
            if missing_ok and exc.response is not None and exc.response.status_code == 404:
                raise _NotFound from None
            raise _failed_call(
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

            if isinstance(exc, httpx.TransportError):
                # The SDK converts only timeouts and httpx.NetworkError; a server that
                # closes the connection without answering raises RemoteProtocolError
                # ("Server disconnected without sending a response"), and the write may
                # have landed (reconciled by reading the planned rkeys back).
                raise _failed_call(
                    f"Bluesky: {what}: the connection closed without an answer",
                    may_have_landed=write,
                    post=post,
                ) from None
            if isinstance(exc, AtProtocolError):
                raise TransientError(
                    f"Bluesky: {what}: {type(exc).__name__}", platform=PLATFORM, post=post
                ) from None
            raise

    def _message(self, what: str, exc: Any, fallback: str) -> str:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        content = getattr(response, "content", None)
        name = getattr(content, "error", None)
        detail = getattr(content, "message", None)
        parts = [str(part) for part in (name, detail) if part]
        reason = ": ".join(parts) if parts else fallback
        prefix = f"HTTP {status} " if status is not None else ""
        return self._scrub(f"Bluesky: {what}: {prefix}{reason}")

    def _scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "[redacted]")
        return _JWT_LIKE.sub("[redacted]", text)

    # -- building blocks -------------------------------------------------------------------

    def resolve_handles(self, handles: Sequence[str]) -> dict[str, str | None]:
        """handle → DID via com.atproto.identity.resolveHandle (None: no such account)."""
        out: dict[str, str | None] = {}
        for handle in handles:
            try:
                got = self._xrpc(
                    "com.atproto.identity.resolveHandle",
                    params={"handle": handle},
                    what=f"resolving @{handle}",
                    missing_ok=True,
                )
                did = got.get("did")
                out[handle.lower()] = str(did) if did else None
            except _NotFound:
                out[handle.lower()] = None
            except PermanentError:
                # A malformed handle is refused with 400: it names no account either.
                out[handle.lower()] = None
        return out

    def upload_blob(self, data: bytes, mime: str, *, post: int | None = None) -> dict[str, Any]:
        """com.atproto.repo.uploadBlob → the blob reference to put in a record."""
        got = self._xrpc(
            "com.atproto.repo.uploadBlob",
            content=data,
            content_type=mime,
            what=f"uploading an image of post {post}" if post else "uploading an image",
            post=post,
        )
        blob = got.get("blob")
        if not isinstance(blob, Mapping):
            raise TransientError(
                f"Bluesky: uploading an image of post {post}: no blob in the answer",
                platform=PLATFORM,
                post=post,
            )
        return dict(blob)

    def _embed(
        self, post: PlannedPost, card: LinkCard | LinkCardError | None
    ) -> dict[str, Any] | None:
        if post.images:
            return images_embed([self._upload_image(post, image) for image in post.images])
        if card is None:
            return None
        return self._link_card(post, card)

    def _fetch_cards(
        self, thread: Thread, posts: Sequence[PlannedPost]
    ) -> dict[int, LinkCard | LinkCardError]:
        """The link cards of the posts that get one, fetched concurrently (each fetch is
        bounded in time; a thread of 20 links should not take 20 fetch times)."""
        if not (thread.link_cards and self._link_cards):
            return {}
        wanted = {post.index: link for post in posts if (link := card_link(post)) is not None}
        if not wanted:
            return {}
        from concurrent.futures import ThreadPoolExecutor

        from threadpost.linkcard import LinkCardError, fetch_link_card

        fetch = self._fetch_card or fetch_link_card

        def one(link: str) -> LinkCard | LinkCardError:
            try:
                return fetch(link)
            except LinkCardError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
            results = list(pool.map(one, wanted.values()))
        return dict(zip(wanted, results, strict=True))

    def _upload_image(self, post: PlannedPost, image: Any) -> UploadedImage:
        from threadpost.images import ImageError, inspect_image

        try:
            info = inspect_image(image.path)
            data = image.path.read_bytes()
        except ImageError as exc:
            raise PermanentError(
                f"post {post.index}: {exc.message}", platform=PLATFORM, post=post.index
            ) from None
        except OSError as exc:
            raise PermanentError(
                f"post {post.index}: {image.path}: cannot read: {exc.strerror or exc}",
                platform=PLATFORM,
                post=post.index,
            ) from None
        if len(data) > BLUESKY_LIMITS.max_image_bytes:
            raise PermanentError(
                f"post {post.index}: {image.path} is {len(data):,} bytes; Bluesky takes at most "
                f"{BLUESKY_LIMITS.max_image_bytes:,} per image",
                platform=PLATFORM,
                post=post.index,
            )
        blob = self.upload_blob(data, info.mime, post=post.index)
        return UploadedImage(blob=blob, alt=image.alt, width=info.width, height=info.height)

    def _link_card(
        self, post: PlannedPost, card: LinkCard | LinkCardError
    ) -> dict[str, Any] | None:
        from threadpost.linkcard import LinkCardError

        if isinstance(card, LinkCardError):
            self._warn("link-card-failed", f"post {post.index}: no link card: {card}", post.index)
            return None
        thumb = None
        if card.image is not None and card.image_mime:
            thumb = self.upload_blob(card.image, card.image_mime, post=post.index)
        return external_embed(
            LinkCardData(uri=card.uri, title=card.title, description=card.description, thumb=thumb)
        )

    def _warn(self, code: str, message: str, post: int | None) -> None:
        problem = Problem(
            severity="warning", code=code, message=message, platform=PLATFORM, post=post
        )
        self.warnings.append(problem)
        if self._on_warning is not None:
            self._on_warning(problem)

    def _apply_chunk(
        self,
        did: str,
        chunk: Sequence[tuple[PlannedPost, str, dict[str, Any], str]],
        confirm: ConfirmPost,
    ) -> None:
        first, last = chunk[0][0].index, chunk[-1][0].index
        writes = [
            {
                "$type": "com.atproto.repo.applyWrites#create",
                "collection": POST_COLLECTION,
                "rkey": rkey,
                "value": record,
            }
            for _, rkey, record, _ in chunk
        ]
        label = f"post {first}" if first == last else f"posts {first}–{last}"
        got = self._xrpc(
            "com.atproto.repo.applyWrites",
            body={"repo": did, "validate": True, "writes": writes},
            what=f"publishing {label} (one atomic write)",
            post=first,
            write=True,
        )
        results = got.get("results")
        if not isinstance(results, list) or len(results) != len(chunk):
            # The commit is all or nothing and it answered 200: it landed. Confirm from
            # the planned keys by reading them back rather than guessing.
            found = self.find_published([PostKey(post.index, rkey) for post, rkey, _, _ in chunk])
            results = [{"uri": ref.remote_id, "cid": ref.cid} if ref else {} for ref in found]
        mismatches: list[str] = []
        for (post, rkey, _, cid), result in zip(chunk, results, strict=True):
            uri = str(result.get("uri") or at_uri(did, rkey))
            server_cid = str(result.get("cid") or "")
            confirm(self._ref(post.index, uri, server_cid or cid))
            if server_cid and server_cid != cid:
                mismatches.append(f"post {post.index} ({server_cid} ≠ computed {cid})")
        if mismatches:
            raise CidMismatch(
                "Bluesky stored records whose CIDs differ from the ones threadpost computed "
                f"(the replies' references may not match): {', '.join(mismatches)}",
                platform=PLATFORM,
                post=first,
            )

    def _ref(self, index: int, uri: str, cid: str) -> PostRef:
        handle = self._session_handle or self._handle
        return PostRef(
            platform=PLATFORM,
            index=index,
            remote_id=uri,
            url=web_url(handle, _rkey_of_uri(uri)),
            cid=cid,
        )

    def _exists(self, rkeys: Sequence[str]) -> list[bool]:
        keys = [PostKey(index=n, key=rkey) for n, rkey in enumerate(rkeys, start=1)]
        return [ref is not None for ref in self.find_published(keys)]


class _TokenRejected(Exception):
    """Internal: the access token was refused; refresh and retry once."""


def _chunks(
    planned: Sequence[tuple[PlannedPost, str, dict[str, Any], str]],
) -> Iterator[Sequence[tuple[PlannedPost, str, dict[str, Any], str]]]:
    """Consecutive runs of ≤ 200 writes and ≤ ~0.9 MB of JSON (applyWrites' bounds)."""
    chunk: list[tuple[PlannedPost, str, dict[str, Any], str]] = []
    size = 0
    for item in planned:
        item_size = len(json.dumps(item[2], ensure_ascii=False).encode()) + 200
        if chunk and (len(chunk) >= MAX_WRITES_PER_CALL or size + item_size > MAX_WRITE_JSON_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def _rkey_of_uri(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _rkey(ref: PostRef) -> str:
    return _rkey_of_uri(ref.remote_id)


def _failed_call(message: str, *, may_have_landed: bool, post: int | None) -> TransientError:
    """A retryable failure; `UnclearOutcome` when a write may have been applied anyway, so
    the orchestration reads the planned records back before sending again."""
    if may_have_landed:
        return UnclearOutcome(
            f"{message} (the write may have been applied)", platform=PLATFORM, post=post
        )
    return TransientError(message, platform=PLATFORM, post=post)


def _error_name(exc: Any) -> str | None:
    content = getattr(getattr(exc, "response", None), "content", None)
    name = getattr(content, "error", None)
    return str(name) if name else None


def _connect_failed(exc: BaseException) -> bool:
    """True when the request never left (connection refused, DNS): safe to resend."""
    import httpx

    cause = exc.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout))


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
