"""A plain `threadpost publish` line runs without typer (cli/fast_publish.py): every line it
accepts must mean what click makes of it, and everything else must reach click.

Each line is parsed both ways: by `plain_publish`, and by the typer app's own click commands
(the group's global options, then `publish`'s), with the same environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadpost.cli.fast_publish import plain_publish
from threadpost.cli.publish_command import PublishOptions

ENV_NAMES = ("THREADPOST_CONFIG", "THREADPOST_DB")


def click_parse(args: list[str], environ: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the group's parameters, publish's) as click parses `args`; raises click's errors."""
    from typer.main import get_command

    from threadpost.cli.entry import app

    group = get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_NAMES:
            patch.delenv(name, raising=False)
        for name, value in environ.items():
            patch.setenv(name, value)
        context = group.make_context("threadpost", list(args))
        words = [*context._protected_args, *context.args]
        name, command, rest = group.resolve_command(context, words)
        assert name == "publish" and command is not None
        sub = command.make_context("publish", rest, parent=context)
    group_params, publish_params = dict(context.params), dict(sub.params)
    # typer turns the path parameters into Paths when it calls the functions.
    for params, names in ((group_params, ("config", "db")), (publish_params, ("draft",))):
        for name in names:
            params[name] = None if params[name] is None else Path(params[name])
    return group_params, publish_params


def as_click_values(line: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A `PlainPublish` in click's terms, to compare with `click_parse`."""
    options: PublishOptions = line.options
    publish = {
        "draft": options.draft,
        "platform": options.platform,
        "yes": options.yes,
        "again": options.again,
        "dry_run": options.dry_run,
        "offline": options.offline,
        "allow_broken_links": options.allow_broken_links,
        "no_resume": options.no_resume,
        "account": options.account,
        "as_json": options.as_json,
        "continue_id": options.continue_id,
    }
    group = {"config": line.config, "db": line.db, "show_traceback": line.show_traceback}
    return group, publish


def assert_same_as_click(args: list[str], environ: dict[str, str] | None = None) -> bool:
    """Checks the line both ways; True when `plain_publish` took it."""
    environ = environ or {}
    line = plain_publish(args, environ)
    if line is None:
        return False
    group, publish = click_parse(args, environ)
    mine_group, mine_publish = as_click_values(line)
    assert {k: group[k] for k in mine_group} == mine_group, args
    assert not group["version"]
    # click gives a tuple (typer a list), empty or None for a --platform left out.
    assert list(publish.pop("platform") or ()) == (mine_publish.pop("platform") or []), args
    assert publish == mine_publish, args
    return True


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "d.md"],
        ["publish", "d.md", "--yes", "--json"],
        ["publish", "--yes", "d.md", "--json"],
        ["publish", "-y", "--platform", "bluesky", "-p", "mastodon", "d.md"],
        ["publish", "--platform=bluesky", "d.md", "--account=work", "--continue", "3f2a"],
        ["publish", "d.md", "--again", "--dry-run", "--offline", "--allow-broken-links"],
        ["publish", "d.md", "--no-resume", "--json", "--continue=3f2a91c0"],
        ["--config", "c.toml", "--db=l.db", "--traceback", "publish", "d.md", "-y"],
        ["--db", "l.db", "publish", "drafts/a thread.md", "--yes"],
        ["publish", "publish"],  # a draft named "publish"
    ],
)
def test_plain_lines_are_taken_with_the_values_click_gives(args: list[str]) -> None:
    assert assert_same_as_click(args)


def test_a_global_path_left_out_comes_from_the_environment_as_click_reads_it() -> None:
    environ = {"THREADPOST_CONFIG": "/etc/tp.toml", "THREADPOST_DB": ""}  # empty: unset
    assert assert_same_as_click(["publish", "d.md", "--yes"], environ)
    line = plain_publish(["publish", "d.md"], environ)
    assert line is not None and (line.config, line.db) == (Path("/etc/tp.toml"), None)
    given = plain_publish(["--config", "mine.toml", "publish", "d.md"], environ)
    assert given is not None and given.config == Path("mine.toml")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["publish"],  # no draft: click's usage error
        ["publish", "a.md", "b.md"],  # two
        ["publish", "--help"],
        ["--help", "publish", "d.md"],
        ["--version", "publish", "d.md"],
        ["publish", "d.md", "--yes", "--yes"],  # a flag twice
        ["publish", "d.md", "--account", "a", "--account", "b"],
        ["publish", "d.md", "-yp", "bluesky"],  # a cluster of short options
        ["publish", "d.md", "-pbluesky"],
        ["publish", "d.md", "-p=bluesky"],
        ["publish", "d.md", "--platform"],  # no value
        ["publish", "d.md", "--platform="],
        ["publish", "d.md", "--platform", "--yes"],  # a value that looks like an option
        ["publish", "d.md", "--yes=true"],
        ["publish", "d.md", "--ye"],  # misspelt
        ["publish", "d.md", "--traceback"],  # a global option after the command
        ["publish", "--", "-d.md"],
        ["publish", "-"],
        ["--config", "publish", "publish", "d.md"],  # "publish" as --config's value
        ["--config", "c.toml", "--config", "d.toml", "publish", "d.md"],
        ["schedule", "d.md"],
        ["check", "publish"],
    ],
)
def test_anything_else_goes_to_the_full_command_line(args: list[str]) -> None:
    assert plain_publish(args, {}) is None


