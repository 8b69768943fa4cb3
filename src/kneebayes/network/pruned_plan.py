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

A pattern is planned on its first use, so planning is on the path of a
first diagnosis and kept to plain string work: every variable is one
character (:class:`Labels`), a scope a string, and :func:`choose_buckets`,
shared by both pruned paths, picks the order and works out each bucket's
message (its inputs' characters, sorted), which within einsum's letters
is already its subscript. The enumerated targets' axes stay last in every
table and message (:func:`targets_last`), where einsum's inner loop runs
over their states.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .backward_plan import LETTERS
from .pair_chain import PairChain, plan_chain
from .planner import SEARCH_ENTRIES_PER_VARIABLE, eliminate, search

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
    plans: dict[object, object] = field(default_factory=dict, repr=False)   # cache of pruned plans by evidence pattern

    @cached_property
    def node_ids(self) -> tuple[int, ...]:
        """The variable id of each component node, by position (``position`` inverted)."""
        ids = [0] * len(self.position)
        for v, i in self.position.items():
            ids[i] = v
        return tuple(ids)

    @cached_property
    def ancestor_bits(self) -> tuple[int, ...]:
        """Each node's row of ``ancestors`` as an int (bit j: node j), so a pattern's relevant nodes are a few ``|``."""
        return tuple(int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in self.ancestors)

    @cached_property
    def touches_targets(self) -> bool:
        """Whether an enumerated target lies in some factor's scope (its own table, or a parent's)."""
        return not set(self.targets).isdisjoint(v for scope in self.scopes for v in scope)

    @cached_property
    def always_bits(self) -> int:
        """``always`` as an int, bit j for node j."""
        return int.from_bytes(np.packbits(self.always, bitorder="little").tobytes(), "little")

    def worth_it(self, n_relevant: int, work: float | None = None, than: float | None = None) -> bool:
        """Whether a pruned run over ``n_relevant`` nodes is estimated to beat the fixed plan by a margin of 2;
        with its planned ``work`` (same units) once known, by that instead; with ``than``, to beat that
        cost (what the caller would do otherwise) instead of the fixed plan's."""
        return 2.0 * (n_relevant * self.node_work if work is None else work) < (self.full_work if than is None else than)


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


# A relevant node's share of planning and running a pattern, in the units of ``Pruning.full_work``. Small
# on purpose: full_work counts the fixed plan's calls at a fraction of what a diagnosis pays for them (the
# value, then a sweep for the marginals), and on first calls of every network pgmpy ships the bucket pass
# was as fast or faster wherever its tables were smaller (HAILFINDER 7.0 -> 2.3 ms, DIABETES 81 -> 35 ms).
PLAN_WORK_PER_NODE = 300.0
# Orders whose cliques total more than this many entries are worth a second greedy heuristic.
SECOND_OPINION = 500_000.0
# Past that, where an order's cliques still total planner.SEARCH_ENTRIES_PER_VARIABLE entries per variable,
# randomised runs (planner.search) look for a cheaper one, up to this many.
SEARCH_TRIES = 24
SEARCH_GAIN = 16.0    # the most a search is taken to save (MUNIN1's patterns: up to 15 times)
# A pattern whose cliques, in the component's own order, total at most this many entries takes that
# order: fewer entries than the planner's greedy search would cost in Python time.
QUICK_ENOUGH = 20_000.0
# The same where the targets' axes stay on every table (``inference.pruned.pruned_value``): laid out last, an entry
# costs about a nanosecond (the targets' states are einsum's inner loop), so on Pathfinder a search past 20,000
# entries cost more than it saved; past 150,000 it about broke even.
TARGET_AXES_QUICK_ENOUGH = 150_000.0
# After this many planned patterns in a row that did not pay (or passes with the targets kept that were
# declined), a component plans (or weighs) only one pattern in QUICK_RETRY: see planning_pays and bucket_plan.
QUICK_MISSES, QUICK_RETRY = 4, 16
# A planned pattern pays where the fixed plan's work is at least this many times its own (planning included);
# after QUICK_MISSES planned patterns in a row that did not, a component's patterns are planned only once in
# QUICK_RETRY (``planning_pays``): the rest take the fixed plan, unplanned. The estimate overstates what a pass
# saves (on HAILFINDER a 23-fold estimate is about even in time): DIABETES planned each pattern in about 16 ms,
# and 81% of them were declined or under 4, where the fixed plan takes 14 ms and the pruned pass as long. On the
# other networks pgmpy ships, at most 7% of patterns were under 4 (MILDEW; MUNIN1 3%, MUNIN3 2%), never four in a row.
PLAN_PAYS_FROM = 4.0
# Only where the fixed plan costs at most this much (DIABETES: 3.5e7, 14 ms): past it (MUNIN1: 7.3e8, about a
# second) even a pass a few times cheaper repays its planning, and a pattern left to the fixed plan could lose more.
UNPLANNED_UP_TO = 1e8
MAX_AXES = len(LETTERS)   # einsum's letters ('a' is the batch axis): no clique may join more variables
# A bucket of two or more tables whose clique has this many entries runs as a chain of two-operand steps
# (network.pair_chain), not one plain einsum loop over the whole clique (several times slower there).
PAIRWISE_ENTRIES = 16_384.0
#: A bucket pass with the targets kept (``bucket_plan``'s ``targets``: every candidate's joint with the targets,
#: as a ranking needs) is taken where this many times its entries, both ways, are under the caller's alternative
#: (a sweep of the whole component, or its clamps). Its plain einsum loops cost 1-4 ns an entry where a sweep's
#: chains of matrix products cost 0.1-2 ns a unit. WATER (entries 25-350 times fewer than the sweep's units): a
#: third of the sweep's time; Pathfinder, four targets (7 times fewer): 455 -> 132 and 509 -> 296 ms, and at
#: 14 times fewer 45 -> 60 ms; MILDEW, 6 times fewer: 1,136 -> 246 ms, and at 2.5-5 times fewer (a 2-3x loss) declined.
TARGETS_KEPT_FACTOR = 6.0


@dataclass(frozen=True, eq=False)
class BucketPlan:
    """Bucket elimination over one evidence pattern's relevant factors, and the way back to some nodes' marginals.

    Factors come first in the slot list (``factors``: each table with its
    observed axes cut at the evidence, then ``soft``: one likelihood vector
    per softly observed node); each ``forward`` step appends one slot, the
    message its bucket sends (the product of the bucket's slots with its
    variable summed out). No step builds its whole clique table: a large
    one runs as a chain of two-operand steps (``network.pair_chain``)
    that sum the variable on the way.

    The way back passes messages the other way (Shenoy-Shafer: nothing is
    kept but the forward messages, nothing divided). ``backward`` steps,
    parents before children: ``(child step, parent step, input slots,
    einsum)`` gives the message a parent sends its child, over the child's
    separator: the parent's slots but the child's own message, times the
    parent's incoming message where it has one. ``marginals``: per wanted
    position, ``(step, input slots, einsum)``: the step's slots times its
    incoming message, summed to its variable. ``scalars``: slots without
    axes whose product is the part of the value no step sums (each tree's
    root message, fully observed factors).
    """

    factors: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]   # (table, ((axis, observed position), ...))
    soft: tuple[tuple[int, int], ...]                             # (position, card) of each softly observed node
    forward: tuple[tuple[tuple[int, ...], str, PairChain | None], ...]   # (input slots, subscripts, a chain of
    #                                                                   two-operand steps or None)
    backward: tuple[tuple[int, int, tuple[int, ...], str, PairChain | None], ...]   # (child step, parent step, the
    #                  parent's slots but the child's message, subscripts to the child's separator, program)
    marginals: dict[int, tuple[int, tuple[int, ...], str, PairChain | None]]   # wanted position -> (its step, slots,
    #                                                                           subscripts to its variable, program)
    scalars: tuple[int, ...]
    work: float                                                   # estimated cost, in full_work's units
    # with the targets kept (``bucket_plan``'s ``targets``): per wanted position, the target labels on its
    # marginal's axes after the node's own (in the targets' order); else empty
    kept: dict[int, str] = field(default_factory=dict)
    # with ``bucket_plan``'s ``families``: per factor slot that some step takes (a factor the evidence leaves a
    # hidden variable in), (its step, input slots, subscripts to the factor's uncut axes, program)
    families: dict[int, tuple[int, tuple[int, ...], str, PairChain | None]] = field(default_factory=dict)


