"""Ctrl-C during `publish` stops on every network (issue 12): pressed while Mastodon's second
status and Bluesky's one atomic write are in flight (the networks publish at once, issue
14), both are let through and recorded, nothing more is sent, and the printed command
resumes. On a pseudo-terminal, against the Mastodon test server and the local PDS."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from terminal_session import TerminalSession

pytestmark = pytest.mark.pds

POST = "app.bsky.feed.post"


def test_a_stop_with_both_networks_in_flight_lets_both_land_and_resumes(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    env = {
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": mastodon_server.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    draft = isolated_env / "both.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon", "bluesky"]\n+++\nOne.\n---\nTwo.\n---\nThree.\n'
    )
    held = mastodon_server.faults.add("hold", at_count=2)
    pds.hold("com.atproto.repo.applyWrites", timeout=60)
    try:
        session = TerminalSession("publish", "--yes", str(draft), env=env)
        session.read_until("mastodon 1/3")
        assert held.arrived.wait(30)
        for _ in range(300):  # bounded: 30 s for Bluesky's write to reach the PDS
            if pds.holding():
                break
            time.sleep(0.1)
        assert pds.holding() == 1
        session.type(b"\x03")
        session.read_until("Stopping after the post being sent")
    finally:
        held.release()
        pds.release_held()
    assert session.wait() == 130, session.output
    assert len(mastodon_server.published()) == 2
    assert len(pds.list_records(pds_account["did"], POST)) == 3
    # Bluesky's write was answered for all three posts: they are looked up before the report.
    assert "bluesky: 3 of 3 posts confirmed" in session.output
    assert "may have landed" not in session.output

    resumed = run_cli("publish", "--yes", str(draft), env=env)
    assert resumed.exit_code == 0, resumed.stderr
    assert [s.text for s in mastodon_server.published()] == ["One. 1/3", "Two. 2/3", "Three. 3/3"]
    assert len(pds.list_records(pds_account["did"], POST)) == 3


def test_a_stop_inside_blueskys_atomic_write_reports_what_landed(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ctrl-C pressed while Bluesky's one applyWrites commits the whole thread: the stop
    # comes at the first confirmation, with posts 2-3 committed but not yet confirmed.
    # They are looked up before the report, which therefore says what is online.
    from threadpost.cli import publish_watch

    original = publish_watch.PublishWatch.on_confirm

    def pressed_during_the_write(self: Any, ref: Any) -> None:
        if ref.platform == "bluesky":
            self.request_stop()
        original(self, ref)

    monkeypatch.setattr(publish_watch.PublishWatch, "on_confirm", pressed_during_the_write)
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    draft = isolated_env / "sky.md"
    draft.write_text('+++\nplatforms = ["bluesky"]\n+++\nOne.\n---\nTwo.\n---\nThree.\n')
    stopped = run_cli("publish", "--yes", str(draft), env=env)
    assert stopped.exit_code == 130, stopped.stderr
    assert len(pds.list_records(pds_account["did"], POST)) == 3
    assert "bluesky: 3 of 3 posts confirmed" in stopped.stderr
    assert "may have landed" not in stopped.stderr
