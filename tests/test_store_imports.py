"""No import cycles between newsflow's modules, and the store modules import
on their own in a fresh interpreter."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.support.import_checks import STORE_MODULES, run_import_checks

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "newsflow"
# also the translators (packages <-> engine must not import each other) and the flows
OTHERS = ("translators", "flows")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The newsflow modules ``path`` imports: at the top, inside functions, anywhere
    but under ``if TYPE_CHECKING:`` (never executed). ``from a import b`` counts as
    importing ``a.b`` when that is a module, else ``a``."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    # `import a.b.c` runs a, a.b and a.b.c; only the deepest known module is the edge
    return {m if m in modules else _known_parent(m, modules) for m in found} - {None, name}


def _known_parent(name: str, modules: set[str]) -> str | None:
    while "." in name:
        name = name.rsplit(".", 1)[0]
        if name in modules:
            return name
    return None


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    for other in OTHERS:
        if (PACKAGE.parent / other).is_dir():
            paths += sorted((PACKAGE.parent / other).rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) & modules for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
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
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "newsflow"
    (pkg / "store").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "store" / "__init__.py").write_text("from .sqlite import Store\n")
    (pkg / "store" / "sqlite.py").write_text("def f():\n    from newsflow.store import postgres\n")
    (pkg / "store" / "postgres.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from newsflow.store import sqlite\n"
        "from . import sqlite as s\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    monkeypatch.setattr(sys.modules[__name__], "OTHERS", ())
    graph = import_graph()
    assert graph["newsflow.store"] == {"newsflow.store.sqlite"}
    assert graph["newsflow.store.sqlite"] == {"newsflow.store.postgres"}
    assert graph["newsflow.store.postgres"] == {"newsflow.store.sqlite"}
    assert cycles(graph) == [["newsflow.store.postgres", "newsflow.store.sqlite"]]


def test_newsflow_has_no_import_cycle():
    found = cycles(import_graph())
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_store_and_the_records_are_in_no_cycle():
    graph = import_graph()
    for component in cycles(graph):
        assert not any(m.startswith(("newsflow.store", "newsflow.article")) for m in component), component


@pytest.mark.parametrize("module", STORE_MODULES)
def test_store_modules_import_in_a_fresh_interpreter(module, installed_models_dir):
    """Each imported first, with no newsflow module loaded, in the one interpreter of
    tests/support/import_checks.py (one process for several files' import checks)."""
    failure = run_import_checks(installed_models_dir)[f"store_import:{module}"]
    assert failure is None, failure
