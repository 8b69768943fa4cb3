"""The house rules the source must keep, checked on the source itself (docs/architecture.md).

No module reads another module's private (underscore) names; the
module-level import graph has no cycle; the generated part of
docs/architecture.md matches the source.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "kneebayes"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_architecture", ROOT / "docs" / "make_architecture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined_names(tree: ast.Module) -> set[str]:
    """Every name the module itself defines or assigns (its own privates may be read anywhere in it)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            names.add(node.value)   # __slots__ entries and d["_name"] = ... set attributes by their name
    return names


def private_reads(path: Path) -> list[str]:
    """Where a module reads a private name it does not define: ``from x import _y``, or ``obj._y`` of another module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _defined_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", sorted(SOURCE.rglob("*.py")), ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_module_reads_another_modules_private_names(path: Path) -> None:
    assert private_reads(path) == []


def test_the_private_name_check_finds_a_read_of_another_modules_private_name(tmp_path: Path) -> None:
    module = tmp_path / "reader.py"
    module.write_text("from kneebayes.model import _ids\n\ndef f(model):\n    return model._spec\n", encoding="utf-8")
    assert private_reads(module) == ["1: from kneebayes.model import _ids", "4: model._spec"]


def test_the_module_level_import_graph_has_no_cycle() -> None:
    make = _generator()
    assert make.cycles(make.imports()) == []


def test_the_cycle_search_finds_a_cycle() -> None:
    make = _generator()
    graph = {"a": ({"b"}, set()), "b": ({"c"}, set()), "c": ({"a"}, set()), "d": ({"a"}, set())}
    assert make.cycles(graph) == [["a", "b", "c"]]


def test_architecture_page_is_up_to_date() -> None:
    diff = _generator().check()
    assert not diff, "docs/architecture.md is out of date; run `python docs/make_architecture.py`:\n" + "\n".join(diff[:40])
