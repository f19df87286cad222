"""Mastodon polls, pure: what `check` refuses against the instance's limits, and the
`poll` parameter of a status POST.

Mastodon's PollValidator refuses a poll with fewer than two options, more than
`configuration.polls.max_options`, an option longer than `max_characters_per_option`
graphemes, two identical options, or a duration outside `min_expiration`..`max_expiration`
seconds; and a status may carry a poll or media, never both (PostStatusService). Each of
these is a `check` error here, naming the `> poll` line, so nothing is half-sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from threadpost.draft import duration_text
from threadpost.text.graphemes import grapheme_count
from threadpost.values import Problem

if TYPE_CHECKING:
    from threadpost.draft import Poll
    from threadpost.thread import PlannedPost, Thread


def poll_param(poll: Poll | None) -> dict[str, Any] | None:
    """The `poll` of a status POST (`poll[options][]`, `poll[expires_in]`,
    `poll[multiple]`, `poll[hide_totals]`), or None for a post without one."""
    if poll is None:
        return None
    return {
        "options": list(poll.options),
        "expires_in": poll.expires_in,
        "multiple": poll.multiple,
        "hide_totals": poll.hide_totals,
    }


def poll_problems(thread: Thread) -> list[Problem]:
    """Every post's poll against the instance's limits (`thread.limits`)."""
    found: list[Problem] = []
    for post in thread.posts:
        if post.poll is not None:
            found += _problems_of(thread, post, post.poll)
    return found


def _problems_of(thread: Thread, post: PlannedPost, poll: Poll) -> list[Problem]:
    limits = thread.limits
    source = "the instance" if limits.source != "default" else "Mastodon by default"

    def problem(code: str, message: str) -> Problem:
        return Problem("error", code, message, "mastodon", post.index, poll.line)

    found: list[Problem] = []
    if post.images:
        found.append(
            problem(
                "poll-with-media",
                f"post {post.index} has a poll and {len(post.images)} image"
                f"{'s' if len(post.images) > 1 else ''}: Mastodon allows one or the other; "
                "move the images to another post with a --- line",
            )
        )
    if len(poll.options) < 2:
        found.append(problem("poll-invalid", f"post {post.index}'s poll needs two options"))
    if len(poll.options) > limits.poll_max_options:
        found.append(
            problem(
                "poll-invalid",
                f"post {post.index}'s poll has {len(poll.options)} options; {source} allows "
                f"at most {limits.poll_max_options}",
            )
        )
    for option in poll.options:
        length = grapheme_count(option)
        if length > limits.poll_max_characters_per_option:
            shown = option if len(option) <= 30 else option[:27] + "..."
            found.append(
                problem(
                    "poll-invalid",
                    f"poll option {shown!r} of post {post.index} is {length} characters; "
                    f"{source} allows {limits.poll_max_characters_per_option} per option",
                )
            )
    repeated = [option for n, option in enumerate(poll.options) if option in poll.options[:n]]
    if repeated:
        found.append(
            problem(
                "poll-invalid",
                f"post {post.index}'s poll has the option {repeated[0]!r} twice; Mastodon "
                "refuses duplicate options",
            )
        )
    if not limits.poll_min_expiration <= poll.expires_in <= limits.poll_max_expiration:
        found.append(
            problem(
                "poll-invalid",
                f"post {post.index}'s poll lasts {duration_text(poll.expires_in)}; {source} allows "
                f"{duration_text(limits.poll_min_expiration)} to "
                f"{duration_text(limits.poll_max_expiration)}",
            )
        )
    return found
