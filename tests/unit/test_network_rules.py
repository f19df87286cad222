"""Network knowledge has one home per network: its rules object (platforms/<network>/rules.py).

The core modules ask `rules_for(platform)`; none of them tests a platform's name. The
registries know every network, the rules load nothing of the network, and what the core
does for a platform follows its rules object, not its name.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from threadpost import platforms
from threadpost.check import check_thread, check_threads, handle_problems
from threadpost.config import Settings
from threadpost.draft import parse_draft
from threadpost.dryrun import payloads_for
from threadpost.linkcheck import HandleResult
from threadpost.plan import plan_thread
from threadpost.platforms.bluesky.records import draft_records
from threadpost.platforms.bluesky.rules import BLUESKY_LIMITS, BLUESKY_RULES, BlueskyRules
from threadpost.platforms.mastodon.rules import MASTODON_DEFAULT_LIMITS, MASTODON_RULES
from threadpost.platforms.mastodon.statuses import draft_statuses
from threadpost.platforms.rules import RULES, rules_for
from threadpost.values import PLATFORMS

SRC = Path(__file__).resolve().parents[2] / "src" / "threadpost"
#: The modules that used to branch on the platform's name (issue 11), and the text core.
CORE = [
    SRC / "plan.py",
    SRC / "check.py",
    SRC / "dryrun.py",
    SRC / "preview.py",
    SRC / "linkcheck.py",
    *sorted((SRC / "text").glob("*.py")),
]


def offline_settings(tmp_path: Path) -> Settings:
    return Settings(
        config_path=None,
        db_path=tmp_path / "db.sqlite",
        state_dir=tmp_path / "state",
        timezone=ZoneInfo("UTC"),
    )


def modules_loaded_by(module: str, then: str = "") -> set[str]:
    """Every module loaded by importing `module` (and running the statement `then`) in a
    fresh interpreter."""
    script = f"import json, sys\nimport {module}\n{then}\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(result.stdout))


def platform_name_literals(source: str) -> list[tuple[int, str]]:
    """(line, value) of every string literal that is a network's name, docstrings aside:
    a comparison with it, a dict keyed by it or a `match` on it is dispatch on the name."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    names = {name.lower() for name in PLATFORMS}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.lower() in names
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_modules_do_not_dispatch_on_a_platform_name(path: Path) -> None:
    assert platform_name_literals(path.read_text(encoding="utf-8")) == [], path.name


def test_the_name_check_sees_comparisons_dicts_and_matches() -> None:
    sample = '''
"""Docstrings may name mastodon."""
def f(platform):
    """And bluesky here."""
    if platform == "mastodon":
        return 1
    kinds = {"bluesky": 2}
    match platform:
        case "Bluesky":
            return 3
    return platform in ("mastodon",)
'''
    assert platform_name_literals(sample) == [
        (5, "mastodon"),
        (7, "bluesky"),
        (9, "Bluesky"),
        (11, "mastodon"),
    ]


def test_every_network_has_rules_and_entry_points_under_its_own_name() -> None:
    assert set(RULES) == set(PLATFORMS) == set(platforms.NETWORKS)
    for name in PLATFORMS:
        rules = rules_for(name)
        assert rules.platform == name
        assert rules.default_limits.platform == name
    assert rules_for("mastodon") is MASTODON_RULES
    assert rules_for("bluesky") is BLUESKY_RULES


def test_rules_load_no_sdk_no_httpx_and_no_adapter() -> None:
    rules_modules = {"threadpost.platforms.mastodon.rules", "threadpost.platforms.bluesky.rules"}
    # Each network's rules are imported by the first `rules_for` of it (issue 14).
    assert not rules_modules & modules_loaded_by("threadpost.platforms.rules")
    loaded = modules_loaded_by(
        "threadpost.platforms.rules",
        "for name in ('mastodon', 'bluesky'): threadpost.platforms.rules.rules_for(name)",
    )
    assert rules_modules <= loaded
    heavy = {
        "atproto",
        "atproto_client",
        "mastodon",
        "httpx",
        "requests",
        "urllib3",
        # libipld (the records' CIDs) is not on this list: it imports in ~1 ms.
        "threadpost.platforms.mastodon.publisher",
        "threadpost.platforms.mastodon.instance",
        "threadpost.platforms.bluesky.publisher",
        "threadpost.config",
    }
    assert sorted(loaded & heavy) == []


def test_the_network_registry_loads_no_rules_so_run_stays_light() -> None:
    """`threadpost run` imports `threadpost.platforms`: that must not pull in the rules and
    the text core (regexes, TLD lists, graphemes) it does not need when nothing is due."""
    loaded = modules_loaded_by("threadpost.platforms")
    assert "threadpost.platforms" in loaded
    unneeded = ("threadpost.text", "threadpost.platforms.rules", "threadpost.platforms.mastodon.")
    assert sorted(m for m in loaded if m.startswith(unneeded)) == []
    assert "ugrapheme" not in loaded


