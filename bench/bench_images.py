"""Benchmarks of `image_upload.prepare_upload`: what fitting a photo to a network costs.

Pictures made here with Pillow (smooth gradients with grain, compressing like photos),
with EXIF GPS. Each case is prepared RUNS times; the median wall time, the number of
encodings and what came out are reported.

1. A 6000×4000 JPEG (24 MP) to Bluesky: over 2,000,000 bytes, re-compressed/downscaled.
2. The same photo to Mastodon's default limits: only the metadata is stripped.
3. A 4000×3000 JPEG to an instance with a 1-megapixel image_matrix_limit.
4. A 2400×1600 PNG to Bluesky: lossless, only the scale is searched.

Run: .venv/bin/python bench/bench_images.py   (prints a Markdown section for BENCHMARKS.md)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from image_builders import exif_with_gps, photo_like, save  # noqa: E402
from threadpost import image_upload  # noqa: E402
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS  # noqa: E402
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS  # noqa: E402

RUNS = 3


def _count_encodings() -> list[int]:
    """Wrap the encoder to count its calls (the cost is almost all in encoding)."""
    counter = [0]
    encode = image_upload._Saver.encode

    def counted(self: image_upload._Saver, image: object, quality: int) -> bytes:
        counter[0] += 1
        return encode(self, image, quality)  # type: ignore[arg-type]

    image_upload._Saver.encode = counted  # type: ignore[method-assign]
    return counter


def main() -> None:
    counter = _count_encodings()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = save(
            photo_like((6000, 4000)), folder / "p24.jpg", "JPEG", quality=92, exif=exif_with_gps()
        )
        mid = save(
            photo_like((4000, 3000)), folder / "p12.jpg", "JPEG", quality=92, exif=exif_with_gps()
        )
        png = save(photo_like((2400, 1600)), folder / "s.png", "PNG")
        cases = [
            ("24 MP JPEG → Bluesky (2,000,000 bytes)", photo, BLUESKY_LIMITS.max_image_bytes, None),
            (
                "24 MP JPEG → Mastodon defaults (strip only)",
                photo,
                MASTODON_DEFAULT_LIMITS.max_image_bytes,
                MASTODON_DEFAULT_LIMITS.max_image_pixels,
            ),
            ("12 MP JPEG → 1 MP image_matrix_limit", mid, 16 * 1024 * 1024, 1_000_000),
            ("3.8 MP PNG → Bluesky (2,000,000 bytes)", png, BLUESKY_LIMITS.max_image_bytes, None),
        ]
        rows = []
        for name, path, max_bytes, max_pixels in cases:
            times = []
            for _ in range(RUNS):
                counter[0] = 0
                start = time.perf_counter()
                prepared = image_upload.prepare_upload(
                    path, max_bytes=max_bytes, max_pixels=max_pixels
                )
                times.append(time.perf_counter() - start)
            rows.append(
                f"| {name} | {path.stat().st_size:,} | {prepared.width}×{prepared.height}, "
                f"{len(prepared.data):,} | {counter[0]} | {statistics.median(times):.2f} |"
            )
    print("## Fitting images to a network (bench/bench_images.py)\n")
    print(f"Median of {RUNS} runs each, same machine, same run.\n")
    print("| case | file bytes | sent | encodings | seconds |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
