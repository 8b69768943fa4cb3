"""The compiled network: arrays and a cached contraction plan, built once per model.

How inference is organised (all of it exact):

* The *targets* (a diagnostic model's causes) are enumerated jointly when
  their joint is small (``JOINT_LIMIT`` states): every factor is re-indexed
  with a leading axis ``K`` over the targets' joint states. Factors that
  touch only targets multiply into one constant vector ``base``.
* Given the targets, the other nodes fall apart into independent
  *components* (connected through shared factors). A node whose factors
  touch only itself and targets (a finding under its causes) is a
  *singleton*: all singletons are stacked (zero-padded) and handled in
  one vectorised operation. Larger components (the risk factors that share
  a cause) get a variable-elimination plan: a fixed list of ``einsum``
  steps chosen by min-fill at compile time.
* Evidence enters as likelihood vectors ``lam`` of shape
  ``(batch, n_nodes, max_card)`` (ones where unobserved), so the plan never
  depends on which nodes are observed and a batch of evidence sets runs in
  the same calls.

When the targets' joint is too large the enumeration set is empty (``K = 1``)
and target posteriors come from the per-node marginals instead.

A bipartite noisy-OR network (causes above, findings below, QMR style)
compiles to no plan at all: its queries go to ``inference.bipartite``.

Compiling has two halves. The *skeleton* (the enumeration, components,
elimination plans, einsum paths, gradient and pruning plans) depends on the
structure alone: nodes, states, parents, each node's kind of table, the
targets, the joint limit and the memory budget. The *numbers* (the factor
tables, ``base``, the singletons' tables, each component's compile-time
constants and leaf matrices) are computed from the skeleton and the spec's
numbers, always by the same calls. The last ``STRUCTURES_KEPT`` skeletons
are kept, so a spec that differs only in its numbers (what
``Model.with_parameters`` makes) compiles in about a tenth of the time, to
exactly the arrays a compile from scratch gives (``structure_cache_info``).

>>> import kneebayes
>>> net = compile_network(kneebayes.load_model().spec)
>>> net.n_joint, len(net.components), len(net.singletons)
(64, 2, 1)
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import IntractableError, stacklevel_outside
from ..modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Table
from ..settings import MEMORY_BUDGET, WORK_LIMIT
from . import backward_plan, contraction, planner
from .backward_plan import CALL_WORK, GradientPlan, compile_gradient
from .bipartite import BipartiteLayout, bipartite_layout
from .contraction import Einsum, plan_einsum, stand_in
from .einsum_steps import MAX_OPERANDS, step_subscripts
from .kept import Kept
from .planner import (
    BYTES_PER_ENTRY,
    SEARCH_ENTRIES_PER_VARIABLE,
    check_budget,
    eliminate,
    entries_allowed,
    linked_groups,
    search,
)
from .pruned_plan import PRUNE_WORK, Pruning, compile_pruning
from .tables import NodeTables

JOINT_LIMIT = 4096
# A bipartite noisy-OR network with more causes than this takes the bipartite engine even when its
# targets could be enumerated: elimination would join the causes the findings share.
BIPARTITE_CAUSES = 16
#: How many network structures ``compile_network`` keeps the plans of, to reuse when only the numbers change.
STRUCTURES_KEPT = 8
# Randomised orders tried for a component's plan where it is large (planner.search): up to this many, and up
# to COMPILE_SEARCH_VARIABLES variables' worth of runs (about 0.3 s) past 8 (MUNIN1's 186 variables: 24 runs
# take its plan from 2.45e8 entries to 1.66e8 where 8 found nothing; LINK's 700: 8 runs, 0.5 s).
COMPILE_SEARCH_TRIES = 24
COMPILE_SEARCH_VARIABLES = 6_000
FORWARD_CALLS_SLACK = 1.25   # a gradient forward pass with this many times the plan's calls still costs no more
#: A noisy-OR is split into pairwise pieces (Diez and Galan) only where every nonzero P(yes | parents) is
#: at least this. The split forms P(yes) as the difference of two products near 1, so it keeps about
#: 16 + log10(P(yes)) digits; below this the node keeps its full table (exact), unless that table would
#: pass ``SPLIT_ALWAYS_PARENTS`` parents outside the targets.
SPLIT_MIN_YES = 1e-4
#: From this many parents outside the targets a noisy-OR is always split: its full table would be large.
SPLIT_ALWAYS_PARENTS = 16
_MAX_OPERANDS = MAX_OPERANDS
_LETTERS = "cdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 'a' batch, 'b' target joint


@dataclass(frozen=True, eq=False)
class Component:
    """Non-target nodes linked through shared factors, with their elimination plan.

    The plan sums out the component's own nodes and keeps the targets its
    factors touch as output axes; ``expand_shape`` places those axes among
    all enumerated targets so the result broadcasts onto the joint (K).
    """

    nodes: np.ndarray               # observable node indices; their lam vectors fill slots lam_start...
    cards: tuple[int, ...]
    slots: tuple[np.ndarray | None, ...]   # slot template: constants (and compile-time results) in place
    lam_start: int
    lam_used: tuple[int, ...]              # positions whose lam vector a run-time step reads
    leaf_groups: tuple[LeafGroup, ...]     # first eliminations, batched: lam_v @ M_v
    leaf_stacks: tuple[LeafStack, ...]     # the groups' matrices stacked per cardinality: one matmul each
    steps: tuple[Einsum, ...]              # what is left, one einsum each
    result: int                            # the slot holding the component's value
    expand_shape: tuple[int, ...]   # card or 1 per enumerated target
    full_shape: tuple[int, ...]     # card per enumerated target
    expand_index: np.ndarray | None = None   # (K,): each joint state's position in the (flattened) result
    gradient: GradientPlan | None = None   # the plan run backwards: every node's joint with the targets at once
    pruning: Pruning | None = None         # for one evidence set, only the evidence's ancestors (large components)
    closed: bool = False                   # only its own nodes' tables: with no evidence in it, its value is exactly 1
    # For one evidence set, compute the value with the gradient plan's forward half: about as cheap
    # as the plan above, and a ranking then runs only the backward half (inference.backward).
    forward_first: bool = False
    largest: float = 1.0                   # entries of the largest table the plan builds, per batch row
    # Per constant slot: the node whose whole table it is, or -1 (a noisy-OR's piece): learning's sweep
    # takes each such table's gradient (network.table_gradient).
    table_nodes: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class LeafStack:
    """All leaf matrices of one cardinality, zero-padded to one width, so one matmul serves every group."""

    positions: np.ndarray           # positions in Component.nodes
    card: int
    matrices: np.ndarray            # (n, card, width)
    groups: tuple[tuple[int, int, int, int, tuple[int, ...]], ...]   # (start, stop, width, output slot, shape)


@dataclass(frozen=True, eq=False)
class LeafGroup:
    """Eliminations whose bucket is one node's lam and constants only, all of one cardinality.

    Each is ``lam_v @ M_v``; with every M_v spread over the same axes, the
    group's messages are one einsum and their product one call.
    """

    positions: np.ndarray           # positions in Component.nodes
    card: int
    matrices: np.ndarray            # (n, card, width): each M_v spread over the group's axes
    output: int                     # slot receiving the product of the group's messages
    shape: tuple[int, ...]          # that slot's axes (after the batch axis)


@dataclass(frozen=True, eq=False)
class SingletonGroup:
    """Nodes whose factors touch only themselves and the targets, stacked.

    ``tables[n, x, k]`` = product of node n's factors at value x and target
    state k; zero for x past node n's own cardinality.
    """

    nodes: np.ndarray            # (n,)
    card: int                    # the widest node's cardinality
    tables: np.ndarray           # (n, card, K)


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """A model's network as arrays and plans, ready for the inference functions; built by :func:`compile_network`.

    Nodes are numbered in the spec's order: ``names``, ``states``,
    ``cards`` and ``parents`` are per node, and ``index`` and
    ``state_index`` turn ids and state names into those numbers. The
    targets' joint states (``K`` of them, ``n_joint``) are the rows of
    ``joint_states``; ``base``, the ``singletons`` and the ``components``
    are the pieces whose product is P(targets, evidence) (see the module
    docstring). Evidence reaches it as likelihood vectors shaped like
    ``lam_template`` (``inference.posterior.encode``). Frozen; what the
    queries derive from it and reuse is kept beside it, per network.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> len(net.names), [net.names[t] for t in net.targets][:2]
    (32, ['hamstring_strain', 'popliteus_overload'])
    >>> net.n_joint, net.max_card    # six yes/no causes enumerated jointly
    (64, 2)
    >>> net.states[net.index["meniscal_injury"]]
    ('yes', 'no')
    """

    names: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    cards: tuple[int, ...]
    parents: tuple[tuple[int, ...], ...]
    tables: Sequence[np.ndarray]         # CPTs, axes (parents..., node); built on first use (network.tables.NodeTables)
    targets: tuple[int, ...]
    enumerated: tuple[int, ...]          # the targets when their joint is enumerated, else ()
    joint_states: np.ndarray             # (K, len(enumerated)) state index of each enumerated target
    joint_flat: np.ndarray               # (K, len(enumerated)) the same, as flat indices into lam[:, enumerated]
    base: np.ndarray                     # (K,)
    singletons: tuple[SingletonGroup, ...]
    components: tuple[Component, ...]
    lam_template: np.ndarray             # (n_nodes, max_card): ones, zero padding
    index: Mapping[str, int] = field(default_factory=dict)
    state_index: tuple[Mapping[str, int], ...] = ()
    where: tuple[tuple[str, int, int], ...] = ()   # per node: ("target"|"singleton"|"component", group, position)
    membership: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))   # (components, nodes)
    prunable: bool = False                     # some component can be skipped or pruned for one evidence set
    name: str = ""                             # the model's name, for errors
    memory_budget: int = MEMORY_BUDGET         # bytes: no plan builds a larger table
    work_limit: float = WORK_LIMIT             # steps: no bipartite query planned to take more is run
    bipartite: BipartiteLayout | None = None   # a QMR-style noisy-OR network, answered by inference.bipartite
    # why the targets' joint is not enumerated: "joint_limit" (too many states), "memory_budget" (planning with it
    # passed the budget) or "bipartite" (a QMR-style network of many causes, answered cause by cause); "" when it is
    unenumerated: str = ""
    # log of ``base``, summed from its factors' logs: a product of target priors below 2.2e-308 (3e-140 * 4e-220)
    # is zero in ``base`` but not here, where P(evidence) is tiny and the joint is taken in logs; None: log(base)
    log_base: np.ndarray | None = None

    @property
    def n_joint(self) -> int:
        """K: how many joint states of the targets are enumerated (1 when none are)."""
        return int(self.joint_states.shape[0])

    @property
    def max_card(self) -> int:
        """The most states any node has: the width of an evidence likelihood vector."""
        return int(self.lam_template.shape[1])


def _plan(variables: list[int], observable: list[int], factors: list[tuple[int, ...]], cards: Sequence[int],
          keep: Sequence[int], slot_vars: dict[int, tuple[tuple[int, ...], bool]] | None = None,
          order: Sequence[int] | None = None) -> tuple[Einsum, ...]:
    """Variable elimination steps over constant factors plus one lam vector per observable variable.

    Slots: ``0..F-1`` the factors (by scope), then the lam vectors (batch,
    card) of ``observable`` in order, then one slot per step. The
    variables in ``keep`` (targets) are never summed out: the last step's
    output has axes (batch, *keep). ``slot_vars``, when given, receives
    every slot's (variables, has batch axis), in axis order.
    """
    live: dict[int, tuple[tuple[int, ...], bool]] = {}   # slot -> (vars, has_batch)
    for i, scope in enumerate(factors):
        live[i] = (scope, False)
    for j, v in enumerate(observable):
        live[len(factors) + j] = ((v,), True)
    next_slot = len(factors) + len(observable)
    steps: list[Einsum] = []
    holding: dict[int, set[int]] = {}      # variable -> the live slots over it: each bucket in time linear in its size
    for slot, (vs, _) in live.items():
        for u in vs:
            holding.setdefault(u, set()).add(slot)

    def emit(inputs: list[int], out_vars: tuple[int, ...]) -> None:
        nonlocal next_slot
        while len(inputs) > _MAX_OPERANDS:
            # numpy's einsum takes at most 32 operands: multiply a chunk first, summing nothing.
            chunk, inputs = inputs[:_MAX_OPERANDS], inputs[_MAX_OPERANDS:]
            emit(chunk, tuple(sorted({v for i in chunk for v in live[i][0]})))
            inputs = inputs + [next_slot - 1]
        subscripts, has_b = step_subscripts([live[i] for i in inputs], out_vars, _LETTERS)
        steps.append(Einsum(tuple(inputs), subscripts, next_slot))
        for i in inputs:
            if slot_vars is not None:
                slot_vars[i] = live[i]
            for u in live[i][0]:
                holding[u].discard(i)
            del live[i]
        live[next_slot] = (out_vars, has_b)
        for u in out_vars:
            holding.setdefault(u, set()).add(next_slot)
        next_slot += 1

    if order is None:
        order = eliminate(variables, factors, cards).order
    for v in order:
        bucket = sorted(holding.get(v, ()))
        out_vars = tuple(sorted({u for i in bucket for u in live[i][0]} - {v}))
        emit(bucket, out_vars)
    final = tuple(keep)   # in the order of the enumerated targets, which the result is broadcast onto
    if len(live) > 1 or next(iter(live.values()))[0] != final:
        emit(list(live), final)  # multiply what is left into one (batch, *keep) result
    if slot_vars is not None:
        slot_vars.update(live)
    return tuple(steps)


@dataclass(frozen=True, eq=False)
class _Fold:
    """A step over constants only, done at compile time: ``slots[output] = einsum(subscripts, *slots[inputs])``."""

    subscripts: str
    inputs: tuple[int, ...]
    output: int


@dataclass(frozen=True, eq=False)
class _Leaf:
    """A bucket of one lam vector and constants: its matrix M (``lam @ M`` at run time), done at compile time."""

    output: int
    position: int               # the lam vector's position among the component's observable nodes
    subscripts: str | None      # the constants' einsum to M; None: the bucket is the lam vector alone
    inputs: tuple[int, ...]
    card: int


@dataclass(frozen=True, eq=False)
class _Merge:
    """Leaves one step consumes, spread over the union of their axes into one LeafGroup."""

    items: tuple[tuple[int, str], ...]   # (leaf slot, its axes' letters)
    letters: str
    output: int


@dataclass(frozen=True, eq=False)
class _Constants:
    """How a component's compile-time arrays follow from its factor tables: the numbers half of its plan.

    Which steps fold, which become leaves and how leaves merge depends on
    the structure only; replaying this on new tables gives what a full
    compile would, by the same numpy calls in the same order.
    """

    n_slots: int
    ops: tuple[_Fold | _Leaf, ...]
    merges: tuple[_Merge, ...]


def _folded(op: _Fold, slots: Sequence[np.ndarray | None]) -> np.ndarray:
    return np.einsum(op.subscripts, *[slots[i] for i in op.inputs])


def _leaf_matrix(op: _Leaf, slots: Sequence[np.ndarray | None]) -> np.ndarray:
    if op.subscripts is None:
        return np.ones(op.card)   # the bucket is the lam vector alone: sum it
    return np.einsum(op.subscripts, *[slots[i] for i in op.inputs])


def _merged(op: _Merge, leaves: Mapping[int, tuple[int, np.ndarray]]) -> LeafGroup:
    dims: dict[str, int] = {}
    for slot, sub in op.items:
        dims.update(zip(sub, leaves[slot][1].shape[1:]))
    shape = tuple(dims[c] for c in op.letters)
    spread = []
    for slot, sub in op.items:
        m = leaves[slot][1]
        spread.append(np.einsum("z" + sub + "," + op.letters + "->z" + op.letters, m, np.ones(shape))
                      .reshape(m.shape[0], -1))
    return LeafGroup(
        positions=np.array([leaves[slot][0] for slot, _ in op.items], dtype=np.intp), card=spread[0].shape[0],
        matrices=np.stack(spread), output=op.output, shape=shape,
    )


def _constants(recipe: _Constants, consts: Sequence[np.ndarray]) -> tuple[tuple[np.ndarray | None, ...], tuple[LeafGroup, ...]]:
    """A component's slot template and leaf groups for these factor tables (see :class:`_Constants`)."""
    slots: list[np.ndarray | None] = [None] * recipe.n_slots
    slots[: len(consts)] = consts
    leaves: dict[int, tuple[int, np.ndarray]] = {}
    for op in recipe.ops:
        if isinstance(op, _Fold):
            slots[op.output] = _folded(op, slots)
        else:
            leaves[op.output] = (op.position, _leaf_matrix(op, slots))
    return tuple(slots), tuple(_merged(m, leaves) for m in recipe.merges)


