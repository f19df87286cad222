"""The authoring commands' library side: check a set of drafts, preview one, create one.

`check`, `preview`, `new` and the check after `import` (cli/authoring.py,
cli/importing.py) parse their arguments, call one of these and print what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from threadpost.atomic_write import write_atomically
from threadpost.check import CheckReport, check_draft
from threadpost.config import Settings
from threadpost.draft_template import render_template
from threadpost.errors import ThreadpostError, UsageError
from threadpost.linkcard_cache import cached_cards
from threadpost.linkcheck import ProgressSink
from threadpost.preview import render_html, to_json
from threadpost.preview_accounts import preview_accounts
from threadpost.values import PlatformName, Problem

#: Makes the progress sink for one draft's link checks (None: no progress shown).
ProgressFactory = Callable[[], ProgressSink | None]

#: Where `new` puts drafts, relative to the working directory.
DRAFTS_FOLDER: Final = Path("drafts")

_UNSAFE_NAME_CHARACTERS: Final = re.compile(r"[^\w\-]+")
_NAME_LIMIT: Final = 80


@dataclass(frozen=True)
class UnreadableDraft:
    """A draft that could not be checked at all (missing, unreadable, bad front matter)."""

    path: Path
    error: ThreadpostError

    @property
    def ok(self) -> bool:
        return False

    @property
    def problem(self) -> Problem:
        """The error as a draft-wide problem (how `check` counts and refuses it)."""
        return Problem(severity="error", code="unreadable-draft", message=self.error.message)

    def to_json(self) -> dict[str, Any]:
        """The draft's `--json` object: the usual keys, empty, and the error inside."""
        return {
            "draft": str(self.path),
            "ok": False,
            "error": {"message": self.error.message, "hint": self.error.hint},
            "platforms": {},
            "problems": [self.problem.to_json()],
            "summary": {"errors": 1, "warnings": 0, "posts": {}},
        }


#: One draft's check: its report, or why it could not be checked.
DraftCheck = CheckReport | UnreadableDraft


@dataclass(frozen=True)
class DraftChecks:
    """The checks of a set of drafts, in the order the drafts were given."""

    entries: tuple[DraftCheck, ...]

    @property
    def reports(self) -> tuple[CheckReport, ...]:
        """The drafts that could be checked."""
        return tuple(e for e in self.entries if isinstance(e, CheckReport))

    @property
    def unreadable(self) -> tuple[UnreadableDraft, ...]:
        """The drafts that could not be checked, each with its error."""
        return tuple(e for e in self.entries if isinstance(e, UnreadableDraft))

    @property
    def ok(self) -> bool:
        """True when every draft was checked and none has errors (warnings allowed)."""
        return all(entry.ok for entry in self.entries)

    def to_json(self) -> dict[str, Any]:
        """The `--json` object, one shape for one draft or many: `{"ok", "drafts": [...]}`
        with one object per draft in the order given. With exactly one draft, that draft's
        keys are also at the top level (DESIGN.md's single-draft object, kept)."""
        objects = [to_json(e) if isinstance(e, CheckReport) else e.to_json() for e in self.entries]
        combined: dict[str, Any] = {}
        if len(objects) == 1:
            combined.update(objects[0])
        combined["ok"] = self.ok
        combined["drafts"] = objects
        return combined


def _no_progress() -> ProgressSink | None:
    return None


def check_drafts(
    paths: Sequence[Path],
    settings: Settings,
    platforms: Sequence[PlatformName] | None = None,
    *,
    offline: bool,
    progress: ProgressFactory = _no_progress,
) -> DraftChecks:
    """Read, plan and check each draft. A draft that cannot be read is recorded with its
    error (naming the file and line) and the others are still checked."""
    entries: list[DraftCheck] = []
    for path in paths:
        try:
            entries.append(
                check_draft(path, settings, platforms, offline=offline, progress=progress())
            )
        except ThreadpostError as error:
            entries.append(UnreadableDraft(path, error))
    return DraftChecks(tuple(entries))


def preview_draft(
    path: Path,
    settings: Settings,
    platforms: Sequence[PlatformName] | None = None,
    *,
    offline: bool,
    progress: ProgressFactory = _no_progress,
    html: Path | None = None,
) -> CheckReport:
    """Check one draft for its preview; with `html`, also write the self-contained page
    showing the networks side by side there."""
    report = check_draft(path, settings, platforms, offline=offline, progress=progress())
    if html is not None:
        # The author line (the draft's account) and link cards from what is saved on this
        # machine (no network).
        page = render_html(
            report,
            {**preview_accounts(settings), **report.accounts},
            cards=cached_cards(settings.state_dir),
        )
        _write_page(html, page)
    return report


def _write_page(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a half-written page never replaces a good one)."""
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise ThreadpostError(f"{path}: cannot write: {exc.strerror or exc}") from None


def draft_file_name(name: str) -> str:
    """NAME → a safe file name in drafts/: words, digits, - and _; ".md" added."""
    stem = name.strip()
    if stem.lower().endswith(".md"):
        stem = stem[:-3]
    stem = _UNSAFE_NAME_CHARACTERS.sub("-", stem).strip("-_")
    if not stem:
        raise UsageError(
            f"{name!r} is not usable as a draft name: use letters, digits, - or _",
        )
    return f"{stem[:_NAME_LIMIT]}.md"


def create_draft(name: str, folder: Path = DRAFTS_FOLDER) -> Path:
    """Create `folder`/NAME.md from the template, titled NAME; never overwrites a file."""
    path = folder / draft_file_name(name)
    text = render_template(name.strip())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise ThreadpostError(
            f"{path} already exists; not overwriting it",
            hint=f"choose another name, or edit it: $EDITOR {path}",
        ) from None
    except OSError as exc:
        raise ThreadpostError(f"{path}: cannot create: {exc.strerror or exc}") from None
    return path
