"""Tiny valid video containers built box by box (MP4/QuickTime) and element by element
(WebM), for the video tests. The headers say what a real encoder's would (duration, size,
frame count); the media data is filler bytes, which is all the checks and uploads look at.
No video is downloaded or decoded."""

from __future__ import annotations

import struct
from pathlib import Path


def box(kind: bytes, *content: bytes) -> bytes:
    body = b"".join(content)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, *content: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]), *content)


def mp4_bytes(
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    brand: bytes = b"isom",
    moov_first: bool = True,
    media_bytes: int = 256,
    with_video_track: bool = True,
) -> bytes:
    """An MP4 (or, with brand b"qt  ", QuickTime) file of `seconds` at `fps`, `width`×`height`."""
    timescale = 1000
    duration = round(seconds * timescale)
    frames = round(seconds * fps)
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = full_box(
        b"mvhd",
        0,
        struct.pack(">IIII", 0, 0, timescale, duration),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        identity,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = full_box(
        b"tkhd",
        0,
        struct.pack(">IIIII", 0, 0, 1, 0, duration),
        bytes(8),
        struct.pack(">HHHH", 0, 0, 0, 0),
        identity,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))
    handler = b"vide" if with_video_track else b"soun"
    hdlr = full_box(b"hdlr", 0, struct.pack(">I4s", 0, handler), bytes(12), b"VideoHandler\0")
    stts = full_box(b"stts", 0, struct.pack(">III", 1, frames, timescale // fps))
    stbl = box(b"stbl", stts)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", stbl)))
    moov = box(b"moov", mvhd, trak)
    ftyp = box(b"ftyp", brand, struct.pack(">I", 0x200), brand, b"mp41")
    mdat = box(b"mdat", bytes(range(256)) * (media_bytes // 256) + bytes(media_bytes % 256))
    return ftyp + (moov + mdat if moov_first else mdat + moov)


def write_mp4(path: Path, **options: object) -> Path:
    path.write_bytes(mp4_bytes(**options))  # type: ignore[arg-type]
    return path


def _ebml_size(size: int) -> bytes:
    return bytes([0x01]) + size.to_bytes(7, "big")  # 8-byte size: any length fits


def element(element_id: int, *content: bytes) -> bytes:
    body = b"".join(content)
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return id_bytes + _ebml_size(len(body)) + body


def webm_bytes(*, seconds: float = 2.0, width: int = 320, height: int = 180) -> bytes:
    """A WebM file whose Segment Info and Tracks say `seconds`, `width`×`height`."""
    header = element(0x1A45DFA3, element(0x4282, b"webm"))
    info = element(
        0x1549A966,
        element(0x2AD7B1, (1_000_000).to_bytes(3, "big")),
        element(0x4489, struct.pack(">d", seconds * 1000)),
    )
    video = element(
        0xE0, element(0xB0, width.to_bytes(2, "big")), element(0xBA, height.to_bytes(2, "big"))
    )
    track = element(0xAE, element(0xD7, b"\x01"), element(0x83, b"\x01"), video)
    cluster = element(0x1F43B675, element(0xE7, b"\x00"), bytes(64))
    return header + element(0x18538067, info, element(0x1654AE6B, track), cluster)
