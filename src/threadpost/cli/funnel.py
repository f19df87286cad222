"""The one error funnel every command runs through, with typer (cli/entry.py) or without
(cli/fast_publish.py).

A `ThreadpostError` prints `Error: …` (plus a hint) and exits with the error's status; a bug
says so briefly (the traceback only with --traceback); Ctrl-C exits 130. Whatever the
command prints passes through `threadpost.redact`: no secret reaches the terminal.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from typing import NoReturn

from threadpost.cli.output import report_unexpected, state
from threadpost.errors import ExitStatus, ThreadpostError
from threadpost.redact import forget_secrets, redacting_streams


def run_guarded(command: Callable[[], object]) -> NoReturn:
    """Run `command` and exit with its status (0 when it returns)."""
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
        try:
            command()
        except ThreadpostError as error:
            state.report_error(error)
            sys.exit(int(error.exit_status))
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            sys.exit(int(ExitStatus.INTERRUPTED))
        except OSError as error:
            if error.errno == errno.EPIPE:
                sys.exit(1)  # the reader went away (`| head`): nothing to tell it, as click
            report_unexpected(error)
            sys.exit(int(ExitStatus.ERROR))
        except Exception as error:
            report_unexpected(error)
            sys.exit(int(ExitStatus.ERROR))
    sys.exit(0)
