"""The text core (and the planner) import nothing from the network, the CLI or the SDKs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "threadpost"
CORE_MODULES = [
    "threadpost.text",
    *sorted(
        f"threadpost.text.{p.stem}" for p in (SRC / "text").glob("*.py") if p.stem != "__init__"
    ),
    "threadpost.draft",
    "threadpost.plan",
]
FORBIDDEN = [
    "atproto",
    "atproto_client",
    "mastodon",
    "httpx",
    "requests",
    "urllib3",
    "typer",
    "click",
    "rich",
    "sqlite_utils",
    "sqlite3",
    "tenacity",
    "socket",
    "ssl",
    "http.client",
    "threadpost.cli",
    "threadpost.platforms.bluesky.publisher",
    "threadpost.platforms.mastodon.publisher",
    "threadpost.check",
    "threadpost.store",
    "threadpost.publish",
]


def test_importing_the_text_core_loads_no_network_cli_or_sdk_module() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(result.stdout))
    bad = sorted(
        name for name in loaded for root in FORBIDDEN if name == root or name.startswith(root + ".")
    )
    assert bad == []
    # The modules under test really were imported (the check is not vacuous).
    assert set(CORE_MODULES) <= loaded
    assert len(CORE_MODULES) >= 6


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path",
    [*sorted((SRC / "text").glob("*.py")), SRC / "plan.py", SRC / "draft.py"],
    ids=lambda p: p.name,
)
def test_no_forbidden_import_statement(path: Path) -> None:
    """Static check: not even a lazy import inside a function."""
    bad = sorted(
        name
        for name in _imported_names(path)
        for root in FORBIDDEN
        if name == root or name.startswith(root + ".")
    )
    assert bad == [], f"{path.name} imports {bad}"


def test_the_static_check_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import httpx\n    from atproto import Client\n")
    assert _imported_names(sample) == {"httpx", "atproto"}
