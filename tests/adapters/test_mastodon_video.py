"""Videos on the Mastodon test server: uploaded through POST /api/v2/media with the
alt text as description, polled until processed (202, then 206, then 200), attached as
type "video" with the bytes unchanged; limits refused before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, write_draft, write_image
from mastodon_server.server import MastodonTestServer
from threadpost.errors import PermanentError
from threadpost.plan import Thread, plan_thread
from threadpost.platforms.mastodon.publisher import MastodonPublisher
from threadpost.values import PostRef
from video_builders import mp4_bytes, webm_bytes


def publish(publisher: MastodonPublisher, thread: Thread, thread_id: str = "t1") -> list[PostRef]:
    keys = publisher.post_keys(thread_id, thread)
    refs: list[PostRef] = []
    publisher.send(thread, keys, start=1, root=None, parent=None, confirm=refs.extend)
    return refs


def test_video_is_uploaded_polled_and_attached(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    clip = mp4_bytes(seconds=4.5, width=1280, height=720, fps=30, media_bytes=4096)
    (folder / "clip.mp4").write_bytes(clip)
    draft = write_draft(
        folder, "A cat.\n![A cat jumps onto a shelf](clip.mp4)\n\n---\n\nSecond post."
    )
    mastodon_server.set_config(media_polls=3)
    publisher = make_publisher(mastodon_settings, media_poll_interval=0.5)
    refs = publish(publisher, plan_thread(draft, publisher.limits()))

    assert len(refs) == 2
    upload = mastodon_server.requests_to("POST", "/api/v2/media")[0]
    assert upload.status == 202
    assert upload.value("description") == "A cat jumps onto a shelf"
    assert [r.status for r in mastodon_server.requests_to("GET", r"/api/v1/media/\d+")] == [
        206,
        206,
        200,
    ]
    first = mastodon_server.published()[0]
    [media] = [mastodon_server.media[m] for m in first.media_ids]
    assert (media.kind, media.content_type, media.data) == ("video", "video/mp4", clip)
    shown = mastodon_server._media_json(media)
    assert shown["type"] == "video"
    assert shown["meta"]["original"]["width"] == 1280
    assert shown["meta"]["original"]["duration"] == 4.5
    assert shown["meta"]["fps"] == 30


def test_webm_goes_as_webm(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "loop.webm").write_bytes(webm_bytes())
    draft = write_draft(folder, "Loop.\n![A spinning top](loop.webm)")
    publisher = make_publisher(mastodon_settings)
    publish(publisher, plan_thread(draft, publisher.limits()))
    [media] = mastodon_server.media.values()
    assert (media.kind, media.content_type) == ("video", "video/webm")
    original = mastodon_server._media_json(media)["meta"]["original"]
    assert (original["width"], original["height"], original["duration"]) == (320, 180, 2.0)


def test_over_the_instance_limits_nothing_is_sent(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "fast.mp4").write_bytes(mp4_bytes(fps=60))
    mastodon_server.set_config(video_frame_rate_limit=30)
    draft = write_draft(folder, "Fast.\n![A hummingbird](fast.mp4)")
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(draft, publisher.limits())
    assert thread.limits.max_video_frame_rate == 30  # read from the instance
    with pytest.raises(PermanentError) as raised:
        publish(publisher, thread)
    assert raised.value.post == 1
    assert "video fast.mp4 has 60.00 frames a second; Mastodon accepts at most 30" in (
        raised.value.message
    )
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []
    assert mastodon_server.published() == []


def test_server_refuses_a_video_beside_an_image(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    # check refuses this draft; the server, like Mastodon, refuses it too (422).
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(mp4_bytes())
    write_image(folder / "a.png")
    draft = write_draft(folder, "Both.\n![A clip](clip.mp4)\n![A square](a.png)")
    publisher = make_publisher(mastodon_settings)
    with pytest.raises(PermanentError) as raised:
        publish(publisher, plan_thread(draft, publisher.limits()))
    assert "Cannot attach a video to a post that already contains images" in raised.value.message
    assert mastodon_server.published() == []
