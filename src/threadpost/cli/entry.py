"""The full command line: every command registered on `app`, and the error funnel.

Each command calls one library function and lets `ThreadpostError`s reach `run_cli`, the
single error funnel, which prints `Error: …` (plus a hint) and exits with the error's
status. Command groups live in sibling modules and register themselves on `app`. Whatever
a command run prints passes through `threadpost.redact`: no secret reaches the terminal.
"""

from __future__ import annotations

import sys
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
from threadpost.cli.app import app, report_unexpected, state
from threadpost.cli.dispatch import app_for
from threadpost.errors import ExitStatus, ThreadpostError
from threadpost.redact import forget_secrets, redacting_streams

__all__ = ["app", "run_cli"]


def run_cli(args: list[str]) -> NoReturn:
    """Run the command `args` name and exit with its status."""
    # httpx (the link check's and link cards' client) imports its own command-line tool
    # when it can, and with it click, rich's syntax highlighting and pygments (~80 ms). This
    # process never runs that tool; httpx falls back to a stub when the module cannot be
    # imported (its __init__ catches the ImportError that a None entry raises). Every httpx
    # import in threadpost is lazy, so this comes first.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    # The secrets of this run are registered as they are loaded; the streams scrub them
    # from everything printed, by us or by a library (warnings, logging's last resort).
    forget_secrets()
    with redacting_streams():
        # Standalone mode: click itself turns usage errors into exit 2 and --help into
        # exit 0; what reaches us here is ours.
        try:
            # Only the command that runs is built (`dispatch`): the cron tick's start-up.
            app_for(app, args)(args=args, prog_name="threadpost")
        except ThreadpostError as error:
            state.report_error(error)
            sys.exit(int(error.exit_status))
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            sys.exit(int(ExitStatus.INTERRUPTED))
        except Exception as error:
            report_unexpected(error)
            sys.exit(int(ExitStatus.ERROR))
    sys.exit(0)
