"""Files that hold secrets (sessions, tokens): written whole, readable by the owner only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private_file(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, mode 0600, in a folder created 0700.

    The temporary file is created 0600 (mkstemp), so the secret is never readable by
    others, not even for an instant; `replace` makes the switch atomic for readers, and
    fsync makes it survive a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
