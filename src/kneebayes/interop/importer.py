"""Import a network from pgmpy or a BIF / XMLBIF file into an ordinary kneebayes model.

**The boundary.** :func:`load_bif` and :func:`from_pgmpy` are where outside
data enters; whatever they are given, they either return a model whose
tables are finite probabilities summing to 1, or raise a short kneebayes
error that names the bad thing (file, line where known, node, column or
argument) and says what would be valid, quoting at most a bounded prefix of
the input:

* :class:`~kneebayes.errors.InputFileError`: the file cannot be read
  (missing, not a regular file, too big, not UTF-8, bad gzip);
* :class:`~kneebayes.errors.ModelFileError`: the network is broken (syntax,
  a variable without a table, an unknown or duplicate variable, a repeated
  XMLBIF ``DEFINITION`` or BIF ``probability`` block, a wrong number of
  values, duplicate states, a cycle, NaN, infinite or negative numbers, a
  column not summing to 1, names a model cannot carry); every problem
  found is listed (at most :data:`MAX_PROBLEMS`);
* :class:`~kneebayes.errors.UnknownNodeError` /
  :class:`~kneebayes.errors.InvalidStateError`: an argument names a node or
  state the network lacks;
* :class:`~kneebayes.errors.SettingError`: an argument has a bad value
  (a negative cost, a NaN tolerance, no targets);
* ``TypeError``: an argument has the wrong Python type (a single string
  where a list of ids is meant).

Never a pgmpy, XML-parser or other library exception, and never a silent
repair beyond the documented renormalisation. Files are read by kneebayes's
own parsers (:mod:`.bif_reader`, :mod:`.xmlbif_reader`), not pgmpy's:
pgmpy's BIF reader takes quadratic time on hostile text (seconds for 20 KB)
and silently lets a repeated block win; both parsers here run in linear
time. XML is parsed by the standard library's expat after any ``<!ENTITY``
declaration has been refused, so entity expansion ("billion laughs") cannot
happen.

**The data flow.** The arguments are checked here first (they need no
file); then a reader (:mod:`.pgmpy_reader`, :mod:`.bif_reader`,
:mod:`.xmlbif_reader`) turns the source into parsed variables
(:mod:`.parsed`), and :mod:`.build` checks them the same way whatever their
source and builds the model.

**Renormalisation.** Published BIF files are rounded: their columns sum to
1 only within about 3e-7. The importer renormalises each column that is off
by at most ``tolerance`` (default 1e-6) and reports every column it touched
(a ``RenormalisedWarning`` and ``model.import_report``); a column off by
more is an error naming node and column. The model-file validator itself
stays strict at 1e-9.

Each target may have a *normal* state, its no-fault state, which the
``confident`` stop rule needs (see ``Diagnosis.leading_probability``): give
it with ``normal_states={target: state}``. A target not given one gets it
by name (:func:`normal_state_by_name`) unless ``detect_normal_states=False``;
a target with states exactly ``yes``/``no`` has ``no`` by default anyway.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import QUOTE_LIMIT, SettingError, quote
from ..files import read_text
from ..modelfile.numbers import is_number
from .bif_reader import read_bif
from .build import (
    NORMAL_STATE_NAMES,
    ImportOptions,
    Renormalised,
    RenormalisedWarning,
    build_model,
    normal_state_by_name,
)
from .parsed import MAX_PROBLEMS, short
from .pgmpy_reader import read_pgmpy_network
from .xmlbif_reader import read_xmlbif

if TYPE_CHECKING:
    from ..model import Model

__all__ = [
    "IMPORT_TOLERANCE",
    "MAX_PROBLEMS",
    "MAX_TOLERANCE",
    "NORMAL_STATE_NAMES",
    "Renormalised",
    "RenormalisedWarning",
    "from_pgmpy",
    "load_bif",
    "normal_state_by_name",
]

IMPORT_TOLERANCE = 1e-6

#: The largest ``tolerance`` accepted: beyond it "renormalising" would hide real errors in a table.
MAX_TOLERANCE = 1e-2

#: What may come before the first character, which tells XML (``<``) from BIF.
_BLANKS = re.compile(r"\s*")


# ---------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------

def from_pgmpy(network: Any, targets: Sequence[str], askable: Iterable[str] | None = None, *,
               questions: dict[str, str] | None = None, costs: dict[str, float] | None = None,
               name: str = "imported", source: str = "pgmpy model", tolerance: float = IMPORT_TOLERANCE,
               normal_states: Mapping[str, str] | None = None, detect_normal_states: bool = True) -> Model:
    """A kneebayes model from a pgmpy DiscreteBayesianNetwork.

    ``targets`` (a list of node ids, at least one) become the model's causes
    (kind ``cause``); ``askable`` (default: every non-target) may be asked
    about; ``questions`` and ``costs`` optionally give question texts
    (default: the node's name) and costs (positive numbers, default 1) per
    node. ``tolerance`` (0 to :data:`MAX_TOLERANCE`) is how far a column may
    sum from 1 and still be renormalised.

    ``normal_states`` maps a target to its normal (no-fault) state, which
    the ``confident`` stop rule uses. A target not named there gets the
    state :func:`normal_state_by_name` finds (``absent``, ``Normal``,
    ``Correct``, ...), unless ``detect_normal_states`` is False; a target
    with states ``yes``/``no`` has ``no`` by default. ``model.normal_states``
    shows the result, and ``model.save`` keeps it. A key that is not a
    target raises UnknownNodeError; a state the target does not have,
    InvalidStateError.

    Every table is checked (see the module docstring): a CPD missing, of
    the wrong shape, disagreeing with the graph or holding NaN, infinite or
    negative numbers raises ModelFileError naming node and column.
    """
    options = _options(targets, askable, questions=questions, costs=costs, name=name, source=source,
                       tolerance=tolerance, normal_states=normal_states, detect_normal_states=detect_normal_states)
    return build_model(read_pgmpy_network(network, options.source), options)


def load_bif(path: str | Path, targets: Sequence[str], askable: Iterable[str] | None = None, **kwargs: Any) -> Model:
    """A kneebayes model from a ``.bif``, ``.bif.gz`` or XMLBIF (``.xml``, ``.xmlbif``, also gzipped) file.

    Takes the keyword arguments of :func:`from_pgmpy`; ``name`` defaults to
    the file's name without suffixes, ``source`` to the file's name. The
    format is told by the content (XML starts with ``<``). The file is read
    by kneebayes's own strict parsers: they read the networks pgmpy ships
    exactly as pgmpy does, and refuse, naming file, line and node, what
    pgmpy would misread or fail on (see the module docstring).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or Path), not {type(path).__name__}")
    path = Path(path)
    kwargs.setdefault("name", path.name.split(".")[0] or "imported")
    kwargs.setdefault("source", path.name)
    options = _options(targets, askable, **kwargs)   # argument errors first: they need no file
    text = read_text(path, what="network file")
    if text.startswith("\ufeff"):
        text = text[1:]
    first = _BLANKS.match(text).end()   # type: ignore[union-attr]  # r"\s*" always matches
    if text[first:first + 1] == "<":   # XML: BIF never starts so
        variables = read_xmlbif(text, options.source)
    else:
        variables = read_bif(text, options.source)
    return build_model(variables, options)


