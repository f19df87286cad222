"""Commands: publish, schedule, queue, cancel, status, run, cron, delete.

`run` is started by cron every few minutes: with nothing due it opens the ledger with
plain sqlite3 and exits, importing neither the adapters (atproto, Mastodon.py, httpx) nor
tenacity nor rich. Everything heavier is imported inside the branch that needs it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from threadpost.cli.app import (
    JsonOption,
    OfflineOption,
    PlatformOption,
    app,
    echo,
    platforms_option,
    print_json,
    state,
)
from threadpost.errors import ExitStatus, ThreadpostError, UsageError
from threadpost.refusal import refuse_errors

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.lease import Lease
    from threadpost.platforms.base import Publisher
    from threadpost.publish import PublishResult
    from threadpost.retry import RetryPolicy
    from threadpost.store import Ledger, ThreadRecord
    from threadpost.values import PlatformName

# -- helpers -------------------------------------------------------------------------------


def _ledger(settings: Settings) -> Ledger:
    from threadpost.store import open_ledger

    return open_ledger(settings.db_path)


def _opener(settings: Settings) -> Any:
    """Opens each network's publisher once (through `platforms.open_publisher`)."""
    import threadpost.platforms as platforms

    opened: dict[str, Publisher] = {}

    def open_publisher(platform: PlatformName) -> Publisher:
        if platform not in opened:
            opened[platform] = platforms.open_publisher(platform, settings)
        return opened[platform]

    return open_publisher


def _policy(settings: Settings) -> RetryPolicy:
    from threadpost.retry import RetryPolicy

    def on_retry(error: BaseException, seconds: float) -> None:
        # Both networks publish at once: say whose call is retried.
        platform = getattr(error, "platform", None)
        where = f"{platform}: " if platform else ""
        echo(f"  {where}{error} — retrying in {seconds:.0f} s", err=True)

    return RetryPolicy.from_settings(settings, on_retry=on_retry)


def _local(moment: datetime | None, settings: Settings) -> str:
    from threadpost.schedule import local_time

    return "now" if moment is None else local_time(moment, settings.timezone)


def _iso_local(moment: datetime | None, settings: Settings) -> str | None:
    return moment.astimezone(settings.timezone).isoformat() if moment else None


def _checked(
    draft_path: Path, settings: Settings, platforms: list[PlatformName] | None, offline: bool
) -> Any:
    """Read, plan and check the draft; refuse it (nothing recorded) when it has errors."""
    from threadpost.check import check_draft

    report = check_draft(draft_path, settings, platforms, offline=offline)
    refuse_errors({draft_path: report.problems})
    for problem in report.problems:
        echo(f"Warning: {problem.where() or 'draft'}: {problem.message}", err=True)
    return report


def _print_result(result: PublishResult, settings: Settings) -> None:
    for outcome in result.outcomes:
        first = outcome.refs[0].url if outcome.refs else ""
        echo(
            f"{outcome.platform}: {outcome.status}, {outcome.published}/{outcome.total} posts "
            f"{first}".rstrip()
        )
        for warning in outcome.warnings:
            echo(f"Warning: {outcome.platform} {warning}", err=True)
        if outcome.error:
            echo(f"  {outcome.error}", err=True)
        if outcome.hint:
            echo(f"  Hint: {outcome.hint}", err=True)
        if outcome.status == "incomplete" and outcome.next_retry_at:
            echo(
                f"  threadpost run resumes it from {_local(outcome.next_retry_at, settings)}",
                err=True,
            )


def _thread_json(
    ledger: Ledger, record: ThreadRecord, settings: Settings, *, posts: bool
) -> dict[str, Any]:
    platforms: dict[str, Any] = {}
    for platform in ledger.platforms(record.id):
        planned = ledger.posts(record.id, platform.platform)
        entry: dict[str, Any] = {
            "state": platform.state,
            "published": sum(1 for p in planned if p.state == "confirmed"),
            "total": platform.total,
            "attempts": platform.attempts,
            "next_retry": _iso_local(platform.next_retry_at, settings),
            "last_error": platform.last_error,
        }
        if posts:
            entry["warnings"] = [
                {"post": w.post, "code": w.code, "message": w.message}
                for w in ledger.warnings(record.id, platform.platform)
            ]
            entry["posts"] = [
                {"index": p.index, "state": p.state, "url": p.url, "remote_id": p.remote_id}
                for p in planned
            ]
        platforms[platform.platform] = entry
    return {
        "id": record.id,
        "draft": record.draft_path,
        "title": record.title,
        "state": record.state,
        "schedule": _iso_local(record.schedule_at, settings),
        "schedule_utc": record.schedule_at.isoformat() if record.schedule_at else None,
        "last_error": record.last_error,
        "platforms": platforms,
    }


