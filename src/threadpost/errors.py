"""The ThreadpostError tree and the process exit codes it maps to.

Every failure a user can cause or meet is one of these; `cli.py` turns them into
`Error: …` on stderr and the matching exit status. Messages never contain secrets.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from pathlib import Path

from threadpost.redact import redact_known
from threadpost.values import PlatformName


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
        # Redacted here, once, because a message also goes into the ledger (last_error) and
        # from there into `status`: a server's answer quoted in it may hold a secret.
        message = redact_known(message)
        super().__init__(message)
        self.message = message
        self.hint = redact_known(hint) if hint else hint

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


class PlatformError(ThreadpostError):
    """A network call failed. `post` is the 1-based post index concerned, if any."""

    def __init__(
        self,
        message: str,
        *,
        platform: PlatformName,
        post: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.platform = platform
        self.post = post


class TransientError(PlatformError):
    """Worth retrying: connection errors, timeouts, 5xx."""

    #: True when the request may have been applied although no answer came back
    #: (timeout after sending, lost response, 5xx on a write): look before resending.
    unclear: bool = False


class UnclearOutcome(TransientError):
    """The write may or may not have landed."""

    unclear = True


class RateLimited(TransientError):
    """429: wait until `reset_at` (UTC) before trying again."""

    def __init__(
        self,
        message: str,
        *,
        platform: PlatformName,
        reset_at: datetime | None,
        post: int | None = None,
    ) -> None:
        super().__init__(message, platform=platform, post=post)
        self.reset_at = reset_at


class PermanentError(PlatformError):
    """Retrying will not help (400/422: the server's reason; 404 on a parent)."""


class AuthFailed(PermanentError):
    """401/403 or bad credentials: the user must log in again."""


class LandedWithDoubts(PermanentError):
    """Every post of the write was published and confirmed, but something about it is off
    (Bluesky: the server's CIDs differ from the computed ones). Publishing carries on from
    the confirmed posts, and the message is shown as a loud warning, not a failure."""
