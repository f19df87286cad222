"""`check`, `preview` and `new` end to end: in-process through run_cli, and as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from cli_support import run_cli
from linkserver import LinkServer, closed_port, serve

CLEAN = """+++
title = "A clean thread"
platforms = ["mastodon", "bluesky"]
lang = "en"
+++
First post about #threadpost with a link https://example.com/page

---

Second post, thanks @alice.example.com!
![A red square on white](red.png)
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def drafts(isolated_env: Path) -> Path:
    Image.new("RGB", (30, 20), (220, 0, 0)).save(isolated_env / "red.png")
    write(isolated_env, "clean.md", CLEAN)
    write(isolated_env, "noalt.md", CLEAN.replace("A red square on white", ""))
    return isolated_env


# --- check ---------------------------------------------------------------------------


def test_check_clean_draft_exits_0(drafts: Path) -> None:
    result = run_cli("check", "--offline", str(drafts / "clean.md"))
    assert result.exit_code == 0, result.stderr
    assert "mastodon: 2 posts · bluesky: 2 posts · 0 errors · 0 warnings" in result.stdout


def test_check_with_errors_exits_3_and_lists_them(drafts: Path) -> None:
    result = run_cli("check", "--offline", str(drafts / "noalt.md"))
    assert result.exit_code == 3
    path = drafts / "noalt.md"
    assert f"{path}:11 mastodon post 2: error: image red.png has no alt text" in result.stdout
    assert f"{path}:11 bluesky post 2: error:" in result.stdout
    assert f"Error: 2 errors in {path}" in result.stderr


def test_missing_alt_as_warning_by_configuration(drafts: Path) -> None:
    (drafts / "config.toml").write_text('[general]\nmissing_alt = "warning"\n')
    result = run_cli("check", "--offline", str(drafts / "noalt.md"))
    assert result.exit_code == 0
    assert "0 errors · 2 warnings" in result.stdout


def test_check_json_has_the_documented_shape(drafts: Path) -> None:
    result = run_cli("check", "--offline", "--json", str(drafts / "noalt.md"))
    assert result.exit_code == 3
    data = json.loads(result.stdout)  # exactly one object, nothing else on stdout
    assert data["draft"] == str(drafts / "noalt.md")
    assert data["ok"] is False
    assert list(data["platforms"]) == ["mastodon", "bluesky"]
    bluesky = data["platforms"]["bluesky"]
    assert bluesky["limit"] == 300
    assert data["platforms"]["mastodon"]["limit"] == 500
    first, second = bluesky["posts"]
    assert first["index"] == 1
    assert first["text"].endswith(" 1/2")
    assert first["length"] == len(first["text"])
    assert first["bytes"] == len(first["text"].encode())
    facets = {facet["type"]: facet for facet in first["facets"]}
    tag = facets["tag"]
    assert tag["tag"] == "threadpost"
    encoded = first["text"].encode()
    assert encoded[tag["byteStart"] : tag["byteEnd"]] == b"#threadpost"
    link = facets["link"]
    assert link["uri"] == "https://example.com/page"
    assert encoded[link["byteStart"] : link["byteEnd"]] == b"https://example.com/page"
    mention = next(f for f in second["facets"] if f["type"] == "mention")
    assert mention["handle"] == "alice.example.com"
    assert second["images"] == [{"path": str(drafts / "red.png"), "alt": ""}]
    assert {(p["severity"], p["platform"], p["post"], p["code"]) for p in data["problems"]} == {
        ("error", "mastodon", 2, "missing-alt"),
        ("error", "bluesky", 2, "missing-alt"),
    }
    for problem in data["problems"]:
        assert {"severity", "platform", "post", "code", "message"} <= set(problem)


def test_check_several_drafts(drafts: Path) -> None:
    result = run_cli(
        "check", "--offline", "--json", str(drafts / "clean.md"), str(drafts / "noalt.md")
    )
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [d["draft"] for d in data["drafts"]] == [
        str(drafts / "clean.md"),
        str(drafts / "noalt.md"),
    ]
    assert [d["ok"] for d in data["drafts"]] == [True, False]


