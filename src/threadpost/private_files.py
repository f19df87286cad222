"""Files and folders that are nobody else's business (sessions, tokens, caches, the ledger's
folder): files 0600 written whole, folders 0700, whatever the umask."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Final

PRIVATE_FOLDER_MODE: Final = 0o700
PRIVATE_FILE_MODE: Final = 0o600


def make_private_dir(path: Path) -> None:
    """Create the folder `path` and each missing parent with mode 0700.

    `mkdir(mode=0o700, parents=True)` would give the parents the umask's mode (0755, or 0777
    under umask 000), and the umask can also take bits from the folder itself, hence the
    chmod. Folders that already exist are left as they are (the user chose them). As the XDG
    base directory spec asks of a missing destination folder.
    """
    missing: list[Path] = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # another process made it meanwhile: theirs to set
        folder.chmod(PRIVATE_FOLDER_MODE)
    if not path.is_dir():
        raise FileExistsError(errno.EEXIST, "a file stands where a folder should be", str(path))


def write_private_file(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, mode 0600, in a folder created 0700.

    The temporary file is created 0600 (mkstemp), so the secret is never readable by
    others, not even for an instant; `replace` makes the switch atomic for readers, and
    fsync makes it survive a crash.
    """
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # mkstemp's 0600 is also subject to the umask
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
