"""The Mastodon adapter against the local Mastodon API test server (tests/mastodon_server)."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, settings_for, write_draft, write_image
from mastodon_server.length import status_length
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.errors import (
    AuthFailed,
    PermanentError,
    RateLimited,
    TransientError,
    UnclearOutcome,
)
from threadpost.plan import Thread, plan_thread
from threadpost.platforms.mastodon.publisher import MastodonPublisher, draft_statuses, parse_reset
from threadpost.values import PostKey, PostRef

CW = "Politics, long thread"


def twelve_post_draft(folder: Path) -> Any:
    write_image(folder / "images" / "chart.png", (120, 80), "navy")
    write_image(folder / "images" / "photo.jpg", (90, 120), "orange", kind="JPEG")
    write_image(folder / "images" / "map.png", (50, 50), "green")
    posts = []
    for i in range(1, 13):
        body = f"Post number {i} of the thread, about cameras in cities (#{i})."
        if i == 1:
            body += "\n![A chart of camera sales, 2018–2019](images/chart.png)"
        if i == 5:
            body += "\n![An orange photo](images/photo.jpg)\n![A small green map](images/map.png)"
        if i == 7:
            body += " Source: https://example.org/a/very/long/path/" + "x" * 80
        if i == 9:
            body += " Thanks @bob@fosstodon.example for the numbers 👩‍👩‍👧‍👦."
        posts.append(body)
    text = f'+++\ntitle = "Cameras"\nlang = "en"\ncw = "{CW}"\n+++\n' + "\n\n---\n\n".join(posts)
    return write_draft(folder, text)


def long_draft(folder: Path, words: int = 700) -> Any:
    sentences = []
    for i in range(words // 10):
        sentences.append(f"Sentence {i} says something about cities and their cameras today.")
    return write_draft(folder, '+++\nlang = "en"\n+++\n' + " ".join(sentences))


def ready_to_send(
    settings: Any, folder: Path, text: str
) -> tuple[MastodonPublisher, Thread, list[PostKey]]:
    """A publisher, the draft `text` planned for its limits, and the thread's keys (as "t1")."""
    publisher = make_publisher(settings)
    thread = plan_thread(write_draft(folder, text), publisher.limits())
    return publisher, thread, publisher.post_keys("t1", thread)


def publish(publisher: MastodonPublisher, thread: Thread, thread_id: str = "t1") -> list[PostRef]:
    keys = publisher.post_keys(thread_id, thread)
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    return refs


