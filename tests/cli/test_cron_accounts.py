"""`threadpost cron` reports the logins of every account a cron run may publish with
(issue 15): each named account of the config, and each account that queued threads in the
ledger publish with, even one the config no longer has. Against the Mastodon test server;
the cron job is played by a `run` with only what `threadpost cron` writes into its line."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.config import CRON_CARRIED_VARIABLES

DRAFT = """+++
platforms = ["mastodon"]
account = "{account}"
+++
A thread that cron publishes, first post.

---

And the second post of it.
"""


def _env(folder: Path) -> dict[str, str]:
    return {
        "THREADPOST_CONFIG": str(folder / "config.toml"),
        "THREADPOST_DB": str(folder / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(folder / "state"),
        "THREADPOST_TIMEZONE": "UTC",
    }


def _config(folder: Path, server: MastodonTestServer, tokens: dict[str, str | None]) -> Path:
    """The default account has no login; each named account a table, with its token in the
    config (one cron has) or none (nothing saved either: cron cannot log in)."""
    text = f'[mastodon]\ninstance = "{server.url}"\n'
    for name, token in tokens.items():
        text += f'\n[accounts.{name}.mastodon]\ninstance = "{server.url}"\n'
        text += f'access_token = "{token}"\n' if token else ""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def _cron_lines(env: dict[str, str]) -> list[str]:
    result = run_cli("cron", env=env)
    assert result.exit_code == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("#   ")]


def test_cron_reports_each_named_account_and_each_account_queued_threads_need(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    work, old = mastodon_server.add_account("project"), mastodon_server.add_account("former")
    config = _config(tmp_path, mastodon_server, {"work": work, "old": old, "side": None})
    for name in ("work", "old"):
        draft = tmp_path / f"{name}.md"
        # (Each its own text: the same posts twice on one network would be a repeat.)
        draft.write_text(DRAFT.format(account=name) + f"\n{name}\n", encoding="utf-8")
        scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
        assert scheduled.exit_code == 0, scheduled.stderr
    # The author drops the "old" account from the config; a thread still waits for it.
    _config(tmp_path, mastodon_server, {"work": work, "side": None})

    lines = _cron_lines(env)

    assert lines[0].startswith("#   mastodon: NO: not logged in")
    assert f"#   mastodon (account work): ok, the access token in {config}" in lines
    assert (
        "#   mastodon (account side): NO: not logged in; run "
        "`threadpost login mastodon --account side --instance URL`" in lines
    )
    assert (
        "#   account old: NO: the ledger: no account named 'old' (known: default, side, work);"
        " 1 queued thread publishes with it" in lines
    )
    for line in lines:
        assert work not in line and old not in line


def test_a_named_account_ready_for_cron_is_what_a_cron_run_publishes_with(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    _config(tmp_path, mastodon_server, {"work": mastodon_server.add_account("project")})
    draft = tmp_path / "work.md"
    draft.write_text(DRAFT.format(account="work"), encoding="utf-8")
    assert run_cli("schedule", str(draft), "--at", "+1h", env=env).exit_code == 0
    assert any(line.startswith("#   mastodon (account work): ok") for line in _cron_lines(env))
    due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(tmp_path / "threadpost.db") as conn:
        conn.execute("UPDATE threads SET schedule_at = ?", (due,))
    conn.close()
    cron_env = {k: v for k, v in env.items() if k in {"THREADPOST_CONFIG", "THREADPOST_DB"}}
    cron_env |= {k: v for k, v in env.items() if k in CRON_CARRIED_VARIABLES}

    ran = run_cli("run", env=cron_env)

    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert [s.text for s in mastodon_server.published("project")] == [
        "A thread that cron publishes, first post. 1/2",
        "And the second post of it. 2/2",
    ]
    # Once published, nothing waits for the account: it is still listed (it is in the
    # config), ready.
    assert any(line.startswith("#   mastodon (account work): ok") for line in _cron_lines(env))


def test_without_a_ledger_cron_makes_none(tmp_path: Path) -> None:
    env = _env(tmp_path)
    (tmp_path / "config.toml").write_text("", encoding="utf-8")

    assert _cron_lines(env)[0].startswith("#   mastodon: NO:")
    assert not (tmp_path / "threadpost.db").exists()
