"""Image inspection on real files made here with Pillow."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from linkserver import png_claiming
from threadpost.images import ImageError, ImageInfo, inspect_image


def make(path: Path, kind: str, size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path, kind)
    return path


@pytest.mark.parametrize(
    ("kind", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_accepted_types(tmp_path: Path, kind: str, mime: str) -> None:
    # The extension lies on purpose: the content decides.
    path = make(tmp_path / "picture.bin", kind, (40, 30))
    assert inspect_image(path) == ImageInfo(
        mime=mime, width=40, height=30, size_bytes=path.stat().st_size
    )


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as caught:
        inspect_image(tmp_path / "nope.png")
    assert caught.value.code == "image-missing"
    assert "nope.png" in str(caught.value)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("just text, named .png")
    with pytest.raises(ImageError) as caught:
        inspect_image(path)
    assert caught.value.code == "image-invalid"


def test_truncated_png(tmp_path: Path) -> None:
    whole = make(tmp_path / "whole.png", "PNG", (300, 300)).read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImageError) as caught:
        inspect_image(path)
    assert caught.value.code in ("image-invalid", "image-unreadable")


def test_type_no_network_accepts(tmp_path: Path) -> None:
    path = make(tmp_path / "picture.bmp", "BMP")
    with pytest.raises(ImageError) as caught:
        inspect_image(path)
    assert caught.value.code == "image-type"
    assert "BMP" in caught.value.reason


def test_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as caught:
        inspect_image(tmp_path)
    assert caught.value.code == "image-unreadable"


def test_a_decompression_bomb_is_an_image_error(tmp_path: Path) -> None:
    # A 15000×15000 PNG header: Pillow refuses to open it; that must be a clear ImageError.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(15000, 15000))
    with pytest.raises(ImageError) as caught:
        inspect_image(path)
    assert caught.value.code == "image-invalid"
    assert "too many pixels" in caught.value.reason


def test_animation_is_noticed(tmp_path: Path) -> None:
    still = make(tmp_path / "still.gif", "GIF")
    assert inspect_image(still).animated is False
    moving = tmp_path / "moving.gif"
    frames = [Image.new("RGB", (20, 10), colour) for colour in ("red", "blue")]
    frames[0].save(moving, save_all=True, append_images=frames[1:], duration=100)
    assert inspect_image(moving).animated is True