def test_limits_come_through_the_network_registry(tmp_path: Path) -> None:
    settings = offline_settings(tmp_path)
    assert platforms.limits_for("bluesky", settings, offline=True) == BLUESKY_LIMITS
    # Offline and nothing cached: the instance read falls back to the defaults.
    assert platforms.limits_for("mastodon", settings, offline=True) == MASTODON_DEFAULT_LIMITS


def test_dry_run_payloads_are_the_publishers_own_builders(tmp_path: Path) -> None:
    draft = parse_draft(b"One post with https://example.com/page.\n---\nTwo.", tmp_path / "d.md")
    mastodon = plan_thread(draft, MASTODON_DEFAULT_LIMITS)
    bluesky = plan_thread(draft, BLUESKY_LIMITS)
    assert payloads_for(mastodon) == draft_statuses(mastodon)
    # draft_records stamps createdAt and rkeys from the clock: compare what does not move.
    for shown, built in zip(payloads_for(bluesky), draft_records(bluesky), strict=True):
        assert shown["text"] == built["text"]
        assert shown.get("facets") == built.get("facets")
        assert shown["$type"] == built["$type"] == "app.bsky.feed.post"


def test_planning_follows_the_rules_not_the_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A network whose rules allow content warnings keeps the CW, whatever its name."""
    draft = parse_draft(b'+++\ncw = "spoilers"\n+++\nThe plot twist.', tmp_path / "d.md")
    assert plan_thread(draft, BLUESKY_LIMITS).spoiler_text is None

    class WithWarnings(BlueskyRules):
        content_warnings = True

    monkeypatch.setitem(RULES, "bluesky", WithWarnings())
    assert plan_thread(draft, BLUESKY_LIMITS).spoiler_text == "spoilers"


def test_checks_follow_the_rules_not_the_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The alt-text cap is the network's rule: a Bluesky with Mastodon's cap refuses too."""
    image = tmp_path / "pic.png"
    image.write_bytes(b"")
    text = f"Look.\n![{'a' * 1600}](pic.png)".encode()
    thread = plan_thread(parse_draft(text, tmp_path / "d.md"), BLUESKY_LIMITS)
    settings = offline_settings(tmp_path)
    assert "alt-too-long" not in {p.code for p in check_thread(thread, settings)}

    class Capped(BlueskyRules):
        max_alt_length = 1500

    monkeypatch.setitem(RULES, "bluesky", Capped())
    found = [p for p in check_thread(thread, settings) if p.code == "alt-too-long"]
    assert [p.message for p in found] == [
        "alt text of pic.png is 1600 characters; Bluesky accepts at most 1500"
    ]


def test_unresolved_handles_are_reported_only_where_the_rules_resolve_them(
    tmp_path: Path,
) -> None:
    draft = parse_draft(b"Thanks @alice.example.com!", tmp_path / "d.md")
    bluesky = plan_thread(draft, BLUESKY_LIMITS)
    mastodon = plan_thread(draft, replace(MASTODON_DEFAULT_LIMITS))
    resolved = {
        "alice.example.com": HandleResult("alice.example.com", None, missing=True, reason="gone")
    }
    assert BLUESKY_RULES.mention_handles(bluesky) == ["alice.example.com"]
    assert MASTODON_RULES.mention_handles(mastodon) == []
    found = handle_problems([mastodon, bluesky], resolved)
    assert [(p.platform, p.code) for p in found] == [("bluesky", "mention-unresolved")]
    assert found[0].message == (
        "@alice.example.com does not resolve to a Bluesky account (gone): "
        "it will be sent as plain text"
    )


def test_an_online_check_asks_each_network_to_resolve_its_own_handles(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[list[str]] = []

    def resolve(handles: list[str], settings: Settings) -> dict[str, HandleResult]:
        asked.append(handles)
        return {h: HandleResult(h, None, missing=True, reason="gone") for h in handles}

    monkeypatch.setattr(platforms.bluesky, "resolve_handles", resolve)
    draft = parse_draft(b"Thanks @alice.example.com and @bob@example.social.", tmp_path / "d.md")
    threads = [plan_thread(draft, MASTODON_DEFAULT_LIMITS), plan_thread(draft, BLUESKY_LIMITS)]
    problems = check_threads(draft, threads, offline_settings(tmp_path), offline=False)
    assert asked == [["alice.example.com"]]
    unresolved = [(p.platform, p.post) for p in problems if p.code == "mention-unresolved"]
    assert unresolved == [("bluesky", 1)]