def bucket_plan(pr: Pruning, cards: Sequence[int], hard: np.ndarray, soft: np.ndarray, wanted: np.ndarray,
                max_entries: float, than: float | None = None, targets: bool = False, families: bool = False
                ) -> BucketPlan | None:
    """The bucket plan of one pattern: ``hard`` and ``soft`` mark the observed positions, ``wanted`` those whose
    marginals may be asked. Relevant are the ancestors of all three (every other node is barren and sums to
    one); hard evidence cuts its axis out of every table. The order is :func:`choose_buckets`'s, so a node
    the evidence cuts off costs nothing. None when the plan builds a table past ``max_entries``, joins more
    than ``MAX_AXES`` variables, or is not estimated to beat the fixed plan (``Pruning.worth_it``: planning
    included), or ``than``, the cost of what the caller would do instead, where given.

    A component that the enumerated targets touch is planned only with ``targets``: their axes are then
    kept, never summed, in every table and message of both passes, as if the pass ran once per state of
    the targets (each wanted node's marginal comes out over the node and the targets its tree holds,
    ``kept``), and the plan is taken only where ``TARGETS_KEPT_FACTOR`` times its work (the way back
    included) is under ``than``; after ``QUICK_MISSES`` such plans declined in a row on a component, only
    one pattern in ``QUICK_RETRY`` is weighed (the rest return None unplanned). Never a component with a
    wide noisy-OR split over a hidden variable
    (``pr.hidden_cards``): its pieces subtract, so a message may be zero or negative, which rescaling a
    message by its largest entry cannot take.

    With ``families`` (learning: every family's posterior) every node is relevant, barren ones too, and the
    way back also reaches each factor the evidence leaves a hidden variable in (``BucketPlan.families``).
    """
    relevant = (np.ones(len(hard), dtype=bool) if families
                else pr.ancestors[hard | soft | wanted].any(axis=0) | pr.always)
    n_rel = int(relevant.sum())
    if ((pr.touches_targets and not targets) or pr.hidden_cards
            or not pr.worth_it(n_rel, n_rel * PLAN_WORK_PER_NODE, than)):
        return None
    if targets:
        # Weighing costs an order search (PIGS: 45 ms against a 0.2 s ranking): after QUICK_MISSES declines in a
        # row on a component, only one pattern in QUICK_RETRY is weighed.
        declines = _static(pr, cards).declined
        declines[1] += 1
        if declines[0] >= QUICK_MISSES and declines[1] % QUICK_RETRY:
            return None
        plan = _bucket_plan(pr, cards, hard, soft, wanted, max_entries, than, targets, relevant, n_rel)
        declines[0] = 0 if plan is not None else declines[0] + 1
        return plan
    return _bucket_plan(pr, cards, hard, soft, wanted, max_entries, than, targets, relevant, n_rel, families)


