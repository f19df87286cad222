"""Run threadpost's CLI in this process against the fake network of `tests/fakes.py`, for the
damaged-ledger cells that need a real file system condition (a full tmpfs, a read-only
mount) and therefore a process inside a mount namespace of its own.

Used as: python ledger_driver.py SERVER_DB DRAFT STEP... where each STEP is one of
`publish` (publish DRAFT), `publish-bluesky-down` (the same, Bluesky refusing connections),
`publish-fill-disk-at-2` (the disk holding the ledger is filled just before post 2 of
Mastodon), `free-disk` (remove the filler) and `run`. Prints one JSON list: per CLI step,
{"step", "exit", "stdout", "stderr", "sent"} (the post indexes on the
fake network after the step).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cli_support import run_cli
from fakes import FakeServer, install_fake_network


def fill_disk(folder: Path) -> None:
    """Write a filler file beside the ledger until the file system is full."""
    chunk = b"\0" * 4096
    with (folder / "filler").open("wb", buffering=0) as filler:
        while True:
            try:
                filler.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return


def one_step(server_db: str, draft: str, step: str) -> dict[str, object]:
    """One CLI step in this process, against the fake network."""
    ledger_folder = Path(os.environ["THREADPOST_DB"]).parent
    monkeypatch = pytest.MonkeyPatch()
    network = install_fake_network(monkeypatch, FakeServer(server_db))
    if step == "publish-bluesky-down":
        network["bluesky"].fail_at(1, "transient", times=99)
    if step == "publish-fill-disk-at-2":
        full = threading.Event()

        def fill_at_2(index: int) -> None:
            if index == 2:
                fill_disk(ledger_folder)
                full.set()

        network["mastodon"].before_post = fill_at_2

        # The networks publish at once: Bluesky starts once the disk is full.
        def after_the_disk_filled() -> None:
            if not full.wait(30):
                raise RuntimeError("Mastodon never reached post 2")

        network["bluesky"].before_keys = after_the_disk_filled
    args = ["run"] if step == "run" else ["publish", draft, "--yes"]
    result = run_cli(*args)
    sent = {
        platform: [post["idx"] for post in FakeServer(server_db).posts(platform)]
        for platform in ("mastodon", "bluesky")
    }
    return {
        "step": step,
        "exit": result.exit_code,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "sent": sent,
    }


def main() -> None:
    if sys.argv[1] == "--step":
        print(json.dumps(one_step(*sys.argv[2:5])))
        return
    server_db, draft, *steps = sys.argv[1:]
    results = []
    for step in steps:
        if step == "free-disk":
            (Path(os.environ["THREADPOST_DB"]).parent / "filler").unlink()
            continue
        # Each CLI step is a process of its own, as each cron tick is (a process that died
        # holding a lease leaves a row the next one takes over).
        completed = subprocess.run(
            [sys.executable, __file__, "--step", server_db, draft, step],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
