"""A local Mastodon API server for tests, faithful to PLATFORM_RULES.md "Mastodon".

Standard library only (http.server), bound to 127.0.0.1 on port 0, served from a thread.

    with MastodonTestServer(max_characters=500) as server:
        server.url            # http://127.0.0.1:PORT
        server.token          # Bearer token of the default account "alice"
        server.faults.add("error", on_path="/api/v1/statuses", at_count=2, status=503)
        server.requests       # every request: method, path, headers, form, files, status
        server.published()    # stored statuses, oldest first

What it checks like Mastodon 4.x does: Bearer tokens (401 on a wrong one), status length
(graphemes, URLs as characters_reserved_per_url, `@user@domain` as `@user`, the content
warning included) against `max_characters`, 404 for a missing `in_reply_to_id`,
Idempotency-Key replay per account for an hour (`expire_idempotency_keys()` makes the hour
pass), rate limits (X-RateLimit-* headers on every
authenticated response, reset in ISO-8601 with microseconds; 429 when spent), media
processing (POST /api/v2/media answers 202 with url null; GET /api/v1/media/:id answers
206 until `media_polls` polls have passed, then 200 with the url; an image over
`image_size_limit` bytes or `image_matrix_limit` pixels (a GIF: 1280×720) → 422; an
animated GIF becomes type "gifv"; a video (mp4, quicktime, webm) is type "video", checked
against video_size_limit, video_matrix_limit and video_frame_rate_limit (422) and, once
processed, has Mastodon's video `meta` (length, duration, fps, size, original); a video
beside other media → 422; the bytes received are kept in `media[id].data`), media
ids that are unknown, unprocessed or already attached → 422, more than
max_media_attachments → 422.
Polls (JSON `poll` or form `poll[options][]`, `poll[expires_in]`, `poll[multiple]`,
`poll[hide_totals]`) are checked like PollValidator against configuration.polls (2 to
max_options options, each at most max_characters_per_option graphemes, no duplicates,
min_expiration..max_expiration seconds) and refused with media (422), stored, and returned
as the status's Poll entity (counts null while hide_totals hides them).
Quotes (Mastodon 4.5): with `api_version` ≥ 7 (announced as api_versions.mastodon),
`quoted_status_id` must name a status that exists and is public or unlisted (404
otherwise), is stored, and the status JSON carries `quote` {state, quoted_status}; below 7
the parameter is ignored and `quote` absent. GET /api/v2/search?q=<address>&resolve=true
finds a status by its url or uri.
A status's `content` is HTML rendered the way Mastodon's TextFormatter does it (`<p>`
paragraphs, `<br />`, linkified URLs split into invisible/ellipsis spans, mentions as h-card
links showing only `@user`, hashtags), so comparing it with the text sent takes care; the
text as typed is at GET /api/v1/statuses/:id/source (own statuses only). An account's
statuses: GET /api/v1/accounts/:id/statuses, newest first, paged with max_id / since_id /
min_id and `limit` (default 20, at most 40), with exclude_replies / exclude_reblogs /
only_media, and a Link header like Mastodon's.
Edits (Mastodon 3.5+): PUT /api/v1/statuses/:id (own statuses only, 404 otherwise; text,
spoiler_text, sensitive, language; `media_ids` are the attachments kept, `media_attributes`
re-describe them; validated like a new status; sets edited_at; the original and each
version at GET /api/v1/statuses/:id/history); PUT /api/v1/media/:id re-describes media not
yet attached (404 once attached, as on Mastodon). Quote policies (4.5, api version 7):
PUT /api/v1/statuses/:id/interaction_policy sets `quote_approval_policy` on the author's
own status (404 otherwise; private/direct stay nobody; no history entry).

Control API (for a server run as a subprocess, `python -m mastodon_server`):
    GET  /_control/requests          recorded requests (JSON)
    GET  /_control/statuses          stored statuses
    POST /_control/faults            {"kind": ..., "on_path": ..., "at_count": ..., ...}
    POST /_control/faults/clear
    POST /_control/config            {"max_characters": 5000, "media_polls": 2, ...}
    POST /_control/idempotency/expire  forget every Idempotency-Key (the hour has passed)
    POST /_control/clock             {"offset_seconds": -3600}: the instance's clock runs
                                     this far from the real one (created_at, Date, resets)
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from ugrapheme import grapheme_len

from mastodon_server.faults import FaultPlan
from mastodon_server.length import status_length
from mastodon_server.rendering import render_status
from mastodon_server.video_probe import Probe, probe_mp4, probe_webm

IDEMPOTENCY_WINDOW: Final = timedelta(hours=1)
#: api_versions.mastodon of Mastodon 4.5, the first to take `quoted_status_id`.
QUOTES_API_VERSION: Final = 7
VISIBILITIES: Final = ("public", "unlisted", "private", "direct")

#: The scopes of a token made with add_account: everything, like an app registered for
#: "read write follow push".
FULL_SCOPES: Final = "read write follow push"

#: The scope each endpoint asks of a token, as Mastodon's controllers declare it with
#: doorkeeper_authorize! / authorize_if_got_token!: the granular scope, or its top-level
#: one (`write` covers `write:statuses`; `profile` also opens verify_credentials).
_ENDPOINT_SCOPES: Final = (
    ("GET", re.compile(r"/api/v1/accounts/verify_credentials"), ("read:accounts", "profile")),
    ("GET", re.compile(r"/api/v1/accounts/lookup"), ("read:accounts",)),
    ("GET", re.compile(r"/api/v1/accounts/\w+/statuses"), ("read:statuses",)),
    ("GET", re.compile(r"/api/v1/statuses/\w+(/context|/source|/history)?"), ("read:statuses",)),
    ("POST", re.compile(r"/api/v1/statuses"), ("write:statuses",)),
    ("PUT", re.compile(r"/api/v1/statuses/\w+(/interaction_policy)?"), ("write:statuses",)),
    ("DELETE", re.compile(r"/api/v1/statuses/\w+"), ("write:statuses",)),
    ("POST", re.compile(r"/api/v[12]/media"), ("write:media",)),
    ("GET", re.compile(r"/api/v1/media/\w+"), ("write:media",)),
    ("PUT", re.compile(r"/api/v1/media/\w+"), ("write:media",)),
    ("GET", re.compile(r"/api/v2/search"), ("read:search",)),
)
MAX_DESCRIPTION: Final = 1500  # Mastodon's MediaAttachment::MAX_DESCRIPTION_LENGTH
#: Attachmentable::GIF_MATRIX_LIMIT (1280×720): a GIF over it is refused, whatever the instance.
GIF_MATRIX_LIMIT: Final = 921_600
#: The video types Mastodon's MediaAttachment::VIDEO_MIME_TYPES accept (a subset: the
#: containers threadpost sends).
VIDEO_TYPES: Final = ("video/mp4", "video/quicktime", "video/webm")
#: The "non_json_after_commit" fault's answer: what a proxy's error page in front of a
#: stored write looks like to the client (a 200 whose body is not the status).
NON_JSON_BODY: Final = b"<html><body><h1>200 OK</h1><p>Request accepted.</p></body></html>\n"


class _Reply(Exception):
    """Raised by a route to answer with an error status and {"error": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Account:
    id: str
    username: str
    display_name: str


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    #: The bytes as received, so tests can check what the instance would store.
    data: bytes = field(default=b"", repr=False)


def _require_scope(request: RecordedRequest, method: str, path: str) -> None:
    """403 like Mastodon's when the token lacks the scope the endpoint asks for."""
    for wanted_method, pattern, scopes in _ENDPOINT_SCOPES:
        if method == wanted_method and pattern.fullmatch(path):
            granted = request.scopes
            if not any(s in granted or s.split(":")[0] in granted for s in scopes):
                raise _Reply(403, "This action is outside the authorized scopes")
            return


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]
    #: multipart file fields by name
    files: dict[str, UploadedFile]
    json: Any
    account: str | None = None
    #: the OAuth scopes of the request's token (empty without one)
    scopes: frozenset[str] = frozenset()
    #: the answer's status; None when the connection was dropped without one
    status: int | None = None
    fault: str | None = None
    #: extra headers of the answer (the Link header of a paged list)
    answer_headers: dict[str, str] = field(default_factory=dict)
    #: When the request was read and when its answer was written (`time.time()`, the clock
    #: other servers' logs use too): whether two clients' requests were in flight at once.
    received_at: float = 0.0
    answered_at: float | None = None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def value(self, name: str) -> str | None:
        """A form (or JSON) field's single value."""
        values = self.form.get(name)
        if values:
            return values[0]
        if isinstance(self.json, dict) and name in self.json:
            return str(self.json[name])
        return None


