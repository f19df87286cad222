"""Commands: authoring — `check`, `preview` and `new`.

Heavy modules (rich, the checker, the planner) are imported inside the commands so that
`threadpost --help` and unrelated commands stay fast.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
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
from threadpost.errors import ThreadpostError, UsageError
from threadpost.refusal import refuse_errors

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from threadpost.check import CheckReport
    from threadpost.values import PlatformName

#: How long link checking may run before a progress bar appears.
PROGRESS_DELAY_SECONDS: Final = 0.5


def stdout_console() -> Console:
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


def run_checks(
    drafts: list[Path], platforms: list[PlatformName] | None, *, offline: bool, json_output: bool
) -> list[CheckReport]:
    """Check each draft (errors reading a draft stop the command: they name file and line)."""
    from threadpost.check import check_draft

    settings = state.settings()
    return [
        check_draft(
            path,
            settings,
            platforms,
            offline=offline,
            progress=progress_for(json_output),
        )
        for path in drafts
    ]


def fail_on_errors(reports: list[CheckReport]) -> None:
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
    from threadpost.preview import problem_list, to_json

    chosen = platforms_option(platform)
    reports = run_checks(drafts, chosen, offline=offline, json_output=json_output)
    if json_output:
        objects = [to_json(report) for report in reports]
        if len(objects) == 1:
            print_json(objects[0])
        else:
            print_json({"ok": all(report.ok for report in reports), "drafts": objects})
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
    from threadpost.preview import render_html, render_terminal, to_json

    chosen = platforms_option(platform)
    [report] = run_checks([draft], chosen, offline=offline, json_output=json_output)
    if html is not None:
        write_text_file(html, render_html(report))
    if json_output:
        print_json(to_json(report))
    elif html is not None:
        echo(f"Wrote {html}")
    else:
        stdout_console().print(render_terminal(report))


def write_text_file(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a half-written page never replaces a good one)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ThreadpostError(f"{path}: cannot write: {exc.strerror or exc}") from None


_UNSAFE_NAME_CHARACTERS: Final = re.compile(r"[^\w\-]+")


def draft_file_name(name: str) -> str:
    """NAME → a safe file name in drafts/: words, digits, - and _; ".md" added."""
    stem = name.strip()
    if stem.lower().endswith(".md"):
        stem = stem[:-3]
    stem = _UNSAFE_NAME_CHARACTERS.sub("-", stem).strip("-_")
    if not stem:
        raise UsageError(
            f"{name!r} is not usable as a draft name: use letters, digits, - or _",
        )
    return f"{stem[:80]}.md"


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Name of the new draft (becomes drafts/NAME.md).")],
) -> None:
    """Create drafts/NAME.md from a template and open it in $EDITOR (when set)."""
    import shlex
    import subprocess
    from importlib import resources
    from string import Template

    path = Path("drafts") / draft_file_name(name)
    template = (resources.files("threadpost") / "templates" / "new-draft.md").read_text(
        encoding="utf-8"
    )
    # json.dumps gives a valid TOML basic string for any title (quotes, backslashes).
    text = Template(template).substitute(title=json.dumps(name.strip(), ensure_ascii=False))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise ThreadpostError(
            f"{path} already exists; not overwriting it",
            hint=f"choose another name, or edit it: $EDITOR {path}",
        ) from None
    except OSError as exc:
        raise ThreadpostError(f"{path}: cannot create: {exc.strerror or exc}") from None
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