def _bucket_plan(pr: Pruning, cards: Sequence[int], hard: np.ndarray, soft: np.ndarray, wanted: np.ndarray,
                 max_entries: float, than: float | None, targets: bool, relevant: np.ndarray, n_rel: int,
                 families: bool = False) -> BucketPlan | None:
    """:func:`bucket_plan` once the pattern is worth planning (``relevant``: its relevant nodes, ``n_rel`` of them)."""
    lab = labels(pr, cards)
    node, card = lab.node, lab.card
    seen = {node[i] for i in np.flatnonzero(hard).tolist()}
    scopes: list[str] = []
    factors = []
    hidden: set[str] = set()
    owners = np.flatnonzero(relevant).tolist() + (list(pr.extra) if targets else [])
    for i in owners:
        for f in pr.owned[i]:
            scope = lab.factor[f]
            if seen.isdisjoint(scope):
                scopes.append(scope)
                factors.append((f, ()))
            else:
                scopes.append("".join(u for u in scope if u not in seen))
                factors.append((f, tuple((axis, lab.position[u]) for axis, u in enumerate(scope) if u in seen)))
        if i < len(node) and not hard[i]:   # past the nodes: a target's own table (``pr.extra``), its axis kept
            hidden.add(node[i])
    soft_items = tuple((i, cards[i]) for i in np.flatnonzero(soft & relevant).tolist())
    scopes.extend(node[i] for i, _ in soft_items)

    def declined(found: Buckets) -> bool:
        return (found.largest > max_entries or max(map(len, found.cliques), default=0) > MAX_AXES
                or not pr.worth_it(n_rel, 2.0 * found.total + n_rel * PLAN_WORK_PER_NODE, than))

    buckets = unless_declined(pr, cards, hidden, scopes, choose_buckets(pr, cards, hidden, scopes), declined)
    work = math.inf if buckets is None else 2.0 * buckets.total + n_rel * PLAN_WORK_PER_NODE
    if than is None:   # planned: whether it paid tells planning_pays about the next patterns
        note_planned(pr, cards, work)
    if buckets is None:   # before any einsum is planned
        return None
    order, steps, cliques = buckets.order, buckets.steps, buckets.cliques
    if not targets and any(vs for _, vs in buckets.left):   # pragma: no cover - no target lies in such scopes
        raise AssertionError("a bucket plan left a variable unsummed")
    scalars = tuple(slot for slot, _ in buckets.left)
    # Which buckets the way back must visit: those of the wanted nodes and every bucket between them and
    # their tree's root. A bucket's parent is the one that takes its message (of the first variable of the
    # message to be summed).
    at = {v: n for n, v in enumerate(order)}
    parent = buckets.parents
    wanted_steps = {i: at[node[i]] for i in np.flatnonzero(wanted & ~hard).tolist()}
    # a factor with a hidden variable lies in the bucket of the first of them eliminated
    family_steps = {k: step for step, (bucket, _) in enumerate(steps) for k in bucket if k < len(factors)
                    } if families else {}
    visit = [False] * len(order)
    for s in [*wanted_steps.values(), *family_steps.values()]:
        while s >= 0 and not visit[s]:
            visit[s] = True
            s = parent[s]
    first_message = len(scopes)
    sizes = buckets.sizes
    # The way back: a visited step's incoming message is its parent's slots (its own message left out) times
    # the parent's incoming message. It spans the step's separator but the variables only its own message
    # held: along those it is constant, so it leaves them out (a tree's root gets none at all). Kept targets
    # stay on it wherever the parent's side holds them: for each of their states the pass is a plain one.
    kept_labels = set(lab.targets) if targets else set()
    incoming: dict[int, str] = {}

    def fed(step: int, leave_out: int | None = None) -> tuple[tuple[int, ...], tuple[str, ...]]:
        bucket, bucket_scopes = steps[step]
        if leave_out in bucket:   # a slot appears in one bucket once
            k = bucket.index(leave_out)
            bucket, bucket_scopes = bucket[:k] + bucket[k + 1 :], bucket_scopes[:k] + bucket_scopes[k + 1 :]
        message = incoming.get(step)
        if message:   # -1: the step's own incoming message
            return (*bucket, -1), (*bucket_scopes, message)
        return bucket, bucket_scopes

    def joined(step: int, in_scopes: Sequence[str]) -> tuple[str, float]:
        """The variables a way-back product spans, and its entries: the step's clique, and kept targets past it."""
        extra = set("".join(in_scopes)).difference(cliques[step])
        if not extra:
            return cliques[step], sizes[step]
        axes = cliques[step] + "".join(sorted(extra))
        return axes, sizes[step] * math.prod(map(card.__getitem__, extra))

    back: list[tuple[int, int, tuple[int, ...], tuple[str, ...], str, str, float]] = []
    for step in range(len(order) - 1, -1, -1):
        if visit[step] and parent[step] >= 0:
            up = parent[step]
            slots, in_scopes = fed(up, first_message + step)
            held = set("".join(in_scopes))
            sep = cliques[step][1:]
            incoming[step] = "".join(u for u in sorted(held) if u in sep or u in kept_labels) if targets else (
                "".join(u for u in sep if u in held))
            if incoming[step]:
                back.append((step, up, slots, in_scopes, incoming[step], *joined(up, in_scopes)))
    ends = []
    kept: dict[int, str] = {}
    for i, step in wanted_steps.items():
        slots, in_scopes = fed(step)
        axes, size = joined(step, in_scopes)
        kept[i] = "".join(t for t in lab.targets if t in axes) if targets else ""
        ends.append((i, step, slots, in_scopes, axes, size))
    family_ends = []
    for k, step in family_steps.items():
        slots, in_scopes = fed(step)
        family_ends.append((k, step, slots, in_scopes, *joined(step, in_scopes)))
    if targets:
        way_back = [size for *_, size in back] + [size for *_, size in ends]
        widest = max((len(axes) for *_, axes, _ in (*back, *ends)), default=0)
        work = buckets.total + sum(way_back)
        if (max(way_back, default=0.0) > max_entries or widest > MAX_AXES
                or not TARGETS_KEPT_FACTOR * work < (math.inf if than is None else than)):
            return None
    forward = []
    for (bucket, bucket_scopes), clique, size in zip(steps, cliques, sizes):
        forward.append((bucket, *_einsum(bucket, bucket_scopes, clique[1:], clique, card, size)))
    backward = [(step, up, slots, *_einsum(slots, in_scopes, message, axes, card, size))
                for step, up, slots, in_scopes, message, axes, size in back]
    marginals = {i: (step, slots, *_einsum(slots, in_scopes, cliques[step][0] + kept[i], axes, card, size))
                 for i, step, slots, in_scopes, axes, size in ends}
    family_sums = {k: (step, slots, *_einsum(slots, in_scopes, scopes[k], axes, card, size))
                   for k, step, slots, in_scopes, axes, size in family_ends}
    return BucketPlan(tuple(factors), soft_items, tuple(forward), tuple(backward), marginals, scalars, work, kept,
                      family_sums)


