"""The steps the publishing commands share (publish, schedule, run, cancel, delete, and
edit in cli/editing.py): read and check a draft, open the ledger and the publishers, hold a
thread's lease, publish and report. No typer here: a plain `publish` runs without the
command line being built (cli/fast_publish.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpost.cli.output import echo, print_json
from threadpost.clock import iso_local, local_or_now
from threadpost.errors import UsageError
from threadpost.refusal import refuse_errors

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.lease import Lease
    from threadpost.platforms.base import Publisher
    from threadpost.publish import PublishResult
    from threadpost.retry import RetryPolicy
    from threadpost.status_view import ThreadList, ThreadStatus
    from threadpost.store import Ledger
    from threadpost.values import PlatformName, PostRef, Severity


def _ledger(settings: Settings) -> Ledger:
    from threadpost.store import open_ledger

    return open_ledger(settings.db_path)


def _opener(settings: Settings) -> Any:
    """Opens each network's publisher once (through `platforms.open_publisher`), for the
    default account or a named one (`account=`; `settings` as loaded, not resolved)."""
    import threadpost.platforms as platforms
    from threadpost.accounts import account_settings

    opened: dict[tuple[str, str | None], Publisher] = {}

    def open_publisher(platform: PlatformName, *, account: str | None = None) -> Publisher:
        if (platform, account) not in opened:
            chosen = account_settings(settings, account, [platform], where="the thread's account")
            opened[platform, account] = platforms.open_publisher(platform, chosen)
        return opened[platform, account]

    return open_publisher


def _policy(settings: Settings) -> RetryPolicy:
    from threadpost.retry import RetryPolicy

    def on_retry(error: BaseException, seconds: float) -> None:
        # Both networks publish at once: say whose call is retried.
        platform = getattr(error, "platform", None)
        where = f"{platform}: " if platform else ""
        echo(f"  {where}{error} — retrying in {seconds:.0f} s", err=True)

    return RetryPolicy.from_settings(settings, on_retry=on_retry)


# The clock's formats, not status_view's re-exports: `run` with nothing due prints them
# without importing the status views (and with them the scheduler, leases, hashlib).
def _local(moment: datetime | None, settings: Settings) -> str:
    return local_or_now(moment, settings.timezone)


def _logged(message: str, *, settings: Settings, err: bool = False) -> None:
    """A line of `run`'s output, which cron appends to a log: it starts with the local time,
    e.g. "[2026-12-03 09:00:02 CET] Thread 3f2a91c0: published"."""
    now = datetime.now(settings.timezone)
    echo(f"[{now:%Y-%m-%d %H:%M:%S %Z}] {message}", err=err)


def _iso_local(moment: datetime | None, settings: Settings) -> str | None:
    return iso_local(moment, settings.timezone)


def _checked(
    draft_path: Path,
    settings: Settings,
    platforms: list[PlatformName] | None,
    offline: bool,
    *,
    broken_links: Severity = "error",
    continuation: Any = None,
) -> Any:
    """Read, plan and check the draft; refuse it (nothing recorded) when it has errors."""
    from threadpost.check import check_draft

    report = check_draft(
        draft_path,
        settings,
        platforms,
        offline=offline,
        broken_links=broken_links,
        continuation=continuation,
    )
    refuse_errors({draft_path: report.problems})
    for problem in report.problems:
        echo(f"Warning: {problem.where() or 'draft'}: {problem.message}", err=True)
    return report


def _print_result(
    result: PublishResult, settings: Settings, say: Callable[..., None] = echo
) -> None:
    """Each network's outcome, through `say` (`run` passes one that timestamps lines)."""
    for outcome in result.outcomes:
        first = outcome.refs[0].url if outcome.refs else ""
        say(
            f"{outcome.platform}: {outcome.status}, {outcome.published}/{outcome.total} posts "
            f"{first}".rstrip()
        )
        for warning in outcome.warnings:
            say(f"Warning: {outcome.platform} {warning}", err=True)
        if outcome.error:
            say(f"  {outcome.error}", err=True)
        if outcome.hint:
            say(f"  Hint: {outcome.hint}", err=True)
        if outcome.status == "incomplete" and outcome.next_retry_at:
            say(
                f"  threadpost run resumes it from {_local(outcome.next_retry_at, settings)}",
                err=True,
            )


def _print_view(view: ThreadList | ThreadStatus, as_json: bool) -> None:
    if as_json:
        print_json(view.to_json())
        return
    for line in view.lines():
        echo(line)