def _warning_text(warning: dict[str, Any]) -> str:
    post, message = warning["post"], str(warning["message"])
    if post is None:
        return message
    return f"post {post}: " + message.removeprefix(f"post {post}: ")


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
    ledger: Ledger, thread_id: str, settings: Settings, open_publisher: Any = None
) -> PublishResult:
    from threadpost.publish import publish_thread

    with _thread_lease(ledger, thread_id, settings, "publish") as lease:
        return publish_thread(
            ledger,
            thread_id,
            open_publisher or _opener(settings),
            max_attempts=settings.max_attempts,
            policy=_policy(settings),
            lease=lease,
        )


# -- commands ------------------------------------------------------------------------------


@app.command()
def publish(
    draft: Annotated[Path, typer.Argument(help="The draft file.")],
    platform: PlatformOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Publish a draft that was already published.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show exactly what would be sent; send nothing.")
    ] = False,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Publish a draft now, as a reply chain on each of its networks."""
    from threadpost.clock import utc_now
    from threadpost.publish import Publishers, freeze_thread, refuse_conflicts, verify_accounts

    settings = state.settings()
    platforms = platforms_option(platform)
    if dry_run:
        from threadpost import dryrun
        from threadpost.cli.authoring import stdout_console

        report = dryrun.dry_run(draft, settings, platforms, offline=offline)
        if as_json:
            print_json(report)
        else:
            stdout_console().print(dryrun.render(report))
        raise typer.Exit(0 if report.get("ok", True) else int(ExitStatus.VALIDATION_FAILED))

    checked = _checked(draft, settings, platforms, offline)
    with _ledger(settings) as ledger:
        refuse_conflicts(ledger, checked.draft, again=again)
        summary = ", ".join(f"{p} {len(t.posts)} posts" for p, t in checked.threads.items())
        if not yes:
            try:
                confirmed = typer.confirm(f"Publish {draft} now ({summary})?", default=False)
            except typer.Abort:
                confirmed = False
            if not confirmed:
                raise ThreadpostError("not confirmed; nothing was sent", hint="pass --yes")
        with Publishers(_opener(settings)) as open_publisher:
            verify_accounts(open_publisher, list(checked.threads))
            frozen = freeze_thread(
                ledger,
                checked.draft,
                checked.threads,
                schedule_at=None,
                now=utc_now(),
                again=again,
            )
            if frozen.message:
                echo(frozen.message, err=True)
            result = _publish_now(ledger, frozen.thread_id, settings, open_publisher)
    if as_json:
        print_json(result.to_json())
    else:
        echo(f"Thread {result.thread_id}: {result.state}")
        _print_result(result, settings)
    raise typer.Exit(int(result.exit_status))


@app.command()
def schedule(
    draft: Annotated[Path, typer.Argument(help="The draft file.")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help='When: "2026-12-01 09:00" (configured timezone), RFC 3339, "+2h", '
            '"tomorrow 09:00". Default: the draft\'s schedule.',
        ),
    ] = None,
    platform: PlatformOption = None,
    again: Annotated[
        bool, typer.Option("--again", help="Schedule a draft that was already published.")
    ] = False,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Schedule a draft for `threadpost run` (cron) to publish at a given time."""
    from threadpost.clock import utc_now
    from threadpost.draft import read_draft
    from threadpost.publish import Freeze, freeze_thread
    from threadpost.schedule import parse_when, resolve_schedule

    settings = state.settings()
    now = utc_now()
    if at is not None:
        when = parse_when(at, now=now, tz=settings.timezone)
    else:
        front = read_draft(draft).front
        if front.schedule is None:
            raise UsageError(
                f"{draft} has no schedule: pass --at WHEN or set schedule in its front matter"
            )
        when = resolve_schedule(front.schedule, settings.timezone)
        if when <= now:
            line = front.lines.get("schedule")
            raise UsageError(
                f"{draft}{f':{line}' if line else ''}: the schedule "
                f"{_local(when, settings)} is in the past; choose a later time"
            )
    checked = _checked(draft, settings, platforms_option(platform), offline)
    with _ledger(settings) as ledger:
        frozen = freeze_thread(
            ledger, checked.draft, checked.threads, schedule_at=when, now=now, again=again
        )
        record = ledger.thread(frozen.thread_id)
    if as_json:
        print_json(
            {
                "id": record.id,
                "action": frozen.action.value,
                "message": frozen.message,
                "schedule": _iso_local(record.schedule_at, settings),
                "platforms": list(record.platforms),
            }
        )
        return
    if frozen.message:
        echo(frozen.message, err=True)
    if frozen.action == Freeze.RESUMED:
        echo(f"Thread {record.id} has begun posting; threadpost run will finish it.")
        return
    echo(
        f"Scheduled thread {record.id} for {_local(record.schedule_at, settings)} "
        f"({', '.join(record.platforms)})."
    )


