"""The ledger file itself: creating it privately, recognising SQLite, noticing that it was
deleted, replaced or damaged, and turning SQLite's errors into messages naming the file."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Final

from threadpost.errors import StoreError
from threadpost.private_files import make_private_dir

_SQLITE_HEADER: Final = b"SQLite format 3\x00"


class LedgerUnusable(sqlite3.DatabaseError):
    """The ledger cannot be trusted any more: its file was deleted or replaced while open,
    or it fails SQLite's integrity check. A `sqlite3.DatabaseError`, so that the engine and
    `run` treat it as any failing ledger (stop at once, record nothing more, no thread marked
    failed in it); `Ledger.__exit__` turns it into a `StoreError` with this message and hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class LedgerFileChanged(LedgerUnusable):
    """The ledger's path no longer names the file that was opened (deleted or replaced)."""


class LedgerDamaged(LedgerUnusable):
    """The ledger fails `PRAGMA integrity_check`."""


def _create_file(path: Path) -> bool:
    """Create the parent folders (0700) and an empty 0600 file; True if it was new."""
    if path.exists():
        if path.is_dir():
            raise StoreError(f"{path} is a folder; --db takes a database file")
        return False
    try:
        make_private_dir(path.parent)
    except (FileExistsError, NotADirectoryError):
        # mkdir(exist_ok=True) raises FileExistsError only when a file stands in the way.
        raise StoreError(
            f"cannot create the ledger {path}: {_first_non_folder(path.parent)} is a file, "
            "not a folder",
            hint="choose another place with --db or THREADPOST_DB",
        ) from None
    except OSError:
        pass  # reported below, with the file's own error
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False  # another process created it just now
    except NotADirectoryError:
        raise StoreError(
            f"cannot create the ledger {path}: {_first_non_folder(path.parent)} is a file, "
            "not a folder",
            hint="choose another place with --db or THREADPOST_DB",
        ) from None
    except PermissionError:
        raise StoreError(
            f"cannot create the ledger {path}: the folder {path.parent} is not writable",
            hint="choose another place with --db or THREADPOST_DB",
        ) from None
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise StoreError(
                f"cannot create the ledger {path}: the folder {path.parent} is on a read-only "
                "file system",
                hint="choose another place with --db or THREADPOST_DB",
            ) from None
        raise StoreError(f"cannot create the ledger {path}: {exc.strerror or exc}") from None
    os.close(fd)
    return True


def _file_identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


def damaged_ledger(path: Path, finding: str) -> LedgerDamaged:
    """The refusal to publish from a ledger that fails SQLite's integrity check."""
    return LedgerDamaged(
        f"{path}: the ledger is damaged (SQLite's integrity check: {finding}); nothing was "
        "sent. A damaged index can hide posts already published, and publishing from it "
        "could post them twice",
        hint=f"restore {path} from a backup, or rebuild it with "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` and pass --db recovered.db",
    )


def _first_non_folder(folder: Path) -> Path:
    """The first ancestor of `folder` (outermost first) that exists but is not a folder."""
    for parent in reversed([folder, *folder.parents]):
        if parent.exists() and not parent.is_dir():
            return parent
    return folder


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except PermissionError:
        raise StoreError(f"cannot read the ledger {path}: permission denied") from None
    except OSError as exc:
        raise StoreError(f"cannot read the ledger {path}: {exc.strerror or exc}") from None
    # An empty file is a ledger another process has just created: fine.
    if header and header != _SQLITE_HEADER:
        raise StoreError(f"{path} is corrupt or not SQLite (not a threadpost ledger)")


def _database_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    if isinstance(exc, LedgerUnusable):
        return StoreError(exc.message, hint=exc.hint)
    text = str(exc).lower()
    if "disk is full" in text or "disk i/o error" in text:
        return StoreError(
            f"{path}: cannot write the ledger: "
            + ("the disk is full" if "full" in text else "disk I/O error")
            + "; stopped before sending anything that could not be recorded",
            hint="free some space on that disk; threadpost run then resumes where this run stopped",
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"the ledger {path} cannot be written (read-only file or folder)",
            hint="the folder holding the ledger must be writable (SQLite keeps -wal/-shm "
            "files beside it); choose another place with --db",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"{path} is corrupt or not SQLite",
            hint=f"restore {path} from a backup, or rebuild it with "
            f"`sqlite3 {path} .recover | sqlite3 recovered.db` and pass --db recovered.db",
        )
    if "locked" in text or "busy" in text:
        return StoreError(f"the ledger {path} is locked by another process; try again")
    return StoreError(f"{path}: ledger error: {exc}")
