"""Opt-in: publish a short `direct` thread to a real Mastodon instance, read it back, delete it.

Runs only when THREADPOST_TEST_MASTODON_URL and THREADPOST_TEST_MASTODON_TOKEN are set
(a throwaway account is best). Nothing else in the suite leaves the machine.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from threadpost.config import MastodonSettings, Settings, check_instance_url
from threadpost.draft import parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.mastodon.publisher import MastodonPublisher
from threadpost.values import PostRef

URL = os.environ.get("THREADPOST_TEST_MASTODON_URL")
TOKEN = os.environ.get("THREADPOST_TEST_MASTODON_TOKEN")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (URL and TOKEN),
        reason="set THREADPOST_TEST_MASTODON_URL and THREADPOST_TEST_MASTODON_TOKEN to run",
    ),
]


def test_direct_thread_round_trip(tmp_path: Path) -> None:
    from mastodon import Mastodon

    assert URL and TOKEN
    instance = check_instance_url(URL, "THREADPOST_TEST_MASTODON_URL")
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        mastodon=MastodonSettings(instance=instance, access_token=TOKEN),
    )
    publisher = MastodonPublisher(settings)
    marker = uuid.uuid4().hex[:8]
    draft = parse_draft(
        (
            f'+++\nvisibility = "direct"\nreply_visibility = "direct"\nlang = "en"\n'
            f'cw = "threadpost test {marker}"\n+++\n'
            f"threadpost live test {marker}: first post, https://example.org/\n---\n"
            f"threadpost live test {marker}: second post, deleted in a moment.\n"
        ).encode(),
        tmp_path / "live.md",
    )
    thread = plan_thread(draft, publisher.limits())
    keys = publisher.post_keys(f"live-{marker}", thread)
    refs: list[PostRef] = []
    try:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
        assert [r.index for r in refs] == [1, 2]
        api = Mastodon(api_base_url=instance, access_token=TOKEN, version_check_mode="none")
        first = api.status(refs[0].remote_id)
        second = api.status(refs[1].remote_id)
        assert first["visibility"] == second["visibility"] == "direct"
        assert second["in_reply_to_id"] == first["id"]
        assert first["spoiler_text"] == f"threadpost test {marker}"
        assert marker in first["content"]
        # A resend with the same keys is deduplicated by the instance.
        again: list[PostRef] = []
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=again.extend)
        assert [r.remote_id for r in again] == [r.remote_id for r in refs]
    finally:
        publisher.delete(refs)
