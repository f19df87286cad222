"""Before a thread replying to a post is frozen: find that post on each network.

Each network's publisher looks the parent up (`Publisher.find_reply_parent`: Mastodon by
its address or id, Bluesky by reading its record, root and CID) and the found identity is
frozen in the plan, so that every retry sends the same reply references. A parent that
no network finds is a validation error naming the draft line (exit 3): nothing is
recorded, nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from threadpost.platforms.rules import rules_for
from threadpost.refusal import refuse_errors
from threadpost.values import Problem

if TYPE_CHECKING:
    from threadpost.draft import Draft
    from threadpost.plan import Continuation
    from threadpost.platforms.base import Publisher
    from threadpost.thread import Thread
    from threadpost.values import PlatformName


def find_reply_parents(
    draft: Draft,
    plans: Mapping[PlatformName, Thread],
    open_publisher: Callable[[PlatformName], Publisher],
) -> dict[PlatformName, Thread]:
    """`plans` with each network's reply parent found (plans that reply to nothing are
    returned as they are); `ValidationFailed` when a parent does not exist."""
    found: dict[PlatformName, Thread] = {}
    problems: list[Problem] = []
    for platform, thread in plans.items():
        target = thread.reply_to
        if target is None:
            found[platform] = thread
            continue
        parent = open_publisher(platform).find_reply_parent(target)
        if parent is None:
            network = rules_for(platform).name
            problems.append(
                Problem(
                    "error",
                    "reply-parent-missing",
                    f"{target.where}: {target.address} is no post {network} can find "
                    "(deleted, not public, or a wrong address)",
                    platform,
                    line=target.line,
                )
            )
            continue
        found[platform] = replace(thread, reply_to=parent)
    refuse_errors({draft.path: problems})
    return found


def frozen_continuation(
    frozen: Mapping[PlatformName, Thread],
) -> dict[PlatformName, Continuation] | None:
    """The continuation the frozen plans were made with (None: they continue nothing), to
    re-plan an edited draft as it was planned: under the same post, numbered on the same."""
    from threadpost.plan import Continuation

    targets = {platform: plan.reply_to for platform, plan in frozen.items()}
    if not any(t is not None and t.continues is not None for t in targets.values()):
        return None
    return {
        platform: Continuation(target, target.earlier_posts)
        for platform, target in targets.items()
        if target is not None
    }


def keep_found_parents(
    draft: Draft, frozen: Mapping[PlatformName, Thread], plans: Mapping[PlatformName, Thread]
) -> tuple[dict[PlatformName, Thread], list[Problem]]:
    """Re-made `plans` of an edited draft with the parents found when it was frozen: the same
    `reply_to` address keeps what was found; a new one was never looked up, which is an
    error naming its line (the thread must be scheduled again to find it)."""
    kept: dict[PlatformName, Thread] = {}
    problems: list[Problem] = []
    for platform, plan in plans.items():
        target = plan.reply_to
        before = frozen[platform].reply_to if platform in frozen else None
        if target is None or target.continues is not None:
            kept[platform] = plan  # no parent, or a continuation's (carried over, found)
        elif before is not None and before.address == target.address:
            kept[platform] = replace(plan, reply_to=replace(before, line=target.line))
        else:
            kept[platform] = plan
            was = f" ({before.address})" if before is not None else ""
            problems.append(
                Problem(
                    "error",
                    "reply-parent-changed",
                    f"{target.where}: {target.address} is not the post this thread was "
                    f"scheduled to reply to{was}, and it was not looked up; schedule "
                    f"{draft.path} again to find it",
                    platform,
                    line=target.line,
                )
            )
    return kept, problems
