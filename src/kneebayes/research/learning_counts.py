"""The E-step of learning from cases: expected family counts on the engine's batch axis.

For every node v and its family F = parents(v) + (v,), the expected count
of each family configuration over the cases,
``C_v[u, x] = sum over cases of weight * P(parents = u, v = x | case)``,
with the axes of v's table (parents..., v). The cases arrive as distinct
rows of state codes (-1 where a value is missing) with a weight each (how
often the row occurs), so identical cases cost one row.

One inference per chunk of rows, not per row: the rows' evidence is
encoded once (``inference.posterior.encode``'s layout), the targets' joint
comes from ``target_joint``, and for each family the members are read as
follows:

* members that are enumerated targets come from the targets' joint
  (``net.joint_states`` gives each joint state's target states);
* observed members are fixed at their state;
* one hidden member that is not a target comes from its joint with the
  targets (``joint_with_targets``, many nodes at once);
* two or more hidden non-target members of one family are clamped over
  their configurations (extra rows, one-hot likelihoods), each clamp's
  probability being ``P(evidence, clamp) / P(evidence)``. At most
  :data:`~.learning_families.MAX_CLAMPED` configurations per row (IntractableError beyond).

Those last two are the fallback. Where some family of a component has
two or more hidden members in some row, all its families come from one sweep of its
plan to its tables (:mod:`.learning_sweep`: the gradient of the rows'
weighted value with respect to each table), a few forward passes' work
for the chunk where clamping ran the whole network once per
configuration (INSURANCE: 4,100 clamped rows a chunk). The fallback
serves what the sweep cannot take: a split noisy-OR's family (its table
is pieces), a component whose sweep of one row passes the memory budget,
and rows whose value underflows.

Rows with every non-target observed (the usual clinic record: answers
known, causes not) skip most of that: given the targets, the network's
components and its singletons are independent, so each part's likelihood
is computed once per distinct pattern of its own values and the rows'
joints are products of those (``case_layout`` finds the patterns once per
learning run, ``counts`` runs each pass).

Rows are processed in chunks sized by the model's memory budget; what the
chunks need that does not depend on the numbers (which members are
missing, the sparse sums by observed members) is laid out once.

>>> import numpy as np, kneebayes
>>> net = kneebayes.load_model().network
>>> codes = np.full((1, len(net.names)), -1, dtype=np.int32)   # one case, nothing observed
>>> counts = expected_counts(net, codes, np.ones(1))
>>> i = net.index["poor_warmup"]
>>> counts.tables[i].round(3).tolist(), abs(counts.log_likelihood) < 1e-12    # the prior itself; P(no evidence) = 1
([0.45, 0.55], True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..extras import require
from ..inference.joint import TargetJoint
from ..inference.node_joints import joint_with_targets
from ..inference.posterior import target_joint
from ..network.compiled import CompiledNetwork
from ..network.table_gradient import table_gradient
from .learning_buckets import BucketCounts, PatternPlans, bucket_counts, by_buckets
from .learning_families import MAX_CLAMPED, Clamps, Family, add_pairs, families, target_matrix
from .learning_parts import Encoder, PartTables, independent_parts
from .learning_sweep import fits, swept_counts

__all__ = ["MAX_CLAMPED", "CHUNK_ROWS", "Family", "Counts", "CaseLayout", "families", "case_layout", "counts",
           "expected_counts"]

#: The most distinct rows one chunk holds (fewer when the memory budget asks).
CHUNK_ROWS = 4096

# Below this the product of the parts' ratios is recomputed by the engine (it rescales against underflow).
_TINY = 1e-250

# Bytes a pass holds per row and per (node, state, joint state) entry: the joints with the
# targets and their copies.
_COPIES = 4


@dataclass(frozen=True)
class Counts:
    """Expected family counts per node (axes of its table), the log-likelihood, and the first impossible row.

    ``log_likelihood`` is ``sum of weight * log P(case)``; ``impossible`` is
    the position (among the distinct rows given) of the first row with
    probability zero, or None. When a row is impossible the counts are
    incomplete and must not be used.
    """

    tables: tuple[np.ndarray, ...]
    log_likelihood: float
    impossible: int | None = None


def chunk_rows(net: CompiledNetwork, memory_budget: float, fams: Sequence[Family]) -> int:
    """How many distinct rows one chunk takes: at most CHUNK_ROWS, fewer when the budget asks.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> chunk_rows(net, 2**30, families(net))
    4096
    """
    n, max_card = net.lam_template.shape
    widest = max((f.size for f in fams), default=1)
    per_row = 8.0 * _COPIES * (n * max_card * net.n_joint + widest + n * max_card)
    return int(max(1, min(CHUNK_ROWS, memory_budget // per_row)))


# Per family: (member position -> rows where only it is hidden), rows where none is, (hidden positions -> rows).
_Plan = tuple[dict[int, np.ndarray], np.ndarray, dict[tuple[int, ...], np.ndarray]]


@dataclass(frozen=True, eq=False)
class _Chunk:
    """Rows counted together, and what about them does not depend on the numbers."""

    pick: np.ndarray                 # positions of the rows among the distinct rows
    block: np.ndarray                # their codes
    weights: np.ndarray
    plans: list[_Plan]
    bases: list[np.ndarray]
    gather: tuple[Any, Any]          # sparse (others' configurations, rows): families with targets, without
    spans: list[tuple[int, int, bool]]
    complete: bool                   # every non-target observed in every row: the factorised joint serves
    # Components whose families come from one sweep of their plan (learning_sweep), with those families'
    # nodes; ``plans`` leave those families empty, ``fallback`` keeps their own plans for rows the sweep
    # cannot take (underflow, or a batch whose counts do not add up).
    swept: tuple[tuple[int, tuple[int, ...]], ...] = ()
    fallback: dict[int, _Plan] | None = None


@dataclass(frozen=True, eq=False)
class CaseLayout:
    """What the E-step reads from the cases once, whatever the numbers (see :func:`case_layout`).

    Chunks of rows with their per-family plans, and for rows with every
    non-target observed, each independent part's distinct patterns.
    """

    fams: tuple[Family, ...]
    chunks: tuple[_Chunk, ...]
    parts: tuple[tuple[np.ndarray, np.ndarray], ...]   # per part: its patterns' codes (patterns, nodes), row -> pattern
    rows: int
    budget: float = math.inf   # the memory budget the chunks were sized for
    # per component counted case by case (learning_buckets), its patterns' plans: made on first use, they hold
    # no numbers, so every iteration's network reads them
    bucket_plans: dict[int, PatternPlans] = field(default_factory=dict, compare=False)


def case_layout(net: CompiledNetwork, codes: np.ndarray, weights: np.ndarray, fams: Sequence[Family] | None = None,
                memory_budget: float | None = None) -> CaseLayout:
    """Lay out weighted distinct rows of state codes (-1: missing) for :func:`counts`, once per learning run.

    ``codes`` has shape (rows, nodes) in ``net.names`` order. Rows with
    every non-target observed come first; given the targets, the network's
    components and its singletons are independent, so each part's distinct
    patterns are kept to compute its likelihood once per pattern.

    >>> import numpy as np, kneebayes
    >>> net = kneebayes.load_model().network
    >>> layout = case_layout(net, np.full((3, len(net.names)), -1, dtype=np.int8), np.ones(3))
    >>> len(layout.chunks), layout.parts    # nothing observed: no complete rows
    (1, ())
    """
    fams = tuple(families(net) if fams is None else fams)
    budget = float(net.memory_budget if memory_budget is None else memory_budget)
    rows = chunk_rows(net, budget, fams)
    enumerated = np.zeros(len(net.names), dtype=bool)
    enumerated[list(net.enumerated)] = True
    complete = (codes[:, ~enumerated] >= 0).all(axis=1)
    order = np.argsort(~complete, kind="stable")
    n_complete = int(complete.sum())
    parts = independent_parts(net, codes[order[:n_complete]], budget) if n_complete else None
    if parts is None:
        n_complete = 0
    total = codes.shape[0]
    spans = [(a, min(a + rows, n_complete)) for a in range(0, n_complete, rows)]
    spans += [(a, min(a + rows, total)) for a in range(n_complete, total, rows)]
    chunks = []
    for start, stop in spans:
        pick = order[start:stop]
        block = codes[pick]
        plans = [_plan(f, block < 0) for f in fams]
        swept, fallback = _sweeps(net, fams, plans, budget) if start >= n_complete else ((), {})
        bases = [_observed_offset(f, block) for f in fams]                  # (rows,) the observed others' part
        gather, layout = _gather(fams, plans, bases, len(pick))
        chunks.append(_Chunk(pick, block, np.asarray(weights[pick], dtype=float), plans, bases, gather, layout,
                             start < n_complete, swept, fallback))
    return CaseLayout(fams, tuple(chunks), tuple(parts or ()), rows, budget)


def _sweeps(net: CompiledNetwork, fams: Sequence[Family], plans: list[_Plan], budget: float
            ) -> tuple[tuple[tuple[int, tuple[int, ...]], ...], dict[int, _Plan]]:
    """The components whose families one sweep counts: those whose sweep of one row fits the budget and where
    some family has two or more hidden members in some row (clamped, they run the network once per
    configuration; one hidden member's joint with the targets, batched, is cheaper than a sweep on the
    knee), and the large ones counted case by case (``learning_buckets.by_buckets``) wherever some family
    has a hidden member. Their families' plans are emptied in ``plans`` and returned, by node, for rows
    neither way can take."""
    position = {f.node: p for p, f in enumerate(fams)}
    swept = []
    fallback: dict[int, _Plan] = {}
    for c, comp in enumerate(net.components):
        if by_buckets(comp):
            nodes = tuple(sorted(v for v in comp.nodes if v in position))
            if not any(plans[position[v]][0] or plans[position[v]][2] for v in nodes):
                continue
        else:
            plan = table_gradient(comp)
            if plan is None or not fits(plan, budget):
                continue
            nodes = tuple(sorted(v for v in plan.nodes if v in position))
            if not any(plans[position[v]][2] for v in nodes):
                continue
        swept.append((c, nodes))
        for v in nodes:
            fallback[v] = plans[position[v]]
            plans[position[v]] = ({}, np.zeros(0, dtype=np.intp), {})
    return tuple(swept), fallback


def expected_counts(net: CompiledNetwork, codes: np.ndarray, weights: np.ndarray,
                    fams: Sequence[Family] | None = None, memory_budget: float | None = None) -> Counts:
    """Expected family counts of every node over weighted distinct rows of state codes (-1: missing).

    ``codes`` has shape (rows, nodes) in ``net.names`` order, ``weights``
    (rows,): :func:`counts` on :func:`case_layout`.
    """
    return counts(net, case_layout(net, codes, weights, fams, memory_budget))


def counts(net: CompiledNetwork, layout: CaseLayout) -> Counts:
    """Expected family counts of every node under ``net``'s numbers, for cases laid out by :func:`case_layout`.

    Stops at the first chunk holding an impossible row and says which
    (``Counts.impossible``, a position among the distinct rows).
    """
    fams = layout.fams
    flat = [np.zeros(f.size) for f in fams]
    encoder = Encoder(net)
    enumerated = np.zeros(len(net.names), dtype=bool)
    enumerated[list(net.enumerated)] = True
    factorised = PartTables.build(net, layout.parts, encoder, layout.rows) if layout.parts else None
    log_likelihood = 0.0
    done = 0   # complete rows so far: the factorised tables' row numbers
    for chunk in layout.chunks:
        block, w = chunk.block, chunk.weights
        lam, tj = None, None
        passes: dict[int, BucketCounts] = {}
        if chunk.complete and factorised is not None:
            joint, total, log_ev = factorised.joint(slice(done, done + len(block)), block)
            done += len(block)
            low = np.flatnonzero(total < _TINY)
            if low.size:   # the parts' product underflowed (or the row is impossible): ask the engine, which rescales
                tj_low = target_joint(net, encoder.lam(block[low]))
                joint[low], log_ev[low] = tj_low.joint, tj_low.log_evidence
        else:
            lam = encoder.lam(block)
            passes = _bucket_passes(net, layout, chunk, lam, w)
            tj = target_joint(net, _left_to_the_engine(net, lam, passes),
                              targets_observed=bool((block[:, enumerated] >= 0).any()))
            if passes:   # each covered row's component, left out of the engine's pass, by its bucket pass's value
                tj = tj._replace(log_evidence=tj.log_evidence + sum(found.log_values for found in passes.values()))
            joint, log_ev = tj.joint, tj.log_evidence
        bad = np.flatnonzero(~np.isfinite(log_ev))
        if bad.size:
            return Counts(tuple(c.reshape(f.shape) for c, f in zip(flat, fams)), -math.inf, int(chunk.pick[bad[0]]))
        log_likelihood += float(w @ log_ev)
        plans, direct = list(chunk.plans), {}
        for c, nodes in chunk.swept:
            assert lam is not None  # noqa: S101 - swept chunks hold rows with hidden non-targets
            comp = net.components[c]
            own = lam[:, comp.nodes, :]
            covered = np.zeros(len(block), dtype=bool)
            counted = passes.get(c)
            if counted is not None:   # case by case over what each case's evidence leaves, where planned
                for v, table in counted.tables.items():
                    flat[v] += table.reshape(-1)
                covered = counted.covered.copy()
            rest = np.flatnonzero(~covered)
            plan = table_gradient(comp) if rest.size else None   # (planned per network: not where nothing is left)
            if plan is not None and fits(plan, layout.budget):
                got, swept = swept_counts(comp, plan, own[rest], joint[rest], w[rest], layout.budget)
                for v, table in got.items():
                    flat[v] += table.reshape(-1)
                covered[rest] = swept
            left = np.flatnonzero(~covered)
            if left.size:   # rows the sweep could not take: their families' own plans, on those rows
                assert chunk.fallback is not None  # noqa: S101 - set beside swept
                position = {f.node: p for p, f in enumerate(fams)}
                for v in nodes:
                    plans[position[v]], direct[v] = _restricted(chunk.fallback[v], left)
        joints = _member_joints(net, fams, plans, lam, tj)
        clamps = Clamps(net, encoder, layout.rows)
        per_family: list[np.ndarray] = []
        wide, narrow = chunk.gather
        summed = np.asarray(wide @ (w[:, None] * joint)) if wide is not None else None
        alone = np.asarray(narrow @ w) if narrow is not None else None    # families without a target
        for f, (one, none, clamp), base, (top, n, used) in zip(fams, plans, chunk.bases, chunk.spans):
            A = target_matrix(f, net.n_joint)
            # indexed by (others' configuration, targets' configuration), flat
            if not used:
                pairs = np.zeros(f.size)
            elif f.targets:
                pairs = (summed[top : top + n] @ A).reshape(-1)   # type: ignore[index]
            else:
                pairs = alone[top : top + n].copy()   # type: ignore[index]
            extra = direct.get(f.node)
            if extra is not None and extra.size:   # a swept family's rows with its others observed, not gathered
                q = (joint[extra] @ A) * w[extra, None] if f.targets else w[extra, None]
                add_pairs(pairs, base[extra, None], q, f.target_configs)
            for j, which in one.items():
                m = f.members[j]
                position, found = joints[m]
                q = np.einsum("bxk,kt->bxt", found[position[which], 0, : net.cards[m], :], A) * w[which, None, None]
                offset = base[which, None] + np.arange(net.cards[m]) * f.other_stride[j]
                add_pairs(pairs, offset[:, :, None], q, f.target_configs)
            for pattern, which in clamp.items():
                assert lam is not None  # noqa: S101 - rows with missing non-targets take the general path
                clamps.add(f, pattern, base[which], lam[which], log_ev[which], w[which], A, pairs)
            per_family.append(pairs)
        clamps.flush()
        for f, pairs in zip(fams, per_family):
            flat[f.node] += pairs[f.cell_pair]
    return Counts(tuple(c.reshape(f.shape) for c, f in zip(flat, fams)), log_likelihood)


def _bucket_passes(net: CompiledNetwork, layout: CaseLayout, chunk: _Chunk, lam: np.ndarray, weights: np.ndarray
                   ) -> dict[int, BucketCounts]:
    """The bucket passes of a chunk's swept components that are counted case by case (``by_buckets``), by
    component: their families' counts, and the log value of each row they cover."""
    out = {}
    for c, _ in chunk.swept:
        comp = net.components[c]
        if by_buckets(comp):
            out[c] = bucket_counts(comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes], weights,
                                   layout.bucket_plans.setdefault(c, PatternPlans()), layout.budget)
    return out


