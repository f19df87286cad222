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
