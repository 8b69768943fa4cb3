"""Exact posteriors over a compiled network: pure functions, batch-first.

``lam`` is the encoded evidence, shape ``(batch, n_nodes, max_card)``:
a likelihood vector per node (all ones where the node is unobserved,
one-hot where it is observed). Everything is computed in log space where
products of many small numbers could underflow.

The order of a query: :func:`encode` the evidence, :func:`target_joint`
once, then ``inference.node_joints.marginals`` (or ``joint_with_targets``)
for the other nodes wanted, reusing that joint. Here: the targets' joint,
each component's value (:func:`run_component`, or a pruned plan for one
evidence row) and what a model prepares on load (:func:`prepare`).

>>> import kneebayes
>>> net = kneebayes.load_model().network
>>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
>>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
>>> tj = target_joint(net, lam)
>>> tj.joint.shape, [round(float(p), 3) for p in np.exp(tj.log_evidence)]   # (batch, K); P(evidence)
((2, 64), [1.0, 0.053])
"""

from __future__ import annotations

import math
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from ..network.backward_plan import CALL_WORK
from ..network.compiled import CompiledNetwork, Component, LeafStack
from ..network.pruned_plan import ROW_PRUNE_WORK, labels, targets_last
from . import backward, bipartite_queries
from .backward import component_joints, forward_pass, prior_pass_fits, subtracts
from .joint import TargetJoint
from .pruned import bucket_value, pruned_value, pruned_value_scaled


def encode(net: CompiledNetwork, evidence: Sequence[Mapping[int, int | np.ndarray]]) -> np.ndarray:
    """Likelihood vectors for a batch of evidence sets given as {node index: state index or likelihood vector}.

    Returns a new array of shape ``(len(evidence), n_nodes, max_card)``:
    each observed node's row is one-hot, a softly observed node's row its
    likelihood vector (virtual evidence; largest weight 1, so no factor
    passes 1), every other row as in ``net.lam_template`` (ones over the
    node's states, zero padding).

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
    >>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
    >>> lam.shape
    (2, 32, 2)
    >>> lam[0, locking].tolist(), lam[1, locking].tolist()
    ([1.0, 1.0], [1.0, 0.0])
    >>> encode(net, [{locking: np.array([0.25, 1.0])}])[0, locking].tolist()   # a soft "probably not"
    [0.25, 1.0]
    """
    lam = np.repeat(net.lam_template[None, :, :], len(evidence), axis=0) if len(evidence) != 1 else net.lam_template[None].copy()
    for b, ev in enumerate(evidence):
        for node, state in ev.items():
            row = lam[b, node]
            if isinstance(state, np.ndarray):
                row[: state.shape[0]] = state
                continue
            row[:] = 0.0
            row[state] = 1.0
    return lam


#: A component's value below this is rescaled or redone in log space rather than trusted (an underflow may hide).
TINY = 1e-250


def _rescale(x: np.ndarray, log_scale: np.ndarray) -> np.ndarray:
    """Divide each batch row by its largest entry, adding its log to ``log_scale`` (in place)."""
    top = np.abs(x.reshape(x.shape[0], -1)).max(axis=1)
    top = np.where(top > 0, top, 1.0)
    log_scale += np.log(top)
    return x / top.reshape((-1,) + (1,) * (x.ndim - 1))


# A pass over a batch holds a component's largest table a few times per row (operands, products, copies).
_COPIES_PER_ROW = 4


