"""Run the CLI in-process through its real entry point, with isolated streams and environment.

A plain module (tests/ is on pytest's pythonpath) rather than conftest.py: conftest files in
several test folders are all the module "conftest", so importing from one is ambiguous.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
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


#: Runs the real CLI entry point with the arguments after the first, then reports on stderr,
#: at exit (after everything, output and ledger writes included, has run), the imported
#: modules whose top-level package is in the JSON list that is the first argument (or which
#: it names whole).
_MODULES_PROBE = (
    "import sys, atexit, json\n"
    "wanted = set(json.loads(sys.argv.pop(1)))\n"
    "def report():\n"
    "    loaded = sorted(m for m, module in sys.modules.items() if module is not None\n"
    "                    and (m.split('.')[0] in wanted or m in wanted))\n"
    "    print('LOADED ' + json.dumps(loaded), file=sys.stderr)\n"
    "atexit.register(report)\n"
    "from threadpost.cli import main\n"
    "main(sys.argv[1:])\n"
)


def publish_listing_modules(
    draft: Path, env: Mapping[str, str], watched: Iterable[str], *, timeout: float = 180
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`threadpost publish DRAFT --yes --json` in a fresh process, and the modules of the
    `watched` packages (or named whole in it) that it imported."""
    return command_listing_modules(
        ["publish", str(draft), "--yes", "--json"], env, watched, timeout=timeout
    )


def command_listing_modules(
    args: Iterable[str], env: Mapping[str, str], watched: Iterable[str], *, timeout: float = 180
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`threadpost ARGS` in a fresh process, and the modules of the `watched` packages (or
    named whole in it) that it imported."""
    probe = [sys.executable, "-c", _MODULES_PROBE, json.dumps(sorted(watched))]
    out = subprocess.run(
        [*probe, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env),
        check=False,
    )
    lines = [line for line in out.stderr.splitlines() if line.startswith("LOADED ")]
    assert len(lines) == 1, out.stderr
    return out, json.loads(lines[0].removeprefix("LOADED "))
