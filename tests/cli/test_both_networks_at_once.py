"""A thread for both networks publishes to them at the same time (issue 14), end to end
through the CLI against the real local PDS and the local Mastodon API test server.

Concurrency is shown without timing: each server holds the thread's first write (the PDS
its applyWrites, the Mastodon server the first status) until the other one holds its own
too. One after the other, the first write would wait for a second that never comes while it
is held (until the hold's bound), and the two would not be in flight at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import pds_harness
import threadpost
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer, RecordedRequest

pytestmark = pytest.mark.pds

APPLY_WRITES = "com.atproto.repo.applyWrites"
STATUSES = "/api/v1/statuses"
#: How long a hold lasts at most, and how long the watcher waits for both holds: bounds
#: for a broken (sequential) publisher, never reached by a working one.
HOLD_BOUND_S = 60.0

DRAFT = """+++
platforms = ["mastodon", "bluesky"]
+++
Cities buy cameras.

---

Here is why.
"""


def _env(
    mastodon: MastodonTestServer, pds: pds_harness.LocalPDS, account: dict[str, Any]
) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": mastodon.url,
        "THREADPOST_MASTODON_TOKEN": mastodon.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
    }


@contextmanager
def _released_when(
    condition: Callable[[], bool], *releases: Callable[[], None]
) -> Iterator[threading.Event]:
    """While the block runs, a watcher releases the holds once `condition` holds (or after
    `HOLD_BOUND_S`); the event yielded tells whether the condition was met."""
    met = threading.Event()
    done = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + HOLD_BOUND_S
        try:
            while not done.is_set() and time.monotonic() < deadline:
                if condition():
                    met.set()
                    return
                time.sleep(0.02)
        finally:
            for release in releases:
                release()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield met
    finally:
        done.set()
        watcher.join(timeout=HOLD_BOUND_S + 5)
        for release in releases:
            release()


def _apply_writes(pds: pds_harness.LocalPDS, since_ms: float) -> list[dict[str, Any]]:
    return [r for r in pds.requests() if r["nsid"] == APPLY_WRITES and r["received_ms"] >= since_ms]


def _statuses(server: MastodonTestServer) -> list[RecordedRequest]:
    return server.requests_to("POST", STATUSES)


def test_both_networks_are_sent_at_the_same_time(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    draft = isolated_env / "cameras.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = _env(mastodon_server, pds, pds_account)
    since_ms = time.time() * 1000
    pds.hold(APPLY_WRITES, timeout=HOLD_BOUND_S)
    held = mastodon_server.faults.add("hold", on_path=STATUSES, delay=HOLD_BOUND_S)

    def both_held() -> bool:
        return held.arrived.is_set() and pds.holding() >= 1

    with _released_when(both_held, pds.release_held, held.release) as met:
        result = run_cli("publish", "--yes", "--json", str(draft), env=env)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert met.is_set(), "the two first writes were never in flight at the same time"
    data = json.loads(result.stdout)
    assert list(data["platforms"]) == ["mastodon", "bluesky"], "the draft's order, as before"
    assert {p: v["status"] for p, v in data["platforms"].items()} == {
        "mastodon": "published",
        "bluesky": "published",
    }
    # The servers' own logs agree: the applyWrites and the first status overlapped.
    (write,) = _apply_writes(pds, since_ms)
    first = _statuses(mastodon_server)[0]
    assert first.answered_at is not None
    assert write["received_ms"] / 1000 < first.answered_at
    assert first.received_at < write["answered_ms"] / 1000
    assert [s.text for s in mastodon_server.published()] == [
        "Cities buy cameras. 1/2",
        "Here is why. 2/2",
    ]
    status = json.loads(run_cli("status", data["thread"], "--json", env=env).stdout)
    assert status["state"] == "published"
    for platform in ("mastodon", "bluesky"):
        posts = status["platforms"][platform]["posts"]
        assert [(p["index"], p["state"]) for p in posts] == [(1, "confirmed"), (2, "confirmed")]


def test_a_network_refusing_a_post_does_not_stop_the_other_in_flight(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    """Mastodon refuses post 2 for good while Bluesky's write is still in flight (held
    until Mastodon has answered): Bluesky completes, the ledger says exactly that."""
    draft = isolated_env / "cameras.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = _env(mastodon_server, pds, pds_account)
    pds.hold(APPLY_WRITES, timeout=HOLD_BOUND_S)
    mastodon_server.faults.add("error", on_path=STATUSES, at_count=2, status=422)

    def mastodon_refused() -> bool:
        answered = [r.status for r in _statuses(mastodon_server) if r.answered_at]
        return 422 in answered and pds.holding() >= 1

    with _released_when(mastodon_refused, pds.release_held) as met:
        result = run_cli("publish", "--yes", "--json", str(draft), env=env)

    assert met.is_set(), "Bluesky's write was not in flight when Mastodon refused"
    assert result.exit_code == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["state"] == "failed"
    mastodon, bluesky = data["platforms"]["mastodon"], data["platforms"]["bluesky"]
    assert (mastodon["status"], mastodon["published"], mastodon["total"]) == ("failed", 1, 2)
    assert mastodon["error"].startswith("mastodon post 2 was refused: ")
    assert (bluesky["status"], bluesky["published"], bluesky["total"]) == ("published", 2, 2)
    assert len(mastodon_server.published()) == 1
    records = pds.list_records(pds_account["did"], "app.bsky.feed.post")
    assert len(records) == 2

    status = json.loads(run_cli("status", data["thread"], "--json", env=env).stdout)
    assert status["state"] == "failed"
    assert status["platforms"]["mastodon"]["state"] == "failed"
    assert [p["state"] for p in status["platforms"]["mastodon"]["posts"]] == [
        "confirmed",
        "planned",
    ]
    assert status["platforms"]["bluesky"]["state"] == "published"
    assert sorted(p["url"] for p in status["platforms"]["bluesky"]["posts"]) == sorted(
        bluesky["urls"]
    )
    # Nothing is left 'sending' (in doubt) on either network.
    assert all(p["state"] != "sending" for v in status["platforms"].values() for p in v["posts"])

    # The holds are gone: publishing again goes through on both.
    again = run_cli("publish", "--yes", "--again", str(draft), env=env)
    assert again.exit_code == 0, again.stdout + again.stderr


def test_output_stays_whole_lines_in_the_usual_order(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    """A retry notice printed while the other network is sending names its network, and
    the summary lists the networks in the draft's order whichever finished first."""
    draft = isolated_env / "cameras.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = _env(mastodon_server, pds, pds_account)
    # Mastodon's first status fails once (retried); Bluesky finishes long before it.
    mastodon_server.faults.add("error", on_path=STATUSES, status=503)
    mastodon_server.faults.add("delay", on_path=STATUSES, at_count=2, delay=0.5)

    result = run_cli("publish", "--yes", str(draft), env=env)

    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Thread ") and lines[0].endswith(": published")
    assert lines[1].startswith("mastodon: published, 2/2 posts http://")
    assert lines[2].startswith("bluesky: published, 2/2 posts https://bsky.app/")
    assert len(lines) == 3
    (notice,) = result.stderr.splitlines()
    assert notice.startswith("  mastodon: ")
    assert notice.endswith(" s") and " — retrying in " in notice


