"""Commands: `watch` (the live preview while writing) and `drafts` (the drafts folder).

The work is `threadpost.watch`'s and `threadpost.drafts_list`'s, imported inside the
commands: every command module is imported on start-up, and `threadpost run` from cron must
not pay for the checker.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from threadpost.cli.app import (
    JsonOption,
    PlatformOption,
    app,
    counted,
    echo,
    platforms_option,
    print_json,
    state,
)

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.drafts_list import DraftEntry


@app.command()
def watch(
    draft: Annotated[Path, typer.Argument(help="The draft to watch.", metavar="DRAFT")],
    platform: PlatformOption = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also follow links and resolve handles on every save (slower; default: "
            "offline, so each save re-plans at once).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (default: a free one).", min=0)
    ] = 0,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the web browser.")
    ] = False,
) -> None:
    """Serve a live preview on 127.0.0.1 that follows every save of the draft or its images.

    The page shows each network's column as its app would, with each post's count and
    problems beside it, and updates itself without a reload. Ctrl-C stops watching; that
    is the normal end, so the exit status is 0.
    """
    from threadpost.watch import start_watch

    chosen = platforms_option(platform)
    running = start_watch(draft, state.settings(), chosen, offline=not online, port=port)
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    try:
        first = running.server.revision
        say(f"Watching {draft}: {first.summary}")
        say(f"Preview at {running.url}  (Ctrl-C to stop)")
        if open_browser:
            import webbrowser

            webbrowser.open(running.url)
        for revision in running.updates(stop):
            stamp = datetime.now().strftime("%H:%M:%S")
            say(f"{stamp}  re-planned in {revision.seconds * 1000:.0f} ms: {revision.summary}")
    except KeyboardInterrupt:
        pass  # Ctrl-C is how watching ends
    finally:
        running.close()
        signal.signal(signal.SIGTERM, previous)
    say("Stopped watching.")


def say(line: str) -> None:
    """A line on stdout at once, even into a pipe (a script waits for the address)."""
    echo(line)
    sys.stdout.flush()


@app.command()
def drafts(
    folder: Annotated[Path, typer.Argument(help="The drafts folder.", metavar="FOLDER")] = Path(
        "drafts"
    ),
    json_output: JsonOption = False,
) -> None:
    """List the drafts in FOLDER: each one's state (new, scheduled for when, published with
    its address, failed) and its post count on each network."""
    from threadpost.drafts_list import drafts_to_json, list_drafts

    settings = state.settings()
    entries = list_drafts(folder, settings)
    if json_output:
        print_json(drafts_to_json(entries, folder))
        return
    if not entries:
        echo(f"No drafts in {folder}.")
        return
    for entry in entries:
        echo(_line(entry, settings))


def _line(entry: DraftEntry, settings: Settings) -> str:
    """ "launch-notes.md  published https://…  mastodon 3 posts, bluesky 4 posts"."""
    status = entry.state
    if entry.schedule_at is not None:
        local = entry.schedule_at.astimezone(settings.timezone)
        status += f" for {local.strftime('%Y-%m-%d %H:%M %Z')}"
    if entry.urls:
        status += " " + " ".join(entry.urls.values())
    if entry.edited:
        status += " (edited since)"
    counts = ", ".join(f"{name} {counted(n, 'post')}" for name, n in entry.posts.items())
    line = f"{entry.path.name}  {status}"
    if counts:
        line += f"  {counts}"
    if entry.error:
        line += f"\n    {entry.error}"
    return line
