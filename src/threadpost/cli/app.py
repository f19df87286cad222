"""The typer app, its global options and the options several commands share; what they
print through lives in cli/output.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from threadpost import __version__
from threadpost.cli.output import (
    CliState,
    counted,
    echo,
    platforms_option,
    print_json,
    print_traceback,
    report_unexpected,
    state,
)

__all__ = [
    "AccountOption",
    "CliState",
    "JsonOption",
    "OfflineOption",
    "PlatformOption",
    "app",
    "counted",
    "echo",
    "platforms_option",
    "print_json",
    "print_traceback",
    "report_unexpected",
    "state",
]

app = typer.Typer(
    name="threadpost",
    help="Write threads as plain-text drafts; check, preview and publish them to "
    "Mastodon and Bluesky.",
    no_args_is_help=True,
    # --install-completion and --show-completion (bash, zsh, fish, PowerShell).
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"threadpost {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", envvar="THREADPOST_CONFIG", help="Config file (TOML).", show_default=False
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option("--db", envvar="THREADPOST_DB", help="Ledger database (SQLite)."),
    ] = None,
    show_traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full traceback on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Global options, applied before any command."""
    state.use(config, db, show_traceback)


# -- options shared by several commands ----------------------------------------------------

PlatformOption = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        "-p",
        help="Only this platform (mastodon or bluesky); repeat for several. "
        "Default: the draft's platforms.",
        show_default=False,
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Skip everything that needs the network (links, handles; cached instance limits).",
    ),
]
AccountOption = Annotated[
    str | None,
    typer.Option(
        "--account",
        help='The named account of the config to use ([accounts.NAME.…]; "default": '
        "[mastodon] / [bluesky]). Default: the draft's account.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
