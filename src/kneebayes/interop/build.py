"""Build the kneebayes model from parsed variables, after the checks common to every source.

Whichever reader produced them, the variables are checked here for what a
model (and a saved model file) can carry: node ids without blanks, ``=``,
commas, brackets or braces; at least two states, each named, none twice; no
cycle; every table column made of probabilities (no NaN, infinite, negative
or above-1 value) summing to 1 within the tolerance. A column off by at most
the tolerance is renormalised and reported (:class:`Renormalised`,
:class:`RenormalisedWarning`); every other problem is listed in one
:class:`~kneebayes.errors.ModelFileError`. The node names the arguments
use are checked against the network here too
(:class:`~kneebayes.errors.UnknownNodeError`,
:class:`~kneebayes.errors.InvalidStateError`), and each target gets its
normal state (:func:`normal_state_by_name`).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    QUOTE_LIMIT,
    InputFileError,
    IntractableError,
    InvalidStateError,
    KneeBayesError,
    ModelFileError,
    Problem,
    UnknownNodeError,
    control_character,
    quote,
    stacklevel_outside,
)
from ..model import Model
from ..modelfile.format import NODE_ID
from ..modelfile.schema import ModelSpec, NodeSpec, Parameter, Prior, Table, TableColumn, implicit_normal_state
from ..settings import MEMORY_BUDGET
from .parsed import ParsedVariable, Problems, counted, listing, parents_first_order, short

#: State names compared case-insensitively, whole name, that mean "no fault" whatever the node is.
#: Not yes/no or true/false: whether "Yes" is the healthy state depends on the question (Win95pts'
#: ``PrtOn`` is healthy when "Yes", ALARM's ``HYPOVOLEMIA`` when "FALSE").
NORMAL_STATE_NAMES: tuple[str, ...] = ("normal", "ok", "correct", "absent", "healthy", "intact", "functional",
                                       "operational", "working")


def normal_state_by_name(states: Sequence[str]) -> str | None:
    """The state whose name says "no fault", if exactly one does; else None.

    A name counts when it is, ignoring case, one of :data:`NORMAL_STATE_NAMES`
    (normal, ok, correct, absent, healthy, intact, functional, operational,
    working) as a whole: ``Not_Operational`` does not count. Two such states,
    or none, give None: the rule never guesses.

    >>> normal_state_by_name(["present", "absent"])
    'absent'
    >>> normal_state_by_name(["Correct", "Incorrect"])
    'Correct'
    >>> print(normal_state_by_name(["Yes", "No"]), normal_state_by_name(["PFC", "TGA", "Fallot"]))
    None None
    """
    found = [s for s in states if s.casefold() in NORMAL_STATE_NAMES]
    return found[0] if len(found) == 1 else None


class RenormalisedWarning(UserWarning):
    """Some imported table columns were rescaled to sum to exactly 1.

    Raised (as a warning) by the importers when a column sums to 1 within
    the import tolerance but not within 1e-9; ``model.import_report`` lists
    the columns (:class:`Renormalised`). Turn it into an error with
    ``warnings.simplefilter("error", RenormalisedWarning)``, or record it:

    >>> import os, tempfile, warnings
    >>> import kneebayes
    >>> path = os.path.join(tempfile.mkdtemp(), "rain.bif")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("network rain {}\\n"
    ...                 "variable Rain { type discrete [ 2 ] { yes, no }; }\\n"
    ...                 "probability ( Rain ) { table 0.2, 0.79999999; }\\n")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = kneebayes.load_bif(path, targets=["Rain"])
    >>> [w.category.__name__ for w in caught]
    ['RenormalisedWarning']
    >>> model.import_report[0].node, round(model.import_report[0].total, 8)
    ('Rain', 0.99999999)
    """


@dataclass(frozen=True)
class Renormalised:
    """One column the importer rescaled: where, and what it summed to."""

    node: str
    given: tuple[tuple[str, str], ...]
    total: float


@dataclass(frozen=True)
class ImportOptions:
    """The importer's arguments, checked for type and value (``build_model`` checks their node names)."""

    targets: tuple[str, ...]
    askable: tuple[str, ...] | None
    questions: dict[str, str]
    costs: dict[str, float]
    name: str
    source: str
    tolerance: float
    normal_states: dict[Any, Any]
    detect_normal_states: bool
    memory_budget: int = MEMORY_BUDGET


