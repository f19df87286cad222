"""Finding the post a Bluesky thread replies to: its strong ref and its conversation's root.

Asked through a `query` (the publisher's XRPC choke point): the handle of a bsky.app
address is resolved to a DID, then the parent's record is read with
com.atproto.repo.getRecord, which gives its CID and, when the parent is a reply itself,
its own `reply.root`: that root is the root of every post of the new thread (a
conversation has one root). A parent that is no reply is its own root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from threadpost.platforms.bluesky.quotes import POST_COLLECTION, quoted_post
from threadpost.platforms.bluesky.records import web_url
from threadpost.platforms.bluesky.xrpc import NotFound, Query, resolve_handle
from threadpost.thread import ReplyTarget


def find_parent(query: Query, target: ReplyTarget) -> ReplyTarget | None:
    """`target` with the parent's uri, CID, address and root filled in; None when no such
    post exists (an address that names no Bluesky post, an unknown handle, no record)."""
    # --continue knows the earlier post's at:// URI; a draft's reply_to is an address.
    post = quoted_post(target.remote_id or target.address)
    if post is None:
        return None
    did = post.actor
    if not post.is_did:
        found = resolve_handle(query, post.actor)
        if found.did is None:
            return None
        did = found.did
    params = {"repo": did, "collection": POST_COLLECTION, "rkey": post.rkey}
    try:
        got = query("com.atproto.repo.getRecord", params, "reading the post replied to")
    except NotFound:
        return None
    uri, cid = got.get("uri"), got.get("cid")
    if not isinstance(uri, str) or not isinstance(cid, str):
        return None
    root_uri, root_cid = _root_of(got.get("value"), uri, cid)
    return replace(
        target,
        remote_id=uri,
        cid=cid,
        url=web_url(post.actor, post.rkey),
        root_id=root_uri,
        root_cid=root_cid,
    )


def _root_of(record: Any, uri: str, cid: str) -> tuple[str, str]:
    """The conversation root a reply to the record (`uri`, `cid`) names: the record's own
    `reply.root`, or the record itself when it starts a conversation."""
    reply = record.get("reply") if isinstance(record, Mapping) else None
    root = reply.get("root") if isinstance(reply, Mapping) else None
    if isinstance(root, Mapping):
        root_uri, root_cid = root.get("uri"), root.get("cid")
        if isinstance(root_uri, str) and isinstance(root_cid, str):
            return root_uri, root_cid
    return uri, cid
