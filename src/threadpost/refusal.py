"""Refusing drafts with errors: one wording for `check`, `publish` and `schedule`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from threadpost.errors import ValidationFailed
from threadpost.values import Problem


def refuse_errors(
    problems_by_draft: Mapping[Path, Sequence[Problem]], *, sending: bool = True
) -> None:
    """Raise `ValidationFailed` (exit 3) when any draft has an error: how many, in which
    drafts, and the first of them; `sending` adds that nothing was sent (or recorded)."""
    failing = {
        path: errors
        for path, problems in problems_by_draft.items()
        if (errors := [p for p in problems if p.is_error])
    }
    if not failing:
        return
    total = sum(len(errors) for errors in failing.values())
    first_path, (first, *_) = next(iter(failing.items()))
    message = (
        f"{total} error{'s' if total != 1 else ''} in {', '.join(str(p) for p in failing)}: "
        f"{_where(first)}{first.message}"
    )
    if total > 1:
        message += f" (and {total - 1} more)"
    if not sending:
        raise ValidationFailed(message)
    hint = f"threadpost check {first_path} lists every problem"
    if any(p.code == "link-broken" for errors in failing.values() for p in errors):
        hint += "; to publish with a dead link anyway, add --allow-broken-links"
    raise ValidationFailed(message + "; nothing was sent", hint=hint)


def _where(problem: Problem) -> str:
    """ "mastodon post 2: ", "bluesky: ", "draft post 3: " or nothing."""
    where = problem.where()
    return f"{where}: " if where else ""
