"""What a person sees while `publish` sends: a line per confirmed post, and Ctrl-C.

Progress: on a terminal, each post is announced as the ledger confirms it ("mastodon 2/3
https://…"), on standard error so that standard output keeps only the summary; nothing
when standard error is not a terminal or with `--json`.

Ctrl-C: the first press asks the publisher to stop *between posts*: the post being sent
is let through, and once it is confirmed nothing more is sent (on no network); a second
press stops at once. Either way the ledger already holds every confirmed post, so what
is printed is read from it, with the command that resumes the thread.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from threadpost.cli.output import counted, state
from threadpost.clock import utc_now

if TYPE_CHECKING:
    from threadpost.platforms.base import Publisher
    from threadpost.publish import OpenPublisher
    from threadpost.store import Ledger
    from threadpost.values import PlatformName, PostRef


class PublishStopped(KeyboardInterrupt):
    """Raised between posts after Ctrl-C (a KeyboardInterrupt, so that no failure handler
    of the engine records it as the network's failure). `platform` is the network whose
    post had just been confirmed (its later posts were marked for sending and are looked
    up before anything else), None when it stopped before a network began."""

    def __init__(self, platform: PlatformName | None) -> None:
        super().__init__(platform or "")
        self.platform = platform


class PublishWatch:
    """Progress lines and the Ctrl-C stop of one publishing pass."""

    def __init__(
        self,
        totals: Mapping[PlatformName, int],
        *,
        show_progress: bool,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self._totals = dict(totals)
        self._show = show_progress
        self._write = write or _to_stderr
        # Set from the signal handler, read by whichever thread confirms a post.
        self._stop = threading.Event()

    @property
    def stop_requested(self) -> bool:
        """Whether Ctrl-C was pressed once (publishing stops after the current post)."""
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop after the post being sent (what the first Ctrl-C does)."""
        self._stop.set()

    def on_confirm(self, ref: PostRef) -> None:
        """The engine's `on_confirm`: announce the post, then stop if asked to."""
        if self._show:
            total = self._totals.get(ref.platform)
            where = f"{ref.index}/{total}" if total else str(ref.index)
            self._write(f"  {ref.platform} {where} {ref.url}")
        if self._stop.is_set():
            raise PublishStopped(ref.platform)

    def opener(self, open_publisher: OpenPublisher) -> OpenPublisher:
        """`open_publisher`, refusing once a stop was asked: each attempt on a network
        starts by opening its publisher, so no network begins after Ctrl-C."""
        from threadpost.publish import account_opener

        def open_unless_stopped(platform: PlatformName, *, account: str | None = None) -> Publisher:
            if self._stop.is_set():
                raise PublishStopped(None)
            return account_opener(open_publisher, account)(platform)

        return open_unless_stopped

    @contextlib.contextmanager
    def ctrl_c_stops_between_posts(self) -> Iterator[None]:
        """While the block runs, the first SIGINT asks for a stop between posts and the
        second raises KeyboardInterrupt at once. Outside the main thread, Ctrl-C keeps its
        usual meaning (signal handlers can only be set there)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if self._stop.is_set():
                raise KeyboardInterrupt
            self._stop.set()
            self._write(
                "Stopping after the post being sent is confirmed "
                "(press Ctrl-C again to stop at once)…"
            )

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def look_up_in_doubt(
    ledger: Ledger, thread_id: str, platform: PlatformName, open_publisher: OpenPublisher
) -> None:
    """After a stop in the middle of a network's send: its later posts are still marked
    for sending (on Bluesky a whole atomic write may have landed with them). Look them up
    now, as the next attempt would, so that what is reported is what is online."""
    from threadpost.publish import PlatformEngine, account_opener

    record = next(p for p in ledger.platforms(thread_id) if p.platform == platform)
    opener = account_opener(open_publisher, record.account)
    engine = PlatformEngine(
        ledger,
        record,
        opener,
        clock=utc_now,
        max_attempts=record.attempts + 1,
        on_confirm=lambda ref: None,
    )
    engine.reconcile(opener(platform))


def resume_command(draft: Path) -> str:
    """The exact command that resumes the thread of `draft` (global options included)."""
    import shlex  # (a publish that stopped or is left to `run` only)

    words = ["threadpost"]
    if state.config_path is not None:
        words += ["--config", str(state.config_path)]
    if state.db_path is not None:
        words += ["--db", str(state.db_path)]
    words += ["publish", str(draft), "--yes"]
    return shlex.join(words)


def stopped_summary(ledger: Ledger, thread_id: str) -> dict[str, Any]:
    """What the ledger holds of a stopped thread, per network (JSON-able)."""
    platforms: dict[str, Any] = {}
    for record in ledger.platforms(thread_id):
        posts = ledger.posts(thread_id, record.platform)
        confirmed = [p for p in posts if p.state == "confirmed"]
        platforms[record.platform] = {
            "published": len(confirmed),
            "total": len(posts),
            "urls": [p.url for p in confirmed if p.url],
            "in_doubt": sum(1 for p in posts if p.state == "sending"),
        }
    return {"thread": thread_id, "state": "incomplete", "interrupted": True, "platforms": platforms}


def stopped_lines(summary: Mapping[str, Any], draft: Path) -> list[str]:
    """The message after a stop: what was confirmed where, and how to go on (or not)."""
    thread_id = summary["thread"]
    lines = [f"Stopped: thread {thread_id} is incomplete."]
    for platform, info in summary["platforms"].items():
        line = f"  {platform}: {info['published']} of {counted(info['total'], 'post')} confirmed"
        if info["urls"]:
            line += f", the last at {info['urls'][-1]}"
        lines.append(line)
        if info["in_doubt"]:
            lines.append(
                f"    {counted(info['in_doubt'], 'post')} may have landed; resuming looks "
                "for them first, so none is posted twice"
            )
    lines.append(f"Resume with: {resume_command(draft)}")
    lines.append(
        f"(`threadpost run`, if cron runs it, resumes it too; `threadpost cancel {thread_id}` "
        "stops it for good.)"
    )
    return lines
