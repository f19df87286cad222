"""Benchmark (issue 14): planning one very long draft post, against fixed CPU targets.

    python bench/bench_plan_speed.py              # 5 runs of each case, min and median
    python bench/bench_plan_speed.py --repeat 9
    python bench/bench_plan_speed.py --profile    # cProfile of each case, top functions

Cases, on Mastodon (default limits) and on Bluesky:
- a 1 MB essay (`bench_plan.essay_draft`: paragraphs of 2-9 sentences): target < 1 s CPU;
- one 100 KB paragraph without a blank line, made of the same sentences: target < 0.5 s.

CPU time of this process (`time.process_time`): the machine is shared, wall time is noise.
The runs are interleaved across cases so that a burst of load hits them all alike. This is
a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import essay_draft, sentence_stream
from threadpost.draft import Draft, parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import PlatformLimits

ESSAY_BYTES = 1_000_000
PARAGRAPH_BYTES = 100_000


def paragraph_draft(size: int, seed: int = 2) -> Draft:
    """One draft post of about `size` bytes that is a single paragraph: sentences joined by
    spaces, no blank line and no line break."""
    next_sentence = sentence_stream(seed)
    sentences: list[str] = []
    total = 0
    while total < size:
        sentence = next_sentence()
        sentences.append(sentence)
        total += len(sentence.encode()) + 1
    return parse_draft(" ".join(sentences).encode(), "bench-paragraph.md")


#: (label, draft builder, target CPU seconds)
CASES: list[tuple[str, Callable[[], Draft], float]] = [
    ("1 MB essay", lambda: essay_draft(ESSAY_BYTES), 1.0),
    ("100 KB paragraph", lambda: paragraph_draft(PARAGRAPH_BYTES), 0.5),
]
NETWORKS: list[PlatformLimits] = [MASTODON_DEFAULT_LIMITS, BLUESKY_LIMITS]


def plan_seconds(draft: Draft, limits: PlatformLimits) -> tuple[float, int]:
    """CPU seconds of one plan, and its number of posts."""
    started = time.process_time()
    thread = plan_thread(draft, limits)
    elapsed = time.process_time() - started
    if thread.problems:
        raise SystemExit(f"unexpected problems: {thread.problems[:3]}")
    return elapsed, len(thread.posts)


def run(repeat: int) -> list[str]:
    drafts = [(label, build(), target) for label, build, target in CASES]
    for limits in NETWORKS:  # warm up: compiled regexes, the TLD lists, caches
        plan_thread(essay_draft(20_000), limits)
    times: dict[tuple[str, str], list[float]] = {}
    posts: dict[tuple[str, str], int] = {}
    for _ in range(repeat):
        for label, draft, _target in drafts:
            for limits in NETWORKS:
                seconds, count = plan_seconds(draft, limits)
                times.setdefault((label, limits.platform), []).append(seconds)
                posts[label, limits.platform] = count
    rows = [
        f"| input | network | posts | min CPU | median CPU | target (median of {repeat}) |",
        "|---|---|---|---|---|---|",
    ]
    for label, _draft, target in drafts:
        for limits in NETWORKS:
            key = (label, limits.platform)
            low, middle = min(times[key]), statistics.median(times[key])
            verdict = "met" if middle < target else "**not met**"
            rows.append(
                f"| {label} | {limits.platform} | {posts[key]:,} | {low:.3f} s | {middle:.3f} s "
                f"| < {target:g} s: {verdict} |"
            )
    return rows


def profile(top: int) -> None:
    for label, build, _target in CASES:
        draft = build()
        for limits in NETWORKS:
            plan_thread(essay_draft(20_000), limits)
            print(f"\n## {label}, {limits.platform}")
            profiler = cProfile.Profile()
            profiler.runcall(plan_thread, draft, limits)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each case (default 5)")
    parser.add_argument("--profile", action="store_true", help="cProfile each case once")
    parser.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.top)
        return 0
    print(f"Python {platform.python_version()}, {platform.machine()}, {platform.system()}")
    print("\n".join(run(max(args.repeat, 1))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
