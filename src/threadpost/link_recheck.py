"""A scheduled thread's links, followed again when `run` starts publishing it.

At `schedule` a dead link is only a warning, so that a link going down (or not up yet)
does not make a thread miss its time. When the thread's time comes its links are followed
again: what is dead then is published anyway, and said in `run`'s output and recorded as
the network's warning (so `status` shows it). The rule for every command is in README.md
("Links").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpost.check import LinkChecker
    from threadpost.config import Settings
    from threadpost.store import Ledger

#: Networks whose posts are all out (or given up): their links no longer matter.
_FINISHED = ("published", "failed", "deleted")


def recheck_links(
    ledger: Ledger,
    thread_id: str,
    settings: Settings,
    now: datetime,
    *,
    link_checker: LinkChecker | None = None,
) -> str | None:
    """Follow the links of the thread's frozen plans (networks still to publish), record
    what is wrong with them as warnings, and return a sentence about the dead ones (None
    when there are none). Nothing is recorded when no host answered at all: that says
    something about this machine's connection, not about the links."""
    from threadpost.check import links_now

    threads = [
        ledger.plan(thread_id, platform.platform)
        for platform in ledger.platforms(thread_id)
        if platform.state not in _FINISHED
    ]
    problems = links_now(threads, settings, link_checker=link_checker)
    if any(problem.code == "network-unavailable" for problem in problems):
        return None
    for thread in threads:
        own = [problem for problem in problems if problem.platform == thread.platform]
        if own:
            ledger.add_warnings(thread_id, thread.platform, own, now)
    dead = [problem for problem in problems if problem.code == "link-broken"]
    if not dead:
        return None
    listed = "; ".join(f"{problem.where()}: {problem.message}" for problem in dead)
    noun = "link is" if len(dead) == 1 else "links are"
    return f"{len(dead)} {noun} dead now, published anyway: {listed}"
