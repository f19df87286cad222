"""BlueskyPublisher and replies to existing posts, against the local PDS: the parent found
(handle → DID, getRecord) with its conversation's root, every record's reply refs naming
that root, a continuation under a thread's last post, and a missing parent refused with
nothing written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_bluesky import APPLY_WRITES, POST, make_publisher, make_settings, make_thread, publish

import pds_harness
from threadpost.draft import parse_draft
from threadpost.errors import PermanentError
from threadpost.plan import Continuation, ReplyTarget, plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.store import thread_from_json, thread_to_json

pytestmark = pytest.mark.pds


def _strong(ref: Any) -> dict[str, str]:
    return {"uri": ref.remote_id, "cid": ref.cid}


def test_a_reply_to_a_reply_names_the_conversations_root(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    other = pds.create_account(pds_harness.unique_handle("rp"), "reply-password-1")
    theirs = make_publisher(make_settings(pds, other, tmp_path / "other"))
    # Their conversation: a root and a reply under it (posts 1 and 2 of their thread).
    their_keys, their_refs = publish(
        theirs, make_thread("Their root.\n---\nTheir reply.", tmp_path)
    )
    address = f"https://bsky.app/profile/{other['handle']}/post/{their_keys[1].key}"

    thread = make_thread(f'+++\nreply_to = "{address}"\n+++\nMy answer.\n---\nMore.', tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "mine"))
    found = publisher.find_reply_parent(thread.reply_to)  # type: ignore[arg-type]
    assert found is not None
    assert (found.remote_id, found.cid) == (their_refs[1].remote_id, their_refs[1].cid)
    assert (found.root_id, found.root_cid) == (their_refs[0].remote_id, their_refs[0].cid)
    # Frozen with the plan, as publish does before sending.
    frozen = thread_from_json(thread_to_json(replace(thread, reply_to=found)))
    keys, refs = publish(publisher, frozen)

    did = pds_account["did"]
    one, two = (pds.get_record(did, POST, key.key)["value"] for key in keys)
    assert one["reply"] == {"root": _strong(their_refs[0]), "parent": _strong(their_refs[1])}
    assert two["reply"] == {"root": _strong(their_refs[0]), "parent": _strong(refs[0])}


def test_a_reply_to_a_root_post_by_at_uri_and_a_continuation(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    _, first_refs = publish(publisher, make_thread("Start.", tmp_path))
    root = first_refs[0]
    thread = make_thread(f'+++\nreply_to = "{root.remote_id}"\n+++\nUnder it.', tmp_path)
    found = publisher.find_reply_parent(thread.reply_to)  # type: ignore[arg-type]
    assert found is not None and (found.root_id, found.root_cid) == (root.remote_id, root.cid)
    keys, refs = publish(publisher, replace(thread, reply_to=found))
    value = pds.get_record(pds_account["did"], POST, keys[0].key)["value"]
    assert value["reply"] == {"root": _strong(root), "parent": _strong(root)}

    # --continue: under that reply's post, by the ledger's at:// URI; numbering goes on.
    last = refs[-1]
    target = ReplyTarget(
        address=last.url, continues="3f2a91c0", remote_id=last.remote_id, cid=last.cid
    )
    draft = parse_draft(b"Three.\n---\nFour.", tmp_path / "more.md")
    more = plan_thread(draft, BLUESKY_LIMITS, continuation=Continuation(target, earlier_posts=2))
    assert [p.text for p in more.posts] == ["Three. 3/4", "Four. 4/4"]
    found = publisher.find_reply_parent(more.reply_to)  # type: ignore[arg-type]
    assert found is not None and found.root_id == root.remote_id
    more_keys, more_refs = publish(publisher, replace(more, reply_to=found))
    three, four = (pds.get_record(pds_account["did"], POST, k.key)["value"] for k in more_keys)
    assert three["reply"] == {"root": _strong(root), "parent": _strong(last)}
    assert four["reply"] == {"root": _strong(root), "parent": _strong(more_refs[0])}


def test_a_missing_parent_is_not_found_and_a_vanished_one_stops_the_send(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    ghost = f"https://bsky.app/profile/{pds_account['handle']}/post/3aaaaaaaaaaaa"
    thread = make_thread(f'+++\nreply_to = "{ghost}"\n+++\nHello?', tmp_path)
    assert publisher.find_reply_parent(thread.reply_to) is None  # type: ignore[arg-type]
    nobody = ReplyTarget(address="https://bsky.app/profile/nobody-here.test/post/3aaaaaaaaaaaa")
    assert publisher.find_reply_parent(nobody) is None

    # Found when frozen, deleted before the send: nothing is written.
    _, refs = publish(publisher, make_thread("Soon gone.", tmp_path))
    target = ReplyTarget(address=refs[0].remote_id, line=2)
    found = publisher.find_reply_parent(target)
    assert found is not None
    publisher.delete(refs)
    before = pds.count(APPLY_WRITES)
    with pytest.raises(PermanentError) as caught:
        publish(publisher, replace(make_thread("Too late.", tmp_path), reply_to=found))
    assert "reply_to (draft line 2)" in caught.value.message
    assert "no longer exists" in caught.value.message
    assert pds.count(APPLY_WRITES) == before
    assert pds.list_records(pds_account["did"], POST) == []
