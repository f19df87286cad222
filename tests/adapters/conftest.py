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

from collections.abc import Iterator
from typing import Any

import pytest

import pds_harness

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
