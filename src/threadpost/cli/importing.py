"""Commands: import — X/Twitter archives and unrolled threads become drafts.

The work is `threadpost.importer.run`'s, then `threadpost.authoring.check_drafts`' (offline)
on what was written; both are imported inside the commands to keep start-up fast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from threadpost.cli.app import app, counted, echo, state
from threadpost.errors import UsageError

if TYPE_CHECKING:
    from threadpost.authoring import DraftChecks
    from threadpost.importer.run import ImportReport

import_app = typer.Typer(
    help="Bring threads over from X/Twitter as drafts (an archive, or unrolled text).",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")

OutOption = Annotated[
    Path,
    typer.Option("--out", "-o", help="Folder to write the drafts in.", show_default=True),
]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date: write e.g. 2019-03-01") from None


@import_app.command("archive")
def import_archive_command(
    path: Annotated[Path, typer.Argument(help="The archive's .zip, or the folder it extracts to.")],
    out: OutOption = Path("drafts"),
    since: Annotated[
        str | None,
        typer.Option(help="Only threads started on or after this date (YYYY-MM-DD, UTC)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only threads started on or before this date (YYYY-MM-DD, UTC)."),
    ] = None,
    min_posts: Annotated[
        int, typer.Option("--min-posts", help="Skip threads of fewer tweets (2: threads only).")
    ] = 2,
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread",
            help="Only the thread holding this tweet id (whatever the other filters say).",
            metavar="ID",
        ),
    ] = None,
) -> None:
    """Rebuild your self-threads from an X/Twitter archive, one draft per thread.

    Links are expanded, photos copied beside each draft (with a TODO alt text where the
    archive has none), and each draft is checked offline.
    """
    from threadpost.importer.run import import_archive

    report = import_archive(
        path,
        out,
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        min_posts=min_posts,
        thread_id=thread.strip() if thread else None,
    )
    echo(f"Read {report.tweets} tweets from {path}")
    _show(report)


@import_app.command("text")
def import_text_command(
    file: Annotated[Path, typer.Argument(help="Text of an unrolled thread (UTF-8).")],
    out: OutOption = Path("drafts"),
    blocks: Annotated[
        bool,
        typer.Option(
            "--blocks", help="Posts are blank-line-separated blocks (default: one per line)."
        ),
    ] = False,
) -> None:
    """Turn an unrolled thread (text from a thread reader) into drafts, one per thread.

    Lines of only bullets, asterisks or dashes separate threads; thread-reader boilerplate
    is dropped (and listed); "1/", "2/7" numbering is removed (threadpost numbers posts).
    """
    from threadpost.importer.run import import_text

    report = import_text(file, out, blocks=blocks)
    if report.dropped:
        echo(f"Dropped {len(report.dropped)} boilerplate lines:")
        for line in report.dropped:
            echo(f"  {file}:{line.line}: {line.text}")
    _show(report)


def _show(report: ImportReport) -> None:
    """What was written, what was left out, and what `check --offline` says of each draft.

    The drafts are listed before they are checked: a check that fails on one of them
    never hides which files were written."""
    from threadpost.authoring import check_drafts

    for draft in report.written:
        extra = f", {counted(draft.images, 'image')}" if draft.images else ""
        if draft.todo_alts:
            extra += f" ({draft.todo_alts} without alt text: TODO)"
        echo(f"Wrote {draft.path} ({counted(draft.posts, 'post')}{extra})")
    if not report.written:
        echo("No drafts written.")
    if report.notes:
        echo("Skipped or changed:")
        for note in report.notes:
            echo(f"  {note.message}")
    if report.written:
        paths = [draft.path for draft in report.written]
        _show_checks(check_drafts(paths, state.settings(), offline=True))


def _show_checks(checks: DraftChecks) -> None:
    echo("Check (offline):")
    for checked in checks.reports:
        counts = ", ".join(
            f"{name} {counted(len(thread.posts), 'post')}"
            for name, thread in checked.threads.items()
        )
        verdict = "ok" if checked.ok else "needs work"
        echo(
            f"  {checked.draft.path}: {counts}; {counted(checked.errors, 'error')}"
            f", {counted(checked.warnings, 'warning')} ({verdict})"
        )
    echo("Next: threadpost check DRAFT for the details, threadpost preview DRAFT to see it.")
