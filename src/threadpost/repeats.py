"""Never twice, for content: the same posts are not published again on a network, whatever
file they come from (a copied or renamed draft, a second import), unless `--again`.

A repeat is per network: posts equal to a thread already online on Mastodon are a repeat
there, and publishing them to Bluesky, where they are not yet, is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from threadpost.errors import ThreadpostError
from threadpost.fingerprint import images_hash, plan_images, thread_fingerprint

if TYPE_CHECKING:
    from threadpost.plan import Thread
    from threadpost.store import EarlierPublication, Ledger
    from threadpost.values import PlatformName


class RepeatRefused(ThreadpostError):
    """The posts are already online on a network (exit 1, like a draft already published)."""


def fingerprints(plans: Mapping[PlatformName, Thread]) -> dict[PlatformName, str]:
    """Each network's fingerprint of its planned posts."""
    return {platform: thread_fingerprint(thread) for platform, thread in plans.items()}


def repeats(
    ledger: Ledger,
    plans: Mapping[PlatformName, Thread],
    *,
    other_than: str | None = None,
    waiting: bool = False,
) -> list[EarlierPublication]:
    """For each network whose planned posts are already online there, the earliest thread
    that put them there; with `waiting`, else the earliest still to publish them there."""
    found: list[EarlierPublication] = []
    for platform, fingerprint in fingerprints(plans).items():
        earlier = ledger.published_with_fingerprint(platform, fingerprint, other_than=other_than)
        if not earlier and waiting:
            earlier = ledger.waiting_with_fingerprint(platform, fingerprint, other_than=other_than)
        if earlier:
            found.append(earlier[0])
    return found


def refuse_repeats(
    ledger: Ledger,
    draft_path: Path,
    plans: Mapping[PlatformName, Thread],
    *,
    again: bool,
    other_than: str | None = None,
    waiting: bool = False,
) -> None:
    """Raise `RepeatRefused` naming the earlier thread and its address when the planned posts
    of a network are already online there (nothing recorded, nothing sent); with `waiting`
    (freezing a draft), also when another thread is still to publish them there. `again`
    allows it."""
    if again:
        return
    found = repeats(ledger, plans, other_than=other_than, waiting=waiting)
    if not found:
        return
    raise RepeatRefused(repeat_message(draft_path, found), hint=repeat_hint(plans, found))


def repeat_message(draft_path: Path | str, found: list[EarlierPublication]) -> str:
    """ "drafts/copy.md: its mastodon posts are already online as thread 3f9a0c12 (from
    drafts/orig.md, https://…); pass --again to publish them once more"."""
    parts = [
        f"its {e.platform} posts are already queued as thread {e.thread_id} (from {e.draft_path})"
        if e.waiting
        else f"its {e.platform} posts are already online as thread {e.thread_id} "
        f"(from {e.draft_path}{', ' + e.url if e.url else ''})"
        for e in found
    ]
    return f"{draft_path}: {'; '.join(parts)}; pass --again to publish them once more"


def repeat_hint(plans: Mapping[PlatformName, Thread], found: list[EarlierPublication]) -> str:
    """Where the thread could still go without repeating itself, or how to see the earlier."""
    repeated = {e.platform for e in found}
    elsewhere = [p for p in plans if p not in repeated]
    if elsewhere:
        options = " ".join(f"--platform {p}" for p in elsewhere)
        return f"{options} publishes it only where it is not online yet"
    if found[0].waiting:
        return f"threadpost cancel {found[0].thread_id} drops the other one"
    return f"threadpost status {found[0].thread_id} shows where it went"


def record_source(
    ledger: Ledger,
    thread_id: str,
    plans: Mapping[PlatformName, Thread],
    *,
    again: bool | None = None,
) -> None:
    """Store what the thread's plans were made from: the images' hash and each network's
    fingerprint (the draft's own hash is the thread's `content_hash`)."""
    ledger.record_source(
        thread_id,
        images_hash=images_hash(plan_images(plans.values())),
        fingerprints=fingerprints(plans),
        again=again,
    )
