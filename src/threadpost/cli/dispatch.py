"""Build only the command that is run: the command table, narrowed to argv's command.

Invoking a typer app turns every registered command into a click command first: it reads
each function's signature and evaluates its annotations (~40 signatures, ~300 annotation
strings), about a quarter of the interpreter's start-up, for the one command that runs.
`threadpost run` is started by cron every few minutes, so `app_for` hands typer a copy of
the app whose table holds just the command (or command group) named in argv. The command
is the same object with the same global options, so its parsing, help and errors are the
ones of the full app. Whatever is not plainly a known command (no command, `--help`, a
typo that deserves click's "No such command") gets the full app.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Final

import typer
from typer.main import get_command_name

from threadpost.cli.quiet_run import PATH_OPTIONS

#: The global options (cli/app.py's callback) that take a value: the word after them is
#: that value, not the command (tests/cli/test_dispatch.py checks the list against it).
#: They are the two naming the files, which the quiet `run` reads too.
VALUE_OPTIONS: Final = frozenset(PATH_OPTIONS)


def command_word(args: Sequence[str]) -> str | None:
    """The command named in `args` (the first word that is neither a global option nor
    its value), or None when there is none before `--` or the end."""
    words = iter(args)
    for word in words:
        if word == "--":
            return None
        if word.startswith("-"):
            if word in VALUE_OPTIONS:
                next(words, None)
            continue
        return word
    return None


def app_for(app: typer.Typer, args: Sequence[str]) -> typer.Typer:
    """`app` with only the command or group that `args` names, else `app` itself."""
    name = command_word(args)
    if name is None:
        return app
    commands = [
        info
        for info in app.registered_commands
        if (info.name or get_command_name(getattr(info.callback, "__name__", ""))) == name
    ]
    # Groups are added with an explicit name (`add_typer(..., name=...)`); one without
    # (a typer default placeholder) never matches, and the full app is used.
    groups = [
        info for info in app.registered_groups if isinstance(info.name, str) and info.name == name
    ]
    if len(commands) + len(groups) != 1:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed
