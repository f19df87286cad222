"""prepare_upload on real files made here with Pillow: private metadata goes, the picture
stands the right way up, and the bytes fit the network's byte and pixel limits at the
highest quality that fits, or ImageWontFit says why not."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from image_builders import (
    CAMERA_MAKE,
    encoded,
    exif_with_gps,
    halves,
    has_private_metadata,
    noise,
    photo_like,
    save,
)
from threadpost.image_upload import (
    HIGH_QUALITY,
    MIN_LONG_SIDE,
    MIN_QUALITY,
    ImageWontFit,
    prepare_upload,
)

ROOMY = 10_000_000


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close(pixel: tuple[int, ...], expected: tuple[int, int, int], slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel[:3], expected, strict=True))


def test_gps_and_camera_exif_are_removed_from_a_jpeg(tmp_path: Path) -> None:
    path = save(halves((64, 48)), tmp_path / "photo.jpg", "JPEG", exif=exif_with_gps())
    assert "GPS" in has_private_metadata(path.read_bytes())  # the fixture carries it
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.stripped
    assert prepared.mime == "image/jpeg"
    assert has_private_metadata(prepared.data) == []
    assert CAMERA_MAKE.encode() not in prepared.data
    assert (prepared.width, prepared.height) == (64, 48) == opened(prepared.data).size
    assert prepared.downscaled_from is None


@pytest.mark.parametrize(
    ("orientation", "top_colour", "bottom_colour"),
    [(6, (220, 20, 20), (20, 20, 220)), (8, (20, 20, 220), (220, 20, 20))],
    ids=["rotate-90-cw", "rotate-90-ccw"],
)
def test_exif_orientation_is_applied_to_the_pixels_before_the_tag_goes(
    tmp_path: Path,
    orientation: int,
    top_colour: tuple[int, int, int],
    bottom_colour: tuple[int, int, int],
) -> None:
    # Stored 80×40, left half red: the camera says "turn me 90°" (6: clockwise, so the
    # left edge ends on top; 8: counter-clockwise, so it ends at the bottom).
    path = save(halves((80, 40)), tmp_path / "turned.jpg", "JPEG", exif=exif_with_gps(orientation))
    prepared = prepare_upload(path, max_bytes=ROOMY)
    picture = opened(prepared.data)
    assert picture.size == (40, 80) == (prepared.width, prepared.height)
    assert close(picture.getpixel((20, 10)), top_colour)  # type: ignore[arg-type]
    assert close(picture.getpixel((20, 70)), bottom_colour)  # type: ignore[arg-type]
    assert has_private_metadata(prepared.data) == []


def test_a_clean_image_within_the_limits_is_sent_byte_for_byte(tmp_path: Path) -> None:
    for kind, name in (("JPEG", "a.jpg"), ("PNG", "a.png"), ("WEBP", "a.webp"), ("GIF", "a.gif")):
        path = save(halves((50, 30)), tmp_path / name, kind)
        prepared = prepare_upload(path, max_bytes=ROOMY, max_pixels=10_000)
        assert prepared.data == path.read_bytes(), kind
        assert not prepared.stripped and prepared.downscaled_from is None


def test_png_text_chunks_and_exif_are_removed_losslessly(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Roe")
    info.add_text("GPSPosition", "48.8566 N, 2.3522 E", zip=True)
    info.add_itxt("Description", "taken at home", lang="en")
    original = noise((40, 30), mode="RGBA")
    path = save(original, tmp_path / "shot.png", "PNG", pnginfo=info, exif=exif_with_gps())
    assert "Jane Roe" in opened(path.read_bytes()).text.values()  # type: ignore[attr-defined]
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.stripped and prepared.mime == "image/png"
    assert has_private_metadata(prepared.data) == []
    assert b"Jane Roe" not in prepared.data and b"48.8566" not in prepared.data
    picture = opened(prepared.data)
    assert picture.format == "PNG" and picture.mode == "RGBA"
    assert picture.tobytes() == original.tobytes()  # lossless: every pixel, alpha included


def test_the_colour_profile_is_kept(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = save(
        halves((40, 30)), tmp_path / "p.jpg", "JPEG", exif=exif_with_gps(), icc_profile=profile
    )
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.stripped
    assert opened(prepared.data).info.get("icc_profile") == profile


def test_a_gif_comment_is_removed_and_the_palette_transparency_kept(tmp_path: Path) -> None:
    picture = Image.new("P", (30, 20), 1)
    picture.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    picture.paste(2, (15, 0, 30, 20))
    picture.paste(0, (0, 0, 5, 5))  # a transparent corner (an unused index is dropped)
    path = save(picture, tmp_path / "a.gif", "GIF", comment=b"shot at 48.8566 N", transparency=0)
    assert opened(path.read_bytes()).info.get("comment")
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.stripped and prepared.mime == "image/gif"
    assert b"48.8566" not in prepared.data
    result = opened(prepared.data)
    assert "comment" not in result.info
    assert result.info.get("transparency") == 0
    assert result.getpixel((0, 0)) == 0  # still the transparent index
    assert result.convert("RGB").tobytes() == picture.convert("RGB").tobytes()


def test_a_jpeg_over_the_byte_limit_keeps_its_size_at_the_highest_quality_that_fits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(
        encoded(photo_like((600, 400)), "JPEG", quality=HIGH_QUALITY, exif=exif_with_gps())
    )
    picture = opened(path.read_bytes()).convert("RGB")  # the pixels as decoded
    at_quality = {q: encoded(picture, "JPEG", quality=q, optimize=True) for q in range(60, 96)}
    # A limit between quality 80 and 90: fits without shrinking, but not at 95.
    limit = (len(at_quality[80]) + len(at_quality[90])) // 2
    assert len(at_quality[HIGH_QUALITY]) > limit >= len(at_quality[MIN_QUALITY])
    prepared = prepare_upload(path, max_bytes=limit)
    assert len(prepared.data) <= limit
    assert (prepared.width, prepared.height) == (600, 400)
    assert prepared.downscaled_from is None  # only re-compressed
    assert has_private_metadata(prepared.data) == []
    chosen = next(q for q, data in at_quality.items() if data == prepared.data)
    assert 80 <= chosen < HIGH_QUALITY
    # As high as fits: one step better would not have.
    assert len(at_quality[chosen + 1]) > limit


def test_a_jpeg_over_the_pixel_limit_is_downscaled_to_just_under_it(tmp_path: Path) -> None:
    path = save(photo_like((3000, 2000)), tmp_path / "big.jpg", "JPEG", quality=90)
    prepared = prepare_upload(path, max_bytes=ROOMY, max_pixels=1_000_000)
    width, height = opened(prepared.data).size
    assert (width, height) == (prepared.width, prepared.height)
    assert prepared.downscaled_from == (3000, 2000)
    assert 990_000 <= width * height <= 1_000_000
    assert abs(width / height - 1.5) < 0.01  # the aspect ratio is kept


def test_a_portrait_photo_meets_the_pixel_limit_standing_upright(tmp_path: Path) -> None:
    stored = photo_like((1600, 1000))
    path = save(stored, tmp_path / "p.jpg", "JPEG", exif=exif_with_gps(orientation=6))
    prepared = prepare_upload(path, max_bytes=ROOMY, max_pixels=400_000)
    assert prepared.width < prepared.height  # upright: taller than wide
    assert prepared.width * prepared.height <= 400_000
    assert opened(prepared.data).size == (prepared.width, prepared.height)
    assert has_private_metadata(prepared.data) == []


def test_a_jpeg_too_heavy_at_any_quality_is_shrunk_as_little_as_fits(tmp_path: Path) -> None:
    picture = noise((1300, 1000))
    path = save(picture, tmp_path / "grain.jpg", "JPEG", quality=95)
    limit = 500_000
    assert len(encoded(picture, "JPEG", quality=MIN_QUALITY, optimize=True)) > limit
    prepared = prepare_upload(path, max_bytes=limit)
    assert len(prepared.data) <= limit
    assert prepared.downscaled_from == (1300, 1000)
    assert MIN_LONG_SIDE < prepared.width < 1300
    assert abs(prepared.width / prepared.height - 1.3) < 0.01
    # Not smaller than needed: 5 % larger does not fit even at the lowest quality.
    larger = picture.resize((round(prepared.width * 1.05), round(prepared.height * 1.05)))
    assert len(encoded(larger, "JPEG", quality=MIN_QUALITY, optimize=True)) > limit


def test_a_webp_over_the_byte_limit_stays_webp_and_fits(tmp_path: Path) -> None:
    picture = photo_like((800, 600))
    path = save(picture, tmp_path / "a.webp", "WEBP", quality=100)
    limit = len(encoded(picture, "WEBP", quality=80))
    assert path.stat().st_size > limit
    prepared = prepare_upload(path, max_bytes=limit)
    assert prepared.mime == "image/webp" and opened(prepared.data).format == "WEBP"
    assert len(prepared.data) <= limit
    assert (prepared.width, prepared.height) == (800, 600)


def test_a_png_over_the_byte_limit_is_scaled_down_and_stays_lossless(tmp_path: Path) -> None:
    picture = photo_like((1400, 1050))
    path = save(picture, tmp_path / "chart.png", "PNG")
    limit = path.stat().st_size * 3 // 4
    prepared = prepare_upload(path, max_bytes=limit)
    result = opened(prepared.data)
    assert result.format == "PNG" and len(prepared.data) <= limit
    assert prepared.downscaled_from == (1400, 1050)
    assert MIN_LONG_SIDE <= prepared.width < 1400


def test_an_image_that_cannot_fit_says_why(tmp_path: Path) -> None:
    # Noise does not compress: even at 1024 pixels on its long side the PNG is ~3 MB.
    path = save(noise((1100, 1100)), tmp_path / "static.png", "PNG")
    with pytest.raises(ImageWontFit) as caught:
        prepare_upload(path, max_bytes=2_000_000)
    reason = caught.value.reason
    assert "1100×1100" in reason
    assert f"{MIN_LONG_SIDE}×{MIN_LONG_SIDE}" in reason
    assert "2,000,000 bytes" in reason


def test_an_animated_gif_is_sent_as_it_is_or_refused_when_over_the_limit(
    tmp_path: Path,
) -> None:
    frames = [halves((40, 30)), halves((40, 30)).rotate(180)]
    path = tmp_path / "blink.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=200, loop=0)
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.data == path.read_bytes() and prepared.mime == "image/gif"
    with pytest.raises(ImageWontFit) as caught:
        prepare_upload(path, max_bytes=path.stat().st_size - 1)
    assert "animated" in caught.value.reason


def test_a_still_gif_over_the_pixel_limit_is_downscaled_and_stays_a_gif(tmp_path: Path) -> None:
    path = save(photo_like((1600, 900)), tmp_path / "still.gif", "GIF")
    prepared = prepare_upload(path, max_bytes=ROOMY, max_pixels=921_600)
    result = opened(prepared.data)
    assert result.format == "GIF" and prepared.mime == "image/gif"
    assert result.size == (prepared.width, prepared.height)
    assert 900_000 < prepared.width * prepared.height <= 921_600
    assert prepared.downscaled_from == (1600, 900)


def test_exif_and_xmp_are_removed_from_a_webp(tmp_path: Path) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>GPS 48.8566</rdf:RDF></x:xmpmeta>'
    path = save(halves((64, 48)), tmp_path / "a.webp", "WEBP", exif=exif_with_gps(), xmp=xmp)
    before = has_private_metadata(path.read_bytes())
    assert "GPS" in before and b"48.8566" in path.read_bytes()
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.stripped and prepared.mime == "image/webp"
    assert has_private_metadata(prepared.data) == []
    assert b"48.8566" not in prepared.data and b"XMP" not in prepared.data
    assert opened(prepared.data).format == "WEBP"


def test_iptc_and_comments_are_removed_from_a_jpeg(tmp_path: Path) -> None:
    """A JPEG with no EXIF at all, but an IPTC block (APP13, where photo agencies put the
    place and the photographer) and a comment: both are private, both go."""
    plain = encoded(halves((64, 48)), "JPEG", comment=b"Jane Roe, at home")
    payload = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x5a\x00\x05Paris"
    app13 = b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload
    path = tmp_path / "agency.jpg"
    path.write_bytes(plain[:2] + app13 + plain[2:])  # right after the SOI marker
    assert opened(path.read_bytes()).format == "JPEG"
    assert b"Jane Roe" in path.read_bytes() and b"Paris" in path.read_bytes()
    prepared = prepare_upload(path, max_bytes=ROOMY)
    assert prepared.stripped
    assert b"Photoshop" not in prepared.data and b"Paris" not in prepared.data
    assert b"Jane Roe" not in prepared.data
    assert has_private_metadata(prepared.data) == []
