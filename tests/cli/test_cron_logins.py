"""`schedule` and `threadpost cron` check the logins a cron job will have (issue 12).

cron starts `threadpost run` with none of the shell's THREADPOST_* secrets, so a thread
scheduled with a token that lives only in the environment used to fail hours later, unseen.
Against the real local PDS and the local Mastodon test server; the cron job is played by a
`run` whose environment holds only what `threadpost cron` writes into its line.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.config import CRON_CARRIED_VARIABLES

BLUESKY_DRAFT = """+++
title = "Cron"
platforms = ["bluesky"]
lang = "en"
+++
A thread that cron publishes, first post.

---

And the second post of it.
"""

MASTODON_DRAFT = BLUESKY_DRAFT.replace('"bluesky"', '"mastodon"')


def _base_env(folder: Path) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").touch()
    return {
        "THREADPOST_CONFIG": str(folder / "config.toml"),
        "THREADPOST_DB": str(folder / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(folder / "state"),
        "THREADPOST_TIMEZONE": "UTC",
    }


def _as_cron_sees_it(env: dict[str, str]) -> dict[str, str]:
    """What a job started from `threadpost cron`'s line has: its --config and --db, and
    the carried non-secret variables; every other THREADPOST_* variable is gone."""
    kept = {"THREADPOST_CONFIG", "THREADPOST_DB", *CRON_CARRIED_VARIABLES}
    return {name: value for name, value in env.items() if name in kept}


def _make_due(db: Path) -> None:
    """Move every scheduled thread a minute into the past (no clock to inject into the CLI)."""
    due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE threads SET schedule_at = ?", (due,))
    conn.close()


def test_a_mastodon_token_only_in_the_environment_is_refused_then_a_config_token_works(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    env = {
        **_base_env(tmp_path),
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": mastodon_server.add_account("cronenv"),
    }
    draft = tmp_path / "thread.md"
    draft.write_text(MASTODON_DRAFT)

    refused = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert refused.exit_code == 3, refused.stdout + refused.stderr
    assert "nothing was scheduled" in refused.stderr
    assert "THREADPOST_MASTODON_TOKEN is set in this shell but cron will not have it" in (
        refused.stderr
    )
    assert "threadpost login mastodon" in refused.stderr
    assert env["THREADPOST_MASTODON_TOKEN"] not in refused.stdout + refused.stderr
    assert run_cli("queue", env=env).stdout.strip() == "Nothing scheduled."
    report = run_cli("cron", env=env)
    assert "#   mastodon: NO: THREADPOST_MASTODON_TOKEN is set in this shell" in report.stdout

    # The same token in the config file is one cron has: scheduled, then published by a run
    # that has no token in its environment.
    config = tmp_path / "config.toml"
    config.write_text(f'[mastodon]\naccess_token = "{env.pop("THREADPOST_MASTODON_TOKEN")}"\n')
    config.chmod(0o600)
    scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert scheduled.exit_code == 0, scheduled.stderr
    assert f"#   mastodon: ok, the access token in {config}" in run_cli("cron", env=env).stdout
    _make_due(tmp_path / "threadpost.db")
    ran = run_cli("run", env=_as_cron_sees_it(env))
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert [r.value("status") for r in mastodon_server.status_posts()][-2:] == [
        "A thread that cron publishes, first post. 1/2",
        "And the second post of it. 2/2",
    ]


def test_a_saved_mastodon_login_is_what_cron_uses(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    env = _base_env(tmp_path)
    login = run_cli(
        "login",
        "mastodon",
        "--instance",
        mastodon_server.url,
        env=env,
        input=mastodon_server.authorization_code + "\n",
    )
    assert login.exit_code == 0, login.stderr
    draft = tmp_path / "thread.md"
    draft.write_text(MASTODON_DRAFT)
    scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert scheduled.exit_code == 0, scheduled.stderr
    saved = tmp_path / "state" / "mastodon-credentials.json"
    assert f"#   mastodon: ok, the login saved in {saved}" in run_cli("cron", env=env).stdout


@pytest.fixture
def bluesky_account(pds: pds_harness.LocalPDS) -> dict[str, Any]:
    handle = pds_harness.unique_handle("cron")
    return pds.create_account(handle, "cron-password-" + handle.split(".")[0])


@pytest.mark.pds
def test_a_bluesky_app_password_only_in_the_environment_is_refused_until_login(
    pds: pds_harness.LocalPDS, bluesky_account: dict[str, Any], tmp_path: Path
) -> None:
    env = {
        **_base_env(tmp_path),
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": bluesky_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": bluesky_account["password"],
    }
    draft = tmp_path / "thread.md"
    draft.write_text(BLUESKY_DRAFT)

    refused = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert refused.exit_code == 3, refused.stdout + refused.stderr
    assert "THREADPOST_BLUESKY_APP_PASSWORD is set in this shell but cron will not have it" in (
        refused.stderr
    )
    assert f"threadpost login bluesky --handle {bluesky_account['handle']}" in refused.stderr
    assert bluesky_account["password"] not in refused.stdout + refused.stderr

    # `login bluesky` saves the session and which account it is for: a cron job with no
    # handle, service or password in its environment finds both.
    assert run_cli("login", "bluesky", env=env).exit_code == 0
    scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert scheduled.exit_code == 0, scheduled.stderr
    assert "#   bluesky: ok, the session saved in" in run_cli("cron", env=env).stdout
    _make_due(tmp_path / "threadpost.db")
    cron_env = {
        name: value
        for name, value in _as_cron_sees_it(env).items()
        if name not in ("THREADPOST_BLUESKY_HANDLE", "THREADPOST_BLUESKY_SERVICE")
    }
    ran = run_cli("run", env=cron_env)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    posts = pds.list_records(bluesky_account["did"], "app.bsky.feed.post")
    assert sorted(p["value"]["text"] for p in posts) == [
        "A thread that cron publishes, first post. 1/2",
        "And the second post of it. 2/2",
    ]


def test_cron_carries_the_non_secret_variables_into_its_line(tmp_path: Path) -> None:
    env = {
        **_base_env(tmp_path / "100%"),
        "THREADPOST_BLUESKY_HANDLE": "alice.example",
        "THREADPOST_MASTODON_TOKEN": "secret-token-value",
    }
    result = run_cli("cron", env=env)
    assert result.exit_code == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("*/5"))
    assert "THREADPOST_BLUESKY_HANDLE=alice.example" in line
    assert "THREADPOST_TIMEZONE=UTC" in line
    # A bare % ends a crontab command: every one is escaped.
    assert "100\\%" in line and "100%" not in line.replace("100\\%", "")
    assert "secret-token-value" not in result.stdout + result.stderr
    assert "Environment=THREADPOST_BLUESKY_HANDLE=alice.example" in result.stdout
