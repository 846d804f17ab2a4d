"""Check that skimb's subpackages import each other downwards only."""

import ast
from pathlib import Path

import pytest

import skimb

ROOT = Path(skimb.__file__).parent
METHOD_PACKAGES = {"adjustment", "difficulty", "regrouping", "plotting"}


def _module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every absolute skimb module that ``path`` imports, at any depth."""
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.add(name)
            # ``from . import _x`` or ``from ..nn import _batches`` name modules
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "skimb"}


def _edges():
    """(importing subpackage, imported subpackage, importing module, imported)."""
    edges = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        parts = module.split(".")
        if len(parts) < 2:  # skimb/__init__.py re-exports the top level
            continue
        for name in _imports(path):
            target = name.split(".")
            if len(target) >= 2 and target[1] != parts[1]:
                edges.append((parts[1], target[1], module, name))
    return edges


def _subpackages():
    return sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists())


def test_reader_sees_function_level_and_relative_imports(tmp_path):
    """Check that the import reader finds imports inside functions."""
    package = ROOT / "adjustment"
    imports = _imports(package / "_classifier.py")
    assert "skimb.nn" in imports
    assert any(name.startswith("skimb.adjustment._") for name in imports)


def test_subpackage_graph_has_no_cycle():
    """Check that no skimb subpackage imports one that imports it back."""
    graph = {name: set() for name in _subpackages()}
    for source, target, _, _ in _edges():
        graph[source].add(target)
    state = {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        if state.get(node) == "open":
            pytest.fail(f"import cycle: {' -> '.join(path + [node])}")
        state[node] = "open"
        for child in sorted(graph.get(node, ())):
            visit(child, path + [node])
        state[node] = "done"

    for node in graph:
        visit(node, [])


def test_nn_imports_no_method_package():
    """Check that skimb.nn, the ground floor, knows no method package."""
    bad = [e for e in _edges() if e[0] == "nn" and e[1] in METHOD_PACKAGES]
    assert not bad, bad


def test_cross_package_imports_use_public_names():
    """Check that one subpackage imports another's public names only."""
    private = [
        (module, name)
        for _, _, module, name in _edges()
        if any(part.startswith("_") for part in name.split(".")[2:])
    ]
    assert not private, private
