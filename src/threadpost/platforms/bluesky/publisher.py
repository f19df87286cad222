"""The Bluesky adapter: a whole thread in one atomic `com.atproto.repo.applyWrites`.

Every post gets a client-chosen TID rkey and a frozen createdAt (`post_keys`, stored by the
ledger before the first attempt), so a retry sends byte-identical records with the same
CIDs; each reply's root/parent strong refs use CIDs computed here, and every CID the server
returns is compared with the computed one. After an unclear failure `find_published`
reads the planned rkeys back: never a duplicate, never a gap.

Every XRPC call goes through `_xrpc` and the account's `XrpcTransport` (`xrpc.py`), the
one place where answers and failures become the `PlatformError`s of `errors.py` and where
secrets are kept out of messages. The session is reused from the state directory
(`session.py`), refreshed here before it expires (`auth.py`); createSession is called only
when there is no usable session. The atproto SDK's client is not imported (~0.85 s): the
calls are plain XRPC, the CIDs come from libipld (`records.py`).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec

from threadpost.errors import (
    AuthFailed,
    ConfigError,
    LandedWithDoubts,
    PermanentError,
    TransientError,
)
from threadpost.platforms.base import ConfirmPosts
from threadpost.platforms.bluesky.answers import string_field, unreadable_answer
from threadpost.platforms.bluesky.auth import create_session, refresh_session
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
    gate_records,
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
    SavedSession,
    Session,
    SessionUnreadable,
    load_session,
    save_session,
    session_path,
)
from threadpost.platforms.bluesky.xrpc import (
    LOGIN_HINT,
    PLATFORM,
    NotFound,
    TokenRejected,
    Wire,
    XrpcClient,
    XrpcTransport,
    resolve_handle,
)
from threadpost.values import PlatformLimits, PlatformName, PostKey, PostRef, Problem

# The modules of images, videos, captions, quotes, reply parents and reply or quote gates
# are imported by the methods that need them: a thread of text alone loads none of them.
if TYPE_CHECKING:
    from pathlib import Path

    from threadpost.config import Settings
    from threadpost.linkcard import LinkCard, LinkCardError
    from threadpost.plan import PlannedPost, Thread
    from threadpost.platforms.bluesky.video_service_upload import VideoServiceUpload
    from threadpost.thread import ReplyTarget

__all__ = ["BlueskyPublisher", "CidMismatch", "LoginResult", "draft_records"]

#: applyWrites accepts at most 1 MB of JSON; stay clear of it.
MAX_WRITE_JSON_BYTES: Final = 900_000
#: Refresh the access token when it has less than this left (the SDK uses the same margin).
REFRESH_MARGIN: Final = timedelta(minutes=15)

Clock = Callable[[], datetime]
LinkCardFetcher = Callable[[str], "LinkCard"]
_P = ParamSpec("_P")


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


#: How an upload is named in messages, by kind.
_BLOB_KINDS: Final = {"video": "a video", "captions": "a captions file"}


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the upload reports the file


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_the_account(
    invoke: Callable[Concatenate[XrpcTransport, XrpcClient, _P], dict[str, Any]],
) -> Callable[Concatenate[BlueskyPublisher, _P], dict[str, Any]]:
    """`invoke` (which takes the account's client) as a publisher method that supplies
    it: the method's parameters are `invoke`'s own, written once, in xrpc.py."""

    def xrpc(self: BlueskyPublisher, /, *args: _P.args, **kwargs: _P.kwargs) -> dict[str, Any]:
        return self._as_account(lambda client: invoke(self._net, client, *args, **kwargs))

    return xrpc


class BlueskyPublisher:
    """One Bluesky account (settings.bluesky.service + handle), logged in on first use."""

    platform: PlatformName = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = 30.0,
        transport: Wire | None = None,
        clock: Clock = _utc_now,
        link_card_fetcher: LinkCardFetcher | None = None,
        sleep: Callable[[float], None] = time.sleep,
        video_wait: float | None = None,
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
        #: The account's current session (saved, created or refreshed), None until used.
        self._session: Session | None = None
        self._lock = threading.RLock()
        #: Non-fatal findings of the calls so far (mentions left as text, cards not made);
        #: only appended to, the orchestration reads what each call added.
        self.warnings: list[Problem] = []
        self._video_service = bluesky.video_service
        self._sleep = sleep
        #: The longest wait for the video service to process one video (None: its default).
        self._video_wait = video_wait

    def __repr__(self) -> str:
        return f"<BlueskyPublisher {self._handle} on {self._service}>"

    @functools.cached_property
    def _videos(self) -> VideoServiceUpload | None:
        """Where videos go first (video_service.py); None: to the PDS directly. Asked by
        the first video sent."""
        from threadpost.platforms.bluesky.video_service import DEFAULT_MAX_WAIT, video_service_for
        from threadpost.platforms.bluesky.video_service_upload import VideoServiceUpload

        service = video_service_for(self._service, self._video_service)
        if service is None:
            return None
        return VideoServiceUpload(
            service,
            self._net,
            lambda nsid, *, params=None, what: self._xrpc(nsid, params=params, what=what),
            self.account_id,
            sleep=self._sleep,
            max_wait=DEFAULT_MAX_WAIT if self._video_wait is None else self._video_wait,
        )

    # -- the Publisher protocol ------------------------------------------------------------

    def account_id(self) -> str:
        """The account's DID (from the saved session, or a login)."""
        self._ensure_client()
        assert self._session is not None
        return self._session.did

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
        confirm: ConfirmPosts,
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
        # A thread replying to a post hangs under it, every post naming its conversation's
        # root; the parent (found before the plan was frozen) must still be there.
        if thread.reply_to is not None:
            root, parent = self._reply_parent_refs(thread.reply_to, start, root, parent)
        # Before anything is uploaded or written: a quoted post that is not there stops it.
        quotes = self._resolve_quotes(pending)
        dids = self.resolve_handles(mention_handles(thread, start))
        cards = self._fetch_cards(thread, pending)
        self._check_video_limits(pending)
        embeds = {
            post.index: self._embed(post, cards.get(post.index), quotes.get(post.index))
            for post in pending
        }

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

        # Reply and quote controls go in the same atomic write as their post (the
        # threadgate with the root): a thread is never visible without them.
        gates = gate_records(
            thread,
            [at_uri(did, rkey) for _, rkey, _, _ in planned],
            [str(by_index[post.index].created_at) for post, _, _, _ in planned],
            start=start,
        )
        for chunk in _chunks(planned, gates):
            self._apply_chunk(did, chunk, gates, confirm)

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
            what = f"looking up post {key.index}"
            found.append(
                self._ref(
                    key.index,
                    string_field(got, "uri", what=what, post=key.index),
                    string_field(got, "cid", what=what, post=key.index),
                )
            )
        return found

    def find_reply_parent(self, target: ReplyTarget) -> ReplyTarget | None:
        """The post `target` names (a bsky.app address or an at:// URI), with its strong
        ref and its conversation's root (`reply_parent.find_parent`); None: no such post."""
        from threadpost.platforms.bluesky.reply_parent import find_parent

        def query(nsid: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
            return self._xrpc(nsid, params=params, what=what, missing_ok=True)

        return find_parent(query, target)

    def _reply_parent_refs(
        self, target: ReplyTarget, start: int, root: PostRef | None, parent: PostRef | None
    ) -> tuple[PostRef, PostRef | None]:
        """(root, parent) of posts `start`..: the conversation's root always, and for post 1
        the post replied to, read again first (PermanentError, nothing sent, when it is gone
        or was never found)."""
        if target.remote_id is None or target.root_id is None:
            raise PermanentError(
                f"the post this thread replies to ({target.where}: {target.address}) was "
                "never found; nothing was sent to Bluesky",
                platform=PLATFORM,
                post=1,
            )
        root = PostRef(PLATFORM, 0, target.root_id, target.root_id, target.root_cid)
        if start == 1:
            if self.find_reply_parent(target) is None:
                raise PermanentError(
                    f"{target.where}: {target.address} no longer exists on Bluesky "
                    "(deleted?); nothing was sent to Bluesky",
                    platform=PLATFORM,
                    post=1,
                )
            parent = PostRef(PLATFORM, 0, target.remote_id, target.url or "", target.cid)
        return root, parent

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
        # A post's threadgate/postgate (same rkey) goes with it, in the same atomic call.
        gates = self._gates_of([_rkey(ref) for ref in ordered])
        for start in range(0, len(present), MAX_WRITES_PER_CALL // 3):
            batch = present[start : start + MAX_WRITES_PER_CALL // 3]
            writes = [
                {
                    "$type": "com.atproto.repo.applyWrites#delete",
                    "collection": collection,
                    "rkey": _rkey(ref),
                }
                for ref in batch
                for collection in (POST_COLLECTION, *gates.get(_rkey(ref), ()))
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
            self._session = None
            self._create_session(secret)
        assert self._session is not None
        return LoginResult(
            handle=self._session.handle,
            did=self._session.did,
            service=self._service,
            session_path=session_path(self._state_dir, self._service, self._handle),
        )

    def close(self) -> None:
        """Release the HTTP connections. Idempotent; a later call logs in from the saved
        session again."""
        with self._lock:
            self._session = None
            self._net.close()

    def _ensure_client(self) -> XrpcClient:
        """Calls as this account: from the saved session (no request: the tokens are
        checked on first use), else after a createSession with the app password."""
        with self._lock:
            if self._session is None:
                saved = load_session(self._state_dir, self._service, self._handle)
                if saved is not None:
                    self._net.add_secret(saved.session_string)
                    # A file that cannot be read (damaged, another format) counts as no
                    # session at all.
                    try:
                        session = Session.decode(saved.session_string)
                        session.access_expiry()
                    except SessionUnreadable:
                        pass
                    else:
                        self._session = session
            if self._session is None:
                if not self._password:
                    raise AuthFailed(
                        f"not logged in to Bluesky as {self._handle} on {self._service}",
                        platform=PLATFORM,
                        hint="run: threadpost login bluesky "
                        "(or set THREADPOST_BLUESKY_APP_PASSWORD)",
                    )
                self._create_session(self._password)
            assert self._session is not None
            return self._net.new_client(
                base_url=self._session.base_url(self._service), token=self._session.access_jwt
            )

    def _create_session(self, password: str) -> None:
        """createSession; the session is kept (and saved) only once it is there, so after
        a failed one (a 5xx, an unreadable answer) the next call logs in again."""
        session = create_session(self._net, self._net.new_client(), self._handle, password)
        self._use(session)

    def _use(self, session: Session) -> None:
        """Adopt a new or refreshed session and save it (atomically, 0600)."""
        self._net.add_secret(session.encode())
        self._session = session
        save_session(
            self._state_dir,
            SavedSession(
                service=self._service,
                handle=session.handle,
                did=session.did,
                session_string=session.encode(),
            ),
            handle=self._handle,
        )

    def _refresh_if_due(self) -> None:
        """Refresh the access token when it is (nearly) expired, before the call that
        would be refused, so that a failed refresh is told apart from a failed call."""
        if self._session is None:
            return
        try:
            expires = self._session.access_expiry()
        except SessionUnreadable:  # an unreadable token is as good as expired
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
        """com.atproto.server.refreshSession with the refresh token, then the rotated
        session adopted and saved."""
        current = self._session
        if current is None:
            raise AuthFailed(
                f"Bluesky: no session of {self._handle} to refresh",
                platform=PLATFORM,
                hint=LOGIN_HINT,
            )
        self._use(refresh_session(self._net, current, self._service))

    # -- the choke point -------------------------------------------------------------------

    #: One XRPC call as this account: `XrpcTransport.invoke`, its signature and all, with
    #: the account's client passed in and the session kept fresh (`_as_account`).
    _xrpc = _as_the_account(XrpcTransport.invoke)

    def _as_account(self, call: Callable[[XrpcClient], dict[str, Any]]) -> dict[str, Any]:
        """Run `call` with this account's client. Refreshes the session when due; on a
        rejected token, refreshes (or logs in again with the app password) and retries
        once, with the new token: a 401 means nothing was applied."""
        with self._lock:
            self._ensure_client()
            self._refresh_if_due()
        try:
            return call(self._ensure_client())
        except TokenRejected:
            with self._lock:
                self._refresh_or_relogin()
            return call(self._ensure_client())

    # -- building blocks -------------------------------------------------------------------

    def resolve_handles(self, handles: Sequence[str]) -> dict[str, str | None]:
        """handle → DID via com.atproto.identity.resolveHandle (None: no such account)."""

        def query(nsid: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
            return self._xrpc(nsid, params=params, what=what, missing_ok=True)

        return {handle.lower(): resolve_handle(query, handle).did for handle in handles}

    def upload_blob(
        self, data: bytes, mime: str, *, post: int | None = None, kind: str = "image"
    ) -> dict[str, Any]:
        """com.atproto.repo.uploadBlob → the blob reference to put in a record."""
        got = self._xrpc(
            "com.atproto.repo.uploadBlob",
            content=data,
            content_type=mime,
            what=f"uploading {_BLOB_KINDS.get(kind, 'an image')}"
            + (f" of post {post}" if post else ""),
            post=post,
        )
        blob = got.get("blob")
        if not isinstance(blob, Mapping):
            raise TransientError(
                f"Bluesky: uploading the {kind} of post {post}: no blob in the answer",
                platform=PLATFORM,
                post=post,
            )
        return dict(blob)

    def _embed(
        self,
        post: PlannedPost,
        card: LinkCard | LinkCardError | None,
        quote: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        media = self._media_embed(post) if post.images else None
        if quote is not None:
            from threadpost.platforms.bluesky.quotes import record_embed

            return record_embed(quote, media)
        if media is not None:
            return media
        if card is None:
            return None
        return self._link_card(post, card)

    def _media_embed(self, post: PlannedPost) -> dict[str, Any]:
        """The embed of a post's attachments, uploaded: its video (an animated GIF alone
        in its post goes as one) or its images."""
        from threadpost.platforms.bluesky.gif_video import goes_as_video
        from threadpost.videos import is_video

        if len(post.images) == 1 and goes_as_video(
            post.images[0].path, alone=True, max_seconds=BLUESKY_LIMITS.max_video_seconds
        ):
            return self._upload_gif_video(post, post.images[0])
        if is_video(post.images[0].path):
            # `check` allows a video only alone in its post.
            return self._upload_video(post, post.images[0])
        return images_embed([self._upload_image(post, image) for image in post.images])

    def _resolve_quotes(self, posts: Sequence[PlannedPost]) -> dict[int, dict[str, str]]:
        """The strong ref {uri, cid} of each post's quoted post (handle → DID, then
        getRecord for the CID); PermanentError naming the post and its draft line when a
        quoted post does not exist."""

        def query(nsid: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
            return self._xrpc(nsid, params=params, what=what, missing_ok=True)

        refs: dict[int, dict[str, str]] = {}
        if all(post.quote is None for post in posts):
            return refs
        from threadpost.platforms.bluesky.quotes import quoted_post

        for post in posts:
            if post.quote is None:
                continue
            where = f"post {post.index} (draft line {post.quote_line or post.source_line})"

            def refuse(reason: str, where: str = where, post: PlannedPost = post) -> PermanentError:
                return PermanentError(
                    f"{where} quotes {post.quote}, {reason}; nothing was sent to Bluesky",
                    platform=PLATFORM,
                    post=post.index,
                )

            target = quoted_post(post.quote)
            if target is None:
                raise refuse("which is not a Bluesky post address")
            did = target.actor
            if not target.is_did:
                found = resolve_handle(query, target.actor)
                if found.did is None:
                    raise refuse(f"but @{target.actor} is not a Bluesky account")
                did = found.did
            try:
                got = self._xrpc(
                    "com.atproto.repo.getRecord",
                    params={"repo": did, "collection": POST_COLLECTION, "rkey": target.rkey},
                    what=f"reading the post quoted by post {post.index}",
                    post=post.index,
                    missing_ok=True,
                )
            except NotFound:
                raise refuse("but that post does not exist (deleted, or a wrong address)") from None
            refs[post.index] = strong_ref(str(got["uri"]), str(got["cid"]))
        return refs

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
        # The fetcher (html.parser, the card cache) and its error: for threads with links.
        from threadpost.linkcard import LinkCardError, fetch_link_card

        fetch = self._fetch_card or fetch_link_card

        def one(link: str) -> LinkCard | LinkCardError:
            try:
                return fetch(link)
            except LinkCardError as exc:
                return exc

        from concurrent.futures import ThreadPoolExecutor  # with logging: ~3 ms, when needed

        with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
            results = list(pool.map(one, wanted.values()))
        return dict(zip(wanted, results, strict=True))

    def _upload_image(self, post: PlannedPost, image: Any) -> UploadedImage:
        from threadpost.image_fit import pixel_limit
        from threadpost.image_upload import ImageWontFit, prepare_upload
        from threadpost.images import ImageError, inspect_image

        try:
            info = inspect_image(image.path)
            # The PDS stores and serves the blob as sent: private metadata goes first, and
            # an image over the blob limit is downscaled (image_upload.py).
            prepared = prepare_upload(
                image.path,
                max_bytes=BLUESKY_LIMITS.max_image_bytes,
                max_pixels=pixel_limit(BLUESKY_LIMITS, info.mime),
            )
        except ImageError as exc:
            raise PermanentError(
                f"post {post.index}: {exc.message}", platform=PLATFORM, post=post.index
            ) from None
        except ImageWontFit as exc:
            raise PermanentError(
                f"post {post.index}: image {image.written_path} {exc.reason}",
                platform=PLATFORM,
                post=post.index,
            ) from None
        except OSError as exc:
            raise PermanentError(
                f"post {post.index}: {image.path}: cannot read: {exc.strerror or exc}",
                platform=PLATFORM,
                post=post.index,
            ) from None
        blob = self.upload_blob(prepared.data, prepared.mime, post=post.index)
        return UploadedImage(blob=blob, alt=image.alt, width=prepared.width, height=prepared.height)

    def _upload_video(self, post: PlannedPost, video: Any) -> dict[str, Any]:
        from threadpost.captions import CaptionsWontGo, read_captions_file
        from threadpost.platforms.bluesky.captions import BLUESKY_CAPTION_LIMITS, caption_entry
        from threadpost.platforms.bluesky.video import video_embed
        from threadpost.video_upload import VideoWontGo, prepare_video

        try:
            # The file as it is, refused when over Bluesky's limits (video_upload.py);
            # its captions files read and checked before anything is uploaded.
            prepared = prepare_video(video.path, video.written_path, BLUESKY_LIMITS, "Bluesky")
            captions = [
                (
                    caption.lang,
                    read_captions_file(
                        caption.path, caption.written_path, BLUESKY_CAPTION_LIMITS, "Bluesky"
                    ),
                )
                for caption in post.captions
            ]
        except (VideoWontGo, CaptionsWontGo) as exc:
            raise PermanentError(
                f"post {post.index}: {exc.reason}", platform=PLATFORM, post=post.index
            ) from None
        info = prepared.info
        blob = self._upload_video_bytes(prepared.data, info.mime, video.written_path, post)
        # Captions go to the PDS directly as text/vtt blobs (the lexicon's accept).
        entries = [
            caption_entry(
                lang,
                self.upload_blob(
                    data, BLUESKY_CAPTION_LIMITS.mime, post=post.index, kind="captions"
                ),
            )
            for lang, data in captions
        ]
        return video_embed(blob, video.alt, info.width, info.height, captions=entries)

    def _upload_video_bytes(
        self, data: bytes, mime: str, name: str, post: PlannedPost
    ) -> dict[str, Any]:
        """The blob of a video: through the video service when the account uses one (it
        processes the video and puts the result on the PDS), else uploaded directly."""
        if self._videos is not None:
            return self._videos.upload(data, mime, name, post=post.index)
        return self.upload_blob(data, mime, post=post.index, kind="video")

    def _check_video_limits(self, posts: Sequence[PlannedPost]) -> None:
        """Before anything is uploaded or written: the video service's daily limits
        must allow every video of `posts` (the size of a GIF sent as a video is counted
        as the GIF's: the MP4 is made later)."""
        if not any(post.images for post in posts) or self._videos is None:
            return
        from threadpost.platforms.bluesky.gif_video import goes_as_video
        from threadpost.videos import is_video

        sized = [
            (post.index, _file_size(post.images[0].path))
            for post in posts
            if post.images
            and (
                is_video(post.images[0].path)
                or goes_as_video(
                    post.images[0].path,
                    alone=len(post.images) == 1,
                    max_seconds=BLUESKY_LIMITS.max_video_seconds,
                )
            )
        ]
        if sized:
            self._videos.check_limits([size for _, size in sized], sized[0][0])

    def _upload_gif_video(self, post: PlannedPost, image: Any) -> dict[str, Any]:
        from threadpost.gif_to_video import GifConversionError
        from threadpost.platforms.bluesky.gif_video import GIF_PRESENTATION, gif_video
        from threadpost.platforms.bluesky.video import video_embed

        try:
            data, info = gif_video(image.path)
        except GifConversionError as exc:
            raise PermanentError(
                f"post {post.index}: image {image.written_path}: cannot make a video of this "
                f"animated GIF: {exc.reason}",
                platform=PLATFORM,
                post=post.index,
            ) from None
        blob = self._upload_video_bytes(data, info.mime, image.written_path, post)
        embed = video_embed(blob, image.alt, info.width, info.height)
        embed["presentation"] = GIF_PRESENTATION
        return embed

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

    def _apply_chunk(
        self,
        did: str,
        chunk: Sequence[tuple[PlannedPost, str, dict[str, Any], str]],
        gates: Mapping[int, Sequence[Mapping[str, Any]]],
        confirm: ConfirmPosts,
    ) -> None:
        first, last = chunk[0][0].index, chunk[-1][0].index
        writes: list[dict[str, Any]] = []
        #: Position in `writes` (and in the answer's results) of each post's create.
        post_writes: list[int] = []
        for post, rkey, record, _ in chunk:
            post_writes.append(len(writes))
            writes.append(_create(POST_COLLECTION, rkey, record))
            # A gate's rkey is its post's (the threadgate's, the root's).
            writes += [_create(gate["$type"], rkey, gate) for gate in gates.get(post.index, ())]
        label = f"post {first}" if first == last else f"posts {first}–{last}"
        got = self._xrpc(
            "com.atproto.repo.applyWrites",
            body={"repo": did, "validate": True, "writes": writes},
            what=f"publishing {label} (one atomic write)",
            post=first,
            write=True,
        )
        answered = got.get("results")
        if not (
            isinstance(answered, list)
            and len(answered) == len(writes)
            and all(isinstance(result, Mapping) for result in answered)
        ):
            # A 200 that does not say what it committed (a proxy's page, a truncated
            # body): it may or may not have landed. Confirm nothing here; the engine reads
            # the planned record keys back (`find_published`) before any resend.
            raise unreadable_answer(
                f"publishing {label} (one atomic write)",
                200,
                write=True,
                post=first,
                detail="no result per write",
            )
        # The answer has one result per write, gates included: keep the posts'.
        results = [answered[n] for n in post_writes]
        refs: list[PostRef] = []
        mismatches: list[str] = []
        for (post, rkey, _, cid), result in zip(chunk, results, strict=True):
            uri = str(result.get("uri") or at_uri(did, rkey))
            server_cid = str(result.get("cid") or "")
            refs.append(self._ref(post.index, uri, server_cid or cid))
            if server_cid and server_cid != cid:
                mismatches.append(f"post {post.index} ({server_cid} ≠ computed {cid})")
        confirm(refs)  # one write landed whole: the ledger records it whole
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

    def _gates_of(self, rkeys: Sequence[str]) -> dict[str, list[str]]:
        """Per rkey, the gate collections holding a record under it (to delete with it)."""
        from threadpost.platforms.bluesky.interactions import (
            POSTGATE_COLLECTION,
            THREADGATE_COLLECTION,
        )

        found: dict[str, list[str]] = {}
        for rkey in rkeys:
            for collection in (THREADGATE_COLLECTION, POSTGATE_COLLECTION):
                try:
                    self._xrpc(
                        "com.atproto.repo.getRecord",
                        params={"repo": self.account_id(), "collection": collection, "rkey": rkey},
                        what=f"looking up the {collection} of {rkey}",
                        missing_ok=True,
                    )
                except NotFound:
                    continue
                found.setdefault(rkey, []).append(collection)
        return found

    def _exists(self, rkeys: Sequence[str]) -> list[bool]:
        keys = [PostKey(index=n, key=rkey) for n, rkey in enumerate(rkeys, start=1)]
        return [ref is not None for ref in self.find_published(keys)]


def _create(collection: str, rkey: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "$type": "com.atproto.repo.applyWrites#create",
        "collection": collection,
        "rkey": rkey,
        "value": record,
    }


def _chunks(
    planned: Sequence[tuple[PlannedPost, str, dict[str, Any], str]],
    gates: Mapping[int, Sequence[Mapping[str, Any]]],
) -> Iterator[Sequence[tuple[PlannedPost, str, dict[str, Any], str]]]:
    """Consecutive runs of posts whose writes (each post's create and its gates', which
    never go in another call) are ≤ 200 and ≤ ~0.9 MB of JSON (applyWrites' bounds)."""
    chunk: list[tuple[PlannedPost, str, dict[str, Any], str]] = []
    size = count = 0
    for item in planned:
        records = [item[2], *gates.get(item[0].index, ())]
        item_size = sum(len(json.dumps(r, ensure_ascii=False).encode()) + 200 for r in records)
        if chunk and (
            count + len(records) > MAX_WRITES_PER_CALL or size + item_size > MAX_WRITE_JSON_BYTES
        ):
            yield chunk
            chunk, size, count = [], 0, 0
        chunk.append(item)
        size += item_size
        count += len(records)
    if chunk:
        yield chunk


def _rkey_of_uri(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _rkey(ref: PostRef) -> str:
    return _rkey_of_uri(ref.remote_id)
