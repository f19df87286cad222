"""`threadpost import archive|text` end to end, then `check --offline` on what it wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from archive_builders import (
    account_js,
    tweet_entry,
    tweets_js,
    two_tweet_thread,
    write_bomb_zip,
    write_zip,
)
from cli_support import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
THREAD_A = "2018-10-10-why-night-trains-came-back-a.md"  # has a photo without alt text
THREAD_B = "2019-03-01-pourquoi-les-villes-achetent-des-cameras.md"


def test_help_for_every_import_command(isolated_env: Path) -> None:
    for args in (["import"], ["import", "archive"], ["import", "text"]):
        result = run_cli(*args, "--help")
        assert result.exit_code == 0, result.stderr
        assert "Usage:" in result.stdout
    assert "--min-posts" in run_cli("import", "archive", "--help").stdout
    assert "--blocks" in run_cli("import", "text", "--help").stdout


def test_archive_zip_to_drafts_that_pass_check(isolated_env: Path) -> None:
    source = isolated_env / "src" / "twitter-archive"
    shutil.copytree(DATA / "archive", source)
    archive = shutil.make_archive(str(isolated_env / "archive"), "zip", source)
    out = isolated_env / "drafts"
    result = run_cli("import", "archive", archive, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Read 10 tweets" in result.stdout
    assert f"Wrote {out / THREAD_A} (3 posts, 2 images (1 without alt text: TODO))" in result.stdout
    assert f"Wrote {out / THREAD_B} (3 posts)" in result.stdout
    assert "starts as a reply to @other_person" in result.stdout
    assert "2 single tweets (--min-posts 2)" in result.stdout
    assert "is a video, which threadpost cannot attach" in result.stdout
    # The offline check ran on each: the TODO alt text is an error (missing_alt = "error").
    assert f"{out / THREAD_A}: mastodon 3 posts, bluesky 3 posts; 2 errors" in result.stdout
    assert f"{out / THREAD_B}: mastodon 3 posts, bluesky 3 posts; 0 errors, 0 warnings" in (
        result.stdout
    )

    clean = run_cli("check", "--offline", str(out / THREAD_B))
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    flagged = run_cli("check", "--offline", "--json", str(out / THREAD_A))
    assert flagged.exit_code == 3
    problems = json.loads(flagged.stdout)["problems"]
    errors = {(p["platform"], p["code"]) for p in problems if p["severity"] == "error"}
    assert errors == {("mastodon", "missing-alt"), ("bluesky", "missing-alt")}
    warnings = {(p["platform"], p["code"]) for p in problems if p["severity"] == "warning"}
    assert warnings == {("mastodon", "mention-not-handle"), ("bluesky", "mention-not-handle")}

    # With missing alt text a warning and an alias for @SomeName, every draft passes clean
    # of errors, and the mention warnings are gone.
    (isolated_env / "config.toml").write_text(
        '[general]\nmissing_alt = "warning"\n[aliases]\n"@SomeName" = '
        '{ mastodon = "@some@example.social", bluesky = "@some.example.com" }\n'
    )
    relaxed = run_cli("check", "--offline", "--json", str(out / THREAD_A))
    assert relaxed.exit_code == 0, relaxed.stdout
    report = json.loads(relaxed.stdout)
    assert {p["code"] for p in report["problems"]} == {"missing-alt"}
    third = report["platforms"]["bluesky"]["posts"][2]
    assert third["text"].startswith("Thanks to @some.example.com for the figures <3")
    [mention] = [f for f in third["facets"] if f["type"] == "mention"]
    assert third["text"].encode()[mention["byteStart"] : mention["byteEnd"]] == b"@some.example.com"


def test_archive_filters_and_errors(isolated_env: Path) -> None:
    out = isolated_env / "drafts"
    archive = str(DATA / "archive")
    result = run_cli("import", "archive", archive, "--out", str(out), "--since", "2019-01-01")
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in out.glob("*.md")] == [THREAD_B]
    assert "1 threads before 2019-01-01" in result.stdout

    single = run_cli("import", "archive", archive, "-o", str(out), "--thread", "4001")
    assert single.exit_code == 0, single.stderr
    assert "2019-07-01-just-one-tweet-on-its-own.md (1 post)" in single.stdout

    bad_date = run_cli("import", "archive", archive, "--since", "March")
    assert bad_date.exit_code == 2
    assert "Error: --since 'March' is not a date" in bad_date.stderr
    missing = run_cli("import", "archive", str(isolated_env / "nope.zip"))
    assert missing.exit_code == 1
    assert "nope.zip: no such file or folder" in missing.stderr


def test_unrolled_text_to_drafts(isolated_env: Path) -> None:
    out = isolated_env / "drafts"
    result = run_cli("import", "text", str(DATA / "unrolled.txt"), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Dropped 13 boilerplate lines:" in result.stdout
    assert "unrolled.txt:9: Missing some Tweet in this thread? You can try to force a refresh" in (
        result.stdout
    )
    assert (
        "Wrote" in result.stdout and "(3 posts)" in result.stdout and "(2 posts)" in result.stdout
    )
    assert "Check (offline):" in result.stdout
    drafts = sorted(out.glob("*.md"))
    assert len(drafts) == 2
    checked = run_cli("check", "--offline", *map(str, drafts))
    assert checked.exit_code == 0, checked.stdout


def test_long_unrolled_posts_are_split_by_the_planner(isolated_env: Path) -> None:
    source = isolated_env / "long.txt"
    words = " ".join(f"word{n}" for n in range(80))  # ~530 characters: too long for both
    source.write_text(f"{words}\nShort closing post.\n")
    out = isolated_env / "drafts"
    result = run_cli("import", "text", str(source), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    [draft] = out.glob("*.md")
    preview = run_cli("preview", "--offline", "--json", str(draft))
    platforms = json.loads(preview.stdout)["platforms"]
    assert len(platforms["mastodon"]["posts"]) == 3
    assert len(platforms["bluesky"]["posts"]) == 3
    assert f"{draft}: mastodon 3 posts, bluesky 3 posts; 0 errors" in result.stdout


# --- hostile archives (issues 17, 18): a clear error, exit 1, nothing written ------------


def test_hostile_archives_are_refused_by_name_and_write_nothing(isolated_env: Path) -> None:
    elsewhere = isolated_env / "elsewhere"
    elsewhere.mkdir()
    bomb = write_bomb_zip(
        isolated_env / "bomb.zip",
        "data/tweets.js",
        16 << 20,
        prefix=b"window.YTD.tweets.part0 = [",
    )
    slip = write_zip(
        isolated_env / "slip.zip", {"data/tweets.js": two_tweet_thread(), "../evil.md": b"x"}
    )
    climb = write_zip(
        isolated_env / "climb.zip",
        {
            "data/tweets.js": tweets_js(
                tweet_entry(f"/../../../..{elsewhere}/x-pwned", "日本語"),
                tweet_entry("2", "again", reply_to=f"/../../../..{elsewhere}/x-pwned"),
            )
        },
    )
    folder = isolated_env / "folder"
    shutil.copytree(DATA / "archive", folder)
    photo = folder / "data" / "tweets_media" / "1002-MapB.jpg"
    photo.unlink()
    photo.symlink_to(isolated_env / "config.toml")
    cases = {
        bomb: "bomb.zip: data/tweets.js: expands 1,",  # ...:1 or more (the limit is 100:1)
        slip: "slip.zip: ../evil.md: its name points outside the archive",
        climb: "climb.zip: data/tweets.js: entry 1: id_str",
        folder: "folder: data/tweets_media/1002-MapB.jpg: is a symbolic link",
    }
    out = isolated_env / "drafts"
    for archive, message in cases.items():
        result = run_cli("import", "archive", str(archive), "--out", str(out))
        assert result.exit_code == 1, (archive, result.stdout, result.stderr)
        assert f"Error: {archive.parent}/{message}" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert not out.exists()
    assert list(elsewhere.iterdir()) == []


def test_a_hostile_username_stays_a_comment(isolated_env: Path) -> None:
    archive = write_zip(
        isolated_env / "a.zip",
        {
            "data/tweets.js": two_tweet_thread(),
            "data/account.js": account_js(
                'x"\nschedule = 2030-01-01T00:00:00Z\nplatforms = ["x"] #'
            ),
        },
    )
    out = isolated_env / "drafts"
    result = run_cli("import", "archive", str(archive), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    [draft] = out.glob("*.md")
    checked = run_cli("check", "--offline", "--json", str(draft))
    assert checked.exit_code == 0, checked.stdout
    assert set(json.loads(checked.stdout)["platforms"]) == {"mastodon", "bluesky"}
    front = draft.read_text().split("+++\n")[1]
    assert [line.split(" ")[0] for line in front.splitlines()] == ["#", "#", "title", "lang"]
