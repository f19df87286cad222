"""Fixtures of the reliability suite: servers shared by every cell (each cell gets its own
account, so nothing leaks between cells), the local PDS, and the report writer."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import reliability_report

import pds_harness
from mastodon_server.server import MastodonTestServer, running_server

_started = time.monotonic()


@pytest.fixture(scope="session", autouse=True)
def reliability_doc() -> Iterator[None]:
    """Write docs/reliability.md after the session when THREADPOST_WRITE_RELIABILITY_DOC=1."""
    yield
    if os.environ.get(reliability_report.DOC_ENV, "") in ("", "0"):
        return
    outcomes = reliability_report.rows()
    if not outcomes:
        return
    text = reliability_report.render(
        outcomes, notes=reliability_report.NOTES, runtime=time.monotonic() - _started
    )
    reliability_report.DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    reliability_report.DOC_PATH.write_text(text, encoding="utf-8")


@pytest.fixture(scope="session")
def shared_mastodon() -> Iterator[MastodonTestServer]:
    """One Mastodon test server for the whole suite (cells use fresh accounts)."""
    with running_server() as server:
        yield server


@pytest.fixture
def mastodon_cell(shared_mastodon: MastodonTestServer) -> Iterator[MastodonTestServer]:
    """The shared server, clean for one cell: no armed fault, listening."""
    shared_mastodon.faults.clear()
    shared_mastodon.resume()
    yield shared_mastodon
    shared_mastodon.faults.clear()
    shared_mastodon.resume()


@pytest.fixture(scope="session")
def shared_pds(pds: pds_harness.LocalPDS) -> pds_harness.LocalPDS:
    """The session's one real local PDS (tests/conftest.py); cells use fresh accounts."""
    return pds
