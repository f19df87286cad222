"""Has a thread's draft changed since its plan was frozen? What `queue` and `status` say,
and what `draft_refresh` acts on. Light on purpose (standard library and the ledger): the
`run` command's module imports it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from threadpost.fingerprint import images_hash, plan_images

if TYPE_CHECKING:
    from threadpost.store import Ledger, ThreadRecord

#: The draft file as it was when the plan was frozen, changed since, or gone.
DraftState = Literal["unchanged", "changed", "missing"]


def draft_state(ledger: Ledger, record: ThreadRecord) -> DraftState:
    """Whether the thread's draft file (and, where the ledger knows their hash, its images)
    is as it was when the plan was frozen, was changed since, or is gone."""
    path = Path(record.draft_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "changed"  # a folder now, or unreadable: not what was frozen
    if hashlib.sha256(raw).hexdigest() != record.content_hash:
        return "changed"
    frozen_images = ledger.source(record.id).images_hash
    if frozen_images is not None:
        plans = [ledger.plan(record.id, platform) for platform in record.platforms]
        if images_hash(plan_images(plans)) != frozen_images:
            return "changed"
    return "unchanged"


def has_started(ledger: Ledger, record: ThreadRecord) -> bool:
    """True once any post of the thread was handed to a network (its plan is then final)."""
    return any(
        post.state != "planned"
        for platform in record.platforms
        for post in ledger.posts(record.id, platform)
    )


def draft_mark(state: DraftState | None, *, started: bool) -> str:
    """The few words `queue` appends to a thread's line ("" when there is nothing to say).
    Once posting began the frozen plan is sent whatever the file says, so only an edit is
    worth a word then (it will not be used)."""
    if state == "changed":
        return (
            "  (draft changed after posting began)"
            if started
            else "  (draft changed since scheduled)"
        )
    if state == "missing" and not started:
        return "  (draft file gone)"
    return ""


def draft_note(state: DraftState | None, *, started: bool) -> str | None:
    """The line `status THREAD` prints about the draft, if any (see `draft_mark`)."""
    if state == "changed" and started:
        return (
            "the draft changed after posting began: the rest is sent as frozen, so that no "
            "mix of old and new posts is published"
        )
    if state == "changed":
        return "the draft changed since it was scheduled: the edited version will be sent"
    if state == "missing" and not started:
        return "the draft file is gone: the plan frozen when it was scheduled will be sent"
    return None
