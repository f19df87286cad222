"""What `publish` tells a person while it works (issue 12, "Feedback"), end to end against
the local Mastodon API test server: progress per post on a terminal and none elsewhere,
Ctrl-C stopping between posts with the command that resumes, and the confirmation prompt
(declined: exit 0, nothing sent; Ctrl-C: 130; no terminal to ask on: a usage error).

The terminal cases run `threadpost` as a real process on a pseudo-terminal
(tests/terminal_session.py), typing Ctrl-C into it as a keyboard would.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from terminal_session import TerminalSession
from threadpost.cli import terminal

THREE_POSTS = '+++\nplatforms = ["mastodon"]\n+++\nFirst post.\n---\nSecond post.\n---\nThird.\n'


def _env(server: MastodonTestServer) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }


def _draft(folder: Path) -> Path:
    path = folder / "thread.md"
    path.write_text(THREE_POSTS, encoding="utf-8")
    return path


def _urls(server: MastodonTestServer) -> list[str]:
    return [server.status_json(s.id)["url"] for s in server.published()]


def test_progress_on_a_terminal_names_network_count_and_url(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    session = TerminalSession(
        "publish", "--yes", str(_draft(isolated_env)), env=_env(mastodon_server)
    )
    assert session.wait() == 0, session.output
    urls = _urls(mastodon_server)
    assert len(urls) == 3
    for index, url in enumerate(urls, start=1):
        assert f"  mastodon {index}/3 {url}\n" in session.output
    # In the order they were confirmed, before the summary.
    positions = [session.output.index(f"mastodon {i}/3") for i in (1, 2, 3)]
    assert positions == sorted(positions)
    assert positions[-1] < session.output.index("mastodon: published, 3/3 posts")


def test_no_progress_when_not_a_terminal_or_with_json(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env)
    plain = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert plain.exit_code == 0, plain.stderr
    assert "mastodon 1/3" not in plain.stdout + plain.stderr
    assert "mastodon: published, 3/3 posts" in plain.stdout

    # --json on a terminal: the one JSON object and nothing else on the terminal.
    session = TerminalSession(
        "publish", "--yes", "--again", "--json", str(draft), env=_env(mastodon_server)
    )
    assert session.wait() == 0, session.output
    assert "mastodon 1/3" not in session.output
    assert json.loads(session.output)["platforms"]["mastodon"]["published"] == 3


def test_ctrl_c_stops_between_posts_and_prints_the_resume_command(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env)
    # The second status is held by the server until the test lets it through, so the
    # Ctrl-C lands while it is in flight.
    held = mastodon_server.faults.add("hold", at_count=2)
    session = TerminalSession("publish", "--yes", str(draft), env=_env(mastodon_server))
    session.read_until("mastodon 1/3")
    assert held.arrived.wait(30)
    session.type(b"\x03")
    session.read_until("Stopping after the post being sent is confirmed")
    held.release()
    assert session.wait() == 130, session.output

    # The post in flight was let through and confirmed; the third was never sent.
    statuses = mastodon_server.published()
    assert [s.text for s in statuses] == ["First post. 1/3", "Second post. 2/3"]
    urls = _urls(mastodon_server)
    assert f"mastodon: 2 of 3 posts confirmed, the last at {urls[1]}" in session.output
    words = ["threadpost", "--config", str(isolated_env / "config.toml")]
    words += ["--db", str(isolated_env / "threadpost.db"), "publish", str(draft), "--yes"]
    assert f"Resume with: {shlex.join(words)}" in session.output
    assert "Traceback" not in session.output

    # That command resumes at post 3, replying to post 2: nothing twice, no gap.
    resumed = run_cli("publish", str(draft), "--yes", env=_env(mastodon_server))
    assert resumed.exit_code == 0, resumed.stderr
    statuses = mastodon_server.published()
    assert [s.text for s in statuses] == ["First post. 1/3", "Second post. 2/3", "Third. 3/3"]
    assert statuses[2].in_reply_to_id == statuses[1].id


def test_ctrl_c_at_the_prompt_exits_130_and_sends_nothing(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    session = TerminalSession("publish", str(_draft(isolated_env)), env=_env(mastodon_server))
    session.read_until("(mastodon 3 posts)? [y/N]")
    session.type(b"\x03")
    assert session.wait() == 130, session.output
    assert mastodon_server.published() == []
    assert json.loads(run_cli("queue", "--json").stdout) == {"threads": []}


def test_declining_on_a_terminal_exits_0_with_nothing_sent(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    session = TerminalSession("publish", str(_draft(isolated_env)), env=_env(mastodon_server))
    session.read_until("[y/N]")
    session.type(b"n\n")
    assert session.wait() == 0, session.output
    assert "nothing was sent" in session.output
    assert mastodon_server.published() == []


def test_yes_on_a_terminal_publishes(
    mastodon_server: MastodonTestServer, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The switch tests use in-process stands for the terminal the test above really had.
    monkeypatch.setattr(terminal, "stdin_is_terminal", lambda: True)
    result = run_cli("publish", str(_draft(isolated_env)), env=_env(mastodon_server), input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Publish " in result.stdout and "(mastodon 3 posts)? [y/N]" in result.stdout
    assert len(mastodon_server.published()) == 3


def test_no_terminal_and_no_yes_is_a_usage_error(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    result = run_cli("publish", str(_draft(isolated_env)), env=_env(mastodon_server), input="y\n")
    assert result.exit_code == 2
    assert "standard input is not a terminal" in result.stderr
    assert "pass --yes" in result.stderr
    assert mastodon_server.published() == []
    assert json.loads(run_cli("queue", "--json").stdout) == {"threads": []}


def test_an_unfinished_publish_says_cron_resumes_it(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env)
    mastodon_server.faults.add("error", at_count=2, times=None, status=503)
    result = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert result.exit_code == 4, result.stderr
    assert "threadpost run resumes it from" in result.stderr
    assert "It is not given up: `threadpost run`" in result.stderr
    assert f"publish {draft} --yes" in result.stderr
    # Left for run: one thread waiting for its retry time.
    waiting = json.loads(run_cli("run", "--json", env=_env(mastodon_server)).stdout)
    assert waiting["waiting"] == 1


def test_no_resume_cancels_what_could_not_finish(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env)
    mastodon_server.faults.add("error", at_count=2, times=None, status=503)
    result = run_cli("publish", "--yes", "--no-resume", str(draft), env=_env(mastodon_server))
    assert result.exit_code == 1, result.stderr
    assert "Not resumed (--no-resume)" in result.stderr
    assert "It is not given up" not in result.stderr
    thread_id = result.stdout.split()[1].rstrip(":")
    assert json.loads(run_cli("status", thread_id, "--json").stdout)["state"] == "cancelled"
    mastodon_server.faults.clear()
    ran = json.loads(run_cli("run", "--json", env=_env(mastodon_server)).stdout)
    assert ran == {"items": [], "waiting": 0, "next_due": None}
    assert len(mastodon_server.published()) == 1

    # --json says the same.
    other = isolated_env / "other.md"
    other.write_text(THREE_POSTS.replace("Third.", "Fourth."), encoding="utf-8")
    mastodon_server.faults.add("error", at_count=2, times=None, status=503)
    data = json.loads(
        run_cli(
            "publish", "--yes", "--no-resume", "--json", str(other), env=_env(mastodon_server)
        ).stdout
    )
    assert data["state"] == "cancelled" and data["resumed_by_run"] is False


def test_no_resume_changes_nothing_when_publishing_finishes(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    result = run_cli(
        "publish", "--yes", "--no-resume", str(_draft(isolated_env)), env=_env(mastodon_server)
    )
    assert result.exit_code == 0, result.stderr
    assert "mastodon: published, 3/3 posts" in result.stdout
