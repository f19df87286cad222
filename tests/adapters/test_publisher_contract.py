"""One `Publisher` contract (platforms/base.py), one suite, both networks.

Every test runs against the real local Bluesky PDS (tests/pds_harness.py) and the local
Mastodon API test server (tests/mastodon_server), through the same steps and the same
assertions. A `Network` below knows only how to set its server up and read it back; what
a publisher must do is written once, in the tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest

import pds_harness
from bluesky_support import LoseResponse
from mastodon_server.fixtures import settings_for, write_image
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.config import BlueskySettings, Settings
from threadpost.draft import Image, parse_draft
from threadpost.errors import PermanentError, UnclearOutcome
from threadpost.plan import Thread, plan_thread
from threadpost.platforms.base import Publisher
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.mastodon.publisher import MastodonPublisher
from threadpost.values import PlatformName, PostKey, PostRef, Problem

THREE = ["First of three.", "Second of three.", "Third of three."]


@dataclass(frozen=True)
class ServerPost:
    """A post as the server stores it: its id, text and the id of the post it replies to."""

    remote_id: str
    text: str
    parent_id: str | None


class Network(Protocol):
    """What the suite needs from a network's test server: nothing about the contract."""

    name: PlatformName

    def publisher(self) -> Publisher:
        """A publisher for the test account."""
        ...

    def losing_answer_of(self, index: int) -> Publisher:
        """A publisher whose write carrying post `index` lands but whose answer is lost."""
        ...

    def server_posts(self) -> list[ServerPost]:
        """The account's posts on the server, oldest first."""
        ...

    def refuse_next_post(self, thread: Thread, index: int) -> Thread:
        """`thread` with post `index` changed so that the server refuses it."""
        ...

    def warning_thread(self, folder: Path) -> Thread:
        """A one-post thread whose sending draws a non-fatal finding on post 1."""
        ...


def plan(texts: list[str], folder: Path, limits: Any) -> Thread:
    """The posts `texts`, unnumbered, planned for `limits`."""
    source = "+++\nnumbering = false\n+++\n" + "\n\n---\n\n".join(texts)
    return plan_thread(parse_draft(source.encode(), folder / "draft.md"), limits)


# -- the two networks ------------------------------------------------------------------------


class MastodonNetwork:
    name: PlatformName = "mastodon"

    def __init__(self, server: MastodonTestServer, tmp_path: Path) -> None:
        self.server = server
        self.settings = settings_for(server, tmp_path)
        self.folder = tmp_path

    def publisher(self) -> Publisher:
        return MastodonPublisher(self.settings, request_timeout=10.0, sleep=lambda _: None)

    def losing_answer_of(self, index: int) -> Publisher:
        self.server.faults.add("drop_after_commit", on_path="/api/v1/statuses", at_count=index)
        return self.publisher()

    def server_posts(self) -> list[ServerPost]:
        return [
            ServerPost(status.id, status.text, status.in_reply_to_id)
            for status in self.server.published()
        ]

    def refuse_next_post(self, thread: Thread, index: int) -> Thread:
        # Longer than the instance's 500 characters: the server answers 422.
        return _with_text(thread, index, "far too long " * 60)

    def warning_thread(self, folder: Path) -> Thread:
        @dataclass(frozen=True)
        class FocusedImage(Image):
            focus: tuple[float, float] = (0.5, -0.25)

        self.server.set_config(keep_focus=False)  # the instance ignores focus points
        image = write_image(folder / "pic.png")
        thread = plan(["A picture."], folder, self.publisher().limits())
        post = replace(thread.posts[0], images=(FocusedImage(image, "alt", 1, "pic.png"),))
        return replace(thread, posts=(post,))