def run_component(comp: Component, lam: np.ndarray, own: np.ndarray | None = None,
                  memory_budget: float = math.inf, observed: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """The component's summed-out value on the targets' joint, (batch, K), and its log scale, (batch,).

    The true value is ``value * exp(log_scale)``. The fast pass multiplies
    plainly (every factor is at most 1 in size, so nothing it keeps has
    underflowed); a row whose result falls below 1e-250 is recomputed with
    every message rescaled, so hundreds of small likelihoods never read as
    "impossible". ``own`` may give the component's own rows of ``lam``
    (batch, nodes of the component, max card) directly. A batch whose
    tables would pass ``memory_budget`` bytes runs in slices of rows. On
    one row, ``observed`` (a bit mask of the node positions whose lam
    differs from all ones) lets the steps no evidence reaches take their
    values from the pass without evidence.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> value, log_scale = run_component(net.components[0], encode(net, [{}, {}]))
    >>> value.shape, log_scale.tolist()      # (batch, K); nothing needed rescaling
    ((2, 64), [0.0, 0.0])
    """
    if own is None:
        own = lam[:, comp.nodes, :]
    batch = own.shape[0]
    rows = max(1, int(memory_budget // (8 * _COPIES_PER_ROW * comp.largest))) if math.isfinite(memory_budget) else batch
    if batch > rows:
        parts = [run_component(comp, lam, own[start : start + rows]) for start in range(0, batch, rows)]
        return np.concatenate([v for v, _ in parts]), np.concatenate([s for _, s in parts])
    out = _contract(comp, own, None, observed)
    flat = out.reshape(batch, -1)
    log_scale = np.zeros(batch)
    tops = np.maximum.reduce(flat, axis=1)
    if np.minimum.reduce(tops) < TINY:
        low = tops < TINY
        careful_scale = np.zeros(int(low.sum()))
        careful = _rescale(_contract(comp, own[low], careful_scale), careful_scale)
        out = out.copy()
        out[low] = careful
        log_scale[low] = careful_scale
        flat = out.reshape(batch, -1)
    if comp.expand_shape == comp.full_shape:   # the component touches every target: already on the joint
        return flat, log_scale
    value = out.reshape(batch, -1)[:, comp.expand_index]   # onto the joint: each joint state picks its touched targets' entry
    return value, log_scale


def _contract(comp: Component, own: np.ndarray, log_scale: np.ndarray | None, observed: int = -1) -> np.ndarray:
    """Run the plan on the component's own lam rows; with ``log_scale`` given, rescale every message. On one
    row, ``observed`` (a bit mask of the node positions whose lam differs from all ones; default all) lets
    the steps no evidence reaches take the pass without evidence's values."""
    batch = own.shape[0]
    slots = list(comp.slots)
    for j in comp.lam_used:
        slots[comp.lam_start + j] = own[:, j, : comp.cards[j]]
    told = _told(comp) if observed != -1 and batch == 1 and log_scale is None and prior_pass_fits(comp) else None
    if told is not None:
        stack_below, step_below, prior = told
        for stack, below in zip(comp.leaf_stacks, stack_below):
            if not below & observed:
                for _, _, _, slot, _ in stack.groups:
                    slots[slot] = prior[slot]
                continue
            _leaf_messages(stack, own, slots)
        for step, below in zip(comp.steps, step_below):
            slots[step.output] = (step.run([slots[i] for i in step.inputs], 1) if below & observed
                                  else prior[step.output])
        return _clipped(slots[comp.result], _signed(comp))
    if log_scale is None:
        for stack in comp.leaf_stacks:   # every leaf message of one cardinality in one matmul
            _leaf_messages(stack, own, slots)
    else:
        for group in comp.leaf_groups:
            messages = np.matmul(own[:, group.positions, None, : group.card], group.matrices)   # (batch, n, 1, w)
            top = messages.max(axis=3, keepdims=True)
            top = np.where(top > 0, top, 1.0)
            log_scale += np.log(top).sum(axis=(1, 2, 3))
            messages = messages / top
            # One message at a time, rescaled after each: their product in one call loses a state whose share falls
            # 1e-308 below 1 on the way (two answers 1e-170 against it) though it ends beside the largest
            product = messages[:, 0]
            for k in range(1, messages.shape[1]):
                product = _rescale(product * messages[:, k], log_scale)
            slots[group.output] = product.reshape((batch, *group.shape))
    for step in comp.steps:
        out = step.run([slots[i] for i in step.inputs], batch)
        slots[step.output] = out if log_scale is None else _rescale(out, log_scale)
    return _clipped(slots[comp.result], _signed(comp))


def _leaf_messages(stack: LeafStack, own: np.ndarray, slots: list[np.ndarray | None]) -> None:
    """One leaf stack's messages into ``slots``: nodes first, one (batch, card) x (card, w) product per node,
    then each group's product in one call."""
    batch = own.shape[0]
    messages = np.matmul(own[:, stack.positions, : stack.card].transpose(1, 0, 2), stack.matrices)  # (n, batch, w)
    for start, stop, width, slot, shape in stack.groups:
        # A group's product, left to right as np.multiply.reduceat takes it, which along the first axis runs
        # several times slower than plain products (ALARM's 3 x 40 x 36 stack: 45 us against 7); from four
        # factors one reduce (the same order, in one call)
        if stop - start >= 4:
            message = np.multiply.reduce(messages[start:stop], axis=0)
        else:
            message = messages[start] if stop - start == 1 else messages[start] * messages[start + 1]
            if stop - start == 3:
                message *= messages[start + 2]
        slots[slot] = message[:, :width].reshape((batch, *shape))


def _clipped(out: np.ndarray | None, signed: bool = True) -> np.ndarray:
    """The plan's result clipped at zero (where some constant is ``signed``), C-ordered."""
    assert out is not None  # noqa: S101 - the plan always fills its last slot
    if not signed:   # sums of products of nonnegative numbers: nothing below zero to clip
        return out if out.flags.c_contiguous and out.flags.writeable else np.array(out, order="C")
    # Factorised noisy-ORs subtract; clip the rounding residue below an exact zero. A last step that only
    # reorders axes leaves a strided view: clipping into a fresh C-ordered array spares the copy every
    # caller's reshape would make.
    if out.flags.c_contiguous and out.flags.writeable:
        return np.maximum(out, 0.0, out=out)
    return np.maximum(out, 0.0, order="C")


# Per component: whether some constant of its plan is negative (a factorised noisy-OR subtracts).
_SIGNED: weakref.WeakKeyDictionary[Component, bool] = weakref.WeakKeyDictionary()


def _signed(comp: Component) -> bool:
    """Whether some constant of the component's plan is negative: only then can its value fall below zero.

    >>> import kneebayes
    >>> [_signed(comp) for comp in kneebayes.load_model().network.components]   # the knee's noisy-ORs, factorised
    [True, False]
    """
    found = _SIGNED.get(comp)
    if found is None:
        arrays = [*comp.slots, *(s.matrices for s in comp.leaf_stacks), *(g.matrices for g in comp.leaf_groups)]
        found = any(isinstance(a, np.ndarray) and a.size > 0 and bool(a.min() < 0.0) for a in arrays)
        _SIGNED[comp] = found
    return found


# Per component: which nodes flow into each leaf stack and each step, and every slot of the pass without
# evidence (read-only), for one evidence row's steps that no evidence reaches.
_TOLD: weakref.WeakKeyDictionary[Component, tuple[tuple[int, ...], tuple[int, ...], list[np.ndarray | None]]] = \
    weakref.WeakKeyDictionary()


def _told(comp: Component) -> tuple[tuple[int, ...], tuple[int, ...], list[np.ndarray | None]]:
    found = _TOLD.get(comp)
    if found is not None:
        return found
    below = {comp.lam_start + j: 1 << j for j in range(len(comp.cards))}
    stack_below = []
    for stack in comp.leaf_stacks:
        bits = 0
        for start, stop, _, slot, _ in stack.groups:
            group = 0
            for p in stack.positions[start:stop].tolist():
                group |= 1 << p
            below[slot] = group
            bits |= group
        stack_below.append(bits)
    step_below = []
    for step in comp.steps:
        bits = 0
        for i in step.inputs:
            bits |= below.get(i, 0)
        below[step.output] = bits
        step_below.append(bits)
    ones = np.ones((1, len(comp.cards), max(comp.cards, default=1)))
    prior: list[np.ndarray | None] = list(comp.slots)
    for j in comp.lam_used:
        prior[comp.lam_start + j] = ones[:, j, : comp.cards[j]]
    for stack in comp.leaf_stacks:
        _leaf_messages(stack, ones, prior)
        for *_, slot, _ in stack.groups:
            prior[slot] = np.ascontiguousarray(prior[slot])   # its own memory: kept, and made read-only below
    for step in comp.steps:
        prior[step.output] = step.run([prior[i] for i in step.inputs], 1)
    for slot in [*(g[3] for stack in comp.leaf_stacks for g in stack.groups), *(step.output for step in comp.steps)]:
        array = prior[slot]
        if array is not None:
            array.setflags(write=False)
    found = (tuple(stack_below), tuple(step_below), prior)
    _TOLD[comp] = found
    return found


def target_joint(net: CompiledNetwork, lam: np.ndarray, targets_observed: bool = True) -> TargetJoint:
    """Joint posterior of the enumerated targets and the log probability of the evidence.

    The product of the parts is formed in linear space (fast); a row whose
    largest entry falls below 1e-200 is recomputed in log space, so many
    findings never underflow into a false "impossible". Pass
    ``targets_observed=False`` when no target is in the evidence to skip
    their (all-ones) likelihoods.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
    >>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
    >>> tj = target_joint(net, lam)
    >>> tj.joint.shape, tj.joint.sum(axis=1).round(9).tolist()    # (batch, K): one distribution per row
    ((2, 64), [1.0, 1.0])
    >>> [round(float(p), 3) for p in np.exp(tj.log_evidence)]     # P(evidence): 1 with none
    [1.0, 0.053]
    """
    if net.bipartite is not None:
        return bipartite_queries.target_joint(net, lam)
    batch = lam.shape[0]
    q = net.base[None, :].copy() if batch == 1 else net.base * np.ones((batch, 1))   # a fresh (batch, K) array
    if net.enumerated and targets_observed:
        flat = lam[:, net.enumerated, :].reshape(batch, -1)
        q *= np.multiply.reduce(flat[:, net.joint_flat], axis=-1)
    # ufuncs' own reductions here and below: the ndarray methods' Python wrappers cost about a microsecond a
    # call, and one evidence row's query is a few dozen calls
    singles = []
    for group in net.singletons:
        values = np.matmul(lam[:, group.nodes, None, : group.card], group.tables)[:, :, 0, :]   # (batch, n, K)
        singles.append(values)
        q *= np.multiply.reduce(values, axis=1)
    comps, scales = [], []
    observed_all = np.logical_or.reduce(lam[0] != net.lam_template, axis=1) if batch == 1 else None
    # which components one evidence row reaches, where that may spare some (once: a diagnosis is a few dozen calls)
    reached = (net.membership @ observed_all).tolist() if batch == 1 and net.prunable else None
    untouched = _untouched(net)
    forwards: list[tuple[np.ndarray | None, ...] | None] = [None] * len(net.components)
    for c, comp in enumerate(net.components):
        if batch == 1:
            assert observed_all is not None  # noqa: S101 - made for one row
            value, scale, forwards[c] = _one_row(net, c, lam, observed_all, reached is None or bool(reached[c]),
                                                 untouched)
        elif _one_at_a_time(comp):
            # Each row through one row's paths, its bucket pass first, which the targets' marginals then reuse
            # (pruned rows planned each row's pattern, and the marginals their bucket pass again: MUNIN1, 20 rows,
            # 14 ms a row more than a loop of diagnoses)
            seen = np.logical_or.reduce(lam != net.lam_template, axis=2)      # (batch, nodes)
            found = [_one_row(net, c, lam[r : r + 1], seen[r], bool(seen[r, comp.nodes].any()), untouched)
                     for r in range(batch)]
            value = np.concatenate([v for v, _, _ in found])
            scale = np.concatenate([s for _, s, _ in found])
        elif comp.pruning is not None and comp.pruning.full_work >= ROW_PRUNE_WORK:
            value, scale = pruned_rows(net, comp, lam[:, comp.nodes, :])
        else:   # the batch's fixed plan costs less a row than one row's planning (HAILFINDER: 0.5 against 2 ms)
            value, scale = run_component(comp, lam, memory_budget=net.memory_budget)   # the full plan, which rescales
        comps.append(value)
        scales.append(scale)
        q *= value
    total = np.add.reduce(q, axis=1)
    if np.minimum.reduce(total) < 1e-200:   # some row is tiny: redo it in log space rather than trust an underflow
        return _target_joint_log(net, lam, singles, comps, scales)
    log_evidence = np.log(total)
    unscaled = untouched[1]
    for scale in scales:
        if scale is not unscaled:
            log_evidence += scale
    np.minimum(log_evidence, 0.0, out=log_evidence)   # a probability; rounding may land a hair above log 1
    q /= total[:, None]
    return TargetJoint(q, log_evidence, tuple(singles), tuple(comps), tuple(scales), tuple(forwards))


def rows_apart(net: CompiledNetwork) -> bool:
    """Whether a batch gives some component's rows one row's paths (a pruned component that touches no enumerated
    target, from ``ROW_PRUNE_WORK`` a row: ``target_joint``): each row's collect pass there is kept for that
    row's marginals only until the next row's, so a caller wanting both asks them row by row.

    >>> import kneebayes
    >>> rows_apart(kneebayes.load_model().network)     # the knee's components are small: batched
    False
    """
    return any(map(_one_at_a_time, net.components))


def _one_at_a_time(comp: Component) -> bool:
    """Whether a batch gives this component's rows one row's paths (see :func:`rows_apart`)."""
    return comp.pruning is not None and comp.pruning.full_work >= ROW_PRUNE_WORK and apart(comp)


def _one_row(net: CompiledNetwork, c: int, lam: np.ndarray, observed_all: np.ndarray, reached: bool,
             untouched: tuple[np.ndarray, np.ndarray]
             ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray | None, ...] | None]:
    """Component ``c``'s value (1, K) for one evidence row (``lam``, (1, nodes, max card); ``observed_all``: which
    nodes it answers; ``reached``: whether any of the component's), its log scale (1,), and its forward pass where
    one was run and kept for a ranking. ``untouched``: ``_untouched(net)``, the value and scale of a component
    the row leaves summing to one.

    A component the evidence does not reach sums to exactly 1 (unless a target's table lies in it), and a large
    one needs only the ancestors of its evidence (``inference.pruned``)."""
    comp = net.components[c]
    ones, unscaled = untouched
    if net.prunable:
        if comp.closed and not reached:
            return ones, unscaled, None      # nothing to multiply in
        if comp.pruning is not None and apart(comp):
            run = bucket_value(comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes],
                               targets_in_component(net, c), net.memory_budget / 8)
            if run is not None:
                return np.full((1, net.n_joint), run.value), np.full(1, run.log_scale), None
        if comp.pruning is not None:
            # (Here only: a component run forward keeps its pass for a ranking's sweep, which this would skip.)
            value = _one_answer(net, c, lam[0], observed_all)
            if value is None:
                value = pruned_value(comp, lam[:, comp.nodes, :], observed_all[comp.nodes], net.memory_budget / 8)
            if value is not None and value.max() >= TINY:
                return value, unscaled, None
            # Zero or underflowed: the same pattern's plan again, rescaled, before the whole component
            found = (None if value is None else
                     pruned_value_scaled(comp, lam[:, comp.nodes, :], observed_all[comp.nodes], net.memory_budget / 8))
            if found is not None:
                return found[0], np.full(1, found[1]), None
    if comp.forward_first and comp.gradient is not None:
        work = forward_pass(comp, lam[:, comp.nodes, :], _bits(observed_all[comp.nodes]))
        result = work[comp.gradient.result]
        assert result is not None  # noqa: S101 - the forward half fills its result slot
        value = result.reshape(1, -1)
        if subtracts(comp.gradient):
            value = np.maximum(value, 0.0)   # clip noisy-OR residue
        if value.max() >= TINY:   # else an underflow: the full plan below rescales
            if comp.expand_shape != comp.full_shape:
                value = value[:, comp.expand_index]
            return value, unscaled, tuple(work)   # kept as is: a later sweep copies before it writes
    value, scale = run_component(comp, lam, memory_budget=net.memory_budget, observed=_bits(observed_all[comp.nodes]))
    return value, scale, None


def prepare(net: CompiledNetwork) -> None:
    """Work out once, on load, what the first evidence set to reach each pruned component would pay for on its
    own: the component's variable labels and own elimination order, its tables with the targets' axes last
    and, where :func:`_one_answer` may use them, its nodes' joints with the targets without evidence (one
    sweep). None of it depends on the evidence. Pathfinder: 8 ms on load; its first calls, median of 20
    sets, 228-241 -> 166-189 us (the three sweeps alone took 1.2-4.4 ms of the calls that first needed them).
    Where a component's sweep would cost more than ``PRIOR_SWEEP_WORK`` it is not made.

    Every component's pass without evidence too, where it fits (its fixed plan's, and its gradient plan's
    forward half): the steps no answer reaches read it. Made on a component's first evidence row instead, it
    was half of that call where a model is loaded per query (INSURANCE, a new model per target set: first
    posteriors 2.1 -> 1.1 ms; ALARM 1.5 -> 0.8; Win95pts 2.7 -> 1.8).

    >>> import kneebayes
    >>> prepare(kneebayes.load_model().network)
    """
    for c, comp in enumerate(net.components):
        _signed(comp)
        if prior_pass_fits(comp):
            _told(comp)
        backward.prepare(comp)
        if comp.pruning is None:
            continue
        labels(comp.pruning, comp.cards)
        targets_last(comp.pruning)
        if _keeps_prior_joints(comp):
            _prior_joints(net, c)


#: The most a pruned component's sweep without evidence may cost to be kept for its one-answer patterns, in the
#: plans' work units (a multiply-add; a call counts ``CALL_WORK``): about 4 ms, paid on every load (a research
#: loop that builds a model per parameter draw pays it per draw). Pathfinder's components take 2.1e5-4.3e6
#: (0.4-3.7 ms), where a third of the patterns have one answer; HEPAR II's 2.6e7 (23 ms: its model built 17 -> 51
#: ms) and Win95pts' 1.5e7, where the evidence seldom answers one node of a component alone; a chain of
#: 10,000 nodes 9e7.
PRIOR_SWEEP_WORK = 5e6


def _keeps_prior_joints(comp: Component) -> bool:
    """Whether a pruned component's joints without evidence are kept: closed (no target's table in it, so its value
    without evidence is 1 and one answer's is that answer's probability), small enough to keep
    (``prior_pass_fits``) and quick enough to sweep once (``PRIOR_SWEEP_WORK``)."""
    grad = comp.gradient
    return (comp.closed and grad is not None and prior_pass_fits(comp)
            and grad.forward_work + grad.backward_work + (len(grad.forward) + len(grad.backward)) * CALL_WORK
            <= PRIOR_SWEEP_WORK)


def _prior_joints(net: CompiledNetwork, c: int) -> np.ndarray:
    """Every node's joint with the targets in closed component ``c`` without evidence, (1, nodes, max card, K),
    read-only: one sweep, kept beside the network (``component_sweep``'s memo)."""
    found = _derived(net).get(("prior joints", c))
    if not isinstance(found, tuple):
        comp = net.components[c]
        found = component_sweep(net, c, net.lam_template[None, comp.nodes], np.arange(len(comp.nodes)))
    return found[1]


def _one_answer(net: CompiledNetwork, c: int, row: np.ndarray, observed: np.ndarray) -> np.ndarray | None:
    """Component ``c``'s value (1, K) where one of its nodes is answered (``row``: one evidence row's likelihoods):
    that node's joint with the targets without evidence, weighed by its likelihood; no plan to build or run
    (Pathfinder, new evidence patterns: 200 -> 120 us a call). None where more nodes are answered or the
    joints are not kept (``_keeps_prior_joints``)."""
    comp = net.components[c]
    seen = np.flatnonzero(observed[comp.nodes])
    if len(seen) != 1 or not _keeps_prior_joints(comp):
        return None
    position = int(seen[0])
    card = comp.cards[position]
    return np.matmul(row[comp.nodes[position], :card], _prior_joints(net, c)[0, position, :card, :])[None, :]


def _bits(flags: np.ndarray) -> int:
    """A bit mask of the positions set in ``flags``."""
    bits = 0
    for p in np.flatnonzero(flags).tolist():
        bits |= 1 << p
    return bits


def _untouched(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray]:
    """A component's value where one evidence row leaves it summing to one, (1, K) ones, and the log scale
    of a value that needed no rescaling, (1,) zero: read-only, made once per network."""
    memo = _derived(net)
    found = memo.get("untouched")
    if isinstance(found, tuple):
        return found
    ones, zero = np.ones((1, net.n_joint)), np.zeros(1)
    ones.setflags(write=False)
    zero.setflags(write=False)
    memo["untouched"] = (ones, zero)
    return ones, zero


def apart(comp: Component) -> bool:
    """Whether a component touches no enumerated target: its value is one number, and its nodes are
    independent of the targets' joint."""
    return math.prod(comp.expand_shape) == 1


def targets_in_component(net: CompiledNetwork, c: int) -> np.ndarray:
    """The positions of a component's nodes that are targets (not enumerated): a diagnosis asks for their
    marginals next, so a pruned pass keeps their ancestors and its way back to them."""
    key = ("targets in component", c)
    memo = _derived(net)
    found = memo.get(key)
    if isinstance(found, np.ndarray):
        return found
    wanted = np.isin(net.components[c].nodes, net.targets)
    wanted.setflags(write=False)
    memo[key] = wanted
    return wanted


def pruned_rows(net: CompiledNetwork, comp: Component, own: np.ndarray,
                 all_or_none: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """A large component's value for a batch of its own rows, each row pruned to its own evidence's ancestors
    (barren nodes sum to one); a row that comes out zero or underflows runs its plan again, rescaled; the
    rows where pruning declines take the full plan together (which rescales), or with ``all_or_none``
    the answer is None as soon as one row would."""
    observed = (own != net.lam_template[comp.nodes]).any(axis=2)      # (batch, nodes)
    value = np.empty((own.shape[0], math.prod(comp.full_shape)))
    scale = np.zeros(own.shape[0])
    rest = []
    shared = Counter(row.tobytes() for row in observed)   # a clamped node's rows share one pattern, and its plan
    for r in range(own.shape[0]):
        row = pruned_value(comp, own[r : r + 1], observed[r], net.memory_budget / 8, shared[observed[r].tobytes()])
        if row is not None and row.max() < TINY:   # a state the evidence rules out, say (WATER: a third of clamps)
            found = pruned_value_scaled(comp, own[r : r + 1], observed[r], net.memory_budget / 8)
            row = None
            if found is not None:
                value[r], scale[r] = found[0][0], found[1]
                continue
        if row is None:
            if all_or_none:
                return None
            rest.append(r)
        else:
            value[r] = row[0]
    if rest:
        rows = np.array(rest, dtype=np.intp)
        value[rows], scale[rows] = run_component(comp, own, own[rows], memory_budget=net.memory_budget)
    return value, scale


def _target_joint_log(net: CompiledNetwork, lam: np.ndarray, singles: list[np.ndarray], comps: list[np.ndarray],
                      scales: list[np.ndarray]) -> TargetJoint:
    batch = lam.shape[0]
    comps, scales = _rescaled_where_lost(net, lam, comps, scales)
    with np.errstate(divide="ignore"):
        log_base = np.log(net.base) if net.log_base is None else net.log_base   # a product of priors may underflow
        log_q = np.repeat(log_base[None, :], batch, axis=0)
        if net.enumerated:
            flat = lam[:, net.enumerated, :].reshape(batch, -1)
            log_q += np.log(flat[:, net.joint_flat]).sum(axis=-1)   # summed: their product may underflow
        for values in singles:
            log_q += np.log(values).sum(axis=1)
        for value in comps:
            log_q += np.log(value)
    top = log_q.max(axis=1)
    possible = np.isfinite(top)
    shifted = np.where(possible[:, None], log_q - np.where(possible, top, 0.0)[:, None], -np.inf)
    q = np.exp(shifted)
    total = q.sum(axis=1)
    joint = np.divide(q, total[:, None], out=np.zeros_like(q), where=possible[:, None])
    log_evidence = np.where(possible, top + np.log(np.where(possible, total, 1.0)) + sum(scales), -np.inf)
    return TargetJoint(joint, log_evidence, tuple(singles), tuple(comps), tuple(scales))


def _rescaled_where_lost(net: CompiledNetwork, lam: np.ndarray, comps: list[np.ndarray], scales: list[np.ndarray]
                         ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The components' values again, rescaled at every step, for the rows whose plain pass may have lost a joint
    state: a value of zero or below TINY beside one above it. The plain pass keeps every entry to 1e-308 of its
    own, which is enough while P(evidence) is not tiny (an entry lost there weighs under 1e-108 in the
    posterior); here it is, and the other factors may favour that very state: four exact copies of a coin, two
    answered 1e-170 against heads and two against tails, gave one copy's value (5e-171, 0) for (5e-171, 5e-341),
    a posterior of 1 for 0.5. Rescaled, each entry keeps its digits to 1e-308 of its row's largest."""
    comps, scales = list(comps), list(scales)
    for c, (value, scale) in enumerate(zip(comps, scales)):
        tops = np.maximum.reduce(value, axis=1)
        lost = (scale == 0.0) & (tops >= TINY) & (np.minimum.reduce(value, axis=1) < TINY)
        if not lost.any():
            continue
        comp = net.components[c]
        rows = np.flatnonzero(lost)
        fresh_scale = np.zeros(len(rows))
        fresh = _rescale(_contract(comp, lam[rows][:, comp.nodes, :], fresh_scale), fresh_scale).reshape(len(rows), -1)
        if comp.expand_shape != comp.full_shape:
            fresh = fresh[:, comp.expand_index]
        comps[c], scales[c] = value.copy(), scale.copy()   # the caller's arrays (a shared one for untouched) stay
        comps[c][rows], scales[c][rows] = fresh, fresh_scale
    return comps, scales


# What the queries derive from a network and reuse (index layouts, prior joints), per network: kept beside
# the frozen network rather than in it, and dropped with it.
_DERIVED: weakref.WeakKeyDictionary[CompiledNetwork, dict[object, object]] = weakref.WeakKeyDictionary()


def _derived(net: CompiledNetwork) -> dict[object, object]:
    found = _DERIVED.get(net)
    if found is None:
        found = _DERIVED.setdefault(net, {})
    return found


def component_sweep(net: CompiledNetwork, c: int, own: np.ndarray, positions: np.ndarray,
           forward: Sequence[np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``component_joints`` for the nodes at ``positions``; remembered, for all nodes, for a closed component
    that no evidence reaches (it cannot change)."""
    comp = net.components[c]
    # target_joint keeps a forward pass only for a component it ran, which (where it can tell) evidence reached;
    # else the memo below is only missed, never wrong
    unreached = (forward is None and own.shape[0] == 1 and comp.closed
                 and bool((own[0] == net.lam_template[comp.nodes]).all()))
    if not unreached:
        wanted = 0
        for p in set(positions.tolist()):
            wanted |= 1 << p
        return component_joints(comp, own, wanted, forward)
    key = ("prior joints", c)
    memo = _derived(net)
    found = memo.get(key)
    if isinstance(found, tuple):
        return found
    result = component_joints(comp, own)
    for array in result:
        array.setflags(write=False)
    memo[key] = result
    return result