# ---------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------

def _options(targets: Any, askable: Any = None, *, questions: Any = None, costs: Any = None,
             name: Any = "imported", source: Any = "pgmpy model", tolerance: Any = IMPORT_TOLERANCE,
             normal_states: Any = None, detect_normal_states: Any = True) -> ImportOptions:
    """The arguments of :func:`from_pgmpy`, checked for type and value; a TypeError or SettingError if bad."""
    target_ids = _id_list(targets, "targets")
    if not target_ids:
        raise SettingError("targets is empty; name at least one node as a target (a cause to diagnose)")
    seen: set[str] = set()
    for t in target_ids:
        if t in seen:
            raise SettingError(f"target {quote(t)} is listed twice in targets; list each target once")
        seen.add(t)
    ask = None if askable is None else _id_list(askable, "askable")
    question_texts = _mapping(questions, "questions")
    for key, text in question_texts.items():
        _id(key, "questions")
        if not isinstance(text, str):
            raise TypeError(f"questions[{quote(key)}] must be text (str), not {type(text).__name__}")
        if not text.strip():
            raise SettingError(f"questions[{quote(key)}] is empty; give the question's text, or leave the node out "
                               f"to use its name")
    cost_values = _mapping(costs, "costs")
    for key, cost in cost_values.items():
        _id(key, "costs")
        if isinstance(cost, bool) or not isinstance(cost, numbers.Real):
            raise TypeError(f"costs[{quote(key)}] must be a number, not {type(cost).__name__}")
        if not (is_number(cost) and cost > 0):   # is_number: finite, and fits a float (not 10**400)
            raise SettingError(f"costs[{quote(key)}] must be a positive finite number, got {quote(cost)}")
    if not isinstance(name, str):
        raise TypeError(f"name must be text (str), not {type(name).__name__}")
    if not isinstance(source, str):
        raise TypeError(f"source must be text (str), not {type(source).__name__}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real):
        raise TypeError(f"tolerance must be a number, not {type(tolerance).__name__}")
    if not (is_number(tolerance) and 0 <= tolerance <= MAX_TOLERANCE):
        raise SettingError(f"tolerance must be a number from 0 to {MAX_TOLERANCE:g} (the default is "
                           f"{IMPORT_TOLERANCE:g}), got {quote(tolerance)}")
    normal = _mapping(normal_states, "normal_states")
    if not isinstance(detect_normal_states, bool):
        raise TypeError(f"detect_normal_states must be True or False, not {type(detect_normal_states).__name__}")
    return ImportOptions(
        targets=tuple(target_ids), askable=None if ask is None else tuple(ask),
        questions={k: v for k, v in question_texts.items()}, costs={k: float(v) for k, v in cost_values.items()},
        name=name or "imported", source=short(source, 4 * QUOTE_LIMIT), tolerance=float(tolerance),
        normal_states=dict(normal), detect_normal_states=detect_normal_states,
    )


def _id_list(value: Any, what: str) -> list[str]:
    """``value`` as a list of node ids: refuses a lone string, which would be read letter by letter."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a list of node ids, not a single string {quote(value)}; "
                        f"write [{quote(value)}] for one node")
    if not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a list of node ids, not {type(value).__name__}")
    out = list(value)   # a dict gives its keys: askable=questions is a documented use
    for item in out:
        _id(item, what)
    return out


def _id(value: object, what: str) -> str:
    """``value``, if it is a node id (text)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must name nodes by their ids (str); got {quote(value)} ({type(value).__name__})")
    return value


def _mapping(value: Any, what: str) -> Mapping[Any, Any]:
    """``value`` as a mapping keyed by node id (None gives an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict keyed by node id, not {type(value).__name__}")
    return value