@dataclass
class StoredPoll:
    """A status's poll, as PollValidator let it through (no votes are ever cast here)."""

    id: str
    options: list[str]
    expires_at: datetime
    multiple: bool
    hide_totals: bool


@dataclass
class StoredStatus:
    id: str
    account: str
    text: str
    spoiler_text: str
    visibility: str
    sensitive: bool
    language: str | None
    in_reply_to_id: str | None
    media_ids: list[str]
    created_at: datetime
    idempotency_key: str | None = None
    deleted: bool = False
    poll: StoredPoll | None = None
    #: The status it quotes (Mastodon 4.5 `quoted_status_id`), accepted at once: here every
    #: post keeps the default quote policy, which lets anyone quote a public post.
    quoted_status_id: str | None = None
    #: Its `quote_approval_policy` (4.5): public, followers or nobody; private and direct
    #: statuses are always nobody, as Mastodon forces.
    quote_policy: str = "public"
    #: When it was last edited (PUT /api/v1/statuses/:id); None while never.
    edited_at: datetime | None = None
    #: Its StatusEdit entities, oldest first: the original and each edit (Mastodon keeps
    #: the original as the first entry once the status is edited).
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StoredMedia:
    id: str
    account: str
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str | None
    focus: tuple[float, float] | None
    polls_left: int
    status_id: str | None = None
    #: The uploaded file's bytes (Mastodon keeps the original until it is processed).
    data: bytes = field(default=b"", repr=False)
    #: The attachment's `type`: "image", or "gifv" for an animated GIF (Mastodon turns
    #: those into a silent looping video), "video" for a video.
    kind: str = "image"
    #: A video's size, frame rate and duration as probed at upload (None: not a video, or
    #: one the probe cannot read).
    video: Probe | None = None


@dataclass
class InstanceConfig:
    """What the instance endpoints announce and the validators enforce."""

    max_characters: int = 500
    characters_reserved_per_url: int = 23
    max_media_attachments: int = 4
    image_size_limit: int = 16 * 1024 * 1024
    image_matrix_limit: int = 33_177_600
    video_size_limit: int = 99 * 1024 * 1024
    #: MediaAttachment::MAX_VIDEO_MATRIX_LIMIT (3840×2160) and MAX_VIDEO_FRAME_RATE.
    video_matrix_limit: int = 8_294_400
    video_frame_rate_limit: int = 120
    #: polls of GET /api/v1/media/:id answered 206 before the media is ready (0: ready at once)
    media_polls: int = 1
    rate_limit: int = 300
    rate_window: timedelta = timedelta(minutes=5)
    version: str = "4.3.0"
    #: False: /api/v2/instance answers 404 (a pre-3.4 server), clients must fall back to v1
    serve_v2: bool = True
    #: False: GET /api/v1/statuses/:id/source answers 404 (a pre-3.5 server)
    serve_source: bool = True
    #: False: an uploaded image's focus point is dropped (meta has no "focus")
    keep_focus: bool = True
    #: configuration.polls, enforced like Mastodon's PollValidator (these are its defaults)
    poll_max_options: int = 4
    poll_max_characters_per_option: int = 50
    poll_min_expiration: int = 300
    poll_max_expiration: int = 2_629_746
    #: /api/v2/instance `api_versions.mastodon`: from 7 (Mastodon 4.5) statuses take
    #: `quoted_status_id`; below, the parameter is ignored as older Mastodon ignores it.
    api_version: int = 2


@dataclass
class _RateWindow:
    start: datetime
    used: int = 0


@dataclass
class _App:
    client_id: str
    client_secret: str
    name: str
    redirect_uri: str
    scopes: str


