"""Benchmarks of `check`: concurrent link checking, and the offline check's start-up cost.

1. A draft with 50 links, each answered after 200 ms by a local server on 127.0.0.1:
   checked through `check_draft` (concurrent), and the same links one at a time for the
   sequential figure.
2. `threadpost check --offline` of a 30-post draft as a real subprocess: wall time and
   whether atproto, Mastodon.py or httpx were imported (they must not be).

Run: .venv/bin/python bench/bench_check.py   (prints a Markdown section for BENCHMARKS.md)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from linkserver import serve  # noqa: E402
from threadpost.check import check_draft  # noqa: E402
from threadpost.config import load_settings  # noqa: E402
from threadpost.linkcheck import check_links  # noqa: E402

LINKS = 50
DELAY = 0.2
RUNS = 3


def bench_links(folder: Path) -> dict[str, float]:
    settings = load_settings(
        config_path=None,
        environ={"THREADPOST_STATE_DIR": str(folder / "state"), "THREADPOST_CONFIG": ""},
    )
    with serve() as server:
        server.delay_seconds = DELAY
        concurrent: list[float] = []
        for run in range(RUNS):
            urls = [server.url(f"/delay/{run}-{i}") for i in range(LINKS)]
            posts = "\n\n---\n\n".join(f"Link {i}: {url}" for i, url in enumerate(urls))
            draft = folder / f"links-{run}.md"
            draft.write_text(posts + "\n", encoding="utf-8")
            start = time.perf_counter()
            report = check_draft(draft, settings, ["bluesky"], offline=False)
            concurrent.append(time.perf_counter() - start)
            assert len(report.links) == LINKS, len(report.links)
            assert all(result.ok for result in report.links.values())
        only: list[float] = []
        for run in range(RUNS):
            urls = [server.url(f"/delay/only-{run}-{i}") for i in range(LINKS)]
            start = time.perf_counter()
            check_links(urls)
            only.append(time.perf_counter() - start)
        urls = [server.url(f"/delay/sequential-{i}") for i in range(LINKS)]
        start = time.perf_counter()
        results = check_links(urls, concurrency=1)
        sequential = time.perf_counter() - start
        assert all(result.ok for result in results.values())
    return {
        "concurrent": statistics.median(concurrent),
        "links_only": statistics.median(only),
        "sequential": sequential,
    }


def bench_offline(folder: Path) -> dict[str, object]:
    posts = "\n\n---\n\n".join(
        f"Post {i}: https://example.com/{i} #tag{i} @alice.example.com, some words." * 2
        for i in range(30)
    )
    draft = folder / "thirty.md"
    draft.write_text(posts + "\n", encoding="utf-8")
    wrapper = (
        "import json, sys\n"
        "from threadpost.cli import main\n"
        "try:\n"
        f"    main(['check', '--offline', '--json', {str(draft)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'atproto', 'atproto_client', 'mastodon', 'httpx', 'httpcore'})\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    env = {**os.environ, "THREADPOST_STATE_DIR": str(folder / "state")}
    env["THREADPOST_CONFIG"] = str(folder / "none.toml")
    (folder / "none.toml").write_text("")
    times: list[float] = []
    cpu: list[float] = []
    heavy: list[str] = []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", wrapper],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        heavy = json.loads(done.stderr.strip().splitlines()[-1])
    bare = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
        bare.append(time.perf_counter() - start)
    return {
        "check": statistics.median(times),
        "cpu": statistics.median(cpu),
        "bare": statistics.median(bare),
        "heavy": heavy,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        links = bench_links(folder)
        offline = bench_offline(folder)
    print("## check (link checking and offline start-up)\n")
    print(f"Machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; median of {RUNS}.\n")
    print("| what | time |")
    print("| --- | --- |")
    print(
        f"| `check` of a draft with {LINKS} links, server answers each after "
        f"{DELAY * 1000:.0f} ms (concurrent) | {links['concurrent']:.2f} s |"
    )
    print(f"| `check_links` alone, the same kind of {LINKS} links | {links['links_only']:.2f} s |")
    print(f"| the same {LINKS} links one at a time (sequential) | {links['sequential']:.2f} s |")
    print(
        f"| `threadpost check --offline --json`, 30 posts, subprocess | {offline['check']:.2f} s "
        f"wall, {offline['cpu']:.2f} s CPU |"
    )
    print(f"| bare `python -c pass`, for scale | {offline['bare']:.2f} s |")
    heavy = offline["heavy"] or "none"
    print(f"\nNetwork libraries imported by the offline check: {heavy}.")


if __name__ == "__main__":
    main()
