"""Who this process is, and whether another process on this machine is still running.

A lease on a thread records its holder (host name, pid, and the process's start time), so
that a `run` on the same host can take over the lease of a holder that was killed instead
of waiting for the lease to expire. A pid alone is not enough: the kernel reuses pids, so
the start time (from /proc/<pid>/stat, where there is one) tells a new process that got the
same pid from the dead holder.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessId:
    """A process, identified across pid reuse where the system allows it."""

    host: str
    pid: int
    #: /proc/<pid>/stat field 22 (start time in clock ticks since boot); None where unknown.
    started: str | None = None


def this_process() -> ProcessId:
    """The current process."""
    pid = os.getpid()
    return ProcessId(host=socket.gethostname(), pid=pid, started=start_time(pid))


def start_time(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The start time of `pid` as the kernel states it, or None (no /proc, no such pid)."""
    fields = _stat_fields(pid, proc)
    return fields[19] if fields is not None and len(fields) > 19 else None


def _stat_fields(pid: int, proc: Path) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    try:
        text = (proc / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ")".
    _, _, rest = text.rpartition(")")
    return rest.split()


def is_running(process: ProcessId, proc: Path = Path("/proc")) -> bool:
    """True unless `process` (on this host) is surely gone: no such pid, a zombie, or a pid
    that now belongs to a process started at another time. Errs on the side of "running"."""
    if process.pid <= 0:
        return True  # not a pid we may probe (0 and negatives address process groups)
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return True
    fields = _stat_fields(process.pid, proc)
    if fields is None:
        return True  # no /proc: the signal probe is all we know
    if fields and fields[0] in ("Z", "X"):
        return False  # killed, not yet reaped by its parent
    # A different start time: the pid was reused by a newer process.
    return process.started is None or len(fields) <= 19 or fields[19] == process.started