@app.command()
def queue(as_json: JsonOption = False) -> None:
    """Scheduled and in-progress threads, with their time, networks and state."""
    from threadpost.store import ACTIVE_STATES

    settings = state.settings()
    with _ledger(settings) as ledger:
        records = ledger.threads(ACTIVE_STATES)
        data = [_thread_json(ledger, r, settings, posts=False) for r in records]
    if as_json:
        print_json({"threads": data})
        return
    if not data:
        echo("Nothing scheduled.")
        return
    for record, entry in zip(records, data, strict=True):
        progress = ", ".join(
            f"{p} {v['published']}/{v['total']}" for p, v in entry["platforms"].items()
        )
        echo(
            f"{record.id}  {_local(record.schedule_at, settings):<22} {record.state:<10} "
            f"{progress}  {record.title or record.draft_path}"
        )


@app.command()
def cancel(
    thread: Annotated[str, typer.Argument(help="Thread id (a unique prefix is enough).")],
) -> None:
    """Cancel a scheduled (or unfinished) thread: `run` will not post it."""
    from threadpost.publish import cancel_thread

    settings = state.settings()
    with _ledger(settings) as ledger:
        thread_id = ledger.resolve_id(thread)
        with _thread_lease(ledger, thread_id, settings, "cancel"):
            published = cancel_thread(ledger, thread_id)
    echo(f"Cancelled thread {thread_id}.")
    if published:
        echo(
            f"{published} post(s) already published stay online; "
            f"threadpost delete {thread_id} removes them.",
            err=True,
        )


