"""What every network adapter provides, and the values they exchange with the core.

The publish orchestration (`publish.py`) only ever talks to a `Publisher`; the ledger keeps
the `PostKey`s (persisted before the first attempt) and the `PostRef`s (once confirmed).
Adapters raise the `PlatformError` subclasses below so that one retry policy can serve both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal, Protocol

from threadpost.errors import ThreadpostError

if TYPE_CHECKING:
    from threadpost.plan import Thread
    from threadpost.problems import Problem

PlatformName = Literal["mastodon", "bluesky"]
PLATFORMS: Final[tuple[PlatformName, ...]] = ("mastodon", "bluesky")


@dataclass(frozen=True)
class PlatformLimits:
    """How one network (or one Mastodon instance) measures and bounds a post."""

    platform: PlatformName
    max_graphemes: int
    #: UTF-8 byte cap on the text (Bluesky: 3000); None where the network has none.
    max_bytes: int | None
    #: Mastodon's characters_reserved_per_url: an http(s) URL counts as this many characters.
    #: None: URLs count as typed (Bluesky).
    url_weight: int | None
    max_images: int
    max_image_bytes: int
    #: Where the numbers come from: "default" (offline fallback), "instance", "cache".
    source: str = "default"


MASTODON_DEFAULT_LIMITS: Final = PlatformLimits(
    platform="mastodon",
    max_graphemes=500,
    max_bytes=None,
    url_weight=23,
    max_images=4,
    max_image_bytes=16 * 1024 * 1024,
)

BLUESKY_LIMITS: Final = PlatformLimits(
    platform="bluesky",
    max_graphemes=300,
    max_bytes=3000,
    url_weight=None,
    max_images=4,
    max_image_bytes=2_000_000,
)


@dataclass(frozen=True)
class PostKey:
    """The identity of one planned post, chosen and stored before it is first sent.

    Mastodon: `key` is the Idempotency-Key. Bluesky: `key` is the record's TID rkey and
    `created_at` the record's createdAt, frozen so a retry sends a byte-identical record.
    `first_attempt_at` (filled in by the ledger) is when the post may first have reached
    the network: a look-up after an unclear failure never needs to search further back.
    """

    index: int
    key: str
    created_at: str | None = None
    first_attempt_at: datetime | None = None


@dataclass(frozen=True)
class PostRef:
    """Where a published post lives."""

    platform: PlatformName
    index: int
    #: Mastodon status id; Bluesky at:// URI.
    remote_id: str
    #: The post's web address for people.
    url: str
    #: Bluesky record CID (half of a strong ref); None on Mastodon.
    cid: str | None = None


#: Called by an adapter the moment the network confirms a post, so the ledger can record
#: it before the next post is sent.
ConfirmPost = Callable[[PostRef], None]


class Publisher(Protocol):
    """One account on one network."""

    platform: PlatformName
    #: Non-fatal findings of the calls so far (a link card not made, a mention sent as
    #: plain text, an image focus the server ignored). The adapter only appends; the
    #: orchestration reads what each call added and records it.
    warnings: list[Problem]

    def account_id(self) -> str:
        """A stable id of the account (Bluesky DID, Mastodon `user@host`)."""
        ...

    def limits(self) -> PlatformLimits:
        """The limits posts must fit, as the server states them."""
        ...

    def post_keys(self, thread_id: str, thread: Thread) -> list[PostKey]:
        """Deterministic keys for every post of the thread, to persist before sending."""
        ...

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
        """Send posts `start`..end (1-based) as replies under `parent`, confirming each."""
        ...

    def find_published(
        self,
        keys: Sequence[PostKey],
        *,
        thread: Thread | None = None,
        parent: PostRef | None = None,
    ) -> list[PostRef | None]:
        """After an unclear failure: which of the keyed posts exist on the server now.

        `keys` are consecutive posts of `thread` (the frozen plan, when the caller has it),
        the first of them replying to `parent` (None for post 1). Adapters that can look a
        post up by its key (Bluesky's rkey) ignore both; Mastodon, whose Idempotency-Key
        cannot be looked up, matches the account's recent statuses against them."""
        ...

    def delete(self, refs: Sequence[PostRef]) -> None:
        """Delete published posts (last first)."""
        ...


class PlatformError(ThreadpostError):
    """A network call failed. `post` is the 1-based post index concerned, if any."""

    def __init__(
        self,
        message: str,
        *,
        platform: PlatformName,
        post: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.platform = platform
        self.post = post


class TransientError(PlatformError):
    """Worth retrying: connection errors, timeouts, 5xx."""

    #: True when the request may have been applied although no answer came back
    #: (timeout after sending, lost response, 5xx on a write): look before resending.
    unclear: bool = False


class UnclearOutcome(TransientError):
    """The write may or may not have landed."""

    unclear = True


class RateLimited(TransientError):
    """429: wait until `reset_at` (UTC) before trying again."""

    def __init__(
        self,
        message: str,
        *,
        platform: PlatformName,
        reset_at: datetime | None,
        post: int | None = None,
    ) -> None:
        super().__init__(message, platform=platform, post=post)
        self.reset_at = reset_at


class PermanentError(PlatformError):
    """Retrying will not help (400/422: the server's reason; 404 on a parent)."""


class AuthFailed(PermanentError):
    """401/403 or bad credentials: the user must log in again."""


class LandedWithDoubts(PermanentError):
    """Every post of the write was published and confirmed, but something about it is off
    (Bluesky: the server's CIDs differ from the computed ones). Publishing carries on from
    the confirmed posts, and the message is shown as a loud warning, not a failure."""