def test_check_one_platform(drafts: Path) -> None:
    result = run_cli("check", "--offline", "--json", "-p", "bluesky", str(drafts / "clean.md"))
    assert result.exit_code == 0
    assert list(json.loads(result.stdout)["platforms"]) == ["bluesky"]


def test_unknown_platform_is_a_usage_error(drafts: Path) -> None:
    result = run_cli("check", "--offline", "--platform", "myspace", str(drafts / "clean.md"))
    assert result.exit_code == 2
    assert "unknown platform 'myspace'" in result.stderr


def test_nonexistent_draft(drafts: Path) -> None:
    result = run_cli("check", "--offline", str(drafts / "nope.md"))
    assert result.exit_code == 3
    assert f"Error: {drafts / 'nope.md'}: no such file" in result.stderr


def test_invalid_front_matter_names_file_and_line(drafts: Path) -> None:
    bad = write(drafts, "bad.md", '+++\ntitle = "x"\nlang = fr\n+++\nHello\n')
    result = run_cli("check", "--offline", str(bad))
    assert result.exit_code == 3
    assert f"Error: {bad}:3: invalid TOML front matter" in result.stderr


def test_invalid_config_names_the_file(drafts: Path) -> None:
    (drafts / "config.toml").write_text("[general\n")
    result = run_cli("check", "--offline", str(drafts / "clean.md"))
    assert result.exit_code == 1
    assert f"Error: {drafts / 'config.toml'}: invalid TOML" in result.stderr
    assert "line 1" in result.stderr


def test_twitter_style_mention_warns_on_both_networks_once(drafts: Path) -> None:
    text = "Thanks @Some_Name for the tip\n---\nAgain @Some_Name\n---\nAnd @Some_Name\n"
    draft = write(drafts, "tw.md", text)
    result = run_cli("check", "--offline", "--json", str(draft))
    assert result.exit_code == 0
    problems = json.loads(result.stdout)["problems"]
    assert [(p["platform"], p["code"], p["post"]) for p in problems] == [
        ("mastodon", "mention-not-handle", 1),
        ("bluesky", "mention-not-handle", 1),
    ]
    assert all(p["message"].endswith("(also in posts 2, 3)") for p in problems)


def test_schedule_in_the_past_and_bad_lang(drafts: Path) -> None:
    draft = write(
        drafts, "old.md", '+++\nlang = "english"\nschedule = "2001-01-01 09:00"\n+++\nHi\n'
    )
    result = run_cli("check", "--offline", "--json", str(draft))
    assert result.exit_code == 3
    problems = json.loads(result.stdout)["problems"]
    assert [(p["code"], p["line"], p["platform"]) for p in problems] == [
        ("invalid-lang", 2, None),
        ("schedule-past", 3, None),
    ]


# --- check with the network (local server only) --------------------------------------


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serve() as running:
        yield running


