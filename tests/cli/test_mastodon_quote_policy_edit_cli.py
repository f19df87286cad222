"""`threadpost edit ID` after the draft's `mastodon_quotes` changed, end to end through the
CLI against the local Mastodon API test server: each published status gets the new policy
with PUT /api/v1/statuses/:id/interaction_policy (Mastodon 4.5) and no content edit, the
ledger records each change in its edits table, a second run sends nothing, and an instance
before 4.5 is told about rather than sent to. Also the test server's endpoint itself
(another account's status is 404; private statuses stay nobody)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.store import open_ledger

POLICY_PUT = r"/api/v1/statuses/\w+/interaction_policy"
CONTENT_PUT = r"/api/v1/statuses/\w+"


def _env(server: MastodonTestServer) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }


def _publish(server: MastodonTestServer, folder: Path, policy: str) -> tuple[Path, str]:
    draft = folder / "thread.md"
    draft.write_text(
        f'+++\nplatforms = ["mastodon"]\nmastodon_quotes = "{policy}"\n+++\n'
        "First post.\n---\nSecond post.\n",
        encoding="utf-8",
    )
    published = run_cli("publish", "--yes", "--json", str(draft), env=_env(server))
    assert published.exit_code == 0, published.stderr
    return draft, json.loads(published.stdout)["thread"]


def _set_policy(draft: Path, old: str, new: str) -> None:
    text = draft.read_text(encoding="utf-8")
    draft.write_text(
        text.replace(f'mastodon_quotes = "{old}"', f'mastodon_quotes = "{new}"'), encoding="utf-8"
    )


def test_a_changed_policy_is_set_on_every_status_without_editing_its_content(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    draft, thread_id = _publish(mastodon_server, isolated_env, "public")
    _set_policy(draft, "public", "nobody")

    result = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert result.exit_code == 0, result.stderr
    assert "mastodon post 1: edited (quote policy)" in result.stdout
    assert "mastodon post 2: edited (quote policy)" in result.stdout
    statuses = mastodon_server.published()
    assert [s.quote_policy for s in statuses] == ["nobody", "nobody"]
    assert [r.path for r in mastodon_server.requests_to("PUT", POLICY_PUT)] == [
        f"/api/v1/statuses/{s.id}/interaction_policy" for s in statuses
    ]
    # Not a content edit: no PUT of the status, nothing in its history.
    assert mastodon_server.requests_to("PUT", CONTENT_PUT) == []
    assert [s.edited_at for s in statuses] == [None, None]
    approval = mastodon_server.status_json(statuses[0].id)["quote_approval"]
    assert approval["automatic"] == []

    with open_ledger(isolated_env / "threadpost.db") as ledger:
        edits = ledger.edits(thread_id, "mastodon")
        assert [(e.index, e.remote_id) for e in edits] == [(1, statuses[0].id), (2, statuses[1].id)]
        assert ledger.plan(thread_id, "mastodon").quote_policy == "nobody"

    again = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert again.exit_code == 0, again.stderr
    assert "nothing to edit" in again.stdout
    assert len(mastodon_server.requests_to("PUT", POLICY_PUT)) == 2


def test_a_text_change_and_a_policy_change_go_together(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    draft, thread_id = _publish(mastodon_server, isolated_env, "followers")
    _set_policy(draft, "followers", "public")
    draft.write_text(
        draft.read_text(encoding="utf-8").replace("Second post.", "Second post, fixed."),
        encoding="utf-8",
    )

    result = run_cli("edit", "--yes", "--json", thread_id, env=_env(mastodon_server))
    assert result.exit_code == 0, result.stderr
    changes = {e["post"]: e["changes"] for e in json.loads(result.stdout)["edits"]}
    assert changes == {1: ["quote policy"], 2: ["text", "quote policy"]}
    statuses = mastodon_server.published()
    assert [s.quote_policy for s in statuses] == ["public", "public"]
    assert statuses[1].text.startswith("Second post, fixed.")
    assert [r.path for r in mastodon_server.requests_to("PUT", CONTENT_PUT)] == [
        f"/api/v1/statuses/{statuses[1].id}"
    ]


def test_an_instance_before_4_5_is_told_about_and_sent_nothing(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=6)
    draft, thread_id = _publish(mastodon_server, isolated_env, "public")
    _set_policy(draft, "public", "nobody")

    result = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert result.exit_code == 0, result.stderr
    assert "nothing to edit" in result.stdout
    assert "cannot change a status's quote policy" in result.stderr
    assert "Mastodon 4.5" in result.stderr
    assert mastodon_server.requests_to("PUT", POLICY_PUT) == []
    assert mastodon_server.requests_to("PUT", CONTENT_PUT) == []


def test_the_endpoint_refuses_another_accounts_status_and_keeps_private_ones_nobody(
    mastodon_server: MastodonTestServer,
) -> None:
    mastodon_server.set_config(api_version=7)
    other = mastodon_server.add_account("someone")

    def post(token: str, visibility: str) -> str:
        answer = httpx.post(
            f"{mastodon_server.url}/api/v1/statuses",
            data={"status": "Hello.", "visibility": visibility},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    def put(token: str, status_id: str, policy: str) -> httpx.Response:
        return httpx.put(
            f"{mastodon_server.url}/api/v1/statuses/{status_id}/interaction_policy",
            json={"quote_approval_policy": policy},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    theirs = post(other, "public")
    refused = put(mastodon_server.token, theirs, "nobody")
    assert refused.status_code == 404
    assert mastodon_server.statuses[theirs].quote_policy == "public"

    private = post(mastodon_server.token, "private")
    answer = put(mastodon_server.token, private, "public")
    assert answer.status_code == 200
    assert answer.json()["quote_approval"]["automatic"] == []
    assert mastodon_server.statuses[private].quote_policy == "nobody"

    mine = post(mastodon_server.token, "public")
    assert put(mastodon_server.token, mine, "everyone").status_code == 422
    assert put(mastodon_server.token, mine, "followers").json()["quote_approval"]["automatic"] == [
        "followers"
    ]

    mastodon_server.set_config(api_version=6)
    assert put(mastodon_server.token, mine, "nobody").status_code == 404


def test_a_status_deleted_since_stops_the_policy_edit_naming_the_post(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    mastodon_server.set_config(api_version=7)
    draft, thread_id = _publish(mastodon_server, isolated_env, "public")
    first, second = mastodon_server.published()
    mastodon_server.statuses[second.id].deleted = True
    _set_policy(draft, "public", "followers")

    result = run_cli("edit", "--yes", thread_id, env=_env(mastodon_server))
    assert result.exit_code != 0
    assert f"post 2 (status {second.id}) no longer exists" in result.stdout + result.stderr
    assert mastodon_server.statuses[first.id].quote_policy == "followers"
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        assert [e.index for e in ledger.edits(thread_id, "mastodon")] == [1]
        # Not all edits made: the frozen plan still says what was published.
        assert ledger.plan(thread_id, "mastodon").quote_policy == "public"
