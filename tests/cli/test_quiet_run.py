"""cron's plain `threadpost run` with nothing due is answered before typer is imported, and
every other `run` reaches the full command line with its output unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer.main

from cli_support import run_cli
from fakes import make_thread
from threadpost.cli.entry import app
from threadpost.cli.quiet_run import PATH_OPTIONS, RunPaths, answered_quietly, plain_run_paths
from threadpost.store import open_ledger


def _queue(db: Path, *, in_days: float) -> str:
    """One Mastodon thread scheduled `in_days` from now (negative: already due)."""
    with open_ledger(db) as ledger:
        return ledger.create_thread(
            draft_path="/d.md",
            content_hash="h",
            title=None,
            plans={"mastodon": make_thread("mastodon", 2)},
            schedule_at=datetime.now(UTC) + timedelta(days=in_days),
            state="scheduled",
            now=datetime.now(UTC),
        )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run"], RunPaths(None, None)),
        (["--config", "c.toml", "run"], RunPaths(Path("c.toml"), None)),
        (["--db=t.db", "--config=c.toml", "run"], RunPaths(Path("c.toml"), Path("t.db"))),
        (["--db", "t.db", "run"], RunPaths(None, Path("t.db"))),
    ],
)
def test_the_plain_cron_line_is_recognised(args: list[str], expected: RunPaths) -> None:
    assert plain_run_paths(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["status"],
        ["run", "-v"],
        ["run", "--json"],
        ["run", "--help"],
        ["--traceback", "run"],
        ["--version", "run"],
        ["--config", "run"],  # `run` is the config file's name: no command at all
        ["--config", "a.toml", "--config", "b.toml", "run"],
        ["--config=", "run"],
        ["--db", "--traceback", "run"],
        ["publish", "run"],
        ["run", "run"],
    ],
)
def test_anything_else_goes_to_the_full_command_line(args: list[str]) -> None:
    assert plain_run_paths(args) is None


def test_the_options_it_accepts_are_the_global_options_naming_the_files() -> None:
    """`--config` and `--db` are the app's global options that set the config and ledger
    (and take THREADPOST_CONFIG / THREADPOST_DB, which load_settings reads as well)."""
    params = {param.name: param for param in typer.main.get_command(app).params}
    for option, name, variable in zip(
        PATH_OPTIONS, ("config", "db"), ("THREADPOST_CONFIG", "THREADPOST_DB"), strict=True
    ):
        assert option in params[name].opts
        assert params[name].envvar == variable


def test_nothing_due_is_answered_quietly(isolated_env: Path) -> None:
    _queue(isolated_env / "threadpost.db", in_days=3)
    assert answered_quietly(["run"], os.environ)
    assert answered_quietly(["--db", str(isolated_env / "threadpost.db"), "run"], os.environ)


def test_a_due_thread_is_left_to_the_full_command_line(isolated_env: Path) -> None:
    _queue(isolated_env / "threadpost.db", in_days=-1)
    assert not answered_quietly(["run"], os.environ)


def test_a_settings_warning_is_left_to_the_full_command_line(isolated_env: Path) -> None:
    """The full command line prints it (once: the quick look printed nothing)."""
    config = isolated_env / "config.toml"
    config.write_text('[mastodon]\ninstance = "https://example.social"\naccess_token = "t0k"\n')
    config.chmod(0o644)
    assert not answered_quietly(["run"], os.environ)
    result = run_cli("run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Warning:") == 1, result.stderr
    assert "t0k" not in result.stderr


def test_a_config_error_is_reported_once_by_the_full_command_line(isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text("[general\n")
    assert not answered_quietly(["run"], os.environ)
    result = run_cli("run")
    assert result.exit_code != 0
    assert result.stderr.count("Error:") == 1, result.stderr
    assert "config.toml: invalid TOML" in result.stderr


def test_a_ledger_that_is_not_one_is_reported_by_the_full_command_line(
    isolated_env: Path,
) -> None:
    (isolated_env / "threadpost.db").write_text("not a database")
    assert not answered_quietly(["run"], os.environ)
    result = run_cli("run")
    assert result.exit_code != 0
    assert result.stderr.count("Error:") == 1, result.stderr
    assert "threadpost.db" in result.stderr


def test_verbose_run_still_says_what_waits(isolated_env: Path) -> None:
    _queue(isolated_env / "threadpost.db", in_days=3)
    result = run_cli("run", "-v")
    assert result.exit_code == 0, result.stderr
    assert "Nothing due; 1 waiting" in result.stdout


#: The console script's entry, then which of the command line's modules were imported.
_PROBE = (
    "import sys, atexit\n"
    "atexit.register(lambda: print('LOADED', sorted(m for m in ('typer', 'click',"
    " 'threadpost.cli.entry', 'threadpost.cli.app') if m in sys.modules), file=sys.stderr))\n"
    "from threadpost.cli import main\n"
    "main(sys.argv[1:])\n"
)


def _cron_tick(isolated_env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env["THREADPOST_STATE_DIR"] = str(isolated_env / "state")
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_cron_tick_with_nothing_due_never_builds_the_command_line(isolated_env: Path) -> None:
    db = isolated_env / "threadpost.db"
    _queue(db, in_days=3)
    config = str(isolated_env / "config.toml")
    done = _cron_tick(isolated_env, "--config", config, "--db", str(db), "run")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == "LOADED []\n"
    # The same tick with -v takes the full command line, and says what waits.
    verbose = _cron_tick(isolated_env, "--config", config, "--db", str(db), "run", "-v")
    assert verbose.returncode == 0, verbose.stderr
    assert "Nothing due; 1 waiting" in verbose.stdout
    assert "'typer'" in verbose.stderr


def test_a_cron_tick_with_a_due_thread_runs_it(isolated_env: Path) -> None:
    """Due a minute ago, with no Mastodon login: the full `run` takes it up, sends nothing
    (no account), and leaves it for a later run (exit 4)."""
    db = isolated_env / "threadpost.db"
    thread_id = _queue(db, in_days=-1 / 1440)
    config = str(isolated_env / "config.toml")
    done = _cron_tick(isolated_env, "--config", config, "--db", str(db), "run")
    assert done.returncode == 4, done.stderr
    assert f"Thread {thread_id}: incomplete" in done.stdout
    assert "'typer'" in done.stderr