def test_check_online_against_local_server(
    drafts: Path, server: LinkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mastodon instance limits: an unreachable loopback instance → the defaults.
    monkeypatch.setenv("THREADPOST_MASTODON_INSTANCE", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("THREADPOST_BLUESKY_SERVICE", server.base)
    server.handles["alice.test"] = "did:plc:alice"
    draft = write(
        drafts,
        "links.md",
        f"Good {server.url('/ok')} moved {server.url('/redirect')}\n\n---\n\n"
        f"Dead {server.url('/missing')} hi @alice.test and @ghost.test\n",
    )
    result = run_cli("check", "--json", str(draft))
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)
    found = {(p["platform"], p["post"], p["code"]) for p in data["problems"]}
    # Mastodon (twitter-text) only links URLs on real domains, not 127.0.0.1: only the
    # Bluesky plan has these links.
    assert found == {
        ("bluesky", 1, "link-redirected"),
        ("bluesky", 2, "link-broken"),
        ("bluesky", 2, "mention-unresolved"),
    }
    redirect = next(link for link in data["links"] if link["url"] == server.url("/redirect"))
    assert redirect["final_url"] == server.url("/ok")
    assert server.hits["HEAD /missing"] == 1


# --- preview -------------------------------------------------------------------------


def test_preview_terminal(drafts: Path) -> None:
    result = run_cli("preview", "--offline", str(drafts / "clean.md"))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Mastodon · 2 posts · limit 500" in out
    assert "Bluesky · 2 posts · limit 300" in out
    assert "First post about #threadpost" in out
    assert "A red square on white" in out
    assert "mastodon: 2 posts · bluesky: 2 posts · 0 errors · 0 warnings" in out


def test_preview_json_is_the_check_object(drafts: Path) -> None:
    preview = json.loads(run_cli("preview", "--offline", "--json", str(drafts / "clean.md")).stdout)
    check = json.loads(run_cli("check", "--offline", "--json", str(drafts / "clean.md")).stdout)
    assert preview == check


def test_preview_html_escapes_everything(drafts: Path) -> None:
    draft = write(
        drafts,
        "evil.md",
        '+++\ntitle = "<script>alert(1)</script>"\n+++\n'
        'A <b>bold</b> & "quoted" claim https://example.com/?a=1&b=<2>\n'
        "![<img src=x onerror=alert(1)>](red.png)\n",
    )
    page = drafts / "out" / "page.html"
    result = run_cli("preview", "--offline", "--html", str(page), str(draft))
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {page}" in result.stdout
    text = page.read_text()
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in text
    assert "<img src=x" not in text
    assert "data:image/png;base64," in text
    assert "http://" not in text.replace("http-equiv", "")  # nothing loads from outside


def test_preview_html_into_a_folder_that_is_a_file_is_a_clear_error(drafts: Path) -> None:
    """The temp file's clean-up failed too (NotADirectoryError) and surfaced as a bug."""
    (drafts / "taken").write_text("a file where the folder should be")
    page = drafts / "taken" / "page.html"
    result = run_cli("preview", "--offline", "--html", str(page), str(drafts / "clean.md"))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"Error: {page}: cannot write: "), result.stderr
    assert "unexpected" not in result.stderr
    assert (drafts / "taken").read_text() == "a file where the folder should be"


# --- new -----------------------------------------------------------------------------


