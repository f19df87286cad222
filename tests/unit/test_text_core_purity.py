"""The text core (and the planner) import nothing from the network, the CLI or the SDKs.

The text core itself (`threadpost.text`) is held to an allowlist: the standard library, the
grapheme package (ugrapheme), its own `threadpost.text.*` modules and the reader of the
package's data files (`threadpost.package_data`, standard library only), nothing else.
"""

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


# --- the text core's allowlist ----------------------------------------------------------

TEXT_CORE = SRC / "text"
#: Third-party packages the text core may import (graphemes: UAX #29 segmentation).
ALLOWED_THIRD_PARTY = frozenset({"ugrapheme"})
#: threadpost modules outside the text core that it may import: leaves that import only the
#: standard library (tested below).
ALLOWED_LEAVES = frozenset({"threadpost.package_data"})


def _imports_outside_allowlist(path: Path) -> list[str]:
    """Every import statement of `path` (lazy and TYPE_CHECKING ones included) that is not
    the standard library, an allowed package or a `threadpost.text` module."""
    bad: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside threadpost.text itself
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            root = name.split(".")[0]
            if root in sys.stdlib_module_names or root in ALLOWED_THIRD_PARTY:
                continue
            if name == "threadpost.text" or name.startswith("threadpost.text."):
                continue
            if name in ALLOWED_LEAVES:
                continue
            bad.append(name)
    return sorted(bad)


@pytest.mark.parametrize("path", sorted(TEXT_CORE.glob("*.py")), ids=lambda p: p.name)
def test_text_core_imports_only_the_allowlist(path: Path) -> None:
    assert _imports_outside_allowlist(path) == [], path.name


def test_the_allowlist_check_rejects_what_is_not_on_it(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from __future__ import annotations\n"
        "import re\n"
        "from ugrapheme import grapheme_len\n"
        "from threadpost.text.graphemes import grapheme_count\n"
        "from threadpost.values import PlatformLimits\n"
        "if TYPE_CHECKING:\n"
        "    from threadpost.platforms.rules import NetworkRules\n"
        "def f():\n"
        "    import regex\n"
    )
    assert _imports_outside_allowlist(sample) == [
        "regex",
        "threadpost.platforms.rules",
        "threadpost.values",
    ]


@pytest.mark.parametrize("name", sorted(ALLOWED_LEAVES))
def test_the_allowed_leaves_import_only_the_standard_library(name: str) -> None:
    path = SRC / f"{name.removeprefix('threadpost.').replace('.', '/')}.py"
    assert {imported.split(".")[0] for imported in _imported_names(path)} <= set(
        sys.stdlib_module_names
    )


def test_importing_the_text_core_loads_only_the_allowlist() -> None:
    """At run time too: what importing every text module adds, beyond the standard library
    and what ugrapheme loads for itself, is `threadpost.text` (and the version-only
    `threadpost` package)."""
    modules = sorted(
        f"threadpost.text.{p.stem}" for p in TEXT_CORE.glob("*.py") if p.stem != "__init__"
    )
    script = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        "import ugrapheme\n"
        "grapheme_package = set(sys.modules) - before\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(set(sys.modules) - before - grapheme_package)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(result.stdout)
    bad = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names
        and name not in ("threadpost", "threadpost.text", *ALLOWED_LEAVES)
        and not name.startswith("threadpost.text.")
    ]
    assert bad == []
    assert set(modules) <= set(loaded) and len(modules) >= 5
