"""Named accounts on Bluesky (issue 15) against the real local PDS with two accounts:
`login bluesky --account work` and a draft with `account = "work"` publish as that account
and never as the default one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import run_cli
from threadpost.platforms.bluesky.session import session_path

pytestmark = pytest.mark.pds

POST = "app.bsky.feed.post"


def _account(pds: pds_harness.LocalPDS, prefix: str) -> dict[str, Any]:
    handle = pds_harness.unique_handle(prefix)
    return pds.create_account(handle, f"{prefix}-password-" + handle.split(".")[0])


def test_login_and_publish_with_the_work_account_on_the_pds(
    pds: pds_harness.LocalPDS, isolated_env: Path
) -> None:
    personal, work = _account(pds, "me"), _account(pds, "work")
    (isolated_env / "config.toml").write_text(
        f'[bluesky]\nservice = "{pds.url}"\nhandle = "{personal["handle"]}"\n\n'
        f'[accounts.work.bluesky]\nservice = "{pds.url}"\nhandle = "{work["handle"]}"\n',
        encoding="utf-8",
    )
    login = run_cli("login", "bluesky", "--account", "work", input=work["password"] + "\n")
    assert login.exit_code == 0, login.stderr
    assert f"Logged in as @{work['handle']}" in login.stdout
    assert session_path(isolated_env / "state", pds.url, work["handle"]).exists()
    saved = json.loads(
        (isolated_env / "state" / "accounts" / "work" / "bluesky-account.json").read_text()
    )
    assert saved == {"service": pds.url, "handle": work["handle"]}
    assert not (isolated_env / "state" / "bluesky-account.json").exists()

    draft = isolated_env / "thread.md"
    draft.write_text(
        '+++\nplatforms = ["bluesky"]\naccount = "work"\n+++\nFrom work.\n---\nStill work.\n',
        encoding="utf-8",
    )
    published = run_cli("publish", str(draft), "--yes")

    assert published.exit_code == 0, published.stderr
    texts = sorted(r["value"]["text"] for r in pds.list_records(work["did"], POST))
    assert texts == ["From work. 1/2", "Still work. 2/2"]
    assert pds.list_records(personal["did"], POST) == []
    status = run_cli("status")
    assert "bluesky (work) 2/2" in status.stdout