def _precompute(consts: list[np.ndarray], observable: list[int], cards: Sequence[int],
                steps: tuple[Einsum, ...]) -> tuple[tuple[np.ndarray | None, ...], tuple[LeafGroup, ...],
                                                    tuple[Einsum, ...], _Constants]:
    """Do at compile time all work that does not depend on the evidence.

    A step over constants only is computed now. A step over constants and a
    single lam vector becomes ``lam @ M`` with M computed now ("leaf"). The
    leaves a later step consumes are merged: each M is spread over the union
    of their axes, so at run time the whole group is one einsum and one
    product, and the consuming step gets one operand instead of many.
    Returns the slots, the leaf groups, the run-time steps and the recipe
    that gives the slots and groups again from other numbers (:func:`_constants`).
    """
    n_slots = len(consts) + len(observable) + len(steps)
    slots: list[np.ndarray | None] = [None] * n_slots
    slots[: len(consts)] = consts
    lam_slot = {len(consts) + j: j for j in range(len(observable))}
    known = set(range(len(consts)))
    leaves: dict[int, tuple[int, np.ndarray]] = {}     # output slot -> (position, M with axes (card, *out))
    ops: list[_Fold | _Leaf] = []
    runtime: list[Einsum] = []
    for step in steps:
        ins, out = step.subscripts.split("->")
        subs = ins.split(",")
        lam_inputs = [k for k, i in enumerate(step.inputs) if i in lam_slot]
        if all(i in known for i in step.inputs):
            fold = _Fold(step.subscripts, tuple(step.inputs), step.output)
            slots[step.output] = _folded(fold, slots)
            ops.append(fold)
            known.add(step.output)
        elif len(lam_inputs) == 1 and all(i in known or i in lam_slot for i in step.inputs):
            k = lam_inputs[0]
            pos = lam_slot[step.inputs[k]]
            const_subs = [sb for j, sb in enumerate(subs) if j != k]
            leaf = _Leaf(step.output, pos, ",".join(const_subs) + "->" + subs[k][1:] + out[1:] if const_subs else None,
                         tuple(i for j, i in enumerate(step.inputs) if j != k), cards[observable[pos]])
            leaves[step.output] = (pos, _leaf_matrix(leaf, slots))
            ops.append(leaf)
        else:
            runtime.append(step)

    groups: list[LeafGroup] = []
    merges: list[_Merge] = []
    merged: list[Einsum] = []

    def merge(items: list[tuple[int, str]], letters: str, out_slot: int) -> None:
        # items: (leaf slot, its axes' letters); letters: the union, in order
        op = _Merge(tuple(items), letters, out_slot)
        groups.append(_merged(op, leaves))
        merges.append(op)

    next_slot = n_slots
    for step in runtime:
        ins, out = step.subscripts.split("->")
        subs = ins.split(",")
        by_card: dict[int, list[tuple[int, str]]] = {}
        inputs, new_subs = [], []
        for i, sb in zip(step.inputs, subs):
            if i in leaves:
                by_card.setdefault(leaves[i][1].shape[0], []).append((i, sb[1:]))
            else:
                inputs.append(i)
                new_subs.append(sb)
        for card, items in sorted(by_card.items()):
            letters = "".join(sorted({c for _, sb in items for c in sb}))
            merge(items, letters, next_slot)
            slots.append(None)
            inputs.append(next_slot)
            new_subs.append("a" + letters)
            next_slot += 1
        merged.append(Einsum(tuple(inputs), ",".join(new_subs) + "->" + out, step.output))
    final = len(consts) + len(observable) + len(steps) - 1
    if final in leaves:  # the last elimination was itself a leaf
        m = leaves[final][1]
        letters = "".join(chr(ord("c") + d) for d in range(m.ndim - 1))
        merge([(final, letters)], letters, final)
    recipe = _Constants(len(slots), tuple(ops), tuple(merges))
    return (tuple(slots), tuple(groups), tuple(_with_paths(slots, groups, merged, len(consts), observable, cards)),
            recipe)


