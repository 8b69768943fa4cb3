"""Import a network from pgmpy or a BIF / XMLBIF file into an ordinary kneebayes model.

Published BIF files are rounded: their columns sum to 1 only within about
3e-7. The importer renormalises each column that is off by at most
``tolerance`` (default 1e-6) and reports every column it touched (a
``RenormalisedWarning`` and ``model.import_report``); a column off by more
is an error naming node and column. The model-file validator itself stays
strict at 1e-9.

Each target may have a *normal* state, its no-fault state, which the
``confident`` stop rule needs (see ``Diagnosis.leading_probability``): give
it with ``normal_states={target: state}``. A target not given one gets it
by name (:func:`normal_state_by_name`) unless ``detect_normal_states=False``;
a target with states exactly ``yes``/``no`` has ``no`` by default anyway.
"""

from __future__ import annotations

import gzip
import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidStateError, ModelFileError, Problem, UnknownNodeError
from ..modelfile.schema import ModelSpec, NodeSpec, Parameter, Prior, Table, TableColumn, implicit_normal_state

if TYPE_CHECKING:
    from ..model import Model

IMPORT_TOLERANCE = 1e-6

#: State names (compared case-insensitively, whole name) that mean "no fault" whatever the node is.
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
    """Some imported table columns were rescaled to sum to exactly 1."""


@dataclass(frozen=True)
class Renormalised:
    """One column the importer rescaled: where, and what it summed to."""

    node: str
    given: tuple[tuple[str, str], ...]
    total: float


def from_pgmpy(network: Any, targets: Sequence[str], askable: Iterable[str] | None = None, *,
               questions: dict[str, str] | None = None, costs: dict[str, float] | None = None,
               name: str = "imported", source: str = "pgmpy model", tolerance: float = IMPORT_TOLERANCE,
               normal_states: Mapping[str, str] | None = None, detect_normal_states: bool = True) -> Model:
    """A kneebayes model from a pgmpy DiscreteBayesianNetwork.

    ``targets`` become the model's causes (kind ``cause``); ``askable``
    (default: every non-target) may be asked about; ``questions`` and
    ``costs`` optionally give question texts (default: the node's name) and
    costs (default 1) per node.

    ``normal_states`` maps a target to its normal (no-fault) state, which
    the ``confident`` stop rule uses. A target not named there gets the
    state :func:`normal_state_by_name` finds (``absent``, ``Normal``,
    ``Correct``, ...), unless ``detect_normal_states`` is False; a target
    with states ``yes``/``no`` has ``no`` by default. ``model.normal_states``
    shows the result, and ``model.save`` keeps it. A key that is not a
    target raises UnknownNodeError; a state the target does not have,
    InvalidStateError.
    """
    from ..model import Model

    names = [str(n) for n in network.nodes()]
    for t in targets:
        if t not in names:
            raise UnknownNodeError(t, names, what="target")
    normal = _normal_states(network, names, targets, normal_states or {}, detect_normal_states)
    ask = set(names) - set(targets) if askable is None else set(askable)
    for a in ask:
        if a not in names:
            raise UnknownNodeError(a, names)
    questions = questions or {}
    costs = costs or {}
    origin = f"imported from {source}"
    why = "imported; not hand-set"
    problems: list[Problem] = []
    touched: list[Renormalised] = []
    nodes: list[NodeSpec] = []
    order = _topological(network)
    for node in order:
        cpd = network.get_cpds(node)
        states = tuple(str(s) for s in cpd.state_names[node])
        parents = tuple(str(p) for p in cpd.variables[1:])
        values = np.asarray(cpd.get_values(), dtype=float)        # (card, prod of parent cards)
        parent_states = [tuple(str(s) for s in cpd.state_names[p]) for p in parents]
        columns = []
        for j, combo in enumerate(itertools.product(*parent_states)):
            col = values[:, j]
            total = math.fsum(col)
            given = tuple(zip(parents, combo))
            if abs(total - 1.0) > tolerance or (col < 0).any():
                shown = "{" + ", ".join(f"{p}={s}" for p, s in given) + "}"
                problems.append(Problem(source, f"column {shown} sums to {total!r}, beyond the import tolerance "
                                                f"{tolerance:g}", node=str(node), field="table"))
                continue
            if total != 1.0:
                col = col / total
                col[-1] = 1.0 - math.fsum(col[:-1])   # exact in float64 up to one ulp
                if col[-1] < 0:
                    col[-1] = 0.0
                touched.append(Renormalised(str(node), given, total))
            columns.append(TableColumn(given, tuple(Parameter(float(v), origin, why, None) for v in col)))
        if parents:
            params: Prior | Table = Table(parents, tuple(columns), origin, why)
        else:
            params = Prior(columns[0].probabilities) if columns else Prior(())
        nid = str(node)
        nodes.append(NodeSpec(
            id=nid, label=nid, kind="cause" if nid in targets else "finding",
            question=questions.get(nid, nid), states=states, parameters=params, askable=nid in ask,
            cost=float(costs.get(nid, 1.0)), cost_level=None, normal_state=normal.get(nid),
        ))
    if problems:
        raise ModelFileError(problems)
    if touched:
        warnings.warn(f"{len(touched)} imported table column(s) did not sum to 1 within 1e-9 and were renormalised "
                      f"(largest deviation {max(abs(t.total - 1) for t in touched):.2e}); see model.import_report",
                      RenormalisedWarning, stacklevel=2)
    # Keep the file's node order where it is already parents-first.
    spec = ModelSpec(name=name, version="imported", title=f"{name} ({origin})", nodes=tuple(nodes),
                     source_document=source, path=None)
    return Model(spec, targets=list(targets), import_report=tuple(touched))


def load_bif(path: str | Path, targets: Sequence[str], askable: Iterable[str] | None = None, **kwargs: Any) -> Model:
    """A kneebayes model from a ``.bif``, ``.bif.gz`` or XMLBIF (``.xml``, ``.xmlbif``) file, via pgmpy's readers."""
    path = Path(path)
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            text = f.read()
        suffixes = suffixes[:-3]
    else:
        text = path.read_text(encoding="utf-8")
    if suffixes.endswith((".xml", ".xmlbif")):
        from pgmpy.readwrite import XMLBIFReader

        network = XMLBIFReader(string=text).get_model()
    else:
        from pgmpy.readwrite import BIFReader

        network = BIFReader(string=text).get_model()
    kwargs.setdefault("name", path.name.split(".")[0])
    kwargs.setdefault("source", path.name)
    return from_pgmpy(network, targets, askable, **kwargs)


def _normal_states(network: Any, names: Sequence[str], targets: Sequence[str], given: Mapping[str, str],
                   detect: bool) -> dict[str, str]:
    """Each target's normal state to write into its node: given, else found by name (when ``detect``)."""
    chosen: dict[str, str] = {}
    for key, state in given.items():
        if key not in targets:
            context = " in normal_states"
            if key in names:
                context += f" (a node of the network, but not a target; the targets are {', '.join(targets)})"
            raise UnknownNodeError(key, targets, what="target", context=context)
        states = [str(s) for s in network.get_cpds(key).state_names[key]]
        if not isinstance(state, str) or state not in states:
            raise InvalidStateError(key, state, states)
        chosen[key] = state
    if detect:
        for t in targets:
            if t in chosen:
                continue
            states = [str(s) for s in network.get_cpds(t).state_names[t]]
            found = None if implicit_normal_state(tuple(states)) else normal_state_by_name(states)
            if found is not None:
                chosen[t] = found
    return chosen


def _topological(network: Any) -> list[Any]:
    import networkx as nx

    return list(nx.topological_sort(network))
