"""`cli/dispatch.py`: typer is handed only the command argv names, and that command is the
full app's own (same options, same help), so nothing but start-up time changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from cli_support import run_cli
from threadpost.cli.dispatch import VALUE_OPTIONS, app_for, command_word
from threadpost.cli.entry import app

# Typer 0.28 builds on its own copy of click (typer._click): commands are read by their
# public attributes, whatever module their classes come from.
FULL: Any = typer.main.get_command(app)
NAMES = sorted(FULL.commands)


def _shape(command: Any) -> object:
    """What a user sees of a command: its options, arguments, help and sub-commands."""
    params = [(p.name, tuple(p.opts), p.required, p.multiple) for p in command.params]
    commands = getattr(command, "commands", None)
    subs = {name: _shape(sub) for name, sub in commands.items()} if commands else None
    return (command.name, command.help, params, subs)


def test_the_value_options_are_the_global_options_that_take_a_value() -> None:
    taking_value = {
        opt
        for param in FULL.params
        if param.param_type_name == "option" and not param.is_flag
        for opt in param.opts
    }
    assert taking_value == VALUE_OPTIONS


@pytest.mark.parametrize("name", NAMES)
def test_each_command_is_built_alone_and_unchanged(name: str) -> None:
    narrowed: Any = typer.main.get_command(app_for(app, ["--db", "x.db", "--traceback", name]))
    assert list(narrowed.commands) == [name]
    assert _shape(narrowed.commands[name]) == _shape(FULL.commands[name])
    assert _shape(narrowed)[2] == _shape(FULL)[2]  # the same global options


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["run"], "run"),
        (["--config", "run", "status"], "status"),  # "run" is the config file's name
        (["--db", "a.db", "--config", "c.toml", "login", "bluesky"], "login"),
        (["--config=c.toml", "run"], "run"),
        (["--traceback", "--", "run"], None),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_word_skips_global_options_and_their_values(
    args: list[str], word: str | None
) -> None:
    assert command_word(args) == word


@pytest.mark.parametrize("args", [[], ["--help"], ["rnu"], ["--version"]])
def test_anything_but_a_known_command_gets_the_full_app(args: list[str]) -> None:
    assert app_for(app, args) is app


def test_a_typo_still_gets_click_s_suggestion(isolated_env: Path) -> None:
    result = run_cli("statsu")
    assert result.exit_code == 2
    assert "No such command 'statsu'" in result.stderr
    assert "status" in result.stderr


def test_the_top_level_help_still_lists_every_command(isolated_env: Path) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    assert all(name in result.stdout for name in NAMES)


def test_a_command_runs_through_the_narrowed_app(isolated_env: Path) -> None:
    result = run_cli("--db", str(isolated_env / "other.db"), "run", "-v")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().endswith("Nothing due.")  # after the local time
    assert (isolated_env / "other.db").exists()
