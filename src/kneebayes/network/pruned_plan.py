"""What a component needs to answer one evidence set: only the ancestors of its evidence.

Given the targets, a component's value is the sum over its nodes of the
product of their tables and likelihood vectors. A node that is neither
observed nor an ancestor of an observed node is *barren*: summing it out
first gives exactly 1, so it can be left out, and a component with no
evidence at all has value 1. The fixed plan cannot skip them, because
which nodes are barren depends on the evidence. For one evidence set, the
relevant nodes are the ancestral closure of the observed ones; on a large
component (Pathfinder's 29 nodes, each with ``Fault``'s 63 states) that is
usually one to five nodes.

This module prepares, once per component, what pruning needs: each node's
ancestors inside the component and its factors with their variables (one
table, or a wide noisy-OR's pairwise pieces over a hidden variable, never
expanded). ``inference.pruned`` runs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

PRUNE_WORK = 45_000.0   # consider pruning components whose fixed plan costs more than this (see Pruning.worth_it);
#                          below it, a pruned run's Python overhead eats the saving (measured on CHILD, HEPAR II)
# In a batch the fixed plan runs vectorised, far cheaper per row: only a component whose plan costs
# this much per row is pruned row by row there (Pathfinder's 29-node one, ~1 ms a row against ~30 us).
ROW_PRUNE_WORK = 200_000.0


@dataclass(frozen=True, eq=False)
class Pruning:
    """Per component node (in the component's order): its ancestors-or-self, and its factors."""

    ancestors: np.ndarray                        # (n, n) bool: ancestors[i, j] = node j is node i or its ancestor
    tables: tuple[np.ndarray, ...]               # every factor, axes ``scopes[f]``
    scopes: tuple[tuple[int, ...], ...]          # variable ids (component nodes, targets, hidden variables)
    owned: tuple[tuple[int, ...], ...]           # per owner (nodes, then ``extra``): its factors' indices
    position: dict[int, int]                     # variable id of a component node -> its position
    topological: tuple[int, ...]                 # positions, parents before children
    targets: tuple[int, ...]                     # enumerated targets, in their order
    extra: tuple[int, ...]                       # owners past the nodes: targets whose tables lie in the component
    always: np.ndarray                           # (n,) bool: ancestors of those targets, relevant whatever the evidence
    target_cards: tuple[int, ...]
    hidden_cards: dict[int, int]                 # a split noisy-OR's hidden variable -> its cardinality
    full_work: float = 0.0                       # the fixed plan's estimated cost, calls included
    node_work: float = 0.0                       # a pruned step's estimated cost, the same units
    plans: dict[bytes, object] = field(default_factory=dict, repr=False)   # cache of pruned plans by evidence pattern

    def worth_it(self, n_relevant: int, work: float | None = None) -> bool:
        """Whether a pruned run over ``n_relevant`` nodes is estimated to beat the fixed plan by a margin of 2;
        with its planned ``work`` (same units) once known, by that instead."""
        return 2.0 * (n_relevant * self.node_work if work is None else work) < self.full_work


def compile_pruning(nodes: Sequence[int], parents: Sequence[Sequence[int]],
                    factors: Mapping[int, Sequence[tuple[tuple[int, ...], np.ndarray]]],
                    enumerated: Sequence[int], cards: Sequence[int], full_work: float, node_work: float) -> Pruning:
    """``nodes``: the component's nodes; ``factors[v]`` the factors a node owns, (scope, table) each: its
    table over ``parents[v] + (v,)``, or a noisy-OR's pieces over a hidden variable (any id past the nodes).

    A target with a parent among the nodes (a cause with a risk factor as
    parent) puts its own table in the component too: never barren, so its
    ancestors there are always relevant.
    """
    position = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    anc = np.eye(n, dtype=bool)
    # Parents before children, so each node's closure is its parents' closures plus itself.
    # An explicit stack, not recursion: a chain of thousands of nodes is a valid network.
    order: list[int] = []
    seen: set[int] = set()
    for root in nodes:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(parents[root]))]
        while stack:
            v, pending = stack[-1]
            p = next(pending, None)
            if p is None:
                stack.pop()
                order.append(position[v])
            elif p in position and p not in seen:
                seen.add(p)
                stack.append((p, iter(parents[p])))
    for i in order:
        for p in parents[nodes[i]]:
            if p in position:
                anc[i] |= anc[position[p]]
    extra = [t for t in enumerated if any(p in position for p in parents[t])]
    always = np.zeros(n, dtype=bool)
    for t in extra:
        for p in parents[t]:
            if p in position:
                always |= anc[position[p]]
    owners = list(nodes) + extra
    tables: list[np.ndarray] = []
    scopes: list[tuple[int, ...]] = []
    owned: list[tuple[int, ...]] = []
    hidden: dict[int, int] = {}
    for v in owners:
        start = len(tables)
        for scope, table in factors[v]:
            scopes.append(tuple(scope))
            tables.append(table)
            hidden.update((u, table.shape[k]) for k, u in enumerate(scope) if u != v and u not in parents[v])
        owned.append(tuple(range(start, len(tables))))
    return Pruning(
        ancestors=anc, tables=tuple(tables), scopes=tuple(scopes), owned=tuple(owned), hidden_cards=hidden,
        extra=tuple(range(n, n + len(extra))), always=always,
        position=position, topological=tuple(order), targets=tuple(enumerated),
        target_cards=tuple(cards[t] for t in enumerated), full_work=full_work, node_work=node_work,
    )
