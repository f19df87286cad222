"""The values every importer produces and the writer consumes. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final


@dataclass(frozen=True)
class ImportedImage:
    """An image to copy beside the draft."""

    #: Name of the file in the source (e.g. in the archive's tweets_media/).
    source_name: str
    #: The alt text the source has, or None (the draft then gets a marked TODO).
    alt: str | None = None


@dataclass(frozen=True)
class ImportedPost:
    """One post of an imported thread, text final (links expanded, entities decoded)."""

    text: str
    images: tuple[ImportedImage, ...] = ()


@dataclass(frozen=True)
class ImportedThread:
    """A thread ready to become a draft."""

    posts: tuple[ImportedPost, ...]
    #: Comment lines for the front matter (where it came from, when), without "# ".
    comments: tuple[str, ...] = ()
    lang: str | None = None
    #: When the original was posted (names the draft with its date).
    created: datetime | None = None
    #: The original's id (archive) or None: an existing draft naming it is not rewritten.
    source_id: str | None = None


@dataclass(frozen=True)
class Note:
    """Something the user should know about an import: a skipped thread, a lost video."""

    kind: str  # stable, kebab-case: "single-tweet", "reply-to-other", "video", ...
    message: str
    tweet_id: str | None = None


# "1/", "1/7", "(1/7)", "[1/7]", "1/7:" — as written at the end (or start) of a post.
_TRAILING_NUMBER: Final = re.compile(
    r"(?:^|[ \t]+|(?<=\n))[(\[]?(\d{1,3})\s*/\s*(\d{1,3})?[)\]]?[.:]?\s*$"
)
_LEADING_NUMBER: Final = re.compile(r"^\s*[(\[]?(\d{1,3})\s*/\s*(\d{1,3})?[)\]]?[.:]?[ \t]+")


def strip_numbering(text: str, index: int) -> str:
    """`text` without its "i/n" numbering (threadpost numbers posts itself).

    Only a number equal to the post's position (1-based `index`) is taken: "it was 1/2"
    at the end of post 5 is a fraction, not numbering.
    """
    match = _TRAILING_NUMBER.search(text)
    if match and int(match.group(1)) == index and _plausible(match, index):
        return text[: match.start()].rstrip()
    match = _LEADING_NUMBER.match(text)
    if match and int(match.group(1)) == index and _plausible(match, index):
        return text[match.end() :].lstrip()
    return text


def _plausible(match: re.Match[str], index: int) -> bool:
    total = match.group(2)
    return total is None or int(total) >= index
