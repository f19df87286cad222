"""The process entry point (`console`: the console script and `python -m threadpost`) ends
the process without the interpreter's finalization, and nothing a normal exit would do is
lost: the exit status, everything written to stdout and stderr, the `atexit` handlers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _threadpost(*args: str, cwd: Path, code: str | None = None) -> subprocess.CompletedProcess[str]:
    (cwd / "config.toml").write_text("")
    env = {
        # Buffered as for a user (a pipe is block-buffered): what console must flush.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("THREADPOST_") and k != "PYTHONUNBUFFERED"
        },
        "THREADPOST_CONFIG": str(cwd / "config.toml"),
        "THREADPOST_DB": str(cwd / "threadpost.db"),
        "THREADPOST_STATE_DIR": str(cwd / "state"),
    }
    command = (
        [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "threadpost", *args]
    )
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_refused_draft_keeps_its_status_and_message(tmp_path: Path) -> None:
    done = _threadpost("check", "--offline", str(tmp_path / "missing.md"), cwd=tmp_path)
    assert done.returncode == 3
    assert "missing.md" in done.stderr
    assert done.stdout == ""


def test_a_long_json_answer_arrives_whole_through_a_pipe(tmp_path: Path) -> None:
    draft = tmp_path / "long.md"
    draft.write_text("\n\n---\n\n".join(f"Post {n}: " + "words " * 80 for n in range(60)))
    done = _threadpost("preview", "--offline", "--json", str(draft), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 64 * 1024  # more than a pipe buffer: flushed, not cut off
    preview = json.loads(done.stdout)
    assert preview["platforms"]["mastodon"]["posts"]


def test_exit_handlers_still_run_and_a_string_exit_is_status_1(tmp_path: Path) -> None:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('handler ran\\n'))\n"
        "import threadpost.cli as cli\n"
        "def main(argv=None):\n"
        "    print('output before the exit')  # buffered: a pipe is no terminal\n"
        "    sys.exit('refused: a message')\n"
        "cli.main = main\n"
        "cli.console()\n"
    )
    done = _threadpost(code=code, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "output before the exit\n"
    assert done.stderr == "refused: a message\nhandler ran\n"


def test_the_version_answers_with_status_0(tmp_path: Path) -> None:
    done = _threadpost("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout.split()[0]) == (0, "threadpost")