def build_model(variables: list[ParsedVariable], options: ImportOptions) -> Model:
    """The kneebayes model: names, arguments and every table column checked, near-1 columns renormalised."""
    source, tolerance = options.source, options.tolerance
    problems = Problems(source)
    _check_names(variables, problems)
    problems.raise_if_any()
    order = _parents_first(variables, problems)
    problems.raise_if_any()
    names = [v.name for v in variables]
    by_name = {v.name: v for v in variables}
    for t in options.targets:
        if t not in by_name:
            raise UnknownNodeError(t, names, what="target")
    for what, keys in (("askable", options.askable or ()), ("questions", options.questions),
                       ("costs", options.costs)):
        for key in keys:
            if key not in by_name:
                raise UnknownNodeError(key, names, context=f" in {what}")
    normal = _normal_states(by_name, names, options.targets, options.normal_states, options.detect_normal_states)
    targets = set(options.targets)
    # a node the source marks as never observed (pgmpy's latents) is not asked about unless askable names it
    ask = ({v.name for v in variables if not v.latent} - targets if options.askable is None
           else set(options.askable))
    origin = f"imported from {source}"
    why = "imported; not hand-set"
    touched: list[Renormalised] = []
    nodes: list[NodeSpec] = []
    _check_size(order, by_name, options)

    cells: dict[float, Parameter] = {}     # one (immutable) Parameter per distinct number: tables repeat theirs

    def cell(value: float) -> Parameter:
        found = cells.get(value)
        if found is None:
            found = cells[value] = Parameter(value, origin, why, None)
        return found

    for var in order:
        nid, states, parents = var.name, var.states, var.parents
        values = var.values
        assert values is not None
        # each (parent, state) pair made once and shared by every column that names it: a column's own pairs
        # took a kilobyte a column on a node with twenty parents
        parent_pairs = [[(p, s) for s in by_name[p].states] for p in parents]
        # columns with a cell that is no probability (NaN, infinite, negative, above 1): named cell by cell
        flagged = (~np.isfinite(values) | (values < 0) | (values > 1 + tolerance)).any(axis=0)
        columns: list[TableColumn] = []
        for j, given in enumerate(itertools.product(*parent_pairs)):
            col = values[:, j]
            defect = _column_defect(col, states, tolerance, bool(flagged[j]))
            if defect is not None:
                problems.add(f"column {_column(given)} {defect}", node=nid, field="table", line=var.table_line)
                continue
            total = math.fsum(col)
            # Off from 1 by rounding alone (a few units in the last place): kept as written, so that a network
            # written out and read back keeps its numbers bit for bit (dividing by such a total moved them an ulp,
            # and the next reading moved them again)
            if abs(total - 1.0) > len(col) * _ULP:
                # Each entry divided, to its own relative precision: a last entry taken as 1 minus the others
                # made a 1e-20 an exact zero (a possible answer then impossible) and a 3e-12 off by 2.5e-6.
                col = col / total
                if abs(total - 1.0) > REPORTED:   # past what a model file may be off by: the numbers moved
                    touched.append(Renormalised(nid, given, total))
            columns.append(TableColumn(given, tuple(map(cell, col.tolist()))))
        if problems:
            continue   # keep looking for problems; nothing is built from a bad table
        if parents:
            params: Prior | Table = Table(parents, tuple(columns), origin, why)
        else:
            params = Prior(columns[0].probabilities)
        nodes.append(NodeSpec(
            id=nid, label=var.label or nid, kind="cause" if nid in targets else "finding",
            question=options.questions.get(nid, var.label or nid), states=states, parameters=params,
            askable=nid in ask, description=var.description, cost=options.costs.get(nid, 1.0), cost_level=None,
            normal_state=normal.get(nid),
        ))
    problems.raise_if_any()
    if touched:
        warnings.warn(f"{len(touched)} imported table column(s) did not sum to 1 within 1e-9 and were renormalised "
                      f"(largest deviation {max(abs(t.total - 1) for t in touched):.2e}); see model.import_report",
                      RenormalisedWarning, stacklevel=stacklevel_outside())
    spec = ModelSpec(name=options.name, version="imported", title=f"{options.name} ({origin})", nodes=tuple(nodes),
                     source_document=source, path=None)
    try:
        return Model(spec, targets=list(options.targets), import_report=tuple(touched), memory_budget=options.memory_budget)
    except KneeBayesError:
        raise
    except ValueError as exc:   # e.g. too densely connected for exact inference
        raise ModelFileError([Problem(source, f"cannot be compiled into a model: {short(str(exc), 200)}")]) from None


