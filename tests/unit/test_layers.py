"""The layers hold and nothing imports in a circle: every import of src/statusguard, via ast.

The layer order is ``statusguard._layout.LAYERS`` (lowest first): a module may import its
own layer and the ones before it. For the layers every import counts: module level,
inside functions, and under ``TYPE_CHECKING``; a cycle is one of imports that run (an
import under ``TYPE_CHECKING`` never executes, so it cannot close a cycle). Dynamic
imports (``importlib.import_module`` of a string) are invisible here; the lazy
``__getattr__`` tables in the package ``__init__`` files are the only ones, and they
name their own submodules.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from statusguard._layout import FACADE, LAYERS

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "statusguard"

# Known violations in code other helpers own: each fails on purpose (xfail, strict), so
# the day it is fixed the XPASS tells the coordinator to drop its line here.
KNOWN: dict[tuple[str, str], str] = {}


class Import(NamedTuple):
    module: str
    line: int
    typing_only: bool  # under ``if TYPE_CHECKING:``: a layer dependency, never a runtime cycle


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, typing_only: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every import statement, and whether it runs only under ``TYPE_CHECKING``."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, typing_only
        elif _type_checking(child):
            assert isinstance(child, ast.If)
            for part in child.body:
                yield from _import_nodes(ast.Module([part], []), True)
            for part in child.orelse:
                yield from _import_nodes(ast.Module([part], []), typing_only)
        else:
            yield from _import_nodes(child, typing_only)


def imports_of(name: str, path: Path, modules: set[str]) -> Iterator[Import]:
    """Every statusguard module ``name`` imports, at any depth of its code."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node, typing_only in _import_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "statusguard":
                    yield Import(alias.name, node.lineno, typing_only)
            continue
        assert isinstance(node, ast.ImportFrom)
        if node.level:  # relative: resolve against this module's package
            base = name.split(".")
            base = base if is_package else base[:-1]
            base = base[: len(base) - node.level + 1]
            target = ".".join([*base, *([node.module] if node.module else [])])
        else:
            target = node.module or ""
        if target.split(".")[0] != "statusguard":
            continue
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            # ``from statusguard import errors`` imports the module statusguard.errors
            yield Import(sub if sub in modules else target, node.lineno, typing_only)


@functools.cache
def graph(*, runtime_only: bool = False) -> dict[str, dict[str, int]]:
    """``{module: {imported module: first line}}``; ``runtime_only`` drops ``TYPE_CHECKING``."""
    modules = all_modules()
    names = set(modules)
    out: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for imp in imports_of(name, path, names):
            if imp.module != name and not (runtime_only and imp.typing_only):
                edges.setdefault(imp.module, imp.line)
        out[name] = edges
    return out


def layer_of(module: str) -> int:
    """The index of the layer ``module`` belongs to; ``len(LAYERS)`` for the facade."""
    if module in FACADE:
        return len(LAYERS)
    for i, layer in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in layer):
            return i
    raise AssertionError(f"{module} is in no layer of statusguard._layout.LAYERS; add it there")


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
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
            visit(v)
    return sorted(found)


def violations(edges: dict[str, dict[str, int]]) -> dict[tuple[str, str], str]:
    """``(importer, imported)`` -> why it is not allowed, for every import up the layers."""
    out: dict[tuple[str, str], str] = {}
    for importer, targets in edges.items():
        for imported, line in targets.items():
            if imported in FACADE:
                out[(importer, imported)] = (
                    f"{importer} (line {line}) imports {imported}, the facade: import the "
                    "layer that owns the name instead"
                )
            elif layer_of(imported) > layer_of(importer):
                out[(importer, imported)] = (
                    f"{importer} (line {line}) imports {imported}, a higher layer"
                )
    return out


def test_every_module_has_a_layer() -> None:
    for name in all_modules():
        layer_of(name)


def test_no_import_cycle() -> None:
    assert cycles(graph(runtime_only=True)) == []


def test_no_import_up_the_layers() -> None:
    found = violations(graph())
    unexpected = {k: v for k, v in found.items() if k not in KNOWN}
    assert unexpected == {}


@pytest.mark.parametrize(
    "edge",
    [
        pytest.param(edge, marks=pytest.mark.xfail(reason=why, strict=True))
        for edge, why in KNOWN.items()
    ]
    or [pytest.param(None, marks=pytest.mark.skip(reason="no known violation"))],
)
def test_known_violation_is_fixed(edge: tuple[str, str]) -> None:
    assert edge not in violations(graph())


# -- the checks can fail -----------------------------------------------------------------


def test_a_cycle_is_found() -> None:
    edges = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}}) == []


def test_an_import_up_the_layers_is_found() -> None:
    edges = {
        "statusguard.lifecycle._paths": {"statusguard.consult._render": 3},
        "statusguard.consult._render": {"statusguard.lifecycle._paths": 5},
        "statusguard.guard._guard": {"statusguard": 7},
    }
    assert set(violations(edges)) == {
        ("statusguard.lifecycle._paths", "statusguard.consult._render"),
        ("statusguard.guard._guard", "statusguard"),
    }


def test_function_level_and_type_checking_imports_are_seen(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from statusguard.cli import cli\n"
        "def f():\n"
        "    import statusguard.sql._store\n"
        "    from statusguard import errors\n"
        "    from . import _text\n"
    )
    known = {"statusguard.errors", "statusguard._text"}
    found = {(i.module, i.typing_only) for i in imports_of("statusguard.m", source, known)}
    assert found == {
        ("statusguard.cli", True),
        ("statusguard.sql._store", False),
        ("statusguard.errors", False),
        ("statusguard._text", False),
    }
