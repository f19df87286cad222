"""Shell completion (issue 12): `--show-completion`, `--install-completion`, and the
completions a shell gets back, through the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _threadpost(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "threadpost", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def _complete(line: str) -> list[str]:
    """What bash gets back for `line` (the cursor at its end), as its script asks."""
    words = line.split(" ")
    answer = _threadpost(
        _THREADPOST_COMPLETE="complete_bash",
        COMP_WORDS=line,
        COMP_CWORD=str(len(words) - 1),
    )
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.split()


def test_show_completion_prints_the_bash_script() -> None:
    shown = _threadpost("--show-completion", "bash")
    assert shown.returncode == 0, shown.stderr
    assert "_THREADPOST_COMPLETE=complete_bash" in shown.stdout
    assert "complete -o default -F _threadpost_completion threadpost" in shown.stdout


def test_commands_options_and_groups_complete() -> None:
    assert _complete("threadpost sch") == ["schedule"]
    assert _complete("threadpost publish --dry") == ["--dry-run"]
    assert sorted(_complete("threadpost login ")) == ["bluesky", "mastodon"]


def test_install_completion_writes_the_script_and_sources_it(tmp_path: Path) -> None:
    installed = _threadpost("--install-completion", "bash", HOME=str(tmp_path))
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".bash_completions" / "threadpost.sh"
    assert "_THREADPOST_COMPLETE=complete_bash" in script.read_text()
    assert "source" in (tmp_path / ".bashrc").read_text()
