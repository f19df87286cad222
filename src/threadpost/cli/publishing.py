"""Commands: publish, schedule, queue, cancel, status, run, cron, delete.

`run` is started by cron every few minutes: with nothing due it opens the ledger with
plain sqlite3 and exits, importing neither the adapters (atproto, Mastodon.py, httpx) nor
tenacity nor rich. Everything heavier is imported inside the branch that needs it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from threadpost.cli.app import (
    AccountOption,
    JsonOption,
    OfflineOption,
    PlatformOption,
    app,
    counted,
    echo,
    platforms_option,
    print_json,
    state,
)
from threadpost.cli.publish_steps import (
    _checked,
    _iso_local,
    _ledger,
    _local,
    _logged,
    _opener,
    _policy,
    _print_result,
    _print_view,
    _thread_lease,
    _with_reply_parents,
)
from threadpost.cli.terminal import ask_yes_no
from threadpost.errors import UsageError

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.retime import Retiming
    from threadpost.status_view import ThreadList, ThreadStatus
    from threadpost.store import Ledger
    from threadpost.values import PlatformName

# -- commands ------------------------------------------------------------------------------


@app.command()
def publish(
    draft: Annotated[Path, typer.Argument(help="The draft file.")],
    platform: PlatformOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Publish a draft that was already published (or whose posts are already "
            "online from another draft).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show exactly what would be sent; send nothing.")
    ] = False,
    offline: OfflineOption = False,
    allow_broken_links: Annotated[
        bool,
        typer.Option(
            "--allow-broken-links",
            help="Publish even if a link answers 404 or its host does not exist (a warning).",
        ),
    ] = False,
    no_resume: Annotated[
        bool,
        typer.Option(
            "--no-resume",
            help="If publishing cannot finish now, cancel the thread instead of leaving it "
            "for `threadpost run` (cron) to resume; posts already online stay.",
        ),
    ] = False,
    account: AccountOption = None,
    as_json: JsonOption = False,
    continue_id: Annotated[
        str | None,
        typer.Option(
            "--continue",
            metavar="ID",
            help="Append the posts under the last post of thread ID (a unique prefix), "
            "on each network it was published to; numbering goes on from its count.",
        ),
    ] = None,
) -> None:
    """Publish a draft now, as a reply chain on each of its networks.

    A dead link (404, no such host) is an error unless --allow-broken-links is given.
    What cannot be finished now (a network down, a rate limit) is left incomplete, and
    `threadpost run` (cron) resumes it; `--no-resume` cancels it instead."""
    from threadpost.cli.publish_command import PublishOptions, publish_draft

    publish_draft(
        PublishOptions(
            draft=draft,
            platform=platform,
            yes=yes,
            again=again,
            dry_run=dry_run,
            offline=offline,
            allow_broken_links=allow_broken_links,
            no_resume=no_resume,
            account=account,
            as_json=as_json,
            continue_id=continue_id,
        )
    )


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
        bool,
        typer.Option(
            "--again",
            help="Schedule a draft that was already published (or whose posts are already "
            "online from another draft).",
        ),
    ] = False,
    offline: OfflineOption = False,
    account: AccountOption = None,
    as_json: JsonOption = False,
) -> None:
    """Schedule a draft for `threadpost run` (cron) to publish at a given time."""
    from threadpost.accounts import draft_account
    from threadpost.clock import utc_now
    from threadpost.cron_readiness import require_cron_logins
    from threadpost.draft import read_draft
    from threadpost.publish import Freeze, freeze_thread
    from threadpost.retime import draft_schedule_text, file_identity
    from threadpost.schedule import parse_when, resolve_schedule

    # Before the file is read: an edit after this is noticed by `run` (retime.py).
    seen = file_identity(draft)
    account, settings = draft_account(state.settings(), draft, account, platforms_option(platform))
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
    # A dead link must not make a scheduled thread miss its time: a warning here, and
    # checked again when `run` publishes it.
    checked = _checked(draft, settings, platforms_option(platform), offline, broken_links="warning")
    require_cron_logins(
        checked.threads,
        config_path=state.config_path,
        db_path=state.db_path,
        environ=os.environ,
        account=account,
    )
    plans = _with_reply_parents(checked, settings)
    with _ledger(settings) as ledger:
        frozen = freeze_thread(
            ledger,
            checked.draft,
            plans,
            schedule_at=when,
            now=now,
            again=again,
            account=account,
        )
        if frozen.action != Freeze.RESUMED:
            # What the draft's schedule is now: a later edit of it re-times the thread. (A
            # draft schedule that names no real time, with --at, is simply not followed.)
            with contextlib.suppress(UsageError):
                written = draft_schedule_text(checked.draft.front.schedule, settings.timezone)
                ledger.record_draft_schedule(frozen.thread_id, written, seen)
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


def _follow_draft_schedules(ledger: Ledger, settings: Settings) -> None:
    """`queue` and `status` re-time a thread whose draft's schedule changed (retime.py)
    before they show it; the view says so. A schedule that cannot be read is a warning."""
    from threadpost.clock import utc_now
    from threadpost.retime import follow_draft_schedules

    for retiming in follow_draft_schedules(ledger, settings.timezone, utc_now()):
        if retiming.kind == "unreadable":
            echo(f"Warning: {retiming.message}", err=True)


@app.command()
def queue(as_json: JsonOption = False) -> None:
    """Scheduled and in-progress threads, with their time, networks and state."""
    from threadpost.status_view import queue_view

    settings = state.settings()
    with _ledger(settings) as ledger:
        _follow_draft_schedules(ledger, settings)
        view = queue_view(ledger, settings.timezone)
    _print_view(view, as_json)


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
            f"{counted(published, 'post')} already published "
            f"{'stays' if published == 1 else 'stay'} online; "
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
    from threadpost.status_view import ledger_view, thread_status

    settings = state.settings()
    with _ledger(settings) as ledger:
        _follow_draft_schedules(ledger, settings)
        if thread is None:
            view: ThreadList | ThreadStatus = ledger_view(ledger, settings.timezone)
        else:
            view = thread_status(ledger, thread, settings.timezone)
    _print_view(view, as_json)


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
    from threadpost.retime import follow_draft_schedules

    settings = state.settings()
    with _ledger(settings) as ledger:
        # First, so that a draft whose schedule was moved earlier is due in this run.
        retimed = follow_draft_schedules(ledger, settings.timezone, utc_now())
        if not as_json:
            for retiming in retimed:
                _logged(retiming.message[:1].upper() + retiming.message[1:], settings=settings)
        if not ledger.due_thread_ids(utc_now()):
            # The cheap path: no publishing machinery imported.
            waiting, next_due = ledger.next_due()
            if as_json:
                print_json(
                    {
                        "items": [],
                        "waiting": waiting,
                        "next_due": _iso_local(next_due, settings),
                        **_retimed_json(retimed),
                    }
                )
            elif not verbose:
                pass
            elif waiting:
                _logged(
                    f"Nothing due; {waiting} waiting, next at {_local(next_due, settings)}.",
                    settings=settings,
                )
            else:
                _logged("Nothing due.", settings=settings)
            return
        from threadpost.schedule import run_due

        report = run_due(ledger, settings, _opener(settings), policy=_policy(settings))
    if as_json:
        print_json(
            {
                "items": [item.to_json() for item in report.items],
                "waiting": report.waiting,
                "next_due": _iso_local(report.next_due, settings),
                **_retimed_json(retimed),
            }
        )
    else:
        say = functools.partial(_logged, settings=settings)
        for item in report.items:
            for warning in (item.warning, *item.draft_warnings):
                if warning:
                    say(f"Warning: {warning}", err=True)
            say(
                f"Thread {item.thread_id}: {item.action}"
                + (f" — {item.message}" if item.message and item.action in ("busy", "gone") else "")
            )
            if item.result is not None:
                _print_result(item.result, settings, say)
            elif item.message and item.action in ("skipped", "failed"):
                say(f"  {item.message}", err=True)
    raise typer.Exit(int(report.exit_status))


def _retimed_json(retimed: list[Retiming]) -> dict[str, object]:
    """`run --json`'s "retimed" (the threads this run re-timed), only when there are some:
    the object of a run with nothing to do stays as it was."""
    return {"retimed": [retiming.to_json() for retiming in retimed]} if retimed else {}


def _waiting_accounts(settings: Settings) -> dict[str | None, dict[PlatformName, int]]:
    """The accounts queued threads publish with (none without a ledger: none is made)."""
    if not settings.db_path.exists():
        return {}
    with _ledger(settings) as ledger:
        return ledger.waiting_accounts()


@app.command()
def cron(
    every: Annotated[int, typer.Option("--every", help="Minutes between runs.", min=1, max=59)] = 5,
) -> None:
    """Print a crontab line (and a systemd timer alternative) that runs `threadpost run`,
    and whether that job will be able to log in to each network."""
    import shlex
    import shutil

    from threadpost.config import cron_environment
    from threadpost.cron_readiness import cron_logins, named_account_readiness
    from threadpost.values import PLATFORMS

    settings = state.settings()
    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "threadpost" else None
    found = shutil.which("threadpost")
    program = exe or (Path(found).resolve() if found else None)
    command = (
        shlex.quote(str(program)) if program else f"{shlex.quote(sys.executable)} -m threadpost"
    )
    log = (settings.state_dir / "run.log").resolve()
    options = ""
    if state.config_path:
        options += f" --config {shlex.quote(str(state.config_path.resolve()))}"
    if state.db_path:
        options += f" --db {shlex.quote(str(state.db_path.resolve()))}"
    # cron starts jobs with an almost empty environment: the non-secret settings this shell
    # has in THREADPOST_* variables go into the line itself.
    carried = " ".join(f"{k}={shlex.quote(v)}" for k, v in cron_environment(os.environ).items())
    job = f"{carried + ' ' if carried else ''}{command}{options} run"
    logins = cron_logins(
        PLATFORMS, config_path=state.config_path, db_path=state.db_path, environ=os.environ
    )
    named = named_account_readiness(
        {
            name: [p for p in PLATFORMS if getattr(account, p) is not None]
            for name, account in settings.accounts.items()
        },
        _waiting_accounts(settings),
        config_path=state.config_path,
        db_path=state.db_path,
        environ=os.environ,
    )
    echo("# Logins a cron job will have (it does not see this shell's secrets):")
    for login in logins:
        echo(f"#   {login.platform}: {'ok, ' if login.ready else 'NO: '}{login.explanation}")
    for account in named:
        if account.problem is not None:
            echo(f"#   account {account.account}: NO: {account.problem}")
        for login in account.logins:
            verdict = "ok, " if login.ready else "NO: "
            echo(f"#   {login.platform} (account {account.account}): {verdict}{login.explanation}")
    echo("")
    echo("# crontab -e, then add:")
    # In a crontab line an unescaped % ends the command.
    echo(f"*/{every} * * * * {job} >> {shlex.quote(str(log))} 2>&1".replace("%", "\\%"))
    echo("")
    echo("# Or with systemd (user units): ~/.config/systemd/user/threadpost.service")
    echo("[Unit]\nDescription=Publish due threadpost threads\n")
    environment = "".join(f"Environment={k}={v}\n" for k, v in cron_environment(os.environ).items())
    echo(f"[Service]\nType=oneshot\n{environment}ExecStart={command}{options} run\n")
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
        where = ", ".join(chosen or ledger.thread(thread_id).platforms)
        # As publish's prompt: a "no" is a choice (exit 0), no terminal is a usage error.
        if not yes and not ask_yes_no(f"Delete thread {thread_id}'s posts from {where}?"):
            echo("Not confirmed: nothing was deleted.", err=True)
            raise typer.Exit(0)
        with _thread_lease(ledger, thread_id, settings, "delete"):
            deleted = delete_thread(ledger, thread_id, _opener(settings), platforms=chosen)
    for name, count in deleted.items():
        echo(f"{name}: deleted {counted(count, 'post')}")
