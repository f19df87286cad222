"""File names for what an import writes, made from untrusted text. Pure.

A name from here is one plain path component: ASCII letters, digits, `.`, `_` and `-`
only, never starting with `.` or `-`, no `..`, at most `MAX_NAME` characters, and not a
name Windows reserves. It can therefore neither climb out of the folder it is joined to
nor hide there, and it needs no quoting in a draft's `![alt](path)` line.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_NAME: Final = 100
_EXTENSION: Final = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_WINDOWS_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{device}{n}" for device in ("com", "lpt") for n in range(10)}
)


def safe_file_name(name: str, *, fallback: str = "file", max_length: int = MAX_NAME) -> str:
    """`name` as one safe path component (its extension kept); `fallback` if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    # A separator of any OS becomes a dash: "../../etc/passwd" → "etc-passwd" once trimmed.
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name)
    # Any run of dots and dashes holding a dot becomes one dot: no "..", no ".-." left.
    cleaned = re.sub(r"[.-]*\.[.-]*", ".", cleaned)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip(".-_")
    if not cleaned:
        cleaned = fallback
    if cleaned.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        cleaned = f"{fallback}-{cleaned}"
    if len(cleaned) > max_length:
        extension = _EXTENSION.search(cleaned)
        suffix = extension.group(0) if extension else ""
        cleaned = cleaned[: max_length - len(suffix)].rstrip(".-") + suffix
    return cleaned


def numbered(name: str, number: int, *, max_length: int = MAX_NAME) -> str:
    """`name` made distinct by `-number` before its extension (1: `name` itself)."""
    if number == 1:
        return name
    extension = _EXTENSION.search(name)
    suffix = extension.group(0) if extension else ""
    stem = name[: len(name) - len(suffix)]
    tail = f"-{number}{suffix}"
    return stem[: max_length - len(tail)].rstrip(".-") + tail
