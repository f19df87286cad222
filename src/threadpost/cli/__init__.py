"""The command line: the only place that prints, reads argv or exits.

`main` is the console script. The commands, typer and the typer `app` holding them all
live in `cli/entry.py`, imported only when a command is to run: cron's quiet `threadpost
run` with nothing due is answered before that (`cli/quiet_run.py`), in about half the
start-up.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from threadpost.cli.quiet_run import answered_quietly
from threadpost.errors import ExitStatus

__all__ = ["main"]


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with its status (the console script's entry point)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if answered_quietly(args, os.environ):
            sys.exit(0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(int(ExitStatus.INTERRUPTED))
    from threadpost.cli.entry import run_cli

    run_cli(args)
