"""Fixtures shared by every test folder. Helpers to import live in plain modules
(`cli_support`, `pds_harness`, ...): tests/ is on pytest's pythonpath.

- ``isolated_env``: config, ledger and state in a temp folder.
- ``_no_user_settings`` (autouse): no THREADPOST_* variable from the caller's shell, and the
  default config/data/state folders are empty temp folders.
- Retries never sleep: ``_no_user_settings`` sets threadpost.retry's test switch
  (THREADPOST_RETRY_WITHOUT_SLEEP) for every test, in-process and for the threadpost
  processes a test starts with the test's environment. A test that records the waits gives
  its policy its own ``sleep``.
- ``pds`` (session): one real Bluesky PDS on 127.0.0.1 for the whole run (see
  tests/pds_harness.py), rate limits off. The install (tests/pds/install.sh) is cached on the
  machine; on a cold machine it takes about two minutes, so it runs once at collection time
  (outside any per-test timeout) when a collected test uses ``pds``. An install failure fails
  those tests with the installer's output: it never skips them.
- ``pds_account``: a fresh ``*.test`` account on it:
  ``{"did", "handle", "password", "email", "accessJwt", "refreshJwt"}``.
- Hypothesis runs without its per-example deadline (profile "threadpost").
- ``_no_traffic_off_the_machine`` (autouse): a test that looks up a name or connects to an
  address that is not loopback fails (see tests/netguard.py); `live` tests are exempt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

import netguard
import pds_harness
from cli_support import REPO_ROOT, CliResult, run_cli
from conformance import PASS_RATES
from threadpost.retry import WITHOUT_SLEEP_VARIABLE

__all__ = ["REPO_ROOT", "CliResult", "isolated_env", "pds", "pds_account", "run_cli"]


netguard.install()

# Hypothesis's default 200 ms deadline per example is a timed assertion: on a loaded 2-core CI
# machine it fails sound code. Tests judge behaviour; speed is measured in bench/.
hypothesis_settings.register_profile("threadpost", deadline=None)
hypothesis_settings.load_profile("threadpost")


@pytest.fixture(autouse=True)
def _no_traffic_off_the_machine(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that sent (or tried to send) a DNS query or a connection off the machine."""
    if request.node.get_closest_marker("live") is not None:
        yield
        return
    with netguard.guard() as attempts:
        yield
    if attempts:
        pytest.fail(
            "network traffic off the machine was attempted (only loopback is allowed): "
            + "; ".join(sorted(set(attempts))),
            pytrace=False,
        )


#: Every environment variable threadpost reads: a developer's exported token or config must not
#: change what a test sees (isolated_env and the tests set what they need).
APP_ENVIRONMENT = (
    "THREADPOST_CONFIG",
    "THREADPOST_DB",
    "THREADPOST_STATE_DIR",
    "THREADPOST_TIMEZONE",
    "THREADPOST_MASTODON_INSTANCE",
    "THREADPOST_MASTODON_TOKEN",
    "THREADPOST_BLUESKY_SERVICE",
    "THREADPOST_BLUESKY_HANDLE",
    "THREADPOST_BLUESKY_APP_PASSWORD",
)


@pytest.fixture(autouse=True)
def _no_user_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep the user's own config, ledger, saved logins and THREADPOST_* variables out of every
    test: the default locations (platformdirs: XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME)
    point into an empty temp folder. XDG_CACHE_HOME is left alone: the local PDS install is
    cached there."""
    for name in APP_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    # Same retry decisions, no backoff slept (a 429 reset included).
    monkeypatch.setenv(WITHOUT_SLEEP_VARIABLE, "1")
    home = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point config, ledger and state at a temp folder so no test touches the user's files."""
    for name in list(os.environ):
        if name.startswith("THREADPOST_") and name != WITHOUT_SLEEP_VARIABLE:
            monkeypatch.delenv(name)
    monkeypatch.setenv("THREADPOST_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("THREADPOST_DB", str(tmp_path / "threadpost.db"))
    monkeypatch.setenv("THREADPOST_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("THREADPOST_TIMEZONE", "Europe/Paris")
    (tmp_path / "config.toml").write_text("")
    yield tmp_path


_install_error: BaseException | None = None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Install (or find the cached install) before tests run, so a cold install is not timed."""
    global _install_error
    if config.option.collectonly:
        return
    if not any("pds" in getattr(item, "fixturenames", ()) for item in items):
        return
    try:
        pds_harness.ensure_pds_installed()
    except pds_harness.PDSInstallError as exc:
        _install_error = exc  # reported by the fixture, on each test that needs it


@pytest.fixture(scope="session")
def pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pds_harness.LocalPDS]:
    if _install_error is not None:
        pytest.fail(f"installing the local PDS failed:\n{_install_error}", pytrace=False)
    try:
        install_dir = pds_harness.ensure_pds_installed()
    except pds_harness.PDSInstallError as exc:
        pytest.fail(f"installing the local PDS failed:\n{exc}", pytrace=False)
    server = pds_harness.LocalPDS(install_dir=install_dir, data_dir=tmp_path_factory.mktemp("pds"))
    try:
        server.start()
    except pds_harness.PDSStartError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pds_account(pds: pds_harness.LocalPDS) -> dict[str, Any]:
    handle = pds_harness.unique_handle("tp")
    return pds.create_account(handle, "test-password-" + handle.split(".")[0])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the conformance corpora's pass rates at the end of every run."""
    if not PASS_RATES:
        return
    terminalreporter.section("conformance corpora")
    for corpus, passed, total in PASS_RATES:
        terminalreporter.write_line(f"{corpus}: {passed}/{total} ({100 * passed / total:.1f}%)")
