"""Every module says what it is for, and so does every public class, function and method in it.

The walk imports every module under ``src/kneebayes`` (they all import with
the core install: an optional package is imported inside the function that
needs it), and a failing run lists the undocumented names as
``module.name`` or ``module.Class.method``, so it says what to fix. The
public API (``kneebayes.__all__``) goes further: each class and function
shows its use in a ``>>>`` example, which pytest runs as a doctest.

A definition is public when its name has no leading underscore; it counts
for the module that defines it (not one that imports it). A method may take
its docstring from the base class method it overrides, as ``help()`` does.

What is not documented yet is listed at the top (``PENDING``,
``EXAMPLES_PENDING``): those cases are expected to fail, strictly, so the
lists can only shrink, and must shrink to empty.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import pkgutil
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import kneebayes

# Modules whose owners have not yet documented every public name. This set must shrink to empty:
# a module listed here is expected to fail (strict), so once it is documented the run says to
# take it off the list.
PENDING: set[str] = set()

# Names in ``kneebayes.__all__`` whose docstring has no example yet. This set must shrink to empty
# too, in the same way.
EXAMPLES_PENDING: set[str] = set()

# Names in ``kneebayes.__all__`` where an example would show nothing, each with the reason.
NO_EXAMPLE: dict[str, str] = {}

# Modules the walk finds but does not import, with the reason; their module docstring is read from the source.
NOT_IMPORTED: dict[str, str] = {
    "kneebayes.cli.__main__": "importing it runs the command line and exits",
    "kneebayes.__main__": "importing it runs the command line and exits",
}

# Optional packages (the extras in pyproject.toml); no module may need one to import.
EXTRAS = ("pandas", "matplotlib", "networkx", "scipy", "pgmpy", "pyagrum", "IPython", "ipywidgets", "dask")


def _module_names() -> list[str]:
    def refuse(name: str) -> None:   # an unimportable package would otherwise be skipped without a word
        raise ImportError(f"cannot import {name} while walking kneebayes")

    found = ["kneebayes"]
    for info in pkgutil.walk_packages(kneebayes.__path__, "kneebayes.", onerror=refuse):
        found.append(info.name)
    return found


MODULES = _module_names()
IMPORTED = [name for name in MODULES if name not in NOT_IMPORTED]


def _has_text(doc: str | None) -> bool:
    return bool(doc and doc.strip())


def _class_doc(cls: type) -> str | None:
    """The class's own docstring; a dataclass's or NamedTuple's generated ``Name(field, ...)`` does not count."""
    doc = vars(cls).get("__doc__")
    if not _has_text(doc) or doc.startswith(f"{cls.__name__}("):
        return None
    return doc


def _function_of(member: object) -> types.FunctionType | None:
    """The function behind a class member (method, property, static/class method, cached property), if any."""
    if isinstance(member, property):
        member = member.fget
    elif isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    elif not inspect.isfunction(member) and inspect.isfunction(getattr(member, "func", None)):
        member = member.func   # functools.cached_property and the like
    member = inspect.unwrap(member) if callable(member) else member
    return member if inspect.isfunction(member) else None


def _member_doc(cls: type, name: str, member: object) -> str | None:
    """The member's docstring, or else that of the base class member it overrides."""
    function = _function_of(member)
    own = member.__doc__ if isinstance(member, property) else function.__doc__ if function is not None else None
    if _has_text(own):   # a property may carry its docstring itself: property(get, doc=...)
        return own
    for base in cls.__mro__[1:]:
        found = vars(base).get(name)
        if found is None or inspect.isclass(found):
            continue
        inherited = _function_of(found)
        doc = inherited.__doc__ if inherited is not None else getattr(found, "__doc__", None)
        if _has_text(doc):
            return doc
    return None


def _own_definitions(module: types.ModuleType) -> Iterator[tuple[str, object]]:
    """(name, object) for the public classes and functions the module itself defines."""
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value) or inspect.isfunction(inspect.unwrap(value) if callable(value) else value):
            yield name, value


def _undocumented_in_class(prefix: str, cls: type) -> Iterator[str]:
    if _class_doc(cls) is None:
        yield prefix
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(member) and member.__qualname__ == f"{cls.__qualname__}.{name}":
            yield from _undocumented_in_class(f"{prefix}.{name}", member)
            continue
        function = _function_of(member)
        # defined here, in this class body: an alias of a function defined elsewhere is documented there
        if function is None or function.__qualname__ != f"{cls.__qualname__}.{function.__name__}":
            continue
        if not _has_text(_member_doc(cls, name, member)):
            yield f"{prefix}.{name}"


