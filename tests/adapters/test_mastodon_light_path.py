"""Publishing statuses to Mastodon never imports Mastodon.py (issue 14): its import costs
~0.2 s and its typed answers ~5 ms a status, all before or between the statuses. Nor
requests (~45-60 ms with urllib3 and charset_normalizer): the statuses go on threadpost's
wire (`http_wire`). A fresh `threadpost publish --yes` process publishes a 3-post thread
(a content warning, a language) to the Mastodon test server; at exit it lists the modules it
imported. The statuses are posted as JSON with their Idempotency-Keys and replies chained,
as Mastodon.py posted them. Nor does it import Bluesky's rules and records (libipld), nor
the image and video modules of attachments it does not have (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import publish_listing_modules
from mastodon_server.server import MastodonTestServer, running_server


@pytest.fixture
def server() -> Iterator[MastodonTestServer]:
    with running_server() as running:
        yield running


#: threadpost's modules (and libipld) that statuses of text do without.
_NOT_FOR_TEXT = (
    *("threadpost.platforms.bluesky.rules", "threadpost.platforms.bluesky.records", "libipld"),
    *("threadpost.images", "threadpost.image_upload", "threadpost.image_fit"),
    *("threadpost.videos", "threadpost.video_upload", "threadpost.linkcheck"),
)


def _publish(
    draft: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    watched = ("mastodon", "requests", "urllib3", "typer", *_NOT_FOR_TEXT)
    return publish_listing_modules(draft, env, watched, timeout=120)


def test_publishing_statuses_does_not_import_mastodon_py(
    server: MastodonTestServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env |= {
        "THREADPOST_CONFIG": str(config),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_MASTODON_INSTANCE": server.url,
        "THREADPOST_MASTODON_TOKEN": server.token,
        "THREADPOST_RETRY_WITHOUT_SLEEP": os.environ.get("THREADPOST_RETRY_WITHOUT_SLEEP", "1"),
    }
    texts = ["Light path, post one.", "Post two.", "Post three."]
    for run in (1, 2):  # the first run also checks the account and reads the instance
        draft = tmp_path / f"light-{run}.md"
        body = "\n\n---\n\n".join(f"Run {run}. {text}" for text in texts)
        draft.write_text(
            f'+++\nplatforms = ["mastodon"]\nlang = "fr"\ncw = "tests"\n+++\n{body}\n',
            encoding="utf-8",
        )
        before = len(server.status_posts())
        out, loaded = _publish(draft, env)
        assert out.returncode == 0, out.stderr
        assert not any(name.split(".")[0] == "mastodon" for name in loaded), loaded
        # A plain publish line runs without the command line (typer) being built.
        assert not any(name.split(".")[0] == "typer" for name in loaded), loaded
        assert sorted(set(_NOT_FOR_TEXT) & set(loaded)) == []
        if run == 2:  # the instance's limits are known: its statuses alone, no requests
            assert loaded == [], loaded
        assert server.token not in out.stdout + out.stderr

        report = json.loads(out.stdout)["platforms"]["mastodon"]
        assert (report["status"], report["published"], report["total"]) == ("published", 3, 3)
        posts = server.status_posts()[before:]
        assert len(posts) == 3
        assert all(request.json is not None for request in posts)  # sent as JSON
        keys = [request.idempotency_key for request in posts]
        assert all(keys) and len(set(keys)) == 3
        statuses = server.published()[-3:]
        assert [status.text for status in statuses] == [
            f"Run {run}. {text} {n}/3" for n, text in enumerate(texts, start=1)
        ]
        assert [status.in_reply_to_id for status in statuses] == [
            None,
            statuses[0].id,
            statuses[1].id,
        ]
        assert {(s.spoiler_text, s.language) for s in statuses} == {("tests", "fr")}
        # Replies are unlisted by default (reply_visibility), not to flood the timeline.
        assert [s.visibility for s in statuses] == ["public", "unlisted", "unlisted"]
        assert [s.idempotency_key for s in statuses] == keys
        assert [url.rsplit("/", 1)[-1] for url in report["urls"]] == [s.id for s in statuses]
