"""Safe parse of a model file into a validated ModelSpec.

Every problem is collected with file, line, node and field, so
:func:`check_model_file` can list them all at once and
:func:`load_spec` can raise one :class:`ModelFileError` holding them all.

This module composes the steps, each a module of its own: :mod:`.reader`
(file to parsed YAML), :mod:`.nodes` with :mod:`.distributions` (the
nodes and their numbers), :mod:`.claims` and :mod:`.rules` (claims, costs,
interview settings, red flags, escalations, care). The format's vocabulary
is :mod:`.format`; the checks shared with ``with_parameters`` are
:mod:`.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path
from typing import Any

from ..errors import ModelFileError, Problem, WrongTypeError, quote
from .checks import is_probability
from .claims import read_claims
from .fields import SUGGESTION_BUDGET, FieldReader, line_of
from .format import (
    CLAIM_CHECKS,
    DEFAULT_COST,
    DEFAULT_COST_LEVEL,
    FORMAT,
    KNOWN_KINDS,
    MAX_MODEL_FILE_BYTES,
    SUM_TOLERANCE,
    TOP_KEYS,
    complement,
)
from .nodes import read_nodes
from .reader import read_data
from .rules import read_care, read_costs, read_escalations, read_graded_answers, read_interview, read_red_flags
from .schema import ModelSpec

# The format's names stay importable from here, as they were before the format had a module of its own.
__all__ = [
    "parse_spec", "check_model_file", "load_spec", "default_model_path",
    "FORMAT", "MAX_MODEL_FILE_BYTES", "SUM_TOLERANCE", "CLAIM_CHECKS", "DEFAULT_COST", "DEFAULT_COST_LEVEL",
    "KNOWN_KINDS", "SUGGESTION_BUDGET", "complement",
]


def _scale(reader: FieldReader, data: Mapping[str, Any]) -> None:
    """The verbal scale (term -> number), read into ``reader.scale`` before any number uses it."""
    scale_raw = data.get("scale", {})
    if not isinstance(scale_raw, Mapping):
        reader.problem("scale must map each verbal term to its number", field="scale", line=line_of(data, "scale"))
        return
    for term, v in scale_raw.items():
        if not isinstance(term, str) or not term.strip():
            reader.problem(f"scale term {quote(term)} must be a word (text)", field=f"scale.{term}",
                           line=line_of(scale_raw, term))
        elif not is_probability(v):
            reader.problem(f"scale term {quote(term)} must be a number in [0, 1], got {quote(v)}", field=f"scale.{term}",
                           line=line_of(scale_raw, term))
        else:
            reader.scale[str(term)] = float(v)


def parse_spec(data: Any, file: str) -> tuple[ModelSpec | None, list[Problem]]:
    """Validate parsed YAML; return the spec (None if anything is wrong) and every problem."""
    reader = FieldReader(file)
    if not isinstance(data, Mapping):
        reader.problem("a model file must be a YAML mapping with format, name, version, title and nodes", line=1)
        return None, reader.problems
    reader.unknown_keys(data, TOP_KEYS, node=None, field=None)
    fmt = data.get("format")
    if fmt != FORMAT:
        reader.problem(f"format must be {quote(FORMAT)}, got {quote(fmt)}", field="format", line=line_of(data, "format"))
    header = {k: reader.text(data, k, node=None) for k in ("name", "version", "title")}
    description = reader.text(data, "description", node=None, required=False)
    source_document = reader.text(data, "source_document", node=None, required=False)
    disclaimer = reader.text(data, "disclaimer", node=None, required=False)
    _scale(reader, data)
    costs = read_costs(reader, data.get("costs"), line_of(data, "costs"))
    interview = read_interview(reader, data.get("interview"), line_of(data, "interview"))
    graded = read_graded_answers(reader, data.get("graded_answers"), line_of(data, "graded_answers"))

    section = read_nodes(reader, data, costs)
    if section is None:
        return None, reader.problems
    states, kinds = section.states, section.kinds
    claims = read_claims(reader, data.get("claims"), line_of(data, "claims"), states, kinds)
    askable = {n.id: n.askable for n in section.nodes}
    red_flags = read_red_flags(reader, data.get("red_flags"), line_of(data, "red_flags"), states, askable)
    escalations = read_escalations(reader, data.get("escalations"), line_of(data, "escalations"), states, kinds)
    care = read_care(reader, data.get("care"), line_of(data, "care"), states, kinds)
    if reader.problems or None in header.values():
        return None, reader.problems
    spec = ModelSpec(
        name=header["name"] or "", version=header["version"] or "", title=header["title"] or "",
        nodes=section.nodes, scale=tuple(reader.scale.items()), claims=claims,
        description=description, source_document=source_document, path=file, disclaimer=disclaimer,
        costs=tuple(costs.items()), interview=interview, red_flags=red_flags, escalations=escalations, care=care,
        graded_answers=graded,
    )
    return spec, []


def _read(path: str | Path) -> tuple[ModelSpec | None, list[Problem]]:
    # MAX_MODEL_FILE_BYTES is looked up here at each call, so a caller (a test) may lower it on this module.
    if not isinstance(path, (str, os.PathLike)):   # pathlib's own TypeError names no argument
        raise WrongTypeError(f"path must be a model file's path (str or Path), not {type(path).__name__}")
    if not str(path).strip():   # Path("") is the current folder: "is a folder" would puzzle
        return None, [Problem("(no path)", "the model file's path is empty; give a file's path, or none for the "
                                           "packaged model")]
    data, problems = read_data(path, MAX_MODEL_FILE_BYTES)
    if problems:
        return None, problems
    return parse_spec(data, str(path))


def check_model_file(path: str | Path) -> list[Problem]:
    """Every problem in a model file, without raising; an empty list means it loads.

    >>> from kneebayes import check_model_file
    >>> from kneebayes.modelfile.load import default_model_path
    >>> check_model_file(default_model_path())
    []
    """
    return _read(path)[1]


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a model file; raise :class:`ModelFileError` listing every problem."""
    spec, problems = _read(path)
    if problems or spec is None:
        raise ModelFileError(problems)
    return spec


def default_model_path() -> Path:
    """The packaged default model file.

    Inside an installed wheel it sits in ``kneebayes/models/``; in a source
    checkout (editable install) it is the repository's ``models/knee.yaml``,
    the one file researchers edit.
    """
    package = Path(__file__).resolve().parent.parent
    packaged = package / "models" / "knee.yaml"
    return packaged if packaged.is_file() else package.parent.parent / "models" / "knee.yaml"
