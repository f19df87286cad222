"""Secret files are written whole, 0600, in a 0700 folder; every folder created on the way is
0700 too, whatever the umask."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from file_modes import mode, umask
from threadpost.atomic_write import write_atomically
from threadpost.private_files import make_private_dir


def test_creates_owner_only_file_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "state" / "session.json"
    write_atomically(path, '{"secret": 1}', private=True)
    assert path.read_text() == '{"secret": 1}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_replaces_an_existing_file_even_if_it_was_readable(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text("old")
    path.chmod(0o644)
    write_atomically(path, "new", private=True)
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.json"
    write_atomically(path, "old", private=True)

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "new", private=True)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277], ids=["umask-000", "umask-022", "umask-277"])
def test_every_folder_it_creates_is_0700_and_the_file_0600_whatever_the_umask(
    tmp_path: Path, mask: int
) -> None:
    path = tmp_path / "state" / "bluesky" / "session.json"
    with umask(mask):
        write_atomically(path, "secret", private=True)
    assert mode(path) == 0o600
    assert mode(tmp_path / "state" / "bluesky") == 0o700
    assert mode(tmp_path / "state") == 0o700, "a parent it created is private too"


def test_folders_that_already_exist_keep_their_mode(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine").chmod(0o755)
    with umask(0o000):
        make_private_dir(tmp_path / "mine" / "state")
    assert mode(tmp_path / "mine") == 0o755
    assert mode(tmp_path / "mine" / "state") == 0o700


def test_a_file_where_a_folder_should_be_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    with pytest.raises(FileExistsError):
        make_private_dir(tmp_path / "state")
    with pytest.raises(NotADirectoryError):
        make_private_dir(tmp_path / "state" / "bluesky")
