"""fingerprint: what makes two planned threads the same posts on a network (issue 12)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from fakes import make_thread
from mastodon_server.fixtures import write_image
from threadpost.draft import Image, Poll
from threadpost.fingerprint import images_hash, thread_fingerprint
from threadpost.plan import Thread


def _first_post(thread: Thread, **changes: object) -> Thread:
    first = dataclasses.replace(thread.posts[0], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(thread, posts=(first, *thread.posts[1:]))


def test_the_same_texts_and_image_contents_are_the_same_posts(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a" / "pole.png")
    copied = tmp_path / "b" / "renamed.png"
    copied.parent.mkdir()
    shutil.copy(image, copied)
    base = make_thread("mastodon", 3)
    one = _first_post(base, images=(Image(image, "A pole", 4, "pole.png"),))
    # Another path, name, alt text and line: the same picture, so the same posts.
    two = _first_post(base, images=(Image(copied, "Pole", 9, "renamed.png"),))
    assert thread_fingerprint(one) == thread_fingerprint(two)
    # Only the thread's posts count, not its network name or limits.
    assert thread_fingerprint(dataclasses.replace(one, platform="bluesky")) == (
        thread_fingerprint(one)
    )
    write_image(copied, color="red")
    assert thread_fingerprint(one) != thread_fingerprint(two)


def test_text_order_quotes_and_polls_make_other_posts() -> None:
    base = make_thread("mastodon", 3)
    assert thread_fingerprint(base) == thread_fingerprint(make_thread("mastodon", 3))
    assert thread_fingerprint(base) != thread_fingerprint(make_thread("mastodon", 3, tag="x"))
    swapped = dataclasses.replace(base, posts=(base.posts[1], base.posts[0], base.posts[2]))
    assert thread_fingerprint(swapped) != thread_fingerprint(base)
    quoting = _first_post(base, quote="https://mastodon.example/@a/1")
    quoting_other = _first_post(base, quote="https://mastodon.example/@a/2")
    assert len({thread_fingerprint(t) for t in (base, quoting, quoting_other)}) == 3
    poll = _first_post(base, poll=Poll(options=("Yes", "No")))
    other_poll = _first_post(base, poll=Poll(options=("Yes", "No", "Maybe")))
    longer = _first_post(base, poll=Poll(options=("Yes", "No"), expires_in=7200))
    assert len({thread_fingerprint(t) for t in (base, poll, other_poll)}) == 3
    # How long a poll stays open is not what it says.
    assert thread_fingerprint(longer) == thread_fingerprint(poll)


def test_images_hash_follows_contents_not_order(tmp_path: Path) -> None:
    a = write_image(tmp_path / "a.png")
    b = write_image(tmp_path / "b.png", color="blue")
    before = images_hash([a, b])
    assert images_hash([b, a, a]) == before
    write_image(b, color="green")
    assert images_hash([a, b]) != before
    b.unlink()
    assert images_hash([a, b]) not in (before, images_hash([a]))
