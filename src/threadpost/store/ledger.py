"""The `Ledger` (every table's queries over one connection) and `open_ledger`, which creates
or checks the file and brings its schema up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from threadpost.errors import StoreError
from threadpost.store.edit_queries import EditQueries
from threadpost.store.file_checks import _check_header, _create_file, _database_error
from threadpost.store.lease_queries import LeaseQueries
from threadpost.store.post_queries import PostQueries
from threadpost.store.retime_queries import RetimeQueries
from threadpost.store.schema import _MIGRATIONS, APPLICATION, SCHEMA_VERSION
from threadpost.store.source_queries import SourceQueries

#: Milliseconds a writer waits for another process's lock before giving up.
BUSY_TIMEOUT_MS: Final = 10_000


class Ledger(PostQueries, LeaseQueries, SourceQueries, EditQueries, RetimeQueries):
    """An open ledger database. Use `open_ledger`; close it (or use `with`).

    Its queries come from the mixins, one per table group (`PostQueries` includes
    `ThreadQueries`; `EditQueries` the edits of published posts; `RetimeQueries` how a
    queued thread follows its draft's schedule); the connection
    plumbing from `LedgerCore`."""

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        self.close()
        # A lock held past the busy timeout, a file made read-only or corrupted since it
        # was opened: a StoreError naming the ledger, not an "unexpected" crash.
        if isinstance(error, sqlite3.DatabaseError):
            raise _database_error(self.path, error) from error


def open_ledger(path: Path | str) -> Ledger:
    """Open (creating if needed, mode 0600) the ledger at `path` and bring its schema up to date.

    Refuses, with a `StoreError` naming the file, a file that is not SQLite, a SQLite
    database that is not a threadpost ledger, a newer schema, and an unwritable folder."""
    path = Path(path).expanduser()
    created = _create_file(path)
    if not created:
        _check_header(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the ledger: {exc}") from None
    conn.row_factory = sqlite3.Row
    ledger = Ledger(path, conn)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = _schema_version(ledger)
        if version != SCHEMA_VERSION:
            _enable_wal(ledger)
            _migrate(ledger, version)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _database_error(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return ledger


def open_second_connection(ledger: Ledger) -> Ledger:
    """Another connection to the file `ledger` opened, for another thread (a SQLite
    connection belongs to the thread that made it): SQLite serializes the two writers as it
    does two processes (WAL, `BEGIN IMMEDIATE`, the busy timeout). Nothing is created or
    migrated: a path that no longer names that file raises `LedgerFileChanged`."""
    ledger.check_file()
    try:
        conn = sqlite3.connect(
            f"{ledger.path.resolve().as_uri()}?mode=rw",
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{ledger.path}: cannot open the ledger: {exc}") from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        ledger.check_file()  # again: the path may have changed while connecting
        other = Ledger(ledger.path, conn)
    except BaseException:
        conn.close()
        raise
    other._verified = ledger._verified
    return other


def _schema_version(ledger: Ledger) -> int:
    """0 for an empty database; raises for a foreign one or a newer schema."""
    tables = {row[0] for row in ledger._rows("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return 0
    if "threadpost_meta" not in tables:
        raise StoreError(
            f"{ledger.path} is not a threadpost ledger (it holds other tables: "
            f"{', '.join(sorted(tables)[:5])})",
            hint="pass the ledger's own file with --db, or a new file name to start one",
        )
    meta: dict[str, str] = {
        str(row[0]): str(row[1]) for row in ledger._rows("SELECT key, value FROM threadpost_meta")
    }
    if meta.get("application") != APPLICATION:
        raise StoreError(f"{ledger.path} is not a threadpost ledger")
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{ledger.path} was written by a newer threadpost (schema {version}, this one "
            f"knows {SCHEMA_VERSION}); upgrade threadpost"
        )
    return version


def _enable_wal(ledger: Ledger) -> None:
    mode = ledger.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # pragma: no cover - e.g. some network file systems
        raise StoreError(f"{ledger.path}: SQLite could not switch to WAL mode ({mode})")


def _migrate(ledger: Ledger, version: int) -> None:
    """Apply every migration after `version`, each in one transaction."""
    with ledger.transaction():
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = _schema_version(ledger)
        for target, migration in sorted(_MIGRATIONS.items()):
            if target > current:
                migration(ledger.db)
                ledger.db.table("threadpost_meta").upsert_all(
                    [
                        {"key": "application", "value": APPLICATION},
                        {"key": "schema_version", "value": str(target)},
                    ],
                    pk="key",
                )
