"""Bluesky has no edits: a post's record can be deleted and written anew, but that is a
new post (new URI, its likes, reposts and replies lost), so `threadpost edit` changes
nothing there and says so."""

from __future__ import annotations

from typing import Final

#: Why `threadpost edit` leaves Bluesky as it is, for the person reading its output.
NO_EDITS: Final = (
    "Bluesky has no edits; its posts stay as published (deleting and posting again would "
    "lose their replies, likes and reposts, so threadpost never does it by itself)"
)