class MastodonTestServer:
    """The server's state and controls; the HTTP listener is started by `start()`."""

    def __init__(
        self,
        *,
        username: str = "alice",
        token: str = "test-token",
        domain: str | None = None,
        now: Callable[[], datetime] | None = None,
        clock_offset: timedelta = timedelta(0),
        **config: Any,
    ) -> None:
        self.config = InstanceConfig(**config)
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        self.statuses: dict[str, StoredStatus] = {}
        #: Who follows whom: account username → its followers' usernames. Set by tests
        #: (no follow endpoint here); read by the `followers` quote policy.
        self.followers: dict[str, set[str]] = {}
        #: Statuses whose author reviews every quote by hand (manual: ["public"]), as a
        #: remote server's policy can say; a quote of one is created pending.
        self.manual_quotes: set[str] = set()
        self.media: dict[str, StoredMedia] = {}
        self.accounts: dict[str, Account] = {}
        self._tokens: dict[str, str] = {}  # token → username
        self._token_scopes: dict[str, frozenset[str]] = {}  # token → its OAuth scopes
        self._apps: dict[str, _App] = {}
        self._codes: dict[str, str] = {}  # authorization code → username
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._rate: dict[str, _RateWindow] = {}
        self._next_id = 110_000_000_000_000_000
        self._lock = threading.RLock()
        self._clock = now or (lambda: datetime.now(UTC))
        #: How far the instance's clock is from the test's (`now`, else the real clock):
        #: created_at, the Date header, rate-limit resets and the Idempotency-Key hour all
        #: follow it, as they follow the server's own clock on a real instance. A negative
        #: offset is a publishing machine whose clock runs ahead of the instance's.
        self.clock_offset = clock_offset
        self._domain = domain
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._refusing = threading.Event()
        self._stopping = threading.Event()
        self.token = token
        self.username = username
        self.add_account(username, token)
        #: the code `login` flows exchange for a token of the default account
        self.authorization_code = "test-authorization-code"
        self._codes[self.authorization_code] = username

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def domain(self) -> str:
        return self._domain or f"127.0.0.1:{self._port}"

    def start(self) -> MastodonTestServer:
        """Bind 127.0.0.1 (port 0 the first time, the same port after a `refuse`) and serve."""
        http = _HTTPServer(("127.0.0.1", self._port), _Handler)
        http.owner = self
        self._port = http.server_address[1]
        self._http = http
        self._thread = threading.Thread(
            target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close_listener()

    def __enter__(self) -> MastodonTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_listener(self) -> None:
        http, thread = self._http, self._thread
        self._http, self._thread = None, None
        if http is not None:
            http.shutdown()
            http.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def refuse_connections(self, seconds: float | None = None) -> None:
        """Stop listening: connections are refused until `resume()` (or for `seconds`)."""
        self._refusing.set()
        # Closing the listener from a request thread would wait on serve_forever, which is
        # fine, but not on the handler itself: do it from a helper thread.
        closer = threading.Thread(target=self._close_listener, daemon=True)
        closer.start()
        closer.join(timeout=5)
        if seconds is not None:
            timer = threading.Timer(seconds, self.resume)
            timer.daemon = True
            timer.start()

    def resume(self) -> None:
        """Listen again on the same port after `refuse_connections` or a "refuse" fault."""
        with self._lock:
            if self._http is None and not self._stopping.is_set():
                self.start()
            self._refusing.clear()

    # -- accounts and inspection -----------------------------------------------------------

    def add_account(
        self, username: str, token: str | None = None, scopes: str = FULL_SCOPES
    ) -> str:
        """Create an account (if new) and a token for it with `scopes` (space-separated,
        as OAuth writes them); returns the token."""
        with self._lock:
            if username not in self.accounts:
                self.accounts[username] = Account(
                    id=str(len(self.accounts) + 1), username=username, display_name=username.title()
                )
            token = token or hashlib.sha256(f"{username}{len(self._tokens)}".encode()).hexdigest()
            self._tokens[token] = username
            self._token_scopes[token] = frozenset(scopes.split())
            return token

    def revoke(self, token: str) -> None:
        """Make `token` invalid (the next request with it gets 401)."""
        with self._lock:
            self._tokens.pop(token, None)

    def set_config(self, **changes: Any) -> None:
        """Change what the instance announces and enforces (e.g. max_characters=5000)."""
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.config, name):
                    raise ValueError(f"unknown instance setting {name!r}")
                if name == "rate_window" and not isinstance(value, timedelta):
                    value = timedelta(seconds=float(value))
                setattr(self.config, name, value)

    def published(self, username: str | None = None) -> list[StoredStatus]:
        """Stored, undeleted statuses (of one account, or all), oldest first."""
        with self._lock:
            return [
                status
                for status in self.statuses.values()
                if not status.deleted and (username is None or status.account == username)
            ]

    def requests_to(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose method and path match (path as a regex, full match)."""
        with self._lock:
            return [
                request
                for request in self.requests
                if request.method == method and re.fullmatch(path_pattern, request.path)
            ]

    def status_posts(self) -> list[RecordedRequest]:
        return self.requests_to("POST", "/api/v1/statuses")

    def expire_idempotency_keys(self, username: str | None = None) -> int:
        """Let the Idempotency-Key hour pass (for one account, or all): a resend with a
        remembered key now creates a new status. Returns how many keys were forgotten."""
        with self._lock:
            old = self._now() - IDEMPOTENCY_WINDOW - timedelta(seconds=1)
            forgotten = 0
            for (owner, key), (status_id, _) in list(self._idempotency.items()):
                if username is None or owner == username:
                    self._idempotency[(owner, key)] = (status_id, old)
                    forgotten += 1
            return forgotten

    def status_json(self, status_id: str) -> dict[str, Any]:
        with self._lock:
            return self._status_json(self.statuses[status_id])

    # -- internals -------------------------------------------------------------------------

    def _now(self) -> datetime:
        """The instance's own clock."""
        return self._clock() + self.clock_offset

    def _new_id(self) -> str:
        with self._lock:
            self._next_id += 1
            return str(self._next_id)

    def _iso(self, moment: datetime) -> str:
        # Mastodon writes times in UTC with microseconds (`iso8601(6)`) and a Z.
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _account_json(self, username: str, *, source: bool = False) -> dict[str, Any]:
        account = self.accounts[username]
        data: dict[str, Any] = {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "locked": False,
            "bot": False,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"{self.url}/@{account.username}",
            "avatar": f"{self.url}/avatars/original/missing.png",
            "avatar_static": f"{self.url}/avatars/original/missing.png",
            "header": f"{self.url}/headers/original/missing.png",
            "header_static": f"{self.url}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": len(self.published(username)),
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }
        if source:
            data["source"] = {
                "privacy": "public",
                "sensitive": False,
                "language": None,
                "note": "",
                "fields": [],
            }
        return data

    def _media_json(self, media: StoredMedia) -> dict[str, Any]:
        ready = media.polls_left <= 0
        url = f"{self.url}/system/media_attachments/{media.id}/{media.filename}"
        meta: dict[str, Any] = {}
        if media.focus is not None:
            meta["focus"] = {"x": media.focus[0], "y": media.focus[1]}
        if media.video is not None and ready:
            # The shape Mastodon's file metadata has for a processed video (ffprobe's).
            v = media.video
            meta.update(
                length=f"{int(v.duration // 3600)}:{int(v.duration % 3600 // 60):02}:"
                f"{v.duration % 60:05.2f}",
                duration=round(v.duration, 2),
                fps=round(v.frame_rate),
                size=f"{v.width}x{v.height}",
                width=v.width,
                height=v.height,
                aspect=round(v.width / v.height, 3) if v.height else None,
                original={
                    "width": v.width,
                    "height": v.height,
                    "frame_rate": f"{round(v.frame_rate)}/1",
                    "duration": round(v.duration, 2),
                    "bitrate": round(media.size * 8 / v.duration) if v.duration else 0,
                },
            )
        return {
            "id": media.id,
            "type": media.kind,
            "url": url if ready else None,
            "preview_url": url,
            "remote_url": None,
            "text_url": None,
            "meta": meta,
            "description": media.description,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        }

    def quote_permission(self, status: StoredStatus, viewer: str | None) -> str:
        """QuoteApproval.current_user: how `status`'s policy applies to `viewer`. Every
        policy here is automatic (no manual lists), so it is automatic or denied; unknown
        without a viewer."""
        if viewer is None:
            return "unknown"
        if viewer == status.account:
            return "automatic"
        if status.id in self.manual_quotes:
            return "manual"
        if status.quote_policy == "public":
            return "automatic"
        if status.quote_policy == "followers":
            followers = self.followers.get(status.account, set())
            return "automatic" if viewer in followers else "denied"
        return "denied"

    def _quote_approval_json(self, status: StoredStatus, viewer: str | None) -> dict[str, Any]:
        if self.config.api_version < QUOTES_API_VERSION:
            return {}
        automatic = [] if status.quote_policy == "nobody" else [status.quote_policy]
        manual = ["public"] if status.id in self.manual_quotes else []
        return {
            "quote_approval": {
                "automatic": [] if manual else automatic,
                "manual": manual,
                "current_user": self.quote_permission(status, viewer),
            }
        }

    def _status_json(
        self, status: StoredStatus, *, shallow: bool = False, viewer: str | None = None
    ) -> dict[str, Any]:
        parent = self.statuses.get(status.in_reply_to_id or "")
        return {
            "id": status.id,
            "created_at": self._iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": self.accounts[parent.account].id if parent else None,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{self.url}/users/{status.account}/statuses/{status.id}",
            "url": f"{self.url}/@{status.account}/{status.id}",
            "replies_count": sum(
                1 for s in self.statuses.values() if s.in_reply_to_id == status.id and not s.deleted
            ),
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": self._iso(status.edited_at) if status.edited_at else None,
            "content": self._content(status),
            "reblog": None,
            "application": {"name": "threadpost", "website": None},
            "account": self._account_json(status.account),
            "media_attachments": [self._media_json(self.media[m]) for m in status.media_ids],
            "mentions": self._rendered(status).mentions,
            "tags": self._rendered(status).tags,
            "emojis": [],
            "card": None,
            "poll": self._poll_json(status.poll),
            **self._quote_json(status, shallow=shallow),
            **self._quote_approval_json(status, viewer),
        }

    def _quote_json(self, status: StoredStatus, *, shallow: bool) -> dict[str, Any]:
        """Mastodon 4.5's `quote`: a Quote {state, quoted_status}, or inside a quoted status
        a ShallowQuote {state, quoted_status_id}; absent before api version 7."""
        if self.config.api_version < QUOTES_API_VERSION:
            return {}
        quoted = self.statuses.get(status.quoted_status_id or "")
        if quoted is None:
            return {"quote": None}
        if quoted.deleted:
            state = "deleted"
        elif quoted.id in self.manual_quotes and status.account != quoted.account:
            state = "pending"  # until the quoted author approves (never, here)
        else:
            state = "accepted"
        if shallow:
            return {"quote": {"state": state, "quoted_status_id": quoted.id}}
        shown = None if quoted.deleted else self._status_json(quoted, shallow=True)
        return {"quote": {"state": state, "quoted_status": shown}}

    def _poll_json(self, poll: StoredPoll | None) -> dict[str, Any] | None:
        """Mastodon's Poll entity; with hide_totals the counts are null until it ends."""
        if poll is None:
            return None
        expired = self._now() >= poll.expires_at
        hidden = poll.hide_totals and not expired
        return {
            "id": poll.id,
            "expires_at": self._iso(poll.expires_at),
            "expired": expired,
            "multiple": poll.multiple,
            "votes_count": 0,
            "voters_count": 0 if poll.multiple else None,
            "options": [
                {"title": option, "votes_count": None if hidden else 0} for option in poll.options
            ],
            "emojis": [],
            "voted": False,
            "own_votes": [],
        }

    def _rendered(self, status: StoredStatus) -> Any:
        return render_status(status.text, base_url=self.url, local=set(self.accounts))

    def _content(self, status: StoredStatus) -> str:
        return str(self._rendered(status).html)

    def _account_by_id(self, account_id: str) -> str | None:
        for username, account in self.accounts.items():
            if account.id == account_id:
                return username
        return None

    def _account_statuses(self, request: RecordedRequest, account_id: str) -> tuple[int, Any, str]:
        """GET /api/v1/accounts/:id/statuses: newest first, Mastodon's paging and filters."""
        username = self._account_by_id(account_id)
        if username is None:
            raise _Reply(404, "Record not found")

        def arg(name: str) -> str | None:
            values = request.query.get(name)
            return values[0] if values else None

        def flag(name: str) -> bool:
            return (arg(name) or "").lower() in ("1", "true", "t", "on")

        try:
            limit = min(max(int(arg("limit") or 20), 1), 40)
        except ValueError:
            limit = 20
        max_id, since_id, min_id = arg("max_id"), arg("since_id"), arg("min_id")
        with self._lock:
            chosen = [
                status
                for status in self.published(username)
                if not (flag("exclude_replies") and status.in_reply_to_id is not None)
                and not (flag("only_media") and not status.media_ids)
                and (max_id is None or int(status.id) < int(max_id))
                and (since_id is None or int(status.id) > int(since_id))
                and (min_id is None or int(status.id) > int(min_id))
            ]
            if flag("pinned"):
                chosen = []  # nothing is ever pinned here
            # min_id pages forward (the oldest after it); the others page backward.
            chosen.sort(key=lambda s: int(s.id), reverse=min_id is None)
            page = chosen[:limit]
            page.sort(key=lambda s: int(s.id), reverse=True)
            body = [self._status_json(status) for status in page]
        link = ""
        if page:
            base = f"{self.url}{request.path}"
            link = (
                f'<{base}?limit={limit}&max_id={page[-1].id}>; rel="next", '
                f'<{base}?limit={limit}&min_id={page[0].id}>; rel="prev"'
            )
        return 200, body, link

    def _instance_v1(self) -> dict[str, Any]:
        c = self.config
        return {
            "uri": self.domain,
            "title": "Threadpost test instance",
            "short_description": "",
            "description": "A local Mastodon API server for threadpost's tests",
            "email": "admin@example.org",
            "version": c.version,
            "urls": {"streaming_api": self.url.replace("http", "ws", 1)},
            "stats": {"user_count": len(self.accounts), "status_count": 0, "domain_count": 1},
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": self._configuration(),
            "contact_account": None,
            "rules": [],
        }

    def _configuration(self) -> dict[str, Any]:
        c = self.config
        return {
            "urls": {"streaming": self.url.replace("http", "ws", 1)},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": c.max_characters,
                "max_media_attachments": c.max_media_attachments,
                "characters_reserved_per_url": c.characters_reserved_per_url,
            },
            "media_attachments": {
                "supported_mime_types": [
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    *VIDEO_TYPES,
                ],
                "image_size_limit": c.image_size_limit,
                "image_matrix_limit": c.image_matrix_limit,
                "video_size_limit": c.video_size_limit,
                "video_frame_rate_limit": c.video_frame_rate_limit,
                "video_matrix_limit": c.video_matrix_limit,
                "description_limit": MAX_DESCRIPTION,
            },
            "polls": {
                "max_options": c.poll_max_options,
                "max_characters_per_option": c.poll_max_characters_per_option,
                "min_expiration": c.poll_min_expiration,
                "max_expiration": c.poll_max_expiration,
            },
            "translation": {"enabled": False},
        }

    def _instance_v2(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "title": "Threadpost test instance",
            "version": self.config.version,
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A local Mastodon API server for threadpost's tests",
            "usage": {"users": {"active_month": len(self.accounts)}},
            "thumbnail": {"url": f"{self.url}/thumbnail.png"},
            "languages": ["en"],
            "configuration": self._configuration(),
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "api_versions": {"mastodon": self.config.api_version},
            "contact": {"email": "admin@example.org", "account": None},
            "rules": [],
        }

    def _oauth_metadata(self) -> dict[str, Any]:
        return {
            "issuer": f"{self.url}/",
            "authorization_endpoint": f"{self.url}/oauth/authorize",
            "token_endpoint": f"{self.url}/oauth/token",
            "revocation_endpoint": f"{self.url}/oauth/revoke",
            "scopes_supported": [
                "read",
                "write",
                "follow",
                "push",
                "profile",
                *sorted(
                    {scope for _, _, scopes in _ENDPOINT_SCOPES for scope in scopes} - {"profile"}
                ),
            ],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "app_registration_endpoint": f"{self.url}/api/v1/apps",
        }

    # -- rate limits -----------------------------------------------------------------------

    def _rate_headers(self, who: str, *, count: bool) -> tuple[dict[str, str], bool]:
        """Headers for this response and whether the request is over the limit."""
        now = self._now()
        with self._lock:
            window = self._rate.get(who)
            if window is None or now >= window.start + self.config.rate_window:
                window = self._rate[who] = _RateWindow(start=now)
            if count:
                window.used += 1
            limit = self.config.rate_limit
            over = window.used > limit
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(limit - window.used, 0)),
                "X-RateLimit-Reset": self._iso(window.start + self.config.rate_window),
            }
        return headers, over

    # -- routes ----------------------------------------------------------------------------

    def _route(self, request: RecordedRequest) -> tuple[int, Any]:
        """Answer one request: (status, JSON body), or raise _Reply."""
        # Rails routes ignore a trailing slash (Mastodon.py asks for /api/v1/instance/).
        method, path = request.method, request.path.rstrip("/") or "/"
        public: dict[tuple[str, str], Callable[[], tuple[int, Any]]] = {
            ("GET", "/api/v1/instance"): lambda: (200, self._instance_v1()),
            ("GET", "/.well-known/oauth-authorization-server"): lambda: (
                200,
                self._oauth_metadata(),
            ),
            ("POST", "/api/v1/apps"): lambda: self._create_app(request),
            ("POST", "/oauth/token"): lambda: self._oauth_token(request),
            ("GET", "/oauth/authorize"): lambda: self._authorize(request),
        }
        if (method, path) in public:
            return public[(method, path)]()
        if method == "GET" and path == "/api/v2/instance":
            if not self.config.serve_v2:
                raise _Reply(404, "Record not found")
            return 200, self._instance_v2()

        username = request.account
        if username is None:
            raise _Reply(401, "The access token is invalid")
        _require_scope(request, method, path)

        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return 200, self._account_json(username, source=True)
        if method == "POST" and path == "/api/v1/statuses":
            return self._post_status(request, username)
        if method == "GET" and path == "/api/v2/search":
            return 200, self._search(request, username)
        if method == "POST" and path == "/api/v2/media":
            return self._post_media(request, username)
        match = re.fullmatch(r"/api/v1/media/(\w+)", path)
        if match and method == "GET":
            return self._get_media(match.group(1), username)
        if match and method == "PUT":
            return self._put_media(request, match.group(1), username)
        match = re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path)
        if match and method == "GET":
            status_code, body, link = self._account_statuses(request, match.group(1))
            if link:
                request.answer_headers["Link"] = link
            return status_code, body
        match = re.fullmatch(r"/api/v1/statuses/(\w+)/interaction_policy", path)
        if match and method == "PUT" and self.config.api_version >= QUOTES_API_VERSION:
            return self._put_interaction_policy(request, match.group(1), username)
        match = re.fullmatch(r"/api/v1/statuses/(\w+)(/context|/source|/history)?", path)
        if match:
            status = self.statuses.get(match.group(1))
            if status is None or status.deleted:
                raise _Reply(404, "Record not found")
            if not match.group(2) and method == "PUT":
                return self._put_status(request, status, username)
            if match.group(2) == "/history" and method == "GET":
                return 200, self._history(status)
            if match.group(2) == "/source" and method == "GET":
                # Only the author may read the source (it is what editing starts from).
                if not self.config.serve_source or status.account != username:
                    raise _Reply(404, "Record not found")
                return 200, {
                    "id": status.id,
                    "text": status.text,
                    "spoiler_text": status.spoiler_text,
                }
            if match.group(2) == "/context" and method == "GET":
                return 200, self._context(status)
            if not match.group(2) and method == "GET":
                return 200, self._status_json(status, viewer=username)
            if not match.group(2) and method == "DELETE":
                if status.account != username:
                    raise _Reply(404, "Record not found")
                status.deleted = True
                body = self._status_json(status)
                body["text"] = status.text
                return 200, body
        raise _Reply(404, "Record not found")

    def _post_status(self, request: RecordedRequest, username: str) -> tuple[int, Any]:
        key = request.idempotency_key
        now = self._now()
        with self._lock:
            if key is not None:
                seen = self._idempotency.get((username, key))
                if seen is not None and now - seen[1] < IDEMPOTENCY_WINDOW:
                    return 200, self._status_json(self.statuses[seen[0]])

            text = request.value("status") or ""
            spoiler = request.value("spoiler_text") or ""
            visibility = request.value("visibility") or "public"
            if visibility not in VISIBILITIES:
                raise _Reply(422, f"Validation failed: Visibility '{visibility}' is not valid")
            language = request.value("language")
            sensitive = (request.value("sensitive") or "").lower() in ("1", "true")
            media_ids = request.form.get("media_ids[]", []) or (
                [str(m) for m in request.json.get("media_ids", [])]
                if isinstance(request.json, dict)
                else []
            )
            reply_to = request.value("in_reply_to_id") or None
            if reply_to is not None:
                parent = self.statuses.get(reply_to)
                if parent is None or parent.deleted:
                    raise _Reply(404, "Record not found")
            quoted_id = None
            if self.config.api_version >= QUOTES_API_VERSION:
                quoted_id = request.value("quoted_status_id") or None
            if quoted_id is not None:
                quoted = self.statuses.get(quoted_id)
                if quoted is None or quoted.deleted or quoted.visibility in ("private", "direct"):
                    # StatusesController#set_quoted_status: missing and not quotable alike.
                    raise _Reply(404, "The post you are trying to quote does not appear to exist.")
                if self.quote_permission(quoted, username) == "denied":
                    raise _Reply(422, "You are not allowed to quote this post.")
            quote_policy = "public"
            if self.config.api_version >= QUOTES_API_VERSION:
                quote_policy = request.value("quote_approval_policy") or "public"
                if quote_policy not in ("public", "followers", "nobody"):
                    raise _Reply(422, f"Invalid quote_approval_policy: {quote_policy}")
            if visibility in ("private", "direct"):
                quote_policy = "nobody"

            if len(media_ids) > self.config.max_media_attachments:
                raise _Reply(
                    422,
                    f"Validation failed: Cannot attach more than "
                    f"{self.config.max_media_attachments} files",
                )
            found = [self.media.get(m) for m in media_ids]
            missing = [
                m
                for m, media in zip(media_ids, found, strict=True)
                if media is None or media.account != username or media.status_id is not None
            ]
            if missing:
                raise _Reply(
                    422,
                    f"Media with IDs {', '.join(missing)} not found or already attached "
                    "to another post",
                )
            poll = self._poll_from(request, now)
            if poll is not None and media_ids:
                # PostStatusService#validate_media!: a poll and media never go together.
                raise _Reply(
                    422,
                    f"Cannot attach more than {self.config.max_media_attachments} files",
                )
            if len(found) > 1 and any(m is not None and m.kind == "video" for m in found):
                # PostStatusService#validate_media!: a video (or audio) goes alone.
                raise _Reply(422, "Cannot attach a video to a post that already contains images")
            if any(media is not None and media.polls_left > 0 for media in found):
                raise _Reply(
                    422,
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                )
            if not text.strip() and not media_ids:
                raise _Reply(422, "Validation failed: Text can't be blank")
            length = status_length(text, spoiler, self.config.characters_reserved_per_url)
            if length > self.config.max_characters:
                raise _Reply(
                    422,
                    f"Validation failed: Text character limit of "
                    f"{self.config.max_characters} exceeded",
                )

            status = StoredStatus(
                id=self._new_id(),
                account=username,
                text=text,
                spoiler_text=spoiler,
                visibility=visibility,
                sensitive=sensitive or (bool(spoiler)),
                language=language,
                in_reply_to_id=reply_to,
                media_ids=list(media_ids),
                created_at=now,
                idempotency_key=key,
                poll=poll,
                quoted_status_id=quoted_id,
                quote_policy=quote_policy,
            )
            self.statuses[status.id] = status
            for media_id in media_ids:
                self.media[media_id].status_id = status.id
            # Mastodon stores the key only once the status exists, so a failed attempt
            # may be retried with the same key.
            if key is not None:
                self._idempotency[(username, key)] = (status.id, now)
            return 200, self._status_json(status)

    # -- editing (Mastodon 3.5+: StatusesController#update, UpdateStatusService) ----------

    def _put_interaction_policy(
        self, request: RecordedRequest, status_id: str, username: str
    ) -> tuple[int, Any]:
        """PUT /api/v1/statuses/:id/interaction_policy (Mastodon 4.5, write:statuses): sets
        `quote_approval_policy` on one of the author's own statuses; another account's (or
        a missing or deleted) status is 404 "Record not found", as the controller finds it
        among `current_account.statuses`. A private or direct status stays "nobody"
        whatever is asked. Not an edit of the content: no history entry, no `edited_at`.
        Answers the Status. Before api version 7 the route does not exist (404)."""
        with self._lock:
            status = self.statuses.get(status_id)
            if status is None or status.deleted or status.account != username:
                raise _Reply(404, "Record not found")
            policy = request.value("quote_approval_policy") or "public"
            if policy not in ("public", "followers", "nobody"):
                raise _Reply(422, f"Invalid quote_approval_policy: {policy}")
            if status.visibility in ("private", "direct"):
                policy = "nobody"
            status.quote_policy = policy
            return 200, self._status_json(status, viewer=username)

    def _put_status(
        self, request: RecordedRequest, status: StoredStatus, username: str
    ) -> tuple[int, Any]:
        """PUT /api/v1/statuses/:id: the author's own status only (404 otherwise, as
        `Status.where(account: current_account).find`). Like UpdateStatusService: the text,
        spoiler_text, sensitive and language are replaced; `media_ids` lists the attachments
        the status keeps (left out, it keeps none), each its own and either unattached or
        already on this status; `media_attributes[]` ({id, description, focus}) re-describe
        attachments of this edit; a poll not sent again is removed (media and a poll never
        go together); the length is validated like a new status. The original is kept as
        the first StatusEdit of its history, then each edit; `edited_at` is set."""
        if status.account != username:
            raise _Reply(404, "Record not found")
        now = self._now()
        with self._lock:
            text = request.value("status") or ""
            spoiler = request.value("spoiler_text") or ""
            sensitive = _truthy(request.value("sensitive"))
            language = request.value("language") or status.language
            media_ids = request.form.get("media_ids[]", []) or (
                [str(m) for m in request.json.get("media_ids") or []]
                if isinstance(request.json, dict)
                else []
            )
            if len(media_ids) > self.config.max_media_attachments:
                raise _Reply(
                    422,
                    f"Validation failed: Cannot attach more than "
                    f"{self.config.max_media_attachments} files",
                )
            found = [self.media.get(m) for m in media_ids]
            if any(
                media is None
                or media.account != username
                or media.status_id not in (None, status.id)
                for media in found
            ):
                raise _Reply(422, "Some of the media attachments could not be found")
            body = request.json if isinstance(request.json, dict) else {}
            attributes = body.get("media_attributes")
            descriptions: dict[str, str | None] = {}
            for attribute in attributes or []:
                media_id = str(attribute.get("id"))
                if media_id not in media_ids:
                    continue  # UpdateStatusService only touches this edit's media
                description = attribute.get("description")
                if description is not None and len(str(description)) > MAX_DESCRIPTION:
                    raise _Reply(
                        422,
                        "Validation failed: Description is too long "
                        f"(maximum is {MAX_DESCRIPTION})",
                    )
                descriptions[media_id] = None if description is None else str(description)
            poll = self._poll_from(request, now)
            if poll is not None and media_ids:
                raise _Reply(
                    422,
                    f"Cannot attach more than {self.config.max_media_attachments} files",
                )
            if not text.strip() and not media_ids:
                raise _Reply(422, "Validation failed: Text can't be blank")
            length = status_length(text, spoiler, self.config.characters_reserved_per_url)
            if length > self.config.max_characters:
                raise _Reply(
                    422,
                    f"Validation failed: Text character limit of "
                    f"{self.config.max_characters} exceeded",
                )
            if not status.history:
                status.history.append(self._edit_json(status, status.created_at))
            for media_id in status.media_ids:
                if media_id not in media_ids:
                    self.media[media_id].status_id = None  # detached, as Mastodon does
            for media_id in media_ids:
                self.media[media_id].status_id = status.id
                if media_id in descriptions:
                    self.media[media_id].description = descriptions[media_id]
            status.text = text
            status.spoiler_text = spoiler
            status.sensitive = sensitive or bool(spoiler)
            status.language = language
            status.media_ids = list(media_ids)
            status.poll = poll
            status.edited_at = now
            status.history.append(self._edit_json(status, now))
            return 200, self._status_json(status)

    def _edit_json(self, status: StoredStatus, at: datetime) -> dict[str, Any]:
        """A StatusEdit entity: the status's content as it is now, stamped `at`."""
        return {
            "content": self._content(status),
            "spoiler_text": status.spoiler_text,
            "sensitive": status.sensitive,
            "created_at": self._iso(at),
            "account": self._account_json(status.account),
            "poll": None
            if status.poll is None
            else {"options": [{"title": option} for option in status.poll.options]},
            "media_attachments": [self._media_json(self.media[m]) for m in status.media_ids],
            "emojis": [],
        }

    def _history(self, status: StoredStatus) -> list[dict[str, Any]]:
        """GET /api/v1/statuses/:id/history: every version, oldest first; a status never
        edited has its one version."""
        with self._lock:
            return list(status.history) or [self._edit_json(status, status.created_at)]

    def _put_media(self, request: RecordedRequest, media_id: str, username: str) -> tuple[int, Any]:
        """PUT /api/v1/media/:id: the description (and focus) of the account's media before
        it is attached (MediaController: `media_attachments.where(status_id: nil)`); an
        attached one is 404, re-described through its status's edit instead."""
        with self._lock:
            media = self.media.get(media_id)
            if media is None or media.account != username or media.status_id is not None:
                raise _Reply(404, "Record not found")
            description = request.value("description")
            if description is not None:
                if len(description) > MAX_DESCRIPTION:
                    raise _Reply(
                        422,
                        "Validation failed: Description is too long "
                        f"(maximum is {MAX_DESCRIPTION})",
                    )
                media.description = description
            return 200, self._media_json(media)

    def _search(self, request: RecordedRequest, username: str) -> dict[str, Any]:
        """GET /api/v2/search: a post's address (`url` or `uri`) with resolve=true finds
        that status (a remote one would be fetched; none exists here); without resolve, an
        address finds nothing, as on Mastodon. Accounts and hashtags are never found."""

        def arg(name: str) -> str:
            values = request.query.get(name)
            return values[0] if values else ""

        found: list[dict[str, Any]] = []
        query = arg("q").strip()
        kind = arg("type")
        if _truthy(arg("resolve")) and kind in ("", "statuses"):
            with self._lock:
                found = [
                    self._status_json(status, viewer=username)
                    for status in self.published()
                    if query
                    in (
                        f"{self.url}/@{status.account}/{status.id}",
                        f"{self.url}/users/{status.account}/statuses/{status.id}",
                    )
                    and status.visibility in ("public", "unlisted")
                ]
        return {"accounts": [], "statuses": found, "hashtags": []}

    def _poll_from(self, request: RecordedRequest, now: datetime) -> StoredPoll | None:
        """The poll of a status POST (JSON `poll` object, or form `poll[options][]`,
        `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]`), validated like
        Mastodon's PollValidator (422 "Validation failed: ..."); None without one."""
        body = request.json if isinstance(request.json, dict) else {}
        raw = body.get("poll")
        if isinstance(raw, dict):
            options = [str(option) for option in raw.get("options") or []]
            expires_in, multiple, hide = (
                raw.get("expires_in"),
                raw.get("multiple"),
                raw.get("hide_totals"),
            )
        elif "poll[options][]" in request.form:
            options = request.form["poll[options][]"]
            expires_in = request.value("poll[expires_in]")
            multiple, hide = request.value("poll[multiple]"), request.value("poll[hide_totals]")
        else:
            return None
        c = self.config
        try:
            seconds = int(str(expires_in))
        except ValueError:
            seconds = 0  # Rails' to_i of a non-number
        errors = []
        if len(options) < 2:
            errors.append("Poll options must have more than one item")
        if len(options) > c.poll_max_options:
            errors.append(f"Poll options can't contain more than {c.poll_max_options} items")
        if any(grapheme_len(option) > c.poll_max_characters_per_option for option in options):
            errors.append(
                f"Poll options cannot be longer than {c.poll_max_characters_per_option} "
                "characters each"
            )
        if len(set(options)) != len(options):
            errors.append("Poll options contain duplicate items")
        if seconds > c.poll_max_expiration:
            errors.append("Poll expires at is too far into the future")
        if seconds < c.poll_min_expiration:
            errors.append("Poll expires at is too soon")
        if errors:
            raise _Reply(422, "Validation failed: " + ", ".join(errors))
        return StoredPoll(
            id=self._new_id(),
            options=list(options),
            expires_at=now + timedelta(seconds=seconds),
            multiple=_truthy(multiple),
            hide_totals=_truthy(hide),
        )

    def _post_media(self, request: RecordedRequest, username: str) -> tuple[int, Any]:
        file = request.files.get("file")
        if file is None:
            raise _Reply(422, "Validation failed: File can't be blank")
        filename, content_type, size = file.filename, file.content_type, file.size
        video = None
        if content_type in VIDEO_TYPES:
            video = self._check_video(content_type, size, file.data)
        elif not content_type.startswith("image/"):
            raise _Reply(422, f"Validation failed: File has contents that are not {content_type}")
        elif size > self.config.image_size_limit:
            raise _Reply(
                422,
                f"Validation failed: File file size must be less than "
                f"{self.config.image_size_limit // (1024 * 1024)} MB",
            )
        dimensions = _dimensions(file.data) if video is None else None
        if dimensions is not None:
            # Mastodon's Attachmentable#check_image_dimension raises DimensionsValidationError,
            # answered 422 with its message; GIFs have their own, fixed, limit.
            width, height = dimensions
            if content_type == "image/gif" and width * height > GIF_MATRIX_LIMIT:
                raise _Reply(422, f"{width}x{height} GIF files are not supported")
            if width * height > self.config.image_matrix_limit:
                raise _Reply(422, f"{width}x{height} images are not supported")
        description = request.value("description")
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise _Reply(
                422, f"Validation failed: Description is too long (maximum is {MAX_DESCRIPTION})"
            )
        focus = None
        raw_focus = request.value("focus")
        if raw_focus:
            try:
                x, y = (float(part) for part in raw_focus.split(","))
            except ValueError:
                raise _Reply(422, "Validation failed: Focus is invalid") from None
            focus = (x, y) if self.config.keep_focus else None
        media = StoredMedia(
            id=self._new_id(),
            account=username,
            filename=filename or "upload",
            content_type=content_type,
            size=size,
            sha256=file.sha256,
            data=file.data,
            kind="video"
            if content_type in VIDEO_TYPES
            else "gifv"
            if content_type == "image/gif" and _animated(file.data)
            else "image",
            video=video,
            description=description,
            focus=focus,
            polls_left=self.config.media_polls,
        )
        with self._lock:
            self.media[media.id] = media
        return (202 if media.polls_left > 0 else 200), self._media_json(media)

    def _check_video(self, content_type: str, size: int, data: bytes) -> Probe | None:
        """Mastodon's video validations: video_size_limit, then (MediaAttachment
        #check_video_dimensions) a video stream, the matrix and the frame-rate limits."""
        if size > self.config.video_size_limit:
            raise _Reply(
                422,
                f"Validation failed: File file size must be less than "
                f"{self.config.video_size_limit // (1024 * 1024)} MB",
            )
        probe = probe_webm(data) if content_type == "video/webm" else probe_mp4(data)
        if probe is None:
            raise _Reply(422, "Validation failed: File has no video stream")
        if probe.width * probe.height > self.config.video_matrix_limit:
            raise _Reply(422, f"{probe.width}x{probe.height} videos are not supported")
        if int(probe.frame_rate) > self.config.video_frame_rate_limit:
            raise _Reply(422, f"{int(probe.frame_rate)}fps videos are not supported")
        return probe

    def _get_media(self, media_id: str, username: str) -> tuple[int, Any]:
        with self._lock:
            media = self.media.get(media_id)
            if media is None or media.account != username:
                raise _Reply(404, "Record not found")
            if media.polls_left > 0:
                media.polls_left -= 1
                if media.polls_left > 0:
                    return 206, self._media_json(media)
            return 200, self._media_json(media)

    def _context(self, status: StoredStatus) -> dict[str, Any]:
        ancestors = []
        parent = self.statuses.get(status.in_reply_to_id or "")
        while parent is not None:
            if not parent.deleted:
                ancestors.insert(0, self._status_json(parent))
            parent = self.statuses.get(parent.in_reply_to_id or "")
        descendants = []
        frontier = [status.id]
        while frontier:
            current = frontier.pop(0)
            for child in self.statuses.values():
                if child.in_reply_to_id == current and not child.deleted:
                    descendants.append(self._status_json(child))
                    frontier.append(child.id)
        return {"ancestors": ancestors, "descendants": descendants}

    def _create_app(self, request: RecordedRequest) -> tuple[int, Any]:
        name = request.value("client_name")
        redirect = request.value("redirect_uris")
        if not name or not redirect:
            raise _Reply(422, "Validation failed: Application name can't be blank")
        app = _App(
            client_id=hashlib.sha256(f"id{len(self._apps)}{name}".encode()).hexdigest()[:43],
            client_secret=hashlib.sha256(f"secret{len(self._apps)}".encode()).hexdigest()[:43],
            name=name,
            redirect_uri=redirect,
            scopes=request.value("scopes") or "read",
        )
        with self._lock:
            self._apps[app.client_id] = app
        return 200, {
            "id": str(len(self._apps)),
            "name": app.name,
            "website": request.value("website"),
            "redirect_uri": app.redirect_uri,
            "redirect_uris": app.redirect_uri.split(),
            "scopes": app.scopes.split(),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "vapid_key": "",
        }

    def _authorize(self, request: RecordedRequest) -> tuple[int, Any]:
        client_id = (request.query.get("client_id") or [""])[0]
        if client_id not in self._apps:
            raise _Reply(401, "Client authentication failed due to unknown client")
        # A real instance shows a login form, then the code; the test server shows the code.
        return 200, {"code": self.authorization_code}

    def _oauth_token(self, request: RecordedRequest) -> tuple[int, Any]:
        app = self._apps.get(request.value("client_id") or "")
        if app is None or app.client_secret != request.value("client_secret"):
            raise _Reply(401, "invalid_client")
        if request.value("grant_type") != "authorization_code":
            raise _Reply(400, "unsupported_grant_type")
        scopes = request.value("scope") or app.scopes
        # Doorkeeper: a token gets no scope its application was not registered with.
        if not set(scopes.split()) <= set(app.scopes.split()):
            raise _Reply(400, "invalid_scope")
        with self._lock:
            username = self._codes.get(request.value("code") or "")
            if username is None:
                raise _Reply(400, "invalid_grant")
            token = self.add_account(username, scopes=scopes)
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "scope": scopes,
            "created_at": int(self._now().timestamp()),
        }

    # -- the control API -------------------------------------------------------------------

    def _control(self, request: RecordedRequest) -> tuple[int, Any]:
        path = request.path.removeprefix("/_control")
        body = request.json if isinstance(request.json, dict) else {}
        if request.method == "GET" and path == "/requests":
            with self._lock:
                return 200, [
                    _without_file_bytes(asdict(r))
                    for r in self.requests
                    if not r.path.startswith("/_control")
                ]
        if request.method == "GET" and path == "/statuses":
            return 200, [
                {**asdict(s), "created_at": self._iso(s.created_at)} for s in self.published()
            ]
        if request.method == "POST" and path == "/faults":
            try:
                fault = self.faults.add_from_json(body)
            except (TypeError, ValueError) as exc:
                raise _Reply(422, str(exc)) from None
            return 200, {"kind": fault.kind, "on_path": fault.on_path, "at_count": fault.at_count}
        if request.method == "POST" and path == "/idempotency/expire":
            return 200, {"forgotten": self.expire_idempotency_keys(body.get("username"))}
        if request.method == "POST" and path == "/clock":
            try:
                self.clock_offset = timedelta(seconds=float(body.get("offset_seconds", 0)))
            except (TypeError, ValueError) as exc:
                raise _Reply(422, str(exc)) from None
            return 200, {"offset_seconds": self.clock_offset.total_seconds()}
        if request.method == "POST" and path == "/faults/clear":
            self.faults.clear()
            return 200, {}
        if request.method == "POST" and path == "/config":
            try:
                self.set_config(**body)
            except (TypeError, ValueError) as exc:
                raise _Reply(422, str(exc)) from None
            return 200, asdict(self.config) | {"rate_window": self.config.rate_window.seconds}
        raise _Reply(404, "unknown control endpoint")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: MastodonTestServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    # HTTP/1.0: one request per connection, so a dropped connection loses one request.
    protocol_version = "HTTP/1.0"
    timeout = 30
    error_content_type = "application/json"
    server_version = "MastodonTestServer/1"

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header comes from the instance's clock (which may be skewed), like the
        # created_at of what it stores.
        if timestamp is None:
            timestamp = self.server.owner._now().timestamp()
        return email.utils.formatdate(timestamp, usegmt=True)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        request, token = self._read_request()
        self._recorded = request
        if owner._refusing.is_set():
            return  # connection closed, nothing stored
        with owner._lock:
            owner.requests.append(request)
        if request.path.startswith("/_control"):
            self._answer_guarded(request, lambda: owner._control(request), {})
            return

        fault = owner.faults.take(request.method, request.path)
        if fault is not None:
            request.fault = fault.kind
        if fault is not None and fault.kind == "echo_authorization":
            # Quoted from the raw request (the recorded copy is redacted).
            echoed = self.headers.get("Authorization", "(none)")
            request.status = fault.status
            self._send(fault.status, {"error": f"Not allowed (Authorization: {echoed})"}, {})
            return
        if token:
            request.account = owner._tokens.get(token)
            request.scopes = owner._token_scopes.get(token, frozenset())
            if request.account is None:
                request.status = 401
                self._send(401, {"error": "The access token is invalid"}, {})
                return

        who = request.account or f"ip:{self.client_address[0]}"
        rate_headers, over = owner._rate_headers(who, count=request.account is not None)
        if request.account is None:
            rate_headers = {}

        if fault is not None:
            if fault.kind == "rate_limit":
                reset = fault.reset_at or owner._now() + timedelta(seconds=60)
                rate_headers.update(
                    {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": owner._iso(reset)}
                )
                if fault.reset_header == "":
                    del rate_headers["X-RateLimit-Reset"]
                elif fault.reset_header is not None:
                    rate_headers["X-RateLimit-Reset"] = fault.reset_header
                request.status = 429
                self._send(429, {"error": "Too many requests"}, rate_headers)
                return
            if fault.kind == "reset":
                return
            if fault.kind == "refuse":
                owner.refuse_connections(fault.refuse_for)
                return
            if fault.kind == "delay" and owner._stopping.wait(fault.delay):
                return
            if fault.kind == "hold":
                fault.arrived.set()
                fault.released.wait(fault.delay or 30.0)
                if owner._stopping.is_set():
                    return
            if fault.kind == "error" and not fault.commit:
                request.status = fault.status
                self._send(fault.status, {"error": "Something went wrong"}, rate_headers)
                return
        if over:
            request.status = 429
            self._send(429, {"error": "Too many requests"}, rate_headers)
            return

        try:
            status, body = owner._route(request)
        except _Reply as reply:
            status, body = reply.status, {"error": reply.message}
        if fault is not None and fault.kind == "drop_after_commit":
            return
        if fault is not None and fault.kind == "non_json_after_commit":
            request.status = 200
            self._send_raw(200, NON_JSON_BODY, "text/html; charset=utf-8", rate_headers)
            return
        if fault is not None and fault.kind == "error":  # commit=True: stored, then 5xx
            status, body = fault.status, {"error": "Something went wrong"}
        if status == 200:
            rate_headers.update(request.answer_headers)
        request.status = status
        self._send(status, body, rate_headers)

    def _answer_guarded(
        self,
        request: RecordedRequest,
        route: Callable[[], tuple[int, Any]],
        headers: dict[str, str],
    ) -> None:
        try:
            status, body = route()
        except _Reply as reply:
            status, body = reply.status, {"error": reply.message}
        request.status = status
        self._send(status, body, headers)

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        payload = json.dumps(body, default=str).encode()
        self._send_raw(status, payload, "application/json; charset=utf-8", headers)

    def _send_raw(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            self._recorded.answered_at = time.time()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. timed out during a "delay" fault)

    def _read_request(self) -> tuple[RecordedRequest, str]:
        received_at = time.time()
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = headers.get("content-type", "")
        form: dict[str, list[str]] = {}
        files: dict[str, UploadedFile] = {}
        body_json: Any = None
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(raw.decode(), keep_blank_values=True)
        elif content_type.startswith("multipart/form-data"):
            form, files = _parse_multipart(content_type, raw)
        elif content_type.startswith("application/json") and raw:
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if "authorization" in headers:
            # Recorded requests are printed by failing tests: never keep the token itself.
            headers["authorization"] = "Bearer <redacted>"
        recorded = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            form=form,
            files=files,
            json=body_json,
            received_at=received_at,
        )
        return recorded, token


