"""Mastodon: its rules (`rules.py`, pure), its publisher (imports Mastodon.py lazily) and
the instance's own limits (`instance.py`).

This package's functions are the network's I/O entry points for `threadpost.platforms`;
they import what they need when called, so importing the package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpost.config import Settings
    from threadpost.linkcheck import HandleResult
    from threadpost.platforms.base import Publisher
    from threadpost.thread import Thread
    from threadpost.values import PlatformLimits, Problem


def open_publisher(settings: Settings) -> Publisher:
    """A publisher for the configured account (raises AuthFailed without a token)."""
    from threadpost.platforms.mastodon.publisher import MastodonPublisher

    return MastodonPublisher(settings)


def read_limits(settings: Settings, *, offline: bool) -> PlatformLimits:
    """The instance's own limits: from the instance, its day-old cache, or the defaults."""
    from threadpost.platforms.mastodon.instance import instance_limits

    return instance_limits(settings, offline=offline)


def resolve_handles(handles: list[str], settings: Settings) -> dict[str, HandleResult]:
    """Nothing to ask: the instance resolves mentions itself when a status is posted."""
    return {}


def quote_problems(thread: Thread, settings: Settings) -> list[Problem]:
    """`check` online: an error for each quote the quoted author's policy denies this
    account, where the instance can tell at once (a status of the account's own instance;
    another instance's post would need a federated search, left to publishing, which
    refuses it before anything is sent). Without a login, or when the instance cannot be
    asked, nothing is said here: publishing checks again."""
    from threadpost.errors import ThreadpostError
    from threadpost.platforms.mastodon.publisher import MastodonPublisher
    from threadpost.platforms.mastodon.quotes import denied_quote_problem, quotes_natively

    quoting = [
        post
        for post in thread.posts
        if post.quote is not None and quotes_natively(post.quote, thread.limits)
    ]
    if not quoting:
        return []
    found: list[Problem] = []
    try:
        publisher = MastodonPublisher(settings)
    except ThreadpostError:
        return []  # no login to ask with
    try:
        for post in quoting:
            address = str(post.quote)
            if publisher.quote_permission_of(address) == "denied":
                found.append(denied_quote_problem(post, address))
    except ThreadpostError:
        return found  # unreachable or refused: publishing looks again before sending
    finally:
        publisher.close()
    return found
