"""closing.Closing: `with` closes however the block ends; a constructor failing after it
opened something closes it. Then the importer's archive, which uses both: its zip is closed
after a `with`, and when the archive is refused while being opened."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from archive_builders import tweet_entry, tweets_js, write_zip
from threadpost.closing import Closing
from threadpost.importer.archive import Archive, ArchiveError


class Resource(Closing):
    def __init__(self, *, fail: bool = False) -> None:
        self.closed = 0
        with self.closed_on_error():
            if fail:
                raise ValueError("half-made")

    def close(self) -> None:
        self.closed += 1


def test_with_returns_the_object_and_closes_it_once_however_the_block_ends() -> None:
    with Resource() as resource:
        assert resource.closed == 0
    assert resource.closed == 1
    failing = Resource()
    with pytest.raises(KeyError), failing:
        raise KeyError("in the block")
    assert failing.closed == 1, "closed, and the block's error not swallowed"


def test_a_failing_constructor_closes_and_raises_its_error() -> None:
    closes: list[Resource] = []

    class Watched(Resource):
        def close(self) -> None:
            closes.append(self)

    with pytest.raises(ValueError, match="half-made"):
        Watched(fail=True)
    assert len(closes) == 1
    assert Resource().closed == 0, "a constructor that succeeds closes nothing"


@pytest.fixture
def zip_closes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file name of every zip closed from now on."""
    closed: list[str] = []
    real_close = zipfile.ZipFile.close

    def close(self: zipfile.ZipFile) -> None:
        if self.fp is not None:
            closed.append(Path(str(self.filename)).name)
        real_close(self)

    monkeypatch.setattr(zipfile.ZipFile, "close", close)
    return closed


def test_an_archive_closes_its_zip_after_with(tmp_path: Path, zip_closes: list[str]) -> None:
    archive = write_zip(tmp_path / "a.zip", {"data/tweets.js": tweets_js(tweet_entry("1", "hi"))})
    zip_closes.clear()  # the writing of it
    with Archive(archive) as opened:
        assert [t.id for t in opened.tweets] == ["1"]
        assert zip_closes == []
    assert zip_closes == ["a.zip"]


def test_an_archive_refused_while_opening_closes_its_zip(
    tmp_path: Path, zip_closes: list[str]
) -> None:
    archive = write_zip(tmp_path / "bad.zip", {"data/tweets.js": b"\xff not text"})
    zip_closes.clear()  # the writing of it
    try:
        Archive(archive)
    except ArchiveError as error:
        # Checked while the error's traceback still holds the half-made archive: closed by
        # the constructor, not by the zip object's garbage collection later.
        assert "not valid UTF-8" in str(error)
        assert zip_closes == ["bad.zip"]
    else:
        pytest.fail("the archive was not refused")
