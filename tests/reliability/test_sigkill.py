"""SIGKILL between the server's commit of post k and the ledger write, then `threadpost run`.

`threadpost publish --yes` runs in a real subprocess (tests/reliability/killer.py wraps the
ledger's confirm_posts to kill the process at post k: no hook in threadpost itself). The
ledger then says post k is 'sending' while the server holds it. `threadpost run` must
finish the thread without posting k twice.

The killed process's lease on the thread has not expired (25 min by default:
max_rate_limit_wait + 10 min), but it records the holder's host, pid and start time: the
`run` started right after, on the same host, sees that the holder is gone and takes the
lease over. No test hack moves the expiry.

The "keys forgotten" cells then make the Mastodon test server forget every Idempotency-Key
before `run` (what an hour does): a blind resend of post k would duplicate it, so `run`
must find post k among the account's statuses instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    KS,
    POSTS,
    ServerPost,
    bluesky_server_posts,
    judge_and_record,
    write_thread_draft,
)

from cli_support import run_cli
from mastodon_server.server import MastodonTestServer
from threadpost.config import load_settings
from threadpost.draft import read_draft
from threadpost.plan import plan_thread
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
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


def lease_rows(db: Path) -> list[tuple[str, str | None, int | None]]:
    with open_ledger(db) as ledger:
        return [
            (row["owner"], row["host"], row["pid"])
            for row in ledger.conn.execute("SELECT owner, host, pid FROM leases")
        ]


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


@pytest.mark.parametrize("forget_keys", [False, True], ids=["keys-remembered", "keys-forgotten"])
@pytest.mark.parametrize("k", KS)
def test_mastodon_sigkill_after_commit_at_post_k(
    mastodon_cell: MastodonTestServer, tmp_path: Path, k: int, forget_keys: bool
) -> None:
    server = mastodon_cell
    username = "k" + uuid.uuid4().hex[:10]
    token = server.add_account(username)
    env = cli_env(
        tmp_path, THREADPOST_MASTODON_INSTANCE=server.url, THREADPOST_MASTODON_TOKEN=token
    )
    draft = write_thread_draft(tmp_path / "draft", "mastodon", f"sigkill k={k} {forget_keys}")

    killed = publish_and_kill(draft, k, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # The server committed post k; the ledger never heard of it.
    assert len(server.published(username)) == k
    states, _, _ = ledger_state(tmp_path / "threadpost.db", "mastodon")
    assert states[: k - 1] == ["confirmed"] * (k - 1)
    assert states[k - 1] == "sending"
    # The dead process still holds an unexpired lease, naming itself.
    ((_, host, pid),) = lease_rows(tmp_path / "threadpost.db")
    assert host is not None and pid is not None and pid != os.getpid()
    if forget_keys:
        assert server.expire_idempotency_keys(username) == k

    resumed = run_resume(env)  # at once: the dead holder's lease is taken over
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    assert "busy" not in resumed.stdout
    assert lease_rows(tmp_path / "threadpost.db") == []

    states, ids, attempts = ledger_state(tmp_path / "threadpost.db", "mastodon")
    assert states == ["confirmed"] * POSTS
    settings = load_settings(environ=env)
    plan = plan_thread(read_draft(draft), MASTODON_DEFAULT_LIMITS)
    posts = [
        ServerPost(id=s.id, text=s.text, parent=s.in_reply_to_id)
        for s in server.published(username)
    ]
    outcome = judge_and_record(
        plan,
        posts,
        ids,
        platform="mastodon",
        fault="sigkill-keys-forgotten" if forget_keys else "sigkill",
        k=k,
        attempts=attempts,
        runs=2,
        exit_codes=(killed.returncode, resumed.exit_code),
    )
    assert settings.mastodon.instance == server.url
    assert outcome.on_server == POSTS and outcome.duplicates == 0, outcome
    assert outcome.in_order and outcome.chain_intact, outcome
    # Post k was found, not resent: one status POST per post.
    sent = [r for r in server.requests_to("POST", "/api/v1/statuses") if r.account == username]
    assert len(sent) == POSTS


def test_a_live_publisher_keeps_its_lease(
    mastodon_cell: MastodonTestServer, tmp_path: Path
) -> None:
    """While `threadpost publish` is alive (its post 2 answered slowly), a `run` on the same
    host leaves the thread alone and names the process holding it; nothing is posted twice."""
    import time

    server = mastodon_cell
    username = "l" + uuid.uuid4().hex[:10]
    token = server.add_account(username)
    env = cli_env(
        tmp_path, THREADPOST_MASTODON_INSTANCE=server.url, THREADPOST_MASTODON_TOKEN=token
    )
    draft = write_thread_draft(tmp_path / "draft", "mastodon", "live holder")
    server.faults.add("delay", "/api/v1/statuses", at_count=2, delay=4.0)
    publisher = subprocess.Popen(
        [sys.executable, "-m", "threadpost", "publish", "--yes", str(draft)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            lease_rows_if_any(tmp_path / "threadpost.db") and server.published(username)
        ):
            time.sleep(0.05)
        ((_, _, pid),) = lease_rows(tmp_path / "threadpost.db")
        assert pid == publisher.pid
        busy = run_resume(env)
        assert busy.exit_code == 0, busy.stderr
        assert f"busy — another run is publishing it (process {publisher.pid} on this machine)" in (
            busy.stdout
        )
        _out, err = publisher.communicate(timeout=120)
    finally:
        if publisher.poll() is None:
            publisher.kill()
            publisher.communicate(timeout=30)
    assert publisher.returncode == 0, err
    assert [s.text for s in server.published(username)] == [
        p.text for p in plan_thread(read_draft(draft), MASTODON_DEFAULT_LIMITS).posts
    ]
    assert lease_rows(tmp_path / "threadpost.db") == []


def lease_rows_if_any(db: Path) -> list[tuple[str, str | None, int | None]]:
    """Lease rows, or none while the ledger does not exist yet."""
    if not db.exists() or db.stat().st_size == 0:
        return []
    try:
        return lease_rows(db)
    except Exception:  # the publishing process may be creating it right now
        return []


@pytest.mark.parametrize("k", KS)
def test_bluesky_sigkill_after_commit_at_post_k(shared_pds: Any, tmp_path: Path, k: int) -> None:
    """The whole thread is one atomic applyWrites (the default), and its posts are
    confirmed in one ledger transaction; the process dies while recording it (post k's
    confirmation among them), so all ten posts are on the PDS but 'sending' in the ledger.
    `run` reads the planned rkeys back and confirms them: nothing is resent."""
    import pds_harness
    from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS

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
    assert states == ["sending"] * POSTS, "one write landed, and none of it is recorded"

    resumed = run_resume(env)  # at once: the dead holder's lease is taken over
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    assert "busy" not in resumed.stdout
    # Resumed by reading back, not by writing again.
    assert shared_pds.count("com.atproto.repo.applyWrites") == writes + 1

    states, ids, attempts = ledger_state(tmp_path / "threadpost.db", "bluesky")
    assert states == ["confirmed"] * POSTS
    plan = plan_thread(read_draft(draft), BLUESKY_LIMITS)
    records = shared_pds.list_records(account["did"], "app.bsky.feed.post", limit=100)
    posts = bluesky_server_posts(records)
    outcome = judge_and_record(
        plan,
        posts,
        ids,
        platform="bluesky",
        fault="sigkill",
        k=k,
        attempts=attempts,
        runs=2,
        exit_codes=(killed.returncode, resumed.exit_code),
    )
    assert outcome.on_server == POSTS and outcome.duplicates == 0, outcome
    assert outcome.in_order and outcome.chain_intact, outcome
