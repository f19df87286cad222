"""The two imports end to end: read, choose, write. The CLI calls these and prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from threadpost.errors import ThreadpostError, UsageError
from threadpost.importer.archive_files import ArchiveLimits
from threadpost.importer.model import Note
from threadpost.importer.unrolled import DroppedLine
from threadpost.importer.writer import WrittenDraft, write_drafts


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote, and everything it left out."""

    written: tuple[WrittenDraft, ...]
    notes: tuple[Note, ...] = ()
    #: Text import: boilerplate lines dropped.
    dropped: tuple[DroppedLine, ...] = ()
    #: Archive import: tweets read.
    tweets: int = 0


def import_archive(
    path: Path,
    out_dir: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    min_posts: int = 2,
    thread_id: str | None = None,
    limits: ArchiveLimits | None = None,
) -> ImportReport:
    """Write a draft for each self-thread of the X/Twitter archive at `path`.

    An archive refused as unsafe or too large (see `ArchiveLimits`) writes nothing.
    """
    from threadpost.importer.archive import Archive
    from threadpost.importer.threads import author_id, chain_thread, select_chains, self_threads

    if min_posts < 1:
        raise UsageError(f"--min-posts must be 1 or more, not {min_posts}")
    if since is not None and until is not None and since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    with Archive(path, limits) as archive:
        chains = self_threads(archive.tweets, author_id(archive.tweets, archive.account))
        selection = select_chains(
            chains, since=since, until=until, min_posts=min_posts, thread_id=thread_id
        )
        if thread_id is not None and not selection.chains:
            raise ThreadpostError(f"{path}: no tweet {thread_id} in the archive")
        notes = list(selection.notes)
        threads = []
        for chain in selection.chains:
            thread, lost = chain_thread(chain, archive.account, archive.media_names)
            notes += lost
            if thread.posts:
                threads.append(thread)
        # Every photo is checked against the limits before the first file is written.
        archive.check_media(
            image.source_name
            for thread in threads
            for post in thread.posts
            for image in post.images
        )
        written, skipped = write_drafts(threads, out_dir, archive.read_media)
    return ImportReport(tuple(written), tuple(notes + skipped), tweets=len(archive.tweets))


def import_text(path: Path, out_dir: Path, *, blocks: bool = False) -> ImportReport:
    """Write a draft for each thread of the unrolled text at `path`."""
    from threadpost.importer.unrolled import parse_unrolled, unrolled_threads

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ThreadpostError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ThreadpostError(
            f"{path}: is not valid UTF-8 (byte offset {exc.start})", hint="save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ThreadpostError(f"{path}: cannot read: {exc.strerror or exc}") from None
    unrolled = parse_unrolled(text, blocks=blocks)
    if not unrolled.threads:
        raise ThreadpostError(f"{path}: no posts found (only separators and boilerplate)")
    written, notes = write_drafts(unrolled_threads(unrolled, path.name), out_dir)
    return ImportReport(tuple(written), tuple(notes), unrolled.dropped)
