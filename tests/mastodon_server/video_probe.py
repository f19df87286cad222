"""What the test server learns of an uploaded video, as Mastodon learns it from ffprobe:
picture size, frame rate and duration. Written apart from threadpost's own reader (it
walks the box tree recursively and takes the first video track's numbers), so a mistake
in one is not silently shared by the other. MP4/QuickTime only: for a WebM upload the
server reports the type without dimensions."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

_NESTED = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


@dataclass(frozen=True)
class Probe:
    width: int
    height: int
    frame_rate: float
    duration: float


def _walk(data: bytes, start: int, end: int, depth: int = 0) -> Iterator[tuple[bytes, bytes]]:
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        head = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            head = 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            return
        yield kind, data[at + head : at + size]
        if kind in _NESTED and depth < 6:
            yield from _walk(data, at + head, at + size, depth + 1)
        at += size


def probe_mp4(data: bytes) -> Probe | None:
    """The first video track's numbers; None when `data` is not an MP4 with one."""
    if data[4:8] != b"ftyp":
        return None
    tkhd = mdhd = stts = None
    video = False
    for kind, body in _walk(data, 0, len(data)):
        if kind == b"trak":
            if video:
                break
            tkhd = mdhd = stts = None
        elif kind == b"tkhd":
            tkhd = body
        elif kind == b"mdhd":
            mdhd = body
        elif kind == b"hdlr":
            video = body[8:12] == b"vide"
        elif kind == b"stts":
            stts = body
    if not (video and tkhd and mdhd and stts):
        return None
    width, height = (v >> 16 for v in struct.unpack(">II", tkhd[-8:]))
    if mdhd[0] == 1:
        scale, length = struct.unpack_from(">IQ", mdhd, 20)
    else:
        scale, length = struct.unpack_from(">II", mdhd, 12)
    (count,) = struct.unpack_from(">I", stts, 4)
    frames = sum(struct.unpack_from(">I", stts, 8 + 8 * i)[0] for i in range(count))
    seconds = length / scale if scale else 0.0
    return Probe(width, height, frames / seconds if seconds else 0.0, seconds)