def _left_to_the_engine(net: CompiledNetwork, lam: np.ndarray, passes: dict[int, BucketCounts]) -> np.ndarray:
    """``lam`` with each bucket-counted component unanswered in the rows its passes cover: there the engine
    finds the component unreached (no target touches it, so it sums to 1) and skips it, where it would plan
    a pass of its own for each row's pattern, in every iteration (DIABETES: half of the counting)."""
    if not passes:
        return lam
    lam = lam.copy()
    for c, found in passes.items():
        nodes = net.components[c].nodes
        lam[np.ix_(np.flatnonzero(found.covered), nodes)] = net.lam_template[nodes]
    return lam


def _member_joints(net: CompiledNetwork, fams: Sequence[Family], plans: Sequence[tuple[dict[int, np.ndarray], Any, Any]],
                   lam: np.ndarray | None, tj: TargetJoint | None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each non-target node that is some family's one missing member in some rows: P(node, targets | row)
    for those rows only, (rows, 1, max card, K), and each chunk row's position among them.

    Asked node by node, for just the rows that need it: the engine computes a node's joint with the
    targets for every row it is given, so one call for all rows and all such nodes would do that work
    for every row, observed or not.
    """
    rows_of: dict[int, list[np.ndarray]] = {}
    for f, (one, _, _) in zip(fams, plans):
        for j, which in one.items():
            rows_of.setdefault(f.members[j], []).append(which)
    out = {}
    for m, lists in rows_of.items():
        assert lam is not None and tj is not None  # noqa: S101 - rows with a missing non-target take the engine's path
        rows = np.unique(np.concatenate(lists))
        position = np.full(lam.shape[0], -1, dtype=np.intp)
        position[rows] = np.arange(rows.size)
        out[m] = (position, joint_with_targets(net, lam[rows], tj.take(rows), [m]))
    return out


def _restricted(plan: _Plan, rows: np.ndarray) -> tuple[_Plan, np.ndarray]:
    """``plan`` on ``rows`` only (sorted), its rows without a hidden member apart (they are not gathered)."""
    one, none, clamp = plan
    one = {j: kept for j, which in one.items() if (kept := np.intersect1d(which, rows)).size}
    clamp = {p: kept for p, which in clamp.items() if (kept := np.intersect1d(which, rows)).size}
    return (one, np.zeros(0, dtype=np.intp), clamp), np.intersect1d(none, rows)


def _plan(f: Family, hidden: np.ndarray) -> _Plan:
    """Split a chunk's rows by how the family's non-target members are known.

    Returns (member position -> rows where only that one is hidden), the
    rows where none is hidden, and (hidden positions -> rows) for rows with
    two or more hidden.
    """
    if not f.others:
        return {}, np.arange(hidden.shape[0]), {}
    h = hidden[:, [f.members[j] for j in f.others]]
    count = h.sum(axis=1)
    none = np.flatnonzero(count == 0)
    one: dict[int, np.ndarray] = {}
    single = np.flatnonzero(count == 1)
    if single.size:
        which = np.asarray(f.others)[h[single].argmax(axis=1)]
        for j in np.unique(which).tolist():
            one[j] = single[which == j]
    clamp: dict[tuple[int, ...], np.ndarray] = {}
    many = np.flatnonzero(count >= 2)
    if many.size:
        patterns, inverse = np.unique(h[many], axis=0, return_inverse=True)
        for p, pattern in enumerate(patterns):
            clamp[tuple(j for j, hid in zip(f.others, pattern) if hid)] = many[inverse.reshape(-1) == p]
    return one, none, clamp


def _gather(fams: Sequence[Family], plans: Sequence[tuple[Any, np.ndarray, Any]], bases: Sequence[np.ndarray],
            n_rows: int) -> tuple[tuple[Any, Any], list[tuple[int, int, bool]]]:
    """Sparse matrices summing rows (whose family's others are all observed) by those others' configuration,
    families stacked, so one product per chunk serves them all: one for families with targets (it multiplies
    the targets' joint), one for those without (it multiplies the weights); and each family's span in its own."""
    sparse = require("scipy.sparse", "research", "learning from cases")
    parts: dict[bool, tuple[list[np.ndarray], list[np.ndarray]]] = {True: ([], []), False: ([], [])}
    tops = {True: 0, False: 0}
    spans = []
    for f, (_, none, _), base in zip(fams, plans, bases):
        n_others = f.size // f.target_configs
        side = bool(f.targets)
        spans.append((tops[side], n_others, bool(none.size)))
        parts[side][0].append(tops[side] + base[none])
        parts[side][1].append(none)
        tops[side] += n_others
    out = []
    for side in (True, False):
        rows, cols = parts[side]
        index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        out.append(sparse.csr_matrix((np.ones(index.size), (index, np.concatenate(cols) if cols else index)),
                                     shape=(tops[side], n_rows)) if tops[side] else None)
    return (out[0], out[1]), spans


def _observed_offset(f: Family, block: np.ndarray) -> np.ndarray:
    """(rows,): the flat configuration of the family's others, from their observed states (a missing one adds 0)."""
    out = np.zeros(block.shape[0], dtype=np.int64)
    for j in f.others:
        out += np.maximum(block[:, f.members[j]], 0).astype(np.int64) * f.other_stride[j]
    return out


