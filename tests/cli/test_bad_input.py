"""The bad-input corpus (tests/data/bad/): every case is refused with its expected message
and exit code, nothing is sent, and the ledger stays consistent.

Each case folder holds the files it needs (draft, config, database) and `case.toml`:
`command` (threadpost's arguments; `{case}` is the case's folder, copied to a temp dir),
`exit`, `message` (a fragment of stderr), optional `hint`, `config` (a file of the case used as the
config file), `env` (extra THREADPOST_* variables), `setup` (something the test builds:
files too big to commit, servers, read-only folders) and `unchanged` (files that must not
be modified). Every case runs against the local Mastodon test server (a fresh account
each), so "nothing sent" is checked on a server that would have accepted the posts.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from answering_server import answering_server
from cli_support import REPO_ROOT, CliResult, run_cli
from mastodon_server.server import MastodonTestServer, running_server

CORPUS = REPO_ROOT / "tests" / "data" / "bad"
CASES = sorted(path.name for path in CORPUS.iterdir() if (path / "case.toml").is_file())
#: The test server's image limit: small, so an "oversized" image stays small on disk.
IMAGE_LIMIT = 100_000


@pytest.fixture(scope="module")
def server() -> Iterator[MastodonTestServer]:
    with running_server(image_size_limit=IMAGE_LIMIT) as running:
        yield running


@pytest.fixture(scope="module")
def html_404_url() -> Iterator[str]:
    """A web server that answers every request with an HTML 404 page (not Mastodon)."""
    page = b"<!doctype html><html><body><h1>404 Not Found</h1></body></html>"
    with answering_server(404, "text/html; charset=utf-8", page) as url:
        yield url


@pytest.fixture
def local_pds(pds: Any) -> Any:
    """The session's PDS (tests/conftest.py), for the cases that need one."""
    return pds


def load_case(name: str) -> dict[str, Any]:
    with (CORPUS / name / "case.toml").open("rb") as file:
        return tomllib.load(file)


def noisy_png(path: Path, size: int = 300) -> None:
    """A PNG that does not compress (random pixels): about 3 bytes per pixel."""
    from PIL import Image

    rng = random.Random(7)
    Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3)).save(path)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_in_read_only_folder(folder: Path, args: list[str], env: dict[str, str]) -> CliResult:
    """Run threadpost with `folder` bind-mounted read-only, in a user + mount namespace of
    its own (tests run as root, and file modes do not stop root; a read-only mount does).
    The mount disappears with the namespace: nothing to clean up."""
    unshare = shutil.which("unshare")
    assert unshare, "util-linux unshare is needed for the read-only folder cases"
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    completed = subprocess.run(
        [
            unshare,
            "-rm",
            "sh",
            "-c",
            script,
            str(folder),
            sys.executable,
            "-m",
            "threadpost",
            *args,
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_refused_clearly_and_nothing_is_sent(
    name: str, server: MastodonTestServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    case = load_case(name)
    folder = tmp_path / name
    shutil.copytree(CORPUS / name, folder)
    username = "b" + uuid.uuid4().hex[:10]
    token = server.add_account(username)
    config = folder / case["config"] if "config" in case else tmp_path / "config.toml"
    if "config" not in case:
        config.write_text("")
    db = tmp_path / "threadpost.db"
    env: dict[str, str] = {
        "THREADPOST_CONFIG": str(config),
        "THREADPOST_DB": str(db),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": token,
    }
    env.update(case.get("env", {}))
    pds_writes_before = None
    setup = case.get("setup")
    if setup == "ten-megabyte-draft":
        line = "A sentence that repeats until the draft weighs ten megabytes. " * 16 + "\n"
        (folder / "draft.md").write_text(line * (10_500_000 // len(line)))
    elif setup == "oversized-image":
        noisy_png(folder / "big.png")
        assert (folder / "big.png").stat().st_size > IMAGE_LIMIT
    elif setup == "html-404-instance":
        env["THREADPOST_MASTODON_INSTANCE"] = request.getfixturevalue("html_404_url")
    elif setup == "bluesky-wrong-password":
        import pds_harness

        pds = request.getfixturevalue("local_pds")
        handle = pds_harness.unique_handle("bad")
        pds.create_account(handle, "the-right-password-123")
        env.update(
            THREADPOST_BLUESKY_SERVICE=pds.url,
            THREADPOST_BLUESKY_HANDLE=handle,
            THREADPOST_BLUESKY_APP_PASSWORD="a-wrong-password-456",
        )
        pds_writes_before = pds.count("com.atproto.repo.applyWrites")
    elif setup in ("read-only-folder", "read-only-existing-ledger"):
        (folder / "ro").mkdir()
        if setup == "read-only-existing-ledger":
            from threadpost.store import open_ledger

            open_ledger(folder / "ro" / "threadpost.db").close()
    else:
        assert setup is None, f"unknown setup {setup!r}"

    unchanged = {file: sha256(folder / file) for file in case.get("unchanged", [])}
    args = [arg.replace("{case}", str(folder)) for arg in case["command"]]
    if setup in ("read-only-folder", "read-only-existing-ledger"):
        result = run_in_read_only_folder(folder / "ro", args, env)
    else:
        result = run_cli(*args, env=env)

    output = result.stdout + result.stderr
    assert result.exit_code == case["exit"], output
    assert case["message"] in result.stderr, output
    assert result.stderr.startswith("Error: "), output
    if "hint" in case:
        assert f"Hint: {case['hint']}" in result.stderr, output
    assert "Traceback" not in output and "unexpected" not in output, output
    # Nothing sent: the account posted nothing, uploaded nothing.
    mine = [r for r in server.requests if r.account == username and r.method == "POST"]
    assert mine == [], [(r.method, r.path) for r in mine]
    assert server.published(username) == []
    if pds_writes_before is not None:
        pds = request.getfixturevalue("local_pds")
        assert pds.count("com.atproto.repo.applyWrites") == pds_writes_before
    # The ledger stays consistent: no thread recorded for a refused draft.
    if db.exists() and db.stat().st_size:
        from threadpost.store import open_ledger

        with open_ledger(db) as ledger:
            assert ledger.threads() == []
    for file, digest in unchanged.items():
        assert sha256(folder / file) == digest, f"{file} was modified"
