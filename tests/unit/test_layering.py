"""The package's import graph has no cycles, run-time or type-only (issue 11).

The graph is read from the source by scripts/import_graph.py (every import of a threadpost
module, at the top or inside a function; `if TYPE_CHECKING:` ones only in the type-only
graph), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "import_graph.py"


def _import_graph() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("type_only", [False, True], ids=["run-time", "including-type-only"])
def test_no_import_cycles(type_only: bool) -> None:
    graph = _import_graph()
    edges = graph.graph(type_only=type_only)
    assert "threadpost.values" in edges and "threadpost.publish" in edges
    assert graph.cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module and a three-module cycle are both found."""
    graph = _import_graph()
    edges = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(graph.cycles(edges)) == [["a", "b"], ["c", "d", "e"]]


def test_leaf_modules_import_no_threadpost_module_but_leaves() -> None:
    """values.py is the leaf every layer shares; errors.py may import only it."""
    edges = _import_graph().graph(type_only=True)
    assert edges["threadpost.values"] == set()
    assert edges["threadpost.errors"] <= {"threadpost.values", "threadpost.redact"}
