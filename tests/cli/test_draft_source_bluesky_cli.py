"""The draft as the source of truth and never twice for content on Bluesky too (issue 12),
through the CLI against the real local PDS (and the local Mastodon API test server),
asserting on the records the PDS stored.

- A draft edited after `schedule` is what `run` writes to the PDS.
- A thread published to Mastodon only is not a repeat on Bluesky: the same draft (or a copy)
  may still go there, while a copy to both networks is refused for Mastodon, with the way
  out (`--platform bluesky`) in the hint.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.clock import format_utc
from threadpost.platforms.bluesky.records import POST_COLLECTION
from threadpost.store import open_ledger

pytestmark = pytest.mark.pds


def _write_private(path: Path, text: str) -> None:
    """A config file holding credentials: mode 0600, as threadpost requires."""
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


DRAFT = """+++
platforms = ["mastodon", "bluesky"]
numbering = false
+++
Cameras on every corner.

---

Who reads the footage?
"""


def _configure(
    isolated_env: Path,
    mastodon: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    account: dict[str, Any],
) -> None:
    """Credentials in the config file (mode 0600), as a cron job will have them."""
    _write_private(
        isolated_env / "config.toml",
        f'[mastodon]\ninstance = "{mastodon.url}"\naccess_token = "{mastodon.token}"\n'
        f'[bluesky]\nservice = "{pds.url}"\nhandle = "{account["handle"]}"\n'
        f'app_password = "{account["password"]}"\n',
    )


def _texts(pds: pds_harness.LocalPDS, account: dict[str, Any]) -> list[str]:
    records = sorted(
        pds.list_records(account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    return [record["value"]["text"] for record in records]


def test_an_edit_after_schedule_is_what_the_pds_gets(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    _configure(isolated_env, mastodon_server, pds, pds_account)
    draft = isolated_env / "corners.md"
    draft.write_text(DRAFT, encoding="utf-8")
    scheduled = run_cli("schedule", str(draft), "--at", "+1h", "--platform", "bluesky")
    assert scheduled.exit_code == 0, scheduled.stdout + scheduled.stderr
    draft.write_text(DRAFT.replace("Who reads", "Who keeps"), encoding="utf-8")
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        ledger.conn.execute(
            "UPDATE threads SET schedule_at = ?",
            (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
        )
    ran = run_cli("run")
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert "changed since thread" in ran.stderr
    assert _texts(pds, pds_account) == ["Cameras on every corner.", "Who keeps the footage?"]
    # Bluesky only, as scheduled: the front matter's Mastodon was not added by the edit.
    assert mastodon_server.status_posts() == []


def test_a_network_not_yet_published_to_is_not_a_repeat(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    _configure(isolated_env, mastodon_server, pds, pds_account)
    original = isolated_env / "corners.md"
    original.write_text(DRAFT, encoding="utf-8")
    first = run_cli("publish", str(original), "--yes", "--platform", "mastodon")
    assert first.exit_code == 0, first.stderr
    first_id = first.stdout.split()[1].rstrip(":")

    copy = isolated_env / "corners-copy.md"
    shutil.copy(original, copy)
    both = run_cli("publish", str(copy), "--yes")
    assert both.exit_code == 1, both.stdout + both.stderr
    assert f"its mastodon posts are already online as thread {first_id}" in both.stderr
    assert "bluesky posts" not in both.stderr
    assert "Hint: --platform bluesky publishes it only where it is not online yet" in both.stderr
    assert _texts(pds, pds_account) == []

    # The copy to Bluesky alone: published there, nothing more on Mastodon.
    bluesky = run_cli("publish", str(copy), "--yes", "--platform", "bluesky")
    assert bluesky.exit_code == 0, bluesky.stdout + bluesky.stderr
    assert _texts(pds, pds_account) == ["Cameras on every corner.", "Who reads the footage?"]
    assert len(mastodon_server.published()) == 2

    # Now the posts are online on both networks: the original draft to Bluesky is a repeat
    # there (of the copy's thread), though its own thread went to Mastodon only.
    again = run_cli("publish", str(original), "--yes", "--platform", "bluesky")
    assert again.exit_code == 1, again.stdout + again.stderr
    copy_id = bluesky.stdout.split()[1].rstrip(":")
    (line,) = [x for x in bluesky.stdout.splitlines() if x.startswith("bluesky: published")]
    first_post_url = line.split()[-1]
    assert first_post_url.startswith("https://bsky.app/profile/")
    assert f"its bluesky posts are already online as thread {copy_id}" in again.stderr
    assert first_post_url in again.stderr


def test_an_edit_may_drop_a_scheduled_network_but_never_add_one(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    _configure(isolated_env, mastodon_server, pds, pds_account)
    draft = isolated_env / "corners.md"
    draft.write_text(DRAFT, encoding="utf-8")
    scheduled = run_cli("schedule", str(draft), "--at", "+1h")
    assert scheduled.exit_code == 0, scheduled.stdout + scheduled.stderr
    assert "(mastodon, bluesky)" in scheduled.stdout
    # The author takes Mastodon out of the draft (and edits a post) before its time.
    draft.write_text(
        DRAFT.replace('["mastodon", "bluesky"]', '["bluesky"]').replace("Who reads", "Who keeps"),
        encoding="utf-8",
    )
    with open_ledger(isolated_env / "threadpost.db") as ledger:
        ledger.conn.execute(
            "UPDATE threads SET schedule_at = ?",
            (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
        )
    ran = run_cli("run", "--json")
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    (item,) = json.loads(ran.stdout)["items"]
    assert list(item["result"]["platforms"]) == ["bluesky"]
    assert "bluesky 2 posts" in item["draft_warnings"][0]
    assert _texts(pds, pds_account) == ["Cameras on every corner.", "Who keeps the footage?"]
    assert mastodon_server.status_posts() == []
