"""Fixtures shared by every test folder. Helpers to import live in plain modules
(`cli_support`, ...): tests/ is on pytest's pythonpath."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import REPO_ROOT, CliResult, run_cli

__all__ = ["REPO_ROOT", "CliResult", "isolated_env", "run_cli"]


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point config, ledger and state at a temp folder so no test touches the user's files."""
    for name in list(os.environ):
        if name.startswith("THREADPOST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("THREADPOST_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("THREADPOST_DB", str(tmp_path / "threadpost.db"))
    monkeypatch.setenv("THREADPOST_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("THREADPOST_TIMEZONE", "Europe/Paris")
    (tmp_path / "config.toml").write_text("")
    yield tmp_path
