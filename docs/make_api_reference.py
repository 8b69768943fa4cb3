"""Generate the API reference (docs/api.md) from the docstrings, so it cannot drift.

    python docs/make_api_reference.py            # rewrite docs/api.md
    python docs/make_api_reference.py --check    # exit 1 if docs/api.md is not what it would write

For every name in ``kneebayes.__all__``, the result types a diagnosis hands
back, and the public functions of the research, display and interop
modules: the signature, the docstring's first paragraph and its examples.
Classes list their public methods and properties the same way, and the
fields of a dataclass. The output is deterministic: no dates, no absolute
paths, no memory addresses (a default whose repr has one is an error).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import enum
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kneebayes

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "api.md"
REGENERATE = "python docs/make_api_reference.py"

RESULTS = "What a diagnosis hands back"

# Where each name of kneebayes.__all__ goes; a name not listed here lands in "Other names",
# so a new public name is never left out.
TOP_LEVEL_SECTIONS: list[tuple[str, str, list[str]]] = [
    ("Models and diagnoses", "Load a model file, diagnose a set of answers, check the article's claims.",
     ["load_model", "check_model_file", "Model", "Node", "Diagnosis", "ModelInfo", "ClaimReport", "ClaimResult"]),
    ("The interview", "A session that asks the best question, records answers and stops by a rule.",
     ["Interview", "Question", "Settings", "StopReason"]),
    (RESULTS, "`Diagnosis.triage`, `care_plan`, `explain()` and `rationale()`, and `Interview.history`, return "
              "these frozen values (not in `kneebayes.__all__`). Each has a readable `str()`; some have "
              "`to_dict()` or `to_html()`.", []),
    ("Researchers", "Sensitivity of a posterior to the hand-set numbers.", ["sensitivity"]),
    ("Importing networks", "Any discrete network from pgmpy or a BIF / XMLBIF / XDSL file, as a kneebayes model.",
     ["load_network", "load_bif", "from_pgmpy", "RenormalisedWarning"]),
    ("Errors", "", [
        "KneeBayesError", "ModelFileError", "ParameterError", "EvidenceError", "UnknownNodeError",
        "InvalidStateError", "ImpossibleEvidenceError", "AlreadyAnsweredError", "Problem",
    ]),
    ("Version", "", ["__version__"]),
]

# Values a Diagnosis (or an Interview) hands back; not in kneebayes.__all__, never built by hand.
RESULT_TYPES: list[str] = [
    "kneebayes.triage.Triage",
    "kneebayes.triage.Reason",
    "kneebayes.care.CareAdvice",
    "kneebayes.explain.Explanation",
    "kneebayes.explain.Contribution",
    "kneebayes.questions.Rationale",
    "kneebayes.questions.AnswerEffect",
    "kneebayes.interview.Step",
]

# Modules whose public functions and classes (their __all__) are documented too.
MODULES: list[tuple[str, str]] = [
    ("kneebayes.research.sensitivity", "One-way sensitivity and sensitivity functions."),
    ("kneebayes.research.intervals", "Uncertainty from the ranges: intervals and the stability of the top question."),
    ("kneebayes.research.parameters", "Numbers by address on a model's spec (`Model.parameters`, "
                                      "`Model.with_parameters` and `Model.diff` call these)."),
    ("kneebayes.batch", "Many cases at once (`Model.diagnose_frame` calls this)."),
    ("kneebayes.display", "HTML for notebooks and matplotlib figures; each returns a string or a Figure."),
    ("kneebayes.interop.files", "BIF, XMLBIF and XDSL files and text, by kneebayes's own writers (`Model.to_bif` "
                                "and `Model.to_xmlbif` call these)."),
]

# Classes whose constructor is not for users: no signature, this sentence instead.
NOT_BUILT_BY_HAND = {
    "Diagnosis": "Returned by `Model.diagnose` and `Interview.diagnosis`; not built by hand.",
}

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_ROLE = re.compile(r":(?:func|meth|class|attr|mod|data|obj|exc):`~?([^`]+)`")
_SECTION = re.compile(r"^([A-Z][A-Za-z ]+)\n-{3,}$", re.MULTILINE)


# -- text -----------------------------------------------------------------------------
def markdown(text: str) -> str:
    """reStructuredText inline markup as Markdown: ``x`` and :func:`x` become `x`."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


def first_paragraph(doc: str) -> str:
    """The first paragraph that is prose (not a doctest and not a section), on one line."""
    for para in re.split(r"\n\s*\n", doc.strip()):
        stripped = para.strip()
        if not stripped or stripped.startswith(">>>") or _SECTION.match(stripped):
            continue
        return markdown(" ".join(line.strip() for line in stripped.splitlines()))
    return ""


