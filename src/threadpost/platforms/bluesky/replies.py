"""Replies to an existing post on Bluesky, pure: which `reply_to` address is Bluesky's,
what `check` says about it, and the reply references of the thread's records.

A Bluesky post is named as the app shows it (`https://bsky.app/profile/<handle or
DID>/post/<rkey>`) or by its at:// URI (`quotes.quoted_post` reads both). A reply's record
carries `reply: {root, parent}`, two strong refs {uri, cid}: `parent` is the post replied
to and `root` the conversation's first post, which is the parent's own `reply.root` when
the parent is a reply itself. The publisher reads the parent's record (getRecord) before
anything is sent and freezes both refs in the plan; every post of the thread then names
the same root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threadpost.values import Problem

if TYPE_CHECKING:
    from threadpost.draft import FrontMatter
    from threadpost.thread import ReplyTarget, Thread

PLATFORM = "bluesky"


def is_bluesky_address(address: str) -> bool:
    """A bsky.app post address or an at:// post URI."""
    from threadpost.platforms.bluesky.quotes import quoted_post  # (a draft with reply_to)

    return quoted_post(address) is not None


def reply_address(front: FrontMatter) -> str | None:
    """The address the Bluesky thread replies to: the draft's `reply_to.bluesky`, or its
    one `reply_to` when that is a Bluesky post (None: the thread starts on its own)."""
    explicit = dict(front.reply_to_networks).get("bluesky")
    if explicit is not None:
        return explicit
    if front.reply_to is not None and is_bluesky_address(front.reply_to):
        return front.reply_to
    return None


def reply_problems(thread: Thread, front: FrontMatter) -> list[Problem]:
    """An error for a `reply_to` that is no Bluesky post, and for reply controls on a
    reply (a threadgate only rules a conversation's first post); a warning when the
    draft's one `reply_to` is another network's, so that the Bluesky thread is no reply."""
    line = front.lines.get("reply_to")
    explicit = dict(front.reply_to_networks).get("bluesky")
    found: list[Problem] = []
    if explicit is not None and not is_bluesky_address(explicit):
        found.append(
            Problem(
                "error",
                "reply-to-not-bluesky",
                f"reply_to.bluesky is {explicit!r}, which is no Bluesky post: write its "
                "bsky.app address (https://bsky.app/profile/<handle>/post/<id>) or its "
                "at:// URI",
                PLATFORM,
                line=line,
            )
        )
    single = front.reply_to
    if explicit is None and single is not None and not is_bluesky_address(single):
        if single.lower().startswith(("https://", "http://")) and "bsky.app/" not in single:
            found.append(
                Problem(
                    "warning",
                    "reply-to-elsewhere",
                    f"reply_to {single} is not a Bluesky post: on Bluesky the thread starts "
                    'a conversation of its own (write reply_to = { mastodon = "…", '
                    'bluesky = "…" } to reply on both)',
                    PLATFORM,
                    line=line,
                )
            )
        else:
            found.append(
                Problem(
                    "error",
                    "reply-to-not-a-post",
                    f"reply_to {single!r} is no post's address: write a post's https:// "
                    "address (Mastodon or bsky.app) or an at:// post URI",
                    PLATFORM,
                    line=line,
                )
            )
    if thread.reply_to is not None and thread.reply_rules is not None:
        found.append(
            Problem(
                "error",
                "reply-controls-on-reply",
                f"bluesky_replies cannot apply here: this thread replies to "
                f"{thread.reply_to.address}, and only a conversation's first post rules who "
                "may reply (its threadgate); leave bluesky_replies out",
                PLATFORM,
                line=front.lines.get("bluesky_replies"),
            )
        )
    return found


def reply_refs(
    target: ReplyTarget | None,
) -> tuple[dict[str, str], dict[str, str]] | None:
    """(root, parent) strong refs of the thread's first post, from its found parent; None
    when the thread starts a conversation. Unfound (a dry run), placeholders stand in."""
    if target is None:
        return None
    parent_uri = target.remote_id or _uri_shown(target.address)
    parent = {"uri": parent_uri, "cid": target.cid or "(read when publishing)"}
    if target.root_id is None:
        root = {"uri": f"(the root of {parent_uri}, read when publishing)", "cid": "(read)"}
        if target.remote_id is not None:
            root = dict(parent)
    else:
        root = {"uri": target.root_id, "cid": target.root_cid or ""}
    return root, parent


def _uri_shown(address: str) -> str:
    from threadpost.platforms.bluesky.quotes import quoted_post

    post = quoted_post(address)
    if post is None:
        return address
    return post.uri(None if post.is_did else f"did:?:{post.actor}")
