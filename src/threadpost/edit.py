"""Editing a published thread in place: `threadpost edit ID`.

The thread's draft is read, planned and checked again; each network's new plan is compared
post by post with what the ledger says is online (the frozen plan, and the edits recorded
since). On a network that edits (Mastodon) the changed posts are edited in place, one at a
time, each edit recorded in the ledger the moment the network accepts it; once all are,
the network's frozen plan becomes the new one. On a network without edits (Bluesky)
nothing is sent and the result says what differs there.

Refused before anything is sent (nothing edited anywhere): a thread that is not fully
published on an editing network, a new plan with a different number of posts there (an
edit changes posts, it cannot add or remove one), and a changed post that an edit cannot
carry (`PostEditor.refusal`: e.g. a changed visibility or image).

Idempotent: a post whose recorded fingerprint matches the new plan's is not sent, so a
second `edit` sends nothing, and one interrupted half way sends only what is left.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from threadpost.clock import Clock, utc_now
from threadpost.errors import StoreError, ValidationFailed
from threadpost.platforms.editing import EditingPublisher, editor_for, why_no_edits

if TYPE_CHECKING:
    from threadpost.plan import PlannedPost, Thread
    from threadpost.retry import RetryPolicy
    from threadpost.store import Ledger, ThreadRecord
    from threadpost.values import PlatformName, PostRef


@dataclass(frozen=True)
class PostEdit:
    """One published post to edit."""

    platform: PlatformName
    index: int
    ref: PostRef
    old_text: str
    new_text: str
    #: What changes, in words ("text", "content warning", "alt text", …).
    fields: tuple[str, ...]
    fingerprint: str

    def to_json(self) -> dict[str, object]:
        """The edit as JSON-able data."""
        return {
            "platform": self.platform,
            "post": self.index,
            "url": self.ref.url,
            "changes": list(self.fields),
            "old_text": self.old_text,
            "text": self.new_text,
        }


@dataclass(frozen=True)
class EditPlan:
    """What `edit` would do to a thread."""

    thread_id: str
    content_hash: str
    edits: tuple[PostEdit, ...]
    #: The new plan of each editing network, frozen once all its edits are made.
    plans: Mapping[PlatformName, Thread]
    #: Per network without edits: how many of its posts differ from the draft.
    not_editable: Mapping[PlatformName, int]
    #: What an editing network cannot change that the draft asks for (said, not sent).
    unchanged_settings: tuple[str, ...] = ()

    def notes(self) -> list[str]:
        """What is said about the networks without edits, and settings left unchanged."""
        lines = list(self.unchanged_settings)
        for platform, differing in self.not_editable.items():
            what = f"{differing} post(s) differ from the draft" if differing else "unchanged"
            lines.append(f"{platform}: {what}; {why_no_edits(platform)}")
        return lines


def plan_edit(
    ledger: Ledger, thread_id: str, plans: Mapping[PlatformName, Thread], content_hash: str
) -> EditPlan:
    """Compare the thread's published posts with the draft's new `plans` (one per network of
    the thread); raise (nothing sent) what an edit cannot do."""
    record = ledger.thread(thread_id)
    if record.state not in ("published", "failed"):
        raise StoreError(
            f"thread {thread_id} is {record.state}; only a published thread can be edited",
            hint="threadpost run finishes an unfinished thread"
            if record.state in ("scheduled", "incomplete")
            else None,
        )
    states = {p.platform: p.state for p in ledger.platforms(thread_id)}
    edits: list[PostEdit] = []
    editable: dict[PlatformName, Thread] = {}
    not_editable: dict[PlatformName, int] = {}
    unchanged_settings: list[str] = []
    for platform in record.platforms:
        new = plans[platform]
        old = ledger.plan(thread_id, platform)
        editor = editor_for(platform)
        if editor is None:
            not_editable[platform] = _differing(old, new)
            continue
        if states.get(platform) != "published":
            raise StoreError(
                f"thread {thread_id} is {states.get(platform, 'not')} on {platform}; "
                "only posts of a fully published thread can be edited"
            )
        if len(new.posts) != len(old.posts):
            raise ValidationFailed(
                f"thread {thread_id}: the draft now makes {len(new.posts)} post(s) on "
                f"{platform} where {len(old.posts)} were published; an edit changes posts in "
                "place and cannot add or remove any (nothing was edited)",
                hint="to change the number of posts, delete the thread "
                f"(threadpost delete {thread_id}) and publish the draft again with --again",
            )
        recorded = {e.index: e.fingerprint for e in ledger.edits(thread_id, platform)}
        refs = {p.index: p.ref for p in ledger.posts(thread_id, platform)}
        refusals: list[str] = []
        settings, unchanged = editor.setting_changes(old, new)
        if unchanged is not None:
            unchanged_settings.append(unchanged)
        for old_post, new_post in zip(old.posts, new.posts, strict=True):
            online = recorded.get(old_post.index) or editor.fingerprint(old, old_post)
            wanted = editor.fingerprint(new, new_post)
            if online == wanted:
                if settings:
                    ref = refs.get(new_post.index)
                    if ref is None:
                        raise StoreError(
                            f"thread {thread_id} has no published post {new_post.index} "
                            f"on {platform}"
                        )
                    edits.append(
                        PostEdit(
                            platform=platform,
                            index=new_post.index,
                            ref=ref,
                            old_text=old_post.text,
                            new_text=new_post.text,
                            fields=tuple(settings),
                            fingerprint=wanted,
                        )
                    )
                continue
            why = editor.refusal(old, old_post, new, new_post)
            if why is not None:
                refusals.append(f"{platform} post {new_post.index}: {why}")
                continue
            ref = refs.get(new_post.index)
            if ref is None:
                raise StoreError(
                    f"thread {thread_id} has no published post {new_post.index} on {platform}"
                )
            fields = (editor.changed_fields(old, old_post, new, new_post) or ["text"]) + settings
            edits.append(
                PostEdit(
                    platform=platform,
                    index=new_post.index,
                    ref=ref,
                    old_text=old_post.text,
                    new_text=new_post.text,
                    fields=tuple(fields),
                    fingerprint=wanted,
                )
            )
        if refusals:
            raise ValidationFailed(
                "; ".join(refusals) + " (nothing was edited)",
                hint="undo that change in the draft, or delete the thread and publish again",
            )
        editable[platform] = new
    return EditPlan(
        thread_id, content_hash, tuple(edits), editable, not_editable, tuple(unchanged_settings)
    )


def _differing(old: Thread, new: Thread) -> int:
    """How many posts differ in text or images (a different count: every post after the
    shorter plan's end differs too)."""

    def shown(post: PlannedPost) -> tuple[str, list[tuple[str, str]]]:
        return post.text, [(str(image.path), image.alt) for image in post.images]

    changed = sum(1 for a, b in zip(old.posts, new.posts, strict=False) if shown(a) != shown(b))
    return changed + abs(len(old.posts) - len(new.posts))


def apply_edit(
    ledger: Ledger,
    plan: EditPlan,
    open_publisher: Callable[[PlatformName], object],
    *,
    clock: Clock = utc_now,
    policy: RetryPolicy | None = None,
    on_edit: Callable[[PostEdit], None] | None = None,
) -> list[PostEdit]:
    """Make the plan's edits, in order, each recorded once the network accepts it; then
    freeze each editing network's new plan. A transient failure is retried by `policy`
    (sending the same edit again is harmless: it sets the same content); a failure that
    remains stops there: what was edited is recorded, and running `edit` again sends only
    the rest."""
    from threadpost.retry import RetryPolicy, call_with_retries

    policy = policy or RetryPolicy(clock=clock)
    done: list[PostEdit] = []
    for edit in plan.edits:
        publisher = cast(EditingPublisher, open_publisher(edit.platform))
        thread = plan.plans[edit.platform]
        post = thread.posts[edit.index - 1]
        edited_at = call_with_retries(
            functools.partial(publisher.edit, edit.ref, thread, post, edit.fields), policy
        )
        ledger.record_edit(
            plan.thread_id,
            edit.platform,
            edit.index,
            remote_id=edit.ref.remote_id,
            fingerprint=edit.fingerprint,
            text=edit.new_text,
            now=clock(),
            remote_edited_at=edited_at,
        )
        done.append(edit)
        if on_edit is not None:
            on_edit(edit)
    for platform, thread in plan.plans.items():
        ledger.replace_edited_plan(plan.thread_id, platform, thread, content_hash=plan.content_hash)
    return done


def edit_offer(record: ThreadRecord) -> str:
    """What `publish` says of a published thread whose draft changed since: the edit
    command, where one of its networks edits ("" where none does)."""
    editing = [p for p in record.platforms if editor_for(p) is not None]
    if not editing:
        return ""
    others = [p for p in record.platforms if p not in editing]
    without = f"; {', '.join(others)}: no edits there" if others else ""
    return (
        f"its text changed since: `threadpost edit {record.id}` edits the changed posts in "
        f"place (on {', '.join(editing)}{without}), or "
    )
