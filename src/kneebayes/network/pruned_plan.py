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

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .backward_plan import CALL_WORK
from .planner import eliminate

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"   # einsum's axis letters, one per clique variable
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


# Planning a pattern costs this much per relevant node (a greedy order and the buckets, in Python), in the
# units of ``Pruning.full_work``: ~15 us against ~1.3 ns a multiply-add. Past full_work / this, the fixed
# plan is cheaper than even planning.
PLAN_WORK_PER_NODE = 12_000.0
# Orders whose cliques total more than this many entries are worth a second greedy heuristic.
SECOND_OPINION = 2_000_000.0
MAX_AXES = 52   # einsum's letters: no clique may join more variables


@dataclass(frozen=True, eq=False)
class BucketPlan:
    """Bucket elimination over one evidence pattern's relevant factors, and the way back to some nodes' marginals.

    Factors come first in the slot list (``factors``: each table with its
    observed axes cut at the evidence, then ``soft``: one likelihood vector
    per softly observed node); each ``forward`` step appends one slot, the
    message its bucket sends (the product of the bucket's slots with its
    variable summed out). A step marked ``keep`` first builds the whole
    clique table (its variable first, then the message's axes in order) and
    keeps it for the way back. ``backward`` steps, parents before children,
    turn a parent's clique belief into a child's incoming message:
    ``(child step, parent step, subscripts)``. ``scalars``: slots without
    axes whose product is the part of the value no step sums (each
    tree's root message, fully observed factors).
    """

    factors: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]   # (table, ((axis, observed position), ...))
    soft: tuple[tuple[int, int], ...]                             # (position, card) of each softly observed node
    forward: tuple[tuple[tuple[int, ...], str, bool], ...]        # (input slots, subscripts, keep the clique)
    backward: tuple[tuple[int, int, str], ...]                    # (child step, parent step, parent clique -> separator)
    scalars: tuple[int, ...]
    wanted: dict[int, int]                                        # wanted position -> the step summing it out
    work: float                                                   # estimated cost, in full_work's units


# What every pattern's plan reads of a component (node ids by position, every variable's cardinality), kept
# beside its frozen Pruning and dropped with it.
_VARIABLES: weakref.WeakKeyDictionary[Pruning, tuple[list[int], dict[int, int]]] = weakref.WeakKeyDictionary()


def _variables(pr: Pruning, cards: Sequence[int]) -> tuple[list[int], dict[int, int]]:
    found = _VARIABLES.get(pr)
    if found is None:
        node_of = [0] * len(pr.position)
        for v, i in pr.position.items():
            node_of[i] = v
        card = dict(pr.hidden_cards)
        card.update((v, cards[i]) for i, v in enumerate(node_of))
        found = _VARIABLES.setdefault(pr, (node_of, card))
    return found


