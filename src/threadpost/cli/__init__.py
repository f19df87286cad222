"""The command line: the only place that prints, reads argv or exits.

`console` is the console script (and `python -m threadpost`): `main`, then the process's
exit. The commands, typer and the typer `app` holding them all live in `cli/entry.py`,
imported only when a command is to run: cron's quiet `threadpost run` with nothing due is
answered before that (`cli/quiet_run.py`), in about half the start-up, and a plain
`threadpost publish` line runs without typer (`cli/fast_publish.py`).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn, TextIO

from threadpost.cli.quiet_run import answered_quietly
from threadpost.errors import ExitStatus

__all__ = ["console", "main"]


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI and exit with its status (the console script's entry point)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if answered_quietly(args, os.environ):
            sys.exit(0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(int(ExitStatus.INTERRUPTED))
    from threadpost.cli.fast_publish import plain_publish

    plain = plain_publish(args, os.environ)
    if plain is not None:
        from threadpost.cli.funnel import run_guarded

        run_guarded(plain.run)
    from threadpost.cli.entry import run_cli

    run_cli(args)


def console() -> NoReturn:
    """`main` as a process: its output flushed, the exit handlers run, then the process
    ends without the interpreter's finalization.

    Finalization tears down every module and collects every object one by one: 40-60 ms
    after a publish (≈450 modules, 33,000 tracked objects), as long as the interpreter took
    to start and a quarter of a Bluesky thread's whole publish. Nothing of threadpost's
    needs it: the ledger commits each change when it is made, files are written whole
    (`atomic_write`), and every worker thread has been joined by then. The `atexit`
    handlers (logging's flush, the thread pools' joins) still run, as on a normal exit."""
    import atexit

    status = 0
    try:
        main()
    except SystemExit as done:
        status = _exit_status(done.code)
    if not _flushed(sys.stdout) and status == 0:
        status = 120  # what Python itself ends with when stdout cannot be flushed at exit
    _flushed(sys.stderr)
    atexit._run_exitfuncs()  # what a normal exit runs first (no public name)
    os._exit(status)


def _flushed(stream: TextIO) -> bool:
    try:
        stream.flush()
    except (OSError, ValueError):  # a closed pipe (`| head`), a closed stream
        return False
    return True


def _exit_status(code: object) -> int:
    """The status `sys.exit(code)` would end the process with (a message is printed)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
