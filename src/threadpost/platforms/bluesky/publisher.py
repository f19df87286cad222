"""The Bluesky adapter: a whole thread in one atomic `com.atproto.repo.applyWrites`.

Every post gets a client-chosen TID rkey and a frozen createdAt (`post_keys`, stored by the
ledger before the first attempt), so a retry sends byte-identical records with the same
CIDs; each reply's root/parent strong refs use CIDs computed here, and every CID the server
returns is compared with the computed one. After an unclear failure `find_published`
reads the planned rkeys back: never a duplicate, never a gap.

Every XRPC call goes through `_xrpc` and the account's `XrpcTransport` (`xrpc.py`), plain
HTTP calls and the one place where failures become the `PlatformError`s of `errors.py` and
where secrets are kept out of messages. The session is reused from the state directory
(`session.py`), refreshed here when its access token is (nearly) expired and saved after every
change; createSession is called only when there is no usable session. The atproto SDK's
client is not imported: publishing a thread needs only the CIDs and DAG-CBOR of
`records.py` (libipld, ~1 ms) and one applyWrites call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from threadpost.errors import (
    AuthFailed,
    ConfigError,
    LandedWithDoubts,
    PermanentError,
    TransientError,
)
from threadpost.images import ImageError, inspect_image
from threadpost.linkcard import LinkCard, LinkCardError, fetch_link_card
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
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, not_public
from threadpost.platforms.bluesky.session import (
    BlueskySession,
    SavedSession,
    load_session,
    save_session,
    session_from_answer,
    session_path,
)
from threadpost.platforms.bluesky.xrpc import (
    LOGIN_HINT,
    PLATFORM,
    NotFound,
    TokenRejected,
    XrpcTransport,
    resolve_handle,
)
from threadpost.values import PlatformLimits, PlatformName, PostKey, PostRef, Problem

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from threadpost.config import Settings
    from threadpost.plan import PlannedPost, Thread

__all__ = ["BlueskyPublisher", "CidMismatch", "LoginResult", "draft_records"]

#: applyWrites accepts at most 1 MB of JSON; stay clear of it.
MAX_WRITE_JSON_BYTES: Final = 900_000
#: Refresh the access token when it has less than this left (the SDK uses the same margin).
REFRESH_MARGIN: Final = timedelta(minutes=15)

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
        self._clock = clock
        self._fetch_card = link_card_fetcher
        #: Every request of this account goes through it (timeouts, errors, scrubbing).
        self._net = XrpcTransport(
            self._service,
            timeout=timeout,
            transport=transport,
            secrets=[self._password] if self._password else [],
        )
        #: The current session (None: not loaded or logged in yet).
        self._session: BlueskySession | None = None
        self._lock = threading.RLock()
        #: Non-fatal findings of the calls so far (mentions left as text, cards not made);
        #: only appended to, the orchestration reads what each call added.
        self.warnings: list[Problem] = []

    def __repr__(self) -> str:
        return f"<BlueskyPublisher {self._handle} on {self._service}>"

    # -- the Publisher protocol ------------------------------------------------------------

    def account_id(self) -> str:
        """The account's DID (from the saved session, or a login)."""
        return self._ensure_session().did

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
        refused = not_public(thread)
        if refused is not None:
            # `check` refuses such a draft; this stops a plan frozen by an older threadpost.
            raise PermanentError(
                f"the thread's {refused[0]} is {refused[1]!r}: Bluesky has no "
                f"{refused[1]} posts, so nothing was sent there",
                platform=PLATFORM,
            )
        total = len(thread.posts)
        if not 1 <= start <= total:
            raise PermanentError(
                f"cannot send from post {start}: the thread has posts 1..{total}",
                platform=PLATFORM,
                post=start,
            )
        by_index = {key.index: key for key in keys}
        missing = [post.index for post in thread.posts[start - 1 :] if post.index not in by_index]
        if missing:
            raise PermanentError(
                f"post {missing[0]} has no record key; refusing to send it unkeyed",
                platform=PLATFORM,
                post=missing[0],
            )
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
                labels=thread.labels,
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
            except NotFound:
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
        self._net.add_secret(secret)
        with self._lock:
            session = self._create_session(secret)
        return LoginResult(
            handle=session.handle,
            did=session.did,
            service=self._service,
            session_path=session_path(self._state_dir, self._service, self._handle),
        )

    def close(self) -> None:
        """Release the HTTP connections. Idempotent; a later call logs in from the saved
        session again."""
        with self._lock:
            self._session = None
            self._net.close()

    def _ensure_session(self) -> BlueskySession:
        with self._lock:
            if self._session is not None:
                return self._session
            saved = load_session(self._state_dir, self._service, self._handle)
            if saved is not None:
                self._net.add_secret(saved.session_string)
                # Loading makes no request: the tokens are checked on first use. A file that
                # cannot be read (damaged, old format) counts as no session at all.
                try:
                    session = BlueskySession.decode(saved.session_string)
                    session.access_expiry()
                except ValueError:
                    pass
                else:
                    self._session = session
                    return session
            if not self._password:
                raise AuthFailed(
                    f"not logged in to Bluesky as {self._handle} on {self._service}",
                    platform=PLATFORM,
                    hint="run: threadpost login bluesky (or set THREADPOST_BLUESKY_APP_PASSWORD)",
                )
            return self._create_session(self._password)

    def _create_session(self, password: str) -> BlueskySession:
        """com.atproto.server.createSession on the service; the session kept and saved."""
        answer = self._net.call(
            "com.atproto.server.createSession",
            body={"identifier": self._handle, "password": password},
            what="logging in",
            auth_call=True,
        )
        return self._use(self._session_of(answer, self._service))

    def _session_of(self, answer: Mapping[str, Any], service: str) -> BlueskySession:
        try:
            return session_from_answer(answer, service)
        except ValueError as exc:
            raise TransientError(f"Bluesky: logging in: {exc}", platform=PLATFORM) from None

    def _use(self, session: BlueskySession) -> BlueskySession:
        """Make `session` current and save it (atomically, 0600)."""
        self._net.add_secret(session.export())
        self._session = session
        save_session(
            self._state_dir,
            SavedSession(
                service=self._service,
                handle=session.handle,
                did=session.did,
                session_string=session.export(),
            ),
            handle=self._handle,
        )
        return session

    def _refresh_if_due(self) -> None:
        """Refresh the access token when it is (nearly) expired, so that a failed refresh is
        told apart from a failed call."""
        if self._session is None:
            return
        try:
            expires = self._session.access_expiry()
        except ValueError:  # an unreadable token is as good as expired
            expires = self._clock()
        if self._clock() < expires - REFRESH_MARGIN:
            return
        self._refresh_or_relogin()

    def _refresh_or_relogin(self) -> None:
        try:
            self._refresh_session()
        except AuthFailed:
            if not self._password:
                raise AuthFailed(
                    f"the saved Bluesky session of {self._handle} has expired",
                    platform=PLATFORM,
                    hint=LOGIN_HINT,
                ) from None
            self._create_session(self._password)

    def _refresh_session(self) -> None:
        """com.atproto.server.refreshSession with the (single-use) refresh token on the
        account's PDS, then the rotated session kept and saved."""
        current = self._session
        if current is None or not current.refresh_jwt:
            raise AuthFailed(
                f"Bluesky: no session of {self._handle} to refresh",
                platform=PLATFORM,
                hint=LOGIN_HINT,
            )
        answer = self._net.call(
            "com.atproto.server.refreshSession",
            base_url=current.pds_endpoint,
            token=current.refresh_jwt,
            procedure=True,
            what="refreshing the session",
            auth_call=True,
        )
        self._use(self._session_of(answer, current.pds_endpoint or self._service))

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
        """One XRPC call as this account (see `XrpcTransport.invoke`). Refreshes the session
        when due; on a rejected token, refreshes (or logs in again with the app password)
        and retries once: a 401 means nothing was applied."""

        def call() -> dict[str, Any]:
            session = self._ensure_session()
            return self._net.call(
                nsid,
                base_url=session.pds_endpoint,
                token=session.access_jwt,
                params=params,
                body=body,
                content=content,
                content_type=content_type,
                what=what,
                post=post,
                write=write,
                missing_ok=missing_ok,
            )

        with self._lock:
            self._ensure_session()
            self._refresh_if_due()
        try:
            return call()
        except TokenRejected:
            with self._lock:
                self._refresh_or_relogin()
            return call()

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
        """Run `call` through the transport's error funnel (`XrpcTransport.guarded`)."""
        return self._net.guarded(
            call, what=what, post=post, write=write, missing_ok=missing_ok, auth_call=auth_call
        )

    # -- building blocks -------------------------------------------------------------------

    def resolve_handles(self, handles: Sequence[str]) -> dict[str, str | None]:
        """handle → DID via com.atproto.identity.resolveHandle (None: no such account)."""

        def query(nsid: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
            return self._xrpc(nsid, params=params, what=what, missing_ok=True)

        return {handle.lower(): resolve_handle(query, handle).did for handle in handles}

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
        handle = self._session.handle if self._session is not None else self._handle
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