def _with_paths(slots: list[np.ndarray | None], groups: list[LeafGroup], steps: list[Einsum], lam_start: int,
                observable: list[int], cards: Sequence[int]) -> list[Einsum]:
    """Decide once, on stand-in arrays, how each step runs (``contraction.plan_einsum``).

    numpy's einsum over many operands loops over the product of every index
    at once; for a wide bucket, or a large batch, matrix products cost far less.

    A step's result may stay in the order its last product leaves (no copy),
    its one consumer reading the axes renamed. Not where that consumer's own
    chain outgrows numpy's memory cap: on large batches it then runs as one
    einsum, which reads the renamed axes several times slower (Insurance,
    256 rows: 24 ms against 9). A first pass finds those consumers.
    """
    fixed = _planned(slots, groups, steps, lam_start, observable, cards, frozenset())
    # slots some bounded step reads; the component's result, read by none, keeps the targets' order
    free = frozenset(i for planned in fixed if not planned.max_rows for i in planned.inputs)
    return _planned(slots, groups, steps, lam_start, observable, cards, free)


def _planned(slots: list[np.ndarray | None], groups: list[LeafGroup], steps: list[Einsum], lam_start: int,
             observable: list[int], cards: Sequence[int], free: frozenset[int]) -> list[Einsum]:
    """``plan_einsum`` for every step, letting the slots in ``free`` take their products' order."""
    work: list[np.ndarray | None] = list(slots)     # only shapes are read: stand-ins allocate nothing
    for j, v in enumerate(observable):
        work[lam_start + j] = stand_in((1, cards[v]))
    for g in groups:
        work[g.output] = stand_in((1, *g.shape))
    moved: dict[int, tuple[int, ...]] = {}   # slot -> its axes' new order, where a step left them as its products did
    out = []
    for step in steps:
        ins, target = step.subscripts.split("->")
        subs = ins.split(",")
        for n, i in enumerate(step.inputs):
            if i in moved:
                subs[n] = "".join(subs[n][k] for k in moved[i])
        subscripts = ",".join(subs) + "->" + target
        ops = [work[i] for i in step.inputs]
        known = [o for o in ops if o is not None]
        if len(known) < len(ops):  # pragma: no cover - every input of a runtime step exists by now
            raise AssertionError(f"step {step.subscripts} reads a slot no earlier step fills")
        planned = plan_einsum(step.inputs, subscripts, step.output, [o.shape for o in known],
                              free_output=step.output in free)
        new_target = planned.subscripts.split("->")[1]
        if new_target != target:
            moved[step.output] = tuple(target.index(c) for c in new_target)
        dims = {c: d for sub, o in zip(subs, known) for c, d in zip(sub, o.shape)}
        work[step.output] = stand_in(tuple(dims[c] for c in new_target))
        out.append(planned)
    return out