def test_twelve_post_thread_with_cw_and_images(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    mastodon_server.set_config(media_polls=2)
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(twelve_post_draft(tmp_path / "draft"), publisher.limits())
    assert len(thread.posts) == 12
    assert thread.spoiler_text == CW

    refs = publish(publisher, thread)

    statuses = mastodon_server.published()
    assert [r.index for r in refs] == list(range(1, 13))
    assert [r.remote_id for r in refs] == [s.id for s in statuses]
    assert all(r.url == f"{mastodon_server.url}/@alice/{r.remote_id}" for r in refs)
    # A reply chain, in order.
    assert statuses[0].in_reply_to_id is None
    for previous, status in itertools.pairwise(statuses):
        assert status.in_reply_to_id == previous.id
    assert [s.text for s in statuses] == [p.text for p in thread.posts]
    assert {s.spoiler_text for s in statuses} == {CW}
    assert [s.visibility for s in statuses] == ["public"] + ["unlisted"] * 11
    assert {s.language for s in statuses} == {"en"}
    # Media: uploaded with alt text, attached to the right posts.
    media_of = {
        i: [mastodon_server.media[m] for m in s.media_ids] for i, s in enumerate(statuses, 1)
    }
    assert [m.description for m in media_of[1]] == ["A chart of camera sales, 2018–2019"]
    assert [m.description for m in media_of[5]] == ["An orange photo", "A small green map"]
    assert [m.content_type for m in media_of[5]] == ["image/jpeg", "image/png"]
    assert sum(len(m) for m in media_of.values()) == 3
    # Every image was uploaded (and processed) before the first status was posted.
    paths = [(r.method, r.path) for r in mastodon_server.requests]
    first_status = paths.index(("POST", "/api/v1/statuses"))
    assert [i for i, p in enumerate(paths) if p == ("POST", "/api/v2/media")] < [first_status] * 3
    polls = mastodon_server.requests_to("GET", r"/api/v1/media/\d+")
    assert len(polls) == 3 * 2
    assert all(paths.index(("GET", r.path)) < first_status for r in polls), (
        "attached before processing finished"
    )
    # Each POST carried its own key, the one post_keys announced.
    keys = [k.key for k in publisher.post_keys("t1", thread)]
    assert [r.idempotency_key for r in mastodon_server.status_posts()] == keys
    assert len(set(keys)) == 12
    # The server's independent count agrees with threadpost's planned lengths.
    for post in thread.posts:
        assert status_length(post.text, CW) == post.length, post.index


def test_media_polling_waits_until_processed_and_is_bounded(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    write_image(tmp_path / "d" / "a.png")
    draft = write_draft(tmp_path / "d", "Look at this.\n![A teal square](a.png)")
    mastodon_server.set_config(media_polls=4)
    publisher = make_publisher(mastodon_settings, media_poll_interval=0.25)
    thread = plan_thread(draft, publisher.limits())
    publish(publisher, thread)
    upload = mastodon_server.requests_to("POST", "/api/v2/media")[0]
    assert upload.status == 202
    assert upload.value("description") == "A teal square"
    assert [r.status for r in mastodon_server.requests_to("GET", r"/api/v1/media/\d+")] == [
        206,
        206,
        206,
        200,
    ]
    assert publisher.recorded_sleeps == [0.25] * 4

    # An instance that never finishes: a bounded wait, then a transient error for the post.
    mastodon_server.set_config(media_polls=1000)
    stuck = make_publisher(mastodon_settings, media_poll_attempts=3)
    with pytest.raises(TransientError) as raised:
        publish(stuck, thread, "t2")
    assert raised.value.post == 1
    assert "still processing" in raised.value.message
    assert len(mastodon_server.published()) == 1  # nothing new was posted


def test_a_5000_character_instance_gets_fewer_longer_posts(tmp_path: Path) -> None:
    draft = long_draft(tmp_path / "d")
    with running_server(max_characters=5000) as big, running_server() as small:
        big_publisher = make_publisher(settings_for(big, tmp_path / "big"))
        small_publisher = make_publisher(settings_for(small, tmp_path / "small"))
        big_limits, small_limits = big_publisher.limits(), small_publisher.limits()
        assert (big_limits.max_graphemes, big_limits.source) == (5000, "instance")
        assert small_limits.max_graphemes == 500

        big_thread = plan_thread(draft, big_limits)
        small_thread = plan_thread(draft, small_limits)
        assert len(big_thread.posts) < len(small_thread.posts)
        assert max(p.length for p in big_thread.posts) > 500

        refs = publish(big_publisher, big_thread)
        assert len(refs) == len(big.published()) == len(big_thread.posts)

        # The long posts do not fit a 500 instance: the server's own reason, naming post 1.
        with pytest.raises(PermanentError) as raised:
            publish(small_publisher, big_thread)
        error = raised.value
        assert not isinstance(error, AuthFailed)
        assert error.post == 1
        assert "post 1" in error.message
        assert "character limit of 500 exceeded" in error.message
        assert small.published() == []


def test_resending_with_the_same_keys_posts_nothing_twice(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    draft = write_draft(tmp_path / "d", "One.\n---\nTwo.\n---\nThree.")
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(draft, publisher.limits())
    first = publish(publisher, thread)
    # A second run that lost its state resends everything with the same keys.
    again = publish(make_publisher(mastodon_settings), thread)
    assert [r.remote_id for r in again] == [r.remote_id for r in first]
    assert len(mastodon_server.published()) == 3
    assert len(mastodon_server.status_posts()) == 6


def test_lost_answer_then_resume_does_not_duplicate(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(
        mastodon_settings, tmp_path / "d", "\n---\n".join(f"Post {i}." for i in range(1, 6))
    )
    mastodon_server.faults.add("drop_after_commit", on_path="/api/v1/statuses", at_count=3)
    refs: list[PostRef] = []
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert raised.value.post == 3
    assert raised.value.unclear
    assert [r.index for r in refs] == [1, 2]
    assert len(mastodon_server.published()) == 3  # post 3 landed, unknown to the client

    assert publisher.find_published(keys[2:3]) == [None]
    publisher.send(thread, keys, start=3, root=refs[0], parent=refs[1], confirm=refs.extend)
    statuses = mastodon_server.published()
    assert len(statuses) == 5
    assert [r.remote_id for r in refs] == [s.id for s in statuses]
    assert statuses[3].in_reply_to_id == statuses[2].id


def test_timeout_on_a_post_is_unclear_and_the_resend_is_deduplicated(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(
        mastodon_settings, tmp_path / "d", "Slow one.\n---\nNext."
    )
    # Only the status POST is slow; the short timeout is for it alone (a loaded machine
    # must not make the other requests time out).
    impatient = make_publisher(mastodon_settings, request_timeout=1.0)
    mastodon_server.faults.add("delay", on_path="/api/v1/statuses", at_count=1, delay=3.0)
    with pytest.raises(UnclearOutcome) as raised:
        impatient.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    assert raised.value.post == 1
    assert "read timeout" in raised.value.message
    # The slow server still stores the status; wait (bounded) for it, then resend.
    for _ in range(300):
        if mastodon_server.published():
            break
        time.sleep(0.05)
    assert len(mastodon_server.published()) == 1
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert [r.remote_id for r in refs] == [s.id for s in mastodon_server.published()]
    assert len(refs) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient_and_unclear_on_writes(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path, status: int
) -> None:
    publisher, thread, keys = ready_to_send(mastodon_settings, tmp_path / "d", "A.\n---\nB.")
    mastodon_server.faults.add("error", on_path="/api/v1/statuses", at_count=2, status=status)
    refs: list[PostRef] = []
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert raised.value.post == 2
    assert f"HTTP {status}" in raised.value.message
    assert len(refs) == 1

    # On a read, the same answer is transient but not unclear (a fresh state directory: the
    # account is not known yet, so it is asked).
    mastodon_server.faults.add("error", on_path="/api/v1/accounts/*", status=status)
    with pytest.raises(TransientError) as read_error:
        make_publisher(replace(mastodon_settings, state_dir=tmp_path / "fresh")).account_id()
    assert not read_error.value.unclear


def test_refused_connection_is_transient_and_clearly_unsent(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(mastodon_settings, tmp_path / "d", "A.\n---\nB.")
    mastodon_server.refuse_connections()
    with pytest.raises(TransientError) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    assert not raised.value.unclear
    assert "connection refused" in raised.value.message
    mastodon_server.resume()
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert len(refs) == 2


def test_a_refuse_fault_drops_that_post_and_refuses_the_rest(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(
        mastodon_settings, tmp_path / "d", "A.\n---\nB.\n---\nC."
    )
    mastodon_server.faults.add("refuse", on_path="/api/v1/statuses", at_count=2)
    refs: list[PostRef] = []
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert raised.value.post == 2
    assert len(mastodon_server.published()) == 1  # the dropped post was not stored
    with pytest.raises(TransientError) as refused:
        publisher.send(thread, keys, start=2, root=refs[0], parent=refs[0], confirm=refs.extend)
    assert not refused.value.unclear
    mastodon_server.resume()
    publisher.send(thread, keys, start=2, root=refs[0], parent=refs[0], confirm=refs.extend)
    assert [r.index for r in refs] == [1, 2, 3]
    assert len(mastodon_server.published()) == 3


def test_rate_limit_raises_with_the_servers_reset_time(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(mastodon_settings, tmp_path / "d", "A.\n---\nB.")
    # Two hours ahead (a spent 3-hour statuses window), microseconds and all. A reset more
    # than a day away is a broken header (test_mastodon_rate_limits.py), not a limit.
    reset = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=123456)
    mastodon_server.faults.add("rate_limit", on_path="/api/v1/statuses", at_count=2, reset_at=reset)
    with pytest.raises(RateLimited) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    assert raised.value.reset_at == reset
    assert raised.value.post == 2
    assert reset.isoformat(timespec="seconds") in raised.value.message
    response = mastodon_server.status_posts()[1]
    assert response.status == 429


def test_spent_rate_limit_window_answers_429(tmp_path: Path) -> None:
    with running_server(rate_limit=3) as server:
        publisher = make_publisher(settings_for(server, tmp_path))
        draft = write_draft(tmp_path / "d", "A.\n---\nB.\n---\nC.")
        thread = plan_thread(draft, publisher.limits())
        keys = publisher.post_keys("t1", thread)  # request 1 (verify_credentials)
        with pytest.raises(RateLimited) as raised:
            publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda r: None)
        assert raised.value.post == 3
        assert raised.value.reset_at is not None
        assert raised.value.reset_at > datetime.now(UTC)


def test_parse_reset_reads_iso_with_microseconds_and_epoch() -> None:
    assert parse_reset("2026-03-01T10:20:30.654321Z") == datetime(
        2026, 3, 1, 10, 20, 30, 654321, tzinfo=UTC
    )
    assert parse_reset("2026-03-01T11:20:30.5+01:00") == datetime(
        2026, 3, 1, 10, 20, 30, 500000, tzinfo=UTC
    )
    assert parse_reset("1700000000") == datetime.fromtimestamp(1700000000, UTC)
    assert parse_reset("soon") is None
    assert parse_reset(None) is None


def test_wrong_token_is_auth_failed_without_the_token(
    mastodon_server: MastodonTestServer, tmp_path: Path
) -> None:
    secret = "sekrit-TOKEN-4b1d2c9e"
    publisher = make_publisher(settings_for(mastodon_server, tmp_path, token=secret))
    with pytest.raises(AuthFailed) as raised:
        publisher.account_id()
    error = raised.value
    assert "HTTP 401" in error.message
    assert error.hint is not None and "threadpost login mastodon" in error.hint
    for text in (error.message, error.hint, str(error), repr(error.args)):
        assert secret not in text
    # The recorded request keeps no token either.
    assert all(secret not in str(r.headers) for r in mastodon_server.requests)


def test_a_revoked_token_fails_a_send_as_auth(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(mastodon_settings, tmp_path / "d", "A.\n---\nB.")
    mastodon_server.revoke(mastodon_server.token)
    with pytest.raises(AuthFailed) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda r: None)
    assert raised.value.post == 1
    assert mastodon_server.token not in raised.value.message


def test_no_token_asks_to_log_in(mastodon_server: MastodonTestServer, tmp_path: Path) -> None:
    settings = settings_for(mastodon_server, tmp_path)
    settings = replace(settings, mastodon=replace(settings.mastodon, access_token=None))
    with pytest.raises(AuthFailed) as raised:
        MastodonPublisher(settings)
    assert raised.value.hint is not None and "threadpost login mastodon" in raised.value.hint


def test_reply_to_a_deleted_parent_is_permanent_and_names_the_post(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher, thread, keys = ready_to_send(
        mastodon_settings, tmp_path / "d", "A.\n---\nB.\n---\nC."
    )
    gone = PostRef(platform="mastodon", index=1, remote_id="999", url="")
    with pytest.raises(PermanentError) as raised:
        publisher.send(thread, keys, start=2, root=gone, parent=gone, confirm=lambda r: None)
    assert raised.value.post == 2
    assert "post 2 replies to status 999" in raised.value.message
    assert mastodon_server.published() == []


def test_delete_removes_last_first_and_tolerates_missing(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(write_draft(tmp_path / "d", "A.\n---\nB.\n---\nC."), publisher.limits())
    refs = publish(publisher, thread)
    mastodon_server.statuses[refs[1].remote_id].deleted = True  # deleted by hand meanwhile
    publisher.delete(refs)
    assert mastodon_server.published() == []
    deletes = mastodon_server.requests_to("DELETE", r"/api/v1/statuses/\d+")
    assert [r.path.rsplit("/", 1)[1] for r in deletes] == [r.remote_id for r in reversed(refs)]
    assert [r.status for r in deletes] == [200, 404, 200]
    publisher.delete(refs)  # a second delete is a no-op, not an error


def test_post_keys_are_deterministic_and_content_bound(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher = make_publisher(mastodon_settings)
    assert publisher.account_id() == "alice@127.0.0.1"
    thread = plan_thread(write_draft(tmp_path / "d", "A.\n---\nB.\n---\nC."), publisher.limits())
    keys = publisher.post_keys("t1", thread)
    assert keys == make_publisher(mastodon_settings).post_keys("t1", thread)
    assert all(isinstance(k, PostKey) and len(k.key) == 64 for k in keys)
    assert [k.index for k in keys] == [1, 2, 3]
    other_thread = publisher.post_keys("t2", thread)
    assert {k.key for k in keys}.isdisjoint(k.key for k in other_thread)
    edited = replace(
        thread, posts=(thread.posts[0], replace(thread.posts[1], text="B!"), thread.posts[2])
    )
    edited_keys = publisher.post_keys("t1", edited)
    assert [a.key == b.key for a, b in zip(keys, edited_keys, strict=True)] == [True, False, True]
    with_cw = replace(thread, spoiler_text="CW")
    assert publisher.post_keys("t1", with_cw)[0].key != keys[0].key
    # Another account gets other keys for the same thread.
    bob = mastodon_server.add_account("bob")
    bob_keys = make_publisher(settings_for(mastodon_server, tmp_path, token=bob)).post_keys(
        "t1", thread
    )
    assert {k.key for k in keys}.isdisjoint(k.key for k in bob_keys)


def test_draft_statuses_are_exactly_what_is_sent(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(twelve_post_draft(tmp_path / "draft"), publisher.limits())
    thread = replace(thread, sensitive=True, lang="en-GB", reply_visibility="public")
    drafts = draft_statuses(thread)
    refs = publish(publisher, thread)
    sent = mastodon_server.status_posts()
    assert len(drafts) == len(sent) == 12
    for i, (draft, request) in enumerate(zip(drafts, sent, strict=True), start=1):
        assert request.value("status") == draft["status"]
        assert request.value("visibility") == draft["visibility"]
        assert request.value("spoiler_text") == draft["spoiler_text"] == CW
        assert request.value("language") == draft["language"] == "en"
        # Sent as JSON (MastodonHttp.request_json): booleans and lists as themselves.
        assert request.json["sensitive"] is True and draft["sensitive"] is True
        assert len(request.json.get("media_ids", [])) == len(draft["media"])
        if i == 1:
            assert draft["in_reply_to_id"] is None and request.value("in_reply_to_id") is None
        else:
            assert draft["in_reply_to_id"] == f"<id of post {i - 1}>"
            assert request.value("in_reply_to_id") == refs[i - 2].remote_id
    assert drafts[4]["media"] == [
        {
            "path": str(tmp_path / "draft" / "images" / "photo.jpg"),
            "description": "An orange photo",
        },
        {
            "path": str(tmp_path / "draft" / "images" / "map.png"),
            "description": "A small green map",
        },
    ]


def test_draft_statuses_needs_no_network_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from threadpost.platforms.mastodon.publisher import draft_statuses\n"
        "assert 'mastodon' not in sys.modules and 'requests' not in sys.modules\n"
        "assert 'httpx' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_image_file_is_permanent_and_names_the_post(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "d" / "gone.png")
    draft = write_draft(tmp_path / "d", "Text.\n---\nPicture.\n![Alt](gone.png)")
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(draft, publisher.limits())
    image.unlink()
    with pytest.raises(PermanentError) as raised:
        publish(publisher, thread)
    assert raised.value.post == 2
    assert "gone.png" in raised.value.message
    assert mastodon_server.published() == []  # nothing sent before all media are up


def test_unknown_media_ids_and_too_many_attachments_are_422(
    mastodon_server: MastodonTestServer,
) -> None:
    from mastodon import Mastodon
    from mastodon.errors import MastodonAPIError

    api = Mastodon(
        api_base_url=mastodon_server.url,
        access_token=mastodon_server.token,
        version_check_mode="none",
        ratelimit_method="throw",
    )
    with pytest.raises(MastodonAPIError) as raised:
        api.status_post("with a ghost", media_ids=["12345"])
    assert raised.value.args[1] == 422
    with pytest.raises(MastodonAPIError) as too_many:
        api.status_post("five", media_ids=["1", "2", "3", "4", "5"])
    assert too_many.value.args[1] == 422
    assert mastodon_server.published() == []


def test_limits_are_cached_for_a_day(mastodon_settings: Any) -> None:
    publisher = make_publisher(mastodon_settings)
    first = publisher.limits()
    assert first.source == "instance"
    assert publisher.limits().source == "cache"
    assert publisher.limits().max_graphemes == first.max_graphemes