WORDS = st.sampled_from(
    [
        "publish",
        "d.md",
        "e.md",
        "-",
        "--",
        "--yes",
        "-y",
        "--again",
        "--dry-run",
        "--offline",
        "--allow-broken-links",
        "--no-resume",
        "--json",
        "--platform",
        "-p",
        "--platform=bluesky",
        "bluesky",
        "mastodon",
        "--account",
        "--account=work",
        "--continue",
        "--continue=3f2a",
        "--config",
        "--config=c.toml",
        "--db",
        "l.db",
        "--traceback",
        "--help",
        "--version",
        "-yp",
        "--ye",
        "",
    ]
)


GLOBAL_CHUNKS = st.sampled_from(
    [["--config", "c.toml"], ["--config=c.toml"], ["--db", "l.db"], ["--db=l.db"], ["--traceback"]]
)
PUBLISH_CHUNKS = st.sampled_from(
    [
        *([flag] for flag in ("--yes", "-y", "--again", "--dry-run", "--offline", "--json")),
        ["--allow-broken-links"],
        ["--no-resume"],
        ["--platform", "bluesky"],
        ["-p", "mastodon"],
        ["--platform=bluesky"],
        ["--account", "work"],
        ["--account=work"],
        ["--continue", "3f2a"],
        ["--continue=3f2a"],
    ]
)


def _field(chunk: list[str]) -> str:
    """What a chunk sets (the --platform ones may repeat: keyed by themselves)."""
    name = chunk[0].split("=")[0]
    repeatable = name in ("--platform", "-p")
    return " ".join(chunk) if repeatable else {"-y": "--yes"}.get(name, name)


@st.composite
def publish_lines(draw: st.DrawFn) -> list[str]:
    """Global options, `publish`, then its options and drafts in any order; now and then a
    stray word anywhere."""
    globals_ = draw(st.lists(GLOBAL_CHUNKS, max_size=3, unique_by=_field))
    chunks = draw(st.lists(PUBLISH_CHUNKS, max_size=7, unique_by=_field))
    chunks.insert(draw(st.integers(0, len(chunks))), [draw(st.sampled_from(["d.md", "e d.md"]))])
    words = [*(w for chunk in globals_ for w in chunk), "publish", *(w for c in chunks for w in c)]
    if draw(st.integers(0, 3)) == 0:
        words.insert(draw(st.integers(0, len(words))), draw(WORDS))
    return words


@settings(max_examples=300, deadline=None)
@given(st.one_of(publish_lines(), st.lists(WORDS, max_size=9)))
def test_every_line_taken_means_what_click_makes_of_it(args: list[str]) -> None:
    """Lines of publish's words: whatever `plain_publish` takes, click parses (no usage
    error) to the same values; what it refuses is click's to answer."""
    assert_same_as_click(args)


def test_a_plain_publish_runs_the_command_through_the_error_funnel(tmp_path: Path) -> None:
    """The line that skips typer still gets the funnel: the error, its hint, its status."""
    from cli_support import run_cli

    missing = tmp_path / "nowhere.md"
    result = run_cli("publish", str(missing), "--yes")
    assert result.exit_code != 0
    assert result.stderr.startswith("Error: ") and str(missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_plain_dry_run_imports_no_typer(tmp_path: Path) -> None:
    """The preview before anything goes out is a plain publish line too."""
    import json
    import os

    from cli_support import command_listing_modules

    draft = tmp_path / "thread.md"
    (tmp_path / "config.toml").write_text("")
    draft.write_text('+++\nplatforms = ["bluesky", "mastodon"]\n+++\nOne.\n\n---\n\nTwo.\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADPOST_")}
    env |= {
        "THREADPOST_CONFIG": str(tmp_path / "config.toml"),
        "THREADPOST_DB": str(tmp_path / "l.db"),
    }
    done, loaded = command_listing_modules(
        ["publish", str(draft), "--dry-run", "--offline", "--json"], env, ["typer"], timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert loaded == []
