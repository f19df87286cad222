"""A Bluesky post's `createdAt` is when it was sent, not when it was scheduled (issue 12):
the record keys and timestamps are frozen at the first attempt to send (so that every
retry sends byte-identical records), never at `schedule`. End to end: `schedule`, then
`run` once the time has come, against the real local PDS."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from threadpost.clock import format_utc

pytestmark = pytest.mark.pds


def test_created_at_is_the_time_of_the_send_not_of_the_schedule(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], isolated_env: Path
) -> None:
    config = isolated_env / "config.toml"
    config.write_text(
        f'[bluesky]\nservice = "{pds.url}"\nhandle = "{pds_account["handle"]}"\n'
        f'app_password = "{pds_account["password"]}"\n'
    )
    config.chmod(0o600)
    draft = isolated_env / "thread.md"
    draft.write_text('+++\nplatforms = ["bluesky"]\n+++\nFirst.\n---\nSecond.\n')

    scheduled = run_cli("schedule", str(draft), "--at", "+2h")
    assert scheduled.exit_code == 0, scheduled.stderr
    after_schedule = datetime.now(UTC)
    # The two hours pass: the thread's time is moved into the past, as the clock would.
    with sqlite3.connect(isolated_env / "threadpost.db") as db:
        db.execute(
            "UPDATE threads SET schedule_at = ?",
            (format_utc(after_schedule - timedelta(minutes=1)),),
        )
    now = datetime.now(UTC)
    before_run = now.replace(microsecond=now.microsecond // 1000 * 1000)  # createdAt has ms
    ran = run_cli("run")
    assert ran.exit_code == 0, ran.stderr + ran.stdout

    records = pds.list_records(pds_account["did"], "app.bsky.feed.post")
    created = sorted(
        datetime.fromisoformat(r["value"]["createdAt"].replace("Z", "+00:00")) for r in records
    )
    assert len(created) == 2
    # Sent by `run`, so stamped by it: not at `schedule` (before `before_run`).
    assert all(moment >= before_run for moment in created)
    assert created[0] < created[1]  # in thread order