def _einsum(slots: Sequence[int], scopes: Sequence[str], output: str, clique: str,
            card: Mapping[str, int], size: float) -> tuple[str, PairChain | None]:
    """The subscripts of one bucket product summed to ``output``, and a chain of two-operand steps where the
    clique (of ``size`` entries) is large: numpy's plain loop would walk the whole clique once per operand."""
    subscripts = einsum_subscripts(scopes, output, clique)
    if len(slots) < 2 or size < PAIRWISE_ENTRIES:
        return subscripts, None
    dims = {}
    for term, vs in zip(subscripts.split("->")[0].split(","), scopes):
        dims.update(zip(term, map(card.__getitem__, vs)))
    return subscripts, plan_chain(subscripts, dims)


# einsum's letters in code-point order ('a', the batch axis, left out): a component's first variables, in
# axis order, are named by them, so a message's axes sort the same way as its variables.
ALPHABET = "".join(sorted(LETTERS))
_WIDE = 0x10000   # labels past the alphabet: code points from here on, still in axis order


@dataclass(frozen=True, eq=False)
class Labels:
    """One character per variable of a component (nodes, hidden variables, enumerated targets), in axis order:
    by id, the targets last. A scope is then a string, and the axes of a message the sorted characters of
    its inputs. The first ``len(ALPHABET)`` variables are named by einsum letters, so a subscript over them
    needs no renaming (see :func:`einsum_subscripts`).
    """

    node: tuple[str, ...]              # per component position
    factor: tuple[str, ...]            # per factor: its scope, as ``targets_last`` lays its table out
    targets: str                       # the enumerated targets, in their order
    hidden: frozenset[str]             # a split noisy-OR's hidden variables
    card: dict[str, int]
    rank: dict[str, int]               # every summable variable's place in the component's own elimination order
    position: dict[str, int]           # a node's label -> its position


