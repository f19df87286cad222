"""Captions (subtitles) files for a post's video: read, and checked against a network's
limits for them (`CaptionLimits`, from the network's rules).

A draft gives them as `> captions <lang> <file>` lines in the post with the video, one a
language. A file must be WebVTT (its first bytes the "WEBVTT" signature, after an
optional byte-order mark), within the network's size, and its language a BCP 47 tag
given once in the post. The findings start with "captions NAME" (the path as written);
callers add the network, the post and the line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from threadpost.values import Severity

# Planning imports this module (the network rules hold a `CaptionLimits`): what reads and
# checks a captions file is imported by the first one read.
if TYPE_CHECKING:
    from threadpost.draft import Caption

CAPTIONS_MIME: Final = "text/vtt"
_UTF8_BOM: Final = b"\xef\xbb\xbf"


@cache
def _signature() -> re.Pattern[bytes]:
    """WebVTT's signature: "WEBVTT" then the end of the file, a space, a tab or a line
    break (compiled by the first captions file read)."""
    return re.compile(rb"^WEBVTT(?:$|[ \t\r\n])")


@dataclass(frozen=True)
class CaptionLimits:
    """What a network takes of captions on one video."""

    max_files: int
    max_bytes: int
    mime: str = CAPTIONS_MIME


#: (severity, code, message, draft line) for `check`.
CaptionFinding = tuple[Severity, str, str, int]


class CaptionsWontGo(Exception):
    """A captions file cannot be sent: unreadable, not WebVTT, or over the limit. `code`
    is the problem code `check` reports; `reason` starts with "captions NAME"."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def read_captions_file(path: Path, name: str, limits: CaptionLimits, network: str) -> bytes:
    """The bytes of the captions file at `path` (written `name` in the draft), as they are
    uploaded; CaptionsWontGo when the file cannot be read, is no WebVTT or is too large."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CaptionsWontGo(
            "captions-unreadable", f"captions {name}: file not found (looked at {path})"
        ) from None
    except IsADirectoryError:
        raise CaptionsWontGo("captions-unreadable", f"captions {name}: is not a file") from None
    except OSError as exc:
        raise CaptionsWontGo(
            "captions-unreadable", f"captions {name}: cannot read: {exc.strerror or exc}"
        ) from None
    if not _signature().match(data.removeprefix(_UTF8_BOM)):
        raise CaptionsWontGo(
            "captions-invalid",
            f'captions {name}: is not a WebVTT file (it must start with "WEBVTT")',
        )
    if len(data) > limits.max_bytes:
        from threadpost.image_fit import size_text

        raise CaptionsWontGo(
            "captions-too-large",
            f"captions {name}: is {size_text(len(data))} ({len(data):,} bytes); {network} "
            f"accepts at most {limits.max_bytes:,} bytes a captions file",
        )
    return data


def caption_findings(
    captions: Sequence[Caption], limits: CaptionLimits, network: str
) -> list[CaptionFinding]:
    """Every problem with a post's captions on a network that takes them: a language
    that is no tag or is given twice, more files than the network takes, and each file
    that cannot be sent (read_captions_file)."""
    from threadpost.language_tags import is_language_tag

    found: list[CaptionFinding] = []
    first_of: dict[str, int] = {}
    for caption in captions:
        name = caption.written_path
        if not is_language_tag(caption.lang):
            found.append(
                (
                    "error",
                    "captions-lang-invalid",
                    f"captions {name}: language {caption.lang!r} is not a language tag "
                    '(BCP 47), e.g. "en", "fr" or "pt-BR"',
                    caption.line,
                )
            )
        elif (key := caption.lang.lower()) in first_of:
            found.append(
                (
                    "error",
                    "captions-lang-twice",
                    f"captions {name}: language {caption.lang} has a captions file already "
                    f"(line {first_of[key]}); give each language once",
                    caption.line,
                )
            )
        else:
            first_of[key] = caption.line
        try:
            read_captions_file(caption.path, name, limits, network)
        except CaptionsWontGo as refusal:
            found.append(("error", refusal.code, refusal.reason, caption.line))
    if len(captions) > limits.max_files:
        extra = captions[limits.max_files]
        found.append(
            (
                "error",
                "too-many-captions",
                f"{len(captions)} captions files; {network} takes at most {limits.max_files} "
                "a video",
                extra.line,
            )
        )
    return found


def without_video_finding(captions: Sequence[Caption]) -> CaptionFinding | None:
    """An error for captions in a post that has no video to go with them."""
    if not captions:
        return None
    first = captions[0]
    return (
        "error",
        "captions-without-video",
        f"captions {first.written_path}: this post has no video; put the '> captions' line "
        "in the post with the video",
        first.line,
    )
