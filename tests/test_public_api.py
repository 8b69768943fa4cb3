"""The public names are exactly what ``kneebayes.__all__`` says, and each is documented."""

from __future__ import annotations

import inspect
import types

import pytest

import kneebayes

PUBLIC = [name for name in kneebayes.__all__ if name != "__version__"]


def _public_dir() -> set[str]:
    """Names in dir(kneebayes) that look public: no underscore and not a submodule."""
    return {
        name for name in dir(kneebayes)
        if not name.startswith("_") and not isinstance(getattr(kneebayes, name), types.ModuleType)
    }


def test_all_has_no_duplicates() -> None:
    assert len(kneebayes.__all__) == len(set(kneebayes.__all__))


def test_version_is_a_string() -> None:
    assert isinstance(kneebayes.__version__, str)
    assert kneebayes.__version__.count(".") >= 1


def test_every_public_name_from_kneebayes_is_in_all() -> None:
    # not even `annotations`, which `from __future__ import annotations` would leave behind
    leaked = _public_dir() - set(kneebayes.__all__)
    assert leaked == set(), f"public names missing from __all__: {sorted(leaked)}"


def test_all_names_come_from_kneebayes() -> None:
    for name in PUBLIC:
        obj = getattr(kneebayes, name)
        assert getattr(obj, "__module__", "").startswith("kneebayes"), (name, obj)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_class_and_function_exists_and_has_a_docstring(name: str) -> None:
    assert hasattr(kneebayes, name), f"kneebayes.__all__ names {name!r}, which kneebayes does not define"
    obj = getattr(kneebayes, name)
    assert inspect.isclass(obj) or callable(obj), name
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"kneebayes.{name} has no docstring"
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        # dataclasses invent a docstring from the signature ("Node(id: str, ...)"); that does not count
        assert not doc.startswith(f"{name}("), f"kneebayes.{name} has only the generated dataclass docstring"


def _undocumented_members() -> list[str]:
    missing = []
    for name in PUBLIC:
        cls = getattr(kneebayes, name)
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        for attr, value in vars(cls).items():
            if attr.startswith("_") or not (callable(value) or hasattr(value, "__get__")):
                continue
            if not (getattr(value, "__doc__", None) or "").strip():
                missing.append(f"{name}.{attr}")
    return missing


def test_every_public_method_and_property_has_a_docstring() -> None:
    assert _undocumented_members() == []
