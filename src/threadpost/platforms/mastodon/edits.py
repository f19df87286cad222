"""Editing published statuses in place (Mastodon 3.5+, PUT /api/v1/statuses/:id).

What an edit can change: the text, the content warning (spoiler_text), `sensitive`, the
language and the attachments' alt text. What it cannot, and threadpost refuses to try: the
visibility (Mastodon has no way to change it), the images themselves (adding, removing or
replacing one would drop the alt text and focus the instance keeps, and a changed file is
not something an edit of the draft's text should upload), a poll (editing one resets its
votes) and a quoted post. An edit sends `media_ids` with the status's current attachments,
since Mastodon drops every attachment an edit does not list, and `media_attributes` with
each one's alt text (PUT /api/v1/media/:id re-describes only media not yet attached).

`edit_fingerprint` and `edit_refusal` are pure; `edit_status` talks to the instance through
the publisher's choke point.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Final

from threadpost.errors import PermanentError
from threadpost.platforms.mastodon.http import PLATFORM
from threadpost.platforms.mastodon.statuses import status_params

if TYPE_CHECKING:
    from threadpost.platforms.mastodon.http import MastodonHttp
    from threadpost.thread import PlannedPost, Thread
    from threadpost.values import PostRef

#: Version of the fingerprint recipe: changing the recipe must change the version.
_FINGERPRINT_RECIPE: Final = "threadpost-mastodon-edit-v1"
#: The status parameters an edit sends, with the words a person reads for each.
EDITABLE: Final = {
    "status": "text",
    "spoiler_text": "content warning",
    "sensitive": "sensitive media",
    "language": "language",
    "media": "alt text",
}


def edit_fingerprint(thread: Thread, post: PlannedPost) -> str:
    """What post `post` of `thread` carries on Mastodon, as one hash: two plans of a post
    with the same fingerprint need no edit between them."""
    params = status_params(thread, post)
    params.pop("in_reply_to_id")  # a placeholder: the chain never changes
    # Not an edit of the status (PUT /api/v1/statuses/:id takes no policy; it has its own
    # PUT .../interaction_policy, see quote_policy_edits.py), and kept out so that
    # fingerprints recorded before mastodon_quotes existed still match.
    params.pop("quote_approval_policy", None)
    content = json.dumps(params, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(f"{_FINGERPRINT_RECIPE}\x1f{content}".encode()).hexdigest()


def edited_fields(
    old_thread: Thread, old: PlannedPost, new_thread: Thread, new: PlannedPost
) -> list[str]:
    """What an edit from `old` to `new` changes, in words ("text", "alt text", …)."""
    before, after = status_params(old_thread, old), status_params(new_thread, new)
    return [label for name, label in EDITABLE.items() if before[name] != after[name]]


def edit_refusal(
    old_thread: Thread, old: PlannedPost, new_thread: Thread, new: PlannedPost
) -> str | None:
    """Why post `new` cannot replace the published `old` by an edit; None when it can."""
    before, after = status_params(old_thread, old), status_params(new_thread, new)
    if before["visibility"] != after["visibility"]:
        return (
            f"its visibility would change from {before['visibility']} to "
            f"{after['visibility']}, which Mastodon cannot edit"
        )
    if [str(i.path) for i in old.images] != [str(i.path) for i in new.images]:
        return "its images changed (an edit keeps the images published; only alt text changes)"
    if before["poll"] is not None or after["poll"] is not None:
        return "it has a poll, and editing a poll on Mastodon resets its votes"
    if before["quoted_status_id"] != after["quoted_status_id"] or old.quote != new.quote:
        return "its quoted post changed, which an edit cannot change"
    return None


def edit_body(thread: Thread, post: PlannedPost, media_ids: list[str]) -> dict[str, Any]:
    """The JSON body of the PUT: the post's editable parameters, the status's attachments
    kept (`media_ids`, in order) and re-described (`media_attributes`)."""
    params = status_params(thread, post)
    body: dict[str, Any] = {
        "status": params["status"],
        "spoiler_text": params["spoiler_text"] or "",
        "sensitive": bool(params["sensitive"]),
        "media_ids": media_ids,
        "media_attributes": [
            {"id": media_id, "description": media["description"] or ""}
            for media_id, media in zip(media_ids, params["media"], strict=True)
        ],
    }
    if params["language"]:
        body["language"] = params["language"]
    return body


def edit_status(
    http: MastodonHttp, client: Any, ref: PostRef, thread: Thread, post: PlannedPost
) -> dict[str, Any]:
    """Edit the published status `ref` to carry `post`; the instance's answer (the status).

    The status is read first (GET /api/v1/statuses/:id) for the ids of its attachments,
    which the edit keeps; a status whose attachments no longer match the plan's images is
    refused rather than edited into something else."""
    gone = f"post {post.index} (status {ref.remote_id}) no longer exists on {http.instance}"
    current = http.call(
        f"reading post {post.index} (status {ref.remote_id})",
        lambda: client.status(ref.remote_id),
        post=post.index,
        not_found=gone,
        expect="id",
    )
    attachments = list(current.get("media_attachments") or [])
    if len(attachments) != len(post.images):
        raise PermanentError(
            f"post {post.index} (status {ref.remote_id}) has {len(attachments)} image(s) on "
            f"{http.instance} but the draft has {len(post.images)}; not edited",
            platform=PLATFORM,
            post=post.index,
        )
    body = edit_body(thread, post, [str(media["id"]) for media in attachments])
    # Mastodon.py's status_update sends no `language`, and with both media_ids and
    # media_attributes it fails before sending: the edit goes as plain JSON, on the same
    # session and through the same error rules.
    answer: dict[str, Any] = http.request_json(
        f"editing post {post.index} (status {ref.remote_id})",
        "PUT",
        f"/api/v1/statuses/{ref.remote_id}",
        body,
        access_token=str(client.access_token),
        post=post.index,
        write=True,
        not_found=gone,
        expect="id",
    )
    return answer
