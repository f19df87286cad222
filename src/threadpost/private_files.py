"""Files and folders that are nobody else's business (sessions, tokens, caches, the ledger's
folder): files 0600, folders 0700, whatever the umask. Such files are written with
`atomic_write.write_atomically(path, text, private=True)`."""

from __future__ import annotations

import errno
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
