"""Replies are never more visible than the first post (issue 12), end to end: `publish`
through the CLI against the local Mastodon API test server, asserting on the visibility
the server itself stored for each status.

The rule: a reply gets the more restrictive of `visibility` and `reply_visibility`
(public > unlisted > private > direct). A `reply_visibility` written in the draft that is
wider than the first post's is an error naming its line, and nothing is sent; the
configuration's `reply_visibility` is only a default, narrowed silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer

THREE_POSTS = "First post.\n---\nSecond post.\n---\nThird post.\n"


def _env(server: MastodonTestServer) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }


def _draft(folder: Path, front: str, body: str = THREE_POSTS) -> Path:
    path = folder / "thread.md"
    path.write_text(f'+++\nplatforms = ["mastodon"]\n{front}+++\n{body}', encoding="utf-8")
    return path


@pytest.mark.parametrize("visibility", ["private", "direct"])
def test_replies_of_a_non_public_thread_keep_its_visibility(
    mastodon_server: MastodonTestServer, isolated_env: Path, visibility: str
) -> None:
    # Before the fix: the first status had this visibility, the replies were "unlisted",
    # i.e. readable by anyone with the link.
    draft = _draft(isolated_env, f'visibility = "{visibility}"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    statuses = mastodon_server.published()
    assert [s.text.split(" ")[0] for s in statuses] == ["First", "Second", "Third"]
    assert [s.visibility for s in statuses] == [visibility] * 3
    assert [s.in_reply_to_id for s in statuses] == [None, statuses[0].id, statuses[1].id]


def test_a_narrower_reply_visibility_is_kept(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, 'visibility = "unlisted"\nreply_visibility = "private"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    assert [s.visibility for s in mastodon_server.published()] == [
        "unlisted",
        "private",
        "private",
    ]


def test_the_configured_visibility_narrows_the_configured_reply_default(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    # The configuration's reply_visibility ("unlisted") is a default, not the author asking
    # for wider replies: under a private first post it becomes private, silently.
    (isolated_env / "config.toml").write_text(
        '[mastodon]\nvisibility = "private"\nreply_visibility = "unlisted"\n'
    )
    draft = _draft(isolated_env, "")
    dry = run_cli("publish", "--dry-run", "--json", str(draft), env=_env(mastodon_server))
    assert dry.exit_code == 0, dry.stderr
    payloads = json.loads(dry.stdout)["platforms"]["mastodon"]["payloads"]
    assert [p["visibility"] for p in payloads] == ["private"] * 3
    assert json.loads(dry.stdout)["problems"] == []

    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    assert "Warning" not in published.stderr
    assert [s.visibility for s in mastodon_server.published()] == ["private"] * 3


def test_a_draft_visibility_narrows_the_configured_reply_default(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    (isolated_env / "config.toml").write_text('[mastodon]\nreply_visibility = "public"\n')
    draft = _draft(isolated_env, 'visibility = "direct"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    assert [s.visibility for s in mastodon_server.published()] == ["direct"] * 3


def test_a_wider_reply_visibility_in_the_draft_is_an_error_naming_its_line(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, 'visibility = "private"\nreply_visibility = "unlisted"\n')
    env = _env(mastodon_server)
    for command in (["check"], ["preview"], ["publish", "--yes"], ["schedule", "--at", "+2h"]):
        result = run_cli(*command, str(draft), env=env)
        assert result.exit_code == 3, (command, result.stdout, result.stderr)
        assert f"{draft}:4: reply_visibility 'unlisted' is wider than visibility 'private'" in (
            result.stderr
        ), command
        assert "use one of private, direct, or leave reply_visibility out" in result.stderr
    assert mastodon_server.status_posts() == []
    assert run_cli("queue", env=env).stdout.strip() == "Nothing scheduled."


def test_a_draft_reply_visibility_wider_than_the_configured_visibility_is_an_error(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    (isolated_env / "config.toml").write_text('[mastodon]\nvisibility = "private"\n')
    draft = _draft(isolated_env, 'reply_visibility = "public"\n')
    env = _env(mastodon_server)

    checked = run_cli("check", "--json", str(draft), env=env)
    assert checked.exit_code == 3, checked.stderr
    (problem,) = json.loads(checked.stdout)["problems"]
    assert problem["code"] == "reply-visibility-wider"
    assert problem["severity"] == "error"
    assert problem["platform"] == "mastodon"
    assert problem["line"] == 3
    assert "the configuration's [mastodon] visibility 'private'" in problem["message"]

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 3
    assert "reply_visibility 'public' is wider than" in published.stderr
    assert "nothing was sent" in published.stderr
    assert mastodon_server.status_posts() == []