@contextlib.contextmanager
def _thread_lease(
    ledger: Ledger, thread_id: str, settings: Settings, doing: str
) -> Iterator[Lease]:
    """Hold the thread's lease for the block, or refuse while another process publishes it:
    `publish`, `cancel` and `delete` must never change a thread under a running publisher
    (which would overwrite a cancel with its own final state, or resend deleted posts)."""
    from threadpost.lease import lease_duration, thread_lease

    with thread_lease(ledger, thread_id, ttl=lease_duration(settings), doing=doing) as lease:
        yield lease


def _publish_now(
    ledger: Ledger,
    thread_id: str,
    settings: Settings,
    open_publisher: Any = None,
    on_confirm: Callable[[PostRef], None] | None = None,
) -> PublishResult:
    from threadpost.clock import utc_now
    from threadpost.draft_refresh import refresh_from_draft
    from threadpost.publish import publish_thread

    with _thread_lease(ledger, thread_id, settings, "publish") as lease:
        for warning in refresh_from_draft(ledger, thread_id, settings, now=utc_now()).warnings:
            echo(f"Warning: {warning}", err=True)
        return publish_thread(
            ledger,
            thread_id,
            open_publisher or _opener(settings),
            max_attempts=settings.max_attempts,
            policy=_policy(settings),
            lease=lease,
            on_confirm=on_confirm,
        )


def _report_stopped(
    ledger: Ledger,
    thread_id: str,
    draft: Path,
    settings: Settings,
    stop: KeyboardInterrupt,
    open_publisher: Any,
    *,
    as_json: bool = False,
) -> None:
    """After Ctrl-C: settle what may have landed, then say what is online and how to resume."""
    from threadpost.cli.publish_watch import (
        PublishStopped,
        look_up_in_doubt,
        stopped_lines,
        stopped_summary,
    )

    if isinstance(stop, PublishStopped):
        # Every network with posts in doubt, not only the one that stopped: the networks
        # publish at once, so Bluesky's atomic write may have landed while Mastodon stopped.
        # A second Ctrl-C skips the look-up: the next attempt makes it anyway.
        in_doubt = [
            name
            for name, info in stopped_summary(ledger, thread_id)["platforms"].items()
            if info["in_doubt"]
        ]
        if in_doubt:
            with (
                contextlib.suppress(KeyboardInterrupt),
                _thread_lease(ledger, thread_id, settings, "publish"),
            ):
                for name in in_doubt:
                    look_up_in_doubt(ledger, thread_id, name, open_publisher)
    summary = stopped_summary(ledger, thread_id)
    if as_json:
        print_json(summary)
    for line in stopped_lines(summary, draft):
        echo(line, err=True)


def _with_reply_parents(checked: Any, settings: Settings) -> Any:
    """The checked plans with the posts they reply to found now (`reply_parents`): a
    scheduled reply is refused today, not failed at its time, when its parent is missing.
    Only a draft that replies to a post logs in here."""
    if all(thread.reply_to is None for thread in checked.threads.values()):
        return checked.threads
    from threadpost.publish import Publishers
    from threadpost.reply_parents import find_reply_parents

    with Publishers(_opener(settings)) as open_publisher:
        return find_reply_parents(checked.draft, checked.threads, open_publisher)


def _continuation(
    draft: Path, settings: Settings, platforms: list[PlatformName] | None, thread: str | None
) -> Any:
    """`--continue ID`: per network, the thread the draft goes on under (None without it);
    the networks it cannot continue on are named."""
    if thread is None:
        return None
    from threadpost.continuation import continuation_of
    from threadpost.draft import read_draft

    front = read_draft(draft).front
    if front.reply_to is not None or front.reply_to_networks:
        line = front.lines.get("reply_to")
        raise UsageError(
            f"{draft}{f':{line}' if line else ''}: the draft replies to a post (reply_to) "
            "and --continue names a thread: a thread replies to one post; drop one of them"
        )
    with _ledger(settings) as ledger:
        continued = continuation_of(ledger, thread, platforms or list(front.platforms))
    for platform, reason in continued.skipped.items():
        echo(f"Warning: not continued on {platform}: {reason}", err=True)
    return continued.by_network


def _continued_account(settings: Settings, thread: str | None) -> str | None:
    """The account of the thread `--continue` names: its continuation goes on as it, unless
    `--account` or the draft says otherwise."""
    if thread is None:
        return None
    with _ledger(settings) as ledger:
        thread_id = ledger.resolve_id(thread)
        return next((p.account for p in ledger.platforms(thread_id)), None)


def _cancel_unfinished(ledger: Ledger, thread_id: str, settings: Settings) -> None:
    from threadpost.publish import cancel_thread

    with _thread_lease(ledger, thread_id, settings, "cancel"):
        cancel_thread(ledger, thread_id)
