"""Every command, found by walking the app (so a new one cannot be forgotten), has help."""

from __future__ import annotations

import typer.main

from cli_support import run_cli
from threadpost.cli.entry import app


def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", {})
        for name, sub in subcommands.items():
            paths.append((*path, name))
            walk(sub, (*path, name))

    walk(root, ())
    return paths


def test_every_command_and_group_has_help_text() -> None:
    paths = _command_paths()
    assert {("publish",), ("run",), ("login", "bluesky"), ("import", "text")} <= set(paths)
    for path in paths:
        result = run_cli(*path, "--help")
        assert result.exit_code == 0, (path, result.stderr)
        assert "Usage:" in result.stdout, path
        # The first line after the usage block is the command's own description.
        described = [line for line in result.stdout.splitlines()[1:] if line.strip()]
        assert described and not described[0].lstrip().startswith(("Options", "╭")), path
