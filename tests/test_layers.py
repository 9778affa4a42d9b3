"""The import graph: arrows go one way between layers, no cycle anywhere, and no import of
splitbrain's own modules inside a function. Read from the source with ``ast`` (grimp, under
import-linter, cannot follow the ``package-dir`` mapping of ``pyproject.toml``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

from conftest import REPO

PACKAGES = {
    "splitbrain": REPO / "splitbrain",
    "splitbrain.harness": REPO / "harness",
    "splitbrain.checkers": REPO / "checkers",
    "splitbrain.workloads": REPO / "workloads",
    "splitbrain.targets": REPO / "targets",
}

LAYERS: list[tuple[str, ...]] = [
    ("splitbrain", "splitbrain.__main__", "splitbrain.harness.front"),
    ("splitbrain.harness.engine",),
    ("splitbrain.harness.report",),
    ("splitbrain.workloads", "splitbrain.targets"),
    ("splitbrain.harness.nemesis",),
    ("splitbrain.harness.control", "splitbrain.checkers"),
    ("splitbrain.harness.base", "splitbrain.harness"),
]
"""Top to bottom, one folder each: front ends (``harness/front``); the engine
(``harness/engine``: the spec, assembly of parts from the plugin registry, the run, check);
the report; workloads and targets; nemeses; infrastructure and checkers; the types
(``harness/base``: history, generator, protocols, errors, verdict, store, the plugin
registry). A module may import its own layer's package and the layers below."""

INDEPENDENT = [
    ("splitbrain.workloads", "splitbrain.targets"),
    ("splitbrain.harness.control", "splitbrain.checkers"),
]
"""Packages of one layer that must not import each other."""

ONLY = {
    "splitbrain.workloads": (
        "splitbrain.workloads",
        "splitbrain.checkers",
        "splitbrain.harness.base",
    ),
}
"""Packages that may import only these."""

LAZY_ON_PURPOSE = {
    ("splitbrain.harness.engine.assemble", "splitbrain.harness.control.ssh"),
    ("splitbrain.harness.control.cleanup", "splitbrain.harness.control.ssh"),
}
"""Imports inside a function, none there to dodge a cycle: the SSH node provider needs
paramiko (an optional dependency)."""


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            name = _module_name(package, root, path)
            if package == "splitbrain" and name != package and name.count(".") > 1:
                continue
            out[name] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, bool]]:
    """(imported module, inside a function) for each runtime import of a splitbrain module."""

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, in_function
            elif isinstance(child, ast.ImportFrom):
                base = resolve(child)
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    yield (full if full in MODULES else base), in_function
            yield from walk(child, inner)

    for name, lazy in walk(tree, False):
        if name.split(".")[0] == "splitbrain":
            while name not in MODULES and "." in name:
                name = name.rsplit(".", 1)[0]
            yield name, lazy


def _graph() -> tuple[nx.DiGraph, list[tuple[str, str]]]:
    graph: nx.DiGraph = nx.DiGraph()
    lazy: list[tuple[str, str]] = []
    for module, path in MODULES.items():
        graph.add_node(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for imported, in_function in _imports(tree, module, path.name == "__init__.py"):
            if imported != module:
                graph.add_edge(module, imported)
                if in_function:
                    lazy.append((module, imported))
    return graph, lazy


GRAPH, LAZY = _graph()


def _owner(module: str, prefixes: list[str]) -> str | None:
    """The longest prefix that ``module`` is or lies in."""
    best = None
    for p in prefixes:
        if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best)):
            best = p
    return best


def _layer(module: str) -> int:
    prefixes = [p for layer in LAYERS for p in layer]
    owner = _owner(module, prefixes)
    assert owner is not None, f"{module} is in no layer"
    return next(i for i, layer in enumerate(LAYERS) if owner in layer)


def test_the_graph_sees_every_package() -> None:
    assert len(MODULES) > 80
    assert GRAPH.has_edge("splitbrain.harness.engine.core", "splitbrain.harness.engine.workers")


def test_every_harness_module_lives_in_its_layer_folder() -> None:
    flat = sorted(p.name for p in (REPO / "harness").glob("*.py") if p.name != "__init__.py")
    assert flat == []


def test_arrows_point_down_the_layers() -> None:
    upward = [f"{a} -> {b}" for a, b in GRAPH.edges if _layer(b) < _layer(a)]
    assert upward == []


@pytest.mark.parametrize("pair", INDEPENDENT)
def test_independent_packages_do_not_import_each_other(pair: tuple[str, str]) -> None:
    a, b = pair
    crossing = [
        f"{x} -> {y}"
        for x, y in GRAPH.edges
        if {_owner(x, list(pair)), _owner(y, list(pair))} == {a, b}
    ]
    assert crossing == []


@pytest.mark.parametrize("package", sorted(ONLY))
def test_restricted_packages_import_only_what_they_may(package: str) -> None:
    allowed = list(ONLY[package])
    outside = [
        f"{a} -> {b}"
        for a, b in GRAPH.edges
        if _owner(a, [package]) and (_owner(b, allowed) is None or _layer(b) < _layer(package))
    ]
    assert outside == []


def test_no_import_cycles() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(GRAPH) if len(c) > 1]
    assert cycles == []


def test_no_imports_inside_functions() -> None:
    lazy = sorted(set(LAZY) - LAZY_ON_PURPOSE)
    assert lazy == [], "\n".join(f"{a} -> {b}" for a, b in lazy)