def einsum_subscripts(inputs: Sequence[str], output: str, axes: str) -> str:
    """The einsum subscripts of ``inputs -> output`` (scopes as label strings, every label among ``axes``):
    the labels themselves where they are einsum letters, else each renamed by its place in ``axes``.

    >>> einsum_subscripts(["BC", "C"], "B", "BC")
    'BC,C->B'
    >>> einsum_subscripts([chr(0x10000) + "B"], "B", chr(0x10000) + "B")
    'bc->c'
    """
    text = ",".join(inputs) + "->" + output
    if text.isascii():
        return text
    return text.translate({ord(u): LETTERS[n] for n, u in enumerate(axes)})


class Buckets(NamedTuple):
    """Bucket elimination of some variables in one order over factors given by their scopes (label strings,
    slots 0...), shapes only, as :func:`choose_buckets` returns it.

    Step ``n`` takes the slots still holding ``order[n]`` (``steps[n]``:
    those slots and their scopes), builds the clique ``cliques[n]`` (the
    variable, then the rest in axis order) and appends one slot, over the
    clique's rest. ``left``: the slots no step took, with their scopes (over
    kept variables only, or none: scalars). (A NamedTuple: immutable, and
    cheap to build once per pattern.)
    """

    order: tuple[str, ...]
    steps: tuple[tuple[tuple[int, ...], tuple[str, ...]], ...]
    cliques: tuple[str, ...]
    sizes: tuple[float, ...]                      # entries of each clique
    left: tuple[tuple[int, str], ...]
    parents: tuple[int, ...] = ()                 # per step, the step that takes its message (-1: none does)

    @property
    def total(self) -> float:
        """Entries of every clique, summed: the order's work."""
        return sum(self.sizes)

    @property
    def largest(self) -> float:
        """Entries of the largest clique (0.0 with no step)."""
        return max(self.sizes, default=0.0)


