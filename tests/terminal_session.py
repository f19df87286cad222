"""Run `threadpost` as a person would: a real process on a pseudo-terminal (standard
library `pty`), its output read as it comes, keys (Ctrl-C is b"\\x03") typed into it.

The child is the session leader of its own terminal, so Ctrl-C typed there reaches it as
SIGINT through the terminal's line discipline, exactly as from a keyboard.
"""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The most any one wait lasts: a bound on a hung child, not a timing assertion.
WAIT_LIMIT = 60.0


class TerminalSession:
    """`python -m threadpost ARGS` on a pseudo-terminal (stdin, stdout and stderr)."""

    def __init__(self, *args: str, env: Mapping[str, str]) -> None:
        environ = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT / "src")}
        environ.pop("COLUMNS", None)
        command = [sys.executable, "-m", "threadpost", *args]
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (nothing of pytest runs here)
            try:
                os.execve(sys.executable, command, environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.output = ""
        self.exit_code: int | None = None

    def _read(self, limit: float) -> bool:
        """Read what is there within `limit` seconds; False at end of output."""
        ready, _, _ = select.select([self.fd], [], [], limit)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed its terminal
            return False
        if not chunk:
            return False
        self.output += chunk.decode(errors="replace").replace("\r\n", "\n")
        return True

    def read_until(self, text: str) -> str:
        """Read until `text` has appeared (AssertionError with the output if it does not)."""
        deadline = time.monotonic() + WAIT_LIMIT
        while text not in self.output:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 1.0)):
                break
        assert text in self.output, f"{text!r} never appeared in:\n{self.output}"
        return self.output

    def type(self, keys: bytes) -> None:
        """Type `keys` on the terminal."""
        os.write(self.fd, keys)

    def wait(self) -> int:
        """Read to the end of output (the child closed its terminal) and return the exit
        status; a child still running after WAIT_LIMIT is killed and the test fails."""
        deadline = time.monotonic() + WAIT_LIMIT
        ended = False
        while not ended and time.monotonic() < deadline:
            ended = not self._read(1.0)
        if not ended:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
            os.close(self.fd)
            raise AssertionError(f"threadpost did not finish; its output:\n{self.output}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.exit_code = os.waitstatus_to_exitcode(status)
        return self.exit_code
