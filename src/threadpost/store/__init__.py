"""The ledger: one SQLite file recording every thread, planned post, key and published post.

Writes go through sqlite-utils (tables, migrations, inserts); the hot read paths (`run` with
nothing due) use the bare `sqlite3` connection so that a cron tick imports nothing heavy.
Every write that must survive a crash runs in its own short transaction; multi-row changes
that must be all-or-nothing run in `transaction()` (BEGIN IMMEDIATE: takes the write lock at
once, so two processes never interleave a read-then-write).

Times are stored as fixed-width ISO 8601 UTC text (`clock.format_utc`): text order is time
order, so SQL compares them directly.

The package, one module per concern:

- `records`: the row types (`ThreadRecord`, `PlatformRecord`, `PostRecord`) and states;
- `file_checks`: creating the file privately, recognising SQLite, noticing a deleted,
  replaced or damaged file, and SQLite's errors as messages naming the file;
- `schema`: the tables, one migration per schema version;
- `plan_json`: a frozen plan as JSON and back;
- `core`: the connection plumbing (transactions, writes only to the opened file);
- `thread_queries`, `post_queries`, `lease_queries`: each table's queries, as mixins;
- `source_queries`: what a thread was made from (source hashes, per-network fingerprints);
- `retime_queries`: the draft schedule a queued thread was timed from, and its re-timings;
- `ledger`: `Ledger` (all of the queries over one connection) and `open_ledger`.

Everything importable from `threadpost.store` before the split still is, from here.
"""

from threadpost.store.file_checks import (
    _SQLITE_HEADER,
    LedgerDamaged,
    LedgerFileChanged,
    LedgerUnusable,
    _check_header,
    _create_file,
    _database_error,
    _file_identity,
    _first_non_folder,
    damaged_ledger,
)
from threadpost.store.ledger import (
    BUSY_TIMEOUT_MS,
    Ledger,
    _enable_wal,
    _migrate,
    _schema_version,
    open_ledger,
    open_second_connection,
)
from threadpost.store.plan_json import thread_from_json, thread_to_json
from threadpost.store.records import (
    ACTIVE_STATES,
    FINISHED_STATES,
    PlatformRecord,
    PlatformState,
    PostRecord,
    PostState,
    ThreadRecord,
    ThreadState,
    _post_record,
    _thread_record,
)
from threadpost.store.schema import (
    _MIGRATIONS,
    APPLICATION,
    ONE_ACTIVE_INDEX,
    SCHEMA_VERSION,
    _create_one_active_index,
    _duplicate_active_rows,
    _migration_1,
    _migration_2,
    _migration_3,
)
from threadpost.store.source_queries import EarlierPublication, ThreadSource

__all__ = [
    "ACTIVE_STATES",
    "APPLICATION",
    "BUSY_TIMEOUT_MS",
    "FINISHED_STATES",
    "ONE_ACTIVE_INDEX",
    "SCHEMA_VERSION",
    "EarlierPublication",
    "Ledger",
    "LedgerDamaged",
    "LedgerFileChanged",
    "LedgerUnusable",
    "PlatformRecord",
    "PlatformState",
    "PostRecord",
    "PostState",
    "ThreadRecord",
    "ThreadSource",
    "ThreadState",
    "damaged_ledger",
    "open_ledger",
    "open_second_connection",
    "thread_from_json",
    "thread_to_json",
]
# The private names above stay importable from here too (tests use some of them):
_PRIVATE_REEXPORTS = (
    _SQLITE_HEADER,
    _check_header,
    _create_file,
    _database_error,
    _file_identity,
    _first_non_folder,
    _enable_wal,
    _migrate,
    _schema_version,
    _post_record,
    _thread_record,
    _MIGRATIONS,
    _create_one_active_index,
    _duplicate_active_rows,
    _migration_1,
    _migration_2,
    _migration_3,
)
