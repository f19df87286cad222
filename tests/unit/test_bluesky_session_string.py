"""The saved Bluesky session keeps the atproto SDK's session-string layout: files saved by
earlier releases (through the SDK) load, and files saved now load in the SDK. The access
token's expiry and the account's PDS (from the DID document) are read without the SDK."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from atproto_client import Session as SdkSession

from threadpost.platforms.bluesky.auth import pds_endpoint
from threadpost.platforms.bluesky.session import Session, SessionUnreadable, jwt_expiry


def _jwt(claims: object) -> str:
    def part(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'ES256K'})}.{part(claims)}.c2lnbmF0dXJl"


ACCESS = _jwt({"scope": "com.atproto.access", "sub": "did:plc:me", "exp": 1_800_000_000})
REFRESH = _jwt({"scope": "com.atproto.refresh", "sub": "did:plc:me", "exp": 1_900_000_000})


@pytest.mark.parametrize("endpoint", ["https://pds.example", "http://127.0.0.1:2583/xrpc"])
def test_a_string_the_sdk_saved_reads_the_same(endpoint: str) -> None:
    saved = SdkSession("me.test", "did:plc:me", ACCESS, REFRESH, endpoint).export()
    session = Session.decode(saved)
    assert (session.handle, session.did, session.pds_endpoint) == (
        "me.test",
        "did:plc:me",
        endpoint,
    )
    assert (session.access_jwt, session.refresh_jwt) == (ACCESS, REFRESH)
    # The SDK kept the base URL with its /xrpc; calls are made from the bare origin.
    assert session.base_url("https://other.example") == endpoint.removesuffix("/xrpc")
    assert session.encode() == saved


def test_a_string_saved_now_reads_in_the_sdk() -> None:
    session = Session("me.test", "did:plc:me", ACCESS, REFRESH, "https://pds.example")
    sdk = SdkSession.decode(session.encode())
    assert (sdk.handle, sdk.did, sdk.access_jwt, sdk.refresh_jwt, sdk.pds_endpoint) == (
        "me.test",
        "did:plc:me",
        ACCESS,
        REFRESH,
        "https://pds.example",
    )
    assert int(sdk.access_jwt_payload.exp) == int(session.access_expiry().timestamp())


def test_an_old_four_field_string_has_no_endpoint() -> None:
    session = Session.decode(f"me.test:::did:plc:me:::{ACCESS}:::{REFRESH}")
    assert session.pds_endpoint is None
    assert session.base_url("https://service.example/") == "https://service.example"


@pytest.mark.parametrize(
    "text", ["", "garbage", "a:::b:::c", "a:::b:::c:::d:::e:::f", f"me:::did::::::{REFRESH}"]
)
def test_what_is_not_a_session_string_is_refused(text: str) -> None:
    with pytest.raises(SessionUnreadable):
        Session.decode(text)


def test_the_access_expiry_is_the_token_s_exp_claim() -> None:
    assert jwt_expiry(ACCESS) == datetime.fromtimestamp(1_800_000_000, UTC)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        _jwt({"sub": "x"}),
        _jwt({"exp": "soon"}),
        _jwt([1]),
        _jwt({"exp": True}),
    ],
)
def test_a_token_without_a_readable_expiry_is_refused(token: str) -> None:
    with pytest.raises(SessionUnreadable) as caught:
        jwt_expiry(token)
    assert token not in str(caught.value)


def test_the_pds_comes_from_the_did_document() -> None:
    service = {"type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example"}
    doc = {"id": "did:plc:me", "service": [{"id": "#atproto_pds", **service}]}
    assert pds_endpoint(doc) == "https://pds.example"
    doc = {"id": "did:plc:me", "service": [{"id": "did:plc:me#atproto_pds", **service}]}
    assert pds_endpoint(doc) == "https://pds.example"
    assert pds_endpoint({"id": "did:plc:me", "service": [{"id": "#other", **service}]}) is None
    wrong_type = {**service, "type": "BskyFeedGenerator"}
    assert pds_endpoint({"id": "d", "service": [{"id": "#atproto_pds", **wrong_type}]}) is None
    not_http = {**service, "serviceEndpoint": "ftp://pds.example"}
    assert pds_endpoint({"id": "d", "service": [{"id": "#atproto_pds", **not_http}]}) is None
    assert pds_endpoint(None) is None
    assert pds_endpoint({"service": "nope"}) is None
