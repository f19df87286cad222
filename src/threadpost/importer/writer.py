"""`ImportedThread`s → draft files (and their images in a folder beside each draft).

Drafts are named by date (when known) and first words: `2018-10-10-why-cities-buy.md`,
ASCII only, made unique with -2, -3... An existing file is never overwritten; a draft
already imported from the same original (its URL is in the front matter) is skipped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from threadpost.errors import ThreadpostError
from threadpost.importer.model import ImportedThread, Note

TODO_ALT: Final = "TODO: describe this image"
_SLUG_WORDS: Final = 6
_SLUG_CHARS: Final = 48
_TITLE_CHARS: Final = 70
_DRAFT_SEPARATOR: Final = re.compile(r"^(\s*)(-{3,})(\s*)$")
_IMAGE_LIKE: Final = re.compile(r"^(\s*)!\[")


class ImportWriteError(ThreadpostError):
    """A draft or image cannot be written."""


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
        parts.append(thread.source_id)
    return "-".join(parts) or "imported-thread"


def render_draft(thread: ImportedThread, image_paths: Sequence[Sequence[str]] = ()) -> str:
    """The draft file's text. `image_paths[i]` are post i's images, relative to the draft."""
    front = ["+++"]
    front += [f"# {comment}" for comment in thread.comments]
    name = title(thread)
    if name:
        front.append(f"title = {json.dumps(name, ensure_ascii=False)}")
    if thread.lang:
        front.append(f"lang = {json.dumps(thread.lang)}")
    front.append("+++")
    posts: list[str] = []
    for index, post in enumerate(thread.posts):
        lines = [_safe_line(line) for line in post.text.split("\n")] if post.text else []
        paths = image_paths[index] if index < len(image_paths) else ()
        for image, path in zip(post.images, paths, strict=False):
            lines.append(f"![{_alt(image.alt)}]({path})")
        posts.append("\n".join(lines))
    return "\n".join(front) + "\n" + "\n\n---\n\n".join(posts) + "\n"


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
    return re.sub(r"\s+", " ", alt).replace("[", "(").replace("]", ")").strip()


def write_drafts(
    threads: Sequence[ImportedThread],
    out_dir: Path,
    read_image: Callable[[str], bytes] | None = None,
) -> tuple[list[WrittenDraft], list[Note]]:
    """Write each thread as a draft in `out_dir` (images copied into `<stem>/`)."""
    written: list[WrittenDraft] = []
    notes: list[Note] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImportWriteError(f"{out_dir}: cannot create: {exc.strerror or exc}") from None
    for thread in threads:
        existing = _already_imported(out_dir, thread)
        if existing is not None:
            notes.append(
                Note(
                    "already-imported",
                    f"thread {thread.source_id} is already in {existing}: not written again",
                    thread.source_id,
                )
            )
            continue
        path = _unique(out_dir, draft_stem(thread))
        image_dir = path.with_suffix("")
        paths: list[list[str]] = []
        images = todo = 0
        for post in thread.posts:
            post_paths: list[str] = []
            for image in post.images:
                if read_image is None:
                    raise ImportWriteError(f"no source to copy image {image.source_name} from")
                target = image_dir / image.source_name
                _write(target, read_image(image.source_name))
                post_paths.append(f"{image_dir.name}/{image.source_name}")
                images += 1
                todo += 0 if image.alt else 1
            paths.append(post_paths)
        _write(path, render_draft(thread, paths).encode("utf-8"), exclusive=True)
        written.append(WrittenDraft(path, len(thread.posts), images, todo, thread.source_id))
    return written, notes


def _already_imported(out_dir: Path, thread: ImportedThread) -> Path | None:
    if thread.source_id is None or not thread.comments:
        return None
    marker = f"# {thread.comments[0]}\n"
    for candidate in sorted(out_dir.glob(f"*{thread.source_id}*.md")) + sorted(
        out_dir.glob(f"{draft_stem(thread)}*.md")
    ):
        try:
            if marker in candidate.read_text(encoding="utf-8", errors="replace"):
                return candidate
        except OSError:
            continue
    return None


def _unique(out_dir: Path, stem: str) -> Path:
    for number in range(1, 10_000):
        name = stem if number == 1 else f"{stem}-{number}"
        path = out_dir / f"{name}.md"
        if not path.exists() and not path.with_suffix("").exists():
            return path
    raise ImportWriteError(f"{out_dir}: too many drafts named {stem}-N.md")


def _write(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb" if exclusive else "wb") as file:
            file.write(data)
    except FileExistsError:
        raise ImportWriteError(f"{path} already exists; not overwriting it") from None
    except OSError as exc:
        raise ImportWriteError(f"{path}: cannot write: {exc.strerror or exc}") from None
