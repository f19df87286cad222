"""Mastodon: finding posts left in doubt among the account's own statuses.

The instance remembers an Idempotency-Key for one hour only, so a post left in doubt and
resumed later must be looked up, not resent blindly. These tests run the real adapter
(Mastodon.py) against the local Mastodon API test server, whose `content` is rendered as
HTML the way Mastodon renders it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, settings_for, write_draft, write_image
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.errors import PermanentError, UnclearOutcome
from threadpost.plan import plan_thread
from threadpost.platforms.mastodon import publisher as mastodon_adapter
from threadpost.platforms.mastodon.publisher import html_to_text, words
from threadpost.values import PostKey, PostRef

STATUSES = "/api/v1/statuses"
RICH = (
    "Read https://www.example.com/a/rather/long/path/to/an/article?page=2 & tell "
    "@carol@example.org <what> you think #ThreadPost\nsecond line\n\n\nnew paragraph"
)


class Clock:
    """The test server's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked() -> Iterator[tuple[MastodonTestServer, Clock]]:
    clock = Clock()
    with running_server(now=clock) as server:
        yield server, clock


def _thread(tmp_path: Path, publisher: Any, texts: list[str], name: str = "t.md") -> Any:
    draft = write_draft(tmp_path / "d", "\n---\n".join(texts), name=name)
    return plan_thread(draft, publisher.limits())


def _with_first_attempt(keys: list[PostKey], when: datetime) -> list[PostKey]:
    return [replace(key, first_attempt_at=when) for key in keys]


def _send_until_lost(
    server: MastodonTestServer, publisher: Any, thread: Any, keys: list[PostKey], k: int
) -> list[PostRef]:
    """Publish with the answer to post k lost after the server stored it."""
    server.faults.add("drop_after_commit", on_path=STATUSES, at_count=k)
    refs: list[PostRef] = []
    with pytest.raises(UnclearOutcome):
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    assert [r.index for r in refs] == list(range(1, k))
    return refs


# -- the test server renders like Mastodon ---------------------------------------------------


def test_content_is_html_like_mastodons_so_a_naive_comparison_fails(
    mastodon_server: MastodonTestServer, mastodon_settings: Any
) -> None:
    client = make_publisher(mastodon_settings)._client()
    status = client.status_post(RICH)
    content = status["content"]
    assert content.startswith("<p>") and "<br />" in content and "</p><p>" in content
    assert '<span class="invisible">https://www.</span>' in content
    assert '<span class="ellipsis">' in content  # the URL's display is cut after 30 chars
    assert '<span class="h-card" translate="no">' in content and "@<span>carol</span>" in content
    assert 'class="mention hashtag" rel="tag">#<span>ThreadPost</span></a>' in content
    assert "&amp;" in content and "&lt;what&gt;" in content and "\n" not in content
    assert status["mentions"][0]["acct"] == "carol@example.org"
    assert status["tags"] == [
        {"name": "threadpost", "url": f"{mastodon_server.url}/tags/threadpost"}
    ]
    # What a naive client would compare: neither equals the text that was sent.
    assert content != RICH
    assert re.sub(r"<[^>]+>", "", content) != RICH
    assert html_to_text(content) != RICH  # the remote mention shows as @carol
    # What the adapter compares: the words, with @user@domain as @user.
    assert words(html_to_text(content)) == words(RICH)
    # The source is the text as typed, for its author only.
    assert client.status_source(status["id"])["text"] == RICH
    from mastodon.errors import MastodonNotFoundError

    token = mastodon_server.add_account("bob")
    other = make_publisher(settings_for(mastodon_server, Path("/nonexistent"), token=token))

    with pytest.raises(MastodonNotFoundError):
        other._client().status_source(status["id"])


def test_account_statuses_are_newest_first_and_paged_with_max_id(
    mastodon_server: MastodonTestServer, mastodon_settings: Any
) -> None:
    client = make_publisher(mastodon_settings)._client()
    first = client.status_post("top")
    ids = [first["id"]]
    for n in range(44):
        ids.append(client.status_post(f"reply {n}", in_reply_to_id=ids[-1])["id"])
    me = client.me()["id"]
    page = client.account_statuses(me, limit=40)
    assert [s["id"] for s in page] == list(reversed(ids))[:40]
    rest = client.account_statuses(me, limit=40, max_id=page[-1]["id"])
    assert [s["id"] for s in rest] == list(reversed(ids))[40:]
    assert client.account_statuses(me, limit=40, max_id=rest[-1]["id"]) == []
    # Replies are included unless excluded; the Link header pages like Mastodon's.
    assert [s["id"] for s in client.account_statuses(me, exclude_replies=True)] == [ids[0]]
    link = mastodon_server.requests_to("GET", r"/api/v1/accounts/\d+/statuses")[0]
    assert f'max_id={page[-1]["id"]}>; rel="next"' in link.answer_headers["Link"]