def choose_buckets(pr: Pruning, cards: Sequence[int], variables: Iterable[str], scopes: Sequence[str],
                   enough: float = QUICK_ENOUGH, entry_cost: float = 1.0) -> Buckets:
    """The buckets that sum ``variables`` out of one evidence pattern's factors (their ``scopes``, in slot order;
    other variables in them, such as the enumerated targets, are kept). Variables are :func:`labels`.

    The order is the component's own, planned once, restricted to
    ``variables``, where its cliques total at most ``enough`` entries
    (``QUICK_ENOUGH`` unless given): a search would cost more in Python time
    than it could save. Otherwise
    the planner's greedy ``min_weight`` order (and ``min_fill`` where that
    passes ``SECOND_OPINION``; and a randomised search where even the best
    is large, ``SEARCH_ENTRIES_PER_VARIABLE``).
    The component's order is followed only until its cliques pass
    ``enough``, so a pattern it does not serve costs a few of its steps
    (on MUNIN it seldom serves: the evidence cuts the graph too
    differently). The choice depends on the pattern alone, never on the
    patterns ordered before, so neither does the answer's last bit.

    ``cards``: the cardinalities of the component's nodes, in its order.
    ``entry_cost``: what an entry of a clique costs the caller, relative to
    a bucket pass's (which prices the search).
    """
    static = _static(pr, cards)
    card = static.labels.card
    order = sorted(variables, key=static.labels.rank.__getitem__)
    found = _buckets_within(order, scopes, card, enough)
    if found is not None:
        return found
    # The component's order can be far from what the cut leaves (MUNIN: 10-100 times the work): plan
    # afresh. min_weight first: as good there and faster; min_fill too where the tables grow large.
    ids = [ord(v) for v in order]
    id_scopes = [tuple(map(ord, vs)) for vs in scopes]
    id_card = {ord(u): card[u] for u in set("".join(scopes))}
    plan = eliminate(ids, id_scopes, id_card, heuristic="min_weight")
    if plan.total_size > SECOND_OPINION:
        other = eliminate(ids, id_scopes, id_card, heuristic="min_fill")
        plan = min((plan, other), key=lambda p: p.total_size)
    tries = int(plan.total_size * entry_cost / (SEARCH_ENTRIES_PER_VARIABLE * max(len(ids), 1)))
    # Not where even an order SEARCH_GAIN times cheaper would lose to the fixed plan (LINK: 0.7 s of search
    # for a pattern the fixed plan then answered).
    if tries > 0 and pr.worth_it(0, 2.0 * plan.total_size * entry_cost / SEARCH_GAIN):
        plan = search(ids, id_scopes, id_card, min(tries, SEARCH_TRIES), plan)
    return _buckets([chr(v) for v in plan.order], scopes, card)


