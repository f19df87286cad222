"""Command: edit (a published thread's changed posts, in place where the network edits)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from threadpost.cli.app import JsonOption, OfflineOption, app, echo, print_json, state
from threadpost.cli.publish_steps import _checked, _ledger, _opener, _policy, _thread_lease
from threadpost.errors import StoreError, ThreadpostError

if TYPE_CHECKING:
    from threadpost.edit import EditPlan, PostEdit


@app.command()
def edit(
    thread: Annotated[str, typer.Argument(help="Thread id (a unique prefix is enough).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the edits that would be made; send nothing.")
    ] = False,
    offline: OfflineOption = False,
    as_json: JsonOption = False,
) -> None:
    """Edit a published thread after its draft changed: the changed posts are edited in
    place on Mastodon (media and alt text kept); Bluesky has no edits and is left as it is.

    The draft must still make as many posts per network as were published (adding or
    removing posts is refused). Running it again sends nothing."""
    from threadpost.accounts import account_settings
    from threadpost.check import plan_draft
    from threadpost.edit import apply_edit, plan_edit
    from threadpost.platforms.editing import editor_for
    from threadpost.publish import Publishers, account_opener

    loaded = state.settings()
    with _ledger(loaded) as ledger:
        thread_id = ledger.resolve_id(thread)
        record = ledger.thread(thread_id)
        # Edited as the account that published it, whatever the draft says now.
        account = next((p.account for p in ledger.platforms(thread_id)), None)
        settings = account_settings(loaded, account, record.platforms, where="the thread's account")
        draft_path = Path(record.draft_path)
        if not draft_path.is_file():
            raise StoreError(
                f"thread {thread_id}'s draft {draft_path} no longer exists; nothing to edit from"
            )
        editable = [p for p in record.platforms if editor_for(p) is not None]
        others = [p for p in record.platforms if p not in editable]
        # Checked for the networks that will be edited; the others are only planned, to
        # say what differs there.
        checked = _checked(draft_path, settings, editable or None, offline) if editable else None
        draft = checked.draft if checked is not None else None
        if draft is None:
            from threadpost.draft import read_draft

            draft = read_draft(draft_path)
        plans = dict(checked.threads) if checked is not None else {}
        plans.update(plan_draft(draft, settings, others, offline=True) if others else {})
        plan = plan_edit(ledger, thread_id, plans, draft.content_hash)
        if dry_run or not plan.edits:
            _print_plan(plan, as_json, dry_run=dry_run)
            return
        if not yes:
            summary = ", ".join(f"{e.platform} post {e.index}" for e in plan.edits)
            try:
                confirmed = typer.confirm(
                    f"Edit thread {thread_id} ({summary}) in place now?", default=False
                )
            except typer.Abort:
                confirmed = False
            if not confirmed:
                raise ThreadpostError("not confirmed; nothing was edited", hint="pass --yes")
        with (
            _thread_lease(ledger, thread_id, settings, "edit"),
            Publishers(_opener(loaded)) as open_publisher,
        ):
            done = apply_edit(
                ledger,
                plan,
                account_opener(open_publisher, account),
                policy=_policy(settings),
                on_edit=None if as_json else lambda e: echo(_edited_line(e)),
            )
    if as_json:
        print_json(_plan_json(plan, "edited", [e.index for e in done]))
        return
    for note in plan.notes():
        echo(note, err=True)


def _edited_line(edit: PostEdit, *, would: bool = False) -> str:
    verb = "would edit" if would else "edited"
    return f"{edit.platform} post {edit.index}: {verb} ({', '.join(edit.fields)}) {edit.ref.url}"


def _plan_json(plan: EditPlan, status: str, done: list[int] | None = None) -> dict[str, object]:
    return {
        "thread": plan.thread_id,
        "status": status,
        "edits": [
            {**e.to_json(), "edited": done is not None and e.index in done} for e in plan.edits
        ],
        "not_editable": dict(plan.not_editable),
        "notes": plan.notes(),
    }


def _print_plan(plan: EditPlan, as_json: bool, *, dry_run: bool) -> None:
    status = "dry-run" if dry_run and plan.edits else "unchanged"
    if as_json:
        print_json(_plan_json(plan, status))
        return
    if not plan.edits:
        echo(f"Thread {plan.thread_id}: nothing to edit (the published posts match the draft).")
    for edit in plan.edits:
        echo(_edited_line(edit, would=True))
        echo(f"  was: {edit.old_text}")
        echo(f"  now: {edit.new_text}")
    for note in plan.notes():
        echo(note, err=True)
    if dry_run and plan.edits:
        echo("Dry run: nothing was sent.")