def test_the_idempotency_hour_can_be_made_to_pass(
    mastodon_server: MastodonTestServer, mastodon_settings: Any
) -> None:
    client = make_publisher(mastodon_settings)._client()
    one = client.status_post("once", idempotency_key="k1")
    assert client.status_post("once", idempotency_key="k1")["id"] == one["id"]
    assert mastodon_server.expire_idempotency_keys() == 1
    # What a blind resend does after the hour: a second, identical status.
    assert client.status_post("once", idempotency_key="k1")["id"] != one["id"]
    assert [s.text for s in mastodon_server.published()] == ["once", "once"]


# -- find_published --------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3])
def test_a_post_in_doubt_is_found_after_the_idempotency_hour(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path, k: int
) -> None:
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, [f"Post {i}, {RICH}" for i in range(1, 6)])
    started = datetime.now(UTC)
    keys = _with_first_attempt(publisher.post_keys("t1", thread), started)
    refs = _send_until_lost(mastodon_server, publisher, thread, keys, k)
    mastodon_server.expire_idempotency_keys()

    parent = refs[-1] if refs else None
    found = publisher.find_published(keys[k - 1 :], thread=thread, parent=parent)
    landed = mastodon_server.published()[k - 1]
    assert found[0] is not None and found[0].remote_id == landed.id and found[0].index == k
    assert found[0].url.endswith(f"/{landed.id}")
    assert found[1:] == [None] * (5 - k)
    # Matched on the rendered words: no status source had to be read.
    assert mastodon_server.requests_to("GET", r"/api/v1/statuses/\d+/source") == []

    # Resuming after the found post posts the rest once each.
    refs.append(found[0])
    publisher.send(thread, keys, start=k + 1, root=refs[0], parent=found[0], confirm=refs.extend)
    statuses = mastodon_server.published()
    assert [s.id for s in statuses] == [r.remote_id for r in refs]
    assert len({s.text for s in statuses}) == 5


def test_a_post_that_never_landed_is_not_found_so_the_resend_is_safe(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["One.", "Two.", "Three."])
    keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
    mastodon_server.faults.add("reset", on_path=STATUSES, at_count=2)  # nothing stored
    refs: list[PostRef] = []
    with pytest.raises(UnclearOutcome):
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    mastodon_server.expire_idempotency_keys()
    assert publisher.find_published(keys[1:], thread=thread, parent=refs[0]) == [None, None]


def test_the_parent_must_match_not_only_the_text(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    """The same text replying to another status (an earlier thread's) is not our post."""
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["Intro.", "Same words 2/2"])
    keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
    client = publisher._client()
    elsewhere = client.status_post("Something else")
    client.status_post("Same words 2/2", in_reply_to_id=elsewhere["id"])
    mine = client.status_post(thread.posts[0].text)
    parent = PostRef("mastodon", 1, str(mine["id"]), "")
    assert publisher.find_published(keys[1:], thread=thread, parent=parent) == [None]


def test_the_search_stops_at_the_first_attempt_and_ignores_older_twins(
    clocked: tuple[MastodonTestServer, Clock], tmp_path: Path
) -> None:
    """An identical post 1 published before the first attempt (the same draft published
    the day before) is older than the first attempt: neither matched nor paged through."""
    server, clock = clocked
    publisher = make_publisher(settings_for(server, tmp_path))
    thread = _thread(tmp_path, publisher, ["Same opening 1/2", "Then 2/2"])
    client = publisher._client()
    clock.now -= timedelta(days=1)
    for n in range(90):
        client.status_post(f"old status {n}")
    client.status_post(thread.posts[0].text)  # yesterday's twin
    clock.now += timedelta(days=1)
    keys = _with_first_attempt(publisher.post_keys("t1", thread), clock.now)
    clock.now += timedelta(seconds=5)
    assert publisher.find_published(keys, thread=thread, parent=None) == [None, None]
    pages = server.requests_to("GET", r"/api/v1/accounts/\d+/statuses")
    assert len(pages) == 1  # the first page already reaches back past the first attempt
    assert pages[0].query["limit"] == ["40"]

    # Posted now (two hours after the first attempt, keys long forgotten): found.
    clock.now += timedelta(hours=2)
    today = client.status_post(thread.posts[0].text)
    found = publisher.find_published(keys, thread=thread, parent=None)
    assert found[0] is not None and found[0].remote_id == str(today["id"])


