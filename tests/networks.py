"""Shared helpers for the network-wide exactness tests: pgmpy's bundled BIF files and pyAgrum as reference.

pyAgrum's ``LazyPropagation`` (a junction tree with relevance reasoning) is
the reference. It always reads *our* export of a model (``model.to_bif``), so
both engines see the same renormalised tables and the same state names.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import kneebayes

#: Agreement asked of every probability (and of every log P(evidence)).
TOL = 1e-9


def example_folder() -> Path:
    """pgmpy's folder of bundled example networks."""
    import pgmpy

    return Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models"


def example_bifs() -> list[str]:
    """Names of every BIF network pgmpy ships, read from its folder so a new one is picked up."""
    return sorted(p.name[: -len(".bif.gz")] for p in example_folder().glob("*.bif.gz"))


def bif_path(name: str) -> Path:
    return example_folder() / f"{name}.bif.gz"


def structure(path: str | Path) -> dict[str, tuple[str, ...]]:
    """Each node's parents, read from the BIF's ``probability ( X | A, B )`` heads.

    A regular expression, not a parser: it takes milliseconds where a full
    read of Diabetes or Mildew takes seconds, and the model is read in full
    once anyway.
    """
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    heads = re.findall(r"probability\s*\(\s*([^\s|()]+)\s*(?:\|([^()]*))?\)", text)
    return {node: tuple(p.strip() for p in parents.split(",")) if parents.strip() else ()
            for node, parents in heads}


def roots_by_descendants(parents: Mapping[str, Sequence[str]], limit: int = 10) -> list[str]:
    """The roots, or the ``limit`` roots with most descendants (ties by name) when there are more."""
    children: dict[str, list[str]] = {n: [] for n in parents}
    for node, ps in parents.items():
        for p in ps:
            children[p].append(node)

    def descendants(root: str) -> int:
        seen: set[str] = set()
        todo = [root]
        while todo:
            for c in children[todo.pop()]:
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return len(seen)

    roots = [n for n, ps in parents.items() if not ps]
    if len(roots) <= limit:
        return roots
    return sorted(roots, key=lambda r: (-descendants(r), r))[:limit]


def leaves(parents: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes that are nobody's parent, in file order."""
    used = {p for ps in parents.values() for p in ps}
    return [n for n in parents if n not in used]


def pyagrum_of(model: kneebayes.Model) -> Any:
    """A pyAgrum network holding the model's own tables (``model.to_pgmpy()``), in double precision.

    Not through a BIF file: pyAgrum's BIF reader parses numbers as single
    precision floats (0.01 becomes 0.009999999776), which alone moves
    posteriors by 1e-8.
    """
    import pyagrum as gum

    exported = model.to_pgmpy()
    cpds = {cpd.variable: cpd for cpd in exported.get_cpds()}
    bn = gum.BayesNet(model.name)
    for node in model.network.names:
        states = [str(s) for s in cpds[node].state_names[node]]
        bn.add(gum.LabelizedVariable(node, node, states))
    for node, cpd in cpds.items():
        for parent in cpd.variables[1:]:
            bn.addArc(parent, node)
    for node, cpd in cpds.items():
        table = bn.cpt(node)
        for v in cpd.variables:   # pyAgrum must list the same states in the same order
            if list(bn.variable(v).labels()) != [str(s) for s in cpd.state_names[v]]:
                raise AssertionError(f"{v}: states differ between pyAgrum and the export")
        # pyAgrum's flat order runs its first variable fastest: C order over its names reversed
        order = [cpd.variables.index(v) for v in reversed(table.names)]
        values = np.asarray(cpd.values, dtype=float).transpose(order)
        table.fillWith(values.ravel().tolist())
    return bn


def reference(bn: Any, evidence: Mapping[str, str], nodes: Iterable[str]) -> tuple[dict[str, dict[str, float]], float]:
    """pyAgrum's posterior of each node and log P(evidence), from one LazyPropagation."""
    import pyagrum as gum

    ie = gum.LazyPropagation(bn)
    ie.setEvidence(dict(evidence))
    wanted = list(dict.fromkeys(nodes))
    for n in wanted:
        ie.addTarget(n)
    ie.makeInference()
    out = {}
    for n in wanted:
        labels = bn.variable(n).labels()
        values = ie.posterior(n).tolist()
        out[n] = {str(s): float(p) for s, p in zip(labels, values)}
    # evidenceProbability on an empty evidence set is 1 by definition
    log_pe = math.log(ie.evidenceProbability()) if evidence else 0.0
    return out, log_pe


def forward_samples(bn: Any, count: int, rng: np.random.Generator) -> list[dict[str, str]]:
    """``count`` full cases drawn parents first from the network's own tables (so none is impossible)."""
    order = [bn.variable(i).name() for i in bn.topologicalOrder()]
    parents = {n: [bn.variable(p).name() for p in bn.parents(n)] for n in order}
    labels = {n: list(bn.variable(n).labels()) for n in order}
    cases = []
    for _ in range(count):
        case: dict[str, int] = {}
        for n in order:
            p = np.asarray(bn.cpt(n)[{q: case[q] for q in parents[n]}], dtype=float).ravel()
            case[n] = int(rng.choice(len(p), p=p / p.sum()))
        cases.append({n: labels[n][k] for n, k in case.items()})
    return cases


def largest_difference(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """max |a[s] - b[s]| over the states (which must be the same)."""
    if set(a) != set(b):
        raise AssertionError(f"states differ: {sorted(a)} against {sorted(b)}")
    return max(abs(a[s] - b[s]) for s in a)


#: A two-node BIF network (a fault and a light), for tests that need any small network file.
SMALL_BIF = textwrap.dedent(
    """\
    network small { }
    variable Fault { type discrete [ 2 ] { yes, no }; }
    variable Light { type discrete [ 2 ] { on, off }; }
    probability ( Fault ) { table 0.2, 0.8; }
    probability ( Light | Fault ) { (yes) 0.1, 0.9; (no) 0.95, 0.05; }
    """
)
