"""Messages in the author's words (issue 12, "Feedback"): plural forms, "UTC" (never
"Etc/UTC"), no library jargon for an unreadable image, TLS failures in plain words. Through
the CLI, against a local HTTPS page and the Mastodon API test server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import run_cli
from linkserver import LinkServer, closed_port, serve, tls_certificate
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer


@pytest.fixture
def secure_server(tmp_path: Path) -> Iterator[LinkServer]:
    # A certificate from a test CA this machine does not trust.
    context, _ = tls_certificate(tmp_path, "localhost")
    with serve(tls=context) as running:
        yield running


def test_a_tls_failure_is_said_in_plain_words(
    secure_server: LinkServer, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Instance limits from a closed loopback port: the defaults, nothing off the machine.
    monkeypatch.setenv("THREADPOST_MASTODON_INSTANCE", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("THREADPOST_BLUESKY_SERVICE", f"http://127.0.0.1:{closed_port()}")
    draft = isolated_env / "link.md"
    link = secure_server.url("/ok")
    draft.write_text(f'+++\nplatforms = ["bluesky"]\n+++\nRead {link}\n')
    result = run_cli("check", "--json", str(draft))
    messages = [p["message"] for p in json.loads(result.stdout)["problems"]]
    [message] = [m for m in messages if "127.0.0.1" in m] or [str(messages)]
    # Not "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: … (_ssl.c:1006)".
    assert "the secure connection was refused: its security certificate" in message
    assert "this computer does not trust" in message
    assert "SSL" not in message and "_ssl.c" not in message


def test_an_unreadable_image_says_what_to_do(isolated_env: Path) -> None:
    (isolated_env / "photo.png").write_bytes(b"this is no picture at all")
    draft = isolated_env / "image.md"
    draft.write_text('+++\nplatforms = ["mastodon"]\n+++\nLook.\n![A photo](photo.png)\n')
    result = run_cli("check", "--offline", str(draft))
    assert result.exit_code == 3
    assert "is not an image threadpost can read; save it as PNG, JPEG, GIF, WEBP" in (result.stdout)
    assert "Pillow" not in result.stdout + result.stderr


def test_utc_is_called_utc(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREADPOST_TIMEZONE", "Etc/UTC")
    draft = isolated_env / "late.md"
    draft.write_text("+++\nschedule = 2020-01-01T09:00:00\n+++\nHello.\n")
    result = run_cli("check", "--offline", str(draft))
    assert "schedule 2020-01-01 09:00 UTC is in the past" in result.stdout
    assert "Etc/UTC" not in result.stdout + result.stderr


def test_counts_have_their_plural(mastodon_server: MastodonTestServer, isolated_env: Path) -> None:
    env = {
        "THREADPOST_MASTODON_INSTANCE": mastodon_server.url,
        "THREADPOST_MASTODON_TOKEN": mastodon_server.token,
    }
    draft = isolated_env / "two.md"
    draft.write_text('+++\nplatforms = ["mastodon"]\n+++\nOne.\n---\nTwo.\n')
    mastodon_server.faults.add("error", at_count=2, times=None, status=503)
    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 4, published.stderr
    thread_id = published.stdout.split()[1].rstrip(":")
    cancelled = run_cli("cancel", thread_id, env=env)
    assert cancelled.exit_code == 0, cancelled.stderr
    assert "1 post already published stays online" in cancelled.stderr
    mastodon_server.faults.clear()
    deleted = run_cli("delete", thread_id, "--yes", env=env)
    assert "mastodon: deleted 1 post\n" in deleted.stdout