def _truthy(value: object) -> bool:
    """Rails' boolean cast of a parameter ("1", "true", "t", "on", true → True)."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "t", "on", "yes")


def _parse_multipart(
    content_type: str, raw: bytes
) -> tuple[dict[str, list[str]], dict[str, UploadedFile]]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    form: dict[str, list[str]] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(
                filename,
                part.get_content_type(),
                len(data),
                hashlib.sha256(data).hexdigest(),
                data,
            )
        else:
            form.setdefault(name, []).append(data.decode())
    return form, files


@contextmanager
def running_server(**options: Any) -> Iterator[MastodonTestServer]:
    """A started server for the duration of the block."""
    server = MastodonTestServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = [
    "Account",
    "InstanceConfig",
    "MastodonTestServer",
    "RecordedRequest",
    "StoredMedia",
    "StoredPoll",
    "StoredStatus",
    "UploadedFile",
    "running_server",
]


def _dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an uploaded image (None if Pillow cannot read it)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None


def _animated(data: bytes) -> bool:
    """Whether an uploaded image has more than one frame."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return bool(getattr(image, "is_animated", False))
    except (UnidentifiedImageError, OSError):
        return False


def _without_file_bytes(request: dict[str, Any]) -> dict[str, Any]:
    """A recorded request for the control API: file bytes left out (sizes and hashes stay)."""
    for file in request["files"].values():
        file.pop("data", None)
    return request
