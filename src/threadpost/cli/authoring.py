"""Commands: authoring — `check`, `preview` and `new`. The work is `threadpost.authoring`'s.

`threadpost.authoring` (the checker: the text core, asyncio for link checks) and rich are
imported inside the commands: every command module is imported on start-up, and
`threadpost run` from cron must not pay for them.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from threadpost.cli.app import (
    AccountOption,
    JsonOption,
    OfflineOption,
    PlatformOption,
    app,
    echo,
    platforms_option,
    print_json,
    state,
)
from threadpost.cli.output import stdout_console
from threadpost.errors import ExitStatus, ThreadpostError
from threadpost.refusal import refuse_errors

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from threadpost.authoring import DraftChecks
    from threadpost.config import Settings
    from threadpost.values import PlatformName, Problem

#: How long link checking may run before a progress bar appears.
PROGRESS_DELAY_SECONDS: Final = 0.5


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


def fail_on_errors(checks: DraftChecks) -> None:
    """Exit 3 (through the error funnel) when any draft has errors or could not be read."""
    from threadpost.authoring import UnreadableDraft

    failing = [entry for entry in checks.entries if not entry.ok]
    if len(failing) == 1 and isinstance(failing[0], UnreadableDraft):
        raise failing[0].error  # the one failure, as it was: its message, hint and status
    problems: dict[Path, list[Problem]] = {}
    for entry in checks.entries:
        if isinstance(entry, UnreadableDraft):
            problems[entry.path] = [entry.problem]
        else:
            problems[entry.draft.path] = list(entry.problems)
    refuse_errors(problems, sending=False)


def json_error(error: ThreadpostError, **extra: Any) -> dict[str, Any]:
    """The `--json` object of a command that failed before it could look at a draft."""
    return {"ok": False, "error": {"message": error.message, "hint": error.hint}, **extra}


def _with_account(
    settings: Settings, account: str | None, platforms: list[PlatformName] | None
) -> Settings:
    """The settings of `--account` (which wins over each draft's own), or as they are."""
    if account is None:
        return settings
    from threadpost.accounts import account_settings

    return account_settings(settings, account, platforms or ())


@app.command()
def check(
    drafts: Annotated[list[Path], typer.Argument(help="Draft files to check.", metavar="DRAFT...")],
    platform: PlatformOption = None,
    offline: OfflineOption = False,
    account: AccountOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check drafts: lengths, links, images, alt text, mentions, language, schedule.

    Every draft is checked even when one cannot be read; each summary names its draft.
    Exits 0 when there are no errors (warnings allowed), 3 when there are. With --json:
    one object, {"ok", "drafts": [one object per draft]} (with a single draft, its keys
    also at the top level); a draft that could not be read has its "error" inside.
    """
    from rich.text import Text

    from threadpost.authoring import UnreadableDraft, check_drafts
    from threadpost.preview import problem_list

    try:
        chosen = platforms_option(platform)
        settings = _with_account(state.settings(), account, chosen)
    except ThreadpostError as error:
        if json_output:
            print_json(json_error(error, drafts=[]))
        raise
    checks = check_drafts(
        drafts, settings, chosen, offline=offline, progress=lambda: progress_for(json_output)
    )
    if json_output:
        print_json(checks.to_json())
    else:
        console = stdout_console()
        for entry in checks.entries:
            if isinstance(entry, UnreadableDraft):
                if len(checks.entries) == 1:
                    continue  # the error funnel says it, as for any one failing command
                message = entry.error.message
                if not message.startswith(str(entry.path)):
                    message = f"{entry.path}: {message}"
                console.print(Text(f"{message} (not checked)", style="bold red"), soft_wrap=True)
                continue
            # One problem a line, unwrapped: easy to grep and to click in an editor.
            console.print(problem_list(entry), soft_wrap=True)
    fail_on_errors(checks)


@app.command()
def preview(
    draft: Annotated[Path, typer.Argument(help="The draft to preview.", metavar="DRAFT")],
    platform: PlatformOption = None,
    offline: OfflineOption = False,
    account: AccountOption = None,
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
    from threadpost.authoring import DraftChecks, preview_draft
    from threadpost.preview import render_terminal

    try:
        report = preview_draft(
            draft,
            _with_account(state.settings(), account, platforms_option(platform)),
            platforms_option(platform),
            offline=offline,
            progress=lambda: progress_for(json_output),
            html=html,
        )
    except ThreadpostError as error:
        if json_output:
            print_json(json_error(error, draft=str(draft)))
        raise
    if json_output:
        # The same object as `check DRAFT --json`.
        print_json(DraftChecks((report,)).to_json())
    elif html is not None:
        echo(f"Wrote {html}")
    else:
        stdout_console().print(render_terminal(report))
    if not report.ok:
        # The problems are in the preview itself; the exit status tells a script.
        raise typer.Exit(int(ExitStatus.VALIDATION_FAILED))


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