def examples(doc: str) -> str:
    """The numpydoc ``Examples`` section, else every doctest block of the docstring."""
    match = re.search(r"^Examples\n-{3,}\n(.*?)(?=^[A-Z][A-Za-z ]+\n-{3,}\n|\Z)", doc, re.MULTILINE | re.DOTALL)
    if match:
        return match.group(1).strip("\n").rstrip()
    blocks: list[str] = []
    current: list[str] = []
    for line in doc.splitlines():
        if line.lstrip().startswith(">>>") or (current and line.strip()):
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    if not blocks:
        return ""
    indent = min(len(b) - len(b.lstrip()) for b in blocks)
    return "\n\n".join("\n".join(line[indent:] for line in b.splitlines()) for b in blocks)


# -- signatures -----------------------------------------------------------------------
class _Text(str):
    """An annotation kept as written (``from __future__ import annotations`` leaves strings)."""

    def __repr__(self) -> str:
        return str(self)


def _annotation(annotation: Any) -> Any:
    if annotation is inspect.Parameter.empty:
        return annotation
    if isinstance(annotation, str):
        return _Text(annotation)
    return _Text(inspect.formatannotation(annotation))


def signature(obj: Callable[..., Any], name: str, *, drop_self: bool = False, returns: bool = True) -> str:
    """``name(params) -> return`` with annotations as written in the source (no return for a constructor)."""
    sig = inspect.signature(obj)
    params = list(sig.parameters.values())
    if drop_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    params = [p.replace(annotation=_annotation(p.annotation)) for p in params]
    returned = _annotation(sig.return_annotation) if returns else inspect.Signature.empty
    sig = sig.replace(parameters=params, return_annotation=returned)
    text = f"{name}{sig}"
    if _ADDRESS.search(text):
        raise ValueError(f"{name}: a default's repr holds a memory address, which would make the output vary: {text}")
    return text


def _property_type(func: Callable[..., Any]) -> str:
    returned = inspect.signature(func).return_annotation
    return "" if returned is inspect.Signature.empty else str(_annotation(returned))


# -- entries --------------------------------------------------------------------------
def _doc(obj: Any) -> str:
    return inspect.getdoc(obj) or ""


def _block(code: str, lang: str = "python") -> list[str]:
    return [f"```{lang}", code, "```", ""]


def _body(doc: str) -> list[str]:
    out = []
    para = first_paragraph(doc)
    if para:
        out += [para, ""]
    ex = examples(doc)
    if ex:
        out += _block(ex)
    return out


def _own_members(cls: type) -> Iterator[tuple[str, Any]]:
    """Public methods and properties defined on the class itself, in source order."""
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    for name, value in vars(cls).items():
        if name.startswith("_") or name in fields:
            continue
        if isinstance(value, (staticmethod, classmethod)) or inspect.isfunction(value):
            yield name, value
        elif isinstance(value, property) or (hasattr(value, "func") and hasattr(value, "__get__")):
            yield name, value  # property or a cached property


def member_entry(cls: type, name: str, value: Any) -> list[str]:
    title = f"{cls.__name__}.{name}"
    if isinstance(value, property) or (hasattr(value, "func") and not inspect.isfunction(value)
                                       and not isinstance(value, (staticmethod, classmethod))):
        func = value.fget if isinstance(value, property) else value.func
        kind = "property" if isinstance(value, property) else "cached property"
        typ = _property_type(func)
        return [f"#### `{title}`", "", f"*{kind}*" + (f" `{typ}`" if typ else ""), "", *_body(_doc(value) or _doc(func))]
    func = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
    prefix = "classmethod " if isinstance(value, classmethod) else "staticmethod " if isinstance(value, staticmethod) else ""
    sig = signature(func, title, drop_self=not isinstance(value, staticmethod))
    return [f"#### `{title}`", "", *_block(prefix + sig), *_body(_doc(func))]


def class_entry(cls: type, qualified: str) -> list[str]:
    out = [f"### `{qualified}`", ""]
    bases = [b.__name__ for b in cls.__bases__ if b is not object]
    if cls.__name__ in NOT_BUILT_BY_HAND:
        out += [NOT_BUILT_BY_HAND[cls.__name__], ""]
    elif issubclass(cls, BaseException) or issubclass(cls, enum.Enum):
        out += _block(f"class {cls.__name__}({', '.join(bases)})")
    else:
        header = "class " + signature(cls.__init__, cls.__name__, drop_self=True, returns=False)
        if bases:
            header += f"  # bases: {', '.join(bases)}"
        out += _block(header)
    out += _body(_doc(cls))
    if issubclass(cls, enum.Enum):
        out += ["Members: " + ", ".join(f"`{m.name}` (`{m.value!r}`)" for m in cls) + ".", ""]
    for name, value in _own_members(cls):
        out += member_entry(cls, name, value)
    return out


