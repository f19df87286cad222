"""Per-post content warnings, polls and quotes on Mastodon (issue 15), end to end: `check`,
`preview`, `publish --dry-run` and `publish` through the CLI against the local Mastodon API
test server, asserting on what the server itself stored."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer


def _env(server: MastodonTestServer) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }


def _draft(folder: Path, body: str, front: str = "") -> Path:
    path = folder / "thread.md"
    path.write_text(f'+++\nplatforms = ["mastodon"]\n{front}+++\n{body}', encoding="utf-8")
    return path


# -- content warnings per post ------------------------------------------------------------

CW_BODY = "Plain first post.\n---\n> cw: spoilers for episode 3\nThe twist.\n---\nLast post.\n"


def test_a_post_cw_is_stored_on_its_status_only(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, CW_BODY)
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    statuses = mastodon_server.published()
    assert [s.spoiler_text for s in statuses] == ["", "spoilers for episode 3", ""]
    assert statuses[1].text == "The twist. 2/3"
    # The instance marks a status behind a content warning sensitive.
    assert [s.sensitive for s in statuses] == [False, True, False]


def test_a_post_cw_replaces_the_thread_cw(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, CW_BODY, front='cw = "politics"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    assert [s.spoiler_text for s in mastodon_server.published()] == [
        "politics",
        "spoilers for episode 3",
        "politics",
    ]


def test_preview_and_dry_run_show_the_post_cw(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, CW_BODY)
    env = _env(mastodon_server)
    preview = run_cli("preview", str(draft), env=env)
    assert preview.exit_code == 0, preview.stderr
    assert preview.stdout.count("CW: spoilers for episode 3") == 1
    as_json = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)
    posts = as_json["platforms"]["mastodon"]["posts"]
    assert [p["cw"] for p in posts] == [None, "spoilers for episode 3", None]
    dry = run_cli("publish", "--dry-run", "--json", str(draft), env=env)
    assert dry.exit_code == 0, dry.stderr
    payloads = json.loads(dry.stdout)["platforms"]["mastodon"]["payloads"]
    assert [p["spoiler_text"] for p in payloads] == [None, "spoilers for episode 3", None]
    html = isolated_env / "p.html"
    assert run_cli("preview", str(draft), "--html", str(html), env=env).exit_code == 0
    assert html.read_text().count("CW: spoilers for episode 3") == 1
    assert mastodon_server.published() == []


def test_check_warns_that_bluesky_does_not_show_a_post_cw(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    path = isolated_env / "both.md"
    path.write_text(CW_BODY, encoding="utf-8")
    checked = run_cli("check", "--offline", str(path), env=_env(mastodon_server))
    assert checked.exit_code == 0, checked.stdout
    out = checked.stdout.replace("\n", " ")
    assert f"{path}:3 bluesky post 2: warning: post 2's content warning" in out
    assert "[content-warning-not-on-bluesky]" in out
