"""check and aliases: an aliased name is an account; an X-style name without one is warned
about on each network, once per draft; a TODO alt text counts as missing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image as PILImage

from threadpost.check import check_draft, is_placeholder_alt
from threadpost.config import Alias, Settings


def settings_for(tmp_path: Path, **changes: object) -> Settings:
    settings = Settings(None, tmp_path / "db", tmp_path / "state", ZoneInfo("UTC"))
    return replace(settings, **changes)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_unaliased_name_warns_once_per_draft_and_platform(tmp_path: Path) -> None:
    draft = write(tmp_path, "Hi @Ann and @Bob\n---\n@Ann again\n---\n@Ann thrice\n")
    report = check_draft(draft, settings_for(tmp_path), offline=True)
    found = [(p.platform, p.post, p.message.split()[0]) for p in report.problems]
    assert found == [
        ("mastodon", 1, "@Ann"),
        ("mastodon", 1, "@Bob"),
        ("bluesky", 1, "@Ann"),
        ("bluesky", 1, "@Bob"),
    ]
    ann = [p for p in report.problems if p.message.startswith("@Ann")]
    assert all(p.message.endswith("(also in posts 2, 3)") for p in ann)
    assert "not an account there" in ann[0].message
    assert report.ok


def test_aliased_name_is_no_problem_and_half_aliased_warns_where_missing(tmp_path: Path) -> None:
    draft = write(tmp_path, "Hi @Ann and @Bob\n")
    aliases = {
        "@Ann": Alias(mastodon="@ann@example.social", bluesky="@ann.example.com"),
        "@Bob": Alias(mastodon="@bob@example.social"),
    }
    report = check_draft(draft, settings_for(tmp_path, aliases=aliases), offline=True)
    assert [(p.platform, p.code) for p in report.problems] == [("bluesky", "mention-not-handle")]
    assert report.problems[0].message.startswith("@Bob cannot be a Bluesky handle")
    assert (
        report.threads["mastodon"].posts[0].text == "Hi @ann@example.social and @bob@example.social"
    )
    assert report.threads["bluesky"].posts[0].text == "Hi @ann.example.com and @Bob"


def test_todo_alt_counts_as_missing(tmp_path: Path) -> None:
    PILImage.new("RGB", (4, 4)).save(tmp_path / "a.png")
    draft = write(tmp_path, "Look\n![TODO: describe this image](a.png)\n")
    report = check_draft(draft, settings_for(tmp_path), offline=True)
    assert {(p.severity, p.code) for p in report.problems} == {("error", "missing-alt")}
    assert "only a TODO for alt text" in report.problems[0].message
    relaxed = check_draft(draft, settings_for(tmp_path, missing_alt="warning"), offline=True)
    assert relaxed.ok
    assert {(p.severity, p.code) for p in relaxed.problems} == {("warning", "missing-alt")}
    assert is_placeholder_alt(" todo later") and not is_placeholder_alt("A todo list")