def bucket_plan(pr: Pruning, cards: Sequence[int], hard: np.ndarray, soft: np.ndarray, wanted: np.ndarray,
                max_entries: float) -> BucketPlan | None:
    """The bucket plan of one pattern: ``hard`` and ``soft`` mark the observed positions, ``wanted`` those whose
    marginals may be asked. Relevant are the ancestors of all three (every other node is barren and sums to
    one); hard evidence cuts its axis out of every table. The order is the planner's greedy one on what is
    left, so a node the evidence cuts off costs nothing. None when the plan builds a table past
    ``max_entries``, joins more than ``MAX_AXES`` variables, or is not estimated to beat the fixed plan
    (``Pruning.worth_it``: planning included).

    A target whose table lies in the component (``pr.extra``) is never planned here: those components keep
    their targets on the joint's axes (see ``inference.pruned.pruned_value``).
    """
    relevant = pr.ancestors[hard | soft | wanted].any(axis=0) | pr.always
    n_rel = int(relevant.sum())
    if pr.extra or not pr.worth_it(n_rel, n_rel * PLAN_WORK_PER_NODE):
        return None
    node_of, card = _variables(pr, cards)
    seen = {node_of[i] for i in np.flatnonzero(hard).tolist()}
    live: dict[int, tuple[int, ...]] = {}
    factors = []
    hidden: list[int] = []
    for i in np.flatnonzero(relevant).tolist():
        for f in pr.owned[i]:
            scope = pr.scopes[f]
            live[len(factors)] = tuple(v for v in scope if v not in seen)
            factors.append((f, tuple((axis, pr.position[v]) for axis, v in enumerate(scope) if v in seen)))
            hidden.extend(v for v in scope if v in pr.hidden_cards)
        if not hard[i]:
            hidden.append(node_of[i])
    soft_items = tuple((i, cards[i]) for i in np.flatnonzero(soft & relevant).tolist())
    for i, _ in soft_items:
        live[len(live)] = (node_of[i],)
    hidden = list(dict.fromkeys(hidden))
    plan = eliminate(hidden, list(live.values()), card, heuristic="min_fill")
    if plan.total_size > SECOND_OPINION:
        other = eliminate(hidden, list(live.values()), card, heuristic="min_weight")
        plan = min((plan, other), key=lambda p: p.total_size)
    if plan.largest_size > max_entries or max((len(c) for c in plan.cliques), default=0) > MAX_AXES:
        return None
    # Each bucket: the live slots over its variable; its clique is their variables, its own first.
    holding: dict[int, set[int]] = {}
    for slot, vs in live.items():
        for u in vs:
            holding.setdefault(u, set()).add(slot)
    buckets: list[tuple[tuple[int, ...], list[tuple[int, ...]]]] = []
    cliques: list[tuple[int, ...]] = []
    next_slot = len(live)
    for v in plan.order:
        bucket = tuple(sorted(holding.pop(v, ())))
        scopes = [live.pop(s) for s in bucket]
        rest = tuple(sorted({u for vs in scopes for u in vs} - {v}))
        for vs in scopes:
            for u in vs:
                if u != v:
                    holding[u].difference_update(bucket)
        buckets.append((bucket, scopes))
        cliques.append((v, *rest))
        live[next_slot] = rest
        for u in rest:
            holding.setdefault(u, set()).add(next_slot)
        next_slot += 1
    # Which buckets the way back must visit: those of the wanted nodes and every bucket between them and
    # their tree's root. A bucket's parent is the one of the first variable of its message to be summed.
    rank = {v: n for n, v in enumerate(plan.order)}
    parent = [min((rank[u] for u in clique[1:]), default=-1) for clique in cliques]
    wanted_steps = {i: rank[node_of[i]] for i in np.flatnonzero(wanted & ~hard).tolist()}
    keep = [False] * len(plan.order)
    for s in wanted_steps.values():
        while s >= 0 and not keep[s]:
            keep[s] = True
            s = parent[s]
    forward = []
    for step, ((bucket, scopes), clique) in enumerate(zip(buckets, cliques)):
        letter = {u: LETTERS[n] for n, u in enumerate(clique)}
        out = clique if keep[step] else clique[1:]
        forward.append((bucket, ",".join("".join(letter[u] for u in vs) for vs in scopes) + "->"
                        + "".join(letter[u] for u in out), keep[step]))
    backward = []
    for step in range(len(plan.order) - 1, -1, -1):
        if keep[step] and parent[step] >= 0:
            up = cliques[parent[step]]
            letter = {u: LETTERS[n] for n, u in enumerate(up)}
            backward.append((step, parent[step], "".join(letter[u] for u in up) + "->"
                             + "".join(letter[u] for u in cliques[step][1:])))
    scalars = tuple(s for s, vs in live.items() if not vs)
    if len(scalars) != len(live):   # pragma: no cover - every variable left is summed by its bucket
        raise AssertionError("a bucket plan left a variable unsummed")
    work = 2.0 * plan.total_size + CALL_WORK * (2 * len(plan.order) + len(backward)) + n_rel * PLAN_WORK_PER_NODE
    if not pr.worth_it(n_rel, work):
        return None
    return BucketPlan(tuple(factors), soft_items, tuple(forward), tuple(backward), scalars, wanted_steps, work)
