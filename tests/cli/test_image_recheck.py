"""Images are re-checked at publish time (issue 18): an image swapped after `schedule` for a
link to another file, or for one over the network's limit, fails the thread before anything
is sent, on the local Mastodon test server."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli_support import run_cli, write_cron_logins
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.clock import format_utc
from threadpost.store import open_ledger

#: The test server's image limit: small, so an oversized image stays small on disk.
IMAGE_LIMIT = 100_000

DRAFT = """+++
title = "Charts"
platforms = ["mastodon"]
+++
First post, no image.

---

Second post, with the chart.
![A bar chart of camera sales](chart.png)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[MastodonTestServer]:
    with running_server(image_size_limit=IMAGE_LIMIT) as running:
        yield running


def _png(path: Path, size: int) -> None:
    """A PNG of random pixels (it does not compress: about 3 bytes per pixel)."""
    from PIL import Image

    rng = random.Random(size)
    Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3)).save(path)


def _scheduled(tmp_path: Path, server: MastodonTestServer) -> tuple[dict[str, str], Path, str]:
    """A scheduled two-post draft whose second post has a valid image; its time moved into
    the past so that the next `run` publishes it. Returns (env, draft, account)."""
    account = "img" + str(random.randrange(10**9))
    env = {
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_MASTODON_INSTANCE": server.url,
    }
    # In the config file, not the environment: cron would not have the environment's token.
    write_cron_logins(tmp_path / "config.toml", mastodon_token=server.add_account(account))
    folder = tmp_path / "drafts"
    folder.mkdir()
    draft = folder / "charts.md"
    draft.write_text(DRAFT)
    _png(folder / "chart.png", 40)
    scheduled = run_cli("schedule", str(draft), "--at", "+1h", env=env)
    assert scheduled.exit_code == 0, scheduled.stdout + scheduled.stderr
    with open_ledger(tmp_path / "threadpost.db") as ledger:
        ledger.conn.execute(
            "UPDATE threads SET schedule_at = ?",
            (format_utc(datetime.now(UTC) - timedelta(minutes=1)),),
        )
    return env, draft, account


def _assert_refused_and_nothing_sent(
    tmp_path: Path, server: MastodonTestServer, env: dict[str, str], account: str, reason: str
) -> None:
    result = run_cli("run", env=env)
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert "Traceback" not in output, output
    assert "mastodon post 2: image chart.png changed since the thread was checked" in output
    assert reason in output
    posted = [r.path for r in server.requests if r.account == account and r.method == "POST"]
    assert posted == []
    assert server.published(account) == []
    with open_ledger(tmp_path / "threadpost.db") as ledger:
        (thread,) = ledger.threads()
        assert thread.state == "failed"
        assert thread.last_error is not None and reason in thread.last_error


def test_an_image_swapped_for_a_link_to_a_text_file_is_not_uploaded(
    tmp_path: Path, server: MastodonTestServer
) -> None:
    env, draft, account = _scheduled(tmp_path, server)
    secret = tmp_path / "notes.txt"
    secret.write_text("private notes, not an image\n")
    chart = draft.parent / "chart.png"
    chart.unlink()
    chart.symlink_to(secret)
    _assert_refused_and_nothing_sent(tmp_path, server, env, account, "symbolic link")


def test_an_image_swapped_for_a_too_large_one_sends_nothing(
    tmp_path: Path, server: MastodonTestServer
) -> None:
    env, draft, account = _scheduled(tmp_path, server)
    _png(draft.parent / "chart.png", 300)
    assert (draft.parent / "chart.png").stat().st_size > IMAGE_LIMIT
    _assert_refused_and_nothing_sent(tmp_path, server, env, account, "accepts at most")


def test_an_image_swapped_for_a_text_file_is_refused(
    tmp_path: Path, server: MastodonTestServer
) -> None:
    env, draft, account = _scheduled(tmp_path, server)
    (draft.parent / "chart.png").write_text("not an image any more\n")
    _assert_refused_and_nothing_sent(tmp_path, server, env, account, "not an image")


def test_an_unchanged_image_is_published(tmp_path: Path, server: MastodonTestServer) -> None:
    env, _, account = _scheduled(tmp_path, server)
    result = run_cli("run", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(server.published(account)) == 2


def test_an_image_swapped_for_a_heavier_one_that_can_be_fit_is_published_within_the_limit(
    tmp_path: Path, server: MastodonTestServer
) -> None:
    """Over the limit is no longer a refusal when the upload can make it fit: here the
    heavier file only carries padding, which re-encoding drops."""
    env, draft, account = _scheduled(tmp_path, server)
    chart = draft.parent / "chart.png"
    with chart.open("ab") as file:  # trailing bytes keep it a valid PNG, but heavier
        file.write(b"\0" * (IMAGE_LIMIT + 1))
    result = run_cli("run", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(server.published(account)) == 2
    (media,) = [m for m in server.media.values() if m.account == account]
    assert 0 < media.size <= IMAGE_LIMIT
