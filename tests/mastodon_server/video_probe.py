"""What the test server learns of an uploaded video, as Mastodon learns it from ffprobe:
picture size, frame rate and duration. Written apart from threadpost's own reader (it
walks the box tree recursively and takes the first video track's numbers), so a mistake
in one is not silently shared by the other. WebM: the EBML elements Segment/Info
(TimecodeScale, Duration) and Tracks/TrackEntry/Video (PixelWidth, PixelHeight), read by a
recursive walk; WebM keeps no frame count, so its frame rate shows as 0 (not checked)."""

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


_WEBM_MASTERS = {0x18538067, 0x1549A966, 0x1654AE6B, 0xAE, 0xE0}


def _ebml_number(data: bytes, at: int, *, marker: bool) -> tuple[int, int]:
    first = data[at]
    width = next(n for n in range(1, 9) if first & (0x100 >> n))
    value = first if marker else first & (0xFF >> width)
    for byte in data[at + 1 : at + width]:
        value = value << 8 | byte
    return value, width


def _ebml_walk(data: bytes, start: int, end: int, found: dict[int, bytes], depth: int = 0) -> None:
    at = start
    while at < end:
        if data[at] == 0:
            return
        element, id_width = _ebml_number(data, at, marker=True)
        size, size_width = _ebml_number(data, at + id_width, marker=False)
        body = at + id_width + size_width
        stop = end if size == (1 << 7 * size_width) - 1 else min(body + size, end)
        if element == 0x1F43B675:  # a Cluster: the headers are behind
            return
        if element in _WEBM_MASTERS and depth < 5:
            _ebml_walk(data, body, stop, found, depth + 1)
        else:
            found.setdefault(element, data[body:stop])
        at = stop


def probe_webm(data: bytes) -> Probe | None:
    """Size and duration of a WebM; None when `data` is not one with a picture size."""
    if not data.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    found: dict[int, bytes] = {}
    try:
        _ebml_walk(data, 0, len(data), found)
    except (StopIteration, IndexError):
        return None
    if 0xB0 not in found or 0xBA not in found:
        return None
    scale = int.from_bytes(found.get(0x2AD7B1, b""), "big") or 1_000_000
    raw = found.get(0x4489, b"")
    ticks = struct.unpack(">d" if len(raw) == 8 else ">f", raw)[0] if len(raw) in (4, 8) else 0
    width = int.from_bytes(found[0xB0], "big")
    height = int.from_bytes(found[0xBA], "big")
    return Probe(width, height, 0.0, ticks * scale / 1e9)
