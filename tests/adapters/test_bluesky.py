"""The Bluesky adapter against the real reference PDS (tests/pds_harness.py): a 12-post
thread read back record by record, session reuse across processes, refresh, unresolvable
mentions, link cards, deletion, a lost applyWrites answer, resuming, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

import pds_harness
from bluesky_support import CARD_DESCRIPTION, CARD_TITLE, LoseResponse, PageServer, serve_pages
from threadpost.config import BlueskySettings, Settings
from threadpost.draft import parse_draft
from threadpost.errors import AuthFailed, PermanentError, UnclearOutcome
from threadpost.linkcard import LinkCard, LinkCardError, fetch_link_card
from threadpost.plan import Thread, plan_thread
from threadpost.platforms.bluesky import publisher as bluesky_module
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.records import record_cid
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.bluesky.session import session_path
from threadpost.values import PostKey, PostRef

pytestmark = pytest.mark.pds

POST = "app.bsky.feed.post"
CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
APPLY_WRITES = "com.atproto.repo.applyWrites"
CREATE_RECORD = "com.atproto.repo.createRecord"


@pytest.fixture(scope="module")
def pages() -> Iterator[PageServer]:
    with serve_pages() as server:
        yield server


@pytest.fixture
def friend(pds: pds_harness.LocalPDS) -> dict[str, Any]:
    """Another account on the same PDS, to be mentioned."""
    return pds.create_account(pds_harness.unique_handle("fr"), "friend-password-1")


def make_settings(
    pds: pds_harness.LocalPDS, account: dict[str, Any], state_dir: Path, **bluesky: Any
) -> Settings:
    return Settings(
        config_path=None,
        db_path=state_dir / "ledger.db",
        state_dir=state_dir,
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service=pds.url,
            handle=account["handle"],
            app_password=bluesky.pop("app_password", account["password"]),
            **bluesky,
        ),
    )


def local_cards_only(url: str) -> LinkCard:
    """Fetch cards from 127.0.0.1 only: tests never reach out to the internet."""
    if not url.startswith("http://127.0.0.1:"):
        raise LinkCardError(f"{url}: not fetched in tests")
    return fetch_link_card(url)


def make_publisher(settings: Settings, **kwargs: Any) -> BlueskyPublisher:
    kwargs.setdefault("link_card_fetcher", local_cards_only)
    return BlueskyPublisher(settings, **kwargs)


def make_thread(text: str, folder: Path) -> Thread:
    return plan_thread(parse_draft(text.encode(), folder / "draft.md"), BLUESKY_LIMITS)


def publish(
    publisher: BlueskyPublisher, thread: Thread, keys: list[PostKey] | None = None
) -> tuple[list[PostKey], list[PostRef]]:
    keys = keys or publisher.post_keys("thread-1", thread)
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    return keys, refs


def facet_spans(value: dict[str, Any]) -> list[tuple[str, str, str]]:
    encoded = value["text"].encode()
    out = []
    for facet in value.get("facets", []):
        index = facet["index"]
        feature = facet["features"][0]
        out.append(
            (
                feature["$type"].rsplit("#", 1)[1],
                encoded[index["byteStart"] : index["byteEnd"]].decode(),
                feature.get("uri") or feature.get("did") or feature.get("tag"),
            )
        )
    return out


def twelve_post_draft(folder: Path, friend_handle: str, pages: PageServer) -> str:
    Image.new("RGB", (300, 200), (0, 90, 200)).save(folder / "chart.png")
    posts = [
        f"Why cities buy cameras: a thread. Background reading: {pages.url('/article')}",
        "Here is the chart of sales.\n![Camera sales, 2018–2019: a rising blue bar](chart.png)",
        f"Thanks to @{friend_handle} for the data ✨",
        "Tagged for later: #surveillance #villes #日本語",
        "Naïve café owners in Zürich 🇨🇭 say cameras cost 1 200 € each 👩‍👩‍👧.",
        "Links without a scheme work too: example.org/report",
        "Six.",
        "Seven.",
        "Eight.",
        "Nine.",
        "Ten.",
        "The end. Sources: https://example.com/sources?year=2019",
    ]
    return '+++\nlang = "fr"\n+++\n' + "\n\n---\n\n".join(posts) + "\n"


# --------------------------------------------------------------------------------------


def test_twelve_post_thread_in_one_atomic_write_read_back(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    friend: dict[str, Any],
    pages: PageServer,
    tmp_path: Path,
) -> None:
    thread = make_thread(twelve_post_draft(tmp_path, friend["handle"], pages), tmp_path)
    assert len(thread.posts) == 12
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    before = pds.counts()
    keys = publisher.post_keys("thread-1", thread)
    confirmations: list[Sequence[PostRef]] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=confirmations.append)
    after = pds.counts()

    # One applyWrites for the whole thread; no createRecord; one login.
    assert after.get(APPLY_WRITES, 0) - before.get(APPLY_WRITES, 0) == 1
    # Its twelve posts confirmed together: the ledger records them in one transaction.
    assert len(confirmations) == 1
    refs = list(confirmations[0])
    assert after.get(CREATE_RECORD, 0) == before.get(CREATE_RECORD, 0)
    assert after.get(CREATE_SESSION, 0) - before.get(CREATE_SESSION, 0) == 1
    # Only the links that are not on 127.0.0.1 (posts 6 and 12) got no card.
    assert [(w.code, w.post) for w in publisher.warnings] == [
        ("link-card-failed", 6),
        ("link-card-failed", 12),
    ]

    did, handle = pds_account["did"], pds_account["handle"]
    assert [ref.index for ref in refs] == list(range(1, 13))
    for key, ref in zip(keys, refs, strict=True):
        assert ref.platform == "bluesky"
        assert ref.remote_id == f"at://{did}/{POST}/{key.key}"
        assert ref.url == f"https://bsky.app/profile/{handle}/post/{key.key}"

    listed = {r["uri"]: r for r in pds.list_records(did, POST)}
    assert set(listed) == {ref.remote_id for ref in refs}
    values = []
    for key, ref in zip(keys, refs, strict=True):
        got = pds.get_record(did, POST, key.key)
        # The CID the PDS stored = the CID confirmed = the CID computed from the record.
        assert got["cid"] == ref.cid == listed[ref.remote_id]["cid"]
        assert record_cid(got["value"]) == ref.cid
        values.append(got["value"])

    root = {"uri": refs[0].remote_id, "cid": refs[0].cid}
    assert "reply" not in values[0]
    for n in range(1, 12):
        assert values[n]["reply"]["root"] == root
        assert values[n]["reply"]["parent"] == {
            "uri": refs[n - 1].remote_id,
            "cid": refs[n - 1].cid,
        }

    for post, value in zip(thread.posts, values, strict=True):
        assert value["text"] == post.text
        assert value["langs"] == ["fr"]
    created = [value["createdAt"] for value in values]
    assert created == sorted(created) and len(set(created)) == 12
    assert created == [key.created_at for key in keys]

    # Link card on post 1: the page's OpenGraph title/description and an uploaded thumb.
    card = values[0]["embed"]
    assert card["$type"] == "app.bsky.embed.external"
    assert card["external"]["uri"] == pages.url("/article")
    assert card["external"]["title"] == CARD_TITLE
    assert card["external"]["description"] == CARD_DESCRIPTION
    assert card["external"]["thumb"]["mimeType"] == "image/png"
    assert ("link", pages.url("/article"), pages.url("/article")) in facet_spans(values[0])

    # Image on post 2: alt text and aspect ratio; no card on a post with an image.
    embed = values[1]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    (image,) = embed["images"]
    assert image["alt"] == "Camera sales, 2018–2019: a rising blue bar"
    assert image["aspectRatio"] == {"width": 300, "height": 200}
    assert image["image"]["mimeType"] == "image/png"
    assert image["image"]["size"] == (tmp_path / "chart.png").stat().st_size

    # Mention resolved to the friend's DID; tags and links with exact byte ranges.
    assert ("mention", f"@{friend['handle']}", friend["did"]) in facet_spans(values[2])
    assert facet_spans(values[3]) == [
        ("tag", "#surveillance", "surveillance"),
        ("tag", "#villes", "villes"),
        ("tag", "#日本語", "日本語"),
    ]
    assert ("link", "example.org/report", "https://example.org/report") in facet_spans(values[5])
    assert "embed" not in values[6]
    sources = "https://example.com/sources?year=2019"
    assert ("link", sources, sources) in facet_spans(values[11])
    assert "embed" not in values[11]


def test_session_is_reused_by_a_new_process(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    settings = make_settings(pds, pds_account, state, link_cards=False)
    first = make_publisher(settings)
    before = pds.count(CREATE_SESSION)
    publish(first, make_thread("First run.", tmp_path))
    assert pds.count(CREATE_SESSION) == before + 1

    path = session_path(state, pds.url, pds_account["handle"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = path.read_text()
    assert pds_account["password"] not in saved

    script = textwrap.dedent(
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
            bluesky=BlueskySettings(service=service, handle=handle, app_password=password,
                                    link_cards=False),
        )
        thread = plan_thread(parse_draft(b"Second run, new process.", Path(state) / "d.md"),
                             BLUESKY_LIMITS)
        publisher = BlueskyPublisher(settings)
        refs = []
        publisher.send(thread, publisher.post_keys("t2", thread), start=1, root=None,
                       parent=None, confirm=refs.extend)
        print(json.dumps([ref.remote_id for ref in refs]))
        """
    )
    counts_before = pds.counts()
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            pds.url,
            pds_account["handle"],
            pds_account["password"],
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    (uri,) = json.loads(out.stdout)
    counts_after = pds.counts()
    # The password was available, yet the saved session was used: no createSession.
    assert counts_after.get(CREATE_SESSION, 0) == counts_before.get(CREATE_SESSION, 0)
    assert counts_after.get(REFRESH_SESSION, 0) == counts_before.get(REFRESH_SESSION, 0)
    assert counts_after.get(APPLY_WRITES, 0) == counts_before.get(APPLY_WRITES, 0) + 1
    rkey = uri.rsplit("/", 1)[1]
    assert pds.get_record(pds_account["did"], POST, rkey)["value"]["text"] == (
        "Second run, new process."
    )
    assert pds_account["password"] not in out.stdout + out.stderr


