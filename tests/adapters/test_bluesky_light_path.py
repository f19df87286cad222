"""Publishing to Bluesky never imports the atproto SDK's client (issue 14): importing
`atproto_client` alone costs ~0.85 s, more than the whole publish. A fresh `threadpost
publish --yes` process publishes a 3-post thread (with a mention, so resolveHandle runs)
to the real local PDS, first logging in, then again from the saved session; at exit the
process lists the atproto modules it imported. CIDs still come from libipld. Nor does it
import threadpost's modules for what a thread of text does not have (issue 14: ~0.3 ms a
module, ~0.45 ms a frozen dataclass): attachments, quotes, a post replied to, reply and
quote gates, Mastodon's rules; nor, for a third thread without a mention, the checker of
links and handles."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pds_harness
from cli_support import publish_listing_modules
from threadpost.platforms.bluesky.records import POST_COLLECTION
from threadpost.platforms.bluesky.session import session_path

pytestmark = pytest.mark.pds

CREATE_SESSION = "com.atproto.server.createSession"
APPLY_WRITES = "com.atproto.repo.applyWrites"
RESOLVE_HANDLE = "com.atproto.identity.resolveHandle"

#: threadpost's modules that a thread of text, mentions and all, does without on Bluesky.
_NOT_FOR_TEXT = tuple(
    f"threadpost.{name}"
    for name in (
        *("images", "image_upload", "image_fit", "attachment_fit", "language_tags", "aliases"),
        *("videos", "video_limits", "video_route", "video_upload", "gif_to_video"),
        *("platforms.bluesky.video", "platforms.bluesky.video_path", "platforms.bluesky.gif_video"),
        *("platforms.bluesky.video_service", "platforms.bluesky.video_service_upload"),
        *("platforms.bluesky.quotes", "platforms.bluesky.reply_parent"),
        "platforms.bluesky.interactions",
        *("platforms.mastodon.rules", "platforms.mastodon.statuses", "platforms.mastodon.polls"),
        *("platforms.mastodon.quotes", "platforms.mastodon.known_account"),
    )
)
#: The heavy packages a publish can do without (and the wire it needs), listed at its exit.
_WATCHED = (
    *("atproto", "atproto_client", "pydantic", "libipld", "sqlite_utils"),
    *("httpx", "httpcore", "h11", "pygments", "click", "typer", "threadpost.http_wire"),
    *("http", "email", "ssl"),
    *_NOT_FOR_TEXT,
    "threadpost.linkcheck",
)


def _publish(
    draft: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    return publish_listing_modules(draft, env, _WATCHED)


def test_publishing_a_thread_does_not_import_the_sdk_client(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    friend = pds.create_account(pds_harness.unique_handle("lf"), "friend-password-1")
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env |= {
        "THREADPOST_CONFIG": str(config),
        "THREADPOST_DB": str(tmp_path / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(tmp_path / "state"),
        "THREADPOST_TIMEZONE": "UTC",
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": pds_account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": pds_account["password"],
        "THREADPOST_RETRY_WITHOUT_SLEEP": os.environ.get("THREADPOST_RETRY_WITHOUT_SLEEP", "1"),
    }
    texts = [f"Light path, post one, hello @{friend['handle']}.", "Post two.", "Post three."]

    for run, logs_in in ((1, True), (2, False)):
        draft = tmp_path / f"light-{run}.md"
        body = "\n\n---\n\n".join(f"Run {run}. {text}" for text in texts)
        draft.write_text(f'+++\nplatforms = ["bluesky"]\n+++\n{body}\n', encoding="utf-8")
        before = pds.counts()
        out, loaded = _publish(draft, env)
        assert out.returncode == 0, out.stderr
        assert "atproto_client" not in loaded and "atproto" not in loaded, loaded
        assert not any(name.startswith("pydantic") for name in loaded), loaded
        assert "libipld" in loaded  # the CIDs are computed, with the light part
        # The handle look-up and the applyWrites go over threadpost's wire (`http_wire`): no
        # httpx (~50-65 ms with its client), nor its command-line tool's click and pygments.
        assert "threadpost.http_wire" in loaded, loaded
        assert not any(name.split(".")[0] in ("httpx", "httpcore", "h11") for name in loaded)
        # Nor http.client (~12-14 ms with the email package it parses headers with), and
        # no ssl for a plain-http server.
        assert not any(name.split(".")[0] in ("http", "email", "ssl") for name in loaded), loaded
        assert not any(name.startswith("pygments") for name in loaded), loaded
        # A plain publish line runs without the command line (typer) being built.
        assert not any(name.split(".")[0] == "typer" for name in loaded), loaded
        assert sorted(set(_NOT_FOR_TEXT) & set(loaded)) == []
        if not logs_in:
            # An existing ledger is written with plain SQL: sqlite-utils (~70 ms to
            # import, with click for its plugins) is for migrations, which the first
            # run's new ledger needed.
            assert not any(name.split(".")[0] in ("sqlite_utils", "click") for name in loaded)

        after = pds.counts()
        assert after.get(CREATE_SESSION, 0) - before.get(CREATE_SESSION, 0) == int(logs_in)
        assert after.get(APPLY_WRITES, 0) == before.get(APPLY_WRITES, 0) + 1
        assert after.get(RESOLVE_HANDLE, 0) > before.get(RESOLVE_HANDLE, 0)
        assert pds_account["password"] not in out.stdout + out.stderr
        assert "eyJ" not in out.stdout + out.stderr  # no token either

        report = json.loads(out.stdout)["platforms"]["bluesky"]
        assert (report["status"], report["published"], report["total"]) == ("published", 3, 3)
        rkeys = [url.rsplit("/", 1)[-1] for url in report["urls"]]
        records = [pds.get_record(pds_account["did"], POST_COLLECTION, rkey) for rkey in rkeys]
        values = [record["value"] for record in records]
        assert [value["text"] for value in values] == [
            f"Run {run}. {text} {n}/3" for n, text in enumerate(texts, start=1)
        ]
        # Replies point at their root and parent with the CIDs computed here: the server
        # accepted them and they are the stored records' own.
        assert values[2]["reply"]["root"] == {"uri": records[0]["uri"], "cid": records[0]["cid"]}
        assert values[2]["reply"]["parent"] == {"uri": records[1]["uri"], "cid": records[1]["cid"]}
        mention = values[0]["facets"][0]["features"][0]
        assert mention["did"] == friend["did"]

    saved = session_path(tmp_path / "state", pds.url, pds_account["handle"])
    assert saved.stat().st_mode & 0o777 == 0o600

    # Text alone, no mention to look up: nor is the link and handle checker imported.
    draft = tmp_path / "light-3.md"
    draft.write_text('+++\nplatforms = ["bluesky"]\n+++\nRun 3, text.\n\n---\n\nAlone.\n')
    out, loaded = _publish(draft, env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["platforms"]["bluesky"]["published"] == 2
    assert "threadpost.http_wire" in loaded  # the probe sees threadpost's modules
    assert sorted({*_NOT_FOR_TEXT, "threadpost.linkcheck"} & set(loaded)) == []