def _as_id(name: str) -> str:
    """``name`` with each run of what a node id may not hold made one underscore: a suggestion only."""
    return re.sub(r"[\s=\[\],{}]+", "_", name.strip()) or "_"


#: The spacing of doubles just below 1: a column whose sum is off from 1 by its entries' count of these is rounding.
_ULP = 2.220446049250313e-16


def _check_names(variables: list[ParsedVariable], problems: Problems) -> None:
    """Node ids and states a kneebayes model (and a saved model file) can carry."""
    for v in variables:
        if not NODE_ID.fullmatch(v.name):
            problems.add("cannot be a node id: ids are non-empty text without blanks, '=', commas, brackets or "
                         f"braces; rename it in the file (say {quote(_as_id(v.name))})" if v.name else
                         "a node has an empty name; every node needs an id",
                         node=v.name or None, field="id", line=v.line)
        control = next((c for c in map(control_character, v.states) if c is not None), None)
        if control is not None:   # states are printed (kneebayes nodes, diagnose, interview); ids are NODE_IDs
            problems.add(f"has a state holding the control character {control}, which a terminal would act on; "
                         "rename it in the file", node=v.name, field="states", line=v.line)
        if len(v.states) < 2:
            problems.add(f"has {counted(len(v.states), 'state')} ({listing(v.states)}); a node needs at least two",
                         node=v.name, field="states", line=v.line)
        for what, text in (("title", v.label), ("description", v.description)):
            held = None if text is None else control_character(text)
            if held is not None:   # shown as the node's label, question or description: no terminal commands
                problems.add(f"has a {what} holding the control character {held}, which a terminal would act on; "
                             f"remove it in the file", node=v.name, field=what, line=v.line)
        blank = [s for s in v.states if not s.strip()]
        if blank:
            problems.add("has a state whose name is empty or blank; every state needs a name", node=v.name,
                         field="states", line=v.line)
        dupes = sorted(s for s, n in Counter(v.states).items() if n > 1)
        if dupes:
            problems.add(f"has duplicate states {listing(dupes)}; each state must be named once", node=v.name,
                         field="states", line=v.line)


def _parents_first(variables: list[ParsedVariable], problems: Problems) -> list[ParsedVariable]:
    """The variables with every parent before its children, otherwise in the order given; a cycle is a problem."""
    order = parents_first_order(variables)
    if len(order) < len(variables):
        # Every node left has a parent left: walk up parents until one repeats.
        index = {v.name: i for i, v in enumerate(variables)}
        left = set(range(len(variables))) - set(order)
        path: list[int] = []
        seen: dict[int, int] = {}
        node = min(left)
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = next(index[p] for p in variables[node].parents if index[p] in left)
        cycle = [variables[j].name for j in path[seen[node]:]][::-1]
        shown = " -> ".join(quote(n) for n in cycle[:8]) + (" -> ..." if len(cycle) > 8 else f" -> {quote(cycle[0])}")
        problems.add(f"the network has a cycle: {shown}; a Bayesian network must be acyclic")
    return [variables[i] for i in order]


#: A column is rescaled whenever its sum is not exactly 1, but reported (``import_report`` and a
#: ``RenormalisedWarning``) only when off by more than a model file may be (its validator's 1e-9): a column
#: of decimals, or one normalised as ``x / x.sum()``, is often a few units in the last place off, and
#: rescaling it moves each entry by about as much.
REPORTED = 1e-9

