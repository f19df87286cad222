"""Benchmarks of video inspection and of the GIF-to-video conversion.

1. `videos.inspect_video` on a 100 MB MP4 (filler media data) with its `moov` header
   before the media data ("fast start") and after it (the reader seeks over `mdat`).
2. The same on a 1 MB WebM header read.
3. `gif_to_video.gif_as_mp4` on animated GIFs made here (noise, the worst case, at
   320×240 × 50 and 640×480 × 100 frames; a flat shape moving, the usual case, at
   640×480 × 100), uncached: ffmpeg's start-up plus the encoding.

Files are built in a temporary folder (tests/video_builders.py); each case runs RUNS times
and the median wall time is reported.

Run: .venv/bin/python bench/bench_videos.py   (prints a Markdown section for BENCHMARKS.md)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from PIL import Image  # noqa: E402

from threadpost import gif_to_video  # noqa: E402
from threadpost.videos import inspect_video  # noqa: E402
from video_builders import mp4_bytes, webm_bytes  # noqa: E402

RUNS = 5
MEDIA_BYTES = 100 * 1024 * 1024


def _median(action: object) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _gif(path: Path, size: tuple[int, int], frames: int, *, noise: bool) -> Path:
    """Noise (the worst case: nothing compresses) or a flat shape moving across (typical)."""
    if noise:
        pictures = [Image.effect_noise(size, 40 + i).convert("RGB") for i in range(frames)]
    else:
        pictures = []
        for i in range(frames):
            picture = Image.new("RGB", size, (240, 240, 230))
            x = i * (size[0] - 60) // frames
            picture.paste((200, 40, 40), (x, size[1] // 3, x + 60, size[1] // 3 + 60))
            pictures.append(picture)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=40, loop=0)
    return path


def main() -> None:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for moov_first in (True, False):
            clip = folder / f"big-{moov_first}.mp4"
            clip.write_bytes(mp4_bytes(seconds=170, moov_first=moov_first, media_bytes=MEDIA_BYTES))
            seconds = _median(lambda clip=clip: inspect_video(clip))
            where = "moov first" if moov_first else "moov after 100 MB of mdat"
            rows.append((f"inspect_video, 100 MB MP4, {where}", f"{seconds * 1000:.2f} ms"))
        webm = folder / "clip.webm"
        webm.write_bytes(webm_bytes() + bytes(MEDIA_BYTES // 100))
        rows.append(
            ("inspect_video, WebM", f"{_median(lambda: inspect_video(webm)) * 1000:.2f} ms")
        )
        if gif_to_video.converter() is None:
            rows.append(("gif_as_mp4", "not measured: imageio-ffmpeg is not installed"))
        else:
            cases = (((320, 240), 50, True), ((640, 480), 100, False), ((640, 480), 100, True))
            for size, frames, noise in cases:
                gif = _gif(folder / f"g{size[0]}{noise}.gif", size, frames, noise=noise)

                def convert(gif: Path = gif) -> int:
                    gif_to_video._convert.cache_clear()
                    return len(gif_to_video.gif_as_mp4(gif))

                seconds = _median(convert)
                made = convert()
                rows.append(
                    (
                        f"gif_as_mp4, {'noise' if noise else 'flat shape'}, "
                        f"{size[0]}×{size[1]} × {frames} frames "
                        f"({gif.stat().st_size:,} bytes GIF → {made:,} bytes MP4)",
                        f"{seconds:.3f} s",
                    )
                )
    print("## Videos (bench/bench_videos.py)\n")
    print(f"Median of {RUNS} runs each, 2 shared cores (other jobs running).\n")
    print("| case | time |\n|---|---|")
    for case, value in rows:
        print(f"| {case} | {value} |")


if __name__ == "__main__":
    main()
