"""What threadpost keeps on disk is private whatever the umask: every folder it creates (the
state folder and its missing parents, the ledger's folder) is 0700, every file it writes
there (the link-check cache, the instance cache, the ledger) 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import run_cli
from linkserver import LinkServer, serve
from mastodon_server.server import MastodonTestServer, running_server


@pytest.fixture(scope="module")
def mastodon() -> Iterator[MastodonTestServer]:
    with running_server() as server:
        yield server


@pytest.fixture(scope="module")
def links() -> Iterator[LinkServer]:
    with serve() as server:
        yield server


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_check_and_queue_create_private_folders_and_files(
    tmp_path: Path, mastodon: MastodonTestServer, links: LinkServer, umask: int
) -> None:
    state = tmp_path / "home" / "state" / "threadpost"
    db = tmp_path / "home" / "data" / "threadpost" / "threadpost.db"
    draft = tmp_path / "draft.md"
    draft.write_text(
        # Bluesky links 127.0.0.1 URLs (Mastodon's twitter-text only real domains).
        f'+++\nplatforms = ["mastodon", "bluesky"]\n+++\nA post with a link {links.url("/ok")}\n',
        encoding="utf-8",
    )
    (tmp_path / "config.toml").write_text("")
    env = {
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_DB": str(db),
        "THREADPOST_STATE_DIR": str(state),
        "THREADPOST_MASTODON_INSTANCE": mastodon.url,
        "THREADPOST_BLUESKY_SERVICE": links.base,
        "THREADPOST_TIMEZONE": "UTC",
    }
    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 0, checked.stderr
    assert links.hits["HEAD /ok"] + links.hits["GET /ok"] >= 1, "the link was checked online"
    for cache in ("linkcheck.json", "mastodon-instances.json"):
        assert _mode(state / cache) == 0o600, cache
    queued = run_cli("queue", env=env)
    assert queued.exit_code == 0, queued.stderr
    assert _mode(db) == 0o600
    for folder in (
        tmp_path / "home",
        tmp_path / "home" / "state",
        state,
        tmp_path / "home" / "data",
        db.parent,
    ):
        assert _mode(folder) == 0o700, folder
