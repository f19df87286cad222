"""Writing a file whole or not at all: the one way threadpost replaces a file (issue 11).

Every file threadpost writes for itself (sessions, tokens, caches, the HTML preview) is
read by another process or a later run, sometimes while it is being written (`watch`
rewrites the preview a browser is loading; two `check`s share the link cache). So a file
is written under a temporary name in its own folder, flushed to disk, and renamed over the
old one: a reader sees the old file or the new one, never half of either, and a crash
leaves the old one.

Imports written by `import` are another matter (they must never replace anything):
importer/output_folder.py.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Final

from threadpost.private_files import PRIVATE_FILE_MODE, make_private_dir

#: How a file is created when it is not private: what `open()` asks, less the umask.
_SHARED_FILE_MODE: Final = 0o666
#: Temporary names are random; a clash (another writer's file) is retried this many times.
_NAME_TRIES: Final = 16


def write_atomically(path: Path, data: str | bytes, *, private: bool = False) -> None:
    """Replace `path` with `data` (text is written as UTF-8) in one step, creating its
    missing folders.

    `private`: the file is 0600 and every folder created on the way 0700, whatever the
    umask, and the data is never readable by others, not even for an instant (the
    temporary file is created 0600). Otherwise the file and folders get the modes
    `open()` and `mkdir()` give (0666 and 0777, less the umask).

    The temporary file has a random name, so writers in several threads or processes never
    write into each other's; on any failure it is removed and the error raised, with the old
    file left as it was.
    """
    if private:
        make_private_dir(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = _create_temporary(
        path, PRIVATE_FILE_MODE if private else _SHARED_FILE_MODE
    )
    try:
        if private:
            os.fchmod(descriptor, PRIVATE_FILE_MODE)  # the umask may have taken bits off
        with os.fdopen(descriptor, "wb") as file:
            file.write(data.encode("utf-8") if isinstance(data, str) else data)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _create_temporary(path: Path, mode: int) -> tuple[int, Path]:
    """A new file next to `path`, open for writing; never one that was there already."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(_NAME_TRIES):
        # os.urandom, what secrets.token_hex reads: `secrets` would bring hmac, hashlib
        # and random into every start-up (config saves logins through this module).
        temporary = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
        with contextlib.suppress(FileExistsError):
            return os.open(temporary, flags, mode), temporary
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))
