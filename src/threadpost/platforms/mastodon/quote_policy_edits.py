"""Changing the quote policy of published statuses (Mastodon 4.5): `threadpost edit` after
the draft's `mastodon_quotes` changed.

A status's quote policy is not part of its content: PUT /api/v1/statuses/:id takes none,
and Mastodon 4.5 sets it with PUT /api/v1/statuses/:id/interaction_policy
(`quote_approval_policy`, scope write:statuses), which answers the Status and leaves no
edit in its history. So the policy is kept out of the edit fingerprint (`edits.py`), and
what is online is the frozen plan's `quote_policy`: once every edit of a network is made
the plan is replaced by the new one, so a second `edit` finds nothing to change.

A draft that drops the key changes nothing online (the statuses keep the policy they have;
Mastodon has no "account default" to go back to). An instance before 4.5 has no such
endpoint: nothing is sent, and `edit` says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from threadpost.platforms.mastodon.quotes import QUOTES_API_VERSION

if TYPE_CHECKING:
    from threadpost.platforms.mastodon.http import MastodonHttp
    from threadpost.thread import Thread
    from threadpost.values import PostRef

#: The words an edit's changes use for the quote policy.
QUOTE_POLICY_FIELD: Final = "quote policy"


def policy_change(old: Thread, new: Thread) -> str | None:
    """The policy to set on every published status of `old` (None: nothing to send)."""
    wanted = new.quote_policy
    if wanted is None or wanted == old.quote_policy or not new.limits.quote_posts:
        return None
    return wanted


def setting_changes(old: Thread, new: Thread) -> tuple[list[str], str | None]:
    """What `edit` changes on every post beyond its content (["quote policy"] or none),
    and a note when the draft asks for a change the instance cannot make."""
    if policy_change(old, new) is not None:
        return [QUOTE_POLICY_FIELD], None
    wanted = new.quote_policy
    if wanted is not None and wanted != old.quote_policy and not new.limits.quote_posts:
        return [], (
            f'mastodon: mastodon_quotes is now "{wanted}", but the instance cannot change a '
            f"status's quote policy (it needs Mastodon 4.5: api_versions.mastodon ≥ "
            f"{QUOTES_API_VERSION}); the published statuses keep theirs"
        )
    return [], None


def update_quote_policy(
    http: MastodonHttp, client: Any, ref: PostRef, policy: str
) -> dict[str, Any]:
    """Set `policy` on the published status `ref`; the instance's answer (the Status).
    Sent as JSON through the publisher's session and error rules, like an edit."""
    gone = f"post {ref.index} (status {ref.remote_id}) no longer exists on {http.instance}"
    answer: dict[str, Any] = http.request_json(
        f"changing the quote policy of post {ref.index} (status {ref.remote_id})",
        "PUT",
        f"/api/v1/statuses/{ref.remote_id}/interaction_policy",
        {"quote_approval_policy": policy},
        access_token=str(client.access_token),
        post=ref.index,
        write=True,
        not_found=gone,
        expect="id",
    )
    return answer
