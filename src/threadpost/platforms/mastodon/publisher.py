"""The Mastodon adapter: a thread as a reply chain of statuses, via Mastodon.py.

Every request goes through one choke point (`MastodonPublisher._call` → the instance's
`MastodonHttp` of `http.py`, toot's pattern) that turns Mastodon.py's exceptions into
errors.py's `PlatformError`s, so the retry policy in publish.py never sees a library type.
Mastodon.py (~140 ms to import) is imported only inside the methods that talk to the
network; the status parameters come from `statuses.py` (pure, shared with the dry run's
`draft_statuses`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

from threadpost.errors import (
    AuthFailed,
    PermanentError,
    PlatformError,
    TransientError,
)
from threadpost.platforms.base import ConfirmPosts
from threadpost.platforms.mastodon.http import (
    LOGIN_HINT,
    PLATFORM,
    MastodonHttp,
    classify_error,
    parse_reset,
)
from threadpost.platforms.mastodon.instance import instance_limits
from threadpost.platforms.mastodon.known_account import (
    KnownAccount,
    known_account,
    remember_account,
)
from threadpost.platforms.mastodon.polls import poll_param
from threadpost.platforms.mastodon.quotes import (
    local_status_id,
    posted_quote_state,
    quote_denied,
    quote_permission,
    quote_state_warning,
    quotes_natively,
)
from threadpost.platforms.mastodon.statuses import draft_statuses, status_params
from threadpost.values import PlatformLimits, PlatformName, PostKey, PostRef, Problem

# The image and video modules are imported by the uploads: statuses of text load none.
if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.draft import Image
    from threadpost.plan import PlannedPost, Thread
    from threadpost.thread import ReplyTarget

T = TypeVar("T")

#: Version of the idempotency-key recipe: changing the recipe must change the keys.
_KEY_RECIPE: Final = "threadpost-mastodon-idempotency-v1"
#: Media uploads run in parallel, but not so many that the instance's media rate limit
#: (30 per 30 minutes) or a slow uplink make each one time out.
_UPLOAD_WORKERS: Final = 4
#: How long the instance remembers an Idempotency-Key (Mastodon: one hour), less a margin.
IDEMPOTENCY_MEMORY: Final = timedelta(minutes=55)
#: A status's created_at is the instance's clock, the ledger's first attempt ours: the first
#: attempt is translated by the offset the instance's Date header shows, and this much more
#: is read before it (Date is in whole seconds; the offset may have drifted since).
CLOCK_SKEW: Final = timedelta(minutes=2)
#: Look-ups read the account's statuses newest first, this many per page, at most this many
#: pages: an account posting more than 2,000 statuses since the first attempt is not
#: searched to the end (see `find_published`).
LOOKUP_PAGE_SIZE: Final = 40
LOOKUP_MAX_PAGES: Final = 50
#: Statuses whose rendered text does not match but whose parent does are compared through
#: their source text (one request each), at most this many per look-up.
LOOKUP_MAX_SOURCES: Final = 10
#: Without a first attempt time to trust (a ledger from before it was kept, no readable Date
#: from the instance, a local clock set back since), search this far back.
LOOKUP_FALLBACK_WINDOW: Final = timedelta(days=2)


def idempotency_key(account: str, thread_id: str, post: PlannedPost, thread: Thread) -> str:
    """The Idempotency-Key of one post: the same post of the same thread always gets the same.

    It hashes who posts (account), which thread and which post (index), and what is sent
    (text, content warning, each image's path and alt text), so an edited post gets a new
    key while a retried or resumed one reuses its own.
    """
    content = json.dumps(
        {
            "text": post.text,
            "spoiler_text": thread.content_warning(post) or "",
            "media": [[str(image.path), image.alt] for image in post.images],
            # Only with a poll, so that the keys of posts without one stay as they were.
            **({"poll": poll_param(post.poll)} if post.poll is not None else {}),
            **({"quote": post.quote} if post.quote is not None else {}),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    content_hash = hashlib.sha256(content.encode()).hexdigest()
    recipe = "\x1f".join([_KEY_RECIPE, account, thread_id, PLATFORM, str(post.index), content_hash])
    return hashlib.sha256(recipe.encode()).hexdigest()


class MastodonPublisher:
    """One Mastodon account (settings.mastodon.instance + access_token)."""

    platform: PlatformName = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        request_timeout: float = 30.0,
        media_poll_interval: float = 1.0,
        media_poll_attempts: int = 60,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        token = settings.mastodon.access_token
        self._instance = settings.mastodon.instance
        if not token:
            raise AuthFailed(
                f"no Mastodon access token for {self._instance}",
                platform=PLATFORM,
                hint="run: threadpost login mastodon --instance URL "
                "(or set THREADPOST_MASTODON_TOKEN)",
            )
        self._settings = settings
        self._token = token
        self._poll_interval = media_poll_interval
        self._poll_attempts = media_poll_attempts
        self._sleep = sleep
        #: Every request to the instance goes through it (timeouts, errors, secrets).
        self._http = MastodonHttp(self._instance, timeout=request_timeout, secrets=(token,))
        self._api: Any = None
        self._account: str | None = None
        self._account_number: str | None = None
        #: Non-fatal findings (an image focus the instance ignored), for the orchestration.
        self.warnings: list[Problem] = []
        self._version_probed = False
        self._lock = threading.Lock()

    # -- the Publisher protocol ------------------------------------------------------------

    def account_id(self) -> str:
        """`username@host` of the token's account: asked once (verify_credentials), then
        remembered in the state directory, so that a publish sends nothing before its first
        status (a revoked token is refused at that status, before anything is posted)."""
        if self._account is None:
            state_dir = self._settings.state_dir
            known = known_account(state_dir, self._instance, self._token)
            if known is None:
                account = self._http.request_json(
                    "checking the account",
                    "GET",
                    "/api/v1/accounts/verify_credentials",
                    None,
                    access_token=self._token,
                    expect="id",
                )
                host = urlsplit(self._instance).hostname or self._instance
                known = KnownAccount(f"{account['username']}@{host}", str(account["id"]))
                with contextlib.suppress(OSError):  # not remembered: asked again next time
                    remember_account(state_dir, self._instance, self._token, known)
            self._account = known.name
            self._account_number = known.number
        return self._account

    def limits(self) -> PlatformLimits:
        """The instance's own limits (its /api/v2/instance, cached for a day)."""
        return instance_limits(self._settings, offline=False)

    def post_keys(self, thread_id: str, thread: Thread) -> list[PostKey]:
        """One deterministic Idempotency-Key per post (see `idempotency_key`)."""
        account = self.account_id()
        return [
            PostKey(index=post.index, key=idempotency_key(account, thread_id, post, thread))
            for post in thread.posts
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
        """Upload the media of posts `start`.. concurrently, then post them as a reply chain.

        Each status POST carries its post's Idempotency-Key, so resending one that landed
        without our knowing (a timeout, a lost answer) returns the original within the
        server's hour instead of a duplicate. `confirm` is called after each status.
        """
        posts = [post for post in thread.posts if post.index >= start]
        key_of = {key.index: key.key for key in keys}
        for post in posts:
            if post.index not in key_of:
                raise PermanentError(
                    f"post {post.index} has no idempotency key; refusing to send it unkeyed",
                    platform=PLATFORM,
                    post=post.index,
                )
        if start > 1 and parent is None:
            raise PermanentError(
                f"cannot continue the thread at post {start}: post {start - 1}'s status id "
                "is unknown",
                platform=PLATFORM,
                post=start,
            )
        # Before anything is uploaded or posted: a quoted post the instance cannot find
        # stops the thread here.
        warned_from = len(self.warnings)  # this thread's warnings start here
        quotes = self._resolve_quotes(thread, posts, start)
        media_ids = self._upload_all(posts)
        parent_id = parent.remote_id if parent is not None else self._reply_parent_id(thread)
        for post in posts:
            params = status_params(thread, post)
            params["quoted_status_id"] = quotes.get(post.index)
            status = self._post_status(
                post.index, params, parent_id, media_ids[post.index], key_of[post.index]
            )
            ref = PostRef(
                platform=PLATFORM,
                index=post.index,
                remote_id=str(status["id"]),
                url=str(status.get("url") or status.get("uri") or ""),
            )
            confirm([ref])
            self._note_quote_state(post, status, self.warnings[warned_from:])
            parent_id = ref.remote_id

    def find_published(
        self,
        keys: Sequence[PostKey],
        *,
        thread: Thread | None = None,
        parent: PostRef | None = None,
    ) -> list[PostRef | None]:
        """Which of the keyed posts (consecutive, the first replying to `parent`) the account
        has published, found by reading its own recent statuses.

        Mastodon cannot look a status up by its Idempotency-Key, and remembers the key for
        only an hour: a post left in doubt and resumed later would be posted twice if the
        resend were trusted to be deduplicated. So the account's statuses are read newest
        first (GET /api/v1/accounts/:id/statuses, replies included, paged with max_id), and a
        post is found when a status replies to the right parent (none for post 1) with the
        same text: its rendered HTML reduced to plain words, or, when that differs
        (formatting the instance applies), its source text (GET /api/v1/statuses/:id/source),
        which is exactly what was sent.

        How far back to read never trusts the local clock to agree with the instance's
        (issue 17): after post k-1 (a confirmed status) only what is newer than it is read,
        the instance filtering by id (`since_id`); for post 1 the search goes back to the
        first attempt translated into the instance's time by the offset its own `Date`
        header shows, less CLOCK_SKEW. When that time cannot be trusted (no readable Date,
        or a first attempt later than the local clock now: it was set back), the search goes
        back LOOKUP_FALLBACK_WINDOW, wide rather than blind.

        Without the plan (`thread`) nothing can be matched: every post is reported missing,
        and only the Idempotency-Key protects a resend. When the search cannot reach its
        bound (more than LOOKUP_MAX_PAGES pages), the answer is "missing" while the instance
        still remembers the keys, and an error naming the post after that.
        """
        if not keys:
            return []
        missing: list[PostRef | None] = [None] * len(keys)
        ordered = sorted(keys, key=lambda k: k.index)
        if thread is None or (ordered[0].index > 1 and parent is None):
            return missing
        posts = {post.index: post for post in thread.posts}
        now = datetime.now(UTC)
        known = [k.first_attempt_at for k in ordered if k.first_attempt_at is not None]
        since = min(known) if known else now - LOOKUP_FALLBACK_WINDOW
        parent_id = parent.remote_id if parent is not None else self._reply_parent_id(thread)
        search = self._statuses_since(since, now=now, after_id=parent_id, first=ordered[0].index)
        if not search.complete and now - since >= IDEMPOTENCY_MEMORY:
            raise PermanentError(
                f"cannot tell whether post {ordered[0].index} was published: the account has "
                f"posted more than {LOOKUP_PAGE_SIZE * LOOKUP_MAX_PAGES} statuses since its "
                f"first attempt ({since.isoformat(timespec='seconds')}) and {self._instance} "
                "no longer remembers its Idempotency-Key; resending could post it twice",
                platform=PLATFORM,
                post=ordered[0].index,
                hint="look at the account: delete the thread's posts and publish again with "
                "--again, or leave it",
            )
        budget = [LOOKUP_MAX_SOURCES]
        found: dict[int, PostRef] = {}
        for key in ordered:
            post = posts.get(key.index)
            if post is None:
                break
            status = self._find_status(search, post, thread, parent_id, budget)
            if status is None:
                break  # later posts reply to this one: they cannot exist either
            ref = PostRef(
                platform=PLATFORM,
                index=key.index,
                remote_id=str(status["id"]),
                url=str(status.get("url") or status.get("uri") or ""),
            )
            found[key.index] = ref
            parent_id = ref.remote_id
        return [found.get(key.index) for key in keys]

    def quote_permission_of(self, address: str) -> str | None:
        """How the quote policy of the status at `address` applies to this account
        (`quote_approval.current_user`), when the address names a status of this instance
        (one GET /api/v1/statuses/:id); None for another instance's address (only a
        federated search could tell) or a status that is not there."""
        from mastodon.errors import MastodonNotFoundError

        status_id = local_status_id(address, self._instance)
        if status_id is None:
            return None

        def read() -> Any:
            try:
                return self._client().status(status_id)
            except MastodonNotFoundError:
                return None

        status = self._call(f"reading the quoted post {address}", read)
        return None if not status else quote_permission(status)

    def find_reply_parent(self, target: ReplyTarget) -> ReplyTarget | None:
        """The status `target` names, as the account's instance knows it: by id when it is
        known (`--continue`: the account's own status, GET /api/v1/statuses/:id), else by
        its address (GET /api/v2/search?resolve=true, which fetches a remote post). None:
        the instance finds no such status (deleted, not visible to the account, no post)."""
        from mastodon.errors import MastodonNotFoundError

        if target.remote_id is not None:
            status_id = target.remote_id

            def by_id() -> Any:
                try:
                    return self._client().status(status_id)
                except MastodonNotFoundError:
                    return None

            status = self._call(f"reading the status {target.where} replies to", by_id)
        else:
            found = self._call(
                f"looking up the post {target.where} replies to",
                partial(
                    self._client().search_v2,
                    target.address,
                    resolve=True,
                    result_type="statuses",
                    exclude_unreviewed=False,
                ),
            )
            statuses = list((found or {}).get("statuses") or [])
            status = statuses[0] if statuses else None
        if not status:
            return None
        url = str(status.get("url") or status.get("uri") or target.address)
        return replace(target, remote_id=str(status["id"]), url=url)

    @staticmethod
    def _reply_parent_id(thread: Thread | None) -> str | None:
        """The status id post 1 replies to (None: the thread starts a conversation);
        PermanentError when the plan was frozen without the parent found."""
        target = thread.reply_to if thread is not None else None
        if target is None:
            return None
        if target.remote_id is None:
            raise PermanentError(
                f"the post this thread replies to ({target.where}: {target.address}) was "
                "never found; nothing was sent to Mastodon",
                platform=PLATFORM,
                post=1,
            )
        return target.remote_id

    def _statuses_since(
        self, since: datetime, *, now: datetime, after_id: str | None, first: int
    ) -> _Search:
        """The account's statuses newer than status `after_id` (when given) or else created
        at or after the first attempt `since` (local clock) on the instance's clock, less
        the margin; newest first."""
        self.account_id()
        account = self._account_number
        collected: list[Any] = []
        max_id: str | None = None
        cutoff: datetime | None = None
        anchor: datetime | None = None
        for _ in range(LOOKUP_MAX_PAGES):
            page = self._call(
                f"looking for post {first} among the account's statuses",
                partial(
                    self._client().account_statuses,
                    account,
                    exclude_replies=False,
                    limit=LOOKUP_PAGE_SIZE,
                    max_id=max_id,
                    since_id=after_id,
                ),
                post=first,
            )
            if after_id is None and cutoff is None:
                anchor, cutoff = self._lookup_bound(since, now)
            if not page:
                return _Search(collected, True, anchor)
            if after_id is not None:
                # The instance filtered by id already; an older one means it ignored since_id.
                newer = [s for s in page if _id_order(str(s["id"])) > _id_order(after_id)]
                collected.extend(newer)
                if len(newer) < len(page):
                    return _Search(collected, True, None)
            else:
                assert cutoff is not None
                collected.extend(s for s in page if _created_at(s) >= cutoff)
                if _created_at(page[-1]) < cutoff:
                    return _Search(collected, True, anchor)
            max_id = str(page[-1]["id"])
        return _Search(collected, False, anchor)

    def _lookup_bound(self, since: datetime, now: datetime) -> tuple[datetime, datetime]:
        """(the first attempt on the instance's clock, the oldest created_at to read),
        judged from the Date of the answer just received."""
        offset = self._http.last_clock_offset()
        if offset is None or since > now + CLOCK_SKEW:
            # No instance time to translate by, or the local clock was set back since the
            # first attempt: read a wide window rather than trust the local time.
            start = now + (offset or timedelta(0)) - LOOKUP_FALLBACK_WINDOW
            return start, start
        anchor = since + offset
        return anchor, anchor - CLOCK_SKEW

    def _find_status(
        self,
        search: _Search,
        post: PlannedPost,
        thread: Thread,
        parent_id: str | None,
        budget: list[int],
    ) -> Any:
        """The oldest status replying to `parent_id` whose text is `post`'s, or None; one
        created after the first attempt is preferred to one only inside the margin before
        it (an identical post 1 published just before is a twin, not this post)."""
        candidates = [
            status
            for status in reversed(search.statuses)  # oldest first: never prefer a duplicate
            if not status.get("reblog")
            and _id_or_none(status.get("in_reply_to_id")) == parent_id
            and words(status.get("spoiler_text") or "") == words(thread.content_warning(post) or "")
        ]
        if parent_id is None and search.anchor is not None:
            anchor = search.anchor
            candidates.sort(key=lambda status: _created_at(status) < anchor)  # stable
        wanted = words(post.text)
        for status in candidates:
            if words(html_to_text(str(status.get("content") or ""))) == wanted:
                return status
        for status in candidates:
            if budget[0] <= 0:
                break
            budget[0] -= 1
            source = self._source_text(str(status["id"]), post.index)
            if source is not None and _same_source(source, post.text):
                return status
        return None

    def _source_text(self, status_id: str, index: int) -> str | None:
        """The status's text as it was typed (None on an instance without /source)."""
        from mastodon.errors import MastodonNotFoundError

        def source() -> Any:
            try:
                return self._client().status_source(status_id)
            except MastodonNotFoundError:
                return None

        got = self._call(f"reading the source of status {status_id}", source, post=index)
        if not got:
            return None
        text = got.get("text")
        return str(text) if text is not None else None

    def edit(
        self, ref: PostRef, thread: Thread, post: PlannedPost, changes: Sequence[str] = ()
    ) -> str | None:
        """Edit the published status `ref` in place to carry `post` of `thread` (see
        `edits.py`), and set its quote policy when that is among `changes`
        (`quote_policy_edits.py`); the instance's `edited_at` for it."""
        from threadpost.platforms.mastodon.edits import edit_status
        from threadpost.platforms.mastodon.quote_policy_edits import (
            QUOTE_POLICY_FIELD,
            update_quote_policy,
        )

        status: dict[str, Any] = {}
        # No changes named (an older caller): the content, as before.
        if not changes or set(changes) - {QUOTE_POLICY_FIELD}:
            status = edit_status(self._http, self._client(), ref, thread, post)
        if QUOTE_POLICY_FIELD in changes and thread.quote_policy is not None:
            answer = update_quote_policy(self._http, self._client(), ref, thread.quote_policy)
            status = status or answer
        edited_at = status.get("edited_at")
        return None if edited_at is None else str(edited_at)

    def delete(self, refs: Sequence[PostRef]) -> None:
        """Delete the statuses, last first; one that is already gone counts as deleted."""
        for ref in sorted(refs, key=lambda r: r.index, reverse=True):
            self._call(
                f"deleting post {ref.index} (status {ref.remote_id})",
                partial(self._delete_status, ref.remote_id),
                post=ref.index,
            )

    def close(self) -> None:
        """Release the HTTP connections. Idempotent; a later call opens new ones."""
        self._api = None
        self._version_probed = False
        self._http.close()

    def _delete_status(self, status_id: str) -> None:
        from mastodon.errors import MastodonNotFoundError

        # Already gone (deleted by an earlier run, or by hand) counts as deleted.
        with contextlib.suppress(MastodonNotFoundError):
            self._client().status_delete(status_id)

    # -- posting ---------------------------------------------------------------------------

    def _post_status(
        self,
        index: int,
        params: dict[str, Any],
        parent_id: str | None,
        media_ids: list[str],
        key: str,
    ) -> Any:
        not_found = (
            f"post {index} replies to status {parent_id}, which no longer exists on "
            f"{self._instance} (deleted?)"
            if parent_id
            else None
        )
        # Straight JSON, not Mastodon.py's status_post: see MastodonHttp.request_json.
        return self._http.request_json(
            f"publishing post {index}",
            "POST",
            "/api/v1/statuses",
            {
                "status": params["status"],
                "in_reply_to_id": parent_id,
                "media_ids": media_ids or None,
                "sensitive": params["sensitive"],
                "visibility": params["visibility"],
                "spoiler_text": params["spoiler_text"],
                "language": params["language"],
                "poll": params["poll"],
                "quoted_status_id": params["quoted_status_id"],
                "quote_approval_policy": params.get("quote_approval_policy"),
            },
            access_token=self._token,
            headers={"Idempotency-Key": key},
            post=index,
            write=True,
            not_found=not_found,
            expect="id",
        )

    def _resolve_quotes(
        self, thread: Thread, posts: Sequence[PlannedPost], start: int
    ) -> dict[int, str]:
        """The status id of each post's quoted post, found by its address on the account's
        own instance (GET /api/v2/search?resolve=true, which fetches a remote post), where
        the instance makes quote posts (`limits.quote_posts`; otherwise the address is
        already a link in the text). PermanentError naming the post and its draft line when
        the instance finds no such post."""
        ids: dict[int, str] = {}
        for post in posts:
            address = post.quote
            if address is None or not quotes_natively(address, thread.limits):
                continue  # nothing quoted, or quoted as a link in the text
            found = self._call(
                f"looking up the post quoted by post {post.index}",
                partial(
                    self._client().search_v2,
                    address,
                    resolve=True,
                    result_type="statuses",
                    exclude_unreviewed=False,
                ),
                post=post.index,
            )
            statuses = list((found or {}).get("statuses") or [])
            if not statuses:
                sent = "nothing was sent" if start == 1 else f"post {start} on were not sent"
                raise PermanentError(
                    f"post {post.index} (draft line {post.quote_line or post.source_line}) "
                    f"quotes {address}, but {self._instance} finds no such post (deleted, "
                    f"not public, or not a post's address); {sent} to Mastodon",
                    platform=PLATFORM,
                    post=post.index,
                    hint="check the address in the '> quote' line",
                )
            if quote_denied(statuses[0]):
                sent = "nothing was sent" if start == 1 else f"post {start} on were not sent"
                raise PermanentError(
                    f"post {post.index} (draft line {post.quote_line or post.source_line}) "
                    f"quotes {address}, but its author's quote policy does not let this "
                    f"account quote it; {sent} to Mastodon",
                    platform=PLATFORM,
                    post=post.index,
                    hint="link the post in the text instead of quoting it, or ask its author",
                )
            if quote_permission(statuses[0]) == "manual":
                self.warnings.append(
                    Problem(
                        severity="warning",
                        code="quote-pending",
                        message=f"post {post.index} quotes {address}, whose author reviews "
                        "quotes by hand: the quote stays pending until they approve it",
                        platform=PLATFORM,
                        post=post.index,
                    )
                )
            ids[post.index] = str(statuses[0]["id"])
        return ids

    def _note_quote_state(
        self, post: PlannedPost, status: Mapping[str, Any], earlier: Sequence[Problem]
    ) -> None:
        """Keep, as a warning, the state the instance gave a quote it did not accept at once
        (4.5's `quote.state`, e.g. pending); not twice when the check before sending
        (`earlier`: this thread's warnings so far) already said the same."""
        state = posted_quote_state(status)
        if state is None or post.quote is None:
            return
        warning = quote_state_warning(post.index, post.quote, state)
        if warning is None:
            return
        if any(w.code == warning.code and w.post == post.index for w in earlier):
            return
        self.warnings.append(warning)

    def _upload_all(self, posts: Sequence[PlannedPost]) -> dict[int, list[str]]:
        """Upload every image of `posts` in parallel; media ids per post index, in order."""
        jobs = [(post.index, image) for post in posts for image in post.images]
        ids: dict[int, list[str]] = {post.index: [] for post in posts}
        if not jobs:
            return ids
        self._probe_version()
        limits = self.limits()  # once, not per upload thread
        from concurrent.futures import ThreadPoolExecutor  # with logging: ~3 ms, when needed

        with ThreadPoolExecutor(max_workers=min(_UPLOAD_WORKERS, len(jobs))) as pool:
            futures = [pool.submit(self._upload, index, image, limits) for index, image in jobs]
            first_error: PlatformError | None = None
            results: list[str | None] = []
            for future in futures:
                try:
                    results.append(future.result())
                except PlatformError as error:
                    results.append(None)
                    first_error = first_error or error
        if first_error is not None:
            raise first_error
        for (index, _image), media_id in zip(jobs, results, strict=True):
            assert media_id is not None
            ids[index].append(media_id)
        return ids

    def _upload(self, index: int, image: Image, limits: PlatformLimits) -> str:
        """Upload one image or video with its alt text; wait until the instance has
        processed it (a video takes longer: it is transcoded)."""
        from threadpost.videos import is_video

        if is_video(image.path):
            data, mime = self._video_bytes(index, image, limits)
            return self._send_media(index, image, data, mime, "video")
        data, mime = self._image_bytes(index, image, limits)
        return self._send_media(index, image, data, mime, "image")

    def _video_bytes(self, index: int, video: Image, limits: PlatformLimits) -> tuple[bytes, str]:
        from threadpost.video_upload import VideoWontGo, prepare_video

        try:
            prepared = prepare_video(video.path, video.written_path, limits, "Mastodon")
        except VideoWontGo as exc:
            raise PermanentError(
                f"post {index}: {exc.reason}", platform=PLATFORM, post=index
            ) from None
        return prepared.data, prepared.info.mime

    def _image_bytes(self, index: int, image: Image, limits: PlatformLimits) -> tuple[bytes, str]:
        from threadpost.image_fit import pixel_limit
        from threadpost.image_upload import ImageWontFit, prepare_upload
        from threadpost.images import ImageError, inspect_image

        try:
            info = inspect_image(image.path)
            # Private metadata is stripped and an image over the instance's limits is
            # downscaled before it leaves the machine (image_upload.py).
            prepared = prepare_upload(
                image.path,
                max_bytes=limits.max_image_bytes,
                max_pixels=pixel_limit(limits, info.mime),
            )
        except ImageError as exc:
            raise PermanentError(
                f"post {index}: image {image.written_path}: {exc.reason}",
                platform=PLATFORM,
                post=index,
            ) from None
        except ImageWontFit as exc:
            raise PermanentError(
                f"post {index}: image {image.written_path} {exc.reason}",
                platform=PLATFORM,
                post=index,
            ) from None
        except OSError as exc:
            raise PermanentError(
                f"post {index}: cannot read image {image.written_path}: {exc.strerror or exc}",
                platform=PLATFORM,
                post=index,
            ) from None
        return prepared.data, prepared.mime

    def _send_media(self, index: int, image: Image, data: bytes, mime: str, kind: str) -> str:
        focus = getattr(image, "focus", None)  # (x, y) in -1..1, when the draft gives one
        media = self._call(
            f"uploading {kind} {image.written_path} of post {index}",
            lambda: self._client().media_post(
                data,
                mime_type=mime,
                description=image.alt or None,
                focus=focus,
                file_name=Path(image.path).name,
            ),
            post=index,
            # An upload whose answer is lost or unreadable may have created the media: the
            # attempt is unclear (an unattached media is harmless; the retry uploads anew).
            write=True,
            expect="id",
        )
        media_id = str(media["id"])
        if focus is not None and not (media.get("meta") or {}).get("focus"):
            self.warnings.append(
                Problem(
                    severity="warning",
                    code="image-focus-ignored",
                    message=f"post {index}: {self._instance} ignored the focus point of "
                    f"image {image.written_path} (it is shown centred)",
                    platform=PLATFORM,
                    post=index,
                )
            )
        polls = 0
        # 202 + url null: the instance is still processing; GET /api/v1/media/:id answers
        # 206 until it is done. Attaching before that fails with 422.
        while media.get("url") is None:
            if polls >= self._poll_attempts:
                raise TransientError(
                    f"post {index}: {self._instance} is still processing {kind} "
                    f"{image.written_path} after {polls} checks; try again later",
                    platform=PLATFORM,
                    post=index,
                )
            self._sleep(min(self._poll_interval * (1 + polls // 5), 5.0))
            polls += 1
            media = self._call(
                f"waiting for {kind} {image.written_path} of post {index}",
                lambda: self._client().media(media_id),
                post=index,
                expect="id",
            )
        return media_id

    def _probe_version(self) -> None:
        # Mastodon.py picks /api/v2/media over /api/v1/media by the server's version; ask
        # once here rather than racing the probe in every upload thread.
        with self._lock:
            if self._version_probed:
                return
            self._call(
                "reading the instance version",
                lambda: self._client().retrieve_mastodon_version(fail_hard=True),
            )
            self._version_probed = True

    # -- the choke point -------------------------------------------------------------------

    def _client(self) -> Any:
        if self._api is None:
            self._api = self._http.client(access_token=self._token)
        return self._api

    def _call(
        self,
        action: str,
        call: Callable[[], T],
        *,
        post: int | None = None,
        write: bool = False,
        not_found: str | None = None,
        expect: str | None = None,
    ) -> T:
        """Run one Mastodon.py call through the instance's transport (`http.py`): every
        failure leaves as a PlatformError."""
        return self._http.call(
            action, call, post=post, write=write, not_found=not_found, expect=expect
        )


def html_to_text(html: str) -> str:
    """A status's rendered `content` as plain text: tags dropped (a link's hidden parts
    kept), entities decoded, paragraphs and line breaks as newlines."""
    from html.parser import HTMLParser  # only when a status is read back: rare

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("br", "p"):
                self.parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag == "p":
                self.parts.append("\n")

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


_REMOTE_MENTION: Final = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@[\w.-]+\w", re.I)


def words(text: str) -> list[str]:
    """Text reduced to what survives Mastodon's rendering: whitespace-separated words, with
    `@user@domain` as `@user` (the instance shows a resolved remote mention that way)."""
    return _REMOTE_MENTION.sub(r"@\1", text).split()


def _same_source(source: str, sent: str) -> bool:
    # The instance keeps the text as typed; only line endings and outer blanks may differ.
    def clean(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    return clean(source) == clean(sent)


def _created_at(status: Any) -> datetime:
    value = status.get("created_at")
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class _Search:
    """What a look-up read: statuses newest first, whether it reached its bound, and the
    first attempt on the instance's clock (None when bounded by the parent's id)."""

    statuses: list[Any]
    complete: bool
    anchor: datetime | None


def _id_order(status_id: str) -> tuple[int, str]:
    # Mastodon's ids are decimal snowflakes, other servers' fixed-width sortable strings
    # (ULIDs, flake ids): by length, then text, orders both by creation.
    return len(status_id), status_id


def _id_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


__all__ = [
    "LOGIN_HINT",
    "MastodonPublisher",
    "classify_error",
    "draft_statuses",
    "html_to_text",
    "idempotency_key",
    "parse_reset",
    "words",
]