def function_entry(func: Callable[..., Any], qualified: str) -> list[str]:
    return [f"### `{qualified}`", "", *_block(signature(func, qualified)), *_body(_doc(func))]


def entry(obj: Any, qualified: str) -> list[str]:
    if inspect.isclass(obj):
        return class_entry(obj, qualified)
    if callable(obj):
        return function_entry(obj, qualified)
    return [f"### `{qualified}`", "", *_block(f"{qualified} = {obj!r}"), ""]


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


# -- the page -------------------------------------------------------------------------
def render() -> str:
    """The whole of docs/api.md as a string."""
    lines = [
        "# API reference",
        "",
        f"<!-- Generated from the docstrings by docs/make_api_reference.py; do not edit by hand. "
        f"Regenerate with `{REGENERATE}`. -->",
        "",
        f"kneebayes {kneebayes.__version__}. Every name of `kneebayes.__all__`, then the values a diagnosis "
        "hands back, then the research, display and interop modules: each with its signature, the first "
        "paragraph of its docstring and its examples (which run as doctests). The docstrings themselves say "
        "more: `help(kneebayes.Model.diagnose)`.",
        "",
        "Optional dependencies load inside the functions that need them: pandas for DataFrames "
        "(`sensitivity`, intervals, `diagnose_frame`), matplotlib for plots, pgmpy for export and import "
        "(`pip install \"kneebayes[research]\"` brings pandas and matplotlib).",
        "",
    ]
    documented: dict[int, str] = {}
    placed = {name for _, _, names in TOP_LEVEL_SECTIONS for name in names}
    sections = list(TOP_LEVEL_SECTIONS)
    leftover = [name for name in kneebayes.__all__ if name not in placed]
    if leftover:
        sections.insert(len(sections) - 1, ("Other names", "", sorted(leftover)))
    unknown = placed - set(kneebayes.__all__)
    if unknown:
        raise ValueError(f"names listed in TOP_LEVEL_SECTIONS but not in kneebayes.__all__: {sorted(unknown)}")

    for title, intro, names in sections:
        lines += [f"## {title}", ""]
        if intro:
            lines += [intro, ""]
        if title == "Errors":
            lines += [markdown(first_paragraph(_doc(importlib.import_module("kneebayes.errors")))), ""]
            lines += _block(_hierarchy(), "text")
        for name in names:
            obj = getattr(kneebayes, name)
            lines += entry(obj, f"kneebayes.{name}")
            if callable(obj):
                documented[id(obj)] = f"kneebayes.{name}"
        if title == RESULTS:
            for dotted in RESULT_TYPES:
                obj = _resolve(dotted)
                lines += entry(obj, dotted)
                documented[id(obj)] = dotted

    for module_name, intro in MODULES:
        module = importlib.import_module(module_name)
        lines += [f"## `{module_name}`", "", intro, ""]
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj):
                continue
            if id(obj) in documented:
                lines += [f"### `{module_name}.{name}`", "", f"The same object as `{documented[id(obj)]}` above.", ""]
                continue
            lines += entry(obj, f"{module_name}.{name}")
            documented[id(obj)] = f"{module_name}.{name}"

    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _hierarchy() -> str:
    """The exception tree drawn in kneebayes.errors' docstring."""
    doc = _doc(importlib.import_module("kneebayes.errors"))
    tree = doc.split("::", 1)[1] if "::" in doc else ""
    rows = [line for line in tree.splitlines() if line.strip()]
    indent = min((len(r) - len(r.lstrip()) for r in rows), default=0)
    return "\n".join(r[indent:] for r in rows)


def check(output: Path = DEFAULT_OUTPUT) -> list[str]:
    """The unified diff between ``output`` and what :func:`render` gives; empty when up to date."""
    expected = render()
    actual = output.read_text(encoding="utf-8") if output.exists() else ""
    if actual == expected:
        return []
    return list(difflib.unified_diff(actual.splitlines(), expected.splitlines(), f"{output.name} (committed)",
                                     f"{output.name} (generated)", lineterm=""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not what would be written")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where the reference goes")
    args = parser.parse_args(argv)
    if args.check:
        diff = check(args.output)
        if diff:
            print(f"{args.output} is out of date; regenerate with `{REGENERATE}`:", file=sys.stderr)
            print("\n".join(diff[:60]), file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(render(), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