def test_a_status_the_instance_renders_differently_is_matched_through_its_source(
    mastodon_server: MastodonTestServer,
    mastodon_settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["Quoting 1/2", "More 2/2"])
    keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
    rendered = mastodon_server._content
    # Like a quote post's inline fallback (Mastodon 4.4+): words the author never typed.
    monkeypatch.setattr(
        mastodon_server,
        "_content",
        lambda status: '<p class="quote-inline">RE: somewhere</p>' + rendered(status),
    )
    landed = publisher._client().status_post(thread.posts[0].text)
    found = publisher.find_published(keys, thread=thread, parent=None)
    assert found[0] is not None and found[0].remote_id == str(landed["id"])
    assert len(mastodon_server.requests_to("GET", r"/api/v1/statuses/\d+/source")) == 1
    # An instance without /source (before 3.5) leaves only the rendered words: not found.
    mastodon_server.set_config(serve_source=False)
    assert publisher.find_published(keys, thread=thread, parent=None) == [None, None]


def test_without_the_plan_nothing_can_be_matched(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["Alone."])
    keys = publisher.post_keys("t1", thread)
    publisher._client().status_post("Alone.")
    assert publisher.find_published(keys) == [None]
    assert mastodon_server.requests_to("GET", r"/api/v1/accounts/\d+/statuses") == []


def test_a_search_that_cannot_reach_the_first_attempt_is_refused_after_the_hour(
    mastodon_server: MastodonTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = mastodon_server
    monkeypatch.setattr(mastodon_adapter, "LOOKUP_PAGE_SIZE", 2)
    monkeypatch.setattr(mastodon_adapter, "LOOKUP_MAX_PAGES", 2)
    publisher = make_publisher(settings_for(server, tmp_path))
    thread = _thread(tmp_path, publisher, ["Busy account 1/1"])
    client = publisher._client()
    now = datetime.now(UTC)
    keys = _with_first_attempt(publisher.post_keys("t1", thread), now - timedelta(minutes=5))
    for n in range(6):
        client.status_post(f"chatter {n}")
    # Within the instance's memory of the key: "not found", the resend is deduplicated.
    assert publisher.find_published(keys, thread=thread) == [None]
    assert len(server.requests_to("GET", r"/api/v1/accounts/\d+/statuses")) == 2
    # Past it: refusing beats guessing.
    keys = _with_first_attempt(keys, now - timedelta(hours=2))
    with pytest.raises(PermanentError) as caught:
        publisher.find_published(keys, thread=thread)
    assert caught.value.post == 1
    assert "cannot tell whether post 1 was published" in caught.value.message


def test_an_ignored_image_focus_is_a_warning(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    from dataclasses import dataclass

    from threadpost.draft import Image

    @dataclass(frozen=True)
    class FocusedImage(Image):
        focus: tuple[float, float] = (0.5, -0.25)

    image = write_image(tmp_path / "pic.png")
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["A picture."])
    post = replace(thread.posts[0], images=(FocusedImage(image, "alt", 1, "pic.png"),))
    thread = replace(thread, posts=(post,))
    keys = publisher.post_keys("t1", thread)
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    assert publisher.warnings == []
    mastodon_server.set_config(keep_focus=False)
    keys = publisher.post_keys("t2", thread)
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=lambda ref: None)
    (warning,) = publisher.warnings
    assert warning.code == "image-focus-ignored" and warning.post == 1
    assert warning.message.startswith("post 1: ") and "pic.png" in warning.message


# -- clock skew (issue 17) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset",
    [timedelta(hours=-1), timedelta(minutes=-3), timedelta(minutes=3), timedelta(hours=1)],
    ids=["client-1h-ahead", "client-3min-ahead", "client-3min-behind", "client-1h-behind"],
)
@pytest.mark.parametrize("k", [1, 3])
def test_a_post_in_doubt_is_found_whatever_the_clock_skew(
    tmp_path: Path, k: int, offset: timedelta
) -> None:
    """The first attempt is on our clock, created_at on the instance's: the look-up must not
    need them to agree (before: an instance 3 min behind us made post k 'missing')."""
    with running_server(clock_offset=offset) as server:
        publisher = make_publisher(settings_for(server, tmp_path))
        thread = _thread(tmp_path, publisher, [f"Skewed {i}." for i in range(1, 6)])
        keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
        refs = _send_until_lost(server, publisher, thread, keys, k)
        server.expire_idempotency_keys()
        found = publisher.find_published(
            keys[k - 1 :], thread=thread, parent=refs[-1] if refs else None
        )
        assert found[0] is not None and found[0].remote_id == server.published()[k - 1].id
        assert found[1:] == [None] * (5 - k)


