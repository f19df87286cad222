"""The ledger's connection plumbing, shared by every table's queries: writes only to the file
that was opened, all-or-nothing transactions, and the soundness checks run before writing."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from threadpost.store.file_checks import (
    LedgerFileChanged,
    LedgerUnusable,
    _file_identity,
    damaged_ledger,
)
from threadpost.store.schema import (
    ONE_ACTIVE_INDEX,
    _create_one_active_index,
    _duplicate_active_rows,
)

if TYPE_CHECKING:
    from sqlite_utils import Database


class LedgerCore:
    """An open connection to a ledger, without the queries (see `Ledger`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self._db: Database | None = None
        #: The file this connection opened, as (st_dev, st_ino): checked before each write.
        self._identity = _file_identity(path)
        #: Whether `ensure_sound` already ran its integrity check on this connection.
        self._verified = False

    # -- plumbing ---------------------------------------------------------------------

    def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert `rows` (each with the same columns) into `table`. Plain SQL rather than
        sqlite-utils: importing it costs more than a publish's whole ledger work, and the
        tables exist already (migrations, which need sqlite-utils, made them)."""
        rows = list(rows)
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(columns)
        values = ", ".join(f":{column}" for column in columns)
        self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({values})", rows)

    @property
    def db(self) -> Database:
        """The sqlite-utils view of the same connection (imported when first needed: the
        migrations)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn, execute_plugins=False)
        return self._db

    def close(self) -> None:
        """Close the connection (a failing final checkpoint, a full disk, is not an error:
        every committed transaction is already in the WAL file)."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def check_file(self) -> None:
        """Raise `LedgerFileChanged` when the ledger's path no longer names the file this
        connection opened (deleted, or replaced by another file): called before every write,
        so that nothing is sent that only a lost file would remember."""
        try:
            current = _file_identity(self.path)
        except FileNotFoundError:
            raise LedgerFileChanged(
                f"{self.path}: the ledger was deleted while threadpost was using it; stopped "
                "before sending anything more. What was sent in this run is recorded only in "
                "the deleted file: restore the ledger from a backup before publishing again "
                "(publishing the draft into a new ledger would post it twice)",
                hint="threadpost run resumes from the restored ledger",
            ) from None
        except OSError:
            return  # unreadable folder: SQLite's own error says more when it writes
        if current != self._identity:
            raise LedgerFileChanged(
                f"{self.path}: the ledger was replaced by another file while threadpost "
                "was using it; stopped before sending anything more. This run's last writes went "
                "to the replaced file: restore the ledger that was there before, then "
                "threadpost run resumes",
                hint="threadpost status shows what the ledger now holds",
            )

    def duplicate_active_threads(self) -> list[tuple[str, str]]:
        """Drafts with more than one unfinished thread, as (draft path, "id, id"): only a
        ledger from before schema 3 can hold them; cancel all but one of each."""
        return _duplicate_active_rows(self.conn)

    def ensure_one_active_index(self) -> bool:
        """Create the one-unfinished-thread-per-draft index if it is missing and no
        duplicates stand in the way; True if it exists now."""
        present = self._rows(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (ONE_ACTIVE_INDEX,)
        )
        if present:
            return True
        with self.transaction():
            return _create_one_active_index(self.conn)

    def ensure_sound(self) -> None:
        """Refuse (a `StoreError` naming the ledger) to go on from a damaged ledger: the
        first call on a connection runs SQLite's `PRAGMA integrity_check` (about 65 ms on a
        10 MB ledger of 1,000 threads × 20 posts; `quick_check` would miss an index whose
        entries no longer match their table, which hides rows from indexed queries)."""
        if self._verified:
            return
        try:
            rows = self.conn.execute("PRAGMA integrity_check(20)").fetchall()
        except LedgerUnusable:
            raise
        except sqlite3.DatabaseError as exc:
            raise damaged_ledger(self.path, str(exc)) from None
        findings = [str(row[0]) for row in rows]
        if findings != ["ok"]:
            raise damaged_ledger(self.path, "; ".join(findings[:3]))
        self._verified = True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """All-or-nothing; takes the database's write lock at once (BEGIN IMMEDIATE). Inside
        another transaction it is part of that one (a read-then-write like `freeze_thread`
        wraps the writes it decides on)."""
        if self.conn.in_transaction:
            yield self
            return
        self.check_file()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def _write(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        """One write statement outside `transaction()`, to the file the ledger opened."""
        if not self.conn.in_transaction:
            self.check_file()
        return self.conn.execute(sql, params)

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params))
