"""Benchmark: planning a many-post draft and a long essay, at 1x and 10x size, both platforms.

    python bench/bench_plan.py            # print the table
    python bench/bench_plan.py --write    # also update the section in BENCHMARKS.md
    python bench/bench_plan.py --quick    # smaller sizes, one run (a smoke test)

Time must grow linearly: the 10x input may take at most 12x the time. The synthetic text
is deterministic (seeded): English and French sentences with abbreviations, links,
mentions, hashtags, emoji and flags, paragraphs and line breaks.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from threadpost.draft import Draft, parse_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import PlatformLimits

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
START = "<!-- bench_plan:start -->"
END = "<!-- bench_plan:end -->"
MAX_RATIO = 12.0

SENTENCES = [
    "The tide comes in faster than anyone expects, and the causeway is gone in minutes.",
    "Projects behave the same way: nobody notices the water until it reaches the car.",
    "Mr. Smith and Dr. Jones wrote about it in 2019, e.g. in their report on deadlines.",
    "A deadline is a promise we make to a calendar; the people involved rarely agree.",
    "Read the full study at https://example.org/research/deadlines-and-tides?ref=thread first.",
    "Thanks to @alice.bsky.social and @bob@mastodon.social for the notes 🙏",
    "Is that really true?! Yes — and it costs 3.14 times more than planned… every time.",
    "M. Dupont l'a dit à la réunion du 3 janv. : « Ce n'est pas prouvé ! »",
    "Les caméras de #SécuritéGlobale coûtent cher 💶 et la Cour des comptes le rappelle.",
    "Voir p. 12 du rapport (https://www.ccomptes.fr/fr/publications/les-polices-municipales).",
    "En 52 av. J.-C., César n'avait pas de tableur ; nous, si, et ça ne change rien 🇫🇷",
    "We planned for three weeks and shipped in nine, etc. The team learned a lot. #retro",
]


#: Chinese and Japanese sentences: no spaces, every character a break point (UAX #14).
CJK_SENTENCES = [
    "潮見表は港町ならどこでも印刷されている。",
    "そして、どの港町にも潮見表を無視した人の話がある。",
    "毎年夏になると誰かが干潮の時に土手道に車を止め、昼食を探しに出かける。",
    "「人は表を読み間違えるのではない。曲線を読み間違えるのだ」と研究者は言った。",
    "每个港口小镇都印有潮汐表，每个港口小镇也都有一个无视潮汐表的人的故事。",
    "项目也是如此！最初几周看起来很平静，工作似乎按计划进行。",
    "详见 https://example.org/research/潮汐 以及 @alice.bsky.social 的笔记。",
]


def sentence_stream(seed: int, sentences: list[str] = SENTENCES) -> Callable[[], str]:
    rng = random.Random(seed)
    return lambda: rng.choice(sentences)


def many_posts_draft(posts: int, seed: int = 1) -> Draft:
    """`posts` draft posts of 1 to 8 sentences (some need splitting on each platform)."""
    rng = random.Random(seed)
    next_sentence = sentence_stream(seed)
    bodies = []
    for _ in range(posts):
        count = rng.choice([1, 2, 3, 3, 4, 5, 8])
        bodies.append(" ".join(next_sentence() for _ in range(count)))
    text = "\n---\n".join(bodies) + "\n"
    return parse_draft(text.encode(), "bench-posts.md")


def essay_draft(size: int, seed: int = 2) -> Draft:
    """One draft post of about `size` bytes: paragraphs of 2-9 sentences, a few line breaks."""
    rng = random.Random(seed)
    next_sentence = sentence_stream(seed)
    paragraphs: list[str] = []
    total = 0
    while total < size:
        count = rng.randint(2, 9)
        joiner = "\n" if rng.random() < 0.1 else " "
        paragraph = joiner.join(next_sentence() for _ in range(count))
        paragraphs.append(paragraph)
        total += len(paragraph.encode()) + 2
    return parse_draft("\n\n".join(paragraphs).encode(), "bench-essay.md")


def cjk_essay_draft(size: int, seed: int = 3) -> Draft:
    """One draft post of about `size` bytes of Japanese and Chinese paragraphs (2-12
    sentences, written without spaces)."""
    rng = random.Random(seed)
    next_sentence = sentence_stream(seed, CJK_SENTENCES)
    paragraphs: list[str] = []
    total = 0
    while total < size:
        paragraph = "".join(next_sentence() for _ in range(rng.randint(2, 12)))
        paragraphs.append(paragraph)
        total += len(paragraph.encode()) + 2
    return parse_draft("\n\n".join(paragraphs).encode(), "bench-cjk.md")


def plan_seconds(draft: Draft, limits: PlatformLimits) -> tuple[float, int]:
    """CPU seconds of one plan (this process only: other jobs on a shared machine barely
    move it, unlike wall time), and the number of posts."""
    started = time.process_time()
    thread = plan_thread(draft, limits)
    elapsed = time.process_time() - started
    if thread.problems:
        raise SystemExit(f"unexpected problems: {thread.problems[:3]}")
    return elapsed, len(thread.posts)


def measure(
    small: Draft, large: Draft, limits: PlatformLimits, runs: int
) -> tuple[float, int, float, int]:
    """Medians for both sizes, the runs interleaved so that drift hits both alike."""
    small_times: list[float] = []
    large_times: list[float] = []
    n1 = n10 = 0
    for run in range(runs + 2):
        t1, n1 = plan_seconds(small, limits)
        small_times.append(t1)
        if run < runs:
            t10, n10 = plan_seconds(large, limits)
            large_times.append(t10)
    return statistics.median(small_times), n1, statistics.median(large_times), n10


def run(quick: bool) -> tuple[list[str], bool]:
    scale = 10 if quick else 1
    runs = 1 if quick else 3
    cases = [
        ("draft of posts", "posts", 1000 // scale, many_posts_draft),
        ("essay (one draft post)", "bytes", 100_000 // scale, essay_draft),
        ("CJK essay (one draft post)", "bytes", 100_000 // scale, cjk_essay_draft),
    ]
    rows = [
        "| input | size 1× | size 10× | platform | posts 1× | posts 10× | CPU 1× | CPU 10× "
        "| ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for limits in (MASTODON_DEFAULT_LIMITS, BLUESKY_LIMITS):  # warm up regexes and caches
        plan_thread(many_posts_draft(50), limits)
    for label, unit, base, build in cases:
        small, large = build(base), build(base * 10)
        for limits in (MASTODON_DEFAULT_LIMITS, BLUESKY_LIMITS):
            # The small input gets two more runs: its median is the ratio's denominator.
            t1, n1, t10, n10 = measure(small, large, limits, runs)
            ratio = t10 / t1
            ok = ok and ratio <= MAX_RATIO
            rows.append(
                f"| {label} | {base:,} {unit} | {base * 10:,} {unit} | {limits.platform} "
                f"| {n1:,} | {n10:,} | {t1 * 1000:,.0f} ms | {t10 * 1000:,.0f} ms "
                f"| {ratio:.1f}× |"
            )
            print(rows[-1], flush=True)
    return rows, ok


def write_section(rows: list[str], ok: bool) -> None:
    machine = f"Python {platform.python_version()}, {platform.machine()}, {platform.system()}"
    section = "\n".join(
        [
            START,
            "## Planning (`bench/bench_plan.py`)",
            "",
            "`plan_thread` (split, numbering, counting, facets) on synthetic English/French text",
            "with links, mentions, hashtags, emoji and flags. CPU time of the planning process",
            "(`time.process_time`: wall time on this shared 2-core machine swung 2× between",
            f"runs), median of 5 runs (1×) and 3 runs (10×), interleaved; {machine}.",
            f"Requirement: 10× input in at most {MAX_RATIO:.0f}× the time — "
            + ("**met**." if ok else "**NOT met**."),
            "",
            *rows,
            "",
            "- Each draft post is split on its own; break points are computed once per draft post",
            "  and reused when the numbering's width forces a re-plan.",
            "- Splitting (`text/split.py`): whole paragraphs are packed, a paragraph too long for",
            "  one post is split by a dynamic programme (fewest word breaks within one post more",
            "  than the greedy minimum, then fewest posts, then break rank, then even lengths).",
            "  Greedy passes forward and backward (galloping `fits` searches) bound each post's",
            "  end to a window: one post wide for k posts, two for k + 1 (tried only when the",
            "  k-post split breaks a word and a better break could save one). How far a post",
            "  reaches from each start is probed once and shared; each window's best predecessors",
            "  are found by divide and conquer (the cost is Monge): O(w log w) per window.",
            "- Posts per essay went up on Mastodon (231 → 283 at 100 KB) and on Bluesky (431 →",
            "  446): a paragraph's tail no longer shares a post with the next paragraph; then on",
            "  Bluesky 446 → 456 (4,406 → 4,528 at 1 MB): a paragraph that fitted its greedy",
            "  count only by breaking a word now takes one post more (21 of the 100 KB essay's",
            "  paragraphs tried it). The CJK essay's sentences are short: no change there.",
            "- CJK text has a break point between almost every two characters: building those",
            "  breaks is most of its time (~65%). Its ratio was 10-12.4x over several runs",
            "  (11.0-11.6x in the previous table, 10.4-11.2x here). Counted, `fits` probes grow",
            "  9.6-10.7x for 10x input in every essay row (Bluesky English, 11.9x here: 9.7x),",
            "  so the rest is this shared machine's noise. One object per CJK character is",
            "  still the excess; a leaner break representation is the next step if needed.",
            "- Not in the table: one giant paragraph (no blank line) costs more, the extra post's",
            "  windows being two posts wide. 106 KB of English in one paragraph: 0.55 → 0.78 s",
            "  (Bluesky), 2.4 → 5.7 s (Mastodon); 68 KB of CJK: 4.3 → 3.3 s, 3.3 → 10.1 s. Most",
            "  of it is `fits` probes (one or two per break and window), not the programme.",
            "- Found with this benchmark: the hashtag sigil scan in `text/entities.py` re-searched",
            "  the rest of the text for an absent `＃` after every `#` (quadratic on a 1 MB post);",
            "  it now re-finds a sigil only once passed.",
            "",
            "Regenerate with `.venv/bin/python bench/bench_plan.py --write`.",
            END,
        ]
    )
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    BENCHMARKS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    args = parser.parse_args(argv)
    rows, ok = run(args.quick)
    print("\n".join(rows))
    print("linear: OK" if ok else f"linear: FAILED (a ratio is above {MAX_RATIO}x)")
    if args.write and not args.quick:
        write_section(rows, ok)
        print(f"wrote {BENCHMARKS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
