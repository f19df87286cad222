"""Read a WebM file's duration and picture size from its EBML header elements.

WebM is Matroska: EBML elements, each an ID (1–4 bytes, its length marker kept), a size
(a variable-length integer; all ones: unknown, "up to the end of the parent"), then the
content. What `check` needs is near the start of the file, before the first Cluster:
Segment/Info (TimecodeScale, Duration) and Segment/Tracks/TrackEntry/Video (PixelWidth,
PixelHeight). Only the first HEADER_BYTES are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

#: Info and Tracks sit at the start; 1 MB holds them with room for large CodecPrivate data.
HEADER_BYTES: Final = 1024 * 1024

_EBML: Final = 0x1A45DFA3
_DOC_TYPE: Final = 0x4282
_SEGMENT: Final = 0x18538067
_INFO: Final = 0x1549A966
_TIMECODE_SCALE: Final = 0x2AD7B1
_DURATION: Final = 0x4489
_TRACKS: Final = 0x1654AE6B
_TRACK_ENTRY: Final = 0xAE
_TRACK_TYPE: Final = 0x83
_VIDEO: Final = 0xE0
_PIXEL_WIDTH: Final = 0xB0
_PIXEL_HEIGHT: Final = 0xBA
_CLUSTER: Final = 0x1F43B675
_VIDEO_TRACK: Final = 1
#: Matroska's default TimecodeScale: durations count milliseconds.
_DEFAULT_TIMECODE_SCALE: Final = 1_000_000


class WebmError(ValueError):
    """The file is not a well-formed WebM file (the message says what is wrong)."""


@dataclass(frozen=True)
class WebmInfo:
    doc_type: str
    duration_seconds: float
    width: int
    height: int


def read_webm(head: bytes) -> WebmInfo:
    """Parse the first bytes of a WebM file (up to HEADER_BYTES); raise WebmError."""
    # Nothing after the Segment is needed (and a truncated read may end in anything).
    elements = _elements(head, 0, len(head), stop_at=_SEGMENT)
    if not elements or elements[0][0] != _EBML:
        raise WebmError("does not start with an EBML header")
    _, start, end = elements[0]
    doc_type = _string(head, _first(head, start, end, _DOC_TYPE)) or "matroska"
    segment = next((e for e in elements if e[0] == _SEGMENT), None)
    if segment is None:
        raise WebmError("has no Segment")
    scale = _DEFAULT_TIMECODE_SCALE
    duration: float | None = None
    size: tuple[int, int] | None = None
    for element_id, body_start, body_end in _elements(
        head, segment[1], segment[2], stop_at=_CLUSTER
    ):
        if element_id == _INFO:
            for inner, a, b in _elements(head, body_start, body_end):
                if inner == _TIMECODE_SCALE:
                    scale = int.from_bytes(head[a:b], "big") or _DEFAULT_TIMECODE_SCALE
                elif inner == _DURATION and b - a in (4, 8):
                    duration = struct.unpack(">f" if b - a == 4 else ">d", head[a:b])[0]
        elif element_id == _TRACKS and size is None:
            size = _video_size(head, body_start, body_end)
    if duration is None:
        raise WebmError("states no duration in its Segment Info")
    if size is None:
        raise WebmError("has no video track with a picture size")
    return WebmInfo(doc_type, duration * scale / 1e9, size[0], size[1])


def _video_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    for element_id, a, b in _elements(data, start, end):
        if element_id != _TRACK_ENTRY:
            continue
        kind = _first(data, a, b, _TRACK_TYPE)
        video = _first(data, a, b, _VIDEO)
        if kind is None or int.from_bytes(data[kind[0] : kind[1]], "big") != _VIDEO_TRACK:
            continue
        if video is None:
            continue
        width = _first(data, video[0], video[1], _PIXEL_WIDTH)
        height = _first(data, video[0], video[1], _PIXEL_HEIGHT)
        if width and height:
            return (
                int.from_bytes(data[width[0] : width[1]], "big"),
                int.from_bytes(data[height[0] : height[1]], "big"),
            )
    return None


def _first(data: bytes, start: int, end: int, wanted: int) -> tuple[int, int] | None:
    return next(((a, b) for i, a, b in _elements(data, start, end) if i == wanted), None)


def _string(data: bytes, span: tuple[int, int] | None) -> str | None:
    return data[span[0] : span[1]].rstrip(b"\0").decode("ascii", "replace") if span else None


def _elements(
    data: bytes, start: int, end: int, *, stop_at: int | None = None
) -> list[tuple[int, int, int]]:
    """(id, content start, content end) of each element in data[start:end], up to the first
    `stop_at` element (included); an element cut off by the end of what was read ends
    there (its children up to that point still count)."""
    found: list[tuple[int, int, int]] = []
    position = start
    while position < end:  # each step advances by at least the two bytes of ID and size
        element_id, id_length = _vint(data, position, keep_marker=True)
        size, size_length = _vint(data, position + id_length, keep_marker=False)
        body = position + id_length + size_length
        if body > end:
            break
        unknown = size == (1 << (7 * size_length)) - 1
        body_end = end if unknown else min(body + size, end)
        found.append((element_id, body, body_end))
        if element_id == stop_at:
            break
        position = body_end
    return found


def _vint(data: bytes, position: int, *, keep_marker: bool) -> tuple[int, int]:
    if position >= len(data):
        raise WebmError(f"is truncated at byte {position:,}")
    first = data[position]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or position + length > len(data):
        raise WebmError(f"has a damaged element at byte {position:,}")
    value = first if keep_marker else first & ((0x80 >> (length - 1)) - 1)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
    return value, length
