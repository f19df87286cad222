"""Bluesky self-labels: the values an author may put on their own posts, and the record
field that carries them. Pure, imports nothing (the draft parser checks values with it).

A self-label is how Bluesky marks content that Mastodon hides behind a content warning or a
sensitive-media flag: the app blurs (or hides, as each reader chooses) a labelled post's
media. The lexicon (`com.atproto.label.defs#selfLabels`) allows up to 10 values of up to
128 characters; the app offers these four, the ones its moderation settings understand
(so a thread's labels, without repeats, always fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

#: The self-labels the Bluesky app lets an author choose (adult content and graphic media).
SELF_LABELS: Final = ("graphic-media", "nudity", "sexual", "porn")
#: The label of media marked sensitive (Mastodon's `sensitive`) when the author chose none.
SENSITIVE_MEDIA_LABEL: Final = "graphic-media"
#: The `$type` of the record's `labels` union member.
SELF_LABELS_TYPE: Final = "com.atproto.label.defs#selfLabels"


def self_labels_field(values: Sequence[str]) -> dict[str, Any]:
    """The `labels` field of a record carrying `values` (a typed union member)."""
    return {"$type": SELF_LABELS_TYPE, "values": [{"val": value} for value in values]}
