"""Read an MP4 / QuickTime file's duration, picture size and frame rate from its boxes.

An ISO base media file (MP4, MOV, M4V) is a sequence of boxes: a 32-bit big-endian size
(1: a 64-bit size follows the type; 0: up to the end of the file), a four-letter type,
then the content, which for container boxes (moov, trak, mdia, minf, stbl) is more boxes.
What `check` needs sits in the `moov` box:

- moov/mvhd: the presentation's timescale (units a second) and duration.
- moov/trak/tkhd: each track's display width and height (16.16 fixed point).
- moov/trak/mdia/hdlr: the track's kind ("vide" for video).
- moov/trak/mdia/mdhd: the track's own timescale and duration.
- moov/trak/mdia/minf/stbl/stts: the track's sample (frame) count.

Only box headers are read and the media data (`mdat`, usually most of the file) is seeked
over, so a 100 MB video costs a few reads. Every loop is bounded by the file's size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

#: Container boxes walked into on the way to the tracks' headers.
_CONTAINERS: Final = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl"})
#: The `moov` box is read whole: more than this is not a real header (a 3-hour video's
#: sample tables are a few MB).
MAX_MOOV_BYTES: Final = 64 * 1024 * 1024
#: Top-level boxes looked at before giving up on finding `moov`.
MAX_TOP_LEVEL_BOXES: Final = 1024


class Mp4Error(ValueError):
    """The file is not a well-formed MP4/QuickTime file (the message says what is wrong)."""


@dataclass(frozen=True)
class Mp4Info:
    #: The `ftyp` major brand ("isom", "mp42", "qt  " for QuickTime…).
    brand: str
    duration_seconds: float
    #: Display size of the first video track.
    width: int
    height: int
    #: Frames a second of the first video track; None when its tables do not say.
    frame_rate: float | None
    #: The `moov` box is placed before the media data (a "fast start" file plays while it
    #: downloads); False when it comes after.
    fast_start: bool


def read_mp4(stream: BinaryIO, size: int) -> Mp4Info:
    """Parse the boxes of a file of `size` bytes; raise Mp4Error when they are not valid."""
    brand: str | None = None
    moov: bytes | None = None
    fast_start = True
    position = 0
    for _ in range(MAX_TOP_LEVEL_BOXES):
        if position >= size:
            break
        stream.seek(position)
        kind, header, box_size = _box_header(stream.read(16), position, size)
        if position == 0:
            if kind != b"ftyp":
                raise Mp4Error("does not start with an ftyp box")
            stream.seek(header)
            brand = stream.read(4).decode("latin-1")
        if kind == b"mdat" and moov is None:
            fast_start = False
        if kind == b"moov":
            if box_size > MAX_MOOV_BYTES:
                raise Mp4Error(f"has a moov box of {box_size:,} bytes")
            stream.seek(position + header)
            moov = stream.read(box_size - header)
            if len(moov) != box_size - header:
                raise Mp4Error("is truncated inside its moov box")
        position += box_size
    if brand is None:
        raise Mp4Error("has no ftyp box")
    if moov is None:
        raise Mp4Error("has no moov box (the file is truncated or not a finished video)")
    return _from_moov(moov, brand, fast_start)


def _box_header(data: bytes, offset: int, end: int) -> tuple[bytes, int, int]:
    """(type, header length, box size) of the box whose first bytes are `data`."""
    if len(data) < 8:
        raise Mp4Error(f"is truncated at byte {offset:,}")
    box_size, kind = struct.unpack(">I4s", data[:8])
    header = 8
    if box_size == 1:
        if len(data) < 16:
            raise Mp4Error(f"is truncated at byte {offset:,}")
        (box_size,) = struct.unpack(">Q", data[8:16])
        header = 16
    elif box_size == 0:
        box_size = end - offset
    if box_size < header or offset + box_size > end:
        name = kind.decode("latin-1")
        raise Mp4Error(
            f"is truncated or damaged: its {name!r} box at byte {offset:,} runs past the end"
        )
    return kind, header, box_size


def _children(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, content) of each box in `data` (a container's content)."""
    boxes: list[tuple[bytes, bytes]] = []
    position = 0
    while position < len(data):  # each step advances by a box of at least 8 bytes
        kind, header, box_size = _box_header(data[position : position + 16], position, len(data))
        boxes.append((kind, data[position + header : position + box_size]))
        position += box_size
    return boxes


def _child(data: bytes, kind: bytes) -> bytes | None:
    return next((content for name, content in _children(data) if name == kind), None)


def _from_moov(moov: bytes, brand: str, fast_start: bool) -> Mp4Info:
    mvhd = _child(moov, b"mvhd")
    if mvhd is None:
        raise Mp4Error("has no movie header (mvhd)")
    timescale, duration = _scale_and_duration(mvhd, "mvhd")
    for kind, trak in _children(moov):
        if kind != b"trak":
            continue
        mdia = _child(trak, b"mdia")
        hdlr = _child(mdia, b"hdlr") if mdia is not None else None
        # hdlr: version/flags (4), pre_defined (4), handler_type (4).
        if hdlr is None or hdlr[8:12] != b"vide":
            continue
        tkhd = _child(trak, b"tkhd")
        if tkhd is None or len(tkhd) < 84:
            raise Mp4Error("has a video track without a valid track header (tkhd)")
        # The last 8 bytes of tkhd are width and height, 16.16 fixed point.
        width, height = (value >> 16 for value in struct.unpack(">II", tkhd[-8:]))
        return Mp4Info(
            brand=brand,
            duration_seconds=duration / timescale,
            width=width,
            height=height,
            frame_rate=_frame_rate(mdia) if mdia is not None else None,
            fast_start=fast_start,
        )
    raise Mp4Error("has no video track")


def _scale_and_duration(box: bytes, name: str) -> tuple[int, int]:
    """(timescale, duration) of an mvhd or mdhd box (version 0: 32-bit times, 1: 64-bit)."""
    if not box:
        raise Mp4Error(f"has an empty {name} box")
    if box[0] == 1 and len(box) >= 32:
        timescale, duration = struct.unpack(">IQ", box[20:32])
    elif box[0] == 0 and len(box) >= 20:
        timescale, duration = struct.unpack(">II", box[12:20])
    else:
        raise Mp4Error(f"has a damaged {name} box")
    if timescale == 0:
        raise Mp4Error(f"has a timescale of 0 in its {name} box")
    return timescale, duration


def _frame_rate(mdia: bytes) -> float | None:
    mdhd = _child(mdia, b"mdhd")
    minf = _child(mdia, b"minf")
    stbl = _child(minf, b"stbl") if minf is not None else None
    stts = _child(stbl, b"stts") if stbl is not None else None
    if mdhd is None or stts is None or len(stts) < 8:
        return None
    timescale, duration = _scale_and_duration(mdhd, "mdhd")
    (entries,) = struct.unpack(">I", stts[4:8])
    if duration == 0 or len(stts) < 8 + 8 * entries:
        return None
    # stts: (sample count, sample delta) pairs; their counts sum to the track's frames.
    frames: int = sum(struct.unpack(">I", stts[8 + 8 * i : 12 + 8 * i])[0] for i in range(entries))
    return float(frames * timescale / duration)
