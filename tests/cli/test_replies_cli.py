"""Replying to a post and continuing a thread through the CLI, against the local Mastodon
API test server and the real local Bluesky PDS: check/preview/dry run show the parent,
publish sends post 1 under it (Mastodon in_reply_to_id; Bluesky reply root/parent), a
missing parent is refused with exit 3 and nothing sent, and `publish --continue ID`
appends under the last post with the numbering going on, once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.platforms.bluesky.records import POST_COLLECTION

pytestmark = pytest.mark.pds


def _env(server: MastodonTestServer, pds: pds_harness.LocalPDS, account: dict[str, Any]) -> Any:
    return {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
    }


def _status(server: MastodonTestServer, text: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json())


def _their_conversation(
    server: MastodonTestServer, pds: pds_harness.LocalPDS, tmp: Path
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Another account's root post and a reply under it (published with threadpost, from
    its own ledger and state folder): its account and its two records."""
    other = pds.create_account(pds_harness.unique_handle("cv"), "their-password-1")
    draft = tmp / "theirs.md"
    draft.write_text("Their root.\n---\nTheir reply.", encoding="utf-8")
    env = {
        **_env(server, pds, other),
        "THREADPOST_DB": str(tmp / "theirs.db"),
        "THREADPOST_STATE_DIR": str(tmp / "their-state"),
    }
    result = run_cli("publish", "--yes", "--platform", "bluesky", str(draft), env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return other, _records(pds, other["did"])


def _records(pds: pds_harness.LocalPDS, did: str) -> list[dict[str, Any]]:
    records = pds.list_records(did, POST_COLLECTION)
    return sorted(records, key=lambda record: record["value"]["createdAt"])


def _strong(record: dict[str, Any]) -> dict[str, str]:
    return {"uri": record["uri"], "cid": record["cid"]}


def test_reply_to_then_continue_on_both_networks(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    env = _env(mastodon_server, pds, pds_account)
    toot = _status(mastodon_server, "Someone asks a question.")
    other, (their_root, their_reply) = _their_conversation(mastodon_server, pds, isolated_env)
    their_rkey = their_reply["uri"].rsplit("/", 1)[-1]
    skeet = f"https://bsky.app/profile/{other['handle']}/post/{their_rkey}"
    draft = isolated_env / "answer.md"
    draft.write_text(
        f'+++\ntitle = "An answer"\nreply_to = {{ mastodon = "{toot["url"]}", '
        f'bluesky = "{skeet}" }}\n+++\nMy answer.\n---\nIn two parts.',
        encoding="utf-8",
    )

    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert f"mastodon: ↳ replying to {toot['url']}" in checked.stdout
    assert f"bluesky: ↳ replying to {skeet}" in checked.stdout
    preview = json.loads(run_cli("preview", "--json", str(draft), env=env).stdout)
    assert preview["platforms"]["mastodon"]["reply_to"]["address"] == toot["url"]
    assert preview["platforms"]["bluesky"]["reply_to"]["line"] == 3
    dry = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    first_status = dry["platforms"]["mastodon"]["payloads"][0]
    assert first_status["in_reply_to_id"] == f"<id of {toot['url']}>"
    first_record = dry["platforms"]["bluesky"]["payloads"][0]
    assert first_record["reply"]["parent"]["uri"] == (
        f"at://did:?:{other['handle']}/app.bsky.feed.post/{their_rkey}"
    )
    assert len(mastodon_server.status_posts()) == 1  # the parent only: the dry run sent nothing

    published = run_cli("publish", "--yes", "--json", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    thread_id = json.loads(published.stdout)["thread"]
    mine = [s for s in mastodon_server.published() if s.id != toot["id"]]
    assert [(s.text, s.in_reply_to_id) for s in mine] == [
        ("My answer. 1/2", toot["id"]),
        ("In two parts. 2/2", mine[0].id),
    ]
    one, two = _records(pds, pds_account["did"])
    root = _strong(their_root)
    assert one["value"]["reply"] == {"root": root, "parent": _strong(their_reply)}
    assert two["value"]["reply"] == {"root": root, "parent": _strong(one)}

    # --continue with a prefix of the id: under the last posts, numbered on.
    more = isolated_env / "more.md"
    more.write_text("Part three.\n---\nPart four.", encoding="utf-8")
    dry_run = run_cli(
        "publish", "--dry-run", "--json", str(more), "--continue", thread_id[:6], env=env
    )
    assert dry_run.exit_code == 0, dry_run.stdout + dry_run.stderr
    shown = json.loads(dry_run.stdout)["platforms"]
    assert shown["mastodon"]["reply_to"]["continues"] == thread_id
    assert shown["mastodon"]["payloads"][0]["in_reply_to_id"] == mine[1].id
    assert shown["mastodon"]["payloads"][0]["status"] == "Part three. 3/4"
    assert shown["bluesky"]["payloads"][0]["reply"]["parent"]["uri"] == two["uri"]
    cont = run_cli("publish", "--yes", "--json", str(more), "--continue", thread_id[:6], env=env)
    assert cont.exit_code == 0, cont.stdout + cont.stderr
    later = [
        s for s in mastodon_server.published() if s.id not in {toot["id"], *(m.id for m in mine)}
    ]
    assert [(s.text, s.in_reply_to_id) for s in later] == [
        ("Part three. 3/4", mine[1].id),
        ("Part four. 4/4", later[0].id),
    ]
    three, four = _records(pds, pds_account["did"])[2:]
    assert [three["value"]["text"], four["value"]["text"]] == ["Part three. 3/4", "Part four. 4/4"]
    assert three["value"]["reply"] == {"root": root, "parent": _strong(two)}
    assert four["value"]["reply"] == {"root": root, "parent": _strong(three)}
    continued_id = json.loads(cont.stdout)["thread"]
    assert continued_id != thread_id
    # The ledger links the new thread to the one it continues.
    status = json.loads(run_cli("status", "--json", continued_id, env=env).stdout)
    assert status["platforms"]["mastodon"]["reply_to"]["continues"] == thread_id
    assert status["platforms"]["mastodon"]["reply_to"]["remote_id"] == mine[1].id
    shown = run_cli("status", continued_id, env=env).stdout
    assert f"continuing thread {thread_id}" in shown

    # Never twice: the same continuation again is refused, nothing sent.
    again = run_cli("publish", "--yes", str(more), "--continue", thread_id, env=env)
    assert again.exit_code == 1
    assert "already published" in again.stderr
    # Continuing the first thread again goes under the chain's end (the continuation).
    end = isolated_env / "end.md"
    end.write_text("The end.", encoding="utf-8")
    last = run_cli("publish", "--yes", str(end), "--continue", thread_id, env=env)
    assert last.exit_code == 0, last.stdout + last.stderr
    final = mastodon_server.published()[-1]
    assert (final.text, final.in_reply_to_id) == ("The end. 5/5", later[1].id)
    assert _records(pds, pds_account["did"])[-1]["value"]["reply"]["parent"] == _strong(four)


def test_a_missing_parent_is_refused_with_exit_3_and_nothing_sent(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    env = _env(mastodon_server, pds, pds_account)
    toot = _status(mastodon_server, "This one exists.")
    ghost = f"https://bsky.app/profile/{pds_account['handle']}/post/3aaaaaaaaaaaa"
    draft = isolated_env / "ghost.md"
    draft.write_text(
        f'+++\ntitle = "x"\nreply_to = {{ mastodon = "{toot["url"]}", bluesky = "{ghost}" }}\n'
        "+++\nAnyone there?",
        encoding="utf-8",
    )
    posted = len(mastodon_server.status_posts())
    result = run_cli("publish", "--yes", str(draft), env=env)
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "bluesky: reply_to (draft line 3)" in result.stderr
    assert ghost in result.stderr and "nothing was sent" in result.stderr
    assert len(mastodon_server.status_posts()) == posted  # not even to Mastodon
    assert pds.list_records(pds_account["did"], POST_COLLECTION) == []
    # Nothing recorded either: no thread in the ledger.
    assert json.loads(run_cli("status", "--json", env=env).stdout) == {"threads": []}


def test_continue_refuses_a_draft_with_reply_to_and_an_unknown_thread(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    env = _env(mastodon_server, pds, pds_account)
    draft = isolated_env / "both.md"
    draft.write_text(f'+++\nreply_to = "{mastodon_server.url}/@alice/1"\n+++\nHi.', "utf-8")
    result = run_cli("publish", "--yes", str(draft), "--continue", "abc", env=env)
    assert result.exit_code == 2
    assert f"{draft}:2" in result.stderr and "drop one of them" in result.stderr
    plain = isolated_env / "plain.md"
    plain.write_text("Hi.", "utf-8")
    result = run_cli("publish", "--yes", str(plain), "--continue", "abc", env=env)
    assert result.exit_code == 1
    assert "no thread 'abc'" in result.stderr
    assert mastodon_server.status_posts() == []


def test_a_scheduled_reply_finds_its_parent_when_scheduled_and_run_posts_under_it(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from cli_support import write_cron_logins
    from threadpost.clock import format_utc
    from threadpost.store import open_ledger

    env = {
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
    }
    write_cron_logins(tmp_path / "config.toml", mastodon_token=mastodon_server.token)
    parent = _status(mastodon_server, "Asked yesterday.")
    draft = tmp_path / "later.md"
    draft.write_text(
        f'+++\nplatforms = ["mastodon"]\nreply_to = "{parent["url"]}"\n+++\nAnswered later.',
        encoding="utf-8",
    )
    ghost = tmp_path / "ghost.md"
    ghost.write_text(
        f'+++\nplatforms = ["mastodon"]\nreply_to = "{mastodon_server.url}/@alice/999"\n+++\nNo.',
        encoding="utf-8",
    )
    refused = run_cli("schedule", str(ghost), "--at", "+1h", env=env)
    assert refused.exit_code == 3, refused.stdout + refused.stderr
    assert "mastodon: reply_to (draft line 3)" in refused.stderr

    scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert scheduled.exit_code == 0, scheduled.stdout + scheduled.stderr
    with open_ledger(tmp_path / "threadpost.db") as ledger:
        (record,) = ledger.threads()
        assert ledger.plan(record.id, "mastodon").reply_to.remote_id == parent["id"]  # type: ignore[union-attr]
        ledger.conn.execute(
            "UPDATE threads SET schedule_at = ?",
            (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
        )
    # Edited before its time: re-planned, still under the parent found when scheduled.
    draft.write_text(draft.read_text(encoding="utf-8") + " Edited.", encoding="utf-8")
    ran = run_cli("run", env=env)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    answer = mastodon_server.published()[-1]
    assert (answer.text, answer.in_reply_to_id) == ("Answered later. Edited.", parent["id"])


def test_a_scheduled_reply_whose_parent_was_edited_away_sends_nothing(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from cli_support import write_cron_logins
    from threadpost.clock import format_utc
    from threadpost.store import open_ledger

    env = {
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
    }
    write_cron_logins(tmp_path / "config.toml", mastodon_token=mastodon_server.token)
    first, second = _status(mastodon_server, "One."), _status(mastodon_server, "Two.")
    draft = tmp_path / "later.md"
    front = '+++\nplatforms = ["mastodon"]\nreply_to = "{}"\n+++\nAn answer.'
    draft.write_text(front.format(first["url"]), encoding="utf-8")
    assert run_cli("schedule", str(draft), "--at", "+1h", env=env).exit_code == 0
    with open_ledger(tmp_path / "threadpost.db") as ledger:
        ledger.conn.execute(
            "UPDATE threads SET schedule_at = ?",
            (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
        )
    draft.write_text(front.format(second["url"]), encoding="utf-8")
    posted = len(mastodon_server.status_posts())
    ran = run_cli("run", env=env)
    assert ran.exit_code != 0
    output = ran.stdout + ran.stderr
    assert "reply_to (draft line 3)" in output and "schedule" in output
    assert len(mastodon_server.status_posts()) == posted