def planning_pays(pr: Pruning, cards: Sequence[int], soft: bool = False) -> bool:
    """Whether to plan the component's next new pattern (weighed against its fixed plan): not after
    ``QUICK_MISSES`` planned patterns in a row that did not pay (``PLAN_PAYS_FROM``), but for one in
    ``QUICK_RETRY``. Either way the answer is exact to rounding, but the paths round differently: where it
    says no, the last bits of an answer depend on the patterns planned before (docs/engine.md). Pruned
    plans of patterns with a soft answer (``soft``) keep their soft axes and pay less often: they keep a
    count of their own, so their misses never shut planning for the others."""
    static = _static(pr, cards)
    unpaid = static.unpaid_soft if soft else static.unpaid
    unpaid[1] += 1
    return unpaid[0] < QUICK_MISSES or unpaid[1] % QUICK_RETRY == 0


def note_planned(pr: Pruning, cards: Sequence[int], work: float, soft: bool = False) -> None:
    """Tell :func:`planning_pays` how a pattern it let through turned out: planned at ``work`` (``math.inf``
    where declined), it paid if the fixed plan costs at least ``PLAN_PAYS_FROM`` times that (or more than
    ``UNPLANNED_UP_TO``, where any cheaper pass repays its planning); ``soft``: a pruned plan of a pattern with
    a soft answer, counted apart."""
    static = _static(pr, cards)
    unpaid = static.unpaid_soft if soft else static.unpaid
    paid = pr.full_work >= PLAN_PAYS_FROM * work or pr.full_work > UNPLANNED_UP_TO
    unpaid[0] = 0 if paid else unpaid[0] + 1


def unless_declined(pr: Pruning, cards: Sequence[int], variables: Iterable[str], scopes: Sequence[str],
                    found: Buckets, declined: Callable[[Buckets], bool]) -> Buckets | None:
    """``found`` (from :func:`choose_buckets`) where the caller's ``declined`` accepts it; else the component's
    own order (planned once, at compile time) restricted to ``variables``, where that is accepted; else None.
    ``choose_buckets`` gives that order up once its cliques pass what it calls quick enough, and greedy's may be
    declined where this one is not (MUNIN3, a target clamped: greedy's plan estimated at 2.1e6, declined for a
    54 s fallback, where this order's is 5.5e5)."""
    if not declined(found):
        return found
    static = _static(pr, cards)
    own = _buckets(sorted(variables, key=static.labels.rank.__getitem__), scopes, static.labels.card)
    return None if declined(own) else own


# Up to this many (slots x variables), each step finds its bucket by scanning the slots left: cheaper than keeping
# an index of which slots hold each variable (Pathfinder's patterns: 12 us against 16); past it the index.
SCAN_WORK = 2_048


def _buckets(order: Sequence[str], scopes: Sequence[str], card: Mapping[str, int]) -> Buckets:
    found = _buckets_within(order, scopes, card, math.inf)
    assert found is not None  # noqa: S101 - no limit to pass
    return found


def _buckets_within(order: Sequence[str], scopes: Sequence[str], card: Mapping[str, int], limit: float
                    ) -> Buckets | None:
    """The buckets of ``order``, or None as soon as their cliques total more than ``limit`` entries."""
    live = dict(enumerate(scopes))
    holding: dict[str, set[int]] | None = None
    if len(scopes) * len(order) > SCAN_WORK:
        holding = {v: set() for v in order}
        for slot, vs in live.items():
            for u in vs:
                held = holding.get(u)
                if held is not None:
                    held.add(slot)
    steps: list[tuple[tuple[int, ...], tuple[str, ...]]] = []
    cliques: list[str] = []
    sizes: list[float] = []
    parents: list[int] = []
    next_slot = n_scopes = len(live)
    total = 0.0
    for n, v in enumerate(order):
        if holding is None:
            bucket = tuple([slot for slot, vs in live.items() if v in vs])   # slots stay in increasing order
        else:
            bucket = tuple(sorted(holding.pop(v)))
        inputs = tuple(map(live.pop, bucket))
        for slot in bucket:
            if slot >= n_scopes:   # an earlier step's message: this step is its parent
                parents[slot - n_scopes] = n
        parents.append(-1)
        rest = "".join(sorted(set("".join(inputs)))).replace(v, "")   # labels sort in axis order
        if holding is not None:
            for u in rest:
                held = holding.get(u)
                if held is not None:
                    held.difference_update(bucket)
                    held.add(next_slot)
        steps.append((bucket, inputs))
        cliques.append(v + rest)
        size = float(card[v] * math.prod(map(card.__getitem__, rest)))
        total += size
        if total > limit:
            return None
        sizes.append(size)
        live[next_slot] = rest
        next_slot += 1
    return Buckets(tuple(order), tuple(steps), tuple(cliques), tuple(sizes), tuple(live.items()), tuple(parents))


