"""Every node's joint with the targets, given the evidence: P(node = x, targets = k | evidence).

What a ranking, an explanation and a node's marginal read. After
``inference.posterior.target_joint``, per component the nodes asked about
come from the cheapest exact path that applies: one sweep of the
component's plan (``inference.backward``), a bucket pass over the
evidence's ancestors (apart from the targets, or with the targets' axes
kept) and its way back, pruned clamps (one pruned run per clamped state),
or clamped runs of the whole component, each weighed by its planned work.

>>> import kneebayes
>>> from kneebayes.inference.posterior import encode, target_joint
>>> model = kneebayes.load_model()
>>> net = model.network
>>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
>>> lam = encode(net, [{locking: net.state_index[locking]["yes"]}])
>>> p = marginals(net, lam, target_joint(net, lam), [meniscus])[meniscus][0]
>>> round(float(p[0]), 3), round(model.marginals({"locking_or_catching": "yes"})["meniscal_injury"]["yes"], 3)
(0.782, 0.782)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SettingError, quote
from ..network.backward_plan import CALL_WORK
from ..network.compiled import CompiledNetwork, Component
from ..network.pruned_plan import ROW_PRUNE_WORK
from . import bipartite_queries
from .joint import TargetJoint
from .posterior import TINY, apart, component_sweep, pruned_rows, run_component, targets_in_component
from .pruned import (
    HIDDEN_UNDERFLOW,
    bucket_joints,
    bucket_marginals,
    bucket_value,
    clamped_work,
    pattern_work,
    release,
    split_answers,
)

_SHIFT_IN_LOGS = 600.0       # a clamp's scale this far (in logs) below its component's is applied in log space


@dataclass(frozen=True, eq=False)
class _Layout:
    """Index arrays for one set of queried nodes (cached: an interview asks about the same sets)."""

    width: int
    targets: tuple[tuple[int, int, int], ...]                          # (row, card, position in joint)
    # (group, rows, positions or None for the whole group in order, node ids, the group's tables at those
    # positions and the width, (1, m, width, K))
    singles: tuple[tuple[int, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray], ...]
    comps: tuple[tuple[int, int, np.ndarray, np.ndarray, np.ndarray], ...]  # (component, S, rows, positions, states)
    clamped: tuple[tuple[np.ndarray, np.ndarray], ...]   # per component: each clamp's node id, and its node's last state


# Each network's layouts, kept beside the frozen network rather than in it, and dropped with it.
_LAYOUTS: weakref.WeakKeyDictionary[CompiledNetwork, dict[tuple[int, ...], _Layout]] = weakref.WeakKeyDictionary()


def _layout(net: CompiledNetwork, nodes: tuple[int, ...]) -> _Layout:
    memo = _LAYOUTS.get(net)
    if memo is None:
        memo = _LAYOUTS.setdefault(net, {})
    found = memo.get(nodes)
    if found is not None:
        return found
    targets, singles, comps = [], {}, {}
    for n, v in enumerate(nodes):
        kind, group, pos = net.where[v]
        if kind == "target":
            targets.append((n, net.cards[v], pos))
        elif kind == "singleton":
            singles.setdefault(group, []).append((n, pos))
        else:
            comps.setdefault(group, []).append((n, v))
    s_layout = []
    width = max((net.cards[v] for v in nodes), default=1)
    for g, m in singles.items():
        group = net.singletons[g]
        pos = np.array([p for _, p in m], dtype=np.intp)
        tables = group.tables[pos][None, :, : min(group.card, width)]
        tables.setflags(write=False)
        s_layout.append((g, np.array([n for n, _ in m], dtype=np.intp),
                         None if pos.tolist() == list(range(len(group.nodes))) else pos, group.nodes[pos], tables))
    c_layout, clamped = [], []
    for c, members in comps.items():
        clamps = [(n, v, x) for n, v in members for x in range(net.cards[v])]
        c_layout.append((c, len(clamps), np.array([n for n, _, _ in clamps], dtype=np.intp),
                         np.array([net.where[v][2] for _, v, _ in clamps], dtype=np.intp),   # position in the component
                         np.array([x for _, _, x in clamps], dtype=np.intp)))
        clamped.append((np.array([v for _, v, _ in clamps], dtype=np.intp),
                        np.array([x == net.cards[v] - 1 for _, v, x in clamps], dtype=bool)))
    layout = _Layout(width, tuple(targets), tuple(s_layout), tuple(c_layout), tuple(clamped))
    if len(memo) > 4096:  # bounded: layouts are small, but an interview visits many subsets
        memo.clear()
    memo[nodes] = layout
    return layout


def joint_with_targets(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Sequence[int],
                       method: str = "auto", complement: bool = False, answered_rows: bool = True) -> np.ndarray:
    """P(node = x, targets = k | evidence) for many nodes at once: shape (batch, n, max card, K).

    States beyond a node's cardinality are zero. Targets come straight from
    the joint; singletons from their tabulated factors; a component's nodes
    all at once from one forward and one backward sweep of its plan
    (``inference.backward``), as the ratio of each node's share to the
    component's value; or by re-running the component with the node clamped
    to each state (all clamps in one batched pass). ``method`` is "sweep",
    "clamp" or "auto" (per component, whichever its compile-time cost
    estimate favours for this many states). Where the sweep's value
    underflows, clamping (which rescales) takes over. With ``complement``
    one state of each clamped node is not run but taken as the component's
    value less the node's other states: a third fewer rows on three-state
    nodes, exact to rounding relative to the targets' joint (what entropies
    need) but not relative to a tiny entry itself (so marginals never ask).
    With ``answered_rows=False`` a component's node answered with one
    state (whose joint is the targets' joint at that state) may be left
    all zero: the gains, which know it gains nothing, skip writing it.

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode, target_joint
    >>> net = kneebayes.load_model().network
    >>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
    >>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
    >>> stack = joint_with_targets(net, lam, target_joint(net, lam), [locking, meniscus])
    >>> stack.shape, round(float(stack[0].sum(axis=(1, 2))[0]), 9)    # each node's joint sums to 1
    ((2, 2, 2, 64), 1.0)
    """
    if method not in ("auto", "sweep", "clamp"):
        raise SettingError(f"method must be 'auto', 'sweep' or 'clamp', not {quote(method)}")
    if net.bipartite is not None:
        return bipartite_queries.joint_with_targets(net, lam, tj, nodes)
    batch, K = tj.joint.shape
    layout = _layout(net, tuple(nodes))
    out = np.zeros((batch, len(nodes), layout.width, K))
    for n, card, pos in layout.targets:
        onehot = np.eye(card)[:, net.joint_states[:, pos]]                    # (card, K)
        out[:, n, :card, :] = tj.joint[:, None, :] * onehot[None]
    for g, rows, pos, node_ids, tables in layout.singles:
        width = tables.shape[2]   # the group is padded to its widest node; these nodes fit in width
        terms = lam[:, node_ids, :width, None] * tables                                     # (batch, m, width, K)
        values = tj.singleton_values[g]
        values = values if pos is None else values[:, pos, :]                                    # (batch, m, K)
        out[:, rows, :width, :] = _joint_of(terms, values[:, :, None, :], tj.joint[:, None, None, :])
    if layout.comps:
        possible = lam != 0.0                                   # (batch, nodes, max card): states each node may take
        counts = np.add.reduce(possible, axis=2)
        answered = counts[0] == 1 if batch == 1 else (counts == 1).all(axis=0)   # one state left in every row
    for (c, n_clamps, n_idx, p_idx, x_idx), (v_idx, last) in zip(layout.comps, layout.clamped):
        comp = net.components[c]
        own = lam[:, comp.nodes, :]
        asked = n_idx   # every clamp of the component, before those that need no pass are set aside
        # in each row apart: the clamps of its open nodes' possible states (a batch runs their union in every row)
        own_open = 0 if batch == 1 else int(np.add.reduce(possible[:, v_idx, x_idx] & (counts[:, v_idx] > 1), axis=None))
        allowed = possible[0, v_idx, x_idx] if batch == 1 else possible[:, v_idx, x_idx].any(axis=0)
        single = answered[v_idx]
        known = single | ~allowed
        if (batch == 1 and method != "clamp" and comp.gradient is not None and not _prunable(comp)
                and _sweep_one(net, c, own, tj, out, (n_idx, p_idx, x_idx), known, single if answered_rows else None,
                               possible[0], method == "sweep")):
            continue
        if known.any():
            # No pass for these: an answered node's one state is the unclamped row itself (its joint is the
            # targets' joint), and a state whose likelihood is zero (in every row) has a zero joint.
            done, rest = known.nonzero()[0], (~known).nonzero()[0]
            if answered_rows:
                out[:, n_idx[done], x_idx[done], :] = tj.joint[:, None, :] * possible[:, v_idx[done], x_idx[done], None]
            n_idx, p_idx, x_idx, last = n_idx[rest], p_idx[rest], x_idx[rest], last[rest]
            n_clamps = len(rest)
            if not n_clamps:
                continue
        if batch > 1 and comp.pruning is not None and comp.pruning.full_work >= ROW_PRUNE_WORK:
            # Row by row, each row taking its own bucket, pruned or planned paths as a single diagnosis does: a
            # batch could only run every row's clamps pruned, each planned (PIGS's target marginals, 20 rows: 600
            # clamped rows, where each row's bucket pass is one collect and its way back, 10x faster). Below
            # ROW_PRUNE_WORK the batch's own passes cost less a row than one row's planning.
            _row_by_row(net, lam, tj, out, nodes, np.unique(asked), method, complement, answered_rows)
            continue
        buckets = batch == 1 and comp.pruning is not None and apart(comp)
        if buckets and _by_buckets(net, c, own, tj, out, (n_idx, p_idx, x_idx)):
            continue   # one collect pass over the evidence's ancestors, and the way back to these nodes
        if (batch == 1 and method == "auto" and comp.pruning is not None and not buckets
                and _by_target_buckets(net, c, own, tj, out, (n_idx, p_idx, x_idx))):
            continue   # the same with the targets' axes kept: the evidence cut out of every table both ways
        prunes = comp.pruning is not None and comp.pruning.full_work >= ROW_PRUNE_WORK
        found = None
        if prunes and batch == 1 and method != "sweep" and _prune_clamps(net, comp, own, p_idx, n_clamps):
            found = pruned_rows(net, comp, _clamped(own, n_clamps, p_idx, x_idx), all_or_none=True)
        if found is not None:   # each clamp pruned to its own ancestors: far less than a sweep of the whole component
            _put_clamped(out, found, tj, c, n_idx, x_idx, batch, n_clamps, K)
            continue
        # The choice counts every clamp: with a node's last state taken as its complement a clamped pass has
        # fewer rows, but its fixed costs grow too (CHILD's sweep stayed faster where the rows alone said not).
        sweep = method == "sweep" or (method == "auto" and comp.gradient is not None and comp.gradient.worth_it(n_clamps))
        if sweep and batch > 1 and comp.gradient is not None and batch * _sweep_bytes(comp) > net.memory_budget:
            # A batched sweep keeps every step's table for every row until its way back: past the memory budget,
            # rows one at a time (BARLEY's target marginals, 100 rows, asked numpy for 1.6 GiB at once)
            _row_by_row(net, lam, tj, out, nodes, np.unique(asked), method, complement, answered_rows)
            continue
        if sweep and comp.gradient is not None:
            value, shares = component_sweep(net, c, own, p_idx, tj.forwards[c] if tj.forwards else None)
            wanted = shares[:, p_idx, x_idx, :]
            # Else an underflow: clamp, with rescaling, below. Below HIDDEN_UNDERFLOW a share that came out
            # zero may be one that underflowed yet is a posterior above 1e-300: clamped too.
            top = value.max()
            lowest = top if batch == 1 else value.max(axis=1).min()   # the smallest row's largest entry
            if lowest >= TINY and (top >= HIDDEN_UNDERFLOW or wanted.all()):
                out[:, n_idx, x_idx, :] = _joint_of(wanted, value[:, None, :], tj.joint[:, None, :])
                continue
        if batch > 1 and comp.pruning is not None and 10 * own_open < 9 * batch * n_clamps:
            # A large component's clamps, row by row, where the rows differ in what is open (their own open clamps
            # under 90% of what one batched pass runs): that pass clamps every row at the union of their open
            # states, one row that rescales costs all rows the complement, and its thousands of rows are each 3-4
            # times dearer than a single row's few dozen; row by row, each takes its own complement and sweep
            # (the next questions of 60 rows, 20% answered: ALARM, HEPAR II and Win95pts ran 116 clamped rows a
            # row against 35, 3-5 times slower than a loop of single diagnoses). One node's clamps in rows that
            # all have it open, as learning asks, stay batched.
            _row_by_row(net, lam, tj, out, nodes, np.unique(asked), method, complement, answered_rows)
            continue
        # A node's last state, where it is run, may be taken as its other states' complement instead.
        dropped = last.nonzero()[0] if complement and not prunes else None
        if dropped is not None and len(dropped) and not tj.component_scales[c].any():
            found = _run_with_complements(net, comp, lam, own, tj.component_values[c], dropped, n_idx, p_idx, x_idx)
            if found is not None:
                _put_clamped(out, found, tj, c, n_idx, x_idx, batch, n_clamps, K)
                continue
        # The last resort, a pass per clamp, weighed against a bucket pass (whose messages rescale): a sweep's value
        # below HIDDEN_UNDERFLOW with one share zero lands here (MUNIN, P(evidence) 2.1e-8 and a structural zero:
        # 5,500 pruned clamps, 100 s; its bucket pass, declined above against one fixed pass, about 1 s).
        if buckets and comp.pruning is not None and _by_buckets(net, c, own, tj, out, (n_idx, p_idx, x_idx),
                                                                n_clamps * comp.pruning.full_work):
            continue
        rows = _clamped(own, n_clamps, p_idx, x_idx)
        if prunes:   # a clamp is evidence: each row needs its own ancestors only
            found = pruned_rows(net, comp, rows)
            assert found is not None  # noqa: S101 - declined rows take the full plan
        else:
            found = run_component(comp, lam, rows, net.memory_budget)
        _put_clamped(out, found, tj, c, n_idx, x_idx, batch, n_clamps, K)
    return out


def _row_by_row(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, out: np.ndarray, nodes: Sequence[int],
                rows_of: np.ndarray, method: str, complement: bool, answered_rows: bool) -> None:
    """``joint_with_targets`` for one component's nodes (their rows of ``out``, ``rows_of``), one evidence row at
    a time: each row takes the paths a single diagnosis takes."""
    wanted = [nodes[i] for i in rows_of.tolist()]
    for r in range(lam.shape[0]):
        found = joint_with_targets(net, lam[r : r + 1], tj.take(slice(r, r + 1)), wanted, method, complement,
                                   answered_rows)
        out[r, rows_of, : found.shape[2], :] = found[0]


def _sweep_bytes(comp: Component) -> float:
    """About what one row of a component's sweep holds at once: each forward and backward step's table taken
    as large as the fixed plan's largest (it only keeps a batch within its memory budget)."""
    plan = comp.gradient
    assert plan is not None  # noqa: S101 - callers check
    return 8.0 * comp.largest * (len(plan.forward) + len(plan.backward) + 1)


def _prunable(comp: Component) -> bool:
    """Whether one evidence row may take a pruned path through this component (those paths decide there)."""
    return comp.pruning is not None and (apart(comp) or comp.pruning.full_work >= ROW_PRUNE_WORK)


def _sweep_one(net: CompiledNetwork, c: int, own: np.ndarray, tj: TargetJoint, out: np.ndarray,
               clamps: tuple[np.ndarray, np.ndarray, np.ndarray], known: np.ndarray, single: np.ndarray | None,
               possible: np.ndarray, always: bool) -> bool:
    """One evidence row's clamps of component ``c`` (each one's row in ``out``, position in the component and
    state) from one sweep, written into ``out``; False (nothing written) where clamping is estimated cheaper
    (``always`` overrides) or the sweep underflows. ``known`` marks the clamps that need no pass (their
    node answered, flagged in ``single``, or their state impossible). With ``single`` None, the answered
    nodes' rows are left zero (``joint_with_targets``'s ``answered_rows``).

    The sweep runs towards the nodes still open; an answered node's share is then the component's value at
    its one state, so every clamp is written in one call (no split into answered and open clamps)."""
    comp = net.components[c]
    plan = comp.gradient
    assert plan is not None  # noqa: S101 - callers check
    n_idx, p_idx, x_idx = clamps
    open_ = ~known
    opened = p_idx[open_]
    rest = len(opened)
    if not rest or not (always or plan.worth_it(rest)):
        return False
    value, shares = component_sweep(net, c, own, opened, tj.forwards[c] if tj.forwards else None)
    top = float(np.maximum.reduce(value, axis=None))   # the ufunc itself: ndarray.max's Python wrapper costs more here
    if top < TINY or (top < HIDDEN_UNDERFLOW and not shares[0, opened, x_idx[open_]].all()):
        return False   # an underflow, or a share that may have underflowed: clamping rescales
    answered = p_idx[single] if single is not None else ()
    if len(answered):   # states with zero likelihood have zero shares already; an answered node's are its value's
        if not shares.flags.writeable:
            shares = shares.copy()
        shares[0, answered] = possible[comp.nodes[answered], :, None] * value[0]
    out[0, n_idx, x_idx, :] = _joint_of(shares[0, p_idx, x_idx, :], value, tj.joint)
    return True


def _run_with_complements(net: CompiledNetwork, comp: Component, lam: np.ndarray, own: np.ndarray, value: np.ndarray,
                          dropped: np.ndarray, n_idx: np.ndarray, p_idx: np.ndarray, x_idx: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray] | None:
    """Every clamp's value as ``run_component`` gives it, with the ``dropped`` clamps (a node's last state) not
    run but taken as the component's unclamped ``value`` less their node's other clamps (the node's other
    states are among those or have a zero likelihood, so zero joint). None where a run clamp needed
    rescaling: the caller runs them all."""
    batch, n_clamps = own.shape[0], len(p_idx)
    kept = np.ones(n_clamps, dtype=bool)
    kept[dropped] = False
    run = np.flatnonzero(kept)
    found, scale = run_component(comp, lam, _clamped(own, len(run), p_idx[run], x_idx[run]), net.memory_budget)
    if scale.any():
        return None
    K = found.shape[1]
    values = np.empty((batch, n_clamps, K))
    ran = found.reshape(batch, len(run), K)
    values[:, run] = ran
    # Each dropped clamp's siblings, the run clamps of the same node: a block of the run clamps, which go node
    # by node (n_idx never decreases). Added one sibling at a time (a node has a few states): a gather and an
    # add each, where a (dropped, run) 0/1 matrix product cost three times as much on ALARM.
    owners = n_idx[run]
    first = np.searchsorted(owners, n_idx[dropped], side="left")
    count = np.searchsorted(owners, n_idx[dropped], side="right") - first
    most = int(np.maximum.reduce(count))
    if most and int(np.minimum.reduce(count)) < most:   # some node has fewer: those point past the end, at zeros
        ran = np.concatenate((ran, np.zeros((batch, 1, K))), axis=1)
    rest = np.zeros((batch, len(dropped), K)) if not most else ran[:, np.where(count > 0, first, len(run))]
    for k in range(1, most):
        rest += ran[:, np.where(count > k, first + k, len(run))]
    np.subtract(value[:, None, :], rest, out=rest)
    values[:, dropped] = np.maximum(rest, 0.0, out=rest)    # rounding may leave a hair below zero
    return values.reshape(batch * n_clamps, -1), np.zeros(batch * n_clamps)


#: From this cost of the alternative (a sweep, or full clamped passes, in ``Pruning.full_work``'s units: a sweep's
#: took 0.08-0.55 ns each on WATER and MILDEW) clamps that their count of nodes declines are planned and weighed by
#: their planned work (a few tenths of a millisecond per clamped node): WATER's sweeps, 1.9e9-3.3e9, take it;
#: Pathfinder's largest, 4.2e6, where planning cost its ranking 15%, does not.
PLAN_CLAMPS_WORK = 1e8
#: What a unit of a pruned clamp's planned work costs against a unit of a sweep's, and each clamp's own fixed
#: cost (a row planned, cut and run): its plain einsum loops took 1-2.8 ns a unit (WATER, MILDEW) where a sweep's
#: chains of matrix products took 0.08-0.55 ns, so on MILDEW (500 clamps of states, 160-550 ms against a 30 ms
#: sweep) the sweep is kept and on WATER (80 clamps, 10-40 ms against 0.7-1 s) the clamps are taken.
PLAIN_LOOP_FACTOR = 4.0
CLAMP_ROW_WORK = 4 * CALL_WORK


def _sweep_or_clamps_work(comp: Component, n_clamps: int) -> float:
    """The estimated cost of a component's clamps of one evidence set without pruning: a sweep of the whole
    component where it has one, else as many full clamped passes (``Pruning.full_work``'s units)."""
    grad = comp.gradient
    assert comp.pruning is not None  # noqa: S101 - callers check
    return (grad.forward_work + grad.backward_work + len(grad.backward) * CALL_WORK if grad is not None
            else n_clamps * comp.pruning.full_work)


#: From this cost of a component's sweep (or clamps) on, a ranking first weighs a bucket pass with the targets
#: kept (``_by_target_buckets``): below it the sweep takes a few milliseconds, about what planning that pass costs.
TARGET_BUCKETS_FROM = 5e7


def _by_target_buckets(net: CompiledNetwork, c: int, own: np.ndarray, tj: TargetJoint, out: np.ndarray,
                       clamps: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
    """One evidence row's clamps of component ``c`` (one the targets touch) from one bucket pass with the targets'
    axes kept and its way back (``inference.pruned.bucket_joints``), written into ``out``; False (nothing
    written) where that pass is declined against the sweep or clamps it would replace, or may have lost a
    posterior to underflow.

    Given the targets, the component is independent of the rest of the network, so each node's joint with
    the targets is P(node | the targets it reaches, the evidence) times the targets' joint."""
    comp = net.components[c]
    n_idx, p_idx, x_idx = clamps
    other = _sweep_or_clamps_work(comp, len(p_idx))
    if other < TARGET_BUCKETS_FROM:
        return False
    wanted = np.zeros(len(comp.nodes), dtype=bool)
    wanted[p_idx] = True
    found = bucket_joints(comp, own, net.lam_template[comp.nodes], wanted, net.memory_budget / 8, other)
    if found is None:
        return False
    joint = tj.joint[0]
    mass = joint > 0.0
    conditionals = {}
    for p, table in found.items():
        value = table.sum(axis=0)
        spread = np.broadcast_to(value, comp.full_shape).reshape(-1)
        # An entry lost below 2.2e-308 in this state's products would be a joint of 2.2e-308 * joint / value: at
        # most about 1e-300 while the value is at least HIDDEN_UNDERFLOW times the joint, else another path.
        if (mass & (spread < HIDDEN_UNDERFLOW * joint)).any():
            return False
        unit = np.divide(joint, spread, out=np.zeros(spread.shape), where=spread > 0)
        conditionals[p] = np.broadcast_to(table, (table.shape[0], *comp.full_shape)).reshape(table.shape[0], -1) * unit
    out[0, n_idx, x_idx, :] = np.array([conditionals[p][x] for p, x in zip(p_idx.tolist(), x_idx.tolist())])
    return True


def _prune_clamps(net: CompiledNetwork, comp: Component, own: np.ndarray, positions: np.ndarray, n_clamps: int) -> bool:
    """Whether pruned clamps of one evidence set are estimated to cost under half of what the alternative
    does: a sweep of the whole component where it has one, else as many full clamped passes."""
    observed = (own[0] != net.lam_template[comp.nodes]).any(axis=1)
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - callers check
    other = _sweep_or_clamps_work(comp, n_clamps)
    if 2.0 * clamped_work(comp, observed, positions) < other:
        return True
    if other < PLAN_CLAMPS_WORK:
        return False
    # The count of nodes misses what cutting the clamped and answered axes saves: where the alternative is
    # expensive, each clamped node's pattern is planned (kept for the runs) and their planned work summed
    # (WATER, four targets mid-network: a sweep of 0.7-1.9 s against pruned clamps of about 30 ms).
    total = 0.0
    nodes, clamps = np.unique(positions, return_counts=True)
    _, soft = split_answers(own, observed)
    for position, count in zip(nodes.tolist(), clamps.tolist()):
        pattern = observed.copy()
        pattern[position] = True
        cost = pattern_work(comp, pattern, net.memory_budget / 8, tuple(j for j in soft if j != position))
        total += count * (PLAIN_LOOP_FACTOR * cost + CLAMP_ROW_WORK)
        if 2.0 * total >= other:
            return False
    return True


def _by_buckets(net: CompiledNetwork, c: int, own: np.ndarray, tj: TargetJoint, out: np.ndarray,
                clamps: tuple[np.ndarray, np.ndarray, np.ndarray], than: float | None = None) -> bool:
    """One evidence row's clamps of component ``c`` (a component apart from the targets) from one bucket pass
    and its way back, written into ``out``; False (nothing written) where the pass is declined (weighed
    against one run of the fixed plan, or ``than``) or its value or its way back underflows."""
    comp = net.components[c]
    n_idx, p_idx, x_idx = clamps
    wanted = targets_in_component(net, c).copy()
    wanted[p_idx] = True
    run = bucket_value(comp, own, net.lam_template[comp.nodes], wanted, net.memory_budget / 8, than)
    if run is None:
        return False
    found = bucket_marginals(run, set(p_idx.tolist()), comp.cards)
    release(comp, run)
    if found is None:
        return False   # the way back underflowed: the clamped passes, which rescale, take over
    shares = np.array([found[p][x] for p, x in zip(p_idx.tolist(), x_idx.tolist())])
    out[:, n_idx, x_idx, :] = shares[None, :, None] * tj.joint[:, None, :]
    return True


def _clamped(own: np.ndarray, n_clamps: int, p_idx: np.ndarray, x_idx: np.ndarray) -> np.ndarray:
    """A component's own rows repeated once per clamp, each with one node fixed at one state:
    (batch * clamps, component nodes, max card), clamps varying fastest."""
    batch = own.shape[0]
    s_idx = np.arange(n_clamps)
    big = np.repeat(own[:, None], n_clamps, axis=1)                # (batch, S, component nodes, maxc)
    keep = big[:, s_idx, p_idx, x_idx]
    big[:, s_idx, p_idx, :] = 0.0
    big[:, s_idx, p_idx, x_idx] = keep
    return big.reshape(batch * n_clamps, *own.shape[1:])


def _put_clamped(out: np.ndarray, found: tuple[np.ndarray, np.ndarray], tj: TargetJoint, c: int, n_idx: np.ndarray,
                 x_idx: np.ndarray, batch: int, n_clamps: int, K: int) -> None:
    """Each clamp's value, brought to the unclamped run's scale, times the posterior per unit of the
    component's value: the clamped node's joint with the targets, written into ``out``."""
    values, scale = found
    values = values.reshape(batch, n_clamps, K)
    if scale.any() or tj.component_scales[c].any():
        shift = scale.reshape(batch, n_clamps) - tj.component_scales[c][:, None]
        if shift.min() < -_SHIFT_IN_LOGS or shift.max() > _SHIFT_IN_LOGS:
            # The shift and the per-unit posterior meet in log space: a clamp rescaled from 1e-500 times a
            # per-unit of 1e200 is a posterior of 1e-300, though its value at the unclamped scale underflows;
            # and a clamp far above the unclamped run's scale (whose value lost digits) would overflow exp, where
            # a clamp whose value is zero times that overflow read NaN: the clamp's own log takes it to zero
            with np.errstate(divide="ignore", over="ignore"):
                unit = _per_unit(tj.joint, tj.component_values[c])
                out[:, n_idx, x_idx, :] = np.exp(np.log(np.maximum(values, 0.0)) + shift[:, :, None]
                                                 + np.log(unit)[:, None, :])
            return
        values = values * np.exp(shift)[:, :, None]
    out[:, n_idx, x_idx, :] = _joint_of(values, tj.component_values[c][:, None, :], tj.joint[:, None, :])


def _per_unit(joint: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``joint / value`` (0 where the value is 0): the posterior per unit of a component's value, for log space
    only (it overflows where the value is subnormal; see ``_joint_of``)."""
    return np.divide(joint, value, out=np.zeros(value.shape), where=value > 0)   # value has the full shape


def _joint_of(parts: np.ndarray, value: np.ndarray, joint: np.ndarray) -> np.ndarray:
    """``parts * joint / value`` (0 where the value is 0), as each part's share of the value (at most 1: the
    parts are pieces of the sum that is the value) times the targets' joint. ``joint / value`` first overflows
    where the value is subnormal, and a part of 0 times that infinity read NaN (a gain came back NaN)."""
    out = np.divide(parts, value, out=np.zeros(parts.shape), where=value > 0)   # value broadcasts into parts's shape
    out *= joint
    return out


def node_target_joints(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Iterable[int]) -> dict[int, np.ndarray]:
    """P(node = x, targets = k | evidence) for each node: arrays of shape (batch, K, card).

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode, target_joint
    >>> net = kneebayes.load_model().network
    >>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
    >>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
    >>> joints = node_target_joints(net, lam, target_joint(net, lam), [locking])
    >>> joints[locking].shape
    (2, 64, 2)
    """
    nodes = list(nodes)
    stack = joint_with_targets(net, lam, tj, nodes)
    return {v: np.swapaxes(stack[:, n, : net.cards[v], :], 1, 2) for n, v in enumerate(nodes)}


def marginals(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Iterable[int]) -> dict[int, np.ndarray]:
    """P(node = x | evidence) for each node: arrays of shape (batch, card), keyed by node number.

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode, target_joint
    >>> net = kneebayes.load_model().network
    >>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
    >>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
    >>> marginals(net, lam, target_joint(net, lam), [meniscus])[meniscus].round(3).tolist()
    [[0.114, 0.886], [0.782, 0.218]]
    """
    nodes = list(nodes)
    stack = np.clip(joint_with_targets(net, lam, tj, nodes).sum(axis=3), 0.0, 1.0)  # rounding may pass 1
    return {v: stack[:, n, : net.cards[v]] for n, v in enumerate(nodes)}
