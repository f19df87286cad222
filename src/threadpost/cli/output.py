"""What every command prints through, and the global options' state: no typer here, so
that the commands answered without building the command line (cron's quiet `run`, a plain
`publish`: see cli/fast_publish.py) share them with the full one."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpost.config import Settings, load_settings
from threadpost.errors import ThreadpostError, UsageError
from threadpost.redact import redact
from threadpost.values import PLATFORMS, PlatformName

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class CliState:
    """What the global options chose; settings are loaded on first use."""

    config_path: Path | None = None
    db_path: Path | None = None
    show_traceback: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def use(self, config_path: Path | None, db_path: Path | None, show_traceback: bool) -> None:
        """The global options of this run (settings loaded afresh from them on first use)."""
        self.config_path, self.db_path = config_path, db_path
        self.show_traceback = show_traceback
        self._settings = None

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
    import traceback  # (and textwrap: for --traceback only)

    sys.stderr.write(redact("".join(traceback.format_exception(error))))


def echo(message: Any = "", *, err: bool = False) -> None:
    """Print a line to stdout (or stderr)."""
    print(message, file=sys.stderr if err else sys.stdout)


def stdout_console() -> Console:
    """A rich console on stdout for previews and problem lists (no guessed highlighting)."""
    from rich.console import Console

    return Console(highlight=False)


def print_json(value: Any) -> None:
    """One JSON object on stdout (UTF-8 text kept readable)."""
    echo(json.dumps(value, ensure_ascii=False, indent=2))


def counted(count: int, noun: str) -> str:
    """A count and its noun, plural unless the count is one: "1 post", "3 posts"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
