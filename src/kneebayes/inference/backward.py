"""Every node's joint with the targets from one backward sweep of a component's plan.

See ``network.backward_plan``: ``lam_v[x] * dV[k] / d lam_v[x]`` is the
component's share of P(v = x, targets = k, evidence), for every node ``v``
of the component from one forward and one backward pass.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..network.compiled import Component

if TYPE_CHECKING:
    from ..network.backward_plan import GradientPlan
    from ..network.contraction import Einsum


def forward_pass(comp: Component, own: np.ndarray, observed: int = -1) -> list[np.ndarray | None]:
    """The forward half of a sweep: the gradient plan's forward slots filled for ``own``.

    ``work[plan.result]`` is the component's (unscaled) value over its
    targets; hand the list to ``component_joints`` to skip recomputing it.
    ``observed``, for one evidence row, is a bit mask of the node positions
    whose lam vectors differ from all ones (default: every node): a step
    with none of them below it takes its value from the pass without
    evidence, made once per component (read-only).

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode
    >>> net = kneebayes.load_model().network
    >>> comp = net.components[0]
    >>> work = forward_pass(comp, encode(net, [{}])[:, comp.nodes, :])
    >>> work[comp.gradient.result].shape[0]      # one batch row
    1
    """
    plan = comp.gradient
    assert plan is not None  # noqa: S101 - only called on components that have one
    batch = own.shape[0]
    work: list[np.ndarray | None] = [*plan.slots, *([None] * plan.n_slots), *plan.extras]
    for j, card in enumerate(plan.lam_cards):
        work[plan.lam_start + j] = own[:, j, :card]
    one = batch == 1
    if one and observed != -1 and prior_pass_fits(comp):
        prior = _prior(comp)
        for below, inputs, output, run in _one_row(plan)[0]:
            work[output] = run(*[work[i] for i in inputs]) if below & observed else prior[output]
        return work
    for step, direct in zip(plan.forward, plan.forward_direct):
        # order "C": "K" would inherit a view's strides, and every later plain loop over them crawls
        operands = [work[i] for i in step.inputs]
        work[step.output] = direct(*operands) if one and direct is not None else step.run(operands, batch, "C")
    return work


#: The most entries a component's pass without evidence may hold to be kept for reuse (8 MiB): it keeps
#: every slot, so on a large component (LINK's: 134M entries in one table) it would take gigabytes.
PRIOR_PASS_ENTRIES = 1 << 20


def prior_pass_fits(comp: Component) -> bool:
    """Whether the component's pass without evidence is small enough to keep (``PRIOR_PASS_ENTRIES``), so
    that one evidence row's steps no evidence reaches read it instead of running.

    >>> import kneebayes
    >>> prior_pass_fits(kneebayes.load_model().network.components[0])
    True
    """
    return comp.largest * (len(comp.steps) + len(comp.leaf_stacks) + 1) <= PRIOR_PASS_ENTRIES


def prepare(comp: Component) -> None:
    """Work out once, on load, what a component's first evidence row would otherwise pay for: its gradient
    plan's one-row steps and sign, and its forward pass without evidence where it fits (``prior_pass_fits``).
    None of it depends on the evidence.

    >>> import kneebayes
    >>> prepare(kneebayes.load_model().network.components[0])
    """
    plan = comp.gradient
    if plan is None:
        return
    subtracts(plan)
    _one_row(plan)
    if prior_pass_fits(comp):
        _prior(comp)


# Each component's forward slots without evidence, for the steps no evidence reaches (kept beside the frozen
# component, dropped with it).
_PRIORS: weakref.WeakKeyDictionary[Component, list[np.ndarray | None]] = weakref.WeakKeyDictionary()


def _prior(comp: Component) -> list[np.ndarray | None]:
    """The forward slots of one row without evidence (every lam vector all ones), read-only."""
    found = _PRIORS.get(comp)
    if found is not None:
        return found
    plan = comp.gradient
    assert plan is not None  # noqa: S101 - only called on components that have one
    ones = np.ones((1, len(plan.lam_cards), max(plan.lam_cards, default=1)))
    found = forward_pass(comp, ones)
    for step in plan.forward:
        array = found[step.output]
        if array is not None:
            array.setflags(write=False)
    _PRIORS[comp] = found
    return found


# Per gradient plan: whether some constant is negative (a factorised noisy-OR subtracts), and the seed of one
# row's backward pass (ones over the targets, read-only).
_SUBTRACTS: weakref.WeakKeyDictionary[GradientPlan, bool] = weakref.WeakKeyDictionary()
_ONES: weakref.WeakKeyDictionary[GradientPlan, np.ndarray] = weakref.WeakKeyDictionary()


def subtracts(plan: GradientPlan) -> bool:
    """Whether some constant of the plan is negative: only then can a result fall below zero (by rounding).

    >>> import kneebayes
    >>> subtracts(kneebayes.load_model().network.components[0].gradient)    # the knee's noisy-ORs, factorised
    True
    """
    found = _SUBTRACTS.get(plan)
    if found is None:
        found = any(isinstance(a, np.ndarray) and a.size > 0 and bool(a.min() < 0.0) for a in (*plan.slots, *plan.extras))
        _SUBTRACTS[plan] = found
    return found


def _ones(plan: GradientPlan) -> np.ndarray:
    found = _ONES.get(plan)
    if found is None:
        found = np.ones((1, *plan.seed_shape))
        found.setflags(write=False)
        _ONES[plan] = found
    return found


_OneRow = tuple[tuple[tuple[int, tuple[int, ...], int, Callable[..., np.ndarray]], ...],
                tuple[tuple[int, tuple[int, ...], int, int, int, Callable[..., Any]], ...]]
_ONE_ROW: weakref.WeakKeyDictionary[GradientPlan, _OneRow] = weakref.WeakKeyDictionary()


def _one_row(plan: GradientPlan) -> _OneRow:
    """The plan's steps on one evidence row as flat tuples, each with the one call that runs it: forward
    (below, inputs, output, run) and backward (below, inputs, output, share position or -1, its card, run;
    a share's run takes ``out=``). A sweep is dozens of calls of a few microseconds; reading each step's
    fields and choosing its call took a tenth of that."""
    found = _ONE_ROW.get(plan)
    if found is not None:
        return found

    def chained(step: Einsum) -> Callable[..., np.ndarray]:
        return lambda *operands: step.run(operands, 1, "C")

    def chained_into(step: Einsum) -> Callable[..., None]:
        return lambda *operands, out: step.run_into(operands, 1, out)

    forward = tuple((below, step.inputs, step.output, direct if direct is not None else chained(step))
                    for step, direct, below in zip(plan.forward, plan.forward_direct, plan.forward_below))
    backward = tuple((step.below, step.inputs, step.output, j, plan.lam_cards[j] if j >= 0 else 0,
                      direct if direct is not None else (chained(step) if j < 0 else chained_into(step)))
                     for step, j, direct in zip(plan.backward, plan.shares, plan.backward_direct))
    found = (forward, backward)
    _ONE_ROW[plan] = found
    return found


def component_joints(comp: Component, own: np.ndarray, wanted: int = -1,
                     forward: Sequence[np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The component's value (batch, K) and, per node, its share of the joint with the targets.

    Returns ``value`` and ``shares`` of shape (batch, nodes, max card, K):
    ``shares[:, n, x, k]`` sums, over everything in the component, the
    product with node n fixed to state x, so ``shares[:, n].sum(axis=1)``
    equals ``value`` for every n. Values are not rescaled: the caller
    checks ``value`` for underflow and falls back to clamping. ``wanted``
    is a bit mask of the node positions whose shares are needed (default
    all); backward steps that lead only to other nodes are skipped, and
    those nodes' shares are left zero. ``forward``, from ``forward_pass``
    on the same ``own``, saves running the forward half again.

    >>> import numpy as np, kneebayes
    >>> from kneebayes.inference.posterior import encode, run_component
    >>> net = kneebayes.load_model().network
    >>> comp = net.components[0]
    >>> lam = encode(net, [{}])
    >>> value, shares = component_joints(comp, lam[:, comp.nodes, :])
    >>> value.shape, shares.shape      # (batch, K) and (batch, nodes, max card, K)
    ((1, 64), (1, 13, 2, 64))
    >>> bool(np.allclose(shares.sum(axis=2), value[:, None, :]))    # each node's shares add up to the value
    True
    >>> bool(np.allclose(value, run_component(comp, lam)[0]))      # the forward plan's value
    True
    """
    plan = comp.gradient
    assert plan is not None  # noqa: S101 - only called on components that have one
    batch = own.shape[0]
    work = forward_pass(comp, own) if forward is None else list(forward)   # a copy: the caller's stays clean
    value = work[plan.result]
    work[plan.grad_slot(plan.result)] = _ones(plan) if batch == 1 else np.ones((batch, *plan.seed_shape))
    k_local = math.prod(plan.seed_shape)
    width = own.shape[2]
    cards = plan.lam_cards
    shaped = np.zeros((batch, len(cards), width, *plan.seed_shape))
    one = batch == 1
    if one:
        for below, inputs, output, j, card, run in _one_row(plan)[1]:
            if below & wanted:
                if j < 0:
                    work[output] = run(*[work[i] for i in inputs])
                else:   # node j's share, straight into its place
                    run(*[work[i] for i in inputs], out=shaped[:, j, :card])
    else:
        for step, j, direct in zip(plan.backward, plan.shares, plan.backward_direct):
            if step.below & wanted:
                operands = [work[i] for i in step.inputs]
                if j < 0:
                    work[step.output] = step.run(operands, batch, "C")
                elif direct is not None:   # node j's share, straight into its place
                    direct(*operands, out=shaped[:, j, : cards[j]])
                else:
                    step.run_into(operands, batch, shaped[:, j, : cards[j]])
    shares = shaped.reshape(batch, len(cards), width, k_local)
    for j in plan.unfused:
        grad = work[plan.grad_slot(plan.lam_start + j)]
        if grad is None:
            continue     # not wanted
        card = cards[j]
        shares[:, j, :card, :] = own[:, j, :card, None] * grad.reshape(batch, card, k_local)
    if subtracts(plan):
        np.maximum(shares, 0.0, out=shares)   # factorised noisy-ORs subtract: clip rounding residue below zero
        value = np.maximum(value.reshape(batch, k_local), 0.0)
    else:   # sums of products of nonnegative numbers: nothing to clip
        value = value.reshape(batch, k_local)
    if comp.expand_shape != comp.full_shape:
        full = math.prod(comp.full_shape)
        value = np.broadcast_to(value.reshape(batch, *comp.expand_shape), (batch, *comp.full_shape)).reshape(batch, full)
        shares = np.broadcast_to(shares.reshape(batch, len(plan.lam_cards), width, *comp.expand_shape),
                                 (batch, len(plan.lam_cards), width, *comp.full_shape)).reshape(batch, len(plan.lam_cards), width, full)
    return value, shares
