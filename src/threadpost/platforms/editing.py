"""Which networks can edit a published post in place, and what each knows about it.

Mastodon edits statuses (`platforms/mastodon/edits.py`); Bluesky has none
(`platforms/bluesky/edits.py` says why). Light: the Mastodon module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from threadpost.plan import PlannedPost, Thread
    from threadpost.values import PlatformName, PostRef


class EditingPublisher(Protocol):
    """A publisher that can edit its published posts."""

    def edit(
        self, ref: PostRef, thread: Thread, post: PlannedPost, changes: Sequence[str] = ()
    ) -> str | None:
        """Edit `ref` to carry `post` (`changes`: what differs, in the editor's words); the
        network's edited-at time, if it gives one."""
        ...


@dataclass(frozen=True)
class PostEditor:
    """A network's knowledge of edits (pure functions over planned posts)."""

    #: What a post carries there, as one hash (equal: no edit needed).
    fingerprint: Callable[[Thread, PlannedPost], str]
    #: What an edit from (old thread, old post) to (new thread, new post) changes, in words.
    changed_fields: Callable[[Thread, PlannedPost, Thread, PlannedPost], list[str]]
    #: Why that edit cannot be made (None: it can).
    refusal: Callable[[Thread, PlannedPost, Thread, PlannedPost], str | None]
    #: Thread-wide settings (old thread, new thread) an edit changes on every post beyond
    #: its content, in words (Mastodon's quote policy), and a note when the network cannot.
    setting_changes: Callable[[Thread, Thread], tuple[list[str], str | None]] = lambda old, new: (
        [],
        None,
    )


def editor_for(platform: PlatformName) -> PostEditor | None:
    """The network's editor; None for a network without edits."""
    if platform == "mastodon":
        from threadpost.platforms.mastodon import edits, quote_policy_edits

        return PostEditor(
            edits.edit_fingerprint,
            edits.edited_fields,
            edits.edit_refusal,
            quote_policy_edits.setting_changes,
        )
    return None


def why_no_edits(platform: PlatformName) -> str:
    """What to tell someone editing a thread on a network without edits."""
    if platform == "bluesky":
        from threadpost.platforms.bluesky.edits import NO_EDITS

        return NO_EDITS
    return f"{platform} has no edits; its posts stay as published"
