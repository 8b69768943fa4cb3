"""Import a network from pgmpy or a BIF / XMLBIF file into an ordinary kneebayes model.

Published BIF files are rounded: their columns sum to 1 only within about
3e-7. The importer renormalises each column that is off by at most
``tolerance`` (default 1e-6) and reports every column it touched (a
``RenormalisedWarning`` and ``model.import_report``); a column off by more
is an error naming node and column. The model-file validator itself stays
strict at 1e-9.
"""

from __future__ import annotations

import gzip
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelFileError, Problem, UnknownNodeError
from ..modelfile.schema import ModelSpec, NodeSpec, Parameter, Prior, Table, TableColumn

if TYPE_CHECKING:
    from ..model import Model

IMPORT_TOLERANCE = 1e-6


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
               name: str = "imported", source: str = "pgmpy model", tolerance: float = IMPORT_TOLERANCE) -> Model:
    """A kneebayes model from a pgmpy DiscreteBayesianNetwork.

    ``targets`` become the model's causes (kind ``cause``); ``askable``
    (default: every non-target) may be asked about; ``questions`` and
    ``costs`` optionally give question texts (default: the node's name) and
    costs (default 1) per node.
    """
    from ..model import Model

    names = [str(n) for n in network.nodes()]
    for t in targets:
        if t not in names:
            raise UnknownNodeError(t, names, what="target")
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
            cost=float(costs.get(nid, 1.0)), cost_level=None,
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


def _topological(network: Any) -> list[Any]:
    import networkx as nx

    return list(nx.topological_sort(network))