class BlueskyNetwork:
    name: PlatformName = "bluesky"

    def __init__(self, pds: pds_harness.LocalPDS, account: dict[str, Any], tmp_path: Path):
        self.pds = pds
        self.account = account
        self.settings = Settings(
            config_path=None,
            db_path=tmp_path / "ledger.db",
            state_dir=tmp_path / "state",
            timezone=ZoneInfo("UTC"),
            bluesky=BlueskySettings(
                service=pds.url,
                handle=account["handle"],
                app_password=account["password"],
                link_cards=False,
            ),
        )

    def publisher(self) -> Publisher:
        return BlueskyPublisher(self.settings)

    def losing_answer_of(self, index: int) -> Publisher:
        # The whole thread is one atomic applyWrites: losing its answer loses every post's.
        return BlueskyPublisher(
            self.settings, transport=LoseResponse("com.atproto.repo.applyWrites")
        )

    def server_posts(self) -> list[ServerPost]:
        records = self.pds.list_records(self.account["did"], "app.bsky.feed.post")
        records.sort(key=lambda record: (record["value"]["createdAt"], record["uri"]))
        return [
            ServerPost(
                record["uri"],
                record["value"]["text"],
                (record["value"].get("reply") or {}).get("parent", {}).get("uri"),
            )
            for record in records
        ]

    def refuse_next_post(self, thread: Thread, index: int) -> Thread:
        # Over the lexicon's 300 graphemes: the PDS refuses the record (400).
        return _with_text(thread, index, "far too long " * 30)

    def warning_thread(self, folder: Path) -> Thread:
        # A mention of an account that does not exist is sent as plain text, with a warning.
        return plan(["Hello @nobody-here-at-all.test!"], folder, self.publisher().limits())


def _with_text(thread: Thread, index: int, text: str) -> Thread:
    posts = tuple(
        replace(post, text=text, facets=()) if post.index == index else post
        for post in thread.posts
    )
    return replace(thread, posts=posts)


@pytest.fixture(params=["mastodon", "bluesky"])
def network(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Network]:
    if request.param == "mastodon":
        with running_server() as server:
            yield MastodonNetwork(server, tmp_path)
    else:
        pds: pds_harness.LocalPDS = request.getfixturevalue("pds")
        account = pds.create_account(pds_harness.unique_handle("ct"), "contract-password-1")
        account.setdefault("password", "contract-password-1")
        yield BlueskyNetwork(pds, account, tmp_path)


def publish(publisher: Publisher, thread: Thread, keys: list[PostKey]) -> list[PostRef]:
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    return refs


def assert_reply_chain(posts: list[ServerPost], texts: list[str]) -> None:
    assert [post.text for post in posts] == texts
    assert posts[0].parent_id is None
    for previous, post in itertools.pairwise(posts):
        assert post.parent_id == previous.remote_id


# -- the contract ----------------------------------------------------------------------------


def test_keys_name_each_post_once_and_never_collide_across_threads(
    network: Network, tmp_path: Path
) -> None:
    publisher = network.publisher()
    thread = plan(THREE, tmp_path, publisher.limits())
    keys = publisher.post_keys("thread-a", thread)
    other = publisher.post_keys("thread-b", thread)
    assert [key.index for key in keys] == [1, 2, 3]
    assert len({key.key for key in keys}) == 3
    assert not {key.key for key in keys} & {key.key for key in other}
    # The stored keys fully decide what is sent: a second publisher (a later run) given the
    # same keys after a complete send leaves every post exactly once on the server.
    refs = publish(publisher, thread, keys)
    again = network.publisher()
    found = again.find_published(keys, thread=thread, parent=None)
    assert [ref.remote_id if ref else None for ref in found] == [ref.remote_id for ref in refs]
    assert len(network.server_posts()) == 3


def test_send_confirms_each_post_in_order_as_a_reply_chain(
    network: Network, tmp_path: Path
) -> None:
    publisher = network.publisher()
    thread = plan(THREE, tmp_path, publisher.limits())
    refs = publish(publisher, thread, publisher.post_keys("t", thread))

    posts = network.server_posts()
    assert_reply_chain(posts, THREE)
    assert [ref.index for ref in refs] == [1, 2, 3]
    assert [ref.remote_id for ref in refs] == [post.remote_id for post in posts]
    assert {ref.platform for ref in refs} == {network.name}
    assert all(ref.url for ref in refs)


