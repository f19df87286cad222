"""A full disk and a read-only ledger, for real (issues 17, 18): `threadpost` runs in a user
and mount namespace of its own (`unshare -rm`; tests run as root, whom file modes do not
stop) with the ledger's folder on a 2 MiB tmpfs, or bind-mounted read-only. The network is
the fake one of `tests/fakes.py` (`ledger_driver.py`), its posts kept in a file outside the
mount so that the test reads them afterwards."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from reliability_report import LedgerCase, record_ledger_case

from cli_support import REPO_ROOT
from fakes import TWO_POST_DRAFT, FakeServer

DRIVER = Path(__file__).with_name("ledger_driver.py")
THREE_POSTS = TWO_POST_DRAFT.replace("Here is why.\n", "Here is why.\n\n---\n\nAnd how.\n")
TMPFS = 'mount -t tmpfs -o size=2m tmpfs "$0" && exec "$@"'
READ_ONLY = 'mount --bind -o ro "$0" "$0" && exec "$@"'


def _drive(tmp_path: Path, *steps: str, mount: str | None = None) -> list[dict[str, Any]]:
    """Run the driver's steps in one process (inside a fresh mount of the ledger's folder
    when `mount` is a script); return its per-step results."""
    folder = tmp_path / "ledger"
    env = {
        **os.environ,
        "THREADPOST_DB": str(folder / "threadpost.db"),
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT / "src"), str(REPO_ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    command = [sys.executable, str(DRIVER), str(tmp_path / "server.db"), str(_draft(tmp_path))]
    if mount is not None:
        unshare = shutil.which("unshare")
        assert unshare, "util-linux unshare is needed for the mounted-folder cases"
        command = [unshare, "-rm", "sh", "-c", mount, str(folder), *command]
    completed = subprocess.run(
        [*command, *steps], env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout.strip().splitlines()[-1])
    for result in results:
        assert "Traceback" not in result["stdout"] + result["stderr"], result
    return results


def _draft(tmp_path: Path) -> Path:
    (tmp_path / "ledger").mkdir(exist_ok=True)
    (tmp_path / "config.toml").write_text("")
    draft = tmp_path / "thread.md"
    if not draft.exists():
        draft.write_text(THREE_POSTS)
    return draft


def _sent(tmp_path: Path, platform: str) -> list[int]:
    return [int(str(p["idx"])) for p in FakeServer(tmp_path / "server.db").posts(platform)]


def test_a_full_disk_mid_thread_stops_the_send_and_run_resumes_once_space_is_freed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ledger" / "threadpost.db"
    published, resumed = _drive(tmp_path, "publish-fill-disk-at-2", "free-disk", "run", mount=TMPFS)
    assert published["exit"] == 1, published
    assert published["stderr"].startswith(f"Error: {db}: cannot write the ledger: the disk is full")
    assert "free some space" in published["stderr"]
    # Posts 2.. went out as the disk filled: up to the first commit that needed a new page
    # of the WAL file (each is `sending` in the ledger before it goes out); nothing to Bluesky.
    assert published["sent"]["mastodon"] in ([1, 2], [1, 2, 3]), published
    assert published["sent"]["bluesky"] == [], published
    assert resumed["exit"] == 0, resumed
    for platform in ("mastodon", "bluesky"):
        assert sorted(_sent(tmp_path, platform)) == [1, 2, 3], platform
    record_ledger_case(
        LedgerCase(
            "disk full (2 MiB tmpfs filled up) just before Mastodon post 2",
            "exit 1: `cannot write the ledger: the disk is full; stopped before sending "
            "anything that could not be recorded`; Mastodon 2 or 3 of 3 sent (the first write "
            "that needs a new block fails; every post sent is `sending` in the ledger), "
            "Bluesky 0",
            "space freed, `run` exit 0: 3/3 on each network, the posts in doubt found, not resent",
            "test_a_full_disk_mid_thread_stops_the_send_and_run_resumes_once_space_is_freed",
        )
    )


def test_a_ledger_made_read_only_refuses_run_and_resumes_once_writable(tmp_path: Path) -> None:
    db = tmp_path / "ledger" / "threadpost.db"
    (first,) = _drive(tmp_path, "publish-bluesky-down")
    assert first["exit"] == 4, first
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE platforms SET next_retry_at = NULL")
    conn.close()

    (refused,) = _drive(tmp_path, "run", mount=READ_ONLY)
    assert refused["exit"] == 1, refused
    assert refused["stderr"].startswith("Error: "), refused
    assert str(db) in refused["stderr"] and "cannot be written" in refused["stderr"], refused
    assert _sent(tmp_path, "bluesky") == []

    (resumed,) = _drive(tmp_path, "run")
    assert resumed["exit"] == 0, resumed
    for platform in ("mastodon", "bluesky"):
        assert sorted(_sent(tmp_path, platform)) == [1, 2, 3], platform
    record_ledger_case(
        LedgerCase(
            "ledger folder made read-only (read-only bind mount) while a thread is incomplete",
            "`run` exit 1: `the ledger … cannot be written (read-only file or folder)`; "
            "nothing sent",
            "writable again, `run` exit 0: Bluesky 3/3, Mastodon not resent",
            "test_a_ledger_made_read_only_refuses_run_and_resumes_once_writable",
        )
    )
