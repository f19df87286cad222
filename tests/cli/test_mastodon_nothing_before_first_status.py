"""`threadpost publish` to Mastodon sends nothing avoidable before its first status (issue
14): once the token's account is known (remembered after the first publish), the instance's
limits cached, a publish's first request is the first status itself. Counted on the
Mastodon API test server, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer

VERIFY = ("GET", "/api/v1/accounts/verify_credentials")
STATUS = ("POST", "/api/v1/statuses")


def _publish(server: MastodonTestServer, folder: Path, text: str) -> list[tuple[str, str]]:
    """Publish a two-post draft; the requests it made, in order."""
    folder.mkdir()
    draft = folder / "thread.md"
    draft.write_text(f'+++\nplatforms = ["mastodon"]\n+++\n{text}\n---\nAnd more.\n')
    env = {
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
    }
    before = len(server.requests)
    result = run_cli("publish", "--yes", "--json", str(draft), env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["platforms"]["mastodon"]["published"] == 2
    return [(r.method, r.path) for r in server.requests[before:]]


def test_the_second_publish_starts_with_its_first_status(
    mastodon_server: MastodonTestServer, isolated_env: Path
) -> None:
    first = _publish(mastodon_server, isolated_env / "a", "One.")
    assert first.count(VERIFY) == 1, first  # the account, asked once
    second = _publish(mastodon_server, isolated_env / "b", "Two.")
    assert second == [STATUS, STATUS], second