#: What importing keeps per table cell and per column, at most: a Parameter and its float (cells of one value share
#: one), and a column with its tuples. Measured on MILDEW (547,000 cells): 175 bytes a cell in all.
CELL_BYTES = 200
COLUMN_BYTES = 200
#: The most memory, in bytes, an imported file's numbers may take as a model (1 GiB); read at each call.
IMPORT_MEMORY = 1 << 30


def _check_size(order: Sequence[ParsedVariable], by_name: Mapping[str, ParsedVariable], options: ImportOptions) -> None:
    """Refuse, before anything is built, a file whose numbers the model could not hold: a table past the memory
    budget (the engine would need it whole: IntractableError), or numbers past ``IMPORT_MEMORY`` as Python
    objects (InputFileError). A table of a million columns is a few megabytes of text and gigabytes of objects."""
    total, largest, at = 0.0, -1, None
    for var in order:
        columns = math.prod(len(by_name[p].states) for p in var.parents)
        cells = columns * len(var.states)
        total += columns * (COLUMN_BYTES + 8.0 * (len(var.parents) + len(var.states))) + CELL_BYTES * cells
        if cells > largest:
            largest, at = cells, var
    if at is not None and 8.0 * largest > options.memory_budget:
        # every clique that holds this table is at least as large: "at least" its own size
        raise IntractableError(options.name, (at.name, *at.parents), 8.0 * largest, options.memory_budget,
                               at_least=True, advice="a larger memory_budget: the table itself passes it")
    if at is not None and total > IMPORT_MEMORY:
        raise InputFileError(options.source, f"has {largest:,} numbers in the table of {quote(at.name)} alone; its "
                             f"numbers would take about {total / 2**30:.1f} GiB as a model (about {CELL_BYTES} bytes "
                             f"each, with their provenance), past the limit of {IMPORT_MEMORY / 2**30:.1f} GiB "
                             f"(kneebayes.interop.build.IMPORT_MEMORY)", "network file")


def _column_defect(col: np.ndarray, states: tuple[str, ...], tolerance: float, flagged: bool) -> str | None:
    """What is wrong with one table column, or None: a value that is no probability (by state), then the sum.

    NaN must be caught by name: ``abs(total - 1) > tolerance`` is never true for a NaN total; and values
    above 1 before summing, since ``math.fsum`` of huge values overflows.
    """
    for k, v in enumerate(col.tolist() if flagged else ()):
        what = ("has NaN (not a number)" if math.isnan(v) else "has an infinite value" if math.isinf(v)
                else f"has the negative value {v!r}" if v < 0
                else f"has the value {v!r} (above 1)" if v > 1 + tolerance else None)
        if what is not None:
            return f"{what} for state {quote(states[k])}; probabilities are numbers from 0 to 1"
    total = math.fsum(col)
    if abs(total - 1.0) > tolerance:
        return f"sums to {total!r}, beyond the import tolerance {tolerance:g}"
    return None


def _column(given: tuple[tuple[str, str], ...]) -> str:
    """A column named by its parent states, ``{A=a, B=b}``, bounded for a message."""
    return "{" + short(", ".join(f"{p}={s}" for p, s in given), 4 * QUOTE_LIMIT) + "}"


def _normal_states(by_name: Mapping[str, ParsedVariable], names: Sequence[str], targets: Sequence[str],
                   given: Mapping[Any, Any], detect: bool) -> dict[str, str]:
    """Each target's normal state to write into its node: given, else found by name (when ``detect``)."""
    chosen: dict[str, str] = {}
    for key, state in given.items():
        if key not in targets:
            context = " in normal_states"
            if key in names:
                context += f" (a node of the network, but not a target; the targets are {', '.join(targets)})"
            raise UnknownNodeError(key, targets, what="target", context=context)
        states = list(by_name[key].states)
        if not isinstance(state, str) or state not in states:
            raise InvalidStateError(key, state, states)
        chosen[key] = state
    if detect:
        for t in targets:
            if t in chosen:
                continue
            states = list(by_name[t].states)
            found = None if implicit_normal_state(tuple(states)) else normal_state_by_name(states)
            if found is not None:
                chosen[t] = found
    return chosen
