"""Shared test helpers: run the CLI in-process with isolated streams and environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, env: Mapping[str, str | None] | None = None, input: str | None = None
) -> CliResult:
    """Run `threadpost ARGS` through the real entry point (error funnel included)."""
    from threadpost.cli import main

    runner = CliRunner()
    code = 0
    with runner.isolation(input=input, env=dict(env or {})) as streams:
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = streams[0].getvalue(), streams[1].getvalue()
    return CliResult(code, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


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
