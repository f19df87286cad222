"""Print threadpost's internal import graph facts: module sizes and import cycles.

Counts every import of a threadpost module, at the top of a file or inside a function,
except those under `if TYPE_CHECKING:` (they never run). Used by tests/unit/test_layering.py
and to measure the layout (`python scripts/import_graph.py`).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path: Path, known: set[str], *, type_only: bool = False) -> set[str]:
    """The threadpost modules `path` imports at run time (and, with `type_only`, also
    those it imports for type annotations only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_only:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in known and name != this}


def graph(*, type_only: bool = False) -> dict[str, set[str]]:
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    known = set(files)
    return {
        name: imported_modules(path, known, type_only=type_only) for name, path in files.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def main() -> None:
    sizes = sorted(
        ((len(p.read_text().splitlines()), module_name(p)) for p in SRC.rglob("*.py")),
        reverse=True,
    )
    print("largest modules (lines):")
    for lines, name in sizes[:12]:
        print(f"  {lines:5d}  {name}")
    print(f"modules: {len(sizes)}, lines: {sum(n for n, _ in sizes)}")
    for label, type_only in (("run-time", False), ("including type-only", True)):
        found = cycles(graph(type_only=type_only))
        print(f"import cycles, {label}: {len(found)}")
        for component in found:
            print("  " + " <-> ".join(component))


if __name__ == "__main__":
    main()
