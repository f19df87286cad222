"""Secret files are written whole, 0600, in a 0700 folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from threadpost.private_files import write_private_file


def test_creates_owner_only_file_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "state" / "session.json"
    write_private_file(path, '{"secret": 1}')
    assert path.read_text() == '{"secret": 1}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_replaces_an_existing_file_even_if_it_was_readable(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text("old")
    path.chmod(0o644)
    write_private_file(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.json"
    write_private_file(path, "old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_private_file(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]
