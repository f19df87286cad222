"""The retry test switch reaches a real `threadpost` process: a 429 whose reset is a minute
away is retried at once, with the same wait announced, against the local Mastodon test
server. Without the switch the process would sleep past the subprocess timeout."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.retry import WITHOUT_SLEEP_VARIABLE

#: Far below the 60 s reset the server announces: only an instant retry finishes in time.
TIMEOUT_SECONDS = 40


def test_a_threadpost_process_retries_a_rate_limit_without_sleeping(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    assert os.environ.get(WITHOUT_SLEEP_VARIABLE), "tests/conftest.py sets the switch"
    username = "r" + uuid.uuid4().hex[:10]
    token = mastodon_server.add_account(username)
    draft = isolated_env / "limited.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon"]\nlang = "en"\n+++\nFirst post.\n\n---\n\nSecond post.\n',
        encoding="utf-8",
    )
    # The first status POST is answered 429, reset 60 s from now (under the 15 min cap).
    mastodon_server.faults.add("rate_limit", on_path="/api/v1/statuses", at_count=1)
    env = {
        **os.environ,
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": token,
    }
    done = subprocess.run(
        [sys.executable, "-m", "threadpost", "publish", "--yes", "--offline", str(draft)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The same decision as without the switch: wait for the reset (plus the margin).
    announced = re.findall(r"retrying in (\d+) s", done.stderr)
    assert len(announced) == 1, done.stderr
    assert 55 <= int(announced[0]) <= 62, done.stderr
    assert "mastodon: published, 2/2 posts" in done.stdout
    assert [status.text for status in mastodon_server.published(username)] == [
        "First post. 1/2",
        "Second post. 2/2",
    ]