def test_after_a_lost_answer_find_published_finds_what_landed_and_nothing_else(
    network: Network, tmp_path: Path
) -> None:
    elsewhere = network.publisher()
    unrelated = plan(["Another thread.", "Its second post."], tmp_path, elsewhere.limits())
    publish(elsewhere, unrelated, elsewhere.post_keys("unrelated", unrelated))
    before = len(network.server_posts())

    publisher = network.losing_answer_of(2)
    thread = plan(THREE, tmp_path, publisher.limits())
    keys = publisher.post_keys("t", thread)
    confirmed: list[PostRef] = []
    with pytest.raises(UnclearOutcome) as raised:
        publisher.send(thread, keys, start=1, root=None, parent=None, confirm=confirmed.extend)
    assert raised.value.platform == network.name
    landed = network.server_posts()[before:]
    assert [post.text for post in landed] == THREE[: len(landed)]
    assert len(confirmed) < len(landed), "the lost answer's post landed unconfirmed"

    found = publisher.find_published(keys, thread=thread, parent=None)
    assert [ref.remote_id if ref else None for ref in found] == [
        post.remote_id for post in landed
    ] + [None] * (3 - len(landed))
    assert [ref.index for ref in found if ref] == list(range(1, len(landed) + 1))
    # A thread that was never sent is not found among the account's posts.
    never = plan(["Never sent.", "Not this either."], tmp_path, publisher.limits())
    unsent = publisher.post_keys("never-sent", never)
    assert publisher.find_published(unsent, thread=never, parent=None) == [None, None]

    # Resuming from what was found completes the thread without a duplicate.
    refs = [ref for ref in found if ref is not None]
    start = len(refs) + 1
    if start <= 3:
        publisher.send(
            thread, keys, start=start, root=refs[0], parent=refs[-1], confirm=refs.extend
        )
    assert_reply_chain(network.server_posts()[before:], THREE)


def test_a_post_the_server_refuses_is_a_permanent_error_naming_it(
    network: Network, tmp_path: Path
) -> None:
    publisher = network.publisher()
    thread = network.refuse_next_post(plan(THREE, tmp_path, publisher.limits()), 2)
    refs: list[PostRef] = []
    with pytest.raises(PermanentError) as raised:
        publisher.send(
            thread,
            publisher.post_keys("t", thread),
            start=1,
            root=None,
            parent=None,
            confirm=refs.extend,
        )
    error = raised.value
    assert error.platform == network.name
    # The post named is the refused one or the first of the atomic write that carried it.
    assert error.post is not None and 1 <= error.post <= 2
    assert f"post {error.post}" in error.message or f"posts {error.post}" in error.message
    texts = [post.text for post in network.server_posts()]
    assert texts == THREE[: len(texts)] and len(texts) < 2, "nothing from the refused post on"
    assert len(refs) == len(texts)


def test_a_post_without_a_key_is_refused_before_anything_is_sent(
    network: Network, tmp_path: Path
) -> None:
    publisher = network.publisher()
    thread = plan(THREE, tmp_path, publisher.limits())
    keys = publisher.post_keys("t", thread)
    with pytest.raises(PermanentError) as raised:
        publish(publisher, thread, [keys[0], keys[2]])
    assert (raised.value.platform, raised.value.post) == (network.name, 2)
    assert "post 2" in raised.value.message
    assert network.server_posts() == []


def test_findings_are_appended_to_the_warnings_list(network: Network, tmp_path: Path) -> None:
    publisher = network.publisher()
    warnings = publisher.warnings
    assert warnings == []
    thread = network.warning_thread(tmp_path)
    publish(publisher, thread, publisher.post_keys("t", thread))
    assert publisher.warnings is warnings, "appended to, never replaced"
    (warning,) = warnings
    assert isinstance(warning, Problem)
    assert (warning.severity, warning.platform, warning.post) == ("warning", network.name, 1)
    assert warning.message.startswith("post 1: ")
    assert len(network.server_posts()) == 1, "a finding does not stop the post"


def test_delete_removes_the_thread_and_a_second_delete_is_harmless(
    network: Network, tmp_path: Path
) -> None:
    publisher = network.publisher()
    thread = plan(THREE, tmp_path, publisher.limits())
    refs = publish(publisher, thread, publisher.post_keys("t", thread))
    publisher.delete(refs)
    assert network.server_posts() == []
    publisher.delete(refs)
    assert network.server_posts() == []


def test_close_is_idempotent_and_a_closed_publisher_can_still_be_used(
    network: Network, tmp_path: Path
) -> None:
    unused = network.publisher()
    unused.close()
    unused.close()

    publisher = network.publisher()
    thread = plan(["Before closing."], tmp_path, publisher.limits())
    publish(publisher, thread, publisher.post_keys("t1", thread))
    publisher.close()
    publisher.close()
    later = plan(["After closing."], tmp_path, publisher.limits())
    publish(publisher, later, publisher.post_keys("t2", later))
    publisher.close()
    assert [post.text for post in network.server_posts()] == ["Before closing.", "After closing."]
