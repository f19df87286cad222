"""Mastodon: a success whose body cannot be read is an unclear outcome, not a refusal.

Issue 18: a 200 with a non-JSON body after the instance stored the status marked the
platform failed, with the post on the server but not in the ledger (a permanent gap). The
test server's "non_json_after_commit" fault stores the status (or media) and answers 200
with an HTML body.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, write_draft, write_image
from mastodon_server.server import MastodonTestServer
from threadpost.errors import UnclearOutcome
from threadpost.plan import plan_thread
from threadpost.store import open_ledger
from threadpost.values import PostRef

STATUSES = "/api/v1/statuses"


def _ready(settings: Any, tmp_path: Path, text: str) -> tuple[Any, Any, Any]:
    publisher = make_publisher(settings)
    thread = plan_thread(write_draft(tmp_path / "d", text), publisher.limits())
    return publisher, thread, publisher.post_keys("t1", thread)


def test_a_non_json_200_after_the_status_was_stored_is_unclear_and_found(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = _ready(mastodon_settings, tmp_path, "One.\n---\nTwo.\n---\nThree.")
    mastodon_server.faults.add("non_json_after_commit", STATUSES, at_count=2)
    refs: list[PostRef] = []
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert raised.value.post == 2
    assert "not the expected JSON" in raised.value.message
    assert len(mastodon_server.published()) == 2  # it landed
    found = publisher.find_published(keys[1:], thread=thread, parent=refs[0])
    assert found[0] is not None and found[0].remote_id == mastodon_server.published()[1].id
    assert found[1] is None


def test_a_success_that_is_json_but_not_a_status_is_unclear(
    mastodon_server: MastodonTestServer,
    mastodon_settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher, thread, keys = _ready(mastodon_settings, tmp_path, "Alone.")
    stored = mastodon_server._post_status
    monkeypatch.setattr(
        mastodon_server, "_post_status", lambda request, user: (stored(request, user)[0], [])
    )
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    assert raised.value.post == 1
    assert len(mastodon_server.published()) == 1


def test_a_non_json_200_to_a_media_upload_is_unclear(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    write_image(tmp_path / "d" / "pic.png")
    publisher, thread, keys = _ready(mastodon_settings, tmp_path, "A picture.\n![alt](pic.png)")
    mastodon_server.faults.add("non_json_after_commit", "/api/v2/media", at_count=1)
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    assert raised.value.post == 1 and "uploading image" in raised.value.message
    assert mastodon_server.published() == []
    # The retry uploads anew and posts once (the first media stays unattached).
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert len(mastodon_server.published()) == 1 and len(mastodon_server.media) == 2


def _env(tmp_path: Path, server: MastodonTestServer) -> dict[str, str]:
    (tmp_path / "config.toml").write_text("")
    return {
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
        "THREADPOST_RETRY_WITHOUT_SLEEP": os.environ.get("THREADPOST_RETRY_WITHOUT_SLEEP", "1"),
    }


def test_publish_then_run_after_unreadable_successes_leaves_no_gap_and_no_duplicate(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    """End to end through the CLI: from post 3 on, every status is stored and answered with
    an HTML 200. `publish` gets one post further per attempt (each is looked up and found)
    and ends incomplete (exit 4), resumable; `threadpost run` then finishes the thread.
    Before the fix: exit 1, the platform failed at post 3 and `run` never resumed it."""
    env = _env(tmp_path, mastodon_server)
    texts = [f"Unreadable answers, post {i}." for i in range(1, 9)]
    draft = tmp_path / "thread.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon"]\nnumbering = false\n+++\n' + "\n---\n".join(texts),
        encoding="utf-8",
    )
    mastodon_server.faults.add("non_json_after_commit", STATUSES, at_count=3, times=None)
    first = run_cli("publish", "--yes", "--json", str(draft), env=env)
    assert first.exit_code == 4, first.stderr
    outcome = json.loads(first.stdout)["platforms"]["mastodon"]
    assert outcome["status"] == "incomplete"
    landed = len(mastodon_server.published())
    assert 3 < landed < len(texts)  # progress through unclear answers, none resent

    mastodon_server.faults.clear()
    with open_ledger(tmp_path / "threadpost.db") as ledger:  # the retry time has come
        ledger.conn.execute(
            "UPDATE platforms SET next_retry_at = '2000-01-01T00:00:00.000000+00:00'"
        )
    resumed = run_cli("run", env=env)
    assert resumed.exit_code == 0, resumed.stderr
    statuses = mastodon_server.published()
    assert [s.text for s in statuses] == texts  # no gap, no duplicate, in order
    assert [s.in_reply_to_id for s in statuses] == [None] + [s.id for s in statuses[:-1]]
    assert len(mastodon_server.status_posts()) == len(texts)  # every post POSTed once
    with open_ledger(tmp_path / "threadpost.db") as ledger:
        (thread,) = ledger.threads()
        assert [p.remote_id for p in ledger.posts(thread.id, "mastodon")] == [
            s.id for s in statuses
        ]
