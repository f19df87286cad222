"""Both publishers' image uploads, past `check` (a file changed after it, or a publisher
driven directly): what the Mastodon test server refuses, and an image that cannot be made
to fit stopping the thread with an error naming the post and the image, nothing sent."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import pds_harness
from image_builders import (
    encoded,
    exif_with_gps,
    halves,
    has_private_metadata,
    noise,
    photo_like,
    save,
)
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.fixtures import make_publisher, write_draft
from mastodon_server.server import MastodonTestServer, running_server
from threadpost.config import BlueskySettings, Settings
from threadpost.draft import parse_draft
from threadpost.errors import PermanentError
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.publisher import BlueskyPublisher
from threadpost.platforms.bluesky.records import POST_COLLECTION
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.values import PostRef


def test_the_test_server_refuses_an_image_over_its_matrix_limit_and_keeps_what_it_takes() -> None:
    from mastodon import Mastodon
    from mastodon.errors import MastodonAPIError

    with running_server(image_matrix_limit=10_000) as server:
        api = Mastodon(
            api_base_url=server.url,
            access_token=server.token,
            version_check_mode="none",
            ratelimit_method="throw",
        )
        too_wide = encoded(photo_like((101, 100)), "PNG")
        with pytest.raises(MastodonAPIError) as raised:
            api.media_post(io.BytesIO(too_wide), mime_type="image/png", file_name="a.png")
        assert raised.value.args[1] == 422
        assert "101x100 images are not supported" in str(raised.value)
        # GIFs have Mastodon's fixed GIF_MATRIX_LIMIT (1280×720) on top.
        server.set_config(image_matrix_limit=33_177_600)
        wide_gif = encoded(halves((1281, 720)), "GIF")
        with pytest.raises(MastodonAPIError) as raised:
            api.media_post(io.BytesIO(wide_gif), mime_type="image/gif", file_name="c.gif")
        assert raised.value.args[1] == 422
        assert "1281x720 GIF files are not supported" in str(raised.value)
        api.media_post(
            io.BytesIO(encoded(halves((1281, 720)), "PNG")),
            mime_type="image/png",
            file_name="d.png",
        )
        server.set_config(image_matrix_limit=10_000)
        fits = encoded(photo_like((100, 100)), "PNG")
        api.media_post(io.BytesIO(fits), mime_type="image/png", file_name="b.png")
        media = list(server.media.values())[-1]
        assert media.filename == "b.png"
        assert media.data == fits and media.size == len(fits)


def test_mastodon_uploads_stripped_and_fitted_bytes(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    mastodon_server.set_config(image_matrix_limit=200_000, image_size_limit=1_000_000)
    folder = tmp_path / "d"
    folder.mkdir()
    save(photo_like((800, 600)), folder / "p.jpg", "JPEG", quality=95, exif=exif_with_gps())
    draft = write_draft(folder, "Picture.\n![A gradient](p.jpg)")
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(draft, publisher.limits())
    publisher.send(
        thread,
        publisher.post_keys("t1", thread),
        start=1,
        root=None,
        parent=None,
        confirm=lambda ref: None,
    )
    (media,) = mastodon_server.media.values()
    assert has_private_metadata(media.data) == []
    from PIL import Image

    width, height = Image.open(io.BytesIO(media.data)).size
    assert 190_000 < width * height <= 200_000
    assert len(media.data) <= 1_000_000


def test_mastodon_an_image_that_cannot_fit_stops_the_thread_naming_post_and_image(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    mastodon_server.set_config(image_size_limit=100_000)
    folder = tmp_path / "d"
    folder.mkdir()
    save(noise((300, 300)), folder / "grain.png", "PNG")  # ~270 kB, under 1024 px: no shrink
    draft = write_draft(folder, "Text.\n---\nPicture.\n![Grain](grain.png)")
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(draft, publisher.limits())
    with pytest.raises(PermanentError) as raised:
        publisher.send(
            thread,
            publisher.post_keys("t1", thread),
            start=1,
            root=None,
            parent=None,
            confirm=lambda ref: None,
        )
    assert raised.value.post == 2
    assert raised.value.message.startswith("post 2: image grain.png is 300×300; even at 300×300")
    assert "over 100,000 bytes" in raised.value.message
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []
    assert mastodon_server.published() == []


@pytest.mark.pds
def test_bluesky_an_image_that_cannot_fit_stops_the_thread_naming_post_and_image(
    pds: pds_harness.LocalPDS, pds_account: dict[str, Any], tmp_path: Path
) -> None:
    save(noise((1100, 1100)), tmp_path / "static.png", "PNG")  # over 3 MB even at 1024 px
    draft = parse_draft(b"Text.\n---\nPicture.\n![Static](static.png)\n", tmp_path / "draft.md")
    thread = plan_thread(draft, BLUESKY_LIMITS)
    settings = Settings(
        config_path=None,
        db_path=tmp_path / "ledger.db",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
        bluesky=BlueskySettings(
            service=pds.url, handle=pds_account["handle"], app_password=pds_account["password"]
        ),
    )
    publisher = BlueskyPublisher(settings)
    uploads = pds.count("com.atproto.repo.uploadBlob")
    refs: list[PostRef] = []
    try:
        with pytest.raises(PermanentError) as raised:
            publisher.send(
                thread,
                publisher.post_keys("t1", thread),
                start=1,
                root=None,
                parent=None,
                confirm=refs.extend,
            )
    finally:
        publisher.close()
    assert raised.value.post == 2
    assert raised.value.message.startswith(
        "post 2: image static.png is 1100×1100; even at 1024×1024"
    )
    assert "over 2,000,000 bytes" in raised.value.message
    assert refs == [] and pds.count("com.atproto.repo.uploadBlob") == uploads
    assert pds.list_records(pds_account["did"], POST_COLLECTION) == []


def test_mastodon_an_animated_gif_goes_as_it_is_and_becomes_gifv(
    mastodon_server: MastodonTestServer, mastodon_settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    frames = [halves((80, 60)), halves((80, 60)).rotate(180)]
    frames[0].save(folder / "blink.gif", save_all=True, append_images=frames[1:], duration=200)
    save(halves((80, 60)), folder / "still.gif", "GIF", comment=b"shot at 48.8566 N")
    draft = write_draft(
        folder, "Blinking.\n![A blinking square](blink.gif)\n![A still square](still.gif)"
    )
    publisher = make_publisher(mastodon_settings)
    thread = plan_thread(draft, publisher.limits())
    refs: list[PostRef] = []
    publisher.send(
        thread,
        publisher.post_keys("t1", thread),
        start=1,
        root=None,
        parent=None,
        confirm=refs.extend,
    )
    # Uploaded concurrently: known by their file names, not their ids.
    by_name = {media.filename: media for media in mastodon_server.media.values()}
    blink, still = by_name["blink.gif"], by_name["still.gif"]
    assert blink.data == (folder / "blink.gif").read_bytes()  # frames untouched
    assert (blink.kind, still.kind) == ("gifv", "image")
    assert b"48.8566" not in still.data and has_private_metadata(still.data) == []
    (status,) = mastodon_server.published()
    attached = mastodon_server.status_json(status.id)["media_attachments"]
    assert [media["type"] for media in attached] == ["gifv", "image"]
