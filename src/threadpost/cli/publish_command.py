"""`threadpost publish`: the command itself, without typer.

`publish_draft` is the command's whole work, given its options (`PublishOptions`). The typer
command (cli/publishing.py) parses argv into them, and so does `plain_publish`
(cli/fast_publish.py) for the plain lines it recognises, which then run without the command
line being built at all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from threadpost.cli.output import (
    counted,
    echo,
    platforms_option,
    print_json,
    state,
    stdout_console,
)
from threadpost.cli.publish_steps import (
    _cancel_unfinished,
    _checked,
    _continuation,
    _continued_account,
    _ledger,
    _opener,
    _print_result,
    _publish_now,
    _report_stopped,
)
from threadpost.cli.publish_watch import PublishWatch
from threadpost.cli.terminal import ask_yes_no, stderr_is_terminal
from threadpost.errors import ExitStatus


@dataclass(frozen=True)
class PublishOptions:
    """`publish`'s argument and options, as its --help names them."""

    draft: Path
    #: --platform values as given (validated by `platforms_option`); None: not given.
    platform: list[str] | None = None
    yes: bool = False
    again: bool = False
    dry_run: bool = False
    offline: bool = False
    allow_broken_links: bool = False
    no_resume: bool = False
    account: str | None = None
    as_json: bool = False
    #: --continue ID
    continue_id: str | None = None


def publish_draft(options: PublishOptions) -> NoReturn:
    """Publish a draft now (see the command's help), then exit with the outcome's status."""
    from threadpost.accounts import draft_account
    from threadpost.clock import utc_now
    from threadpost.publish import (
        Publishers,
        account_opener,
        freeze_thread,
        refuse_conflicts,
        verify_accounts,
    )
    from threadpost.reply_parents import find_reply_parents

    draft, account, as_json = options.draft, options.account, options.as_json
    loaded = state.settings()
    platforms = platforms_option(options.platform)
    # (The ledger is the same whatever the account: the continued thread is found first.)
    continuation = _continuation(draft, loaded, platforms, options.continue_id)
    account, settings = draft_account(
        loaded, draft, account, platforms, fallback=_continued_account(loaded, options.continue_id)
    )
    if options.dry_run:
        from threadpost import dryrun

        report = dryrun.dry_run(
            draft, settings, platforms, offline=options.offline, continuation=continuation
        )
        if as_json:
            print_json(report)
        else:
            # Soft wrap: long JSON lines are left whole for the terminal to wrap, so what
            # is copied from it is the payload itself.
            stdout_console().print(dryrun.render(report), soft_wrap=True)
        sys.exit(0 if report.get("ok", True) else int(ExitStatus.VALIDATION_FAILED))

    checked = _checked(
        draft,
        settings,
        platforms,
        options.offline,
        broken_links="warning" if options.allow_broken_links else "error",
        continuation=continuation,
    )
    with _ledger(settings) as ledger:
        refuse_conflicts(ledger, checked.draft, again=options.again, plans=checked.threads)
        summary = ", ".join(
            f"{p} {counted(len(t.posts), 'post')}" for p, t in checked.threads.items()
        )
        if not options.yes and not ask_yes_no(f"Publish {draft} now ({summary})?"):
            echo("Not confirmed: nothing was sent.", err=True)
            sys.exit(0)
        with Publishers(_opener(loaded)) as open_publisher:
            verify_accounts(account_opener(open_publisher, account), list(checked.threads))
            # The post a thread replies to must exist before anything is recorded or sent.
            plans = find_reply_parents(
                checked.draft, checked.threads, account_opener(open_publisher, account)
            )
            frozen = freeze_thread(
                ledger,
                checked.draft,
                plans,
                schedule_at=None,
                now=utc_now(),
                again=options.again,
                account=account,
            )
            if frozen.message:
                echo(frozen.message, err=True)
            watch = PublishWatch(
                {p.platform: p.total for p in ledger.platforms(frozen.thread_id)},
                show_progress=not as_json and stderr_is_terminal(),
            )
            try:
                with watch.ctrl_c_stops_between_posts():
                    result = _publish_now(
                        ledger,
                        frozen.thread_id,
                        settings,
                        watch.opener(open_publisher),
                        on_confirm=watch.on_confirm,
                    )
            except KeyboardInterrupt as stop:
                _report_stopped(
                    ledger, frozen.thread_id, draft, settings, stop, open_publisher, as_json=as_json
                )
                sys.exit(int(ExitStatus.INTERRUPTED))
    unfinished = result.exit_status == ExitStatus.PUBLISH_INCOMPLETE
    if unfinished and options.no_resume:
        with _ledger(settings) as ledger:
            _cancel_unfinished(ledger, result.thread_id, settings)
    if as_json:
        data = result.to_json()
        if unfinished:
            data["resumed_by_run"] = not options.no_resume
            data["state"] = "cancelled" if options.no_resume else data["state"]
        print_json(data)
    else:
        shown = "cancelled" if unfinished and options.no_resume else result.state
        echo(f"Thread {result.thread_id}: {shown}")
        _print_result(result, settings)
    if unfinished and options.no_resume:
        echo(
            f"Not resumed (--no-resume): thread {result.thread_id} is cancelled, so "
            "`threadpost run` leaves it alone. Posts already online stay; "
            f"`threadpost delete {result.thread_id}` removes them.",
            err=True,
        )
        sys.exit(int(ExitStatus.ERROR))
    if unfinished:
        from threadpost.cli.publish_watch import resume_command

        echo(
            "It is not given up: `threadpost run` (the cron job `threadpost cron` sets up) "
            f"resumes it at that time, or resume it yourself: {resume_command(draft)}. "
            f"To stop it instead: threadpost cancel {result.thread_id}.",
            err=True,
        )
    sys.exit(int(result.exit_status))
