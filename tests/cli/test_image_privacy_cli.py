"""Images as the networks store them (issue 15, Media), end to end through the CLI against
the real local PDS and the local Mastodon API test server:

- A photo carrying EXIF GPS, a camera make and an orientation tag is published with none
  of it: the blob fetched back from the PDS with com.atproto.sync.getBlob and the bytes the
  Mastodon server received carry no EXIF, and the picture stands upright (its
  aspectRatio on Bluesky is the upright one).
- An image over a network's limit (Bluesky's 2,000,000-byte blob limit; the instance's
  image_matrix_limit, read from /api/v2/instance) is a `check` warning saying it will be
  downscaled, shown in preview and dry run, and is published within the limits.
- An image that cannot be made to fit is an error naming the post, its line and the
  image; nothing is sent anywhere.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import pds_harness
from cli_support import run_cli
from image_builders import CAMERA_MAKE, exif_with_gps, halves, has_private_metadata, noise, save
from mastodon_server.fixtures import *  # noqa: F403
from mastodon_server.server import MastodonTestServer
from threadpost.platforms.bluesky.records import POST_COLLECTION

pytestmark = pytest.mark.pds

BLUESKY_BLOB_LIMIT = 2_000_000
#: The Mastodon server's pixel limit in these tests: small, so the photo is over it.
MATRIX_LIMIT = 1_000_000

DRAFT = """+++
title = "Holiday"
+++
Where we stayed.
![The house, seen from the garden](photos/house.jpg)

---

