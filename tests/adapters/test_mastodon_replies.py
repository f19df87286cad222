"""MastodonPublisher and replies to existing posts, against the local Mastodon test
server: the parent found by its address (search resolve=true) or, continuing, by its id;
post 1 sent with that in_reply_to_id; the in-doubt look-up matching under it; a missing
or vanished parent refused with no status posted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, write_draft
from mastodon_server.server import MastodonTestServer
from threadpost.errors import PermanentError
from threadpost.plan import Thread, plan_thread
from threadpost.thread import ReplyTarget
from threadpost.values import PostRef


def _status(server: MastodonTestServer, text: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json())


def _publish(publisher: Any, thread: Thread) -> list[PostRef]:
    keys = publisher.post_keys("t1", thread)
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    return refs


def test_a_reply_to_an_address_goes_under_the_found_status(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    parent = _status(mastodon_server, "Someone's post.")
    publisher = make_publisher(mastodon_settings)
    draft = write_draft(tmp_path, f'+++\nreply_to = "{parent["url"]}"\n+++\nMy answer.\n---\nTwo.')
    thread = plan_thread(draft, publisher.limits())
    found = publisher.find_reply_parent(thread.reply_to)
    assert found is not None
    assert (found.remote_id, found.url, found.line) == (parent["id"], parent["url"], 2)
    searched = [r.query["q"] for r in mastodon_server.requests_to("GET", "/api/v2/search")]
    assert searched == [[parent["url"]]]

    refs = _publish(publisher, replace(thread, reply_to=found))
    statuses = {s.id: s for s in mastodon_server.published()}
    one, two = (statuses[ref.remote_id] for ref in refs)
    assert (one.in_reply_to_id, two.in_reply_to_id) == (parent["id"], one.id)

    # An in-doubt post 1 is looked for among the statuses replying to the parent.
    keys = publisher.post_keys("t1", replace(thread, reply_to=found))
    assert [
        r.remote_id if r else None
        for r in publisher.find_published(keys, thread=replace(thread, reply_to=found))
    ] == [one.id, two.id]


def test_a_continuation_reads_the_status_by_id(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    last = _status(mastodon_server, "The earlier thread's last post.")
    publisher = make_publisher(mastodon_settings)
    target = ReplyTarget(address=last["url"], continues="3f2a91c0", remote_id=last["id"])
    found = publisher.find_reply_parent(target)
    assert found == replace(target, url=last["url"])
    assert mastodon_server.requests_to("GET", "/api/v2/search") == []
    assert len(mastodon_server.requests_to("GET", f"/api/v1/statuses/{last['id']}")) == 1


def test_a_missing_or_vanished_parent_posts_nothing(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher = make_publisher(mastodon_settings)
    ghost = f"{mastodon_server.url}/@alice/4242"
    assert publisher.find_reply_parent(ReplyTarget(address=ghost, line=2)) is None
    assert publisher.find_reply_parent(ReplyTarget(address=ghost, remote_id="4242")) is None

    parent = _status(mastodon_server, "Soon deleted.")
    draft = write_draft(tmp_path, f'+++\nreply_to = "{parent["url"]}"\n+++\nToo late.')
    thread = plan_thread(draft, publisher.limits())
    found = publisher.find_reply_parent(thread.reply_to)
    assert found is not None
    httpx.delete(
        f"{mastodon_server.url}/api/v1/statuses/{parent['id']}",
        headers={"Authorization": f"Bearer {mastodon_server.token}"},
        timeout=10,
    ).raise_for_status()
    posted = len(mastodon_server.published())
    with pytest.raises(PermanentError) as caught:
        _publish(publisher, replace(thread, reply_to=found))
    assert caught.value.post == 1
    assert "no longer exists" in caught.value.message
    assert len(mastodon_server.published()) == posted

    # A plan frozen without its parent found is refused before any status.
    with pytest.raises(PermanentError) as caught:
        _publish(publisher, thread)
    assert "was never found" in caught.value.message
    assert len(mastodon_server.published()) == posted
