"""The contract every network adapter provides (`Publisher`).

The publish orchestration (`publish.py`) only ever talks to a `Publisher`; the ledger keeps
the `PostKey`s (persisted before the first attempt) and the `PostRef`s (once confirmed).

The contract, the same for every network (tests/adapters/test_publisher_contract.py runs
one suite against each):
- every failure is a `PlatformError` subclass of `errors.py` (never ValueError or an SDK
  type), so one retry policy serves both networks; a post the network or the adapter
  refuses is a `PermanentError` whose `post` names it;
- non-fatal findings are appended to `warnings` (there is no callback);
- `close()` releases the HTTP sessions, may be called more than once, and the owner of a
  publisher calls it when done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from threadpost.values import PlatformLimits, PlatformName, PostKey, PostRef, Problem

if TYPE_CHECKING:
    from threadpost.plan import Thread
    from threadpost.thread import ReplyTarget


#: Called by an adapter the moment the network confirms posts, so the ledger can record
#: them before the next post is sent: one post at a time, or every post of an atomic write
#: in one call (the ledger records them in one transaction, one fsync).
ConfirmPosts = Callable[[Sequence[PostRef]], None]


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
        confirm: ConfirmPosts,
    ) -> None:
        """Send posts `start`..end (1-based) as replies under `parent`, confirming each as
        soon as the network has it (the posts of one atomic write together)."""
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

    def find_reply_parent(self, target: ReplyTarget) -> ReplyTarget | None:
        """The post a thread replies to (`Thread.reply_to`), found on the network: `target`
        with its identity filled in (id or URI, CID and the conversation's root where the
        network needs them), or None when no such post exists. Asked before the plan is
        frozen, so nothing is sent for a reply to a missing post."""
        ...

    def delete(self, refs: Sequence[PostRef]) -> None:
        """Delete published posts (last first)."""
        ...

    def close(self) -> None:
        """Release the network connections. Idempotent; using the publisher afterwards
        opens new ones."""
        ...
