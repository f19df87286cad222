"""cron's `threadpost run` with nothing due, answered before the command line is built.

cron starts `threadpost run` every few minutes, and nearly always nothing is due: the
answer (exit 0, nothing printed) needs the settings, the ledger and one indexed query, but
building the command line (typer, click and the ~40 commands) costs as much again. So
`main` asks `answered_quietly` first. It answers only the plain line `threadpost cron`
writes, `threadpost [--config FILE] [--db FILE] run`, and only when the settings load
without a warning or an error, the ledger has nothing due and no queued thread's draft
changed since it was timed from it (which may re-time it, retime.py). In every other case (any
other option or command, `-v`, `--json`, a due thread, something to report) it returns
False having printed nothing, and the full command line runs `run` as always: the same
`load_settings`, `open_ledger` and `due_thread_ids` make the same decision there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from threadpost.clock import utc_now
from threadpost.config import load_settings
from threadpost.errors import ThreadpostError
from threadpost.store import open_ledger

#: The global options a cron line may carry (cli/app.py's callback; when one is left out,
#: `load_settings` reads its THREADPOST_* variable as the full command line does).
PATH_OPTIONS = ("--config", "--db")


class RunPaths(NamedTuple):
    """The files a plain `run` line names (None: the option was not given)."""

    config: Path | None
    db: Path | None


def plain_run_paths(args: Sequence[str]) -> RunPaths | None:
    """The --config and --db of `args` when they are `[--config F] [--db F] run` (in either
    order, `--opt F` or `--opt=F`), else None."""
    if not args or args[-1] != "run":
        return None
    given: dict[str, str] = {}
    options = iter(args[:-1])
    for word in options:
        name, equals, value = word.partition("=")
        if name not in PATH_OPTIONS or name in given:
            return None
        if not equals:
            value = next(options, "")
        if not value or value.startswith("-"):
            return None  # for the command line's parser to make sense of, or refuse
        given[name] = value
    config, db = given.get("--config"), given.get("--db")
    return RunPaths(Path(config) if config else None, Path(db) if db else None)


def answered_quietly(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    """True when `args` is a plain `run` with nothing due and nothing to say: the command's
    whole work is done (nothing printed, exit 0). False: run the full command line."""
    paths = plain_run_paths(args)
    if paths is None:
        return False
    from threadpost.retime import drafts_to_look_at

    try:
        settings = load_settings(paths.config, paths.db, environ)
        if settings.warnings:
            return False  # the full command line prints them
        with open_ledger(settings.db_path) as ledger:
            # A draft changed since its thread was timed from it may re-time the thread
            # (retime.py): the full command line looks, and says so.
            return not ledger.due_thread_ids(utc_now()) and not drafts_to_look_at(ledger)
    except (ThreadpostError, OSError, sqlite3.Error):
        return False  # the full command line reports it, with its message and exit status