The view, full size.
![Hills under a grey sky](photos/view.jpg)
"""


def _env(
    mastodon: MastodonTestServer, pds: pds_harness.LocalPDS, account: dict[str, Any]
) -> dict[str, str]:
    return {
        "THREADPOST_MASTODON_INSTANCE": mastodon.url,
        "THREADPOST_MASTODON_TOKEN": mastodon.token,
        "THREADPOST_BLUESKY_SERVICE": pds.url,
        "THREADPOST_BLUESKY_HANDLE": account["handle"],
        "THREADPOST_BLUESKY_APP_PASSWORD": account["password"],
    }


def _photos(folder: Path) -> tuple[Path, Path]:
    """house.jpg: small, taken turned (EXIF orientation 6: stored 120×60, shown 60×120),
    with GPS and a camera make. view.jpg: 1800×1400 of grain, over both networks' limits
    here (3 MB against Bluesky's 2,000,000 bytes; 2.5 MP against the instance's 1 MP)."""
    folder.mkdir()
    house = save(halves((120, 60)), folder / "house.jpg", "JPEG", exif=exif_with_gps(6))
    view = save(noise((1800, 1400)), folder / "view.jpg", "JPEG", quality=95, exif=exif_with_gps())
    assert "GPS" in has_private_metadata(house.read_bytes())
    assert view.stat().st_size > BLUESKY_BLOB_LIMIT
    return house, view


def _image(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_photos_go_out_without_location_upright_and_within_each_networks_limits(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    mastodon_server.set_config(image_matrix_limit=MATRIX_LIMIT)
    _photos(isolated_env / "photos")
    draft = isolated_env / "holiday.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = _env(mastodon_server, pds, pds_account)

    # check: warnings, not errors, on both networks, for the over-limit photo only.
    checked = run_cli("check", "--json", str(draft), env=env)
    report = json.loads(checked.stdout)
    assert checked.exit_code == 0 and report["ok"] is True, checked.stdout + checked.stderr
    found = {(p["platform"], p["post"], p["line"], p["code"]) for p in report["problems"]}
    assert found == {
        ("bluesky", 2, 10, "image-downscaled"),
        ("mastodon", 2, 10, "image-downscaled"),
    }
    messages = {p["platform"]: p["message"] for p in report["problems"]}
    assert "image photos/view.jpg is 3." in messages["bluesky"]
    assert "to fit Bluesky's limit (2,000,000 bytes)" in messages["bluesky"]
    assert "it will be downscaled to fit Mastodon's limit" in messages["mastodon"]
    assert f"or {MATRIX_LIMIT:,} pixels)" in messages["mastodon"]  # the instance's own limit

    preview = run_cli("preview", str(draft), env=env)
    assert preview.exit_code == 0, preview.stdout + preview.stderr
    flat = " ".join(preview.stdout.replace("│", " ").split())  # the boxes' borders out
    assert "to fit Bluesky's limit (2,000,000 bytes)" in flat
    assert "it will be downscaled to fit Mastodon's limit" in flat
    dry = run_cli("publish", "--dry-run", str(draft), env=env)
    assert dry.exit_code == 0, dry.stdout + dry.stderr
    flat = " ".join((dry.stdout + dry.stderr).split())
    assert "warning: bluesky post 2: image photos/view.jpg" in flat
    assert "warning: mastodon post 2: image photos/view.jpg" in flat
    dry_json = json.loads(run_cli("publish", "--dry-run", "--json", str(draft), env=env).stdout)
    assert {(p["platform"], p["code"]) for p in dry_json["problems"]} == {
        ("bluesky", "image-downscaled"),
        ("mastodon", "image-downscaled"),
    }
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []  # dry: nothing sent

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 0, published.stdout + published.stderr

    # Bluesky: the blobs as the PDS serves them to anyone.
    records = sorted(
        pds.list_records(pds_account["did"], POST_COLLECTION),
        key=lambda record: record["value"]["createdAt"],
    )
    assert len(records) == 2
    blobs = []
    for record in records:
        (embedded,) = record["value"]["embed"]["images"]
        data = pds.get_blob(pds_account["did"], embedded["image"]["ref"]["$link"])
        assert embedded["image"]["size"] == len(data) <= BLUESKY_BLOB_LIMIT
        assert has_private_metadata(data) == []
        assert CAMERA_MAKE.encode() not in data
        picture = _image(data)
        ratio = embedded["aspectRatio"]
        assert (ratio["width"], ratio["height"]) == picture.size
        blobs.append(picture)
    house, view = blobs
    assert house.size == (60, 120)  # upright
    assert view.format == "JPEG"

    # Mastodon: the bytes the instance received, within its size and pixel limits.
    uploads = sorted(mastodon_server.media.values(), key=lambda media: int(media.id))
    assert [m.description for m in uploads] == [
        "The house, seen from the garden",
        "Hills under a grey sky",
    ]
    for media in uploads:
        assert has_private_metadata(media.data) == []
        assert len(media.data) == media.size <= mastodon_server.config.image_size_limit
        width, height = _image(media.data).size
        assert width * height <= MATRIX_LIMIT
    assert _image(uploads[0].data).size == (60, 120)
    width, height = _image(uploads[1].data).size
    assert width * height > 0.95 * MATRIX_LIMIT  # downscaled no further than needed
    assert abs(width / height - 1800 / 1400) < 0.01


def test_an_image_that_cannot_be_made_to_fit_is_an_error_and_nothing_is_sent(
    mastodon_server: MastodonTestServer,
    pds: pds_harness.LocalPDS,
    pds_account: dict[str, Any],
    isolated_env: Path,
) -> None:
    # Random pixels do not compress: even at 1024×1024 the PNG is over 3 MB.
    folder = isolated_env / "photos"
    folder.mkdir()
    save(halves((120, 60)), folder / "house.jpg", "JPEG")
    save(noise((1100, 1100)), folder / "view.jpg", "PNG")
    draft = isolated_env / "holiday.md"
    draft.write_text(DRAFT, encoding="utf-8")
    env = _env(mastodon_server, pds, pds_account)
    writes = pds.count("com.atproto.repo.applyWrites")

    checked = run_cli("check", str(draft), env=env)
    assert checked.exit_code == 3, checked.stdout + checked.stderr
    flat = " ".join(checked.stdout.split())
    assert f"{draft}:10 bluesky post 2: error: image photos/view.jpg is 3.6 MB" in flat
    assert "Bluesky accepts at most 2,000,000 bytes, and even at 1024×1024" in flat
    assert "mastodon post 2" not in flat  # 16 MB there: it fits as it is

    published = run_cli("publish", "--yes", str(draft), env=env)
    assert published.exit_code == 3, published.stdout + published.stderr
    assert "bluesky post 2: image photos/view.jpg" in " ".join(published.stderr.split())
    assert pds.count("com.atproto.repo.applyWrites") == writes
    assert pds.list_records(pds_account["did"], POST_COLLECTION) == []
    assert mastodon_server.requests_to("POST", "/api/v2/media") == []
    assert mastodon_server.published() == []
