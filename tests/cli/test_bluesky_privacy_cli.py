"""Bluesky cannot keep a post private, and content warnings must not vanish there
(issue 12), end to end through the CLI against the real local PDS and the local Mastodon
API test server, asserting on what each server stored.

- A draft whose `visibility` (or `reply_visibility`) is private or direct and whose
  platforms include Bluesky is a `check` error for Bluesky; `publish`, `schedule` and
  `run` send nothing to either network. `--platform mastodon` publishes it privately.
- `bluesky_labels` puts self-labels on every post record; without it, images behind a
  content warning or marked `sensitive` get `graphic-media`; a content warning with no
  label chosen is a warning; `bluesky_labels = []` means none. Preview and dry run show
  the labels, and the CIDs computed locally still equal the PDS's.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import write_image
from mastodon_server.server import MastodonTestServer
from threadpost.platforms.bluesky.records import POST_COLLECTION, record_cid

pytestmark = pytest.mark.pds

APPLY_WRITES = "com.atproto.repo.applyWrites"
SELF_LABELS = "com.atproto.label.defs#selfLabels"


def _env(
    mastodon: MastodonTestServer, pds: pds_harness.LocalPDS, account: dict[str, Any]
) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": mastodon.url,
        "THREADPOST_MASTODON_TOKEN": mastodon.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
    }


def _records(pds: pds_harness.LocalPDS, account: dict[str, Any]) -> list[dict[str, Any]]:
    """The account's post records, oldest first ({"uri", "cid", "value"})."""
    return sorted(
        pds.list_records(account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )


# -- no private posts on Bluesky ----------------------------------------------------------


def test_a_private_thread_for_bluesky_is_refused_and_nothing_is_sent_anywhere(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    draft = isolated_env / "private.md"
    draft.write_text(
        '+++\nvisibility = "private"\n+++\nFor my followers only.\n---\nStill private.\n',
        encoding="utf-8",
    )
    env = _env(mastodon_server, pds, pds_account)
    writes_before = pds.count(APPLY_WRITES)

    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 3, checked.stdout + checked.stderr
    assert f"{draft}:2 bluesky: error: visibility is 'private', but Bluesky has no private" in (
        checked.stdout.replace("\n", " ")
    )
    as_json = json.loads(run_cli("check", "--json", str(draft), env=env).stdout)
    (problem,) = [p for p in as_json["problems"] if p["severity"] == "error"]
    assert (problem["platform"], problem["code"], problem["line"]) == (
        "bluesky",
        "visibility-not-on-bluesky",
        2,
    )
    assert 'platforms = ["mastodon"]' in problem["message"]
    assert "--platform mastodon" in problem["message"]

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 3, published.stdout + published.stderr
    assert "nothing was sent" in published.stderr
    assert "Bluesky has no private posts" in published.stderr

    scheduled = run_cli("schedule", "--at", "+2h", str(draft), env=env)
    assert scheduled.exit_code == 3, scheduled.stdout + scheduled.stderr
    assert run_cli("queue", env=env).stdout.strip() == "Nothing scheduled."
    ran = run_cli("run", "-v", env=env)
    assert ran.exit_code == 0
    assert ran.stdout.strip().endswith("] Nothing due.")

    # Nothing reached either network (not even a Mastodon status before Bluesky refused).
    assert mastodon_server.status_posts() == []
    assert pds.count(APPLY_WRITES) == writes_before
    assert _records(pds, pds_account) == []

    # The way out the message gives: Mastodon only, where the thread stays private.
    mastodon_only = run_cli("publish", "--yes", "--platform", "mastodon", str(draft), env=env)
    assert mastodon_only.exit_code == 0, mastodon_only.stderr
    assert [s.visibility for s in mastodon_server.published()] == ["private", "private"]
    assert _records(pds, pds_account) == []


def test_private_replies_or_a_configured_private_visibility_are_refused_too(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    env = _env(mastodon_server, pds, pds_account)
    replies = isolated_env / "replies.md"
    replies.write_text(
        '+++\nreply_visibility = "direct"\n+++\nPublic start.\n---\nDirect replies.\n',
        encoding="utf-8",
    )
    result = run_cli("publish", "--yes", str(replies), env=env)
    assert result.exit_code == 3
    assert "reply_visibility is 'direct', but Bluesky has no direct posts" in result.stderr

    # From the configuration: no line to name, the message says where it came from.
    (isolated_env / "config.toml").write_text('[mastodon]\nvisibility = "direct"\n')
    plain = isolated_env / "plain.md"
    plain.write_text("Hello.\n", encoding="utf-8")
    checked = json.loads(run_cli("check", "--json", str(plain), env=env).stdout)
    (problem,) = [p for p in checked["problems"] if p["severity"] == "error"]
    assert problem["line"] is None
    assert problem["message"].startswith(
        "the configuration's [mastodon] visibility is 'direct', but Bluesky has no direct posts"
    )
    assert run_cli("publish", "--yes", str(plain), env=env).exit_code == 3
    # The same draft to Mastodon alone is fine (and direct there).
    assert run_cli("publish", "--yes", "--platform", "mastodon", str(plain), env=env).exit_code == 0
    assert [s.visibility for s in mastodon_server.published()] == ["direct"]
    assert _records(pds, pds_account) == []


def test_run_does_not_send_a_private_plan_frozen_by_an_older_version_to_bluesky(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    """A ledger written before the fix may hold a private plan for Bluesky (and replies
    planned "unlisted" under a private first post): `run` must not make either public."""
    from threadpost.check import plan_draft
    from threadpost.clock import utc_now
    from threadpost.config import load_settings
    from threadpost.draft import read_draft
    from threadpost.publish import freeze_thread
    from threadpost.store import open_ledger

    draft_path = isolated_env / "old.md"
    draft_path.write_text("Old plan.\n---\nIts reply.\n", encoding="utf-8")
    draft = read_draft(draft_path)
    plans = {
        platform: replace(thread, visibility="private", reply_visibility="unlisted")
        for platform, thread in plan_draft(draft, load_settings(), offline=True).items()
    }
    now = utc_now()
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        freeze_thread(ledger, draft, plans, schedule_at=now - timedelta(minutes=1), now=now)

    env = _env(mastodon_server, pds, pds_account)
    ran = run_cli("run", env=env)
    assert ran.exit_code == 1, ran.stdout + ran.stderr
    assert "bluesky: failed" in ran.stdout
    assert "Bluesky has no private posts, so nothing was sent there" in ran.stderr
    assert _records(pds, pds_account) == []
    # Mastodon keeps the thread private, replies included (narrowed when sent).
    assert [s.visibility for s in mastodon_server.published()] == ["private", "private"]


# -- content warnings and sensitive media become self-labels ------------------------------


def test_chosen_labels_are_on_every_stored_record_and_the_cids_match(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], isolated_env: Path
) -> None:
    write_image(isolated_env / "img" / "a.png")
    draft = isolated_env / "labelled.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\ncw = "Nudity (art history)"\n'
        'bluesky_labels = ["nudity", "sexual", "nudity"]\n+++\n'
        "A painting.\n![A classical nude painting](img/a.png)\n---\nSome context.\n",
        encoding="utf-8",
    )
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    # The labels were chosen: no warning about the content warning.
    assert "content warning" not in published.stderr

    records = _records(pds, pds_account)
    assert [r["value"]["text"].split(" ")[0] for r in records] == ["A", "Some"]
    for record in records:
        assert record["value"]["labels"] == {
            "$type": SELF_LABELS,
            "values": [{"val": "nudity"}, {"val": "sexual"}],
        }
        # The PDS hashed the record threadpost computed, labels included.
        assert record_cid(record["value"]) == record["cid"]
    assert records[1]["value"]["reply"]["parent"]["cid"] == records[0]["cid"]


def test_a_content_warning_with_images_defaults_to_graphic_media_and_warns(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    write_image(isolated_env / "img" / "a.png")
    draft = isolated_env / "surgery.md"
    draft.write_text(
        '+++\ncw = "Eye surgery"\n+++\nHow a cataract is removed.\n'
        "![A surgeon's view of an eye during surgery](img/a.png)\n---\nIt takes minutes.\n",
        encoding="utf-8",
    )
    env = _env(mastodon_server, pds, pds_account)

    checked = json.loads(run_cli("check", "--json", str(draft), env=env).stdout)
    assert checked["ok"] is True
    (warning,) = checked["problems"]
    assert (warning["platform"], warning["code"], warning["line"]) == (
        "bluesky",
        "content-warning-not-on-bluesky",
        2,
    )
    assert "'Eye surgery' is not shown on Bluesky" in warning["message"]
    assert "labelled graphic-media" in warning["message"]
    assert "bluesky_labels = []" in warning["message"]

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    assert "Warning: bluesky: the content warning 'Eye surgery' is not shown" in published.stderr

    # Mastodon: the content warning; Bluesky: the label, on both posts.
    statuses = mastodon_server.published()
    assert [(s.spoiler_text, s.sensitive) for s in statuses] == [("Eye surgery", True)] * 2
    records = _records(pds, pds_account)
    assert len(records) == 2
    for record in records:
        assert record["value"]["labels"]["values"] == [{"val": "graphic-media"}]
        assert record_cid(record["value"]) == record["cid"]


def test_sensitive_images_default_to_graphic_media_and_an_empty_list_means_no_label(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], isolated_env: Path
) -> None:
    write_image(isolated_env / "img" / "a.png")
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    sensitive = isolated_env / "sensitive.md"
    sensitive.write_text(
        '+++\nplatforms = ["bluesky"]\nsensitive = true\n+++\n'
        "An injury, healed.\n![A scar on an arm](img/a.png)\n",
        encoding="utf-8",
    )
    published = run_cli("publish", "--yes", str(sensitive), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    assert "Warning" not in published.stderr

    unlabelled = isolated_env / "unlabelled.md"
    unlabelled.write_text(
        '+++\nplatforms = ["bluesky"]\ncw = "Spoilers"\nsensitive = true\nbluesky_labels = []\n'
        "+++\nThe butler did it.\n![The butler](img/a.png)\n",
        encoding="utf-8",
    )
    checked = json.loads(run_cli("check", "--json", str(unlabelled), env=env).stdout)
    assert checked["problems"] == []
    published = run_cli("publish", "--yes", str(unlabelled), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr

    by_text = {r["value"]["text"]: r for r in _records(pds, pds_account)}
    assert by_text["An injury, healed."]["value"]["labels"] == {
        "$type": SELF_LABELS,
        "values": [{"val": "graphic-media"}],
    }
    assert "labels" not in by_text["The butler did it."]["value"]
    for record in by_text.values():
        assert record_cid(record["value"]) == record["cid"]


def test_a_content_warning_without_images_or_labels_is_a_warning_and_no_label(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], isolated_env: Path
) -> None:
    draft = isolated_env / "spoiler.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\ncw = "Film spoilers"\n+++\nThe ship sinks.\n',
        encoding="utf-8",
    )
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 0
    flat = checked.stdout.replace("\n", " ")
    assert f"{draft}:3 bluesky: warning: the content warning 'Film spoilers'" in flat
    assert "its posts go out with no label" in flat

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr
    assert "Warning: bluesky: the content warning 'Film spoilers'" in published.stderr
    (record,) = _records(pds, pds_account)
    assert record["value"]["text"] == "The ship sinks."
    assert "labels" not in record["value"]


def test_an_unknown_label_is_a_draft_error_naming_its_line_and_nothing_is_sent(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], isolated_env: Path
) -> None:
    draft = isolated_env / "gore.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\nbluesky_labels = ["gore"]\n+++\nHello.\n',
        encoding="utf-8",
    )
    env = {
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
    }
    for command in (["check"], ["preview"], ["publish", "--yes"], ["publish", "--dry-run"]):
        result = run_cli(*command, str(draft), env=env)
        assert result.exit_code == 3, command
        assert f"{draft}:3: unknown Bluesky label 'gore' in bluesky_labels" in result.stderr
        assert "graphic-media, nudity, sexual, porn" in result.stderr
    assert _records(pds, pds_account) == []