def test_expired_access_token_is_refreshed_not_recreated(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    settings = make_settings(pds, pds_account, state, link_cards=False)
    make_publisher(settings).account_id()  # logs in, saves the session
    path = session_path(state, pds.url, pds_account["handle"])
    saved_before = path.read_text()

    # Three hours later the 2-hour access token has expired: refresh it, do not log in.
    later = make_publisher(settings, clock=lambda: datetime.now(UTC) + timedelta(hours=3))
    counts = pds.counts()
    assert later.find_published([PostKey(1, "3aaaaaaaaaaaa")]) == [None]
    assert pds.count(REFRESH_SESSION) == counts.get(REFRESH_SESSION, 0) + 1
    assert pds.count(CREATE_SESSION) == counts.get(CREATE_SESSION, 0)
    assert path.read_text() != saved_before  # the rotated tokens were saved
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_session_and_no_password_asks_to_log_in(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    settings = make_settings(pds, pds_account, tmp_path / "state", app_password=None)
    with pytest.raises(AuthFailed) as caught:
        make_publisher(settings).account_id()
    assert "threadpost login bluesky" in (caught.value.hint or "")


def test_wrong_password_is_auth_failed_without_the_secret(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    secret = "wrong-secret-password-xyz"
    settings = make_settings(pds, pds_account, tmp_path / "state", app_password=secret)
    publisher = make_publisher(settings)
    with pytest.raises(AuthFailed) as caught:
        publisher.account_id()
    error = caught.value
    assert error.hint == "log in again: threadpost login bluesky"
    assert secret not in str(error) and secret not in repr(error) and secret not in repr(publisher)
    assert error.__cause__ is None and error.__suppress_context__
    assert not session_path(tmp_path / "state", pds.url, pds_account["handle"]).exists()


def test_unresolvable_mention_stays_plain_text_with_a_warning(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], friend: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread(f"Hi @nobody-here.test and @{friend['handle']}!", tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    keys, _ = publish(publisher, thread)
    value = pds.get_record(pds_account["did"], POST, keys[0].key)["value"]
    assert value["text"] == thread.posts[0].text
    assert facet_spans(value) == [("mention", f"@{friend['handle']}", friend["did"])]
    (warning,) = publisher.warnings
    assert warning.code == "mention-unresolved" and warning.post == 1
    assert "@nobody-here.test" in warning.message


def test_link_card_failure_is_a_warning(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], pages: PageServer, tmp_path: Path
) -> None:
    thread = make_thread(
        f"Missing page {pages.url('/gone')}\n\n---\n\nA card for {pages.url('/article')}",
        tmp_path,
    )
    thread = replace(thread, link_cards=True)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    keys, _refs = publish(publisher, thread)
    first = pds.get_record(pds_account["did"], POST, keys[0].key)["value"]
    second = pds.get_record(pds_account["did"], POST, keys[1].key)["value"]
    assert "embed" not in first
    assert second["embed"]["external"]["title"] == CARD_TITLE
    (warning,) = publisher.warnings
    assert warning.code == "link-card-failed" and warning.post == 1
    assert "HTTP 404" in warning.message

    # Turned off in the settings (or the draft): no card, no fetch.
    hits = pages.hits["/article"]
    off = make_publisher(make_settings(pds, pds_account, tmp_path / "state", link_cards=False))
    keys, _ = publish(off, make_thread(f"Card off {pages.url('/article')}", tmp_path))
    assert "embed" not in pds.get_record(pds_account["did"], POST, keys[0].key)["value"]
    assert pages.hits["/article"] == hits


def test_delete_removes_the_thread_last_first(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread("One\n\n---\n\nTwo\n\n---\n\nThree", tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    keys, refs = publish(publisher, thread)
    did = pds_account["did"]
    assert len(pds.list_records(did, POST)) == 3
    publisher.delete(refs)
    assert pds.list_records(did, POST) == []
    assert publisher.find_published(keys) == [None, None, None]
    publisher.delete(refs)  # already gone: fine


def test_lost_answer_is_resolved_by_reading_back_never_duplicated(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread("\n\n---\n\n".join(f"Post number {n}." for n in range(1, 6)), tmp_path)
    transport = LoseResponse("com.atproto.repo.applyWrites")
    publisher = make_publisher(
        make_settings(pds, pds_account, tmp_path / "state"), transport=transport
    )
    keys = publisher.post_keys("t", thread)
    confirmed: list[PostRef] = []
    with pytest.raises(UnclearOutcome) as caught:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=confirmed.extend)
    assert transport.lost == 1 and confirmed == []
    assert "may have been applied" in caught.value.message

    # What the orchestration does next: look before resending.
    found = publisher.find_published(keys)
    assert all(ref is not None for ref in found)
    assert [ref.index for ref in found if ref] == [1, 2, 3, 4, 5]
    did = pds_account["did"]
    records = pds.list_records(did, POST)
    assert len(records) == 5  # no gap, no duplicate
    computed = {ref.remote_id: ref.cid for ref in found if ref is not None}
    assert computed == {r["uri"]: r["cid"] for r in records}

    # Resending blindly would not duplicate either: the same rkeys cannot be created twice.
    with pytest.raises((UnclearOutcome, PermanentError)):
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=confirmed.extend)
    assert len(pds.list_records(did, POST)) == 5


def test_resume_sends_byte_identical_records(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread("\n\n---\n\n".join(f"Part {n} ü." for n in range(1, 6)), tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    keys, refs = publish(publisher, thread)
    publisher.delete(refs[2:])  # as if only posts 1–2 had gone out

    resumed: list[PostRef] = []
    publisher.send(thread, keys, start=3, root=refs[0], parent=refs[1], confirm=resumed.extend)
    # Frozen rkeys and createdAt: the same records, hence the same CIDs.
    assert [(r.remote_id, r.cid) for r in resumed] == [(r.remote_id, r.cid) for r in refs[2:]]
    value = pds.get_record(pds_account["did"], POST, keys[2].key)["value"]
    assert value["reply"]["parent"] == {"uri": refs[1].remote_id, "cid": refs[1].cid}
    assert value["reply"]["root"] == {"uri": refs[0].remote_id, "cid": refs[0].cid}


def test_long_threads_go_in_atomic_chunks(
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bluesky_module, "MAX_WRITES_PER_CALL", 5)
    thread = make_thread("\n\n---\n\n".join(f"Chunked {n}." for n in range(1, 13)), tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    before = pds.count(APPLY_WRITES)
    keys, refs = publish(publisher, thread)
    assert pds.count(APPLY_WRITES) == before + 3
    assert len(refs) == 12
    last = pds.get_record(pds_account["did"], POST, keys[11].key)["value"]
    assert last["reply"]["root"]["uri"] == refs[0].remote_id
    assert last["reply"]["parent"]["uri"] == refs[10].remote_id


def test_a_rejected_record_is_a_permanent_error_naming_the_posts(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    thread = make_thread("Fine\n\n---\n\nAlso fine", tmp_path)
    publisher = make_publisher(make_settings(pds, pds_account, tmp_path / "state"))
    keys = publisher.post_keys("t", thread)
    broken = [keys[0], replace(keys[1], created_at="yesterday")]
    with pytest.raises(PermanentError) as caught:
        publisher.send(thread, broken, start=1, root=None, parent=None, confirm=lambda r: None)
    assert "posts 1–2" in caught.value.message
    assert "HTTP 400" in caught.value.message
    assert pds.list_records(pds_account["did"], POST) == []  # all or nothing


def test_a_damaged_session_file_means_logging_in_again(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    settings = make_settings(pds, pds_account, state)
    make_publisher(settings).account_id()
    path = session_path(state, pds.url, pds_account["handle"])
    data = json.loads(path.read_text())
    data["session"] = f"{pds_account['handle']}:::{pds_account['did']}:::junk:::junk:::{pds.url}"
    path.write_text(json.dumps(data))

    before = pds.count(CREATE_SESSION)
    assert make_publisher(settings).find_published([PostKey(1, "3aaaaaaaaaaaa")]) == [None]
    assert pds.count(CREATE_SESSION) == before + 1
    assert "junk" not in path.read_text()
