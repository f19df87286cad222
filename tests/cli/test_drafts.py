"""`threadpost drafts`: each draft of the folder with its ledger state and post counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli_support import run_cli
from threadpost.check import plan_draft
from threadpost.config import load_settings
from threadpost.draft import read_draft
from threadpost.store import open_ledger
from threadpost.values import PostRef

LONG = " ".join(["A sentence that takes some room in a post."] * 9)


@pytest.fixture
def folder(isolated_env: Path) -> Path:
    drafts = isolated_env / "drafts"
    drafts.mkdir()
    (drafts / "a-new.md").write_text("Never queued.\n", encoding="utf-8")
    (drafts / "b-scheduled.md").write_text(f"{LONG}\n", encoding="utf-8")
    (drafts / "c-published.md").write_text('+++\ntitle = "Out"\n+++\nOne.\n\n---\n\nTwo.\n')
    (drafts / "d-failed.md").write_text("Refused.\n", encoding="utf-8")
    (drafts / "e-broken.md").write_text('+++\ntitle = "no end\n+++\nx\n', encoding="utf-8")
    (drafts / "notes.txt").write_text("not a draft\n", encoding="utf-8")
    (drafts / "sub").mkdir()
    (drafts / "sub" / "nested.md").write_text("Elsewhere.\n", encoding="utf-8")
    return drafts


def record(drafts: Path, name: str, state: str, **extra: object) -> str:
    settings = load_settings(None, None)
    draft = read_draft(drafts / name)
    now = datetime.now(UTC)
    with open_ledger(settings.db_path) as ledger:
        thread_id = ledger.create_thread(
            draft_path=str((drafts / name).resolve()),
            content_hash=draft.content_hash,
            title=draft.front.title,
            plans=plan_draft(draft, settings, offline=True),
            schedule_at=extra.get("schedule_at"),  # type: ignore[arg-type]
            state="scheduled",
            now=now,
        )
        for platform, url in dict(extra.get("urls", {})).items():  # type: ignore[call-overload]
            ledger.confirm_posts(thread_id, [PostRef(platform, 1, f"id-{platform}", url)], now)
        if state != "scheduled":
            ledger.set_thread_state(thread_id, state, now, error=extra.get("error"))  # type: ignore[arg-type]
    return thread_id


def test_every_state_and_count(folder: Path) -> None:
    when = datetime(2030, 5, 1, 7, 30, tzinfo=UTC)
    scheduled = record(folder, "b-scheduled.md", "scheduled", schedule_at=when)
    record(
        folder,
        "c-published.md",
        "published",
        urls={
            "mastodon": "https://masto.test/@me/1",
            "bluesky": "https://bsky.app/profile/me/post/1",
        },
    )
    record(folder, "d-failed.md", "failed", error="bluesky: the PDS refused the post")
    result = run_cli("drafts", str(folder), "--json")
    assert result.exit_code == 0, result.stderr
    listed = {Path(d["path"]).name: d for d in json.loads(result.stdout)["drafts"]}
    assert list(listed) == [
        "a-new.md",
        "b-scheduled.md",
        "c-published.md",
        "d-failed.md",
        "e-broken.md",
    ]
    assert listed["a-new.md"]["state"] == "new"
    assert listed["a-new.md"]["posts"] == {"mastodon": 1, "bluesky": 1}
    assert listed["b-scheduled.md"]["state"] == "scheduled"
    assert listed["b-scheduled.md"]["thread"] == scheduled
    assert listed["b-scheduled.md"]["schedule_utc"] == when.isoformat()
    assert listed["b-scheduled.md"]["posts"] == {"mastodon": 1, "bluesky": 2}
    assert listed["c-published.md"]["state"] == "published"
    assert listed["c-published.md"]["title"] == "Out"
    assert listed["c-published.md"]["urls"] == {
        "mastodon": "https://masto.test/@me/1",
        "bluesky": "https://bsky.app/profile/me/post/1",
    }
    assert listed["d-failed.md"]["state"] == "failed"
    assert listed["d-failed.md"]["error"] == "bluesky: the PDS refused the post"
    assert listed["e-broken.md"]["state"] == "new"
    assert listed["e-broken.md"]["posts"] == {}
    assert "e-broken.md:2: invalid TOML" in listed["e-broken.md"]["error"]

    text = run_cli("drafts", str(folder))
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "a-new.md  new  mastodon 1 post, bluesky 1 post"
    # The schedule in the configured timezone (Europe/Paris in isolated_env).
    assert lines[1] == (
        "b-scheduled.md  scheduled for 2030-05-01 09:30 CEST  mastodon 1 post, bluesky 2 posts"
    )
    assert lines[2].startswith("c-published.md  published https://masto.test/@me/1 ")
    assert lines[3] == "d-failed.md  failed  mastodon 1 post, bluesky 1 post"
    assert lines[4] == "    bluesky: the PDS refused the post"


def test_an_edited_draft_is_marked(folder: Path) -> None:
    record(folder, "b-scheduled.md", "scheduled", schedule_at=datetime.now(UTC) + timedelta(days=1))
    (folder / "b-scheduled.md").write_text("Changed since.\n", encoding="utf-8")
    listed = json.loads(run_cli("drafts", str(folder), "--json").stdout)["drafts"]
    assert [d["edited_since"] for d in listed] == [False, True, False, False, False]


def test_no_ledger_yet_means_all_new_and_none_is_created(folder: Path, isolated_env: Path) -> None:
    result = run_cli("drafts", str(folder), "--json")
    assert result.exit_code == 0, result.stderr
    assert {d["state"] for d in json.loads(result.stdout)["drafts"]} == {"new"}
    assert not (isolated_env / "threadpost.db").exists()


def test_the_default_folder_and_a_missing_one(
    folder: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(isolated_env)
    assert run_cli("drafts").stdout.startswith("a-new.md  new")
    missing = run_cli("drafts", str(isolated_env / "nowhere"))
    assert missing.exit_code == 2
    assert missing.stderr.startswith(f"Error: {isolated_env / 'nowhere'}: no such folder")
    (isolated_env / "empty").mkdir()
    assert (
        run_cli("drafts", str(isolated_env / "empty")).stdout
        == f"No drafts in {isolated_env / 'empty'}.\n"
    )
