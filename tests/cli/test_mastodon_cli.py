"""`threadpost login mastodon` end to end against the local Mastodon test server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.config import load_settings
from threadpost.platforms.mastodon.auth import CREDENTIALS_FILE
from threadpost.platforms.mastodon.publisher import MastodonPublisher


def test_login_saves_a_private_token_that_settings_then_use(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    result = run_cli(
        "login",
        "mastodon",
        "--instance",
        mastodon_server.url,
        input=mastodon_server.authorization_code + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert f"{mastodon_server.url}/oauth/authorize?" in result.stdout
    assert "Logged in as @alice@127.0.0.1" in result.stdout
    saved = isolated_env / "state" / CREDENTIALS_FILE
    assert f"Token saved to {saved} (file mode 0600)" in result.stdout
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600

    # The app was registered, the code exchanged, the token verified.
    paths = [(r.method, r.path) for r in mastodon_server.requests]
    assert ("POST", "/api/v1/apps") in paths
    assert ("POST", "/oauth/token") in paths
    assert paths[-1] == ("GET", "/api/v1/accounts/verify_credentials")
    token_request = mastodon_server.requests_to("POST", "/oauth/token")[0]
    assert token_request.value("grant_type") == "authorization_code"
    assert token_request.value("code") == mastodon_server.authorization_code

    # The new token is never shown, and a fresh Settings picks it up with its instance.
    settings = load_settings()
    assert settings.mastodon.instance == mastodon_server.url
    token = settings.mastodon.access_token
    assert token and token != mastodon_server.token
    assert token not in result.stdout + result.stderr
    assert MastodonPublisher(settings).account_id() == "alice@127.0.0.1"


def test_env_token_and_other_instance_win_over_the_saved_login(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    run_cli(
        "login",
        "mastodon",
        "--instance",
        mastodon_server.url,
        input=mastodon_server.authorization_code + "\n",
    )
    saved_token = load_settings().mastodon.access_token
    environ = dict(os.environ)
    assert (
        load_settings(
            environ={**environ, "THREADPOST_MASTODON_TOKEN": "from-env"}
        ).mastodon.access_token
        == "from-env"
    )
    # A token saved for one instance is never sent to another.
    (isolated_env / "config.toml").write_text('[mastodon]\ninstance = "https://other.example"\n')
    assert load_settings().mastodon.access_token is None
    (isolated_env / "config.toml").write_text(f'[mastodon]\ninstance = "{mastodon_server.url}"\n')
    assert load_settings().mastodon.access_token == saved_token


def test_login_with_a_wrong_code_fails_cleanly(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    result = run_cli("login", "mastodon", "--instance", mastodon_server.url, input="not-the-code\n")
    assert result.exit_code == 1
    assert "did not accept the authorization code" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (isolated_env / "state" / CREDENTIALS_FILE).exists()


def test_login_without_a_code_is_a_usage_error(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    result = run_cli("login", "mastodon", "--instance", mastodon_server.url, input="")
    assert result.exit_code == 2
    assert "no authorization code" in result.stderr


def test_login_refuses_plain_http_off_loopback(isolated_env: Path) -> None:
    result = run_cli("login", "mastodon", "--instance", "http://mastodon.example", input="x\n")
    assert result.exit_code == 1
    assert "http://" in result.stderr and "https://" in result.stderr


def test_login_to_an_unreachable_instance_says_so(isolated_env: Path) -> None:
    from mastodon_server.server import running_server

    with running_server() as server:
        url = server.url
    result = run_cli("login", "mastodon", "--instance", url, input="x\n")
    assert result.exit_code == 1
    assert "connection refused" in result.stderr


def test_login_help_is_documented() -> None:
    result = run_cli("login", "mastodon", "--help")
    assert result.exit_code == 0
    assert "--instance" in result.stdout


def test_publish_and_delete_a_thread_through_the_cli(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    from mastodon_server.fixtures import write_image

    mastodon_server.set_config(max_characters=5000, media_polls=2)
    write_image(isolated_env / "img" / "a.png")
    draft = isolated_env / "thread.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon"]\ncw = "Test thread"\n+++\n'
        "First.\n![A teal square](img/a.png)\n---\nSecond.\n---\nThird.\n",
        encoding="utf-8",
    )
    env = {
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": mastodon_server.token,
    }
    published = run_cli("publish", str(draft), "--yes", env=env)
    assert published.exit_code == 0, published.stderr
    statuses = mastodon_server.published()
    assert [s.text.split(" ")[0] for s in statuses] == ["First.", "Second.", "Third."]
    assert [s.in_reply_to_id for s in statuses] == [None, statuses[0].id, statuses[1].id]
    assert {s.spoiler_text for s in statuses} == {"Test thread"}
    assert f"{mastodon_server.url}/@alice/{statuses[0].id}" in published.stdout
    assert mastodon_server.token not in published.stdout + published.stderr

    thread_id = published.stdout.split()[1].rstrip(":")
    deleted = run_cli("delete", thread_id, "--yes", env=env)
    assert deleted.exit_code == 0, deleted.stderr
    assert mastodon_server.published() == []


def test_login_asks_for_the_narrowest_scopes_and_they_publish_and_delete(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    """The token `login` gets can do what publishing needs and no more: the test server
    refuses (403) what a token's scopes do not cover, as Mastodon does."""
    from mastodon_server.fixtures import write_image

    narrow = "read:accounts read:statuses read:search write:statuses write:media"
    login = run_cli(
        "login",
        "mastodon",
        "--instance",
        mastodon_server.url,
        input=mastodon_server.authorization_code + "\n",
    )
    assert login.exit_code == 0, login.stderr
    assert f"scope={narrow.replace(' ', '%20').replace(':', '%3A')}" in login.stdout
    (app,) = mastodon_server.requests_to("POST", "/api/v1/apps")
    assert app.value("scopes") == narrow
    token_request = mastodon_server.requests_to("POST", "/oauth/token")[-1]
    assert token_request.value("scope") == narrow

    mastodon_server.set_config(media_polls=1)
    write_image(isolated_env / "img" / "a.png")
    draft = isolated_env / "thread.md"
    draft.write_text(
        '+++\nplatforms = ["mastodon"]\n+++\nFirst.\n![A teal square](img/a.png)\n---\nSecond.\n',
        encoding="utf-8",
    )
    published = run_cli("publish", str(draft), "--yes")
    assert published.exit_code == 0, published.stdout + published.stderr
    assert [s.text.split(" ")[0] for s in mastodon_server.published()] == ["First.", "Second."]
    assert all(r.status != 403 for r in mastodon_server.requests)
    thread_id = published.stdout.split()[1].rstrip(":")
    assert run_cli("delete", thread_id, "--yes").exit_code == 0
    assert mastodon_server.published() == []

    # What the scopes leave out is refused: a token without write:media cannot upload.
    text_only = mastodon_server.add_account("textonly", scopes="read write:statuses")
    refused = run_cli(
        "publish",
        str(draft),
        "--yes",
        "--again",
        env={
            "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
            "THREADPOST_MASTODON_TOKEN": text_only,
        },
    )
    assert refused.exit_code != 0, refused.stdout + refused.stderr
    assert any(r.status == 403 and r.path == "/api/v2/media" for r in mastodon_server.requests)


def test_saved_logins_follow_the_config_file(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    """Two config files, two accounts: a login made with one is not the other's."""
    work, home = tmp_path / "work.toml", tmp_path / "home.toml"
    for config in (work, home):
        config.write_text(f'[mastodon]\ninstance = "{mastodon_server.url}"\n')
    unset = {"THREADPOST_STATE_DIR": None, "THREADPOST_CONFIG": None}
    login = run_cli(
        "--config",
        str(work),
        "login",
        "mastodon",
        env=unset,
        input=mastodon_server.authorization_code + "\n",
    )
    assert login.exit_code == 0, login.stderr
    saved = tmp_path / "work.state" / CREDENTIALS_FILE
    assert f"Token saved to {saved}" in login.stdout
    work_cron = run_cli("--config", str(work), "cron", env=unset).stdout
    home_cron = run_cli("--config", str(home), "cron", env=unset).stdout
    assert f"#   mastodon: ok, the login saved in {saved}" in work_cron
    assert "#   mastodon: NO: not logged in" in home_cron
