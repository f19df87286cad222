"""A plain `threadpost publish` line, run without building the command line.

Importing typer and click, turning the command into click parameters and parsing argv cost
~25 ms of every publish, whose floor for a Bluesky thread is one round trip. So `main` asks
`plain_publish` first. It recognises the lines people and scripts write: the global
`--config FILE`, `--db FILE` and `--traceback`, then `publish` with one draft path and any of
its options, in any order, each `--opt VALUE` or `--opt=VALUE` (`-y`, `-p VALUE`). Anything
else returns None and goes to the full command line, which parses, answers or refuses it as
always: --help, --version, an unknown or misspelt option, a cluster of short options (`-yp`),
`--`, an empty value or one that looks like an option, a flag or single-valued option given
twice, a draft path starting with `-`, no draft or two. The values are what click would
parse from the same line (tests/cli/test_fast_publish.py parses each line both ways).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from threadpost.cli.quiet_run import PATH_OPTIONS

if TYPE_CHECKING:
    from threadpost.cli.publish_command import PublishOptions

COMMAND: Final = "publish"
#: `publish`'s flags, by spelling: the PublishOptions field each sets.
FLAGS: Final = {
    "--yes": "yes",
    "-y": "yes",
    "--again": "again",
    "--dry-run": "dry_run",
    "--offline": "offline",
    "--allow-broken-links": "allow_broken_links",
    "--no-resume": "no_resume",
    "--json": "as_json",
}
#: `publish`'s options that take a value: the field each sets. --platform may repeat.
VALUED: Final = {
    "--platform": "platform",
    "-p": "platform",
    "--account": "account",
    "--continue": "continue_id",
}
REPEATABLE: Final = frozenset({"platform"})
#: The global flag; the global options with a value are quiet_run's PATH_OPTIONS.
GLOBAL_FLAGS: Final = frozenset({"--traceback"})
#: What a global option left out is read from, as its typer option (`envvar=`) does: the
#: command line then holds that path too (the resume command it prints names it).
ENVIRONMENT: Final = {"config": "THREADPOST_CONFIG", "db": "THREADPOST_DB"}


class PlainPublish(NamedTuple):
    """A recognised line: the global options, then publish's."""

    config: Path | None
    db: Path | None
    show_traceback: bool
    options: PublishOptions

    def run(self) -> None:
        """What the command line does with the line: the global options, then `publish`."""
        from threadpost.cli.output import state
        from threadpost.cli.publish_command import publish_draft

        state.use(self.config, self.db, self.show_traceback)
        publish_draft(self.options)


def plain_publish(args: Sequence[str], environ: Mapping[str, str]) -> PlainPublish | None:
    """`args` as a `PlainPublish` when it is a plain publish line (see the module), else None;
    a global option left out is read from `environ`, an empty variable counting as unset."""
    words = list(args)
    if COMMAND not in words:
        return None
    split = words.index(COMMAND)
    globals_ = _options(
        words[:split],
        flags=dict.fromkeys(GLOBAL_FLAGS, "show_traceback"),
        valued={name: name.removeprefix("--") for name in PATH_OPTIONS},
    )
    command = _options(words[split + 1 :], flags=FLAGS, valued=VALUED, positional=True)
    if globals_ is None or command is None:
        return None
    given, _ = globals_
    values, drafts = command
    if len(drafts) != 1:
        return None
    from threadpost.cli.publish_command import PublishOptions

    config, db = (
        given.get(name) or environ.get(ENVIRONMENT[name]) or None for name in ("config", "db")
    )
    return PlainPublish(
        config=Path(config) if isinstance(config, str) else None,
        db=Path(db) if isinstance(db, str) else None,
        show_traceback=bool(given.get("show_traceback")),
        options=PublishOptions(draft=Path(drafts[0]), **values),  # type: ignore[arg-type]
    )


def _options(
    words: Sequence[str],
    *,
    flags: dict[str, str],
    valued: dict[str, str],
    positional: bool = False,
) -> tuple[dict[str, object], list[str]] | None:
    """The fields `words` set and its positional words, or None at anything not plain."""
    given: dict[str, object] = {}
    positionals: list[str] = []
    rest = iter(words)
    for word in rest:
        if not word.startswith("-"):
            if not positional:
                return None
            positionals.append(word)
            continue
        name, equals, value = word.partition("=")
        if not name.startswith("--"):
            name, equals, value = word, "", ""  # `-p=x` and `-px` are not plain: refused below
        if name in flags and not equals:
            field = flags[name]
            if field in given:
                return None
            given[field] = True
        elif name in valued:
            field = valued[name]
            if not equals:
                value = next(rest, "")
            if not value or value.startswith("-"):
                return None
            if field in REPEATABLE:
                values = given.setdefault(field, [])
                assert isinstance(values, list)
                values.append(value)
            elif field in given:
                return None
            else:
                given[field] = value
        else:
            return None
    return given, positionals
