"""A publish sends nothing before its first status once the token's account is known: the
account is asked (verify_credentials) the first time only, per instance + token."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, write_draft
from mastodon_server.server import MastodonTestServer
from threadpost.errors import AuthFailed
from threadpost.plan import plan_thread
from threadpost.platforms.mastodon.known_account import KNOWN_ACCOUNTS_FILE
from threadpost.values import PostRef

VERIFY = "/api/v1/accounts/verify_credentials"


def _publish(settings: Any, folder: Path, text: str) -> list[PostRef]:
    publisher = make_publisher(settings)
    thread = plan_thread(write_draft(folder, text), publisher.limits())
    refs: list[PostRef] = []
    keys = publisher.post_keys("t1", thread)
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    return refs


def test_the_second_publish_sends_its_first_status_first(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    _publish(mastodon_settings, tmp_path / "a", "One.\n---\nTwo.")
    assert len(mastodon_server.requests_to("GET", VERIFY)) == 1
    path = mastodon_settings.state_dir / KNOWN_ACCOUNTS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert mastodon_settings.mastodon.access_token not in path.read_text()

    before = len(mastodon_server.requests)
    refs = _publish(mastodon_settings, tmp_path / "b", "Three.\n---\nFour.")
    assert len(refs) == 2
    assert len(mastodon_server.requests_to("GET", VERIFY)) == 1
    sent = mastodon_server.requests[before:]
    assert (sent[0].method, sent[0].path) == ("POST", "/api/v1/statuses")


def test_the_same_account_makes_the_same_keys_either_way(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    thread = plan_thread(
        write_draft(tmp_path / "d", "A.\n---\nB."), make_publisher(mastodon_settings).limits()
    )
    asked = make_publisher(mastodon_settings).post_keys("t9", thread)
    remembered = make_publisher(mastodon_settings).post_keys("t9", thread)
    assert asked == remembered
    assert len(mastodon_server.requests_to("GET", VERIFY)) == 1


def test_another_token_is_asked_about(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    make_publisher(mastodon_settings).account_id()
    token = mastodon_server.add_account("other")
    other = replace(
        mastodon_settings, mastodon=replace(mastodon_settings.mastodon, access_token=token)
    )
    assert make_publisher(other).account_id().startswith("other@")
    assert len(mastodon_server.requests_to("GET", VERIFY)) == 2


def test_a_revoked_token_is_refused_at_the_first_status_and_nothing_is_posted(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    make_publisher(mastodon_settings).account_id()
    mastodon_server.revoke(mastodon_settings.mastodon.access_token)
    with pytest.raises(AuthFailed):
        _publish(mastodon_settings, tmp_path / "d", "One.\n---\nTwo.")
    assert mastodon_server.published() == []
