"""Is a person at the terminal? And asking them yes or no.

The two questions every interactive command asks: whether to show progress (only to a
person: a log file or a pipe gets the summary alone), and whether it may ask before acting
(a cron job or a script cannot answer, so asking would hang or read garbage: it must say
`--yes` instead). Both go through `stdin_is_terminal` / `stderr_is_terminal`, so tests can
answer them without a pseudo-terminal.
"""

from __future__ import annotations

import sys

from threadpost.errors import UsageError


def stdin_is_terminal() -> bool:
    """Whether standard input is a terminal a person can type into."""
    return _isatty(sys.stdin)


def stderr_is_terminal() -> bool:
    """Whether standard error is shown on a terminal (progress goes there)."""
    return _isatty(sys.stderr)


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


def ask_yes_no(question: str, *, skip_with: str = "--yes") -> bool:
    """Ask `question` [y/N] on the terminal; True only for an explicit yes.

    Standard input that is not a terminal is a usage error naming `skip_with`: nothing
    there can answer. Ctrl-C is left to raise KeyboardInterrupt (exit 130, not a "no"):
    the person stopped the command, they did not decline. End of input (Ctrl-D), or
    three answers that are neither yes nor no, is a no."""
    if not stdin_is_terminal():
        raise UsageError(
            f"cannot ask for confirmation: standard input is not a terminal; "
            f"pass {skip_with} to go ahead without asking"
        )
    for _ in range(3):
        print(f"{question} [y/N]: ", end="", flush=True)
        try:
            answer = sys.stdin.readline()
        except EOFError:
            answer = ""
        if not answer:  # end of input
            print()
            return False
        word = answer.strip().lower()
        if word in ("y", "yes"):
            return True
        if word in ("", "n", "no"):
            return False
        print("Please answer y or n.")
    return False
