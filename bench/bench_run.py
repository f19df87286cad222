"""`threadpost run` with nothing due: median start-to-exit time, beside `import typer`.

Usage: .venv/bin/python bench/bench_run.py [--repeat N]
Measures, in one run on this machine: `python -c "import typer"`, `threadpost run` on an
empty ledger, `threadpost run` on a ledger of 10,000 scheduled threads none of which is due
(cron's plain line, both answered before the command line is built: cli/quiet_run.py),
the same with each thread scheduled from a draft file it follows (retime.py: each file's
mtime and size are compared at every tick; none changed), and `run -v` on the 10,000
(the full command line, typer included). The commands take turns
(one sample of each per round), so a change in the machine's load during the run weighs on
every row alike; the ratios to `import typer` are the point (issue 14's target: ≤ 1.5× for
the empty ledger). Prints a Markdown table (paste into BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def _fill(db: Path, count: int, drafts: Path | None = None) -> None:
    """`count` scheduled threads, none due; with `drafts`, each from a draft file there
    whose schedule it follows (as `threadpost schedule` records it)."""
    from fakes import make_thread
    from threadpost.retime import file_identity
    from threadpost.store import open_ledger

    now = datetime.now(UTC)
    with open_ledger(db) as ledger, ledger.transaction():
        for i in range(count):
            thread_id = f"{i:08x}"
            ledger.conn.execute(
                "INSERT INTO threads (id, draft_path, content_hash, title, platforms,"
                " schedule_at, state, last_error, created_at, updated_at)"
                " VALUES (?, ?, 'h', NULL, '[\"mastodon\"]', ?, 'scheduled', NULL, ?, ?)",
                (
                    thread_id,
                    f"/drafts/{i}.md",
                    (now + timedelta(days=30, minutes=i)).isoformat(timespec="microseconds"),
                    now.isoformat(timespec="microseconds"),
                    now.isoformat(timespec="microseconds"),
                ),
            )
            ledger._insert_plans(thread_id, {"mastodon": make_thread("mastodon", 3)})
            if drafts is not None:
                draft = drafts / f"{i}.md"
                draft.write_text('+++\nschedule = "2030-01-01T09:00:00Z"\n+++\nHello.\n')
                ledger.conn.execute(
                    "UPDATE threads SET draft_path = ?, draft_schedule = ?, draft_seen = ?"
                    " WHERE id = ?",
                    (
                        str(draft),
                        "2030-01-01T09:00:00.000000+00:00",
                        file_identity(draft),
                        thread_id,
                    ),
                )


def _one(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _interleaved(commands: list[tuple[list[str], dict[str, str]]], repeat: int) -> list[float]:
    """The median time of each command, the commands run in turn `repeat` times."""
    samples: list[list[float]] = [[] for _ in commands]
    for cmd, env in commands:  # warm-up: bytecode written, files in the page cache
        _one(cmd, env)
    for _ in range(repeat):
        for n, (cmd, env) in enumerate(commands):
            samples[n].append(_one(cmd, env))
    return [statistics.median(times) for times in samples]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.toml").write_text("")
        # As installed: bytecode cached (an environment that forbids writing it would make
        # every run compile threadpost from source while typer's is cached).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("THREADPOST_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env |= {
            "THREADPOST_CONFIG": str(folder / "config.toml"),
            "THREADPOST_STATE_DIR": str(folder / "state"),
            "THREADPOST_TIMEZONE": "UTC",
        }
        empty, full = folder / "empty.db", folder / "full.db"
        from threadpost.store import open_ledger

        open_ledger(empty).close()
        _fill(full, 10_000)
        followed = folder / "followed.db"
        (folder / "drafts").mkdir()
        _fill(followed, 10_000, folder / "drafts")
        # `-c` with the console script's own two lines: the worktree's threadpost (the
        # PYTHONPATH one) is timed, whatever the installed script would resolve to.
        run = [sys.executable, "-c", "from threadpost.cli import main; main()", "run"]
        names = [
            "python -c 'import typer'",
            "python -c 'pass' (bare interpreter)",
            "threadpost run, empty ledger",
            "threadpost run, 10,000 scheduled, none due",
            "threadpost run, 10,000 scheduled from draft files (each stat'ed), none due",
            "threadpost run -v (the full command line), 10,000 scheduled",
        ]
        medians = _interleaved(
            [
                ([sys.executable, "-c", "import typer"], env),
                ([sys.executable, "-c", "pass"], env),
                (run, {**env, "THREADPOST_DB": str(empty)}),
                (run, {**env, "THREADPOST_DB": str(full)}),
                (run, {**env, "THREADPOST_DB": str(followed)}),
                ([*run, "-v"], {**env, "THREADPOST_DB": str(full)}),
            ],
            args.repeat,
        )
    typer_time = medians[0]
    print(f"| command (median of {args.repeat}, interleaved) | seconds | × import typer |")
    print("|---|---|---|")
    for name, seconds in zip(names, medians, strict=True):
        print(f"| {name} | {seconds:.3f} | {seconds / typer_time:.2f} |")


if __name__ == "__main__":
    main()
