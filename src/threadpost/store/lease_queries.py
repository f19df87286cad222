"""Queries on the leases table: who may publish a thread right now."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from threadpost.clock import format_utc
from threadpost.store.core import LedgerCore

if TYPE_CHECKING:
    from threadpost.processes import ProcessId


class LeaseQueries(LedgerCore):
    """Leases: claim, renew, release, and take over from a dead holder."""

    def claim_lease(
        self,
        name: str,
        owner: str,
        *,
        until: datetime,
        now: datetime,
        holder: ProcessId | None = None,
    ) -> bool:
        """Take the lease `name` until `until` unless another owner holds an unexpired one.

        With `holder` (this process), the lease records its host, pid and start time, and an
        unexpired lease of another owner is taken over when that owner ran on the same host
        and its process is gone (killed, crashed: `processes.is_running`). A holder on
        another host, or one that did not say who it was, is waited out until expiry.
        Inside BEGIN IMMEDIATE: two processes can never both win."""
        with self.transaction():
            if holder is not None:
                self._drop_dead_holder(name, owner, holder, now)
            self.conn.execute(
                "INSERT INTO leases (name, owner, expires_at, host, pid, started)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET owner = excluded.owner,"
                " expires_at = excluded.expires_at, host = excluded.host, pid = excluded.pid,"
                " started = excluded.started"
                " WHERE leases.expires_at <= ? OR leases.owner = excluded.owner",
                (
                    name,
                    owner,
                    format_utc(until),
                    holder.host if holder else None,
                    holder.pid if holder else None,
                    holder.started if holder else None,
                    format_utc(now),
                ),
            )
            rows = self._rows("SELECT owner FROM leases WHERE name = ?", (name,))
        return bool(rows) and rows[0][0] == owner

    def _drop_dead_holder(self, name: str, owner: str, me: ProcessId, now: datetime) -> None:
        from threadpost.processes import ProcessId, is_running

        rows = self._rows(
            "SELECT owner, host, pid, started FROM leases WHERE name = ? AND expires_at > ?",
            (name, format_utc(now)),
        )
        if not rows:
            return
        row = rows[0]
        if row["owner"] == owner or row["host"] != me.host or row["pid"] is None:
            return
        other = ProcessId(host=row["host"], pid=int(row["pid"]), started=row["started"])
        if other.pid == me.pid and other.started == me.started:
            return  # this very process (another ledger handle): alive by definition
        if not is_running(other):
            self.conn.execute("DELETE FROM leases WHERE name = ?", (name,))

    def lease_holder(
        self, name: str, now: datetime | None
    ) -> tuple[str, str | None, int | None] | None:
        """(owner, host, pid) of an unexpired lease `name` (any row when `now` is None: its
        holder's file lock says it is alive), if anyone holds it."""
        rows = self._rows(
            "SELECT owner, host, pid FROM leases WHERE name = ? AND (? IS NULL OR expires_at > ?)",
            (
                name,
                None if now is None else format_utc(now),
                None if now is None else format_utc(now),
            ),
        )
        if not rows:
            return None
        return str(rows[0]["owner"]), rows[0]["host"], rows[0]["pid"]

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back (only if still ours)."""
        self.conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    def lease_owner(self, name: str, now: datetime) -> str | None:
        """Who holds an unexpired lease `name`, if anyone."""
        rows = self._rows(
            "SELECT owner FROM leases WHERE name = ? AND expires_at > ?", (name, format_utc(now))
        )
        return str(rows[0][0]) if rows else None
