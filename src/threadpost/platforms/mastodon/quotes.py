"""Quote posts on Mastodon, pure: whether an instance can make them, the link that stands
in where it cannot, and what `check` says about either.

Mastodon 4.5 quotes a status with `quoted_status_id` on POST /api/v1/statuses; an instance
announces it with `api_versions.mastodon` ≥ 7 in /api/v2/instance (`instance.py` reads it
into `PlatformLimits.quote_posts`). The draft names the quoted post by its web address (the
`> quote <address>` line); the publisher turns it into a status id on the author's own
instance with GET /api/v2/search?resolve=true before anything is sent
(`MastodonPublisher._resolve_quotes`). An instance that cannot quote gets the address as
a link at the end of the post instead, with a `check` warning, so the quote never silently
disappears. Offline the instance is unknown: planning assumes no quotes (the link), and
says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from threadpost.values import PlatformLimits, Problem

if TYPE_CHECKING:
    from threadpost.draft import DraftPost, FrontMatter
    from threadpost.thread import PlannedPost, Thread

#: The `api_versions.mastodon` from which an instance takes `quoted_status_id` (4.5).
QUOTES_API_VERSION: Final = 7
#: Hosts whose post addresses are no ActivityPub statuses, so no instance can quote them
#: (a thread cross-posted to both networks may quote a Bluesky post): linked instead.
UNQUOTABLE_HOSTS: Final = frozenset({"bsky.app", "www.bsky.app"})


def is_web_address(address: str) -> bool:
    """True for an http(s) address: the only kind a Mastodon instance can look up or link."""
    return address.lower().startswith(("https://", "http://"))


def quotes_natively(address: str, limits: PlatformLimits) -> bool:
    """Whether a status quoting `address` is sent with `quoted_status_id`: the instance
    makes quote posts and the address can name a status (a web address, not Bluesky's)."""
    if not limits.quote_posts or not is_web_address(address):
        return False
    return (urlsplit(address).hostname or "").lower() not in UNQUOTABLE_HOSTS


def quote_link(post: DraftPost, limits: PlatformLimits) -> str | None:
    """The address to append to `post`'s text when it is not quoted natively (None: it
    is, the post quotes nothing, or the address is no web address, which `check`
    refuses). An address already in the text is not repeated."""
    quote = post.quote
    if quote is None or not is_web_address(quote) or quotes_natively(quote, limits):
        return None
    return None if quote in post.text else quote


def quote_permission(status: Mapping[str, Any]) -> str:
    """How the quoted status's policy applies to this account: its Status entity's
    `quote_approval.current_user` (4.5: automatic, manual, denied, unknown). A value
    Mastodon may add later, or none at all (an older instance), counts as unknown."""
    approval = status.get("quote_approval")
    current = approval.get("current_user") if isinstance(approval, Mapping) else None
    return current if current in ("automatic", "manual", "denied") else "unknown"


def quote_denied(status: Mapping[str, Any]) -> bool:
    """True when the instance would refuse the quote (422): checked before anything is sent."""
    return quote_permission(status) == "denied"


def quoted_status_param(thread: Thread, quote: str | None) -> str | None:
    """The dry run's `quoted_status_id`: a placeholder for the id the publisher resolves."""
    if quote is None or not quotes_natively(quote, thread.limits):
        return None
    return f"<id of {quote}>"


def quote_problems(thread: Thread) -> list[Problem]:
    """An error for a quote Mastodon cannot look up (no web address: an at:// URI); a
    warning for each quote sent as a link because the instance cannot quote (or, offline,
    is not known to)."""
    limits = thread.limits
    found: list[Problem] = []
    for post in thread.posts:
        if post.quote is None:
            continue
        line = post.quote_line or post.source_line
        if not is_web_address(post.quote):
            found.append(
                Problem(
                    "error",
                    "quote-not-mastodon",
                    f"post {post.index} quotes {post.quote}, which is no web address: "
                    "Mastodon quotes (or links) a post by its https:// address",
                    "mastodon",
                    post.index,
                    line,
                )
            )
        elif not quotes_natively(post.quote, limits):
            if limits.quote_posts:
                why = "that is a Bluesky post, which no Mastodon instance can quote"
            elif limits.source != "default":
                why = (
                    "the instance cannot make quote posts (it needs Mastodon 4.5: "
                    f"api_versions.mastodon ≥ {QUOTES_API_VERSION})"
                )
            else:
                why = "offline, the instance is not known to make quote posts"
            found.append(
                Problem(
                    "warning",
                    "quote-as-link",
                    f"post {post.index} quotes {post.quote}, but {why}: the address is "
                    "added to the post's text as a link instead",
                    "mastodon",
                    post.index,
                    line,
                )
            )
    return found


def policy_problems(thread: Thread, front: FrontMatter) -> list[Problem]:
    """Warnings where `mastodon_quotes` will not do what it says: an instance older than
    4.5 ignores `quote_approval_policy`, and Mastodon forces "nobody" on private and
    direct statuses (no warning when the author asked for nobody anyway)."""
    policy = thread.quote_policy
    if policy is None:
        return []
    line = front.lines.get("mastodon_quotes")
    found: list[Problem] = []
    if not thread.limits.quote_posts and thread.limits.source != "default":
        found.append(
            Problem(
                "warning",
                "quote-policy-unsupported",
                f'mastodon_quotes = "{policy}" is not supported by this instance (quote '
                f"policies need Mastodon 4.5: api_versions.mastodon ≥ {QUOTES_API_VERSION}): "
                "it ignores the setting, so the account's default applies",
                "mastodon",
                None,
                line,
            )
        )
    narrow = sorted(
        {thread.visibility, thread.reply_visibility} & {"private", "direct"},
        key=("private", "direct").index,
    )
    if narrow and policy != "nobody":
        found.append(
            Problem(
                "warning",
                "quote-policy-forced",
                f'mastodon_quotes = "{policy}", but Mastodon lets nobody quote a '
                f'{" or ".join(narrow)} status: those statuses get "nobody"',
                "mastodon",
                None,
                line,
            )
        )
    return found


def posted_quote_state(status: Mapping[str, Any]) -> str | None:
    """The state of the quote in a status the instance just created (4.5's
    `quote.state`: accepted, pending, rejected, revoked, deleted, unauthorized, …); None
    when the status quotes nothing or the instance does not say."""
    quote = status.get("quote")
    state = quote.get("state") if isinstance(quote, Mapping) else None
    return str(state) if state else None


def quote_state_warning(index: int, address: str, state: str) -> Problem | None:
    """What the ledger keeps about a quote the instance did not accept at once, as an
    adapter warning coded `quote-<state>` (which `status` reads back as the post's quote
    state); None for an accepted quote."""
    if state == "accepted":
        return None
    if state == "pending":
        message = (
            f"post {index} quotes {address}, whose author reviews quotes by hand: the quote "
            "stays pending until they approve it"
        )
    else:
        message = (
            f"post {index} quotes {address}, but the instance shows the quote as {state}: "
            "the quoted post is not shown in it"
        )
    return Problem("warning", f"quote-{state}", message, "mastodon", index)


#: A status's web address on its own instance: /@user/123 (what people share), or the
#: ActivityPub id /users/user/statuses/123.
_LOCAL_STATUS_PATH: Final = re.compile(r"/(?:@[^/]+|users/[^/]+/statuses)/(\d+)/?")


def local_status_id(address: str, instance: str) -> str | None:
    """The status id in `address` when it names a status of `instance` itself (read with
    one GET /api/v1/statuses/:id, no federated search); None for any other address."""
    if not is_web_address(address) or not is_web_address(instance):
        return None
    where, home = urlsplit(address), urlsplit(instance)
    if (where.hostname or "").lower() != (home.hostname or "").lower() or where.port != home.port:
        return None
    match = _LOCAL_STATUS_PATH.fullmatch(where.path)
    return match.group(1) if match else None


def denied_quote_problem(post: PlannedPost, address: str) -> Problem:
    """`check`'s error for a quote the quoted author's policy denies this account."""
    return Problem(
        "error",
        "quote-denied",
        f"post {post.index} quotes {address}, but its author's quote policy does not let "
        "this account quote it: Mastodon would refuse the post",
        "mastodon",
        post.index,
        post.quote_line or post.source_line,
    )