def undocumented(module_name: str) -> list[str]:
    """Every public name the module defines without a docstring, the module itself included."""
    module = importlib.import_module(module_name)
    missing = [] if _has_text(module.__doc__) else [f"{module_name} (the module docstring)"]
    for name, value in _own_definitions(module):
        if inspect.isclass(value):
            missing.extend(_undocumented_in_class(f"{module_name}.{name}", value))
        elif not _has_text(value.__doc__):
            missing.append(f"{module_name}.{name}")
    return missing


def _pending(name: str, pending: set[str], what: str) -> list[pytest.MarkDecorator]:
    reason = f"{name} is listed in {what}: once it passes, take it off the list"
    return [pytest.mark.xfail(strict=True, reason=reason)] if name in pending else []


@pytest.mark.parametrize(
    "module_name", [pytest.param(m, marks=_pending(m, PENDING, "PENDING"), id=m) for m in IMPORTED]
)
def test_every_public_definition_has_a_docstring(module_name: str) -> None:
    missing = undocumented(module_name)
    assert missing == [], "undocumented:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize("module_name", sorted(NOT_IMPORTED))
def test_a_module_not_imported_has_a_module_docstring(module_name: str) -> None:
    spec = importlib.util.find_spec(module_name)
    assert spec is not None and spec.origin is not None, f"{module_name} is listed in NOT_IMPORTED but not found"
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    assert _has_text(ast.get_docstring(tree)), f"{module_name} has no module docstring"
    public = [node.name for node in tree.body
              if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")]
    assert public == [], f"{module_name} defines {public}: import-safe modules should hold them"


def test_the_pending_lists_name_only_what_exists() -> None:
    assert PENDING - set(MODULES) == set(), "PENDING names modules that no longer exist"
    stale = (EXAMPLES_PENDING | set(NO_EXAMPLE)) - set(kneebayes.__all__)
    assert stale == set(), f"names not in kneebayes.__all__: {sorted(stale)}"
    assert EXAMPLES_PENDING.isdisjoint(NO_EXAMPLE)


def test_the_walk_finds_the_engine_packages() -> None:
    # a guard on the walk itself: were it to stop early, every other test here would pass on nothing
    for module in ("kneebayes.network.compiled", "kneebayes.inference.posterior", "kneebayes.modelfile.schema",
                   "kneebayes.interop.importer", "kneebayes.cli.__main__"):
        assert module in MODULES


def test_the_check_sees_a_missing_method_docstring() -> None:
    fake = types.ModuleType("kneebayes.fake", "A module.")

    class Thing:
        """A class."""

        def used(self) -> None:
            """Documented."""

        def bare(self) -> None:
            pass

        @property
        def size(self) -> int:
            return 0

    Thing.__module__ = fake.__name__
    fake.Thing = Thing
    sys.modules[fake.__name__] = fake
    try:
        assert undocumented(fake.__name__) == ["kneebayes.fake.Thing.bare", "kneebayes.fake.Thing.size"]
    finally:
        del sys.modules[fake.__name__]


# A fresh interpreter in which the extras cannot be imported, as after ``pip install kneebayes``.
_CORE_ONLY = textwrap.dedent(
    """\
    import importlib, importlib.abc, json, sys

    class NoExtras(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in EXTRAS:
                raise ModuleNotFoundError(f"No module named {name!r} (an extra)", name=name)
            return None

    sys.meta_path.insert(0, NoExtras())
    failed = {}
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed[name] = f"{type(error).__name__}: {error}"
    print(json.dumps(failed))
    """
)


def test_every_module_imports_with_the_core_install() -> None:
    script = f"EXTRAS = {EXTRAS!r}\nMODULES = {IMPORTED!r}\n" + _CORE_ONLY
    # the kneebayes under test, which need not be the installed one (pytest runs from src/)
    env = {**os.environ, "PYTHONPATH": str(Path(kneebayes.__file__).resolve().parent.parent)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "{}", result.stdout


def _public_api() -> list[str]:
    return [name for name in kneebayes.__all__
            if inspect.isclass(getattr(kneebayes, name)) or inspect.isfunction(getattr(kneebayes, name))]


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=_pending(n, EXAMPLES_PENDING, "EXAMPLES_PENDING"), id=n)
     for n in _public_api() if n not in NO_EXAMPLE],
)
def test_every_public_class_and_function_shows_an_example(name: str) -> None:
    doc = getattr(kneebayes, name).__doc__ or ""
    assert ">>> " in doc, f"kneebayes.{name} has no >>> example in its docstring"
