"""The files of an X/Twitter archive (its zip or the folder it extracts to), read safely.

An archive is untrusted input, and both forms are listed and read with the same rules:
- names stay inside the archive: no absolute name, drive letter, backslash or `..` part
  (zip slip) — one such entry refuses the whole archive;
- only regular files are read: a symbolic link (a zip entry with a link's mode, a link in
  the folder, or a folder that is a link) or a special file (a FIFO, a device) refuses the
  archive, and a folder file is opened without following links at any step, so a file
  swapped for a link after the listing is refused too;
- every read is bounded: the number of entries, each entry's decompressed size, the total
  read in one import, and the compression ratio of a zip member, checked first against
  what the zip declares and again while reading in chunks, so that a small zip cannot
  expand into gigabytes of memory.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Final

from threadpost.closing import Closing
from threadpost.errors import ThreadpostError

_MiB: Final = 1 << 20
_CHUNK: Final = 1 << 20
#: A drive ("C:"), a root ("/", "\\"), a backslash anywhere, or a control character.
_UNSAFE_NAME: Final = re.compile(r"^[A-Za-z]:|^[/\\]|\\|[\x00-\x1f\x7f]")


class ArchiveError(ThreadpostError):
    """The archive cannot be read: not an archive, a damaged zip, invalid JSON, or refused
    as unsafe (a name outside it, a link, over a size limit)."""


@dataclass(frozen=True)
class ArchiveLimits:
    """How much of an archive one import may read. Real archives are far inside these."""

    #: Entries listed (files, folders, links) in the zip or under the folder.
    max_entries: int = 200_000
    #: Decompressed bytes of any one file read (tweets.js, account.js, a photo).
    max_entry_bytes: int = 256 * _MiB
    #: Decompressed bytes read in all, over the whole import.
    max_total_bytes: int = 2048 * _MiB
    #: Decompressed : compressed size of a zip member (JSON is ~10:1, photos ~1:1)...
    max_ratio: int = 100
    #: ...judged only past this many decompressed bytes (tiny files compress oddly).
    ratio_allowance: int = 1 * _MiB


@dataclass(frozen=True)
class _Entry:
    """A regular file of the archive: where it is and how big it says it is."""

    name: str  # archive-relative, "/"-separated
    size: int  # declared (zip header) or listed (folder) size
    compressed: int | None = None  # zip: the member's compressed size; None if stored/folder


def _size(count: int) -> str:
    return (
        f"{count / _MiB:g} MiB"
        if count >= _MiB and count % (_MiB // 4) == 0
        else f"{count:,} bytes"
    )


class ArchiveFiles(Closing):
    """The regular files of one archive, by archive-relative name, read within `limits`."""

    def __init__(self, path: Path, limits: ArchiveLimits | None = None) -> None:
        self.path = path
        self.limits = limits or ArchiveLimits()
        self._zip: zipfile.ZipFile | None = None
        self._root: Path | None = None
        self._read_total = 0
        if path.is_dir():
            self._root = path.resolve()
            self._entries = self._list_folder(self._root)
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
                raise ArchiveError(
                    f"{path}: not a zip file or a folder: give the archive's .zip or the "
                    "folder it extracts to"
                ) from None
            except OSError as exc:
                raise ArchiveError(f"{path}: cannot read: {exc.strerror or exc}") from None
            with self.closed_on_error():
                self._entries = self._list_zip(self._zip)
        else:
            raise ArchiveError(f"{path}: no such file or folder")

    def close(self) -> None:
        """Close the zip (a folder needs nothing)."""
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def entries_matching(self, pattern: re.Pattern[str]) -> Iterator[tuple[str, re.Match[str]]]:
        """Each name `pattern` finds something in, with the match."""
        for name in self._entries:
            match = pattern.search(name)
            if match:
                yield name, match

    def _refuse(self, name: str, why: str) -> ArchiveError:
        return ArchiveError(
            f"{self.path}: {name}: {why}; the archive is not imported",
            hint="import the archive exactly as X made it (download it again if unsure)",
        )

    def _count(self, count: int) -> None:
        if count > self.limits.max_entries:
            raise ArchiveError(
                f"{self.path}: more than {self.limits.max_entries:,} entries (the limit for "
                "one archive); the archive is not imported"
            )

    # --- listing ----------------------------------------------------------------------

    def _list_zip(self, archive: zipfile.ZipFile) -> dict[str, _Entry]:
        infos = archive.infolist()
        self._count(len(infos))
        entries: dict[str, _Entry] = {}
        for info in infos:
            name = info.filename
            self._check_name(name)
            kind = stat.S_IFMT(info.external_attr >> 16)
            if info.is_dir() and kind in (0, stat.S_IFDIR):
                continue
            if kind == stat.S_IFLNK:
                raise self._refuse(name, "is a symbolic link (threadpost never follows links)")
            if kind not in (0, stat.S_IFREG):
                raise self._refuse(name, "is not a regular file")
            if name in entries:
                raise self._refuse(name, "appears twice in the zip")
            compressed = None if info.compress_type == zipfile.ZIP_STORED else info.compress_size
            entries[name] = _Entry(name, info.file_size, compressed)
        return entries

    def _list_folder(self, root: Path) -> dict[str, _Entry]:
        entries: dict[str, _Entry] = {}
        listed = 0
        pending = [""]
        while pending:
            relative = pending.pop()
            try:
                with os.scandir(root / relative if relative else root) as scan:
                    children = sorted(scan, key=lambda entry: entry.name)
            except OSError as exc:
                where = relative or "."
                raise ArchiveError(
                    f"{self.path}: {where}: cannot list: {exc.strerror or exc}"
                ) from None
            listed += len(children)
            self._count(listed)
            for child in children:
                name = f"{relative}/{child.name}" if relative else child.name
                if child.is_symlink():
                    raise self._refuse(name, "is a symbolic link (threadpost never follows links)")
                if child.is_dir(follow_symlinks=False):
                    pending.append(name)
                elif child.is_file(follow_symlinks=False):
                    entries[name] = _Entry(name, child.stat(follow_symlinks=False).st_size)
                else:
                    raise self._refuse(name, "is not a regular file")
        return entries

    def _check_name(self, name: str) -> None:
        """Refuse a zip entry whose name points outside the archive (zip slip)."""
        parts = PurePosixPath(name).parts
        if _UNSAFE_NAME.search(name) or ".." in parts:
            raise self._refuse(
                repr(name)[1:-1], "its name points outside the archive (absolute, or with ..)"
            )

    # --- reading ----------------------------------------------------------------------

    def check(self, names: Iterable[str]) -> None:
        """Refuse now, before anything is written, what reading `names` would refuse."""
        total = self._read_total
        for name in names:
            entry = self._entry(name)
            self._check_declared(entry)
            total += entry.size
            if total > self.limits.max_total_bytes:
                raise self._over_total(name)

    def read(self, name: str) -> bytes:
        """All of `name`'s bytes, read in chunks and never past the limits."""
        entry = self._entry(name)
        self._check_declared(entry)
        chunks: list[bytes] = []
        got = 0
        try:
            with self._open(entry) as stream:
                while chunk := stream.read(_CHUNK):
                    got += len(chunk)
                    self._check_progress(entry, got)
                    chunks.append(chunk)
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ArchiveError(f"{self.path}: {name}: cannot read: {exc}") from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
            raise ArchiveError(f"{self.path}: {name}: cannot read: {exc}") from None
        self._read_total += got
        return b"".join(chunks)

    def _entry(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise ArchiveError(f"{self.path}: {name}: not in the archive") from None

    def _check_declared(self, entry: _Entry) -> None:
        limits = self.limits
        if entry.size > limits.max_entry_bytes:
            raise self._over_entry(entry.name)
        if self._read_total + entry.size > limits.max_total_bytes:
            raise self._over_total(entry.name)
        self._check_ratio(entry, entry.size)

    def _check_progress(self, entry: _Entry, got: int) -> None:
        # The zip's header may lie, and a folder's file may grow: count what really comes.
        if got > self.limits.max_entry_bytes:
            raise self._over_entry(entry.name)
        if self._read_total + got > self.limits.max_total_bytes:
            raise self._over_total(entry.name)
        self._check_ratio(entry, got)
        if got > entry.size:
            raise ArchiveError(f"{self.path}: {entry.name}: longer than its listed size")

    def _check_ratio(self, entry: _Entry, size: int) -> None:
        limits = self.limits
        if entry.compressed is None or size <= limits.ratio_allowance:
            return
        if size > limits.max_ratio * max(entry.compressed, 1):
            ratio = size // max(entry.compressed, 1)
            raise self._refuse(
                entry.name,
                f"expands {ratio:,}:1 or more when decompressed (the limit is "
                f"{limits.max_ratio}:1)",
            )

    def _over_entry(self, name: str) -> ArchiveError:
        return self._refuse(
            name,
            f"more than {_size(self.limits.max_entry_bytes)} (the limit for one file) "
            "when decompressed",
        )

    def _over_total(self, name: str) -> ArchiveError:
        return self._refuse(
            name,
            f"reading it would take the import past {_size(self.limits.max_total_bytes)} "
            "in all (the limit for one import)",
        )

    def _open(self, entry: _Entry) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(entry.name)
        assert self._root is not None
        return os.fdopen(self._open_in_folder(self._root, entry.name), "rb")

    def _open_in_folder(self, root: Path, name: str) -> int:
        """A descriptor for `name` under `root`, opened without following any link."""
        parts = name.split("/")
        no_follow = getattr(os, "O_NOFOLLOW", 0)
        if os.open not in os.supports_dir_fd or not no_follow:
            # No openat() here (Windows): resolve and check containment instead.
            target = (root / name).resolve()
            if not target.is_relative_to(root) or (root / name).is_symlink():
                raise self._refuse(name, "is a symbolic link (threadpost never follows links)")
            return os.open(target, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        folder_flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | no_follow
        folder = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            for part in parts[:-1]:
                inner = self._open_part(part, folder_flags, folder, name)
                os.close(folder)
                folder = inner
            # O_NONBLOCK: a FIFO put there after the listing must not hang the import.
            descriptor = self._open_part(
                parts[-1], os.O_RDONLY | no_follow | getattr(os, "O_NONBLOCK", 0), folder, name
            )
        finally:
            os.close(folder)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise self._refuse(name, "is not a regular file")
        return descriptor

    def _open_part(self, part: str, flags: int, folder: int, name: str) -> int:
        try:
            return os.open(part, flags, dir_fd=folder)
        except OSError:
            try:
                is_link = stat.S_ISLNK(os.lstat(part, dir_fd=folder).st_mode)
            except OSError:
                is_link = False
            if is_link:
                raise self._refuse(
                    name, "is a symbolic link (threadpost never follows links)"
                ) from None
            raise