def test_after_a_confirmed_parent_only_newer_statuses_are_read(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    """Post k > 1 is bounded by its parent's id (the instance filters, `since_id`), not by
    any clock: a first attempt recorded a day 'later' than the instance's time still finds it."""
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["P1.", "P2.", "P3."])
    keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
    refs = _send_until_lost(mastodon_server, publisher, thread, keys, 2)
    mastodon_server.expire_idempotency_keys()
    later = _with_first_attempt(keys, datetime.now(UTC) + timedelta(days=1))
    found = publisher.find_published(later[1:], thread=thread, parent=refs[0])
    assert found[0] is not None and found[0].remote_id == mastodon_server.published()[1].id
    (page, *_) = mastodon_server.requests_to("GET", r"/api/v1/accounts/\d+/statuses")
    assert page.query["since_id"] == [refs[0].remote_id]


def test_a_first_attempt_later_than_the_local_clock_searches_wide(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    """The local clock was set back since the first attempt (it lies in our future): its
    time cannot bound the search, which reads a wide window instead of missing post 1."""
    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["Set back 1/2", "Then 2/2"])
    keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
    _send_until_lost(mastodon_server, publisher, thread, keys, 1)
    mastodon_server.expire_idempotency_keys()
    future = _with_first_attempt(keys, datetime.now(UTC) + timedelta(hours=1))
    found = publisher.find_published(future, thread=thread, parent=None)
    assert found[0] is not None and found[0].remote_id == mastodon_server.published()[0].id


def test_a_twin_just_before_the_first_attempt_is_not_preferred(
    clocked: tuple[MastodonTestServer, Clock], tmp_path: Path
) -> None:
    """An identical post 1 published a minute before the first attempt lies inside the
    margin read before it; the one after the first attempt is the thread's post 1."""
    server, clock = clocked
    publisher = make_publisher(settings_for(server, tmp_path))
    thread = _thread(tmp_path, publisher, ["Twin opening 1/2", "Then 2/2"])
    client = publisher._client()
    clock.now = datetime.now(UTC) - timedelta(minutes=1)
    client.status_post(thread.posts[0].text)  # the twin, inside the 2-minute margin
    clock.now = datetime.now(UTC)
    keys = _with_first_attempt(publisher.post_keys("t1", thread), clock.now)
    clock.now += timedelta(seconds=5)
    mine = client.status_post(thread.posts[0].text)
    clock.now = datetime.now(UTC)
    found = publisher.find_published(keys, thread=thread, parent=None)
    assert found[0] is not None and found[0].remote_id == str(mine["id"])


def test_without_a_readable_date_the_search_reads_wide_rather_than_trust_our_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_server(clock_offset=timedelta(hours=-1)) as server:
        publisher = make_publisher(settings_for(server, tmp_path))
        monkeypatch.setattr(publisher._http, "last_clock_offset", lambda: None)
        thread = _thread(tmp_path, publisher, ["No Date 1/2", "Then 2/2"])
        keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
        _send_until_lost(server, publisher, thread, keys, 1)
        server.expire_idempotency_keys()
        found = publisher.find_published(keys, thread=thread, parent=None)
        assert found[0] is not None and found[0].remote_id == server.published()[0].id


def test_an_unreadable_status_list_stops_the_look_up_as_transient(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    """A look-up that cannot read the account's statuses decides nothing: it raises (the
    orchestration keeps the post in doubt and retries later), it never answers 'missing'."""
    from threadpost.errors import TransientError

    publisher = make_publisher(mastodon_settings)
    thread = _thread(tmp_path, publisher, ["Unread 1/2", "Then 2/2"])
    keys = _with_first_attempt(publisher.post_keys("t1", thread), datetime.now(UTC))
    _send_until_lost(mastodon_server, publisher, thread, keys, 1)
    mastodon_server.faults.add(
        "non_json_after_commit", r"/api/v1/accounts/*/statuses", method="GET"
    )
    with pytest.raises(TransientError) as raised:
        publisher.find_published(keys, thread=thread, parent=None)
    assert raised.value.post == 1 and not raised.value.unclear
