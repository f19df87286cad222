"""`publish DRAFT --continue ID`: where a new thread goes on under one threadpost published.

A thread and the threads that continue it form a chain (each continuation's frozen plan
names the thread it continues: `ReplyTarget.continues`). `--continue` may name any thread
of the chain: on each network the new posts reply to the last post of the chain's latest
thread there, and their numbering goes on from the chain's post count on that network
(13/15 after 12 posts). Only networks where the chain was published are continued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from threadpost.errors import UsageError
from threadpost.plan import Continuation
from threadpost.thread import ReplyTarget

if TYPE_CHECKING:
    from threadpost.store import Ledger
    from threadpost.values import PlatformName


@dataclass(frozen=True)
class Continued:
    """Per network, how the new thread continues the chain; the networks left out (the
    chain was never published there) with the reason."""

    thread_id: str
    by_network: dict[PlatformName, Continuation]
    skipped: dict[PlatformName, str]


def continuation_of(ledger: Ledger, prefix: str, platforms: Sequence[PlatformName]) -> Continued:
    """Where a draft for `platforms` continues thread `prefix` (a unique id prefix).
    UsageError when it can continue nowhere, or the chain's end is still being posted."""
    thread_id = ledger.resolve_id(prefix)
    chain = _chain(ledger, _head(ledger, thread_id))
    by_network: dict[PlatformName, Continuation] = {}
    skipped: dict[PlatformName, str] = {}
    for platform in platforms:
        on_network = [t for t in chain if platform in ledger.thread(t).platforms]
        published = [t for t in on_network if _platform_state(ledger, t, platform) != "deleted"]
        if not published:
            skipped[platform] = f"thread {thread_id} was not published to {platform}"
            continue
        last = published[-1]
        state = _platform_state(ledger, last, platform)
        if state != "published":
            raise UsageError(
                f"thread {last} ({'continuing ' + thread_id if last != thread_id else 'the one'}"
                f" named) is {state} on {platform}: a thread can be continued once it is "
                "published",
                hint=f"threadpost status {last} shows where it stands",
            )
        posts = [p for p in ledger.posts(last, platform) if p.state == "confirmed"]
        ref = posts[-1].ref if posts else None
        if ref is None:
            raise UsageError(f"thread {last} has no published post on {platform} to continue")
        earlier = sum(
            sum(1 for p in ledger.posts(t, platform) if p.state == "confirmed") for t in published
        )
        by_network[platform] = Continuation(
            parent=ReplyTarget(
                address=ref.url or ref.remote_id,
                continues=thread_id,
                remote_id=ref.remote_id,
                cid=ref.cid,
            ),
            earlier_posts=earlier,
        )
    if not by_network:
        raise UsageError(
            f"thread {thread_id} was not published to {', '.join(platforms)}: nothing to "
            "continue there"
        )
    return Continued(thread_id, by_network, skipped)


def _continued(ledger: Ledger, thread_id: str) -> str | None:
    """The thread `thread_id` continues, if it is a continuation."""
    for platform in ledger.thread(thread_id).platforms:
        target = ledger.plan(thread_id, platform).reply_to
        if target is not None and target.continues is not None:
            return target.continues
    return None


def _head(ledger: Ledger, thread_id: str) -> str:
    """The first thread of the chain `thread_id` belongs to (bounded: ids never loop, a
    thread can only continue one made before it)."""
    seen = {thread_id}
    while (earlier := _continued(ledger, thread_id)) is not None and earlier not in seen:
        seen.add(earlier)
        thread_id = earlier
    return thread_id


def _chain(ledger: Ledger, first: str) -> list[str]:
    """`first` and every thread that continues it (directly or through another), oldest
    first. Cancelled, skipped and deleted threads are no part of it."""
    chain = [first]
    members = {first}
    for record in sorted(ledger.threads(), key=lambda r: r.created_at):
        if record.id in members or record.state in ("cancelled", "skipped", "deleted"):
            continue
        if _continued(ledger, record.id) in members:
            chain.append(record.id)
            members.add(record.id)
    return chain


def _platform_state(ledger: Ledger, thread_id: str, platform: PlatformName) -> str:
    return next((p.state for p in ledger.platforms(thread_id) if p.platform == platform), "pending")
