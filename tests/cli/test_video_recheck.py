"""Videos are re-checked at publish time like images: a video swapped after `schedule` for
one over the instance's limits fails the thread before anything is sent, on the local
Mastodon test server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli_support import run_cli, write_cron_logins
from mastodon_server.server import running_server
from threadpost.clock import format_utc
from threadpost.store import open_ledger
from video_builders import mp4_bytes

DRAFT = """+++
title = "Birds"
platforms = ["mastodon"]
+++
First post.

---

The hummingbird.
![A hummingbird hovers at a flower](bird.mp4)
"""


def test_a_video_swapped_for_one_over_the_limits_is_not_uploaded(tmp_path: Path) -> None:
    with running_server(video_frame_rate_limit=30) as server:
        account = "vid" + str(random.randrange(10**9))
        env = {
            "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
            "THREADPOST_DB": str(tmp_path / "threadpost.db"),
            "THREADPOST_STATE_DIR": str(tmp_path / "state"),
            "THREADPOST_TIMEZONE": "UTC",
            "THREADPOST_MASTODON_INSTANCE": server.url,
        }
        write_cron_logins(tmp_path / "config.toml", mastodon_token=server.add_account(account))
        folder = tmp_path / "drafts"
        folder.mkdir()
        draft = folder / "birds.md"
        draft.write_text(DRAFT)
        (folder / "bird.mp4").write_bytes(mp4_bytes(fps=25))
        scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
        assert scheduled.exit_code == 0, scheduled.stdout + scheduled.stderr
        with open_ledger(tmp_path / "threadpost.db") as ledger:
            ledger.conn.execute(
                "UPDATE threads SET schedule_at = ?",
                (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
            )
        (folder / "bird.mp4").write_bytes(mp4_bytes(fps=60))

        result = run_cli("run", env=env)
        output = " ".join((result.stdout + result.stderr).split())
        assert result.exit_code == 1, output
        assert "mastodon post 2: video bird.mp4 changed since the thread was checked" in output
        assert "60.00 frames a second; mastodon accepts at most 30" in output
        assert [r for r in server.requests if r.account == account and r.method == "POST"] == []
        with open_ledger(tmp_path / "threadpost.db") as ledger:
            (thread,) = ledger.threads()
            assert thread.state == "failed"
