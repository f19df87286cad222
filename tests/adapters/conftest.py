"""Fixtures for adapter tests that need a real Bluesky PDS (see tests/pds_harness.py).

- ``pds`` (session): a running :class:`pds_harness.LocalPDS` on 127.0.0.1, rate limits off.
- ``pds_account`` (function): a fresh ``*.test`` account on it:
  ``{"did", "handle", "password", "email", "accessJwt", "refreshJwt"}``.

The install (tests/pds/install.sh) is cached on the machine; on a cold machine it takes about
two minutes, so it runs once at collection time (outside any per-test timeout) when a
collected test uses ``pds``. An install failure fails those tests with the installer's output:
it never skips them.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

import pds_harness  # noqa: E402

_install_error: BaseException | None = None
_THIS_MODULE = sys.modules[__name__]
_ROOT_CONFTEST = Path(_TESTS_DIR) / "conftest.py"


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """Give the name "conftest" back to tests/conftest.py once this file is registered.

    conftest.py files outside packages are all the module "conftest"; pytest leaves the last
    one loaded (this one) in sys.modules, and tests elsewhere do `from conftest import run_cli`.
    """
    if plugin is not _THIS_MODULE:
        return
    for other in manager.get_plugins():
        path = getattr(other, "__file__", None) if isinstance(other, types.ModuleType) else None
        if path and Path(path).resolve() == _ROOT_CONFTEST:
            sys.modules["conftest"] = other
            return


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