# -- preview and dry run show the labels --------------------------------------------------


def test_preview_and_dry_run_show_the_labels(isolated_env: Path) -> None:
    write_image(isolated_env / "img" / "a.png")
    draft = isolated_env / "shown.md"
    draft.write_text(
        '+++\ncw = "Medical"\nbluesky_labels = ["graphic-media"]\n+++\n'
        "An X-ray.\n![A broken arm on an X-ray](img/a.png)\n---\nIt healed.\n",
        encoding="utf-8",
    )

    terminal = run_cli("preview", "--offline", str(draft))
    assert terminal.exit_code == 0, terminal.stderr
    assert "label: graphic-media" in terminal.stdout  # the Bluesky header
    assert terminal.stdout.count("Label: graphic-media") == 2  # each Bluesky card
    assert terminal.stdout.count("CW: Medical") == 2  # each Mastodon card

    as_json = json.loads(run_cli("preview", "--offline", "--json", str(draft)).stdout)
    assert as_json["platforms"]["bluesky"]["labels"] == ["graphic-media"]
    assert as_json["platforms"]["mastodon"]["labels"] == []
    assert as_json["platforms"]["bluesky"]["posts"][0]["text"].startswith("An X-ray.")

    page = isolated_env / "preview.html"
    assert run_cli("preview", "--offline", "--html", str(page), str(draft)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    bluesky = html[html.index('data-platform="bluesky"') :]
    assert bluesky.count('<div class="self-labels">Label: graphic-media</div>') == 2
    assert 'class="self-labels"' not in html[: html.index('data-platform="bluesky"')]

    dry = run_cli("publish", "--dry-run", "--offline", str(draft))
    assert dry.exit_code == 0, dry.stderr
    assert "labels: graphic-media" in dry.stdout
    assert dry.stdout.count(SELF_LABELS) == 2
    dry_json = json.loads(run_cli("publish", "--dry-run", "--offline", "--json", str(draft)).stdout)
    bluesky_payloads = dry_json["platforms"]["bluesky"]
    assert bluesky_payloads["labels"] == ["graphic-media"]
    for record in bluesky_payloads["payloads"]:
        assert record["labels"] == {"$type": SELF_LABELS, "values": [{"val": "graphic-media"}]}
    for status in dry_json["platforms"]["mastodon"]["payloads"]:
        assert "labels" not in status
        assert status["spoiler_text"] == "Medical"
