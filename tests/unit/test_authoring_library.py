"""threadpost.authoring: the library side of `check`, `preview` and `new`, without the CLI."""

from __future__ import annotations

import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from threadpost.authoring import check_drafts, create_draft, draft_file_name, preview_draft
from threadpost.config import Settings
from threadpost.errors import ThreadpostError, UsageError
from threadpost.linkcheck import ProgressSink

GOOD = '+++\nplatforms = ["mastodon", "bluesky"]\nlang = "en"\n+++\nA short post.\n'
#: Too long for Bluesky (300 graphemes), fine for Mastodon (500), once the splitter gives up
#: on a single unbreakable token.
BAD = '+++\nplatforms = ["bluesky"]\nlang = "en"\n+++\n' + "x" * 400 + "\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_drafts_keeps_the_order_and_judges_the_set(
    tmp_path: Path, settings: Settings
) -> None:
    good = write(tmp_path, "good.md", GOOD)
    bad = write(tmp_path, "bad.md", BAD)
    checks = check_drafts([bad, good], settings, offline=True)
    assert [report.draft.path for report in checks.reports] == [bad, good]
    assert [report.ok for report in checks.reports] == [False, True]
    assert checks.ok is False
    assert check_drafts([good], settings, offline=True).ok is True


def test_one_draft_is_its_own_json_object_several_are_wrapped(
    tmp_path: Path, settings: Settings
) -> None:
    good = write(tmp_path, "good.md", GOOD)
    bad = write(tmp_path, "bad.md", BAD)
    alone = check_drafts([good], settings, offline=True).to_json()
    assert alone["draft"] == str(good) and alone["ok"] is True
    assert set(alone["platforms"]) == {"mastodon", "bluesky"}
    both = check_drafts([good, bad], settings, offline=True).to_json()
    assert both["ok"] is False
    assert [entry["draft"] for entry in both["drafts"]] == [str(good), str(bad)]
    assert both["drafts"][1]["problems"][0]["severity"] == "error"


def test_platforms_narrow_the_plan(tmp_path: Path, settings: Settings) -> None:
    good = write(tmp_path, "good.md", GOOD)
    [report] = check_drafts([good], settings, ["bluesky"], offline=True).reports
    assert list(report.threads) == ["bluesky"]


def test_each_draft_gets_a_progress_sink_of_its_own(tmp_path: Path, settings: Settings) -> None:
    made: list[ProgressSink | None] = []

    def progress() -> ProgressSink | None:
        made.append(None)
        return None

    paths = [write(tmp_path, f"{i}.md", GOOD) for i in range(3)]
    check_drafts(paths, settings, offline=True, progress=progress)
    assert len(made) == 3


def test_preview_writes_the_page_only_when_asked(tmp_path: Path, settings: Settings) -> None:
    good = write(tmp_path, "good.md", GOOD)
    report = preview_draft(good, settings, offline=True)
    assert report.ok and list(tmp_path.iterdir()) == [good]
    page = tmp_path / "out" / "page.html"
    preview_draft(good, settings, offline=True, html=page)
    html = page.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "A short post." in html
    assert sorted(p.name for p in page.parent.iterdir()) == ["page.html"]  # no temp file left


def test_a_page_that_cannot_be_written_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    good = write(tmp_path, "good.md", GOOD)
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(ThreadpostError, match=r"page\.html: cannot write"):
        preview_draft(good, settings, offline=True, html=tmp_path / "taken" / "page.html")


def test_create_draft_fills_the_template_and_never_overwrites(tmp_path: Path) -> None:
    path = create_draft('Trains "de nuit"', tmp_path / "drafts")
    assert path == tmp_path / "drafts" / "Trains-de-nuit.md"
    front_matter = path.read_text(encoding="utf-8").split("+++")[1]
    assert tomllib.loads(front_matter)["title"] == 'Trains "de nuit"'
    path.write_text("edited", encoding="utf-8")
    with pytest.raises(ThreadpostError, match="already exists"):
        create_draft("Trains de nuit", tmp_path / "drafts")
    assert path.read_text(encoding="utf-8") == "edited"


@pytest.mark.parametrize(
    ("name", "file"),
    [("notes.md", "notes.md"), (" a/b ", "a-b.md"), ("x" * 100, "x" * 80 + ".md")],
)
def test_draft_file_name(name: str, file: str) -> None:
    assert draft_file_name(name) == file


def test_a_name_without_a_usable_character_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not usable as a draft name"):
        draft_file_name("../")
