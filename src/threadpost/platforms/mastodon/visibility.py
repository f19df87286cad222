"""Who sees a Mastodon status: its visibilities, widest first, and the rule that a thread's
replies never reach further than its first post. Pure.

`unlisted` is readable by anyone who has the link (it only stays out of the public
timelines), so it is wider than `private` (followers) and `direct` (mentioned accounts).
"""

from __future__ import annotations

from threadpost.values import MASTODON_VISIBILITIES as VISIBILITIES

__all__ = ["VISIBILITIES", "is_wider", "narrower", "reply_visibility"]


def is_wider(visibility: str, than: str) -> bool:
    """Whether `visibility` reaches more people than `than` (ValueError for an unknown one)."""
    return _rank(visibility) < _rank(than)


def narrower(first: str, second: str) -> str:
    """The more restrictive of two visibilities."""
    return first if _rank(first) >= _rank(second) else second


def reply_visibility(visibility: str, wanted: str) -> str:
    """The visibility a reply gets: `wanted`, narrowed to the first post's `visibility`."""
    return narrower(visibility, wanted)


def _rank(visibility: str) -> int:
    try:
        return VISIBILITIES.index(visibility)
    except ValueError:
        raise ValueError(
            f"unknown visibility {visibility!r} (one of {', '.join(VISIBILITIES)})"
        ) from None
