"""Unrolled threads (text copied from a thread reader) → `ImportedThread`s. Pure.

One post per line, or per blank-line-separated block (`blocks=True`). A line made only
of bullets, asterisks or dashes ("• • •", "* * *", "---") ends a thread. The lines that
thread-reader pages add around a thread are dropped, and returned so the user sees them.
Numbering ("1/", "2/7") is stripped: threadpost numbers the posts itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from threadpost.importer.model import ImportedPost, ImportedThread, strip_numbering

#: Only bullets, asterisks, dashes, middle dots (and spaces): a thread separator.
_SEPARATOR: Final = re.compile(r"^[\s•·∙●◦⋅*＊\-–—―_]*[•·∙●◦⋅*＊\-–—―_][\s•·∙●◦⋅*＊\-–—―_]*$")

#: Phrases thread-reader pages (Thread Reader App and the like) add. A line made only of
#: these (and punctuation) is boilerplate; one with other words too is the author's.
BOILERPLATE: Final = tuple(
    re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)
    for pattern in (
        # The reader's footer wraps as "Missing some Tweet in this thread? You can try to" and
        # "force a refresh": each line is boilerplate alone.
        r"missing some (?:tweets?|posts?) in this thread\?*(?:\s+you can try to)?",
        r"(?:you can try to\s+)?force a refresh\.?",
        r"read on (?:twitter|x)",
        r"keep current with .+",
        r"stay in touch and get notified when new unrolls are available from this author!?",
        r"thread by @\w+ on thread reader app",  # before its tail below
        r"thread reader app",
        r"unroll(?: available on thread reader)?",
        r"follow(?: @\w+)?",
        r"share this scrolly tale with your friends\.?|share this scrolly tale",
        r"a scrolly tale is a new way to read twitter threads.*",
        r"this (?:thread|content) may be removed anytime!?",
        r"twitter may remove this content at anytime!? save it as pdf for later use!?",
        r"save as pdf",
        r"enjoy reading",
        r"did thread reader help you today\?*",
        r"don't want to be a premium member but still want to support us\?*",  # before its tail
        r"support us!?.*",
        r"get real-time email alerts when new unrolls are available from this author!?",
        r"help us keep this service running!?",
        r"this site is made by just two indie developers.*",
        r"become (?:a )?premium(?: member)?\b.*",
        r"make a small donation by buying us coffee.*",
        r"(?:or )?donate (?:via paypal|anonymously using crypto)!?",
        r"thank you for your support!?",
        r"make your own unrolls!?",
        r"more from @\w+",
        r"subscribe to .* thread reader.*",
        r"\S.* \d+ tweets?\s*[•·]\s*\d+ min read",
    )
)


@dataclass(frozen=True)
class DroppedLine:
    """A line of the input that is not a post."""

    line: int  # 1-based
    text: str


@dataclass(frozen=True)
class Unrolled:
    """The threads found in an unrolled text, and the boilerplate lines dropped."""

    threads: tuple[tuple[str, ...], ...]
    dropped: tuple[DroppedLine, ...]


def is_boilerplate(line: str) -> bool:
    """True for a line a thread-reader page adds (not written by the thread's author)."""
    rest = line.strip()
    if not rest:
        return False
    for pattern in BOILERPLATE:
        rest = pattern.sub(" ", rest)
    return not re.search(r"\w", rest)


def is_separator(line: str) -> bool:
    """True for a line made only of bullets, asterisks or dashes."""
    return bool(_SEPARATOR.match(line)) and bool(line.strip())


def parse_unrolled(text: str, *, blocks: bool = False) -> Unrolled:
    """Split `text` into threads of posts (numbering stripped) and dropped lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    threads: list[tuple[str, ...]] = []
    dropped: list[DroppedLine] = []
    posts: list[str] = []
    block: list[str] = []

    def end_post() -> None:
        if block:
            body = "\n".join(block).strip()
            block.clear()
            post = strip_numbering(body, len(posts) + 1)
            if post:
                posts.append(post)

    def end_thread() -> None:
        end_post()
        if posts:
            threads.append(tuple(posts))
            posts.clear()

    for number, line in enumerate(lines, start=1):
        if is_separator(line):
            end_thread()
        elif is_boilerplate(line):
            dropped.append(DroppedLine(number, line.strip()))
        elif not line.strip():
            if blocks:
                end_post()
        else:
            block.append(line.rstrip())
            if not blocks:
                end_post()
    end_thread()
    return Unrolled(tuple(threads), tuple(dropped))


def unrolled_threads(unrolled: Unrolled, source: str) -> list[ImportedThread]:
    """Each thread of `unrolled` as an `ImportedThread`; `source` names the input file."""
    total = len(unrolled.threads)
    return [
        ImportedThread(
            posts=tuple(ImportedPost(text) for text in posts),
            comments=(
                f"Imported from {source}" + (f" (thread {number} of {total})" if total > 1 else ""),
            ),
        )
        for number, posts in enumerate(unrolled.threads, start=1)
    ]
