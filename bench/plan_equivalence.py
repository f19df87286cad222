"""Same splits before and after a planner change: hash 288 plan variants and compare.

    python bench/plan_equivalence.py --write before.json     # on the old code
    python bench/plan_equivalence.py --compare before.json   # new code: exit 1 if any differs

Variants: 18 drafts (the bench drafts incl. the 1 MB essay and the 100 KB paragraph,
`drafts/`, seeded random English/CJK mixes) x both networks x default and small limits x
unnumbered and numbered x plain and with a content warning (Mastodon) / shortened links
(Bluesky). Each plan (posts with their text, counts, facets, images, lines; problems) is
hashed. This is a check run by hand around a speed change (planning the 1 MB essay 16 times
takes a minute or two), not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_plan import CJK_SENTENCES, SENTENCES, cjk_essay_draft, essay_draft, many_posts_draft
from bench_plan_speed import paragraph_draft
from threadpost.draft import Draft, parse_draft, read_draft
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS
from threadpost.values import PlatformLimits

ROOT = Path(__file__).resolve().parent.parent


def random_mix(seed: int, size: int) -> Draft:
    """Paragraphs of English and CJK sentences, some joined without a space, some with line
    breaks, some very long words: every kind of break point."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    total = 0
    while total < size:
        parts = []
        for _ in range(rng.randint(1, 14)):
            pool = CJK_SENTENCES if rng.random() < 0.3 else SENTENCES
            parts.append(rng.choice(pool))
            if rng.random() < 0.05:
                parts.append("x" * rng.randint(50, 700))
        joiner = rng.choice([" ", " ", " ", "\n", "", "  "])
        paragraph = joiner.join(parts)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return parse_draft("\n\n".join(paragraphs).encode(), f"mix-{seed}.md")


def drafts() -> Iterator[tuple[str, Callable[[], Draft]]]:
    yield "essay-1MB", lambda: essay_draft(1_000_000)
    yield "paragraph-100KB", lambda: paragraph_draft(100_000)
    yield "essay-100KB", lambda: essay_draft(100_000)
    yield "essay-20KB-seed7", lambda: essay_draft(20_000, seed=7)
    yield "cjk-100KB", lambda: cjk_essay_draft(100_000)
    yield "cjk-paragraph", lambda: parse_draft("".join(CJK_SENTENCES * 60).encode(), "cjk-p.md")
    yield "posts-300", lambda: many_posts_draft(300)
    for path in sorted((ROOT / "drafts").glob("*.md")):
        yield f"drafts/{path.name}", lambda path=path: read_draft(path)
    for seed in range(8):
        yield f"mix-{seed}", lambda seed=seed: random_mix(seed, 3_000 + 4_000 * seed)


def networks() -> Iterator[tuple[str, PlatformLimits]]:
    yield "mastodon", MASTODON_DEFAULT_LIMITS
    yield "mastodon-small", replace(MASTODON_DEFAULT_LIMITS, max_graphemes=120)
    yield "bluesky", BLUESKY_LIMITS
    yield "bluesky-small", replace(BLUESKY_LIMITS, max_graphemes=90, max_bytes=200)


def fingerprint(draft: Draft, limits: PlatformLimits, numbering: str | None, extra: bool) -> str:
    options: dict[str, object] = {"numbering": numbering}
    if extra and limits.platform == "mastodon":
        options["spoiler_text"] = "long read, spoilers ahead"
    if extra and limits.platform == "bluesky":
        options["shorten_links"] = True
    thread = plan_thread(draft, limits, **options)  # type: ignore[arg-type]
    digest = hashlib.sha256()
    for post in thread.posts:
        digest.update(repr(post).encode())
    for problem in thread.problems:
        digest.update(repr(problem).encode())
    return f"{len(thread.posts)}:{digest.hexdigest()[:20]}"


def run() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, build in drafts():
        draft = build()
        for network, limits in networks():
            for numbering in (None, "{i}/{n}"):
                for extra in (False, True):
                    key = f"{name} {network} numbering={numbering} extra={extra}"
                    found[key] = fingerprint(draft, limits, numbering, extra)
        print(name, file=sys.stderr, flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    found = run()
    if args.write:
        args.write.write_text(json.dumps(found, indent=1, sort_keys=True))
        print(f"{len(found)} variants written to {args.write}")
        return 0
    expected = json.loads(args.compare.read_text())
    differ = [key for key in expected if found.get(key) != expected[key]]
    for key in differ:
        print(f"DIFFERS: {key}: {expected[key]} -> {found.get(key)}")
    print(f"{len(expected) - len(differ)} of {len(expected)} variants identical")
    return 1 if differ or len(found) != len(expected) else 0


if __name__ == "__main__":
    raise SystemExit(main())
