"""The package's layering: imports only point down, and there is no import cycle.

Layers, lowest first (a module may import its own layer's modules and any lower layer's):

    errors → config → registry → models, datasets → objectives → evaluation → reports
    → training → cli

``models`` and ``datasets`` share a layer but never import each other; ``config`` imports no
registry. Read from the source's ``ast``, so lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "keras_curriculum"
ROOT = "keras_curriculum"

LAYERS = [
    {"errors"},
    {"config"},
    {"registry"},
    {"models", "datasets"},
    {"objectives"},
    {"evaluation"},
    {"reports"},
    {"training"},
    {"cli"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}
NEVER = {("models", "datasets"), ("datasets", "models")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """The package modules ``path`` imports (``from a import b`` counts as ``a.b`` when that
    is a module, else as ``a``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(ROOT)}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(ROOT):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return found


def concern(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


@functools.cache
def graph() -> dict[str, set[str]]:
    known = set(modules())
    return {name: imports(path, known) - {name} for name, path in modules().items()}


def test_every_module_belongs_to_a_layer():
    unplaced = {concern(m) for m in modules()} - set(LEVEL) - {None}
    assert not unplaced, f"add these to LAYERS: {sorted(unplaced)}"


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_point_down(module):
    here = concern(module)
    if here is None:  # the package's own __init__ (lazy re-exports)
        return
    for target in graph()[module]:
        there = concern(target)
        if there is None:
            pytest.fail(f"{module} imports the package root")
        assert (here, there) not in NEVER, f"{module} imports {target}"
        assert LEVEL[there] <= LEVEL[here], (
            f"{module} ({here}) imports {target} ({there}), a higher layer"
        )


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_no_private_keras_api():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "keras.src" in path.read_text()
    ]
    assert not offenders


def test_no_plugin_scanning():
    """Families, sources, reports and commands are imported by name, never found by scanning."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "pkgutil" in path.read_text() or "iter_modules" in path.read_text()
    ]
    assert not offenders
