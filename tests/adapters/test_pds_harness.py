"""Smoke test of the local PDS harness, driven through the atproto Python SDK."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import pds_harness

pytestmark = pytest.mark.pds

CREATE_SESSION = "com.atproto.server.createSession"
POST = "app.bsky.feed.post"
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_tid_lock = threading.Lock()
_last_tid_us = 0


def _tid(clock_id: int = 7) -> str:
    """A record key TID: 53-bit µs timestamp + 10-bit clock id, base32-sortable, 13 chars."""
    global _last_tid_us
    with _tid_lock:
        us = max(time.time_ns() // 1000, _last_tid_us + 1)
        _last_tid_us = us
    n = (us << 10) | (clock_id & 0x3FF)
    return "".join(_B32[(n >> (5 * i)) & 31] for i in reversed(range(13)))


def _record_cid(record: dict[str, Any]) -> str:
    """CIDv1 dag-cbor sha2-256 of a record without links or bytes (as sent)."""
    import libipld

    digest = hashlib.sha256(libipld.encode_dag_cbor(record)).digest()
    return str(libipld.encode_cid(b"\x01\x71\x12\x20" + digest))


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def test_harness_serves_loopback_only(pds: pds_harness.LocalPDS) -> None:
    assert pds.running
    assert pds.url.startswith("http://localhost:")
    assert pds.plc_url.startswith("http://localhost:")
    assert pds.xrpc_get("_health")["version"]
    assert pds.log_path is not None and pds.log_path.exists()


def test_applywrites_thread_and_session_count(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any]
) -> None:
    from atproto import Client, models

    before = pds.count(CREATE_SESSION)
    client = Client(base_url=pds.url)
    client.login(pds_account["handle"], pds_account["password"], fetch_bsky_profile=False)
    assert pds.count(CREATE_SESSION) == before + 1
    did = pds_account["did"]
    assert client.me is None or client.me.did == did

    now = datetime.now(UTC)
    rkey1, rkey2 = _tid(), _tid()
    assert rkey1 < rkey2 and len(rkey1) == 13
    first = {"$type": POST, "text": "Harness post 1/2", "createdAt": _iso(now), "langs": ["en"]}
    uri1 = f"at://{did}/{POST}/{rkey1}"
    cid1 = _record_cid(first)
    # The SDK turns a dict value into its models and back, which adds the nested `$type`s;
    # send them explicitly so the CID computed here is the CID of what is sent.
    ref1 = {"$type": "com.atproto.repo.strongRef", "uri": uri1, "cid": cid1}
    second = {
        "$type": POST,
        "text": "Harness post 2/2 — a reply",
        "createdAt": _iso(now + timedelta(milliseconds=1)),
        "langs": ["en"],
        "reply": {"$type": "app.bsky.feed.post#replyRef", "root": ref1, "parent": ref1},
    }
    cid2 = _record_cid(second)

    Create = models.ComAtprotoRepoApplyWrites.Create
    out = client.com.atproto.repo.apply_writes(
        models.ComAtprotoRepoApplyWrites.Data(
            repo=did,
            writes=[
                Create(collection=POST, rkey=rkey1, value=first),
                Create(collection=POST, rkey=rkey2, value=second),
            ],
        )
    )
    assert out.results is not None
    assert [(r.uri, r.cid) for r in out.results] == [
        (uri1, cid1),
        (f"at://{did}/{POST}/{rkey2}", cid2),
    ]

    got1 = client.com.atproto.repo.get_record({"repo": did, "collection": POST, "rkey": rkey1})
    got2 = client.com.atproto.repo.get_record({"repo": did, "collection": POST, "rkey": rkey2})
    assert (got1.uri, got1.cid) == (uri1, cid1)
    assert got2.cid == cid2
    raw2 = pds.get_record(did, POST, rkey2)["value"]
    assert raw2["text"] == second["text"]
    assert raw2["reply"]["parent"] == ref1
    assert raw2["reply"]["root"] == ref1
    assert pds.get_record(did, POST, rkey1)["value"] == first

    # Writes and reads reuse the session: still exactly one createSession.
    assert pds.count(CREATE_SESSION) == before + 1
    assert pds.counts().get("com.atproto.repo.applyWrites", 0) >= 1
    assert any(
        r["nsid"] == "com.atproto.repo.applyWrites" and r["status"] == 200 for r in pds.requests()
    )


def test_handles_resolve_locally(pds: pds_harness.LocalPDS, pds_account: dict[str, Any]) -> None:
    got = pds.xrpc_get("com.atproto.identity.resolveHandle", {"handle": pds_account["handle"]})
    assert got["did"] == pds_account["did"]
    with pytest.raises(pds_harness.PDSRequestError):
        pds.xrpc_get("com.atproto.identity.resolveHandle", {"handle": "nobody-here.test"})
