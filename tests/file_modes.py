"""Helpers for the tests of file modes: a umask for a block, a file's permission bits."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def umask(value: int) -> Iterator[None]:
    """The process's umask is `value` inside the block (it is process-wide: tests using it
    run one at a time per worker)."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    """The permission bits of `path` (0o600, ...)."""
    return stat.S_IMODE(path.stat().st_mode)
