"""Read a pgmpy ``DiscreteBayesianNetwork`` into parsed variables, each CPD checked against the graph.

pgmpy is imported only when a network is read (through
:func:`kneebayes.extras.require`, so that a missing pgmpy names the
``interop`` extra; a network object means pgmpy is there anyway). Read: the network's nodes,
in its order, each with the states, parents and values of its
``TabularCPD``; its ``latents``, nodes never observed, which are not asked
about unless ``askable`` names them (its other causal roles, such as
``exposures``, are skipped and named); and each node's attributes as
:func:`~.skipped.node_property` reads a property (pgmpy's readers keep a
file's properties there): ``description`` becomes the node's description,
``position`` is layout, pyAgrum's ``fast`` must list the node's states, any
other attribute is skipped and named in one
:class:`~.skipped.SkippedContentWarning`.

Refused: an object that is not a network, or a dynamic (time-sliced) or
continuous network (``WrongTypeError``, naming what to pass instead); then,
in one :class:`~kneebayes.errors.ModelFileError` listing every problem
found: a node named by something other than a string; a CPD other than a
``TabularCPD``, one for a variable not in the graph, or a second one for a
node; a node without a CPD (but for one whose CPD is refused); a CPD conditioned on other variables than
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
from .skipped import Skipped, node_property

#: pgmpy networks that are no discrete Bayesian network of tables, and what to pass instead.
_NOT_TABLES = {
    "DynamicBayesianNetwork": "a dynamic Bayesian network (time slices) cannot be imported; pass one slice as a "
                              "static network, such as network.get_constant_bn(t_slice=0)",
    "LinearGaussianBayesianNetwork": "a linear Gaussian network (continuous) cannot be imported; only discrete "
                                     "networks of tables (TabularCPD) can",
}


def read_pgmpy_network(network: Any, source: str) -> list[ParsedVariable]:
    """The variables of a pgmpy network, each CPD checked against the graph and the other CPDs."""
    refused = next((_NOT_TABLES[c.__name__] for c in type(network).__mro__ if c.__name__ in _NOT_TABLES), None)
    if refused is not None:
        raise WrongTypeError(f"network must be a pgmpy DiscreteBayesianNetwork: {refused}")
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
            cpd_of.setdefault(getattr(cpd, "variable", None), None)   # refused: no second "has no CPD"
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

    latents = set(getattr(network, "latents", None) or ())
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
        variables.append(ParsedVariable(n, states, parents, values, latent=n in latents))
    problems.raise_if_any()
    skipped = Skipped(source)
    attributes = getattr(network, "nodes", None)
    for v in variables:
        said = _attributes(attributes, v.name)
        roles = said.pop("roles", None)   # pgmpy's causal roles; its latents are read above
        if roles is not None and not isinstance(roles, (set, frozenset, list, tuple)):
            skipped.add("node attribute 'roles'", v.name)
        for role in sorted(map(str, roles)) if isinstance(roles, (set, frozenset, list, tuple)) else ():
            if role != "latents":
                skipped.add(f"pgmpy role {quote(role)}", v.name)
        for key, value in said.items():
            problem = node_property(v, str(key), value, skipped, "node attribute")
            if problem is not None:
                problems.add(problem, node=v.name, field="attributes")
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
    skipped.warn()
    return variables


def _attributes(nodes: Any, name: str) -> dict[Any, Any]:
    """The attributes networkx keeps for node ``name`` (``network.nodes[name]``), or none."""
    try:
        found = nodes[name]
    except (TypeError, KeyError, IndexError):   # not a networkx graph (an object that only looks like pgmpy's)
        return {}
    return dict(found) if isinstance(found, dict) else {}