def _stack_leaves(groups: Sequence[LeafGroup]) -> tuple[LeafStack, ...]:
    stacks = []
    for card in sorted({g.card for g in groups}):
        members = [g for g in groups if g.card == card]
        width = max(g.matrices.shape[2] for g in members)
        matrices = np.zeros((sum(g.matrices.shape[0] for g in members), card, width))
        spans, start = [], 0
        for g in members:
            n, _, w = g.matrices.shape
            matrices[start : start + n, :, :w] = g.matrices
            spans.append((start, start + n, w, g.output, g.shape))
            start += n
        stacks.append(LeafStack(np.concatenate([g.positions for g in members]), card, matrices, tuple(spans)))
    return tuple(stacks)


def _noisy_or_pieces(leak: float, weights: Sequence[float], parent_yes: Sequence[int], yes_index: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Multiplicative factorisation of a leaky noisy-OR (Diez and Galan, 2003).

    With a hidden two-state variable A:
    P(x | pa) = sum_a phi(x, a) * prod_i psi_i(a, pa_i), where
    psi_i(0, pa_i) = 1 - w_i if pa_i is yes else 1, psi_i(1, .) = 1, and
    phi(no, .) = (1 - leak, 0), phi(yes, .) = (-(1 - leak), 1).
    One table over k + 1 variables becomes k pairwise ones, which keeps
    elimination narrow when a cause has many risk factors.
    """
    phi = np.zeros((2, 2))
    phi[1 - yes_index] = (1.0 - leak, 0.0)
    phi[yes_index] = (-(1.0 - leak), 1.0)
    psis = []
    for w, y in zip(weights, parent_yes):
        psi = np.ones((2, 2))
        psi[0, y] = 1.0 - w
        psis.append(psi)
    return phi, psis


def compile_network(spec: ModelSpec, targets: Sequence[str] | None = None, joint_limit: int = JOINT_LIMIT,
                    memory_budget: int = MEMORY_BUDGET, split_noisy_or: bool = True,
                    tables: Mapping[int, np.ndarray] | None = None, work_limit: float = WORK_LIMIT) -> CompiledNetwork:
    """Compile a validated spec once: tables, target enumeration, components and plans.

    ``targets`` are node ids (default: the spec's causes); their joint is
    enumerated when it has at most ``joint_limit`` states. No table the
    plans build may pass ``memory_budget`` bytes: an IntractableError is
    raised instead, before anything large is allocated; nor may a query of
    the bipartite engine be planned to take more than ``work_limit`` steps
    (``inference.bipartite``). A
    :class:`kneebayes.Model` calls this once, on load (``model.network``).
    A spec whose structure was compiled lately reuses its plans (see the
    module docstring); only its numbers are computed. ``split_noisy_or=False``
    keeps every noisy-OR one table (as learning from cases does: it counts
    each family from its table's gradient, ``research.learning_sweep``).
    ``tables`` (node number -> its CPT, axes parents..., node; prior or
    table nodes only, read-only) replace those nodes' numbers in ``spec``
    without a spec built for them (learning's steps: see ``NodeTables``).

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> net = compile_network(spec)
    >>> net.n_joint, len(net.targets)
    (64, 6)
    >>> compile_network(spec, targets=["meniscal_injury"]).n_joint
    2
    >>> compile_network(spec, joint_limit=32).enumerated    # 64 joint states: too many to enumerate
    ()
    """
    nodes = list(spec.nodes)
    names = tuple(n.id for n in nodes)
    index = {n: i for i, n in enumerate(names)}
    states = tuple(n.states for n in nodes)
    cards = tuple(len(s) for s in states)
    by_id = {n.id: n.states for n in nodes}
    parents = tuple(tuple(index[p] for p in n.parents) for n in nodes)
    node_tables = NodeTables(nodes, by_id, memory_budget, spec.name, tables)
    target_ids = [n.id for n in nodes if n.kind == "cause"] if targets is None else list(targets)
    target_idx = tuple(index[t] for t in target_ids)

    k_size = math.prod(cards[t] for t in target_idx)
    enumerated = target_idx if k_size <= joint_limit else ()
    layout = bipartite_layout(spec, target_idx)
    too_many = k_size > joint_limit   # not "not enumerated": a network without targets enumerates none either
    if layout is not None and (too_many or layout.network.n_causes > BIPARTITE_CAUSES):
        # with few causes a larger joint limit would enumerate them, with many nothing would
        why = "bipartite" if layout.network.n_causes > BIPARTITE_CAUSES else "joint_limit"
        return _bipartite(spec, names, index, states, cards, parents, node_tables, target_idx, memory_budget, layout,
                          why, work_limit)
    key = (_structure_key(spec, target_idx, joint_limit, memory_budget), split_noisy_or)
    skeleton = _SKELETONS.get(key)
    first = None
    if skeleton is None:
        parts = (spec, names, states, cards, parents, node_tables, memory_budget, split_noisy_or)
        if not enumerated:
            skeleton, first = _skeleton(*parts, ())
        else:
            try:
                skeleton, first = _skeleton(*parts, enumerated)
            except IntractableError:
                # Enumerating the targets puts every one a component touches into each of its cliques; without
                # it the targets are ordinary variables, eliminated where cheapest (posteriors come from marginals).
                skeleton, first = _skeleton(*parts, ())
        _SKELETONS.put(key, skeleton)
    # learning's steps (tables given) are not checked: its prior keeps what it learns far from such numbers
    why = "" if not target_idx or skeleton.enumerated else "joint_limit" if too_many else "memory_budget"
    return _filled(skeleton, spec, names, index, states, cards, parents, node_tables, target_idx, memory_budget, first,
                   checked=tables is None, unenumerated=why, work_limit=work_limit)


#: A non-zero table entry below this is flagged when a network compiles (:class:`PrecisionWarning`): three of
#: them in one product fall below the smallest double (2.2e-308) before any rescaling can reach them. The
#: networks pgmpy ships have none below 1e-6.
TINY_ENTRY = 1e-100


class PrecisionWarning(UserWarning):
    """A network holds a probability so small (below ``TINY_ENTRY``, 1e-100) that answers may lose digits.

    kneebayes computes in double precision and rescales every message, so a
    long product of small numbers keeps its digits; but one product of a few
    entries like these can fall below the smallest double inside a single
    step, and an answer that rests on it can come out inexact, or a possible
    answer as impossible (``docs/engine.md``, "Underflow"). The warning names
    the node with the smallest entry. Turn it into an error with
    ``warnings.simplefilter("error", kneebayes.PrecisionWarning)``:

    >>> import os, tempfile, warnings
    >>> import kneebayes
    >>> path = os.path.join(tempfile.mkdtemp(), "rare.bif")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("network rare {}\\n"
    ...                 "variable A { type discrete [ 2 ] { yes, no }; }\\n"
    ...                 "probability ( A ) { table 1e-170, 1.0; }\\n")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = kneebayes.load_bif(path, targets=["A"])
    >>> [type(w.message).__name__ for w in caught]
    ['PrecisionWarning']
    """


def _warn_if_tiny(network: str, names: Sequence[str], sources: Sequence[tuple[int, int]],
                  arrays: Sequence[np.ndarray]) -> None:
    """Warn (:class:`PrecisionWarning`) where some factor the engine multiplies holds a non-zero entry below
    ``TINY_ENTRY``, naming its node."""
    smallest, at = math.inf, -1
    for (node, _), table in zip(sources, arrays):
        low = float(np.min(table, where=table > 0.0, initial=math.inf))
        if low < smallest:
            smallest, at = low, node
    if smallest < TINY_ENTRY:
        warnings.warn(f"network {network!r}: node {names[at]!r} has a probability of {smallest:.3g}; products of a "
                      f"few numbers below {TINY_ENTRY:g} can fall below the smallest double inside one step, where "
                      f"answers that rest on them lose their digits (docs/engine.md, Underflow)",
                      PrecisionWarning, stacklevel=stacklevel_outside())


# -- reusing the structure ---------------------------------------------------------------------
def _structure_key(spec: ModelSpec, target_idx: tuple[int, ...], joint_limit: int, memory_budget: int) -> tuple[object, ...]:
    """Everything the plans depend on: nodes, states, parents, each node's kind of table, targets, limits,
    and the planning constants (``PRUNE_WORK``, the einsum letters, ...).

    Not the numbers: no plan reads one (every decision is made on shapes;
    whether a noisy-OR may be split reads its smallest probability, and
    that one bit is in the key), so networks that differ only in their
    numbers share one skeleton.
    """
    shapes: list[object] = []
    for n in spec.nodes:
        params = n.parameters
        if isinstance(params, NoisyOr):
            shape: object = ("noisy_or", tuple(p for p, _ in params.weights), split_keeps_digits(params))
        elif isinstance(params, Table):
            shape = ("table", params.parents)
        else:
            shape = type(params).__name__
        shapes.append((n.id, n.states, n.parents, shape))
    return (joint_limit, memory_budget, target_idx, tuple(shapes), _planning_constants())


def _planning_constants() -> tuple[object, ...]:
    """The constants planning reads, as they are now: plans made under other values are not reused."""
    return (PRUNE_WORK, FORWARD_CALLS_SLACK, SPLIT_MIN_YES, SPLIT_ALWAYS_PARENTS, CALL_WORK, _MAX_OPERANDS, _LETTERS, backward_plan.LETTERS,
            planner.GIVE_UP_VARIABLES, contraction.PAIRWISE_GAIN, contraction.CHAIN_MEMORY, contraction.BATCH_PATH_WORK,
            contraction.PLAIN_OPERANDS)


_SKELETONS: Kept[_Skeleton] = Kept(STRUCTURES_KEPT)   # the last few networks' skeletons by structure


class StructureCacheInfo(NamedTuple):
    """How :func:`compile_network` reused network structures: like ``functools.lru_cache``'s ``cache_info()``."""

    hits: int       # compiles that reused a skeleton: only the numbers were recomputed
    misses: int     # compiles that planned a structure from scratch
    size: int       # skeletons kept now
    maxsize: int    # at most this many (``STRUCTURES_KEPT``)


def structure_cache_info() -> StructureCacheInfo:
    """How many compiles reused a structure's plans, how many planned one, and how many are kept.

    A network compiled again with other numbers but the same nodes, states,
    parents, kinds of table and targets (what ``Model.with_parameters``
    makes) reuses the plans, and only its numbers are computed.

    >>> import kneebayes
    >>> clear_structure_cache()
    >>> model = kneebayes.load_model()
    >>> changed = model.with_parameters({"bakers_cyst.leak": 0.2})
    >>> info = structure_cache_info()
    >>> info.hits, info.misses, info.size
    (1, 1, 1)
    """
    return StructureCacheInfo(_SKELETONS.hits, _SKELETONS.misses, len(_SKELETONS), _SKELETONS.size)


def clear_structure_cache() -> None:
    """Forget every kept structure (and reset the counts); the next compile of each plans it again.

    >>> clear_structure_cache()
    >>> structure_cache_info().size
    0
    """
    _SKELETONS.clear()


@dataclass(frozen=True, eq=False)
class _ComponentSkeleton:
    """A component with its numbers left out, and how to compute them from the network's factors."""

    template: Component                     # every structural field; slots, leaves, gradient slots, pruning tables empty
    factors: tuple[int, ...]                # the factors (by number) whose tables are its constants, in slot order
    constants: _Constants
    gradient: GradientPlan | None           # slots empty
    gradient_known: frozenset[int]          # the gradient plan's slots that hold constants
    pruning: tuple[float, float] | None     # compile_pruning's (full_work, node_work), or None: not pruned


@dataclass(frozen=True, eq=False)
class _Skeleton:
    """What a compiled network keeps whatever its numbers: the plans, and where each number goes."""

    enumerated: tuple[int, ...]
    joint_states: np.ndarray
    joint_flat: np.ndarray
    sources: tuple[tuple[int, int], ...]    # per factor: (node, -1 for its table or a noisy-OR piece: 0 phi, 1+ psi)
    scopes: tuple[tuple[int, ...], ...]     # per factor: its variables (hidden ones past the nodes)
    split: Mapping[int, tuple[tuple[int, ...], int]]   # a split noisy-OR: (its parents' yes states, its own)
    base_terms: tuple[tuple[int, tuple[np.ndarray, ...]], ...]   # factors on targets only, and their joint index
    singles: tuple[tuple[int, tuple[tuple[int, int, tuple[np.ndarray, ...] | None], ...]], ...]   # (node, terms)
    single_width: int
    single_nodes: np.ndarray
    components: tuple[_ComponentSkeleton, ...]
    where: tuple[tuple[str, int, int], ...]
    membership: np.ndarray
    prunable: bool
    lam_template: np.ndarray


def _factor_sources(nodes: Sequence[NodeSpec], parents: tuple[tuple[int, ...], ...],
                    states: tuple[tuple[str, ...], ...], cards: tuple[int, ...], epos: Mapping[int, int],
                    split_noisy_or: bool = True) -> tuple[list[int], list[tuple[int, ...]], list[tuple[int, int]], dict[int, tuple[tuple[int, ...], int]]]:
    """The factors: one CPT per node, except that a noisy-OR with several parents outside the
    targets is split into pairwise pieces over a hidden variable. Returns the variables' cards
    (hidden ones appended), each factor's scope and source, and the split nodes' yes states."""
    var_cards = list(cards)
    scopes: list[tuple[int, ...]] = []
    sources: list[tuple[int, int]] = []
    split: dict[int, tuple[tuple[int, ...], int]] = {}
    for i, n in enumerate(nodes):
        outside = sum(p not in epos for p in parents[i])
        if split_noisy_or and isinstance(n.parameters, NoisyOr) and outside >= 2 and (
                outside >= SPLIT_ALWAYS_PARENTS or split_keeps_digits(n.parameters)):
            hidden = len(var_cards)
            var_cards.append(2)
            split[i] = (tuple(states[p].index("yes") for p in parents[i]), states[i].index("yes"))
            scopes += [(i, hidden), *((hidden, p) for p in parents[i])]
            sources += [(i, k) for k in range(len(parents[i]) + 1)]
        else:
            scopes.append(parents[i] + (i,))
            sources.append((i, -1))
    return var_cards, scopes, sources, split


def split_keeps_digits(params: NoisyOr) -> bool:
    """Whether splitting this noisy-OR keeps every P(yes | parents) to about 12 digits: its smallest nonzero
    one (the leak, or with no leak the smallest weight) is at least ``SPLIT_MIN_YES``.

    >>> import kneebayes
    >>> cause = kneebayes.load_model().spec.node("popliteus_overload").parameters
    >>> split_keeps_digits(cause)      # leak 0.03
    True
    """
    positive = [w.value for _, w in params.weights if w.value > 0.0]
    smallest = params.leak.value if params.leak.value > 0.0 else min(positive, default=1.0)
    return smallest >= SPLIT_MIN_YES


def _factor_tables(sources: Sequence[tuple[int, int]], split: Mapping[int, tuple[tuple[int, ...], int]],
                   nodes: Sequence[NodeSpec], tables: NodeTables) -> list[np.ndarray]:
    """Each factor's table from the spec's numbers, in the order of ``sources``."""
    pieces: dict[int, list[np.ndarray]] = {}
    out = []
    for node, piece in sources:
        if piece < 0:
            out.append(tables[node])
            continue
        found = pieces.get(node)
        if found is None:
            params = nodes[node].parameters
            assert isinstance(params, NoisyOr)  # noqa: S101 - the structure key holds each node's kind
            phi, psis = _noisy_or_pieces(params.leak.value, [w.value for _, w in params.weights], *split[node])
            found = pieces[node] = [phi, *psis]
        out.append(found[piece])
    return out


class _FirstNumbers(NamedTuple):
    """What planning computed on the spec it planned: its factor tables and each component's constants."""

    arrays: list[np.ndarray]
    constants: tuple[tuple[tuple[np.ndarray | None, ...], tuple[LeafGroup, ...]], ...]


def _skeleton(spec: ModelSpec, names: tuple[str, ...], states: tuple[tuple[str, ...], ...],
              cards: tuple[int, ...], parents: tuple[tuple[int, ...], ...], tables: NodeTables,
              memory_budget: int, split_noisy_or: bool, enumerated: tuple[int, ...]) -> tuple[_Skeleton, _FirstNumbers]:
    """Plan the network with ``enumerated`` targets on the joint axis (see the module docstring).

    Plans are made on this spec's tables (compile-time folds need arrays),
    but the skeleton keeps only what holds for any numbers; :func:`_filled`
    puts the numbers in. The numbers planning computed on the way are
    returned beside it, for this spec's own network (computed by the same
    calls as :func:`_constants`, so a first compile and a reuse agree).
    """
    nodes = list(spec.nodes)
    combos = list(itertools.product(*(range(cards[t]) for t in enumerated)))
    joint_states = np.array(combos, dtype=np.intp).reshape(len(combos), len(enumerated))
    epos = {v: j for j, v in enumerate(enumerated)}
    var_cards, scopes, sources, split = _factor_sources(nodes, parents, states, cards, epos, split_noisy_or)
    arrays = _factor_tables(sources, split, nodes, tables)
    first: list[tuple[tuple[np.ndarray | None, ...], tuple[LeafGroup, ...]]] = []
    owned: dict[int, list[tuple[tuple[int, ...], np.ndarray]]] = {}   # node -> the factors it brings
    for (node, _), scope, table in zip(sources, scopes, arrays):
        owned.setdefault(node, []).append((scope, table))

    # Components of the non-enumerated variables, linked by shared factors.
    rest_of = [tuple(v for v in scope if v not in epos) for scope in scopes]
    group = linked_groups((v for v in range(len(var_cards)) if v not in epos), rest_of)
    members: dict[int, list[int]] = {}
    for v, g in group.items():
        members.setdefault(g, []).append(v)
    base_terms: list[tuple[int, tuple[np.ndarray, ...]]] = []
    comp_factors: dict[int, list[int]] = {}
    for f, rest in enumerate(rest_of):
        if not rest:
            # Touches only targets: expand onto the joint once, here.
            base_terms.append((f, tuple(joint_states[:, epos[v]] for v in scopes[f])))
        else:
            comp_factors.setdefault(group[rest[0]], []).append(f)

    where: dict[int, tuple[str, int, int]] = {v: ("target", 0, epos[v]) for v in enumerated}
    single_by_card: dict[int, list[tuple[int, tuple[tuple[int, int, tuple[np.ndarray, ...] | None], ...]]]] = {}
    components: list[_ComponentSkeleton] = []
    for root in sorted(members):
        vs = sorted(members[root])
        fs = comp_factors.get(root, [])
        if len(vs) == 1:
            # A node whose factors touch only itself and targets: tabulated over (K, card) by _filled.
            v = vs[0]
            terms = []
            for f in fs:
                others = [u for u in scopes[f] if u != v]
                terms.append((f, scopes[f].index(v), tuple(joint_states[:, epos[u]] for u in others) if others else None))
            single_by_card.setdefault(cards[v], []).append((v, tuple(terms)))
            continue
        comp_scopes = [scopes[f] for f in fs]
        members_set = set(vs)
        touched = sorted({u for sc in comp_scopes for u in sc if u in epos}, key=lambda u: epos[u])
        observable = [v for v in vs if v < len(names)]       # hidden variables take no evidence
        slot_vars: dict[int, tuple[tuple[int, ...], bool]] = {}
        elimination = eliminate(vs, comp_scopes, var_cards, limit=entries_allowed(memory_budget))
        tries = int(elimination.total_size / (SEARCH_ENTRIES_PER_VARIABLE * len(vs)))
        if tries > 0 and elimination.complete:
            # The plan runs on every batch and every pattern pruning declines: a few randomised orders are
            # worth their milliseconds here (LINK: cliques of 4.2e8 entries in all, 1.3e8 the largest, become
            # 7.5e7 and 8.4e6 for 0.5 s of planning).
            tries = min(tries, COMPILE_SEARCH_TRIES, max(8, COMPILE_SEARCH_VARIABLES // len(vs)))
            elimination = search(vs, comp_scopes, var_cards, tries, elimination, limit=entries_allowed(memory_budget))
        check_budget(elimination, names, memory_budget, spec.name)
        steps = _plan(vs, observable, comp_scopes, var_cards, touched, slot_vars, elimination.order)
        consts = [np.ascontiguousarray(arrays[f]) for f in fs]
        gradient = compile_gradient(consts, observable, var_cards, steps, slot_vars, touched,
                                    max_entries=memory_budget / BYTES_PER_ENTRY)
        slots, leaf_groups, runtime, recipe = _precompute(consts, observable, var_cards, steps)
        first.append((slots, leaf_groups))
        n_stacks = len({g.card for g in leaf_groups})   # _stack_leaves: one matmul per cardinality
        forward_work = gradient.forward_work if gradient is not None else sum(st.naive_work for st in runtime)
        full_work = forward_work + CALL_WORK * (len(runtime) + n_stacks)
        pruning = (compile_pruning(observable, parents, owned, enumerated, cards, full_work,
                                   CALL_WORK + forward_work / len(observable))
                   if full_work > PRUNE_WORK else None)
        known: frozenset[int] = frozenset()
        if gradient is not None:
            known = frozenset(i for i, s in enumerate(gradient.slots) if s is not None)
            if any(slots[i] is None for i in known):   # pragma: no cover - both fold the same constant steps
                raise AssertionError("the gradient plan folds a step the elimination plan does not")
        for pos, v in enumerate(observable):
            where[v] = ("component", len(components), pos)
        template = Component(
            nodes=np.array(observable, dtype=np.intp), cards=tuple(cards[v] for v in observable),
            slots=(), lam_start=len(consts), leaf_groups=(), leaf_stacks=(),
            steps=runtime,
            result=len(consts) + len(observable) + len(steps) - 1,
            lam_used=tuple(sorted({i - len(consts) for st in runtime for i in st.inputs
                                   if len(consts) <= i < len(consts) + len(observable)})),
            expand_shape=tuple(cards[u] if u in touched else 1 for u in enumerated),
            full_shape=tuple(cards[u] for u in enumerated),
            expand_index=_expand_index(joint_states, [epos[u] for u in touched], [cards[u] for u in touched]),
            largest=elimination.largest_size,
            gradient=None,
            closed=not any(p in members_set for t in enumerated for p in parents[t]),
            forward_first=(gradient is not None and full_work <= PRUNE_WORK   # larger ones are pruned instead
                           and len(gradient.forward) <= FORWARD_CALLS_SLACK * (len(runtime) + n_stacks)),
            pruning=None,
            table_nodes=tuple(sources[f][0] if sources[f][1] < 0 else -1 for f in fs),
        )
        components.append(_ComponentSkeleton(
            template=template, factors=tuple(fs), constants=recipe,
            gradient=None if gradient is None else dataclasses.replace(gradient, slots=()), gradient_known=known,
            pruning=None if pruning is None else (pruning.full_work, pruning.node_work),
        ))
    # All singletons in one group, tables zero-padded to the largest cardinality (padded
    # states have zero likelihood too): one matrix product however many cardinalities.
    singles = tuple(item for card in sorted(single_by_card) for item in single_by_card[card])
    for pos, (v, _) in enumerate(singles):
        where[v] = ("singleton", 0, pos)
    membership = np.zeros((len(components), len(names)), dtype=bool)
    for c, comp in enumerate(components):
        membership[c, comp.template.nodes] = True
    membership.setflags(write=False)
    skeleton = _Skeleton(
        enumerated=enumerated, joint_states=joint_states,
        joint_flat=joint_states + max(cards) * np.arange(len(enumerated))[None, :],
        sources=tuple(sources), scopes=tuple(scopes), split=split, base_terms=tuple(base_terms),
        singles=singles, single_width=max(single_by_card, default=0),
        single_nodes=np.array([v for v, _ in singles], dtype=np.intp), components=tuple(components),
        where=tuple(where[v] for v in range(len(names))), membership=membership,
        prunable=any(c.template.closed or c.pruning is not None for c in components),
        lam_template=_lam_template(cards),
    )
    return skeleton, _FirstNumbers(arrays, tuple(first))


def _filled(skeleton: _Skeleton, spec: ModelSpec, names: tuple[str, ...], index: dict[str, int],
            states: tuple[tuple[str, ...], ...], cards: tuple[int, ...], parents: tuple[tuple[int, ...], ...],
            tables: NodeTables, target_idx: tuple[int, ...], memory_budget: int,
            first: _FirstNumbers | None = None, checked: bool = True, unenumerated: str = "",
            work_limit: float = WORK_LIMIT) -> CompiledNetwork:
    """The compiled network of ``spec``: the skeleton's plans with this spec's numbers (``first``: those
    planning computed already, when the skeleton was planned on this spec); ``checked``: warn of tiny entries;
    ``unenumerated``: why the targets' joint is not enumerated (``CompiledNetwork.unenumerated``)."""
    arrays = _factor_tables(skeleton.sources, skeleton.split, spec.nodes, tables) if first is None else first.arrays
    if checked:
        _warn_if_tiny(spec.name, names, skeleton.sources, arrays)
    owned: dict[int, list[tuple[tuple[int, ...], np.ndarray]]] = {}   # node -> its factors, for pruning
    if any(c.pruning is not None for c in skeleton.components):
        for (node, _), scope, table in zip(skeleton.sources, skeleton.scopes, arrays):
            owned.setdefault(node, []).append((scope, table))
    k = skeleton.joint_states.shape[0]
    base = np.ones(k)
    log_base: np.ndarray | None = np.zeros(k)
    for f, at in skeleton.base_terms:
        term = arrays[f][at]
        base = base * term
        if log_base is not None and bool((term < 0.0).any()):   # a factorised noisy-OR's piece: no log; log(base)
            log_base = None
        elif log_base is not None:
            with np.errstate(divide="ignore"):   # a zero prior is log 0 = -inf, as it should be
                log_base += np.log(term)
    if log_base is not None:
        log_base.setflags(write=False)
    singletons: tuple[SingletonGroup, ...] = ()
    if skeleton.singles:
        stacked = np.zeros((len(skeleton.singles), skeleton.single_width, k))
        for pos, (v, terms) in enumerate(skeleton.singles):
            prod = np.ones((k, cards[v]))
            for f, axis, at in terms:
                moved = np.moveaxis(arrays[f], axis, -1)   # v last
                prod = prod * (moved[at] if at is not None else moved[None, :])
            stacked[pos, : cards[v], :] = prod.T
        singletons = (SingletonGroup(skeleton.single_nodes, skeleton.single_width, stacked),)
    base.setflags(write=False)
    return CompiledNetwork(
        names=names, states=states, cards=cards, parents=parents, tables=tables,
        targets=target_idx, enumerated=skeleton.enumerated, joint_states=skeleton.joint_states,
        joint_flat=skeleton.joint_flat, base=base, log_base=log_base, singletons=singletons,
        components=tuple(_component(c, arrays, owned, parents, cards, skeleton.enumerated,
                                    None if first is None else first.constants[n])
                         for n, c in enumerate(skeleton.components)), lam_template=skeleton.lam_template,
        index=index, state_index=tuple({s: j for j, s in enumerate(st)} for st in states),
        where=skeleton.where, membership=skeleton.membership, prunable=skeleton.prunable,
        name=spec.name, memory_budget=memory_budget, unenumerated=unenumerated, work_limit=work_limit,
    )


def _component(skeleton: _ComponentSkeleton, arrays: Sequence[np.ndarray],
               owned: Mapping[int, list[tuple[tuple[int, ...], np.ndarray]]], parents: tuple[tuple[int, ...], ...],
               cards: tuple[int, ...], enumerated: tuple[int, ...],
               known: tuple[tuple[np.ndarray | None, ...], tuple[LeafGroup, ...]] | None = None) -> Component:
    """A component of the skeleton with its numbers: constants, leaf matrices, gradient slots, pruning tables
    (``known``: its slots and leaf groups, already computed from these ``arrays``)."""
    if known is None:
        known = _constants(skeleton.constants, [np.ascontiguousarray(arrays[f]) for f in skeleton.factors])
    slots, groups = known
    gradient = skeleton.gradient
    if gradient is not None:
        # The gradient plan folds the same constant steps: share the arrays.
        gradient = dataclasses.replace(gradient, slots=tuple(
            slots[i] if i in skeleton.gradient_known else None for i in range(gradient.n_slots)))
    pruning = None
    if skeleton.pruning is not None:   # cheap, and whatever a Pruning derives from its tables stays its own
        pruning = compile_pruning([int(v) for v in skeleton.template.nodes], parents, owned, enumerated, cards,
                                  *skeleton.pruning)
    return dataclasses.replace(skeleton.template, slots=slots, leaf_groups=groups, leaf_stacks=_stack_leaves(groups),
                               gradient=gradient, pruning=pruning)


def _bipartite(spec: ModelSpec, names: tuple[str, ...], index: dict[str, int], states: tuple[tuple[str, ...], ...],
               cards: tuple[int, ...], parents: tuple[tuple[int, ...], ...], tables: NodeTables,
               target_idx: tuple[int, ...], memory_budget: int, layout: BipartiteLayout, unenumerated: str,
               work_limit: float = WORK_LIMIT) -> CompiledNetwork:
    """A bipartite noisy-OR network: no components or plans, every query goes to ``inference.bipartite``;
    ``unenumerated``: why the targets' joint is not enumerated (``CompiledNetwork.unenumerated``)."""
    lam = _lam_template(cards)
    base = np.ones(1)
    base.setflags(write=False)
    return CompiledNetwork(
        names=names, states=states, cards=cards, parents=parents, tables=tables, targets=target_idx, enumerated=(),
        joint_states=np.zeros((1, 0), dtype=np.intp), joint_flat=np.zeros((1, 0), dtype=np.intp), base=base,
        singletons=(), components=(), lam_template=lam, index=index,
        state_index=tuple({s: j for j, s in enumerate(st)} for st in states),
        where=tuple(("bipartite", 0, int(r)) for r in layout.role), membership=np.zeros((0, len(names)), dtype=bool),
        name=spec.name, memory_budget=memory_budget, bipartite=layout, unenumerated=unenumerated,
        work_limit=work_limit,
    )


def _lam_template(cards: Sequence[int]) -> np.ndarray:
    lam = np.zeros((len(cards), max(cards)))
    for i, c in enumerate(cards):
        lam[i, :c] = 1.0
    lam.setflags(write=False)
    return lam


def _expand_index(joint_states: np.ndarray, positions: list[int], cards: list[int]) -> np.ndarray:
    """For each joint state, the flat index of its touched targets' states in a result over those targets."""
    index = np.zeros(joint_states.shape[0], dtype=np.intp)
    for pos, card in zip(positions, cards):
        index = index * card + joint_states[:, pos]
    index.setflags(write=False)
    return index
