"""Bluesky records built from planned posts: facets in UTF-8 bytes for any text, langs,
createdAt order, replies, embeds, CIDs (a vector verified against the real PDS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from threadpost.draft import parse_draft
from threadpost.plan import PlannedPost, Thread, plan_thread
from threadpost.platforms.bluesky.records import (
    LinkCardData,
    UploadedImage,
    blob_ref,
    card_link,
    created_at_sequence,
    draft_records,
    external_embed,
    images_embed,
    iso_millis,
    langs_for,
    mention_handles,
    post_record,
    record_cid,
    strong_ref,
    web_url,
)
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS


def plan(text: str, tmp_path: Path) -> Thread:
    return plan_thread(parse_draft(text.encode(), tmp_path / "d.md"), BLUESKY_LIMITS)


def spans(record: dict[str, object]) -> list[tuple[str, str, str]]:
    """(feature type suffix, covered text, target) of each facet, sliced in UTF-8 bytes."""
    encoded = str(record["text"]).encode()
    out = []
    for facet in record.get("facets", []):  # type: ignore[attr-defined]
        index = facet["index"]
        covered = encoded[index["byteStart"] : index["byteEnd"]].decode()
        feature = facet["features"][0]
        kind = feature["$type"].split("#")[1]
        target = feature.get("uri") or feature.get("did") or feature.get("tag")
        out.append((kind, covered, target))
    return out


NON_ASCII = (
    "Café déjà vu 🇫🇷🇯🇵 👩‍👩‍👧 with @alice.test, see https://exämple.com/päth?q=ü "
    "and example.org/x. #Ünïcode #日本語 ✨ @bob.test"
)


def test_facets_cover_the_right_bytes_in_non_ascii_text(tmp_path: Path) -> None:
    thread = plan(NON_ASCII, tmp_path)
    (post,) = thread.posts
    record, dropped = post_record(
        post,
        created_at="2026-01-01T00:00:00.000Z",
        lang=None,
        mention_dids={"alice.test": "did:plc:alice"},
    )
    got = spans(record)
    assert ("mention", "@alice.test", "did:plc:alice") in got
    assert ("link", "https://exämple.com/päth?q=ü", "https://exämple.com/päth?q=ü") in got
    assert ("link", "example.org/x", "https://example.org/x") in got
    assert ("tag", "#Ünïcode", "Ünïcode") in got
    assert ("tag", "#日本語", "日本語") in got
    # @bob.test has no DID: no facet, the text is unchanged, and it is reported.
    assert not any(covered == "@bob.test" for _, covered, _ in got)
    assert [(d.post, d.handle) for d in dropped] == [(1, "bob.test")]
    assert record["text"] == post.text


def test_record_shape_and_langs(tmp_path: Path) -> None:
    thread = plan('+++\nlang = "fr"\n+++\nBonjour', tmp_path)
    record, _ = post_record(
        thread.posts[0], created_at="2026-01-01T00:00:00.000Z", lang=thread.lang, mention_dids={}
    )
    assert record == {
        "$type": "app.bsky.feed.post",
        "text": "Bonjour",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "langs": ["fr"],
    }
    no_lang, _ = post_record(
        thread.posts[0], created_at="2026-01-01T00:00:00.000Z", lang=None, mention_dids={}
    )
    assert "langs" not in no_lang  # never the SDK's default "en"
    assert langs_for("fr, en;de, it") == ["fr", "en", "de"]
    assert langs_for("") is None


def test_reply_and_embed(tmp_path: Path) -> None:
    post = plan("Reply", tmp_path).posts[0]
    root = strong_ref("at://did:plc:x/app.bsky.feed.post/3aaaaaaaaaaaa", "bafyroot")
    parent = strong_ref("at://did:plc:x/app.bsky.feed.post/3aaaaaaaaaaab", "bafyparent")
    blob = blob_ref("bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy", "image/png", 10)
    embed = images_embed([UploadedImage(blob=blob, alt="A red square", width=30, height=20)])
    record, _ = post_record(
        post,
        created_at="2026-01-01T00:00:00.000Z",
        lang=None,
        mention_dids={},
        reply=(root, parent),
        embed=embed,
    )
    assert record["reply"] == {"root": root, "parent": parent}
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {"alt": "A red square", "image": blob, "aspectRatio": {"width": 30, "height": 20}}
        ],
    }
    card = external_embed(LinkCardData(uri="https://e.com", title="T", description="D"))
    assert card == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://e.com", "title": "T", "description": "D"},
    }


def test_created_at_is_strictly_increasing_by_one_millisecond() -> None:
    start = datetime(2026, 3, 1, 9, 0, 0, 999_999, tzinfo=UTC)
    values = created_at_sequence(start, 3)
    assert values == [
        "2026-03-01T09:00:00.999Z",
        "2026-03-01T09:00:01.000Z",
        "2026-03-01T09:00:01.001Z",
    ]
    assert iso_millis(datetime(2026, 3, 1, 10, 0, tzinfo=UTC)) == "2026-03-01T10:00:00.000Z"


def test_cid_of_a_record_the_pds_stored() -> None:
    # This record (a reply) was stored by the reference PDS, which answered this CID.
    record = json.loads(
        '{"text": "Second post ✨ 2/3", "$type": "app.bsky.feed.post", "langs": ["fr"], '
        '"reply": {"root": {"cid": "bafyreibbkwgavfzfyfahzljml3b3l7j3dcbm3ca2xb6ssc5leiksqx6kpq", '
        '"uri": "at://did:plc:ptcgynve3h7fnki6r5vdh2zr/app.bsky.feed.post/3n3f6kxnomwvm"}, '
        '"parent": {"cid": "bafyreibbkwgavfzfyfahzljml3b3l7j3dcbm3ca2xb6ssc5leiksqx6kpq", '
        '"uri": "at://did:plc:ptcgynve3h7fnki6r5vdh2zr/app.bsky.feed.post/3n3f6kxnomwvm"}}, '
        '"createdAt": "2026-11-28T17:01:48.171Z"}'
    )
    assert record_cid(record) == "bafyreidd2apdlhhx5d27q4kx7cp66k5d7k46ezmml6q2fcuchifsykl3dq"
    # Key order does not matter (DAG-CBOR sorts keys); content does.
    assert record_cid(dict(reversed(list(record.items())))) == record_cid(record)
    assert record_cid({**record, "text": "Second post ✨ 2/3 "}) != record_cid(record)


def test_cid_turns_links_and_bytes_into_ipld() -> None:
    import hashlib

    import libipld

    cid = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"
    as_json = {"ref": {"$link": cid}, "data": {"$bytes": "aGVsbG8"}}
    as_ipld = {"ref": libipld.decode_multibase(cid)[1], "data": b"hello"}
    digest = hashlib.sha256(libipld.encode_dag_cbor(as_ipld)).digest()
    assert record_cid(as_json) == libipld.encode_cid(b"\x01\x71\x12\x20" + digest)
    with pytest.raises(ValueError, match="floats"):
        record_cid({"x": 1.5})


def test_card_link_and_mentions(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "i.png")
    thread = plan(
        "See https://a.example/1 and https://b.example/2 @Alice.test\n\n---\n\n"
        "Image https://c.example\n![x](i.png)\n\n---\n\n@alice.test @carol.test",
        tmp_path,
    )
    first, second, third = thread.posts
    assert card_link(first) == "https://a.example/1"
    assert card_link(second) is None  # it has an image
    assert card_link(third) is None
    assert mention_handles(thread) == ["alice.test", "carol.test"]
    assert mention_handles(thread, start=3) == ["alice.test", "carol.test"]
    assert web_url("a.test", "3abc") == "https://bsky.app/profile/a.test/post/3abc"


def test_draft_records_chain_replies_and_use_placeholders(tmp_path: Path) -> None:
    Image.new("RGB", (30, 20)).save(tmp_path / "red.png")
    thread = plan(
        '+++\nlang = "de"\n+++\nEins @alice.test https://example.com/a\n\n---\n\n'
        "Zwei\n![Rot](red.png)\n\n---\n\nDrei",
        tmp_path,
    )
    records = draft_records(thread, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert [r["langs"] for r in records] == [["de"]] * 3
    assert "reply" not in records[0]
    root = records[1]["reply"]["root"]
    assert records[2]["reply"]["root"] == root
    assert records[2]["reply"]["parent"] != root
    assert records[0]["embed"]["$type"] == "app.bsky.embed.external"
    image = records[1]["embed"]["images"][0]
    assert image["alt"] == "Rot" and image["aspectRatio"] == {"width": 30, "height": 20}
    mention = next(
        f for f in records[0]["facets"] if f["features"][0]["$type"].endswith("#mention")
    )
    assert mention["features"][0]["did"] == "did:?:alice.test"
    assert [r["createdAt"] for r in records] == sorted(r["createdAt"] for r in records)


def test_post_record_is_deterministic(tmp_path: Path) -> None:
    post: PlannedPost = plan(NON_ASCII, tmp_path).posts[0]
    args = {"created_at": "2026-01-01T00:00:00.000Z", "lang": "fr", "mention_dids": {}}
    one, _ = post_record(post, **args)  # type: ignore[arg-type]
    two, _ = post_record(post, **args)  # type: ignore[arg-type]
    assert record_cid(one) == record_cid(two)
