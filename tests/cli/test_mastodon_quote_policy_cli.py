"""Mastodon quote policies (`mastodon_quotes`, Mastodon 4.5 `quote_approval_policy`), end
to end through the CLI against the local Mastodon API test server: the policy stored on
every status, and a quote the quoted author's policy denies stopped before anything is
sent."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

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


def _status_by(server: MastodonTestServer, username: str, policy: str) -> str:
    """A public status of another account with `policy`; its url."""
    token = server.add_account(username)
    answer = httpx.post(
        f"{server.url}/api/v1/statuses",
        data={"status": "Not yours to quote.", "quote_approval_policy": policy},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["url"])


def test_the_policy_is_stored_on_every_status_and_shown_as_quote_approval(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    draft = _draft(isolated_env, "One.\n---\nTwo.\n", front='mastodon_quotes = "followers"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    statuses = mastodon_server.published()
    assert [s.quote_policy for s in statuses] == ["followers", "followers"]
    approval = mastodon_server.status_json(statuses[0].id)["quote_approval"]
    assert (approval["automatic"], approval["manual"]) == (["followers"], [])


def test_without_the_key_no_policy_is_sent(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    draft = _draft(isolated_env, "One.\n")
    assert run_cli("publish", "--yes", str(draft), env=_env(mastodon_server)).exit_code == 0
    (post,) = mastodon_server.requests_to("POST", "/api/v1/statuses")
    assert post.value("quote_approval_policy") is None


def test_a_quote_the_authors_policy_denies_stops_the_thread_before_anything_is_sent(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    address = _status_by(mastodon_server, "carol", "nobody")
    before = len(mastodon_server.published())
    draft = _draft(isolated_env, f"First.\n---\nAbout this:\n> quote {address}\n")
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code != 0
    assert "post 2" in published.stderr and address in published.stderr
    assert "quote policy" in published.stderr
    assert len(mastodon_server.published()) == before  # nothing half-sent


def test_a_followers_only_quote_is_allowed_to_a_follower(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    address = _status_by(mastodon_server, "dave", "followers")
    (original,) = mastodon_server.published("dave")
    me = mastodon_server.status_json(original.id)  # viewer-less: unknown
    assert me["quote_approval"]["current_user"] == "unknown"
    draft = _draft(isolated_env, f"About this:\n> quote {address}\n")
    env = _env(mastodon_server)
    denied = run_cli("publish", "--yes", str(draft), env=env)
    assert denied.exit_code != 0 and "quote policy" in denied.stderr
    mastodon_server.followers["dave"] = {_own_username(mastodon_server)}
    allowed = run_cli("publish", "--yes", "--again", str(draft), env=env)
    assert allowed.exit_code == 0, allowed.stderr
    (mine,) = mastodon_server.published(_own_username(mastodon_server))
    assert mine.quoted_status_id == original.id


def _own_username(server: MastodonTestServer) -> str:
    answer = httpx.get(
        f"{server.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    return str(answer.json()["username"])


def test_check_warns_when_the_instance_predates_quote_policies(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=6)
    draft = _draft(isolated_env, "One.\n", front='mastodon_quotes = "nobody"\n')
    checked = run_cli("check", str(draft), env=_env(mastodon_server))
    assert checked.exit_code == 0, checked.stdout
    assert "not supported by this instance" in checked.stdout
    assert "thread.md:3" in checked.stdout  # the key's line


def test_a_bad_value_is_a_check_error_naming_file_and_line(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    draft = _draft(isolated_env, "One.\n", front='mastodon_quotes = "everyone"\n')
    checked = run_cli("check", str(draft), env=_env(mastodon_server))
    assert checked.exit_code != 0
    output = checked.stdout + checked.stderr
    assert "thread.md:3" in output and "mastodon_quotes must be one of" in output


def test_preview_and_dry_run_show_the_policy(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    draft = _draft(isolated_env, "One.\n---\nTwo.\n", front='mastodon_quotes = "followers"\n')
    env = _env(mastodon_server)
    # On the network's rule line, with its reply and quote controls (wide enough to fit).
    preview = run_cli("preview", str(draft), env={**env, "COLUMNS": "200"})
    assert preview.exit_code == 0, preview.stderr
    assert "· quotes: followers" in preview.stdout
    shown = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)
    assert shown["platforms"]["mastodon"]["quote_policy"] == "followers"
    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    mastodon = dry["platforms"]["mastodon"]
    assert mastodon["quote_policy"] == "followers"
    assert [p["quote_approval_policy"] for p in mastodon["payloads"]] == ["followers"] * 2
    assert mastodon_server.published() == []  # a dry run sends nothing


def test_a_quote_needing_manual_approval_is_published_pending_with_a_warning(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    address = _status_by(mastodon_server, "erin", "public")
    (original,) = mastodon_server.published("erin")
    mastodon_server.manual_quotes.add(original.id)
    draft = _draft(isolated_env, f"About this:\n> quote {address}\n")
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    output = published.stdout + published.stderr
    assert "pending until they approve" in output and address in output
    (mine,) = mastodon_server.published(_own_username(mastodon_server))
    assert mastodon_server.status_json(mine.id)["quote"]["state"] == "pending"


def test_an_instance_before_4_5_still_publishes_ignoring_the_policy(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=6)
    draft = _draft(isolated_env, "One.\n", front='mastodon_quotes = "nobody"\n')
    published = run_cli("publish", "--yes", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    (status,) = mastodon_server.published()
    assert status.quote_policy == "public"  # ignored, as older Mastodon ignores it


def test_a_pending_quote_shows_in_status_after_publishing(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    pending = _status_by(mastodon_server, "erin", "public")
    mastodon_server.manual_quotes.add(mastodon_server.published("erin")[0].id)
    accepted = _status_by(mastodon_server, "finn", "public")
    draft = _draft(
        isolated_env,
        f"About this:\n> quote {pending}\n---\nAnd that:\n> quote {accepted}\n---\nNo quote.\n",
    )
    published = run_cli("publish", "--yes", "--json", str(draft), env=_env(mastodon_server))
    assert published.exit_code == 0, published.stderr
    thread_id = json.loads(published.stdout)["thread"]

    shown = run_cli("status", "--json", thread_id, env=_env(mastodon_server))
    assert shown.exit_code == 0, shown.stderr
    mastodon = json.loads(shown.stdout)["platforms"]["mastodon"]
    assert [p["quote_state"] for p in mastodon["posts"]] == ["pending", None, None]
    # Said once: the check before sending and the instance's answer agree.
    assert [w["post"] for w in mastodon["warnings"] if w["code"] == "quote-pending"] == [1]

    terminal = run_cli("status", thread_id, env=_env(mastodon_server))
    assert terminal.exit_code == 0, terminal.stderr
    lines = terminal.stdout.splitlines()
    first = next(line for line in lines if line.strip().startswith("1. "))
    second = next(line for line in lines if line.strip().startswith("2. "))
    assert first.endswith("(quote pending)") and "quote" not in second


def test_check_reports_a_quote_the_authors_policy_denies_as_an_error(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    denied = _status_by(mastodon_server, "gale", "nobody")
    allowed = _status_by(mastodon_server, "hugo", "public")
    draft = _draft(isolated_env, f"Allowed:\n> quote {allowed}\n---\nDenied:\n> quote {denied}\n")
    checked = run_cli("check", str(draft), env=_env(mastodon_server))
    assert checked.exit_code != 0
    out = checked.stdout.replace("\n", " ")
    assert f"{draft}:8 mastodon post 2: error: post 2 quotes {denied}, but its author" in out
    assert "[quote-denied]" in out and allowed not in out
    assert "1 error" in out
    # Looked up by id on the account's own instance, not by a federated search.
    assert mastodon_server.requests_to("GET", "/api/v2/search") == []
    assert mastodon_server.published(_own_username(mastodon_server)) == []


def test_check_offline_does_not_look_quotes_up(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    denied = _status_by(mastodon_server, "ines", "nobody")
    draft = _draft(isolated_env, f"Denied:\n> quote {denied}\n")
    before = len(mastodon_server.requests)
    checked = run_cli("check", "--offline", str(draft), env=_env(mastodon_server))
    assert "[quote-denied]" not in checked.stdout
    assert len(mastodon_server.requests) == before
