"""Which account publishes is shown before anything is sent (issue 15): `preview`
(terminal, --json, --html) and `publish --dry-run` (terminal, --json) name the account
(default or the config's name) and its handle, from local files only, never a secret.
Against the Mastodon test server with two accounts, so that the handle each shows is the
one the instance gave when that account published."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer

HOST = "127.0.0.1"
DRAFT = '+++\nplatforms = ["mastodon"]\n{account}+++\nFirst post.\n---\nSecond post.\n'


def _setup(env: Path, server: MastodonTestServer, account: str | None) -> tuple[Path, str]:
    work_token = server.add_account("project")
    (env / "config.toml").write_text(
        f'[mastodon]\ninstance = "{server.url}"\naccess_token = "{server.token}"\n\n'
        f'[accounts.work.mastodon]\ninstance = "{server.url}"\naccess_token = "{work_token}"\n'
        '[accounts.work.bluesky]\nhandle = "work.example.com"\n',
        encoding="utf-8",
    )
    (env / "config.toml").chmod(0o600)
    draft = env / "thread.md"
    line = f'account = "{account}"\n' if account else ""
    draft.write_text(DRAFT.format(account=line), encoding="utf-8")
    return draft, work_token


def _preview_account(draft: Path, *options: str) -> dict[str, object]:
    result = run_cli("preview", str(draft), "--offline", "--json", *options)
    assert result.exit_code == 0, result.stderr
    account: dict[str, object] = json.loads(result.stdout)["platforms"]["mastodon"]["account"]
    return account


def test_before_the_first_publish_the_account_is_named_and_its_token_not_shown(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, work_token = _setup(isolated_env, mastodon_server, "work")

    shown = run_cli("preview", str(draft), "--offline", env={"COLUMNS": "200"})

    assert shown.exit_code == 0, shown.stderr
    assert (
        "Publishing with account work: a token is configured (its user is asked when "
        "publishing)" in shown.stdout
    )
    assert _preview_account(draft) == {
        "name": "work",
        "handle": f"@you@{HOST}",
        "known": False,
        "login": "token",
    }
    dry = run_cli("publish", str(draft), "--dry-run", "--offline", env={"COLUMNS": "200"})
    assert "Would publish with account work: a token is configured" in dry.stdout
    for output in (shown.stdout, dry.stdout, shown.stderr, dry.stderr):
        assert work_token not in output and mastodon_server.token not in output
    # Nothing was asked of the instance to say so.
    assert mastodon_server.requests == []


def test_after_publishing_the_preview_and_dry_run_name_the_accounts_handle(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, _ = _setup(isolated_env, mastodon_server, "work")
    assert run_cli("publish", str(draft), "--yes").exit_code == 0
    handle = f"@project@{HOST}"
    before = len(mastodon_server.requests)

    shown = run_cli("preview", str(draft), "--offline", env={"COLUMNS": "200"})
    assert f"Publishing as {handle} (account work)" in shown.stdout
    assert _preview_account(draft) == {
        "name": "work",
        "handle": handle,
        "known": True,
        "login": "known",
    }
    dry = run_cli("publish", str(draft), "--dry-run", "--offline", "--json")
    assert json.loads(dry.stdout)["platforms"]["mastodon"]["account"]["handle"] == handle
    text = run_cli("publish", str(draft), "--dry-run", "--offline", env={"COLUMNS": "200"})
    assert f"Would publish as {handle} (account work)" in text.stdout
    page = isolated_env / "page.html"
    assert run_cli("preview", str(draft), "--offline", "--html", str(page)).exit_code == 0
    assert handle in page.read_text(encoding="utf-8")
    # `--account` wins over the draft's line, here as everywhere.
    assert _preview_account(draft, "--account", "default")["name"] == "default"
    assert mastodon_server.requests[before:] == []


def test_the_bluesky_handle_of_a_named_account_is_shown(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, _ = _setup(isolated_env, mastodon_server, "work")
    draft.write_text(
        draft.read_text(encoding="utf-8").replace('["mastodon"]', '["mastodon", "bluesky"]'),
        encoding="utf-8",
    )

    result = run_cli("preview", str(draft), "--offline", "--json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["platforms"]["bluesky"]["account"] == {
        "name": "work",
        "handle": "@work.example.com",
        "known": True,
        "login": "known",
    }


def test_an_account_the_config_does_not_have_stops_the_preview_naming_the_line(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft, _ = _setup(isolated_env, mastodon_server, "personal")

    for command in (("preview",), ("publish", "--dry-run")):
        result = run_cli(*command, str(draft), "--offline")
        assert result.exit_code == 3, (command, result.stdout, result.stderr)
        assert f"{draft}:3" in result.stderr + result.stdout
        assert "no account named 'personal' (known: default, work)" in (
            result.stderr + result.stdout
        )
