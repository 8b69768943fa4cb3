"""The compiled network: arrays and a cached contraction plan, built once per model.

How inference is organised (all of it exact):

* The *targets* (a diagnostic model's causes) are enumerated jointly when
  their joint is small (``JOINT_LIMIT`` states): every factor is re-indexed
  with a leading axis ``K`` over the targets' joint states. Factors that
  touch only targets multiply into one constant vector ``base``.
* Given the targets, the other nodes fall apart into independent
  *components* (connected through shared factors). A node whose factors
  touch only itself and targets (a finding under its causes) is a
  *singleton*: all singletons of one cardinality are stacked and handled in
  one vectorised operation. Larger components (the risk factors that share
  a cause) get a variable-elimination plan: a fixed list of ``einsum``
  steps chosen by min-fill at compile time.
* Evidence enters as likelihood vectors ``lam`` of shape
  ``(batch, n_nodes, max_card)`` (ones where unobserved), so the plan never
  depends on which nodes are observed and a batch of evidence sets runs in
  the same calls.

When the targets' joint is too large the enumeration set is empty (``K = 1``)
and target posteriors come from the per-node marginals instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..modelfile.schema import ModelSpec
from .tables import node_table

JOINT_LIMIT = 4096
_LETTERS = "cdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 'a' batch, 'b' target joint


@dataclass(frozen=True, eq=False)
class Step:
    """One einsum: multiply the slots ``inputs`` and sum out one variable."""

    inputs: tuple[int, ...]
    subscripts: str
    output: int


@dataclass(frozen=True, eq=False)
class Component:
    """Non-target nodes linked through shared factors, with their elimination plan."""

    nodes: np.ndarray            # node indices, in slot order
    cards: tuple[int, ...]
    constants: tuple[np.ndarray, ...]
    steps: tuple[Step, ...]
    has_k: bool                  # does the result vary with the targets' joint state


@dataclass(frozen=True, eq=False)
class SingletonGroup:
    """Nodes of one cardinality c whose factors touch only themselves and the targets.

    ``tables[n, k, x]`` = product of node n's factors at target state k and value x.
    """

    nodes: np.ndarray            # (n,)
    card: int
    tables: np.ndarray           # (n, K, card)


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    names: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    cards: tuple[int, ...]
    parents: tuple[tuple[int, ...], ...]
    tables: tuple[np.ndarray, ...]       # CPTs, axes (parents..., node)
    targets: tuple[int, ...]
    enumerated: tuple[int, ...]          # the targets when their joint is enumerated, else ()
    joint_states: np.ndarray             # (K, len(enumerated)) state index of each enumerated target
    base: np.ndarray                     # (K,)
    singletons: tuple[SingletonGroup, ...]
    components: tuple[Component, ...]
    lam_template: np.ndarray             # (n_nodes, max_card): ones, zero padding
    index: Mapping[str, int] = field(default_factory=dict)
    state_index: tuple[Mapping[str, int], ...] = ()
    where: tuple[tuple[str, int, int], ...] = ()   # per node: ("target"|"singleton"|"component", group, position)

    @property
    def n_joint(self) -> int:
        return int(self.joint_states.shape[0])

    @property
    def max_card(self) -> int:
        return int(self.lam_template.shape[1])


def _min_fill_order(variables: Sequence[int], scopes: Sequence[frozenset[int]], cards: Sequence[int]) -> list[int]:
    """Greedy min-fill elimination order (ties: smallest resulting factor, then index)."""
    adj: dict[int, set[int]] = {v: set() for v in variables}
    for scope in scopes:
        for a in scope:
            adj[a] |= scope - {a}
    order: list[int] = []
    remaining = set(variables)
    while remaining:
        def cost(v: int) -> tuple[int, int, int]:
            nb = adj[v] & remaining
            fill = sum(1 for a, b in itertools.combinations(sorted(nb), 2) if b not in adj[a])
            weight = int(np.prod([cards[u] for u in nb])) if nb else 1
            return fill, weight, v
        v = min(remaining, key=cost)
        nb = adj[v] & remaining
        for a in nb:
            adj[a] |= nb - {a}
        order.append(v)
        remaining.discard(v)
    return order


def _plan(variables: list[int], factors: list[tuple[tuple[int, ...], bool]], cards: Sequence[int]) -> tuple[tuple[Step, ...], bool]:
    """Variable elimination steps over constant factors plus one lam vector per variable.

    Slots: ``0..F-1`` the factors (scope, has_k), ``F..F+V-1`` the lam vectors
    (batch, card) of ``variables`` in order, then one slot per step.
    """
    # (vars, has_batch, has_k) for every live slot
    live: dict[int, tuple[tuple[int, ...], bool, bool]] = {}
    for i, (scope, has_k) in enumerate(factors):
        live[i] = (scope, False, has_k)
    for j, v in enumerate(variables):
        live[len(factors) + j] = ((v,), True, False)
    next_slot = len(factors) + len(variables)
    steps: list[Step] = []

    def emit(inputs: list[int], out_vars: tuple[int, ...]) -> None:
        nonlocal next_slot
        involved = sorted({v for i in inputs for v in live[i][0]})
        letter = {v: _LETTERS[n] for n, v in enumerate(involved)}
        def sub(vars_: tuple[int, ...], b: bool, k: bool) -> str:
            return ("a" if b else "") + ("b" if k else "") + "".join(letter[v] for v in vars_)
        has_b = any(live[i][1] for i in inputs)
        has_k = any(live[i][2] for i in inputs)
        subscripts = ",".join(sub(*live[i]) for i in inputs) + "->" + sub(out_vars, has_b, has_k)
        steps.append(Step(tuple(inputs), subscripts, next_slot))
        for i in inputs:
            del live[i]
        live[next_slot] = (out_vars, has_b, has_k)
        next_slot += 1

    scopes = [frozenset(s) for s, _ in factors]
    for v in _min_fill_order(variables, scopes, cards):
        bucket = [i for i, (vs, _, _) in live.items() if v in vs]
        out_vars = tuple(sorted({u for i in bucket for u in live[i][0]} - {v}))
        emit(bucket, out_vars)
    if len(live) > 1:
        emit(list(live), ())  # multiply what is left into one (batch[, K]) result
    (result,) = live.values()
    return tuple(steps), result[2]


def compile_network(spec: ModelSpec, targets: Sequence[str] | None = None, joint_limit: int = JOINT_LIMIT) -> CompiledNetwork:
    """Compile a validated spec once: tables, target enumeration, components and plans."""
    nodes = list(spec.nodes)
    names = tuple(n.id for n in nodes)
    index = {n: i for i, n in enumerate(names)}
    states = tuple(n.states for n in nodes)
    cards = tuple(len(s) for s in states)
    by_id = {n.id: n.states for n in nodes}
    parents = tuple(tuple(index[p] for p in n.parents) for n in nodes)
    tables = tuple(node_table(n, by_id) for n in nodes)
    for t in tables:
        t.setflags(write=False)
    target_ids = [n.id for n in nodes if n.kind == "cause"] if targets is None else list(targets)
    target_idx = tuple(index[t] for t in target_ids)

    k_size = int(np.prod([cards[t] for t in target_idx])) if target_idx else 1
    enumerated = target_idx if k_size <= joint_limit else ()
    joint_states = (
        np.array(list(itertools.product(*(range(cards[t]) for t in enumerated))), dtype=np.intp).reshape(-1, len(enumerated))
    )
    K = joint_states.shape[0]
    epos = {v: j for j, v in enumerate(enumerated)}

    # Every CPT becomes a factor over its non-enumerated variables, with a K axis if it touches targets.
    base = np.ones(K)
    factors: list[tuple[tuple[int, ...], bool, np.ndarray]] = []
    for i in range(len(names)):
        scope = parents[i] + (i,)
        table = tables[i]
        e_axes = [a for a, v in enumerate(scope) if v in epos]
        r_axes = [a for a, v in enumerate(scope) if v not in epos]
        r_vars = tuple(scope[a] for a in r_axes)
        if e_axes:
            moved = np.transpose(table, e_axes + r_axes)
            idx = tuple(joint_states[:, epos[scope[a]]] for a in e_axes)
            arr = moved[idx]                       # (K, *r_cards)
            if not r_vars:
                base = base * arr
                continue
            factors.append((r_vars, True, arr))
        else:
            factors.append((r_vars, False, table))

    # Components of the non-enumerated nodes, linked by shared factors (union-find).
    parent_of = {v: v for v in range(len(names)) if v not in epos}
    def find(v: int) -> int:
        while parent_of[v] != v:
            parent_of[v] = parent_of[parent_of[v]]
            v = parent_of[v]
        return v
    for scope, _, _ in factors:
        for a, b in zip(scope, scope[1:]):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent_of[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for v in parent_of:
        members.setdefault(find(v), []).append(v)
    comp_factors: dict[int, list[int]] = {}
    for f, (scope, _, _) in enumerate(factors):
        comp_factors.setdefault(find(scope[0]), []).append(f)

    where: dict[int, tuple[str, int, int]] = {v: ("target", 0, epos[v]) for v in enumerated}
    single_by_card: dict[int, list[tuple[int, np.ndarray]]] = {}
    components: list[Component] = []
    for root in sorted(members):
        vs = sorted(members[root])
        fs = comp_factors.get(root, [])
        if len(vs) == 1:
            v = vs[0]
            prod = np.ones((K, cards[v]))
            for f in fs:
                _, has_k, arr = factors[f]
                prod = prod * (arr if has_k else arr[None, :])
            single_by_card.setdefault(cards[v], []).append((v, prod))
            continue
        scopes = [(factors[f][0], factors[f][1]) for f in fs]
        steps, has_k = _plan(vs, scopes, cards)
        consts = tuple(np.ascontiguousarray(factors[f][2]) for f in fs)
        for pos, v in enumerate(vs):
            where[v] = ("component", len(components), pos)
        components.append(Component(np.array(vs, dtype=np.intp), tuple(cards[v] for v in vs), consts, steps, has_k))
    singletons: list[SingletonGroup] = []
    for card in sorted(single_by_card):
        items = single_by_card[card]
        for pos, (v, _) in enumerate(items):
            where[v] = ("singleton", len(singletons), pos)
        singletons.append(SingletonGroup(np.array([v for v, _ in items], dtype=np.intp), card, np.stack([t for _, t in items])))

    max_card = max(cards)
    lam = np.zeros((len(names), max_card))
    for i, c in enumerate(cards):
        lam[i, :c] = 1.0
    lam.setflags(write=False)
    base.setflags(write=False)
    return CompiledNetwork(
        names=names, states=states, cards=cards, parents=parents, tables=tables,
        targets=target_idx, enumerated=enumerated, joint_states=joint_states, base=base,
        singletons=tuple(singletons), components=tuple(components), lam_template=lam,
        index=index, state_index=tuple({s: j for j, s in enumerate(st)} for st in states),
        where=tuple(where[v] for v in range(len(names))),
    )
