"""Replies to an existing post on Mastodon, pure: which `reply_to` address is Mastodon's,
what `check` says about it, and the dry run's `in_reply_to_id`.

A Mastodon post is named by its web address (`https://instance/@user/123`, or the
address a remote server gave it). The publisher finds it on the account's own instance
(GET /api/v2/search?resolve=true, as for quotes; `replies_io.find_parent`) before
anything is sent, and the first status replies to it with `in_reply_to_id`. A Bluesky
address (bsky.app, at://) is no Mastodon post: a single `reply_to` naming one applies to
Bluesky only, and the Mastodon thread starts a conversation of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from threadpost.platforms.mastodon.quotes import UNQUOTABLE_HOSTS, is_web_address
from threadpost.values import Problem

if TYPE_CHECKING:
    from threadpost.draft import FrontMatter
    from threadpost.thread import Thread

PLATFORM = "mastodon"


def is_mastodon_address(address: str) -> bool:
    """A web address that is not Bluesky's: the only kind an instance can look up."""
    if not is_web_address(address):
        return False
    return (urlsplit(address).hostname or "").lower() not in UNQUOTABLE_HOSTS


def _is_bluesky_address(address: str) -> bool:
    return address.startswith("at://") or (
        is_web_address(address) and not is_mastodon_address(address)
    )


def reply_address(front: FrontMatter) -> str | None:
    """The address the Mastodon thread replies to: the draft's `reply_to.mastodon`, or its
    one `reply_to` when that is a Mastodon address (None: the thread starts on its own)."""
    explicit = dict(front.reply_to_networks).get("mastodon")
    if explicit is not None:
        return explicit
    if front.reply_to is not None and is_mastodon_address(front.reply_to):
        return front.reply_to
    return None


def reply_problems(thread: Thread, front: FrontMatter) -> list[Problem]:
    """An error for a `reply_to` Mastodon cannot reply to; a warning when the draft's one
    `reply_to` is Bluesky's, so that the Mastodon thread is not a reply."""
    line = front.lines.get("reply_to")
    explicit = dict(front.reply_to_networks).get("mastodon")
    if explicit is not None and not is_mastodon_address(explicit):
        return [
            Problem(
                "error",
                "reply-to-not-mastodon",
                f"reply_to.mastodon is {explicit!r}, which is no Mastodon post: Mastodon "
                "replies to a post by its https:// address (https://instance/@user/123)",
                PLATFORM,
                line=line,
            )
        ]
    single = front.reply_to
    if explicit is None and single is not None and not is_mastodon_address(single):
        if _is_bluesky_address(single):
            return [
                Problem(
                    "warning",
                    "reply-to-elsewhere",
                    f"reply_to {single} is a Bluesky post: on Mastodon the thread starts a "
                    'conversation of its own (write reply_to = { mastodon = "…", '
                    'bluesky = "…" } to reply on both)',
                    PLATFORM,
                    line=line,
                )
            ]
        return [
            Problem(
                "error",
                "reply-to-not-a-post",
                f"reply_to {single!r} is no post's address: write a post's https:// address "
                "(Mastodon or bsky.app) or an at:// URI",
                PLATFORM,
                line=line,
            )
        ]
    return []


def in_reply_to_param(thread: Thread, index: int) -> str | None:
    """The dry run's `in_reply_to_id`: the previous post's placeholder, and for post 1 the
    parent's id (found when publishing: a placeholder until then), or None."""
    if index > 1:
        return f"<id of post {index - 1}>"
    target = thread.reply_to
    if target is None:
        return None
    return target.remote_id or f"<id of {target.address}>"
