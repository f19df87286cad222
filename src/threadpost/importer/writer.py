"""`ImportedThread`s → draft files (and their images in a folder beside each draft).

Drafts are named by date (when known) and first words: `2018-10-10-why-cities-buy.md`,
ASCII only, made unique with -2, -3... An existing file is never overwritten; a draft
already imported from the same original (its URL is in the front matter) is skipped.
The text comes from an archive or a paste, so nothing of it is trusted: names go through
`names.safe_file_name`, front-matter values through `toml_text`, post lines are defused
(separators, image lines, `\r` line breaks), and `OutputFolder` writes every file whole,
inside `--out`, and undoes the whole import if any part of it fails.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from threadpost.importer.model import ImportedThread, Note
from threadpost.importer.names import MAX_NAME, numbered, safe_file_name
from threadpost.importer.output_folder import ImportWriteError, OutputFolder
from threadpost.importer.toml_text import toml_comment, toml_string, without_lone_surrogates

__all__ = [
    "TODO_ALT",
    "ImportWriteError",
    "WrittenDraft",
    "draft_stem",
    "render_draft",
    "slug",
    "title",
    "write_drafts",
]

TODO_ALT: Final = "TODO: describe this image"
_SLUG_WORDS: Final = 6
_SLUG_CHARS: Final = 48
_TITLE_CHARS: Final = 70
#: A draft's stem leaves room for "-9999.md" within `MAX_NAME`.
_STEM_CHARS: Final = MAX_NAME - 8
_ID_CHARS: Final = 24
#: An existing draft's front matter (where its source is noted) is looked for only this far.
_MARKER_SCAN_BYTES: Final = 64 * 1024
_DRAFT_SEPARATOR: Final = re.compile(r"^(\s*)(-{3,})(\s*)$")
_IMAGE_LIKE: Final = re.compile(r"^(\s*)!\[")


@dataclass(frozen=True)
class WrittenDraft:
    """A draft the import wrote."""

    path: Path
    posts: int
    images: int
    #: Images written with a TODO alt text (the archive had none): `check` flags them.
    todo_alts: int
    source_id: str | None = None


def slug(text: str, *, words: int = _SLUG_WORDS, chars: int = _SLUG_CHARS) -> str:
    """The first `words` words of `text` as an ASCII file-name part ("" if none is left)."""
    text = re.sub(r"https?://\S+|[@#]\w+", " ", text)  # links and mentions make poor names
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", ascii_text.lower())[:words]
    joined = "-".join(parts)
    if len(joined) > chars:
        joined = joined[:chars].rsplit("-", 1)[0] or joined[:chars]
    return joined


def title(thread: ImportedThread) -> str | None:
    """A short title: the first post's first line, cut at a word."""
    first = next((post.text for post in thread.posts if post.text.strip()), "")
    line = re.sub(r"https?://[^\s()]+", "", first.strip().split("\n", 1)[0])
    line = re.sub(r"\s+", " ", re.sub(r"\(\s*\)", "", line)).strip()
    line = re.sub(r"\s+([:;,.!?])", r"\1", line)
    if not line:
        return None
    if len(line) > _TITLE_CHARS:
        line = line[: _TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return line


def draft_stem(thread: ImportedThread) -> str:
    """The draft's file name without ".md" (before it is made unique)."""
    words = slug(" ".join(post.text for post in thread.posts[:2]))
    date = thread.created.date().isoformat() if thread.created else ""
    parts = [part for part in (date, words) if part]
    if not words and thread.source_id:
        parts.append(slug(thread.source_id, words=4, chars=_ID_CHARS))
    stem = "-".join(part for part in parts if part) or "imported-thread"
    return safe_file_name(stem, fallback="imported-thread", max_length=_STEM_CHARS)


def render_draft(thread: ImportedThread, image_paths: Sequence[Sequence[str]] = ()) -> str:
    """The draft file's text. `image_paths[i]` are post i's images, relative to the draft."""
    front = ["+++"]
    front += [toml_comment(comment) for comment in thread.comments]
    name = title(thread)
    if name:
        front.append(f"title = {toml_string(name)}")
    if thread.lang:
        front.append(f"lang = {toml_string(thread.lang)}")
    front.append("+++")
    posts: list[str] = []
    for index, post in enumerate(thread.posts):
        text = _body_text(post.text)
        lines = [_safe_line(line) for line in text.split("\n")] if text else []
        paths = image_paths[index] if index < len(image_paths) else ()
        for image, path in zip(post.images, paths, strict=False):
            lines.append(f"![{_alt(image.alt)}]({path})")
        posts.append("\n".join(lines))
    return "\n".join(front) + "\n" + "\n\n---\n\n".join(posts) + "\n"


def _body_text(text: str) -> str:
    """Post text as the draft stores it: `\r` breaks as `\n` (the draft reader splits at
    each, so a bare `\r` could otherwise start a separator or an image line unseen), and
    no NUL (a draft with one is refused as binary) or unpaired surrogate (not UTF-8)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return without_lone_surrogates(text).replace("\x00", "\ufffd")


def _safe_line(line: str) -> str:
    """A line of post text that the draft format would read as something else, defused."""
    separator = _DRAFT_SEPARATOR.match(line)
    if separator:
        # A line of dashes would end the post: keep the look, not the meaning.
        return separator.group(1) + " ".join(separator.group(2)) + separator.group(3)
    return _IMAGE_LIKE.sub(r"\1! [", line)


def _alt(alt: str | None) -> str:
    if not alt:
        return TODO_ALT
    # Brackets would end the ![alt] early; line breaks would end the image line.
    alt = re.sub(r"\s+", " ", _body_text(alt)).replace("[", "(").replace("]", ")").strip()
    return alt or TODO_ALT


def write_drafts(
    threads: Sequence[ImportedThread],
    out_dir: Path,
    read_image: Callable[[str], bytes] | None = None,
) -> tuple[list[WrittenDraft], list[Note]]:
    """Write each thread as a draft in `out_dir` (images copied into `<stem>/`).

    All or nothing: if any draft or image fails, everything written so far is removed.
    """
    written: list[WrittenDraft] = []
    notes: list[Note] = []
    folder = OutputFolder(out_dir)
    markers = _imported_markers(out_dir)
    try:
        for thread in threads:
            marker = _marker(thread)
            existing = markers.get(marker) if marker is not None else None
            if existing is not None:
                notes.append(
                    Note(
                        "already-imported",
                        f"thread {thread.source_id} is already in {existing}: not written again",
                        thread.source_id,
                    )
                )
                continue
            draft = _write_draft(folder, thread, read_image)
            written.append(draft)
            if marker is not None:
                markers[marker] = draft.path
    except BaseException:
        folder.rollback()
        raise
    return written, notes


def _write_draft(
    folder: OutputFolder, thread: ImportedThread, read_image: Callable[[str], bytes] | None
) -> WrittenDraft:
    """One draft and its images; the draft last, so it never names a missing image."""
    stem = draft_stem(thread)
    has_images = any(post.images for post in thread.posts)
    for number in range(1, 10_000):
        name = numbered(stem, number)
        if folder.taken(f"{name}.md") or folder.taken(name):
            continue
        image_dir = folder.make_folder(name) if has_images else None
        if has_images and image_dir is None:
            continue  # taken since the look (another import running): next number
        paths: list[list[str]] = []
        images = todo = 0
        for post in thread.posts:
            post_paths: list[str] = []
            for image in post.images:
                if read_image is None or image_dir is None:
                    raise ImportWriteError(f"no source to copy image {image.source_name} from")
                image_name = _write_image(folder, image_dir, image.source_name, read_image)
                post_paths.append(f"{name}/{image_name}")
                images += 1
                todo += 0 if image.alt else 1
            paths.append(post_paths)
        text = render_draft(thread, paths).encode("utf-8")
        path = folder.write_file(folder.path, f"{name}.md", text)
        if path is None:
            raise ImportWriteError(f"{folder.path / name}.md appeared while writing it")
        return WrittenDraft(path, len(thread.posts), images, todo, thread.source_id)
    raise ImportWriteError(f"{folder.path}: too many drafts named {stem}-N.md")


def _write_image(
    folder: OutputFolder, image_dir: Path, source_name: str, read_image: Callable[[str], bytes]
) -> str:
    """Copy one image into the draft's folder; its safe, unique name there."""
    data = read_image(source_name)
    base = safe_file_name(source_name, fallback="image")
    for number in range(1, 1000):
        name = numbered(base, number)
        if folder.write_file(image_dir, name, data) is not None:
            return name
    raise ImportWriteError(f"{image_dir}: too many images named {base}")


def _imported_markers(out_dir: Path) -> dict[bytes, Path]:
    """The front-matter comment lines of every draft already in `out_dir`, to its file.

    Read once per import (not once per thread: an archive of 10,000 threads would read the
    folder 10,000 times), only from regular files, links not followed.
    """
    markers: dict[bytes, Path] = {}
    try:
        with os.scandir(out_dir) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return markers
    for entry in entries:
        if not entry.name.endswith(".md") or not entry.is_file(follow_symlinks=False):
            continue
        try:
            # No link followed, and no wait on a FIFO put there since the listing.
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            with os.fdopen(os.open(entry.path, flags), "rb") as file:
                head = file.read(_MARKER_SCAN_BYTES)
        except OSError:
            continue
        head = head.removeprefix(b"\xef\xbb\xbf")
        lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
        if not lines or lines[0].strip() != b"+++":
            continue
        for line in lines[1:]:
            if line.strip() == b"+++":
                break
            if line.startswith(b"# "):
                markers.setdefault(line, Path(entry.path))
    return markers


def _marker(thread: ImportedThread) -> bytes | None:
    """The comment line naming where an imported thread came from (its first)."""
    if thread.source_id is None or not thread.comments:
        return None
    return toml_comment(thread.comments[0]).encode("utf-8")
