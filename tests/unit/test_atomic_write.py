"""atomic_write.write_atomically, the one way a file is replaced: whole or not at all, with
the umask's modes (or 0600/0700 when private: tests/unit/test_private_files.py), and writers
in several threads never writing into each other's temporary file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from file_modes import mode, umask
from threadpost.atomic_write import write_atomically


def test_text_and_bytes_replace_the_file_and_missing_folders_are_made(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "page.html"
    write_atomically(path, "caf\u00e9")
    assert path.read_bytes() == "caf\u00e9".encode()
    write_atomically(path, b"\x00\xffraw")
    assert path.read_bytes() == b"\x00\xffraw"
    assert sorted(p.name for p in path.parent.iterdir()) == ["page.html"], "no temporary left"


@pytest.mark.parametrize("mask", [0o022, 0o077], ids=["umask-022", "umask-077"])
def test_a_shared_file_gets_the_modes_open_and_mkdir_give(tmp_path: Path, mask: int) -> None:
    path = tmp_path / "cache" / "card.json"
    with umask(mask):
        write_atomically(path, "{}")
    assert mode(path) == 0o666 & ~mask
    assert mode(path.parent) == 0o777 & ~mask


def test_private_overrides_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "state" / "session.json"
    with umask(0o000):
        write_atomically(path, "secret", private=True)
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(The private file's case: tests/unit/test_private_files.py.)"""
    path = tmp_path / "page.html"
    write_atomically(path, "old")

    def full_disk(descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", full_disk)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_a_file_in_place_of_the_folder_is_the_error_raised(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(OSError) as raised:
        write_atomically(tmp_path / "out" / "page.html", "x")
    assert isinstance(raised.value, (FileExistsError, NotADirectoryError))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_writers_in_several_threads_each_leave_a_whole_file(tmp_path: Path) -> None:
    """The link-card cache saves from a thread pool: one process, many writers. A temporary
    name made from the process id alone would let them write into one file."""
    path = tmp_path / "card.json"
    contents = [f"writer {n} " * 2000 for n in range(8)]
    start = threading.Barrier(len(contents))
    errors: list[BaseException] = []

    def write(text: str) -> None:
        start.wait()
        try:
            for _ in range(20):
                write_atomically(path, text)
        except BaseException as exc:  # collected: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(text,)) for text in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert path.read_text() in contents
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]
