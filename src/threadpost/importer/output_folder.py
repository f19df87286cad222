"""The folder an import writes into (`--out`), written to safely.

- Containment: every name is one component from `names.safe_file_name`, and the parent
  of every path written is checked (resolved) to be the output folder or a folder this
  import created in it.
- Nothing is overwritten or written through a link: a name already taken by anything (a
  file, a folder, a link, even a dangling one) is skipped; new folders are made with
  `mkdir` and files published with `link()` (or an exclusive create), which fail rather
  than follow or replace what is there.
- Each file is complete or absent: it is written and flushed under a temporary name in its
  folder, then published in one step.
- All or nothing: `rollback()` removes everything this import created, so an import that
  fails halfway (a refused image, a full disk) leaves the folder as it found it.

The output folder itself may be a link (the user's own choice, e.g. to a synced folder):
it is resolved once, and everything is kept inside what it resolves to.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from threadpost.errors import ThreadpostError


class ImportWriteError(ThreadpostError):
    """A draft or image cannot be written."""


class OutputFolder:
    """`--out`, with everything this import created remembered for `rollback()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._made_here = not os.path.lexists(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ImportWriteError(f"{path}: not a folder") from None
        except OSError as exc:
            raise ImportWriteError(f"{path}: cannot create: {exc.strerror or exc}") from None
        self._real = path.resolve()
        self._created: list[Path] = []  # in creation order

    def taken(self, name: str) -> bool:
        """Whether anything (a dangling link included) already has `name` in the folder."""
        return os.path.lexists(self.path / name)

    def make_folder(self, name: str) -> Path | None:
        """A new, empty folder `name` in the output folder; None if the name is taken."""
        path = self._inside(self.path, name)
        try:
            path.mkdir()
        except FileExistsError:
            return None
        except OSError as exc:
            raise ImportWriteError(f"{path}: cannot create: {exc.strerror or exc}") from None
        self._created.append(path)
        return path

    def write_file(self, folder: Path, name: str, data: bytes) -> Path | None:
        """Publish `data` as the new file `folder/name`, whole; None if the name is taken.

        `folder` is the output folder or one `make_folder` returned.
        """
        if folder != self.path and folder not in self._created:
            raise ImportWriteError(f"{folder}: not a folder this import made")
        target = self._inside(folder, name)
        try:
            descriptor, temporary = tempfile.mkstemp(
                prefix=".threadpost-import-", suffix=".tmp", dir=folder
            )
        except OSError as exc:
            raise ImportWriteError(f"{target}: cannot write: {exc.strerror or exc}") from None
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            if not self._publish(Path(temporary), target):
                return None
        except OSError as exc:
            raise ImportWriteError(f"{target}: cannot write: {exc.strerror or exc}") from None
        finally:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
        self._created.append(target)
        return target

    @staticmethod
    def _publish(temporary: Path, target: Path) -> bool:
        """Give the written temporary file its name, failing (False) if the name is taken."""
        try:
            os.link(temporary, target)
            return True
        except FileExistsError:
            return False
        except OSError:
            pass  # no hard links on this file system (FAT, some network shares)
        try:
            # O_EXCL (with O_NOFOLLOW) claims the name, never following a link there;
            # the rename then replaces only the empty file just claimed.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            os.close(os.open(target, flags, 0o644))
        except FileExistsError:
            return False
        temporary.replace(target)
        return True

    def _inside(self, folder: Path, name: str) -> Path:
        """`folder/name`, refused unless it lands directly in `folder`, inside the output."""
        path = folder / name
        if name in ("", ".", "..") or "/" in name or "\\" in name or os.sep in name:
            raise ImportWriteError(f"{path}: not a plain file name; not writing it")
        real_parent = path.parent.resolve()
        if real_parent != self._real and not (
            real_parent.is_relative_to(self._real) and path.parent in self._created
        ):
            raise ImportWriteError(f"{path}: outside {self.path}; not writing it")
        return path

    def rollback(self) -> None:
        """Remove everything this import created, newest first."""
        for path in reversed(self._created):
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()
                else:
                    path.unlink()
        self._created.clear()
        if self._made_here:
            with contextlib.suppress(OSError):
                self.path.rmdir()  # only if empty: it was not there before the import
