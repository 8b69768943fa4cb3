"""Exact posteriors over a compiled network: pure functions, batch-first.

``lam`` is the encoded evidence, shape ``(batch, n_nodes, max_card)``:
a likelihood vector per node (all ones where the node is unobserved,
one-hot where it is observed). Everything is computed in log space where
products of many small numbers could underflow.

The order of a query: :func:`encode` the evidence, :func:`target_joint`
once, then :func:`marginals` (or :func:`joint_with_targets`) for the nodes
wanted, reusing that joint. ``Model.marginals`` does the same by node id:

>>> import kneebayes
>>> model = kneebayes.load_model()
>>> net = model.network
>>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
>>> lam = encode(net, [{locking: net.state_index[locking]["yes"]}])
>>> p = marginals(net, lam, target_joint(net, lam), [meniscus])[meniscus][0]
>>> round(float(p[0]), 3), round(model.marginals({"locking_or_catching": "yes"})["meniscal_injury"]["yes"], 3)
(0.784, 0.784)
"""

from __future__ import annotations

import math
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SettingError, quote
from ..network.backward_plan import CALL_WORK
from ..network.compiled import CompiledNetwork, Component, LeafStack
from ..network.pruned_plan import ROW_PRUNE_WORK, labels, targets_last
from . import backward, bipartite_queries
from .backward import component_joints, forward_pass, prior_pass_fits, subtracts
from .joint import TargetJoint
from .pruned import (
    HIDDEN_UNDERFLOW,
    bucket_joints,
    bucket_marginals,
    bucket_value,
    clamped_work,
    pattern_work,
    pruned_value,
    pruned_value_scaled,
    release,
)


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


