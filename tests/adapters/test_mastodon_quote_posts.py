"""MastodonPublisher and quotes, against the local Mastodon test server: quoted_status_id
resolved by search on a quoting instance (also when resuming a thread), a Bluesky post
linked without a search, and a quoted post the instance cannot find refused first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, write_draft
from mastodon_server.server import MastodonTestServer
from threadpost.errors import PermanentError
from threadpost.plan import Thread, plan_thread
from threadpost.values import PostRef

BLUESKY_POST = "https://bsky.app/profile/alice.test/post/3jzfcijpj2z2a"


def _publish(publisher: Any, thread: Thread, start: int = 1, parent: Any = None) -> list[PostRef]:
    keys = publisher.post_keys("t1", thread)
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=start, root=parent, parent=parent, confirm=refs.extend)
    return refs


def _status(server: MastodonTestServer, text: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json())


def test_quotes_resolve_by_search_and_a_bluesky_post_is_a_link(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    quoted = _status(mastodon_server, "Quoted by url.")
    other = _status(mastodon_server, "Quoted by uri.")
    publisher = make_publisher(mastodon_settings)
    draft = write_draft(
        tmp_path,
        f"One.\n> quote {quoted['url']}\n---\nTwo.\n> quote {BLUESKY_POST}\n---\n"
        f"Three.\n> quote {other['uri']}\n",
    )
    thread = plan_thread(draft, publisher.limits())
    assert thread.limits.quote_posts
    refs = _publish(publisher, thread)
    statuses = {s.id: s for s in mastodon_server.published()}
    one, two, three = (statuses[ref.remote_id] for ref in refs)
    assert (one.quoted_status_id, two.quoted_status_id, three.quoted_status_id) == (
        quoted["id"],
        None,
        other["id"],
    )
    assert two.text == f"Two.\n\n{BLUESKY_POST} 2/3"
    searched = [r.query["q"] for r in mastodon_server.requests_to("GET", "/api/v2/search")]
    assert searched == [[quoted["url"]], [other["uri"]]]


def test_a_missing_quoted_post_is_refused_before_any_upload_or_status(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    publisher = make_publisher(mastodon_settings)
    missing = f"{mastodon_server.url}/@alice/42"
    draft = write_draft(tmp_path, f"One.\n---\nTwo.\n> quote {missing}\n")
    thread = plan_thread(draft, publisher.limits())
    with pytest.raises(PermanentError) as raised:
        _publish(publisher, thread)
    assert raised.value.post == 2
    assert f"post 2 (draft line 4) quotes {missing}" in raised.value.message
    assert "nothing was sent to Mastodon" in raised.value.message
    assert mastodon_server.status_posts() == []


def test_resuming_resolves_only_the_posts_still_to_send(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    quoted = _status(mastodon_server, "Quoted.")
    publisher = make_publisher(mastodon_settings)
    draft = write_draft(
        tmp_path,
        f"One.\n> quote {mastodon_server.url}/@alice/1\n---\nTwo.\n> quote {quoted['url']}\n",
    )
    thread = plan_thread(draft, publisher.limits())
    first = _status(mastodon_server, thread.posts[0].text)
    parent = PostRef("mastodon", 1, first["id"], first["url"])
    refs = _publish(publisher, thread, start=2, parent=parent)
    (second,) = (s for s in mastodon_server.published() if s.id == refs[0].remote_id)
    assert (second.in_reply_to_id, second.quoted_status_id) == (first["id"], quoted["id"])
    searched = [r.query["q"] for r in mastodon_server.requests_to("GET", "/api/v2/search")]
    assert searched == [[quoted["url"]]]  # post 1's (missing) quote is not asked again
