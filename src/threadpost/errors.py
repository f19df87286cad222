"""The ThreadpostError tree and the process exit codes it maps to.

Every failure a user can cause or meet is one of these; `cli.py` turns them into
`Error: …` on stderr and the matching exit status. Messages never contain secrets.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitStatus(IntEnum):
    """Process exit codes (a stable contract, see DESIGN.md)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    VALIDATION_FAILED = 3
    PUBLISH_INCOMPLETE = 4
    INTERRUPTED = 130


class ThreadpostError(Exception):
    """Base of every error threadpost reports to the user."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ThreadpostError):
    """The command line itself is wrong (bad option value, missing argument)."""

    exit_status = ExitStatus.USAGE


class ConfigError(ThreadpostError):
    """The configuration file or environment is invalid or incomplete."""


class DraftError(ThreadpostError):
    """A draft file cannot be read or parsed. Always names the file and, where known, the line."""

    exit_status = ExitStatus.VALIDATION_FAILED

    def __init__(
        self, path: Path | str, message: str, *, line: int | None = None, hint: str | None = None
    ) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}", hint=hint)
        self.reason = message


class ValidationFailed(ThreadpostError):
    """`check` (or the check before publishing) found errors; nothing was sent."""

    exit_status = ExitStatus.VALIDATION_FAILED


class StoreError(ThreadpostError):
    """The ledger database cannot be opened, is not ours, or is inconsistent."""


class PublishIncomplete(ThreadpostError):
    """Some posts were not published; the thread is resumable with `threadpost run`."""

    exit_status = ExitStatus.PUBLISH_INCOMPLETE
