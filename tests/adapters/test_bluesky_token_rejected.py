"""A saved access token the PDS rejects before its expiry (a revoked or re-keyed session):
the call through `_xrpc` refreshes the session and is sent again once, with no new login,
and the rotated tokens are saved. Against the local PDS."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

import pds_harness
from threadpost.config import BlueskySettings, Settings
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.session import Session, load_session, save_session

pytestmark = pytest.mark.pds

CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
UPLOAD_BLOB = "com.atproto.repo.uploadBlob"


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(image, "PNG")
    return image.getvalue()


def _settings(pds: pds_harness.LocalPDS, account: dict[str, Any], state: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=state / "ledger.db",
        state_dir=state,
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service=pds.url, handle=account["handle"], app_password=account["password"]
        ),
    )


def _spoil_the_access_token(settings: Settings) -> str:
    """Replace the saved access token's signature (its expiry stays in the future, so no
    refresh is due before the call); the spoiled token."""
    bluesky = settings.bluesky
    saved = load_session(settings.state_dir, bluesky.service, bluesky.handle)
    assert saved is not None
    session = Session.decode(saved.session_string)
    header, payload, signature = session.access_jwt.split(".")
    spoiled = f"{header}.{payload}.{'A' * len(signature)}"
    assert spoiled != session.access_jwt
    session = replace(session, access_jwt=spoiled)
    save_session(
        settings.state_dir,
        replace(saved, session_string=session.encode()),
        handle=bluesky.handle,
    )
    return spoiled


def test_a_rejected_access_token_is_refreshed_and_the_call_retried_once(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    settings = _settings(pds, pds_account, tmp_path / "state")
    BlueskyPublisher(settings).account_id()  # logs in, saves the session
    spoiled = _spoil_the_access_token(settings)
    # The PDS serves the whole session (on this worker): only this test's requests count.
    pds.reset_counts()
    counts = pds.counts()

    publisher = BlueskyPublisher(settings)
    # uploadBlob needs the account's token (a getRecord would be answered without one).
    blob = publisher.upload_blob(_png(), "image/png", post=1)
    assert blob["mimeType"] == "image/png"

    upload = [r["status"] for r in pds.requests() if r["nsid"] == UPLOAD_BLOB]
    # Refused once (the PDS answers InvalidToken with 400), sent again after the refresh.
    assert upload == [400, 200]

    assert pds.count(REFRESH_SESSION) == counts.get(REFRESH_SESSION, 0) + 1
    assert pds.count(CREATE_SESSION) == counts.get(CREATE_SESSION, 0)
    bluesky = settings.bluesky
    saved = load_session(settings.state_dir, bluesky.service, bluesky.handle)
    assert saved is not None and Session.decode(saved.session_string).access_jwt != spoiled
