"""Publishing to Bluesky needs none of the atproto SDK's client (its import alone costs about
0.9 s): plain XRPC calls and the light parts (CIDs, DAG-CBOR). The saved session keeps the
SDK's session-string format, so sessions saved by either still load."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from atproto_client import Session

import pds_harness
from threadpost.platforms.bluesky.session import BlueskySession, jwt_expiry, pds_endpoint

PUBLISH_WITH_SAVED_SESSION = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from zoneinfo import ZoneInfo
    from threadpost.config import BlueskySettings, Settings
    from threadpost.draft import parse_draft
    from threadpost.plan import plan_thread
    from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
    from threadpost.platforms.bluesky.publisher import BlueskyPublisher

    service, handle, password, state = sys.argv[1:5]
    settings = Settings(
        config_path=None, db_path=Path(state) / "db", state_dir=Path(state),
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(service=service, handle=handle, app_password=password or None,
                                link_cards=False),
    )
    draft = parse_draft(b"One.\\n---\\nTwo, @nobody.test.\\n---\\nThree.", Path(state) / "d.md")
    thread = plan_thread(draft, BLUESKY_LIMITS)
    publisher = BlueskyPublisher(settings)
    if sys.argv[5] == "login":
        publisher.login()
    else:
        refs = []
        publisher.send(thread, publisher.post_keys("t", thread), start=1, root=None,
                       parent=None, confirm=refs.append)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("atproto", "atproto_client"))
        print(json.dumps({"refs": [r.remote_id for r in refs], "heavy": heavy}))
    """
)


def _run(pds: pds_harness.LocalPDS, account: dict[str, Any], state: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    out = subprocess.run(
        [sys.executable, "-c", PUBLISH_WITH_SAVED_SESSION, pds.url, account["handle"], *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_publishing_a_thread_imports_no_sdk_client(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    _run(pds, pds_account, state, pds_account["password"], str(state), "login")
    # No password this time: the saved session alone publishes.
    answer = json.loads(_run(pds, pds_account, state, "", str(state), "publish"))
    assert answer["heavy"] == []
    assert len(answer["refs"]) == 3
    rkey = answer["refs"][-1].rsplit("/", 1)[1]
    assert pds.get_record(pds_account["did"], "app.bsky.feed.post", rkey)["value"]["text"] == (
        "Three. 3/3"
    )


_CLAIMS = base64.urlsafe_b64encode(b'{"exp":1893456000,"sub":"did:plc:x"}').decode()
JWT_EXP_2030 = f"eyJhbGciOiJIUzI1NiJ9.{_CLAIMS.rstrip('=')}.c2ln"


def test_the_session_string_is_the_sdks_both_ways() -> None:
    ours = BlueskySession("me.test", "did:plc:abc", JWT_EXP_2030, "refresh.jwt.x", "http://h:1")
    theirs = Session.decode(ours.export())
    assert (theirs.handle, theirs.did, theirs.access_jwt, theirs.refresh_jwt) == (
        "me.test",
        "did:plc:abc",
        JWT_EXP_2030,
        "refresh.jwt.x",
    )
    assert theirs.pds_endpoint == "http://h:1"
    assert int(theirs.access_jwt_payload.exp) == 1893456000
    back = BlueskySession.decode(theirs.export())
    assert back == ours
    assert back.access_expiry() == datetime(2030, 1, 1, tzinfo=UTC)
    # The SDK's older four-field strings assumed bsky.social, as the SDK still does.
    old = BlueskySession.decode("me.test:::did:plc:abc:::a.b.c:::r.s.t")
    assert old.pds_endpoint == Session.decode("me.test:::did:plc:abc:::a.b.c:::r.s.t").pds_endpoint


@pytest.mark.parametrize("text", ["", "a:::b", "h:::d::::::r:::p", "not a session"])
def test_what_is_not_a_session_string_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        BlueskySession.decode(text)


def test_a_token_without_a_readable_expiry_is_refused() -> None:
    for token in ("", "abc", "a.%%%.c", "a.eyJ4IjoxfQ.c"):
        with pytest.raises(ValueError):
            jwt_expiry(token)


def test_the_pds_comes_from_the_did_document() -> None:
    doc = {
        "service": [
            {"id": "#other", "type": "Other", "serviceEndpoint": "https://no"},
            {
                "id": "did:plc:abc#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://pds.example",
            },
        ]
    }
    assert pds_endpoint(doc) == "https://pds.example"
    assert pds_endpoint({"service": "x"}) is None
    assert pds_endpoint(None) is None
