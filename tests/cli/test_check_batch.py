"""`check` over several drafts and its `--json` contract (issue 12, "Feedback"): one shape
for one draft or many, JSON even on errors (the error inside the object), one bad draft
never stopping the batch, each summary naming its draft; `preview` exits 3 on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from cli_support import run_cli

CLEAN = '+++\nplatforms = ["mastodon", "bluesky"]\n+++\nHello there.\n---\nSecond post.\n'
BROKEN = "+++\nlang = fr\n+++\nHello\n"


@pytest.fixture
def folder(isolated_env: Path) -> Path:
    (isolated_env / "clean.md").write_text(CLEAN)
    (isolated_env / "broken.md").write_text(BROKEN)
    (isolated_env / "long.md").write_text("+++\nnumbering = false\n+++\n" + "word " * 200)
    return isolated_env


def test_one_bad_draft_does_not_stop_the_batch(folder: Path) -> None:
    names = ["broken.md", "clean.md", "absent.md", "long.md"]
    result = run_cli("check", "--offline", *(str(folder / n) for n in names))
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    # Every draft is reported, in the order given, each line naming its draft.
    assert any(line.startswith(f"{folder / 'broken.md'}:2: ") for line in lines), result.stdout
    summary = f"{folder / 'clean.md'}: mastodon: 2 posts · bluesky: 2 posts · 0 errors"
    assert summary in result.stdout
    assert f"{folder / 'absent.md'}: no such file (not checked)" in result.stdout
    assert f"{folder / 'long.md'}: mastodon:" in result.stdout
    order = [result.stdout.index(str(folder / n)) for n in names]
    assert order == sorted(order)
    assert "errors in" in result.stderr


def test_json_has_one_shape_for_one_draft_or_many(folder: Path) -> None:
    one = json.loads(run_cli("check", "--offline", "--json", str(folder / "clean.md")).stdout)
    many = json.loads(
        run_cli(
            "check", "--offline", "--json", str(folder / "clean.md"), str(folder / "long.md")
        ).stdout
    )
    for data in (one, many):
        assert set(data) >= {"ok", "drafts"}
        assert all({"draft", "ok", "platforms", "problems"} <= set(d) for d in data["drafts"])
    assert [d["draft"] for d in one["drafts"]] == [str(folder / "clean.md")]
    # DESIGN.md's single-draft object is kept at the top level.
    assert one["draft"] == str(folder / "clean.md") and one["ok"] is True
    assert one["platforms"] == one["drafts"][0]["platforms"]
    assert [d["draft"] for d in many["drafts"]] == [
        str(folder / "clean.md"),
        str(folder / "long.md"),
    ]


def test_json_on_errors_holds_the_error(folder: Path) -> None:
    result = run_cli(
        "check", "--offline", "--json", str(folder / "broken.md"), str(folder / "clean.md")
    )
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["ok"] is False
    broken, clean = data["drafts"]
    assert broken["ok"] is False and broken["draft"] == str(folder / "broken.md")
    assert "broken.md:2" in broken["error"]["message"]
    assert broken["problems"][0]["code"] == "unreadable-draft"
    assert clean["ok"] is True and clean["platforms"]

    # One unreadable draft alone: still a JSON object on stdout, the error inside.
    alone = run_cli("check", "--offline", "--json", str(folder / "absent.md"))
    assert alone.exit_code == 3
    data = json.loads(alone.stdout)
    assert data["ok"] is False and data["draft"] == str(folder / "absent.md")
    assert "no such file" in data["error"]["message"]

    # An error before any draft (a bad option): JSON too, with no drafts.
    bad = run_cli("check", "--offline", "--json", "-p", "myspace", str(folder / "clean.md"))
    assert bad.exit_code == 2
    data = json.loads(bad.stdout)
    assert data["ok"] is False and data["drafts"] == []
    assert "unknown platform" in data["error"]["message"]


def test_preview_exits_3_when_the_draft_has_errors(folder: Path) -> None:
    Image.new("RGB", (30, 20), (220, 0, 0)).save(folder / "red.png")
    (folder / "noalt.md").write_text(CLEAN + "![](red.png)\n")
    text = run_cli("preview", "--offline", str(folder / "noalt.md"))
    assert text.exit_code == 3
    assert "alt text" in text.stdout
    as_json = run_cli("preview", "--offline", "--json", str(folder / "noalt.md"))
    assert as_json.exit_code == 3
    assert json.loads(as_json.stdout)["ok"] is False
    clean = run_cli("preview", "--offline", str(folder / "clean.md"))
    assert clean.exit_code == 0, clean.stderr
    unreadable = run_cli("preview", "--offline", "--json", str(folder / "broken.md"))
    assert unreadable.exit_code == 3
    assert "broken.md:2" in json.loads(unreadable.stdout)["error"]["message"]