def test_new_creates_a_draft_that_check_refuses_until_it_is_written(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(isolated_env)
    monkeypatch.delenv("EDITOR", raising=False)
    result = run_cli("new", 'My "first" thread')
    assert result.exit_code == 0, result.stderr
    path = Path("drafts") / "My-first-thread.md"
    assert f"Created {path}" in result.stdout
    text = path.read_text()
    assert 'title = "My \\"first\\" thread"' in text
    # No line break inside a paragraph: it would be a line break in the post.
    body = text.split("+++\n")[2]
    paragraphs = [line for line in body.splitlines() if line and line != "---"]
    assert paragraphs and all(line.endswith((".", ":")) for line in paragraphs)

    unedited = run_cli("check", "--offline", "--json", str(path))
    assert unedited.exit_code == 3, unedited.stdout
    problems = json.loads(unedited.stdout)["problems"]
    lines = text.splitlines()
    assert [(p["code"], p["post"], lines[p["line"] - 1][:12]) for p in problems] == [
        ("template-text", 1, "First post: "),
        ("template-text", 2, "Second post:"),
    ]
    assert "still the template's text" in problems[0]["message"]

    path.write_text(
        text.replace(paragraphs[0], "My own first post.").replace(paragraphs[1], "And mine.")
    )
    checked = run_cli("check", "--offline", "--json", str(path))
    assert checked.exit_code == 0, checked.stdout
    assert json.loads(checked.stdout)["platforms"]["mastodon"]["posts"][0]["text"].startswith(
        "My own first post."
    )


def test_new_refuses_to_overwrite(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(isolated_env)
    monkeypatch.delenv("EDITOR", raising=False)
    (isolated_env / "drafts").mkdir()
    (isolated_env / "drafts" / "notes.md").write_text("mine")
    result = run_cli("new", "notes.md")
    assert result.exit_code == 1
    assert "drafts/notes.md already exists" in result.stderr
    assert (isolated_env / "drafts" / "notes.md").read_text() == "mine"


@pytest.mark.parametrize(
    ("name", "file"),
    [("../../etc/passwd", "etc-passwd.md"), ("café du coin", "café-du-coin.md"), ("a/b", "a-b.md")],
)
def test_new_sanitizes_the_name(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, file: str
) -> None:
    monkeypatch.chdir(isolated_env)
    monkeypatch.delenv("EDITOR", raising=False)
    assert run_cli("new", name).exit_code == 0
    assert [p.name for p in (isolated_env / "drafts").iterdir()] == [file]


def test_new_rejects_an_empty_name(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(isolated_env)
    result = run_cli("new", "../")
    assert result.exit_code == 2
    assert "not usable as a draft name" in result.stderr


def test_new_opens_the_editor(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(isolated_env)
    record = isolated_env / "editor-args"
    editor = isolated_env / "fake editor.sh"
    editor.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", f"'{editor}'")
    result = run_cli("new", "edited")
    assert result.exit_code == 0, result.stderr
    assert record.read_text() == "drafts/edited.md\n"


# --- as a real subprocess -----------------------------------------------------------


def threadpost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threadpost", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )


def test_subprocess_check_json_and_exit_codes(drafts: Path) -> None:
    ok = threadpost("check", "--offline", "--json", str(drafts / "clean.md"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    bad = threadpost("check", "--offline", str(drafts / "noalt.md"))
    assert bad.returncode == 3
    assert "missing-alt" in bad.stdout
    missing = threadpost("check", "--offline", str(drafts / "absent.md"))
    assert missing.returncode == 3
    assert missing.stdout == ""
    assert f"Error: {drafts / 'absent.md'}: no such file" in missing.stderr


def test_subprocess_help_for_each_command() -> None:
    for command in ("check", "preview", "new"):
        result = threadpost(command, "--help")
        assert result.returncode == 0
        assert "Usage:" in result.stdout


def test_offline_check_imports_no_network_library(drafts: Path) -> None:
    """A 30-post draft checked offline must not import atproto, Mastodon.py or httpx."""
    posts = "\n\n---\n\n".join(
        f"Post {i} with https://example.com/{i} and #tag{i} @alice.example.com" for i in range(30)
    )
    draft = write(drafts, "thirty.md", posts + "\n")
    wrapper = (
        "import json, sys\n"
        "from threadpost.cli import main\n"
        "try:\n"
        f"    main(['check', '--offline', '--json', {str(draft)!r}])\n"
        "except SystemExit as exit_:\n"
        "    code = exit_.code\n"
        # Loaded modules only: the CLI marks httpx's command-line tool as not importable
        # (a None entry) before anything runs.
        "heavy = sorted(m for m, mod in sys.modules.items() if mod is not None and "
        "m.split('.')[0] in ('atproto', 'atproto_client', 'mastodon', 'httpx', 'httpcore'))\n"
        "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "heavy": []}
    data = json.loads(result.stdout)
    assert len(data["platforms"]["bluesky"]["posts"]) == 30


# --- progress bar --------------------------------------------------------------------


def test_progress_bar_appears_only_after_a_moment() -> None:
    from threadpost.cli.authoring import DelayedProgress

    quick = DelayedProgress("Checking links", delay=60)
    quick.start(3)
    quick.advance()
    quick.stop()
    assert quick._progress is not None
    assert not quick._progress.live.is_started  # finished before the bar was due

    slow = DelayedProgress("Checking links", delay=0)
    slow.start(2)
    assert slow._timer is not None
    slow._timer.join(timeout=5)
    assert slow._progress is not None
    assert slow._progress.live.is_started
    slow.advance()
    slow.advance()
    assert slow._progress.tasks[0].completed == 2
    slow.stop()
    assert not slow._progress.live.is_started


def test_no_progress_bar_in_json_mode_or_without_a_terminal() -> None:
    from threadpost.cli.authoring import progress_for

    assert progress_for(json_output=True) is None
    assert progress_for(json_output=False) is None  # pytest's stderr is not a terminal
