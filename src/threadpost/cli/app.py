"""The typer app, global options and the error funnel shared by every command module."""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from threadpost import __version__
from threadpost.config import Settings, load_settings
from threadpost.errors import ThreadpostError, UsageError
from threadpost.redact import redact
from threadpost.values import PLATFORMS, PlatformName

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


@dataclass
class CliState:
    """What the global options chose; settings are loaded on first use."""

    config_path: Path | None = None
    db_path: Path | None = None
    show_traceback: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path, self.db_path)
            for warning in self._settings.warnings:
                print(redact(f"Warning: {warning}"), file=sys.stderr)
        return self._settings

    def report_error(self, error: ThreadpostError) -> None:
        if self.show_traceback:
            print_traceback(error)
        print(redact(f"Error: {error.message}"), file=sys.stderr)
        if error.hint:
            print(redact(f"Hint: {error.hint}"), file=sys.stderr)


state = CliState()


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
    state.config_path = config
    state.db_path = db
    state.show_traceback = show_traceback
    state._settings = None


def report_unexpected(error: Exception) -> None:
    """A bug: say so briefly (the traceback only with --traceback)."""
    if state.show_traceback:
        print_traceback(error)
    else:
        print(
            redact(f"Error: unexpected {type(error).__name__}: {error}")
            + "\nHint: run again with --traceback and report it as a bug.",
            file=sys.stderr,
        )


def print_traceback(error: BaseException) -> None:
    """The traceback of `error` and of the exceptions it chains, secrets redacted (a library's
    exception quotes what the server answered, which may be the credentials sent)."""
    sys.stderr.write(redact("".join(traceback.format_exception(error))))


def echo(message: Any = "", *, err: bool = False) -> None:
    """Print a line to stdout (or stderr)."""
    print(message, file=sys.stderr if err else sys.stdout)


def print_json(value: Any) -> None:
    """One JSON object on stdout (UTF-8 text kept readable)."""
    echo(json.dumps(value, ensure_ascii=False, indent=2))


def counted(count: int, noun: str) -> str:
    """A count and its noun, plural unless the count is one: "1 post", "3 posts"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


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


def platforms_option(values: list[str] | None) -> list[PlatformName] | None:
    """Validate --platform values, without repeats (None: the draft's own platforms)."""
    if not values:
        return None
    chosen: list[PlatformName] = []
    for value in values:
        name = value.strip().lower()
        if name not in PLATFORMS:
            raise UsageError(
                f"unknown platform {value!r} for --platform (choose from {', '.join(PLATFORMS)})"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen
