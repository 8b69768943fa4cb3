"""Read a pgmpy ``DiscreteBayesianNetwork`` into parsed variables, each CPD checked against the graph.

pgmpy is imported only when a network is read (through
:func:`kneebayes.extras.require`, so that a missing pgmpy names the
``interop`` extra; a network object means pgmpy is there anyway). Read: the network's nodes,
in its order, each with the states, parents and values of its
``TabularCPD``. Refused: an object that is not a network (``WrongTypeError``);
then, in one :class:`~kneebayes.errors.ModelFileError` listing every
problem found: a node named by something other than a string; a CPD other
than a ``TabularCPD``, one for a variable not in the graph, or a second one
for a node; a node without a CPD; a CPD conditioned on other variables than
the graph's parents of its node, or on one twice; values that are not
numbers, or not of the shape the states need; a parent whose states, as a
child's CPD names them, differ in name or order from the parent's own.

Whether the numbers are probabilities, the names usable as node ids and the
graph acyclic is checked later, for every source alike (:mod:`.build`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import WrongTypeError, quote
from ..extras import require
from .parsed import ParsedVariable, Problems, listing, short


def read_pgmpy_network(network: Any, source: str) -> list[ParsedVariable]:
    """The variables of a pgmpy network, each CPD checked against the graph and the other CPDs."""
    if not (callable(getattr(network, "nodes", None)) and callable(getattr(network, "get_cpds", None))):
        raise WrongTypeError(f"network must be a pgmpy DiscreteBayesianNetwork, not {type(network).__name__}")
    TabularCPD = require("pgmpy.factors.discrete", feature="from_pgmpy").TabularCPD

    problems = Problems(source)
    nodes = list(network.nodes())
    node_set = set(nodes)
    for n in nodes:
        if not isinstance(n, str):
            problems.add(f"node {quote(n)} is named by a {type(n).__name__}; kneebayes node ids are text: "
                         f"relabel the network's nodes with strings")
    problems.raise_if_any()
    cpd_of: dict[str, Any] = {}
    for cpd in network.get_cpds():
        if not isinstance(cpd, TabularCPD):
            problems.add(f"a {type(cpd).__name__} cannot be imported; only discrete tables (TabularCPD) can",
                         node=str(getattr(cpd, "variable", "?")), field="cpd")
            continue
        var = cpd.variable
        if var not in node_set:
            problems.add("has a CPD but is not a node of the network", node=str(var), field="cpd")
        elif var in cpd_of:
            problems.add("has two CPDs; keep one", node=var, field="cpd")
        else:
            cpd_of[var] = cpd
    for n in nodes:
        if n not in cpd_of:
            problems.add("has no CPD (probability table); add one with network.add_cpds(...)", node=n, field="cpd")
    problems.raise_if_any()

    variables: list[ParsedVariable] = []
    for n in nodes:
        cpd = cpd_of[n]
        states = tuple(str(s) for s in cpd.state_names.get(n, ()))
        parents = tuple(cpd.variables[1:])
        graph_parents = list(network.predecessors(n)) if callable(getattr(network, "predecessors", None)) else parents
        if set(parents) != set(graph_parents) or len(set(parents)) != len(parents):
            problems.add(f"its CPD is conditioned on {listing([str(p) for p in parents]) or 'nothing'} but the graph "
                         f"gives it the parents {listing([str(p) for p in graph_parents]) or 'none'}; they must "
                         f"be the same", node=n, field="cpd")
            continue
        try:
            values = np.array(cpd.get_values(), dtype=float)
        except (TypeError, ValueError) as exc:
            problems.add(f"its CPD's values are not numbers ({short(str(exc))})", node=n, field="table")
            continue
        cols = math.prod(len(cpd.state_names.get(p, ())) for p in parents)
        if values.shape != (len(states), cols):
            problems.add(f"its table has shape {values.shape}; {len(states)} states and {cols} parent combinations "
                         f"need ({len(states)}, {cols})", node=n, field="table")
            continue
        variables.append(ParsedVariable(n, states, parents, values))
    problems.raise_if_any()
    # A parent's states as its child's CPD names them must be the parent's own, in the same order:
    # the columns are matched by position.
    own = {v.name: v.states for v in variables}
    for v in variables:
        for p in v.parents:
            seen = tuple(str(s) for s in cpd_of[v.name].state_names.get(p, ()))
            if seen != own[p]:
                problems.add(f"its CPD gives parent {quote(p)} the states {listing(seen)}, but {quote(p)}'s own CPD "
                             f"has {listing(own[p])}; they must match, in order", node=v.name, field="table")
    problems.raise_if_any()
    return variables
