"""Reply controls, quote controls, record tags and quote posts (issue 15) against the real
reference PDS: the threadgate/postgate records read back with listRecords, written in the
same atomic applyWrites as their posts (also across chunks), quotes resolved from a
bsky.app address to a strong ref, a missing quoted post refused with nothing sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from test_bluesky import APPLY_WRITES, POST, make_publisher, make_settings, make_thread, publish

import pds_harness
from threadpost.errors import PermanentError
from threadpost.platforms.bluesky import publisher as bluesky_module
from threadpost.platforms.bluesky.records import record_cid
from threadpost.store import thread_from_json, thread_to_json

pytestmark = pytest.mark.pds

THREADGATE = "app.bsky.feed.threadgate"
POSTGATE = "app.bsky.feed.postgate"


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def test_reply_and_quote_controls_are_stored_with_the_posts(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    draft = (
        '+++\nbluesky_replies = ["mentioned", "followers"]\nbluesky_quotes = false\n'
        'bluesky_tags = ["#cities", "privacy"]\n+++\n'
        "Who may answer this?\n---\nA reply.\n> tags #one #two\n---\nThe end."
    )
    thread = make_thread(draft, tmp_path)
    # The frozen plan keeps the controls (the ledger's round trip).
    thread = thread_from_json(thread_to_json(thread))
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    before = pds.count(APPLY_WRITES)
    keys, refs = publish(publisher, thread)
    assert pds.count(APPLY_WRITES) == before + 1  # posts and gates in one commit
    did = pds_account["did"]

    (gate,) = pds.list_records(did, THREADGATE)
    assert _rkey(gate["uri"]) == keys[0].key
    assert gate["value"]["post"] == refs[0].remote_id
    assert gate["value"]["allow"] == [
        {"$type": "app.bsky.feed.threadgate#mentionRule"},
        {"$type": "app.bsky.feed.threadgate#followerRule"},
    ]
    postgates = pds.list_records(did, POSTGATE)
    assert sorted(_rkey(g["uri"]) for g in postgates) == sorted(k.key for k in keys)
    for record in postgates:
        assert record["value"]["post"].endswith(_rkey(record["uri"]))
        assert record["value"]["embeddingRules"] == [
            {"$type": "app.bsky.feed.postgate#disableRule"}
        ]

    values = [pds.get_record(did, POST, key.key)["value"] for key in keys]
    assert [v.get("tags") for v in values] == [["cities", "privacy"], ["one", "two"], None]
    stored = [pds.get_record(did, POST, key.key)["cid"] for key in keys]
    assert stored == [ref.cid for ref in refs]


def test_nobody_may_reply_is_an_empty_allow_list(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread('+++\nbluesky_replies = "nobody"\n+++\nClosed.', tmp_path)
    keys, _ = publish(make_publisher(make_settings(pds, pds_account, tmp_path / "s")), thread)
    (gate,) = pds.list_records(pds_account["did"], THREADGATE)
    assert (_rkey(gate["uri"]), gate["value"]["allow"]) == (keys[0].key, [])
    assert pds.list_records(pds_account["did"], POSTGATE) == []


def test_gates_go_in_the_chunk_of_their_post(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bluesky_module, "MAX_WRITES_PER_CALL", 5)
    body = "\n\n---\n\n".join(f"Gated {n}." for n in range(1, 7))
    thread = make_thread(
        f'+++\nbluesky_replies = "following"\nbluesky_quotes = false\n+++\n{body}', tmp_path
    )
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    sent: list[list[dict[str, Any]]] = []
    real = publisher._xrpc

    def spy(nsid: str, **kwargs: Any) -> dict[str, Any]:
        if nsid == APPLY_WRITES:
            sent.append(kwargs["body"]["writes"])
        return real(nsid, **kwargs)

    monkeypatch.setattr(publisher, "_xrpc", spy)
    keys, refs = publish(publisher, thread)
    # 6 posts + 6 postgates + 1 threadgate = 13 writes: ≤ 5 a call, a post never apart
    # from its gates, the threadgate with the root.
    assert [len(w) for w in sent] == [5, 4, 4]
    first = sent[0][:3]
    assert [w["collection"] for w in first] == [POST, THREADGATE, POSTGATE]
    assert {w["rkey"] for w in first} == {keys[0].key}
    for writes in sent:
        posts = {w["rkey"] for w in writes if w["collection"] == POST}
        assert {w["rkey"] for w in writes} == posts
    did = pds_account["did"]
    assert len(pds.list_records(did, POSTGATE)) == 6
    assert len(pds.list_records(did, THREADGATE)) == 1
    # The in-doubt look-up still reads the planned post rkeys.
    found = publisher.find_published(keys)
    assert [f.cid if f else None for f in found] == [r.cid for r in refs]


def test_a_quote_of_a_bsky_app_address_embeds_a_strong_ref(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    other = pds.create_account(pds_harness.unique_handle("qt"), "quoted-password-1")
    quoted_keys, quoted_refs = publish(
        make_publisher(make_settings(pds, other, tmp_path / "other")),
        make_thread("Worth quoting.", tmp_path),
    )
    address = f"https://bsky.app/profile/{other['handle']}/post/{quoted_keys[0].key}"
    picture = tmp_path / "pic.png"
    Image.new("RGB", (40, 20), "blue").save(picture)
    thread = make_thread(
        f"Look at this.\n> quote {address}\n---\nAnd with a picture.\n> quote {address}\n"
        "![A blue box](pic.png)",
        tmp_path,
    )
    keys, refs = publish(make_publisher(make_settings(pds, pds_account, tmp_path / "s")), thread)
    strong = {"uri": quoted_refs[0].remote_id, "cid": quoted_refs[0].cid}
    assert strong["uri"].startswith(f"at://{other['did']}/")
    did = pds_account["did"]
    first = pds.get_record(did, POST, keys[0].key)
    assert first["value"]["embed"] == {"$type": "app.bsky.embed.record", "record": strong}
    second = pds.get_record(did, POST, keys[1].key)["value"]["embed"]
    assert second["$type"] == "app.bsky.embed.recordWithMedia"
    assert second["record"] == {"$type": "app.bsky.embed.record", "record": strong}
    assert second["media"]["$type"] == "app.bsky.embed.images"
    assert first["cid"] == refs[0].cid == record_cid(first["value"])


def test_a_missing_quoted_post_is_refused_before_anything_is_sent(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    address = f"https://bsky.app/profile/{pds_account['handle']}/post/3aaaaaaaaaaaa"
    thread = make_thread(f"Fine.\n---\nQuoting a ghost.\n> quote {address}\n", tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    before = pds.count(APPLY_WRITES)
    with pytest.raises(PermanentError) as caught:
        publish(publisher, thread)
    assert caught.value.post == 2
    assert "post 2 (draft line 4)" in caught.value.message
    assert address in caught.value.message
    assert "does not exist" in caught.value.message
    assert pds.count(APPLY_WRITES) == before
    assert pds.list_records(pds_account["did"], POST) == []

    unknown = "https://bsky.app/profile/nobody-here.test/post/3aaaaaaaaaaaa"
    with pytest.raises(PermanentError) as caught:
        publish(publisher, make_thread(f"Hm.\n> quote {unknown}\n", tmp_path))
    assert "not a Bluesky account" in caught.value.message
    assert pds.list_records(pds_account["did"], POST) == []


def test_deleting_a_gated_thread_deletes_its_gates(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread(
        '+++\nbluesky_replies = "nobody"\nbluesky_quotes = false\n+++\nA\n---\nB', tmp_path
    )
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    _, refs = publish(publisher, thread)
    did = pds_account["did"]
    assert len(pds.list_records(did, POSTGATE)) == 2
    publisher.delete(refs)
    assert pds.list_records(did, POST) == []
    assert pds.list_records(did, THREADGATE) == []
    assert pds.list_records(did, POSTGATE) == []
