"""Named accounts (issue 15) end to end: the config's [accounts.NAME.mastodon], a draft's
`account = "work"` and `--account`, against the local Mastodon test server with two
accounts (two tokens): which account's statuses exist is what is asserted."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.store import open_ledger

DRAFT = '+++\nplatforms = ["mastodon"]\n{account}+++\nFirst post.\n---\nSecond post.\n'


def _config(env: Path, server: MastodonTestServer, work_token: str) -> None:
    (env / "config.toml").write_text(
        f'[mastodon]\ninstance = "{server.url}"\naccess_token = "{server.token}"\n\n'
        f'[accounts.work.mastodon]\ninstance = "{server.url}"\naccess_token = "{work_token}"\n'
        'visibility = "unlisted"\n',
        encoding="utf-8",
    )
    (env / "config.toml").chmod(0o600)


def _draft(env: Path, account: str | None) -> Path:
    path = env / "thread.md"
    line = f'account = "{account}"\n' if account else ""
    path.write_text(DRAFT.format(account=line), encoding="utf-8")
    return path


def test_a_draft_with_account_work_publishes_as_the_work_account(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    work_token = mastodon_server.add_account("project")
    _config(isolated_env, mastodon_server, work_token)
    draft = _draft(isolated_env, "work")

    result = run_cli("publish", str(draft), "--yes")

    assert result.exit_code == 0, result.stderr
    assert [s.text for s in mastodon_server.published("project")] == [
        "First post. 1/2",
        "Second post. 2/2",
    ]
    assert mastodon_server.published("alice") == []
    # The account's own settings apply (its visibility), not the default account's.
    assert {s.visibility for s in mastodon_server.published("project")} == {"unlisted"}
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        (thread,) = ledger.threads()
        assert [p.account for p in ledger.platforms(thread.id)] == ["work"]
    status = run_cli("status", thread.id)
    assert "mastodon (work): published, 2/2 published" in status.stdout
    listed = json.loads(run_cli("status", thread.id, "--json").stdout)
    assert listed["platforms"]["mastodon"]["account"] == "work"


def test_the_account_option_wins_over_the_draft(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    draft = _draft(isolated_env, "work")

    result = run_cli("publish", str(draft), "--yes", "--account", "default")

    assert result.exit_code == 0, result.stderr
    assert len(mastodon_server.published("alice")) == 2
    assert mastodon_server.published("project") == []
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        (thread,) = ledger.threads()
        assert [p.account for p in ledger.platforms(thread.id)] == [None]
    status = run_cli("status", thread.id)
    assert "mastodon: published, 2/2 published" in status.stdout


def test_an_unknown_account_names_the_line_or_option_and_sends_nothing(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    draft = _draft(isolated_env, "personal")

    from_draft = run_cli("publish", str(draft), "--yes")
    assert from_draft.exit_code == 3, from_draft.stderr
    assert f"{draft}:3" in from_draft.stderr
    assert "no account named 'personal' (known: default, work)" in from_draft.stderr
    checked = run_cli("check", str(draft))
    assert checked.exit_code == 3
    assert "no account named 'personal'" in checked.stdout + checked.stderr

    from_option = run_cli("publish", str(_draft(isolated_env, None)), "--yes", "--account", "x")
    assert from_option.exit_code != 0
    assert "--account: no account named 'x' (known: default, work)" in from_option.stderr
    assert mastodon_server.status_posts() == []


def test_run_resumes_a_thread_with_the_account_it_began_with(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    draft = _draft(isolated_env, "work")
    mastodon_server.faults.add(
        "error", on_path="/api/v1/statuses", at_count=2, status=503, times=None
    )

    first = run_cli("publish", str(draft), "--yes")
    assert first.exit_code == 4, first.stderr
    assert [s.text for s in mastodon_server.published("project")] == ["First post. 1/2"]

    # The draft now names the default account; the thread keeps the one it began with.
    draft.write_text(DRAFT.format(account=""), encoding="utf-8")
    mastodon_server.faults.clear()
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        ledger.conn.execute(
            "UPDATE platforms SET next_retry_at = '2000-01-01T00:00:00.000000+00:00'"
        )
    resumed = run_cli("run")

    assert resumed.exit_code == 0, resumed.stderr
    statuses = mastodon_server.published("project")
    assert [s.text for s in statuses] == ["First post. 1/2", "Second post. 2/2"]
    assert statuses[1].in_reply_to_id == statuses[0].id
    assert mastodon_server.published("alice") == []
    listed = run_cli("status")
    assert "mastodon (work) 2/2" in listed.stdout


def test_login_with_an_account_saves_that_accounts_token_only(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    from threadpost.config import load_settings
    from threadpost.platforms.mastodon.auth import CREDENTIALS_FILE

    (isolated_env / "config.toml").write_text(
        f'[accounts.work.mastodon]\ninstance = "{mastodon_server.url}"\n', encoding="utf-8"
    )
    result = run_cli(
        "login", "mastodon", "--account", "work", input=mastodon_server.authorization_code + "\n"
    )

    assert result.exit_code == 0, result.stderr
    saved = isolated_env / "state" / "accounts" / "work" / CREDENTIALS_FILE
    assert f"Token saved to {saved} (file mode 0600)" in result.stdout
    assert not (isolated_env / "state" / CREDENTIALS_FILE).exists()
    settings = load_settings()
    work = settings.accounts["work"].mastodon
    assert work is not None and work.token_source == "saved login"
    assert work.access_token and work.access_token not in result.stdout
    assert settings.mastodon.access_token is None  # the default account is not logged in

    unknown = run_cli("login", "mastodon", "--account", "home", input="x\n")
    assert unknown.exit_code != 0
    assert "no account named 'home' (known: default, work)" in unknown.stderr


def test_edit_uses_the_account_that_published_the_thread(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    draft = _draft(isolated_env, "work")
    published = run_cli("publish", str(draft), "--yes", "--json")
    assert published.exit_code == 0, published.stderr
    thread_id = json.loads(published.stdout)["thread"]
    # The text changes and the draft no longer names the account: the thread's own is used.
    draft.write_text(DRAFT.format(account="").replace("Second post.", "Second, fixed."))

    edited = run_cli("edit", "--yes", thread_id)

    assert edited.exit_code == 0, edited.stderr
    assert [s.text for s in mastodon_server.published("project")] == [
        "First post. 1/2",
        "Second, fixed. 2/2",
    ]
    assert mastodon_server.published("alice") == []


def test_delete_removes_the_posts_of_the_account_that_published_them(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    published = run_cli("publish", str(_draft(isolated_env, "work")), "--yes", "--json")
    assert published.exit_code == 0, published.stderr
    assert len(mastodon_server.published("project")) == 2

    deleted = run_cli("delete", json.loads(published.stdout)["thread"], "--yes")

    assert deleted.exit_code == 0, deleted.stderr
    assert mastodon_server.published("project") == []


def test_schedule_checks_that_cron_can_log_in_as_the_drafts_account(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    (isolated_env / "config.toml").write_text(
        f'[mastodon]\ninstance = "{mastodon_server.url}"\n'
        f'access_token = "{mastodon_server.token}"\n'
        f'[accounts.blog.mastodon]\ninstance = "{mastodon_server.url}"\n',
        encoding="utf-8",
    )
    (isolated_env / "config.toml").chmod(0o600)
    draft = _draft(isolated_env, "blog")

    refused = run_cli("schedule", str(draft), "--at", "+2h")

    assert refused.exit_code == 3, refused.stderr
    assert "threadpost login mastodon --account blog" in refused.stderr
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        assert ledger.threads() == []
    # The default account is logged in (a token in the config): scheduling as it works.
    allowed = run_cli("schedule", str(draft), "--at", "+2h", "--account", "default")
    assert allowed.exit_code == 0, allowed.stderr


def test_check_with_the_account_option_plans_for_that_accounts_instance(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    """`check --account` wins over the draft's name: an unknown name in the draft is then
    not looked at, and an unknown option is refused."""
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    draft = _draft(isolated_env, "personal")
    assert run_cli("check", str(draft), "--account", "work").exit_code == 0
    unknown = run_cli("check", str(draft), "--account", "nope")
    assert unknown.exit_code != 0
    assert "no account named 'nope'" in unknown.stderr


def test_a_continuation_goes_on_as_the_account_of_the_thread_it_continues(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    published = run_cli("publish", str(_draft(isolated_env, "work")), "--yes", "--json")
    assert published.exit_code == 0, published.stderr
    thread_id = json.loads(published.stdout)["thread"]
    follow_up = isolated_env / "follow-up.md"
    follow_up.write_text('+++\nplatforms = ["mastodon"]\n+++\nThird post.\n', encoding="utf-8")

    continued = run_cli("publish", str(follow_up), "--yes", "--continue", thread_id)

    assert continued.exit_code == 0, continued.stderr
    statuses = mastodon_server.published("project")
    assert len(statuses) == 3
    assert statuses[2].text.startswith("Third post.")
    assert statuses[2].in_reply_to_id == statuses[1].id
    assert mastodon_server.published("alice") == []


def test_preview_takes_the_account_from_the_draft_or_the_option(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    _config(isolated_env, mastodon_server, mastodon_server.add_account("project"))
    unknown = _draft(isolated_env, "personal")
    refused = run_cli("preview", str(unknown))
    assert refused.exit_code == 3
    assert f"{unknown}:3" in refused.stderr and "no account named 'personal'" in refused.stderr
    assert run_cli("preview", str(unknown), "--account", "work").exit_code == 0
    bad_option = run_cli("preview", str(unknown), "--account", "nope")
    assert "--account: no account named 'nope'" in bad_option.stderr
