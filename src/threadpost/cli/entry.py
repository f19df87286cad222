"""The full command line: every command registered on `app`, run through the error funnel.

Each command calls one library function and lets `ThreadpostError`s reach the single error
funnel (cli/funnel.py), which prints `Error: …` (plus a hint) and exits with the error's
status. Command groups live in sibling modules and register themselves on `app`.
"""

from __future__ import annotations

from typing import NoReturn

# Importing the command modules registers their commands on `app`.
import threadpost.cli.accounts
import threadpost.cli.authoring
import threadpost.cli.bluesky
import threadpost.cli.editing
import threadpost.cli.importing
import threadpost.cli.mastodon
import threadpost.cli.publishing
import threadpost.cli.watching  # noqa: F401
from threadpost.cli.app import app
from threadpost.cli.dispatch import app_for
from threadpost.cli.funnel import run_guarded

__all__ = ["app", "run_cli"]


def run_cli(args: list[str]) -> NoReturn:
    """Run the command `args` name and exit with its status."""
    # Standalone mode: click itself turns usage errors into exit 2 and --help into exit 0;
    # what reaches the funnel is ours. Only the command that runs is built (`dispatch`).
    run_guarded(lambda: app_for(app, args)(args=args, prog_name="threadpost"))
