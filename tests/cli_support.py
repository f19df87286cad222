"""Run the CLI in-process through its real entry point, with isolated streams and environment.

A plain module (tests/ is on pytest's pythonpath) rather than conftest.py: conftest files in
several test folders are all the module "conftest", so importing from one is ambiguous.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


def write_cron_logins(
    config: Path,
    *,
    mastodon_token: str = "test-token",
    bluesky_handle: str = "alice.test",
    bluesky_password: str = "test-app-password",
) -> None:
    """Put credentials for both networks in the config file (mode 0600), where a cron job
    finds them: `schedule` refuses a network whose login lives only in the environment."""
    config.write_text(
        f'[mastodon]\naccess_token = "{mastodon_token}"\n\n'
        f'[bluesky]\nhandle = "{bluesky_handle}"\napp_password = "{bluesky_password}"\n'
    )
    config.chmod(0o600)
