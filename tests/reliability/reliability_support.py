"""The cell runner of the fault-injection suite, shared by the Mastodon and Bluesky matrices.

A cell: freeze a 10-post thread into a fresh ledger, publish it through the real adapter
against a real local server with one fault armed at post k, resume it with `run` when the
first run could not finish, then read the server back and compare with the plan.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from reliability_report import CellOutcome, record

from threadpost.clock import utc_now
from threadpost.draft import read_draft
from threadpost.plan import Thread, plan_thread
from threadpost.publish import freeze_thread, publish_thread
from threadpost.retry import RetryPolicy
from threadpost.schedule import run_due
from threadpost.store import open_ledger

POSTS: Final = 10
KS: Final = tuple(range(1, POSTS + 1))


def write_thread_draft(folder: Path, platform: str, tag: str) -> Path:
    """A draft of exactly 10 short posts, each unique (so duplicates are visible)."""
    folder.mkdir(parents=True, exist_ok=True)
    posts = [f"Reliability {tag}: post {i} of the thread, about faults at post k." for i in KS]
    path = folder / "thread.md"
    path.write_text(
        f'+++\ntitle = "Reliability {tag}"\nplatforms = ["{platform}"]\nlang = "en"\n+++\n'
        + "\n\n---\n\n".join(posts)
        + "\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Recorder:
    """The retry policy's sleep: records every wait; really sleeps only when `real`."""

    real: bool = True
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.real:
            time.sleep(seconds)


def fast_policy(sleep: Callable[[float], None], attempts: int = 4) -> RetryPolicy:
    """The default policy's decisions with short backoffs, so the matrix stays quick."""
    return RetryPolicy(
        attempts=attempts,
        initial=0.1,
        maximum=0.5,
        jitter=0.05,
        rate_limit_margin=0.1,
        sleep=sleep,
    )


@dataclass(frozen=True)
class ServerPost:
    """One post as the server holds it, for the comparison with the plan."""

    id: str
    text: str
    #: The id of the post it replies to (Mastodon in_reply_to_id; Bluesky reply.parent uri).
    parent: str | None
    #: Bluesky reply.root uri; None on Mastodon (the chain of parents defines the root).
    root: str | None = None


def bluesky_server_posts(records: Sequence[Any]) -> list[ServerPost]:
    """Post records as listRecords answers them (newest first, TID order), as server posts
    in thread order."""
    return [
        ServerPost(
            id=r["uri"],
            text=r["value"]["text"],
            parent=(r["value"].get("reply") or {}).get("parent", {}).get("uri"),
            root=(r["value"].get("reply") or {}).get("root", {}).get("uri"),
        )
        for r in reversed(records)
    ]


@dataclass(frozen=True)
class Verdict:
    on_server: int
    duplicates: int
    in_order: bool
    chain_intact: bool


def judge(plan: Thread, posts: Sequence[ServerPost], ledger_ids: Sequence[str | None]) -> Verdict:
    """Compare what the server holds with the plan and the ledger's confirmed ids."""
    texts = [post.text for post in posts]
    planned = [post.text for post in plan.posts]
    duplicates = len(texts) - len(set(texts))
    in_order = texts == planned and [p.id for p in posts] == list(ledger_ids)
    chain = bool(posts) and posts[0].parent is None
    for previous, post in itertools.pairwise(posts):
        chain = chain and post.parent == previous.id
        if post.root is not None or posts[0].root is not None:
            chain = chain and post.root == posts[0].id
    return Verdict(len(posts), duplicates, in_order, chain)


def run_cell(
    *,
    platform: str,
    fault: str,
    k: int,
    tmp_path: Path,
    settings: Any,
    open_publisher: Callable[[Any], Any],
    read_server: Callable[[], list[ServerPost]],
    arm: Callable[[], None] = lambda: None,
    on_confirm: Callable[[Any], None] | None = None,
    disarm: Callable[[], None] = lambda: None,
    sleep: Recorder | None = None,
    after_run: Callable[[], None] = lambda: None,
    attempts: int = 4,
    resume_after: timedelta = timedelta(days=1),
) -> CellOutcome:
    """Publish a 10-post thread with a fault, resume if needed, judge and record the cell.

    `attempts`: the first run's retries (1: it ends at the first failure); the resuming
    `run` comes `resume_after` later by its clock."""
    sleep = sleep or Recorder()
    policy = fast_policy(sleep, attempts)
    draft = read_draft(write_thread_draft(tmp_path / "draft", platform, f"{fault} k={k}"))
    plan = plan_thread(draft, open_publisher(platform).limits())
    assert len(plan.posts) == POSTS
    codes: list[int] = []
    with open_ledger(settings.db_path) as ledger:
        frozen = freeze_thread(ledger, draft, {platform: plan}, schedule_at=None, now=utc_now())
        arm()
        result = publish_thread(
            ledger,
            frozen.thread_id,
            open_publisher,
            max_attempts=8,
            policy=policy,
            on_confirm=on_confirm,
        )
        after_run()
        codes.append(int(result.exit_status))
        runs = 1
        if result.state != "published":
            # A later cron tick: the fault is gone and the retry time has come.
            disarm()
            later = utc_now() + resume_after
            report = run_due(
                ledger, settings, open_publisher, clock=lambda: later, policy=fast_policy(sleep)
            )
            assert [item.thread_id for item in report.items] == [frozen.thread_id]
            codes.append(int(report.exit_status))
            runs = 2
        posts = ledger.posts(frozen.thread_id, platform)  # type: ignore[arg-type]
        assert all(p.state == "confirmed" for p in posts), [(p.index, p.state) for p in posts]
        ledger_ids = [p.remote_id for p in posts]
        attempts = len(ledger.attempts(frozen.thread_id))
    return judge_and_record(
        plan,
        read_server(),
        ledger_ids,
        platform=platform,
        fault=fault,
        k=k,
        attempts=attempts,
        runs=runs,
        exit_codes=tuple(codes),
        waits=tuple(sleep.waits),
    )


def judge_and_record(
    plan: Thread,
    posts: Sequence[ServerPost],
    ledger_ids: Sequence[str | None],
    *,
    platform: str,
    fault: str,
    k: int,
    attempts: int,
    runs: int,
    exit_codes: tuple[int, ...],
    waits: tuple[float, ...] = (),
) -> CellOutcome:
    """Judge what the server holds against the plan and the ledger, and record the cell."""
    verdict = judge(plan, posts, ledger_ids)
    outcome = CellOutcome(
        platform=platform,
        fault=fault,
        k=k,
        planned=POSTS,
        on_server=verdict.on_server,
        duplicates=verdict.duplicates,
        in_order=verdict.in_order,
        chain_intact=verdict.chain_intact,
        attempts=attempts,
        runs=runs,
        exit_codes=exit_codes,
        waits=waits,
    )
    record(outcome)
    return outcome


def assert_cell_ok(outcome: CellOutcome) -> None:
    """Exactly the planned posts, once each, in order, chained, and the last run exited 0."""
    assert outcome.on_server == outcome.planned, outcome
    assert outcome.duplicates == 0, outcome
    assert outcome.in_order, outcome
    assert outcome.chain_intact, outcome
    assert outcome.exit_codes[-1] == 0, outcome
