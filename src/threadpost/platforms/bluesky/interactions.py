"""Bluesky reply and quote controls: the threadgate and postgate records. Pure, imports
nothing (the draft parser checks `bluesky_replies` with it).

A threadgate (`app.bsky.feed.threadgate`, rkey = the root post's) says who may reply to a
whole thread: its `allow` rules, `[]` for nobody; no threadgate, everyone. A postgate
(`app.bsky.feed.postgate`, rkey = the post's) with a `disableRule` stops a post being
quoted; a postgate covers one post only, so a thread closed to quotes has one per post.
Both are written in the same atomic applyWrites as their posts, as the official app does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

THREADGATE_COLLECTION: Final = "app.bsky.feed.threadgate"
POSTGATE_COLLECTION: Final = "app.bsky.feed.postgate"
#: The draft's names for the groups that may reply → the threadgate's allow rule.
REPLY_RULES: Final = {
    "mentioned": f"{THREADGATE_COLLECTION}#mentionRule",
    "following": f"{THREADGATE_COLLECTION}#followingRule",
    "followers": f"{THREADGATE_COLLECTION}#followerRule",
}
#: app.bsky.feed.threadgate: allow maxLength 5.
MAX_ALLOW_RULES: Final = 5
_DISABLE_QUOTES: Final = f"{POSTGATE_COLLECTION}#disableRule"


def parse_reply_setting(values: Sequence[str]) -> tuple[str, ...] | None:
    """`bluesky_replies` → the allowed groups: None for "everyone" (no threadgate), () for
    "nobody" (or an empty list). ValueError for an unknown name or a contradiction."""
    chosen = list(dict.fromkeys(values))
    if chosen == ["everyone"]:
        return None
    if chosen == ["nobody"] or not chosen:
        return ()
    for name in ("everyone", "nobody"):
        if name in chosen:
            raise ValueError(f'"{name}" cannot be combined with other groups')
    for name in chosen:
        if name not in REPLY_RULES:
            known = ", ".join(("everyone", "nobody", *REPLY_RULES))
            raise ValueError(f"unknown group {name!r} (one of: {known})")
    return tuple(chosen)


def describe_replies(rules: tuple[str, ...] | None) -> str:
    """ "everyone", "nobody" or "mentioned, following": who may reply, for people."""
    if rules is None:
        return "everyone"
    return ", ".join(rules) if rules else "nobody"


def threadgate_record(root_uri: str, rules: Sequence[str], created_at: str) -> dict[str, Any]:
    """The threadgate of the thread whose first post is `root_uri`; `rules` may be empty."""
    return {
        "$type": THREADGATE_COLLECTION,
        "post": root_uri,
        "allow": [{"$type": REPLY_RULES[name]} for name in rules],
        "createdAt": created_at,
    }


def postgate_record(post_uri: str, created_at: str) -> dict[str, Any]:
    """The postgate that stops `post_uri` being quoted (embedded) by anyone."""
    return {
        "$type": POSTGATE_COLLECTION,
        "post": post_uri,
        "embeddingRules": [{"$type": _DISABLE_QUOTES}],
        "createdAt": created_at,
    }
