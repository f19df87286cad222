"""The dead-link rule (issue 12): an error for `check` and `publish` (unless
--allow-broken-links), a warning for `schedule`, followed again when `run` publishes.

Against the local PDS (Bluesky links 127.0.0.1 URLs; Mastodon's twitter-text rules only
link real domains), with the links served by tests/linkserver.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from linkserver import LinkServer, serve

pytestmark = pytest.mark.pds

DRAFT = """+++
title = "Links"
platforms = ["bluesky"]
lang = "en"
+++
The write-up is at {url} for anyone curious.

---

Second post, no link.
"""


@pytest.fixture
def links() -> Iterator[LinkServer]:
    with serve() as running:
        yield running


@pytest.fixture
def account(pds: pds_harness.LocalPDS) -> dict[str, Any]:
    handle = pds_harness.unique_handle("links")
    return pds.create_account(handle, "links-password-" + handle.split(".")[0])


def _setup(
    tmp_path: Path, pds: pds_harness.LocalPDS, account: dict[str, Any], url: str
) -> tuple[dict[str, str], Path]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bluesky]\nhandle = "{account["handle"]}"\napp_password = "{account["password"]}"\n'
        "link_cards = false\n"
    )
    config.chmod(0o600)
    env = {
        "THREADPOST_CONFIG": str(config),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_BLUESKY_SERVICE": pds.url,
    }
    draft = tmp_path / "links.md"
    draft.write_text(DRAFT.format(url=url))
    return env, draft


def _sent(pds: pds_harness.LocalPDS, account: dict[str, Any]) -> int:
    return len(pds.list_records(account["did"], "app.bsky.feed.post"))


def _hits(links: LinkServer, path: str) -> int:
    return sum(count for key, count in links.hits.items() if key.endswith(f" {path}"))


def _make_due(db: Path) -> None:
    due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE threads SET schedule_at = ?", (due,))
    conn.close()


def test_publish_refuses_a_dead_link_unless_allowed(
    pds: pds_harness.LocalPDS, account: dict[str, Any], links: LinkServer, tmp_path: Path
) -> None:
    url = links.url("/missing")
    env, draft = _setup(tmp_path, pds, account, url)
    before = _sent(pds, account)

    refused = run_cli("publish", "--yes", str(draft), env=env)
    assert refused.exit_code == 3, refused.stdout + refused.stderr
    assert f"bluesky post 1: {url}" in refused.stderr
    assert "nothing was sent" in refused.stderr
    assert "add --allow-broken-links" in refused.stderr
    assert _sent(pds, account) == before

    allowed = run_cli("publish", "--yes", "--allow-broken-links", str(draft), env=env)
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr
    assert f"Warning: bluesky post 1: {url}" in allowed.stderr
    assert _sent(pds, account) == before + 2


def test_schedule_warns_and_run_publishes_on_time_saying_the_link_is_still_dead(
    pds: pds_harness.LocalPDS, account: dict[str, Any], links: LinkServer, tmp_path: Path
) -> None:
    links.pages["/soon"] = (404, {}, b"not yet")
    url = links.url("/soon")
    env, draft = _setup(tmp_path, pds, account, url)

    scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert scheduled.exit_code == 0, scheduled.stdout + scheduled.stderr
    assert f"Warning: bluesky post 1: {url}" in scheduled.stderr
    thread_id = scheduled.stdout.split()[2]

    _make_due(tmp_path / "threadpost.db")
    hits_before = _hits(links, "/soon")
    before = _sent(pds, account)
    ran = run_cli("run", env=env)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert _hits(links, "/soon") > hits_before  # followed again, not taken from the cache
    assert "1 link is dead now, published anyway: bluesky post 1: " in ran.stderr
    assert _sent(pds, account) == before + 2
    status = run_cli("status", thread_id, env=env)
    assert f"  warning: post 1: {url}: HTTP 404 Not Found" in status.stdout.splitlines()


def test_a_link_fixed_before_the_run_draws_no_warning(
    pds: pds_harness.LocalPDS, account: dict[str, Any], links: LinkServer, tmp_path: Path
) -> None:
    links.pages["/later"] = (404, {}, b"not yet")
    env, draft = _setup(tmp_path, pds, account, links.url("/later"))
    assert run_cli("schedule", str(draft), "--at", "+1h", env=env).exit_code == 0
    links.pages["/later"] = (200, {"Content-Type": "text/html"}, b"<title>Up</title>")
    _make_due(tmp_path / "threadpost.db")
    ran = run_cli("run", env=env)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert "dead" not in ran.stderr
