"""SIGKILL between the server's commit of post k and the ledger write, then `threadpost run`.

`threadpost publish --yes` runs in a real subprocess (tests/reliability/killer.py wraps the
ledger's confirm_post to kill the process at post k: no hook in threadpost itself). The
ledger then says post k is 'sending' while the server holds it. `threadpost run` must
finish the thread without posting k twice.

The killed process still holds the thread's lease (25 min by default: max_rate_limit_wait
+ 10 min). Instead of waiting, the test moves the lease's expiry into the past, which is
what the clock would do; `run` then resumes the thread.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from reliability_report import CellOutcome, record
from reliability_support import KS, POSTS, ServerPost, judge, write_thread_draft

from cli_support import run_cli
from mastodon_server.server import MastodonTestServer
from threadpost.config import load_settings
from threadpost.draft import read_draft
from threadpost.plan import plan_thread
from threadpost.platforms.base import MASTODON_DEFAULT_LIMITS
from threadpost.store import open_ledger

KILLER = Path(__file__).resolve().parent / "killer.py"


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment for threadpost with everything under tmp_path."""
    (tmp_path / "config.toml").write_text("")
    env = {name: value for name, value in os.environ.items() if not name.startswith("THREADPOST_")}
    env.update(
        THREADPOST_CONFIG=str(tmp_path / "config.toml"),
        THREADPOST_DB=str(tmp_path / "threadpost.db"),
        THREADPOST_STATE_DIR=str(tmp_path / "state"),
        THREADPOST_TIMEZONE="UTC",
        **extra,
    )
    return env


def publish_and_kill(draft: Path, k: int, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(KILLER), str(k), "publish", "--yes", str(draft)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def expire_leases(db: Path) -> None:
    """The dead process's lease runs out (what 25 minutes would do)."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE leases SET expires_at = '2000-01-01T00:00:00.000000+00:00'")


def run_resume(env: dict[str, str]) -> Any:
    """`threadpost run` in-process, through the real entry point."""
    names = [name for name in env if name.startswith("THREADPOST_")]
    return run_cli("run", env={name: env[name] for name in names})


def ledger_state(db: Path, platform: str) -> tuple[list[str], list[str | None], int]:
    with open_ledger(db) as ledger:
        (thread,) = ledger.threads()
        posts = ledger.posts(thread.id, platform)  # type: ignore[arg-type]
        return (
            [p.state for p in posts],
            [p.remote_id for p in posts],
            len(ledger.attempts(thread.id)),
        )


@pytest.mark.parametrize("k", KS)
def test_mastodon_sigkill_after_commit_at_post_k(
    mastodon_cell: MastodonTestServer, tmp_path: Path, k: int
) -> None:
    server = mastodon_cell
    username = "k" + uuid.uuid4().hex[:10]
    token = server.add_account(username)
    env = cli_env(
        tmp_path, THREADPOST_MASTODON_INSTANCE=server.url, THREADPOST_MASTODON_TOKEN=token
    )
    draft = write_thread_draft(tmp_path / "draft", "mastodon", f"sigkill k={k}")

    killed = publish_and_kill(draft, k, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # The server committed post k; the ledger never heard of it.
    assert len(server.published(username)) == k
    states, _, _ = ledger_state(tmp_path / "threadpost.db", "mastodon")
    assert states[: k - 1] == ["confirmed"] * (k - 1)
    assert states[k - 1] == "sending"

    busy = run_resume(env)
    assert busy.exit_code == 0 and "busy" in busy.stdout  # the dead process's lease
    expire_leases(tmp_path / "threadpost.db")
    resumed = run_resume(env)
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr

    states, ids, attempts = ledger_state(tmp_path / "threadpost.db", "mastodon")
    assert states == ["confirmed"] * POSTS
    settings = load_settings(environ=env)
    plan = plan_thread(read_draft(draft), MASTODON_DEFAULT_LIMITS)
    posts = [
        ServerPost(id=s.id, text=s.text, parent=s.in_reply_to_id)
        for s in server.published(username)
    ]
    verdict = judge(plan, posts, ids)
    outcome = CellOutcome(
        platform="mastodon",
        fault="sigkill",
        k=k,
        planned=POSTS,
        on_server=verdict.on_server,
        duplicates=verdict.duplicates,
        in_order=verdict.in_order,
        chain_intact=verdict.chain_intact,
        attempts=attempts,
        runs=2,
        exit_codes=(killed.returncode, resumed.exit_code),
    )
    record(outcome)
    assert settings.mastodon.instance == server.url
    assert verdict.on_server == POSTS and verdict.duplicates == 0, outcome
    assert verdict.in_order and verdict.chain_intact, outcome


@pytest.mark.parametrize("k", KS)
def test_bluesky_sigkill_after_commit_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    """The whole thread is one atomic applyWrites (the default); the process dies while
    recording post k's confirmation, so posts k..10 are on the PDS but 'sending' in the
    ledger. `run` reads the planned rkeys back and confirms them: nothing is resent."""
    import pds_harness
    from threadpost.platforms.base import BLUESKY_LIMITS

    handle = pds_harness.unique_handle("kill")
    account = shared_pds.create_account(handle, "kill-password-" + handle.split(".")[0])
    env = cli_env(
        tmp_path,
        THREADPOST_BLUESKY_SERVICE=shared_pds.url,
        THREADPOST_BLUESKY_HANDLE=handle,
        THREADPOST_BLUESKY_APP_PASSWORD=account["password"],
    )
    draft = write_thread_draft(tmp_path / "draft", "bluesky", f"sigkill k={k}")
    writes = shared_pds.count("com.atproto.repo.applyWrites")

    killed = publish_and_kill(draft, k, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert shared_pds.count("com.atproto.repo.applyWrites") == writes + 1
    states, _, _ = ledger_state(tmp_path / "threadpost.db", "bluesky")
    assert states[: k - 1] == ["confirmed"] * (k - 1) and states[k - 1] == "sending"

    expire_leases(tmp_path / "threadpost.db")
    resumed = run_resume(env)
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    # Resumed by reading back, not by writing again.
    assert shared_pds.count("com.atproto.repo.applyWrites") == writes + 1

    states, ids, attempts = ledger_state(tmp_path / "threadpost.db", "bluesky")
    assert states == ["confirmed"] * POSTS
    plan = plan_thread(read_draft(draft), BLUESKY_LIMITS)
    records = shared_pds.list_records(account["did"], "app.bsky.feed.post", limit=100)
    posts = [
        ServerPost(
            id=r["uri"],
            text=r["value"]["text"],
            parent=(r["value"].get("reply") or {}).get("parent", {}).get("uri"),
            root=(r["value"].get("reply") or {}).get("root", {}).get("uri"),
        )
        for r in reversed(records)
    ]
    verdict = judge(plan, posts, ids)
    outcome = CellOutcome(
        platform="bluesky",
        fault="sigkill",
        k=k,
        planned=POSTS,
        on_server=verdict.on_server,
        duplicates=verdict.duplicates,
        in_order=verdict.in_order,
        chain_intact=verdict.chain_intact,
        attempts=attempts,
        runs=2,
        exit_codes=(killed.returncode, resumed.exit_code),
    )
    record(outcome)
    assert verdict.on_server == POSTS and verdict.duplicates == 0, outcome
    assert verdict.in_order and verdict.chain_intact, outcome
