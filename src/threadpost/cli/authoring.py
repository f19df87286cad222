"""Commands: authoring — `check`, `preview` and `new`. The work is `threadpost.authoring`'s.

`threadpost.authoring` (the checker: the text core, asyncio for link checks) and rich are
imported inside the commands: every command module is imported on start-up, and
`threadpost run` from cron must not pay for them.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from threadpost.cli.app import (
    JsonOption,
    OfflineOption,
    PlatformOption,
    app,
    echo,
    platforms_option,
    print_json,
    state,
)
from threadpost.errors import ThreadpostError
from threadpost.refusal import refuse_errors

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from threadpost.check import CheckReport

#: How long link checking may run before a progress bar appears.
PROGRESS_DELAY_SECONDS: Final = 0.5


def stdout_console() -> Console:
    """A rich console on stdout for previews and problem lists (no guessed highlighting)."""
    from rich.console import Console

    return Console(highlight=False)


class DelayedProgress:
    """A rich progress bar on stderr that shows up only when the work takes a while."""

    def __init__(self, description: str, delay: float = PROGRESS_DELAY_SECONDS) -> None:
        self.description = description
        self.delay = delay
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._timer: threading.Timer | None = None

    def start(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self._progress = Progress(console=Console(stderr=True), transient=True)
        self._task = self._progress.add_task(self.description, total=total)
        self._timer = threading.Timer(self.delay, self._progress.start)
        self._timer.daemon = True
        self._timer.start()

    def advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
        if self._progress is not None:
            self._progress.stop()


def progress_for(json_output: bool) -> DelayedProgress | None:
    """A progress bar only for a person watching a terminal (never in --json mode)."""
    if json_output or not sys.stderr.isatty():
        return None
    return DelayedProgress("Checking links")


def fail_on_errors(reports: Sequence[CheckReport]) -> None:
    """Exit 3 (through the error funnel) when any draft has errors."""
    refuse_errors({report.draft.path: report.problems for report in reports}, sending=False)


@app.command()
def check(
    drafts: Annotated[list[Path], typer.Argument(help="Draft files to check.", metavar="DRAFT...")],
    platform: PlatformOption = None,
    offline: OfflineOption = False,
    json_output: JsonOption = False,
) -> None:
    """Check drafts: lengths, links, images, alt text, mentions, language, schedule.

    Exits 0 when there are no errors (warnings allowed), 3 when there are.
    """
    from threadpost.authoring import check_drafts
    from threadpost.preview import problem_list

    chosen = platforms_option(platform)
    checks = check_drafts(
        drafts,
        state.settings(),
        chosen,
        offline=offline,
        progress=lambda: progress_for(json_output),
    )
    reports = checks.reports
    if json_output:
        print_json(checks.to_json())
    else:
        console = stdout_console()
        for report in reports:
            # One problem a line, unwrapped: easy to grep and to click in an editor.
            console.print(problem_list(report), soft_wrap=True)
    fail_on_errors(reports)


@app.command()
def preview(
    draft: Annotated[Path, typer.Argument(help="The draft to preview.", metavar="DRAFT")],
    platform: PlatformOption = None,
    offline: OfflineOption = False,
    json_output: JsonOption = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a self-contained HTML page showing the networks side by side.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show each post as it will be published, per platform, with counts and problems."""
    from threadpost.authoring import preview_draft
    from threadpost.preview import render_terminal, to_json

    chosen = platforms_option(platform)
    report = preview_draft(
        draft,
        state.settings(),
        chosen,
        offline=offline,
        progress=lambda: progress_for(json_output),
        html=html,
    )
    if json_output:
        print_json(to_json(report))
    elif html is not None:
        echo(f"Wrote {html}")
    else:
        stdout_console().print(render_terminal(report))


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Name of the new draft (becomes drafts/NAME.md).")],
) -> None:
    """Create drafts/NAME.md from a template and open it in $EDITOR (when set)."""
    import shlex
    import subprocess

    from threadpost.authoring import create_draft

    path = create_draft(name)
    echo(f"Created {path}")
    editor = os.environ.get("EDITOR", "").strip()
    if not editor:
        return
    try:
        command = [*shlex.split(editor), str(path)]
        subprocess.run(command, check=False)
    except (OSError, ValueError) as exc:
        raise ThreadpostError(
            f"cannot start the editor {editor!r}: {exc}", hint=f"the draft is at {path}"
        ) from None
