"""The lease on one thread: whoever holds it is the only process that may publish, cancel or
delete the thread.

Two signals, taken in this order:

1. an OS file lock (`fcntl.flock`) on a per-thread file beside the ledger. The kernel drops
   it the moment its holder dies, and never while it lives, so a crashed holder is detected
   at once and a live one is never taken over however long it takes (a long rate-limit
   wait, a slow network);
2. the lease row in the ledger (one `BEGIN IMMEDIATE` transaction), which says who holds the
   thread (host, pid) for the "busy" messages and guards holders that cannot be seen through
   the lock file (an older threadpost, another host): those are waited out until the row
   expires, or taken over when their process on this host is gone. The row is renewed as
   posts are confirmed, once half its term has passed (`Lease.renew`).

`thread_lease` is the one way to hold a lease: `publish`, `run`, `cancel` and `delete` all
use it, and it releases both signals on exit, exceptions included.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from threadpost.clock import Clock, utc_now
from threadpost.errors import StoreError
from threadpost.processes import this_process

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.store import Ledger

#: Opening a lock file that a releasing holder unlinks at that very moment is retried.
_OPEN_RACE_RETRIES: Final = 20


class ThreadBusy(StoreError):
    """Another live process holds the thread's lease."""

    def __init__(self, thread_id: str, holder: str | None, doing: str) -> None:
        self.thread_id = thread_id
        #: "process 123 on this machine", "process 123 on host-b", or None when unknown.
        self.holder = holder
        super().__init__(
            f"thread {thread_id} is being published by another threadpost process"
            + (f" ({holder})" if holder else "")
            + f"; cannot {doing} it now",
            hint="try again once that run has finished",
        )

    @property
    def busy_line(self) -> str:
        """The short form `run` prints: "another run is publishing it (process 123 …)"."""
        return "another run is publishing it" + (f" ({self.holder})" if self.holder else "")


class Lease:
    """A held lease on one thread (made by `thread_lease`)."""

    def __init__(
        self, ledger: Ledger, thread_id: str, owner: str, ttl: timedelta, clock: Clock
    ) -> None:
        self.ledger = ledger
        self.thread_id = thread_id
        self.owner = owner
        self.ttl = ttl
        self.clock = clock
        #: When `renew` next writes the row: half the term after the last claim.
        self._renew_from: datetime | None = None

    def claim(self) -> bool:
        """Take or renew the ledger row; False if another holder keeps it."""
        now = self.clock()
        claimed = self.ledger.claim_lease(
            lease_name(self.thread_id),
            self.owner,
            until=now + self.ttl,
            now=now,
            holder=this_process(),
        )
        if claimed:
            self._renew_from = now + self.ttl / 2
        return claimed

    def through(self, ledger: Ledger) -> Lease:
        """The same lease, renewed through another connection to its ledger (a worker
        thread's own: a SQLite connection belongs to the thread that opened it)."""
        lease = Lease(ledger, self.thread_id, self.owner, self.ttl, self.clock)
        lease._renew_from = self._renew_from  # the same row, as last claimed
        return lease

    def renew(self) -> None:
        """Push the row's expiry forward (called on every confirmed post) once half its term
        has passed since the last claim. Before that the row is left as it is: nobody may
        take an unexpired row from a live holder, and a ledger commit (an fsync) per post
        would only slow the thread down. Losing the row while holding the file lock means a
        holder we cannot see took it: stop sending."""
        if self._renew_from is not None and self.clock() < self._renew_from:
            return
        if not self.claim():
            raise StoreError(
                f"the lease on thread {self.thread_id} was taken by another process; "
                "stopped sending",
                hint="threadpost status shows where it stands; threadpost run resumes it",
            )


@contextlib.contextmanager
def thread_lease(
    ledger: Ledger,
    thread_id: str,
    *,
    ttl: timedelta,
    doing: str = "publish",
    clock: Clock = utc_now,
    owner: str | None = None,
) -> Iterator[Lease]:
    """Hold the lease on `thread_id` for the block; raise `ThreadBusy` (nothing changed)
    while another live process holds it. `doing` names the refused action in the message.

    Whoever holds a lease is about to change the thread or send it: a ledger that fails its
    integrity check (`Ledger.ensure_sound`, once per connection) is refused first."""
    ledger.ensure_sound()
    lock = _lock_file(ledger.path, thread_id)
    fd = _acquire(lock)
    if fd is None:
        # A live holder of the file lock: its row names it, expired or not.
        raise ThreadBusy(thread_id, holder_text(ledger, thread_id, None), doing)
    lease = Lease(ledger, thread_id, owner or lease_owner_id(), ttl, clock)
    try:
        if not lease.claim():
            raise ThreadBusy(thread_id, holder_text(ledger, thread_id, clock()), doing)
        try:
            yield lease
        finally:
            ledger.release_lease(lease_name(thread_id), lease.owner)
    finally:
        _release(lock, fd)


def lease_duration(settings: Settings) -> timedelta:
    """How long the ledger row stands for holders the lock file cannot vouch for: a whole
    publication, rate-limit waits included (renewed on every confirmed post)."""
    return settings.max_rate_limit_wait + timedelta(minutes=10)


def lease_name(thread_id: str) -> str:
    """The ledger row that guards publishing one thread."""
    return f"thread:{thread_id}"


def lease_owner_id() -> str:
    """A holder's name on leases: host, pid and a random tag."""
    # os.urandom, not uuid: importing uuid (and with it platform) is ~4 ms of a publish.
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def holder_text(ledger: Ledger, thread_id: str, now: datetime | None) -> str | None:
    """Who holds a thread's lease ("process 123 on this machine"), None if unknown; `now`
    None reads the row even when it has expired."""
    holder = ledger.lease_holder(lease_name(thread_id), now)
    if holder is None or holder[2] is None:
        return None
    _, host, pid = holder
    where = "on this machine" if host == socket.gethostname() else f"on {host}"
    return f"process {pid} {where}"


# -- the lock file ---------------------------------------------------------------------------


def _lock_file(ledger_path: Path, thread_id: str) -> Path:
    """`<ledger>.locks/<thread id>.lock`: beside the ledger, so every process that opens
    the same ledger file sees the same locks."""
    return ledger_path.with_name(ledger_path.name + ".locks") / f"{thread_id}.lock"


def _acquire(lock: Path) -> int | None:
    """The descriptor holding an exclusive lock on `lock`, or None if another holds it."""
    try:
        lock.parent.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the lock folder {lock.parent}: {exc.strerror}") from None
    for _ in range(_OPEN_RACE_RETRIES):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the lock file {lock}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise StoreError(f"cannot lock {lock}: {exc.strerror}") from None
        # A releasing holder unlinks the file while it still holds the lock: if we opened
        # that file just before, our lock is on a name nobody else will open. Start again.
        try:
            current = lock.stat()
        except FileNotFoundError:
            os.close(fd)
            continue
        mine = os.fstat(fd)
        if (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
            return fd
        os.close(fd)
    raise StoreError(f"could not lock {lock}: it keeps being replaced")  # pragma: no cover


def _release(lock: Path, fd: int) -> None:
    # Unlinked while still locked, so that no other process can lock this file afterwards
    # (see `_acquire`); the lock folder stays as small as the number of live holders.
    with contextlib.suppress(OSError):
        lock.unlink()
    os.close(fd)