_INTERRUPTIBLE = (
    "import signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "from threadpost.cli import main\n"
    "main(sys.argv[1:])\n"
)


def test_ctrl_c_while_both_networks_send_stops_both_and_run_finishes_the_thread(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    """SIGINT to a real `threadpost publish` while each network has a write in flight: both
    writes land and are recorded, nothing more is sent, exit 130; `run` then finishes the
    thread with every post sent once."""
    draft = isolated_env / "cameras.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = {
        **os.environ,
        **_env(mastodon_server, pds, pds_account),
        "PYTHONPATH": f"{Path(threadpost.__file__).parents[1]}",
    }
    pds.hold(APPLY_WRITES, timeout=HOLD_BOUND_S)
    held = mastodon_server.faults.add("hold", on_path=STATUSES, delay=HOLD_BOUND_S)
    process = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTIBLE, "publish", "--yes", str(draft)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + HOLD_BOUND_S  # a bound: the CLI may start slowly
        while not (held.arrived.is_set() and pds.holding()) and time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"publish ended early: {process.communicate()}")
            time.sleep(0.02)
        assert held.arrived.is_set() and pds.holding(), "both writes in flight"
        process.send_signal(signal.SIGINT)
        # Let its main thread hear the signal (it looks up every 0.1 s) before the writes
        # in flight are answered: the workers must already have been asked to stop.
        time.sleep(3)
    finally:
        pds.release_held()
        held.release()
    out, err = process.communicate(timeout=60)

    # 130: typer turns the KeyboardInterrupt into that exit status (ExitStatus.INTERRUPTED).
    assert process.returncode == 130, out + err
    assert len(mastodon_server.published()) == 1, "Mastodon stopped after the status in flight"
    assert len(pds.list_records(pds_account["did"], "app.bsky.feed.post")) == 2

    resumed = run_cli("run", "--json", env=_env(mastodon_server, pds, pds_account))
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    (item,) = json.loads(resumed.stdout)["items"]
    assert item["action"] == "published"
    assert [s.text for s in mastodon_server.published()] == [
        "Cities buy cameras. 1/2",
        "Here is why. 2/2",
    ]
    assert len(pds.list_records(pds_account["did"], "app.bsky.feed.post")) == 2, "none twice"
