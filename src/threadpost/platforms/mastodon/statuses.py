"""The parameters of Mastodon status POSTs, built from a planned thread. Pure.

The publisher sends them; the dry run shows them (`draft_statuses`), so what is shown is
what would go out. Nothing here imports Mastodon.py or talks to the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threadpost.platforms.mastodon.polls import poll_param
from threadpost.platforms.mastodon.quotes import quoted_status_param
from threadpost.platforms.mastodon.replies import in_reply_to_param
from threadpost.platforms.mastodon.visibility import reply_visibility

if TYPE_CHECKING:
    from threadpost.thread import PlannedPost, Thread


def draft_statuses(thread: Thread) -> list[dict[str, Any]]:
    """The parameters each status POST will carry, in order, for the dry run. Pure.

    `in_reply_to_id` of post N > 1 is the placeholder "<id of post N-1>", of post 1 the
    parent's id when the thread replies to a post (a placeholder until it is found);
    `media` lists the files that are uploaded first (each becomes one of `media_ids`).
    A None value is not sent at all.
    """
    return [status_params(thread, post) for post in thread.posts]


def status_params(thread: Thread, post: PlannedPost) -> dict[str, Any]:
    """The parameters of one status POST (the reply target still a placeholder)."""
    return {
        "status": post.text,
        # Post 1: the post the thread replies to (`reply_to`, --continue), if any.
        "in_reply_to_id": in_reply_to_param(thread, post.index),
        # Narrowed here too: a plan frozen by an older threadpost may hold a wider one.
        "visibility": (
            thread.visibility
            if post.index == 1
            else reply_visibility(thread.visibility, thread.reply_visibility)
        ),
        # The post's own `> cw` line, else the thread's cw.
        "spoiler_text": thread.content_warning(post),
        "sensitive": thread.sensitive,
        "language": _language(thread.lang),
        "media": _media(post),
        "poll": poll_param(post.poll),
        # Resolved from the address by the publisher (GET /api/v2/search?resolve=true).
        "quoted_status_id": quoted_status_param(thread, post.quote),
        # Who may quote this status (Mastodon 4.5); None leaves the account's default.
        "quote_approval_policy": thread.quote_policy,
    }


def _media(post: PlannedPost) -> list[dict[str, Any]]:
    if not post.images:
        return []
    from threadpost.videos import video_field  # (reads a video's headers: attachments only)

    return [
        {"path": str(image.path), "description": image.alt, **video_field(image.path)}
        for image in post.images
    ]


def _language(lang: str | None) -> str | None:
    # Mastodon takes an ISO 639 code and silently drops anything else: "fr-CA" → "fr".
    if not lang:
        return None
    return lang.replace("_", "-").split("-")[0].lower() or None