@app.command()
def status(
    thread: Annotated[
        str | None, typer.Argument(help="Thread id (a unique prefix); all threads if left out.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Per-network progress of a thread and the address of every published post."""
    settings = state.settings()
    with _ledger(settings) as ledger:
        if thread is None:
            records = ledger.threads()
            data = [_thread_json(ledger, r, settings, posts=False) for r in records]
            if as_json:
                print_json({"threads": data})
                return
            if not data:
                echo("The ledger is empty.")
            for record, entry in zip(records, data, strict=True):
                progress = ", ".join(
                    f"{p} {v['published']}/{v['total']}" for p, v in entry["platforms"].items()
                )
                echo(f"{record.id}  {record.state:<10} {progress}  {record.draft_path}")
            return
        record = ledger.thread(ledger.resolve_id(thread))
        entry = _thread_json(ledger, record, settings, posts=True)
    if as_json:
        print_json(entry)
        return
    echo(f"Thread {record.id}: {record.state}  ({record.draft_path})")
    if record.schedule_at:
        echo(f"  scheduled for {_local(record.schedule_at, settings)}")
    if record.last_error:
        echo(f"  {record.last_error}")
    for platform, info in entry["platforms"].items():
        echo(f"{platform}: {info['state']}, {info['published']}/{info['total']} published")
        if info["next_retry"]:
            echo(f"  next retry: {info['next_retry']} (attempt {info['attempts'] + 1})")
        for warning in info["warnings"]:
            echo(f"  warning: {_warning_text(warning)}")
        for post in info["posts"]:
            if post["url"]:
                note = "" if post["state"] == "confirmed" else f" ({post['state']})"
                echo(f"  {post['index']:>3}. {post['url']}{note}")


@app.command()
def run(
    as_json: JsonOption = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Say so when nothing is due (quiet by default)."),
    ] = False,
) -> None:
    """Publish every due thread and resume unfinished ones (the cron entry point).

    With nothing due it prints nothing unless `-v` is given, so that a cron job run every
    few minutes does not fill its log (or mailbox) with "Nothing due".

    Exit status: 0 all well, 4 something remains unfinished (a later run resumes it),
    1 a thread was given up."""
    from threadpost.clock import utc_now

    settings = state.settings()
    with _ledger(settings) as ledger:
        if not ledger.due_thread_ids(utc_now()):
            # The cheap path: no publishing machinery imported.
            waiting, next_due = ledger.next_due()
            if as_json:
                print_json(
                    {"items": [], "waiting": waiting, "next_due": _iso_local(next_due, settings)}
                )
            elif not verbose:
                pass
            elif waiting:
                echo(f"Nothing due; {waiting} waiting, next at {_local(next_due, settings)}.")
            else:
                echo("Nothing due.")
            return
        from threadpost.schedule import run_due

        report = run_due(ledger, settings, _opener(settings), policy=_policy(settings))
    if as_json:
        print_json(
            {
                "items": [item.to_json() for item in report.items],
                "waiting": report.waiting,
                "next_due": _iso_local(report.next_due, settings),
            }
        )
    else:
        for item in report.items:
            if item.warning:
                echo(f"Warning: {item.warning}", err=True)
            echo(
                f"Thread {item.thread_id}: {item.action}"
                + (f" — {item.message}" if item.message and item.action in ("busy", "gone") else "")
            )
            if item.result is not None:
                _print_result(item.result, settings)
            elif item.message and item.action in ("skipped", "failed"):
                echo(f"  {item.message}", err=True)
    raise typer.Exit(int(report.exit_status))


@app.command()
def cron(
    every: Annotated[int, typer.Option("--every", help="Minutes between runs.", min=1, max=59)] = 5,
) -> None:
    """Print a crontab line (and a systemd timer alternative) that runs `threadpost run`."""
    import shutil

    settings = state.settings()
    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "threadpost" else None
    found = shutil.which("threadpost")
    command = str(exe or (Path(found).resolve() if found else f"{sys.executable} -m threadpost"))
    log = (settings.state_dir / "run.log").resolve()
    options = ""
    if state.config_path:
        options += f" --config {state.config_path.resolve()}"
    if state.db_path:
        options += f" --db {state.db_path.resolve()}"
    echo("# crontab -e, then add:")
    echo(f"*/{every} * * * * {command}{options} run >> {log} 2>&1")
    echo("")
    echo("# Or with systemd (user units): ~/.config/systemd/user/threadpost.service")
    echo("[Unit]\nDescription=Publish due threadpost threads\n")
    echo(f"[Service]\nType=oneshot\nExecStart={command}{options} run\n")
    echo("# ~/.config/systemd/user/threadpost.timer")
    echo(f"[Unit]\nDescription=Run threadpost every {every} minutes\n")
    echo(f"[Timer]\nOnCalendar=*:0/{every}\nPersistent=true\n")
    echo("[Install]\nWantedBy=timers.target\n")
    echo("# then: systemctl --user enable --now threadpost.timer")
    echo(f"# (the log directory must exist: mkdir -p {log.parent})")


@app.command()
def delete(
    thread: Annotated[str, typer.Argument(help="Thread id (a unique prefix is enough).")],
    platform: PlatformOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a published thread's posts from the networks."""
    from threadpost.publish import delete_thread

    settings = state.settings()
    with _ledger(settings) as ledger:
        thread_id = ledger.resolve_id(thread)
        chosen = platforms_option(platform)
        if not yes:
            where = ", ".join(chosen or ledger.thread(thread_id).platforms)
            try:
                confirmed = typer.confirm(
                    f"Delete thread {thread_id}'s posts from {where}?", default=False
                )
            except typer.Abort:
                confirmed = False
            if not confirmed:
                raise ThreadpostError("not confirmed; nothing was deleted", hint="pass --yes")
        with _thread_lease(ledger, thread_id, settings, "delete"):
            deleted = delete_thread(ledger, thread_id, _opener(settings), platforms=chosen)
    for name, count in deleted.items():
        echo(f"{name}: deleted {count} post(s)")
