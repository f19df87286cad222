"""`threadpost login bluesky` end to end against the real local PDS."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from threadpost.config import load_settings
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.session import session_path

pytestmark = pytest.mark.pds

CREATE_SESSION = "com.atproto.server.createSession"


@pytest.fixture
def local_pds(pds: pds_harness.LocalPDS) -> pds_harness.LocalPDS:
    """The session's PDS (tests/conftest.py)."""
    return pds


@pytest.fixture
def account(local_pds: pds_harness.LocalPDS) -> dict[str, Any]:
    handle = pds_harness.unique_handle("cli")
    return local_pds.create_account(handle, "cli-password-" + handle.split(".")[0])


def env_for(pds: pds_harness.LocalPDS, account: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        **extra,
    }


def test_login_with_the_env_password_saves_a_private_session(
    local_pds: pds_harness.LocalPDS, account: dict[str, Any], isolated_env: Path
) -> None:
    before = local_pds.count(CREATE_SESSION)
    result = run_cli(
        "login",
        "bluesky",
        env=env_for(local_pds, account, THREADPOST_BLUESKY_APP_PASSWORD=account["password"]),
    )
    assert result.exit_code == 0, result.stderr
    assert f"Logged in as @{account['handle']} ({account['did']}) on {local_pds.url}." in (
        result.stdout
    )
    saved = session_path(isolated_env / "state", local_pds.url, account["handle"])
    assert f"Session saved to {saved} (file mode 0600)." in result.stdout
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert account["password"] not in result.stdout + result.stderr
    assert account["password"] not in saved.read_text()
    assert "eyJ" not in result.stdout + result.stderr  # no token either
    assert local_pds.count(CREATE_SESSION) == before + 1

    # Publishing later reuses that session, even with no password configured at all.
    settings = load_settings(
        environ={
            "THREADPOST_CONFIG": str(isolated_env / "config.toml"),
            "THREADPOST_STATE_DIR": str(isolated_env / "state"),
            **env_for(local_pds, account),
        }
    )
    assert settings.bluesky.app_password is None
    assert BlueskyPublisher(settings).account_id() == account["did"]
    assert local_pds.count(CREATE_SESSION) == before + 1


def test_login_asks_for_the_password(
    local_pds: pds_harness.LocalPDS, account: dict[str, Any], isolated_env: Path
) -> None:
    result = run_cli(
        "login", "bluesky", env=env_for(local_pds, account), input=account["password"] + "\n"
    )
    assert result.exit_code == 0, result.stderr
    assert f"App password for {account['handle']}" in result.stdout
    assert account["password"] not in result.stdout + result.stderr
    assert f"({account['did']})" in result.stdout


def test_login_with_options_instead_of_config(
    local_pds: pds_harness.LocalPDS, account: dict[str, Any], isolated_env: Path
) -> None:
    result = run_cli(
        "login",
        "bluesky",
        "--service",
        local_pds.url,
        "--handle",
        "@" + account["handle"],
        env={"THREADPOST_BLUESKY_APP_PASSWORD": account["password"]},
    )
    assert result.exit_code == 0, result.stderr
    assert f"Logged in as @{account['handle']}" in result.stdout


def test_wrong_password_fails_clearly_without_echoing_it(
    local_pds: pds_harness.LocalPDS, account: dict[str, Any], isolated_env: Path
) -> None:
    secret = "not-the-right-password-42"
    result = run_cli(
        "login",
        "bluesky",
        env=env_for(local_pds, account, THREADPOST_BLUESKY_APP_PASSWORD=secret),
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Bluesky: logging in: HTTP 401")
    # Not "log in again" (issue 12): that is what just failed.
    assert "log in again" not in result.stderr
    assert f"Hint: check the handle ({account['handle']}) and the app password" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert not session_path(isolated_env / "state", local_pds.url, account["handle"]).exists()
    assert not (isolated_env / "state" / "bluesky-account.json").exists()


def test_login_needs_a_handle(isolated_env: Path) -> None:
    result = run_cli("login", "bluesky", env={"THREADPOST_BLUESKY_APP_PASSWORD": "x"})
    assert result.exit_code == 2
    assert "no Bluesky handle" in result.stderr


def test_help() -> None:
    result = run_cli("login", "bluesky", "--help")
    assert result.exit_code == 0
    assert "app password" in result.stdout