_TINY = 1e-250
_SHIFT_IN_LOGS = 600.0       # a clamp's scale this far (in logs) below its component's is applied in log space


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
    if np.minimum.reduce(tops) < _TINY:
        low = tops < _TINY
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
            slots[group.output] = (messages / top).prod(axis=1).reshape((batch, *group.shape))
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
    # One evidence set: a component it does not reach sums to exactly 1 (unless a
    # target's table lies in it), and a large one needs only the ancestors of its
    # evidence (inference.pruned).
    observed_all = np.logical_or.reduce(lam[0] != net.lam_template, axis=1) if batch == 1 else None
    observed = observed_all if net.prunable else None
    reached = (net.membership @ observed).tolist() if observed is not None else None
    forwards: list[tuple[np.ndarray | None, ...] | None] = [None] * len(net.components)
    ones, unscaled = _untouched(net)
    for c, comp in enumerate(net.components):
        if reached is not None:
            if comp.closed and not reached[c]:
                comps.append(ones)      # nothing to multiply in
                scales.append(unscaled)
                continue
            if comp.pruning is not None and _apart(comp):
                run = bucket_value(comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes], _wanted(net, c),
                                   net.memory_budget / 8)
                if run is not None:
                    value = np.full((1, q.shape[1]), run.value)
                    comps.append(value)
                    scales.append(np.full(1, run.log_scale))
                    q *= value
                    continue
            if comp.pruning is not None:
                # (Here only: a component run forward keeps its pass for a ranking's sweep, which this would skip.)
                value = _one_answer(net, c, lam[0], observed)
                if value is None:
                    value = pruned_value(comp, lam[:, comp.nodes, :], observed[comp.nodes], net.memory_budget / 8)
                if value is not None and value.max() >= _TINY:
                    comps.append(value)
                    scales.append(unscaled)
                    q *= value
                    continue
                # Zero or underflowed: the same pattern's plan again, rescaled, before the whole component
                found = (None if value is None else
                         pruned_value_scaled(comp, lam[:, comp.nodes, :], observed[comp.nodes], net.memory_budget / 8))
                if found is not None:
                    comps.append(found[0])
                    scales.append(np.full(1, found[1]))
                    q *= found[0]
                    continue
        if batch == 1 and comp.forward_first and comp.gradient is not None:
            assert observed_all is not None  # noqa: S101 - made for one row
            work = forward_pass(comp, lam[:, comp.nodes, :], _bits(observed_all[comp.nodes]))
            result = work[comp.gradient.result]
            assert result is not None  # noqa: S101 - the forward half fills its result slot
            value = result.reshape(1, -1)
            if subtracts(comp.gradient):
                value = np.maximum(value, 0.0)   # clip noisy-OR residue
            if value.max() >= _TINY:   # else an underflow: the full plan below rescales
                if comp.expand_shape != comp.full_shape:
                    value = value[:, comp.expand_index]
                forwards[c] = tuple(work)   # kept as is: a later sweep copies before it writes
                comps.append(value)
                scales.append(unscaled)
                q *= value
                continue
        if batch > 1 and comp.pruning is not None and comp.pruning.full_work >= ROW_PRUNE_WORK:
            value, scale = _pruned_rows(net, comp, lam[:, comp.nodes, :])
        elif batch == 1:
            assert observed_all is not None  # noqa: S101 - made for one row
            value, scale = run_component(comp, lam, memory_budget=net.memory_budget,
                                         observed=_bits(observed_all[comp.nodes]))
        else:
            value, scale = run_component(comp, lam, memory_budget=net.memory_budget)   # the full plan, which rescales
        comps.append(value)
        scales.append(scale)
        q *= value
    total = np.add.reduce(q, axis=1)
    if np.minimum.reduce(total) < 1e-200:   # some row is tiny: redo it in log space rather than trust an underflow
        return _target_joint_log(net, lam, singles, comps, scales)
    log_evidence = np.log(total)
    for scale in scales:
        if scale is not unscaled:
            log_evidence += scale
    np.minimum(log_evidence, 0.0, out=log_evidence)   # a probability; rounding may land a hair above log 1
    q /= total[:, None]
    return TargetJoint(q, log_evidence, tuple(singles), tuple(comps), tuple(scales), tuple(forwards))


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
    read-only: one sweep, kept beside the network (``_sweep``'s memo)."""
    found = _derived(net).get(("prior joints", c))
    if not isinstance(found, tuple):
        comp = net.components[c]
        found = _sweep(net, c, net.lam_template[None, comp.nodes], np.arange(len(comp.nodes)))
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


def _apart(comp: Component) -> bool:
    """Whether a component touches no enumerated target: its value is one number, and its nodes are
    independent of the targets' joint."""
    return math.prod(comp.expand_shape) == 1


def _wanted(net: CompiledNetwork, c: int) -> np.ndarray:
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


def _pruned_rows(net: CompiledNetwork, comp: Component, own: np.ndarray,
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
        if row is not None and row.max() < _TINY:   # a state the evidence rules out, say (WATER: a third of clamps)
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
    with np.errstate(divide="ignore"):
        log_q = np.repeat(np.log(net.base)[None, :], batch, axis=0)
        if net.enumerated:
            flat = lam[:, net.enumerated, :].reshape(batch, -1)
            log_q += np.log(flat[:, net.joint_flat].prod(axis=-1))
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


# What the queries derive from a network and reuse (index layouts, prior joints), per network: kept beside
# the frozen network rather than in it, and dropped with it.
_DERIVED: weakref.WeakKeyDictionary[CompiledNetwork, dict[object, object]] = weakref.WeakKeyDictionary()


def _derived(net: CompiledNetwork) -> dict[object, object]:
    found = _DERIVED.get(net)
    if found is None:
        found = _DERIVED.setdefault(net, {})
    return found


def _layout(net: CompiledNetwork, nodes: tuple[int, ...]) -> _Layout:
    memo = _derived(net)
    found = memo.get(nodes)
    if isinstance(found, _Layout):
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
        unit = _per_unit(tj.joint[:, None, :], values if pos is None else values[:, pos, :])   # (batch, m, K)
        terms *= unit[:, :, None, :]
        out[:, rows, :width, :] = terms
    if layout.comps:
        possible = lam != 0.0                                   # (batch, nodes, max card): states each node may take
        counts = np.add.reduce(possible, axis=2)
        answered = counts[0] == 1 if batch == 1 else (counts == 1).all(axis=0)   # one state left in every row
    for (c, n_clamps, n_idx, p_idx, x_idx), (v_idx, last) in zip(layout.comps, layout.clamped):
        comp = net.components[c]
        own = lam[:, comp.nodes, :]
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
        buckets = batch == 1 and comp.pruning is not None and _apart(comp)
        if buckets and _by_buckets(net, c, own, tj, out, (n_idx, p_idx, x_idx)):
            continue   # one collect pass over the evidence's ancestors, and the way back to these nodes
        if (batch == 1 and method == "auto" and comp.pruning is not None and not buckets
                and _by_target_buckets(net, c, own, tj, out, (n_idx, p_idx, x_idx))):
            continue   # the same with the targets' axes kept: the evidence cut out of every table both ways
        prunes = comp.pruning is not None and comp.pruning.full_work >= ROW_PRUNE_WORK
        found = None
        if prunes and batch == 1 and method != "sweep" and _prune_clamps(net, comp, own, p_idx, n_clamps):
            found = _pruned_rows(net, comp, _clamped(own, n_clamps, p_idx, x_idx), all_or_none=True)
        if found is not None:   # each clamp pruned to its own ancestors: far less than a sweep of the whole component
            _put_clamped(out, found, tj, c, n_idx, x_idx, batch, n_clamps, K)
            continue
        # The choice counts every clamp: with a node's last state taken as its complement a clamped pass has
        # fewer rows, but its fixed costs grow too (CHILD's sweep stayed faster where the rows alone said not).
        sweep = method == "sweep" or (method == "auto" and comp.gradient is not None and comp.gradient.worth_it(n_clamps))
        if sweep and comp.gradient is not None:
            value, shares = _sweep(net, c, own, p_idx, tj.forwards[c] if tj.forwards else None)
            wanted = shares[:, p_idx, x_idx, :]
            # Else an underflow: clamp, with rescaling, below. Below HIDDEN_UNDERFLOW a share that came out
            # zero may be one that underflowed yet is a posterior above 1e-300: clamped too.
            top = value.max()
            lowest = top if batch == 1 else value.max(axis=1).min()   # the smallest row's largest entry
            if lowest >= _TINY and (top >= HIDDEN_UNDERFLOW or wanted.all()):
                out[:, n_idx, x_idx, :] = wanted * _per_unit(tj.joint, value)[:, None, :]
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
            found = _pruned_rows(net, comp, rows)
            assert found is not None  # noqa: S101 - declined rows take the full plan
        else:
            found = run_component(comp, lam, rows, net.memory_budget)
        _put_clamped(out, found, tj, c, n_idx, x_idx, batch, n_clamps, K)
    return out


def _prunable(comp: Component) -> bool:
    """Whether one evidence row may take a pruned path through this component (those paths decide there)."""
    return comp.pruning is not None and (_apart(comp) or comp.pruning.full_work >= ROW_PRUNE_WORK)


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
    value, shares = _sweep(net, c, own, opened, tj.forwards[c] if tj.forwards else None)
    top = float(np.maximum.reduce(value, axis=None))   # the ufunc itself: ndarray.max's Python wrapper costs more here
    if top < _TINY or (top < HIDDEN_UNDERFLOW and not shares[0, opened, x_idx[open_]].all()):
        return False   # an underflow, or a share that may have underflowed: clamping rescales
    answered = p_idx[single] if single is not None else ()
    if len(answered):   # states with zero likelihood have zero shares already; an answered node's are its value's
        if not shares.flags.writeable:
            shares = shares.copy()
        shares[0, answered] = possible[comp.nodes[answered], :, None] * value[0]
    out[0, n_idx, x_idx, :] = shares[0, p_idx, x_idx, :] * _per_unit(tj.joint, value)
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
    for position, count in zip(nodes.tolist(), clamps.tolist()):
        pattern = observed.copy()
        pattern[position] = True
        total += count * (PLAIN_LOOP_FACTOR * pattern_work(comp, pattern, net.memory_budget / 8) + CLAMP_ROW_WORK)
        if 2.0 * total >= other:
            return False
    return True


def _by_buckets(net: CompiledNetwork, c: int, own: np.ndarray, tj: TargetJoint, out: np.ndarray,
                clamps: tuple[np.ndarray, np.ndarray, np.ndarray], than: float | None = None) -> bool:
    """One evidence row's clamps of component ``c`` (a component apart from the targets) from one bucket pass
    and its way back, written into ``out``; False (nothing written) where the pass is declined (weighed
    against one run of the fixed plan, or ``than``) or its value underflows."""
    comp = net.components[c]
    n_idx, p_idx, x_idx = clamps
    wanted = _wanted(net, c).copy()
    wanted[p_idx] = True
    run = bucket_value(comp, own, net.lam_template[comp.nodes], wanted, net.memory_budget / 8, than)
    if run is None:
        return False
    found = bucket_marginals(run, set(p_idx.tolist()), comp.cards)
    release(comp, run)
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
    unit = _per_unit(tj.joint, tj.component_values[c])
    if scale.any() or tj.component_scales[c].any():
        shift = scale.reshape(batch, n_clamps) - tj.component_scales[c][:, None]
        if shift.min() < -_SHIFT_IN_LOGS:
            # The shift and the per-unit posterior meet in log space: a clamp rescaled from 1e-500 times a
            # per-unit of 1e200 is a posterior of 1e-300, though its value at the unclamped scale underflows.
            with np.errstate(divide="ignore"):
                out[:, n_idx, x_idx, :] = values * np.exp(shift[:, :, None] + np.log(unit)[:, None, :])
            return
        values = values * np.exp(shift)[:, :, None]
    out[:, n_idx, x_idx, :] = values * unit[:, None, :]


def _per_unit(joint: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``joint / value`` (0 where the value is 0): the posterior per unit of a component's value, so a
    clamped value times it is that clamp's joint with the targets. One (batch, K) division instead of
    one per clamp."""
    return np.divide(joint, value, out=np.zeros(value.shape), where=value > 0)   # value has the full shape


def _sweep(net: CompiledNetwork, c: int, own: np.ndarray, positions: np.ndarray,
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


def node_target_joints(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Iterable[int]) -> dict[int, np.ndarray]:
    """P(node = x, targets = k | evidence) for each node: arrays of shape (batch, K, card).

    >>> import kneebayes
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
    >>> net = kneebayes.load_model().network
    >>> locking, meniscus = net.index["locking_or_catching"], net.index["meniscal_injury"]
    >>> lam = encode(net, [{}, {locking: net.state_index[locking]["yes"]}])   # no answers; locking yes
    >>> marginals(net, lam, target_joint(net, lam), [meniscus])[meniscus].round(3).tolist()
    [[0.114, 0.886], [0.784, 0.216]]
    """
    nodes = list(nodes)
    stack = np.clip(joint_with_targets(net, lam, tj, nodes).sum(axis=3), 0.0, 1.0)  # rounding may pass 1
    return {v: stack[:, n, : net.cards[v]] for n, v in enumerate(nodes)}