@dataclass(frozen=True, eq=False)
class _Static:
    labels: Labels
    unpaid: list[int] = field(default_factory=lambda: [0, 0])   # planned patterns in a row that
    #                                 did not pay (see PLAN_PAYS_FROM), patterns asked about (planning_pays)
    declined: list[int] = field(default_factory=lambda: [0, 0])   # passes with the targets kept weighed and
    #                                 declined in a row, passes asked about (bucket_plan's targets)
    unpaid_soft: list[int] = field(default_factory=lambda: [0, 0])   # ``unpaid``, for patterns with a soft answer


# What every pattern's plan reads of a component, worked out on first use, kept beside its frozen Pruning
# and dropped with it.
_STATIC: weakref.WeakKeyDictionary[Pruning, _Static] = weakref.WeakKeyDictionary()


def labels(pr: Pruning, cards: Sequence[int]) -> Labels:
    """The component's :class:`Labels` (``cards``: its nodes' cardinalities, in its order), made on first use."""
    return _static(pr, cards).labels


def _static(pr: Pruning, cards: Sequence[int]) -> _Static:
    found = _STATIC.get(pr)
    if found is None:
        card = dict(pr.hidden_cards)
        card.update((v, cards[i]) for i, v in enumerate(pr.node_ids))
        target_cards = dict(zip(pr.targets, pr.target_cards))
        order = eliminate(list(card), pr.scopes, card | target_cards).order
        variables = sorted(card) + [t for t in pr.targets if t not in card]
        name = {v: ALPHABET[k] if k < len(ALPHABET) else chr(_WIDE + k) for k, v in enumerate(variables)}
        card.update(target_cards)
        _, scopes = targets_last(pr)
        found = _STATIC.setdefault(pr, _Static(Labels(
            node=tuple(name[v] for v in pr.node_ids),
            factor=tuple("".join(map(name.__getitem__, scope)) for scope in scopes),
            targets="".join(name[t] for t in pr.targets),
            hidden=frozenset(name[v] for v in pr.hidden_cards),
            card={name[v]: c for v, c in card.items()},
            rank={name[v]: n for n, v in enumerate(order)},
            position={name[v]: i for i, v in enumerate(pr.node_ids)},
        )))
    return found


# Each component's factors with the targets' axes last, made on first use and dropped with its Pruning.
_TARGETS_LAST: weakref.WeakKeyDictionary[Pruning, tuple[tuple[np.ndarray, ...], tuple[tuple[int, ...], ...]]] = (
    weakref.WeakKeyDictionary())


def targets_last(pr: Pruning) -> tuple[tuple[np.ndarray, ...], tuple[tuple[int, ...], ...]]:
    """The component's factors (``pr.tables``, ``pr.scopes``, the same order) with the enumerated targets' axes
    moved last, in the targets' order: einsum's innermost loop then runs over the targets' states (Pathfinder's
    63) instead of a two-state parent's, several times faster. A factor without targets is the same array.
    """
    found = _TARGETS_LAST.get(pr)
    if found is None:
        last = {t: k for k, t in enumerate(pr.targets)}
        tables, scopes = [], []
        for table, scope in zip(pr.tables, pr.scopes):
            perm = sorted(range(len(scope)), key=lambda a: (scope[a] in last, last.get(scope[a], 0), a))
            if perm != list(range(len(scope))):
                table = np.ascontiguousarray(table.transpose(perm))
                table.setflags(write=False)
                scope = tuple(scope[a] for a in perm)
            tables.append(table)
            scopes.append(scope)
        found = _TARGETS_LAST.setdefault(pr, (tuple(tables), tuple(scopes)))
    return found
