"""A component's elimination plan run backwards: every node's joint with the targets in one sweep.

A component's value on the targets, ``V[k] = sum over its nodes of the
product of its factors and likelihood vectors``, is linear in each node's
likelihood vector ``lam_v``. So ``dV[k] / d lam_v[x]`` is the sum of that
product with ``v`` fixed to ``x`` and ``lam_v`` left out, and
``lam_v[x] * dV[k] / d lam_v[x]`` is the component's share of
P(v = x, targets = k, evidence). Reverse-mode differentiation of the
plan's ``einsum`` steps gives that for every node at once, at a few times
the cost of one forward pass, where clamping each state of each node costs
one forward pass per state (Darwiche's differential approach; it is what a
junction tree's collect-and-distribute computes).

Targets are never summed out, so a gradient only needs the targets'
diagonal: each gradient carries its slot's own axes plus the component's
targets, and the seed at the result is ones over the targets.

This module compiles the backward plan once per component; running it is
``inference.backward``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .contraction import BATCH_PATH_WORK, Einsum, flops, plain_einsum, plan_einsum, stand_in

LETTERS = "bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"   # einsum axis letters; 'a' is the batch axis
CALL_WORK = 3000.0   # one einsum call's fixed cost, in multiply-adds of its inner loop (measured: ~4 us vs ~1.3 ns)
# Clamping's own fixed cost: copying the evidence once per clamp, re-scaling, taking ratios (~30 us;
# measured on the five classic networks, where a sweep of a two- or three-node component took 13-36 us
# and clamping it 25-120 us).
CLAMP_WORK = 22_500.0


@dataclass(frozen=True, eq=False)
class GradientPlan:
    """Forward steps that depend on the evidence, and their backward steps.

    Slots hold the forward values (constants filled in, compile-time folded
    steps included); gradient slots are numbered ``n_slots + slot``.
    """

    slots: tuple[np.ndarray | None, ...]
    lam_start: int
    lam_cards: tuple[int, ...]
    forward: tuple[Einsum, ...]
    backward: tuple[Einsum, ...]     # in reverse order; each fills one gradient slot
    result: int
    seed_shape: tuple[int, ...]      # the targets' cards (the result's axes after the batch)
    n_slots: int
    extras: tuple[np.ndarray, ...] = ()            # constant operands of backward steps, slots 2 * n_slots...
    # Per backward step: the node position j whose share it writes (its lam vector is an operand, so the
    # step gives lam_j * dV / d lam_j directly), or -1 for a gradient kept in a slot.
    shares: tuple[int, ...] = ()
    unfused: tuple[int, ...] = ()   # the node positions whose shares are their gradient slot times lam
    # Per forward and backward step: for one that runs as one plain einsum on one batch row, that call
    # with its subscripts bound (``Einsum.run``'s dispatch costs about half a microsecond, on steps of two
    # to five); None for a step that runs there as a chain of products.
    forward_direct: tuple[Callable[..., np.ndarray] | None, ...] = ()
    backward_direct: tuple[Callable[..., np.ndarray] | None, ...] = ()
    # Per forward step: bit j set when node j's lam vector flows into it. A step with no evidence below it
    # gives what it gives with none (``inference.backward`` keeps that once per component).
    forward_below: tuple[int, ...] = ()
    forward_work: float = 0.0                      # estimated cost of one forward pass, per batch row (see _work)
    backward_work: float = 0.0                     # the same for the backward pass

    def worth_it(self, n_clamps: int) -> bool:
        """Whether one forward and backward sweep is estimated to beat ``n_clamps`` clamped forward passes."""
        calls = len(self.forward) * CALL_WORK
        return (self.forward_work + self.backward_work + len(self.backward) * CALL_WORK
                < n_clamps * self.forward_work + calls + CLAMP_WORK)

    def grad_slot(self, slot: int) -> int:
        """Where the gradient of forward slot ``slot`` is kept in the sweep's work list."""
        return self.n_slots + slot


def _sub(vars_: Sequence[int], letter: dict[int, str], batch: bool) -> str:
    return ("a" if batch else "") + "".join(letter[v] for v in vars_)


def _work(subscripts: str, shapes: Sequence[tuple[int, ...]], path: tuple[Any, ...] | None) -> float:
    """Multiply-adds of one einsum: its joint index space times its operands (or the pairwise order's count)."""
    if path is not None:
        best = flops(np.einsum_path(subscripts, *[stand_in(s) for s in shapes], optimize=list(path))[1],
                     "Optimized FLOP count")
        if best is not None:
            return best / 2
    dims: dict[str, int] = {}
    for sub, shape in zip(subscripts.split("->")[0].split(","), shapes):
        dims.update(zip(sub, shape))
    return float(math.prod(dims.values())) * len(shapes)


def _direct(step: Einsum, **options: str) -> Callable[..., np.ndarray] | None:
    """The plain einsum a step runs on one batch row, with its subscripts and ``options`` bound; None for a
    step that runs there as a chain of products or in greedy's order."""
    if step.path is None and not _chained(step):
        return functools.partial(plain_einsum, step.subscripts, **options)
    return None


def _chained(step: Einsum) -> bool:
    """Whether ``step`` runs as a chain of products on one batch row."""
    return step.program is not None or (step.batch_program is not None and step.naive_work >= BATCH_PATH_WORK)


def _backward_step(joined: Sequence[int], g_out: tuple[int, ...], g_in: tuple[int, ...],
                   slot_vars: dict[int, tuple[tuple[int, ...], bool]], cards: Sequence[int],
                   slots: tuple[int, int, int], below: int, max_entries: float
                   ) -> tuple[Einsum, str, list[tuple[int, ...]], np.ndarray | None] | None:
    """The backward step from the output's gradient (variables ``g_out``) and the ``joined`` slots to an
    input's gradient (``g_in``); with ``slots`` = (the output's gradient slot, the input's gradient slot,
    the next extras slot). Returns it with its subscripts, operand shapes and the ones operand it needs
    (or None); None past ``max_entries`` or einsum's letters."""
    covered = set(g_out) | {v for j in joined for v in slot_vars[j][0]}
    missing = tuple(v for v in g_in if v not in covered)
    operands = [(g_out, True)] + [slot_vars[j] for j in joined]
    inputs = [slots[0], *joined]
    ones = None
    if missing:
        # The input's own axes summed with nothing else: its gradient is constant along them.
        operands.append((missing, False))
        inputs.append(slots[2])
        ones = np.ones(tuple(cards[v] for v in missing))
    involved = sorted(covered | set(g_in))
    if len(involved) > len(LETTERS) or math.prod(cards[v] for v in involved) > max_entries:
        return None
    letter = {v: LETTERS[n] for n, v in enumerate(involved)}
    subscripts = ",".join(_sub(vs, letter, b) for vs, b in operands) + "->" + _sub(g_in, letter, True)
    shapes = [((1,) if b else ()) + tuple(cards[v] for v in vs) for vs, b in operands]
    return plan_einsum(inputs, subscripts, slots[1], shapes, below), subscripts, shapes, ones


def compile_gradient(consts: Sequence[np.ndarray], observable: Sequence[int], cards: Sequence[int],
                     steps: Sequence[Any], slot_vars: dict[int, tuple[tuple[int, ...], bool]],
                     targets: Sequence[int], max_entries: float = math.inf) -> GradientPlan | None:
    """The forward and backward plan of one component from its elimination ``steps``.

    ``steps`` are the component's plain elimination steps (inputs, output);
    ``slot_vars`` the variables of every slot; ``targets`` the component's
    kept targets, in the order of its result axes. None when some
    backward step (which carries the targets too) would join more than
    ``max_entries`` entries or more variables than einsum has letters:
    the component is then clamped instead.
    """
    n_consts, n_lam = len(consts), len(observable)
    n_slots = n_consts + n_lam + len(steps)
    slots: list[np.ndarray | None] = [None] * n_slots
    slots[:n_consts] = list(consts)
    constant = set(range(n_consts))
    targets = tuple(targets)

    def shape(slot: int, batch: bool = True) -> tuple[int, ...]:
        vars_, has_b = slot_vars[slot]
        return ((1,) if has_b and batch else ()) + tuple(cards[v] for v in vars_)

    def grad_vars(slot: int) -> tuple[int, ...]:
        vars_ = slot_vars[slot][0]
        return vars_ + tuple(t for t in targets if t not in vars_)

    forward: list[Einsum] = []
    forward_work = backward_work = 0.0
    below = {n_consts + j: 1 << j for j in range(n_lam)}   # slot -> the nodes whose lam vectors flow into it
    for step in steps:
        in_vars = [slot_vars[i] for i in step.inputs]
        out_vars, out_b = slot_vars[step.output]
        involved = sorted({v for vs, _ in in_vars for v in vs})
        if len(involved) > len(LETTERS):
            return None
        letter = {v: LETTERS[n] for n, v in enumerate(involved)}
        subscripts = ",".join(_sub(vs, letter, b) for vs, b in in_vars) + "->" + _sub(out_vars, letter, out_b)
        if all(i in constant for i in step.inputs):
            # No evidence reaches this step (a noisy-OR's hidden variable): do it now, once.
            slots[step.output] = np.einsum(subscripts, *[slots[i] for i in step.inputs])
            constant.add(step.output)
            continue
        shapes = [shape(i) for i in step.inputs]
        planned = plan_einsum(step.inputs, subscripts, step.output, shapes)
        forward.append(planned)
        below[step.output] = 0
        for i in step.inputs:
            below[step.output] |= below.get(i, 0)
        forward_work += _work(subscripts, shapes, planned.path)

    backward: list[Einsum] = []
    shares: list[int] = []
    extras: list[np.ndarray] = []      # constant ones operands some backward steps need, slots 2 * n_slots...
    for step in reversed(forward):
        for k, i in enumerate(step.inputs):
            if i in constant:
                continue   # no gradient needed: nothing upstream depends on the evidence
            others = [j for n, j in enumerate(step.inputs) if n != k]
            g_out = grad_vars(step.output)
            g_in = grad_vars(i)
            # A node's lam vector: its gradient is wanted only times lam itself (its share), so lam joins the
            # step (one operand more, where a separate product costs a call and a copy) unless that moves a
            # single row's step from the plain loop onto a chain of products (slower at that size).
            share = n_consts <= i < n_consts + n_lam and not set(slot_vars[i][0]) & set(targets)
            found = _backward_step([*others, i] if share else others, g_out, g_in, slot_vars, cards,
                                   (n_slots + step.output, n_slots + i, 2 * n_slots + len(extras)), below[i], max_entries)
            if share and (found is None or _chained(found[0])):
                unfused = _backward_step(others, g_out, g_in, slot_vars, cards,
                                         (n_slots + step.output, n_slots + i, 2 * n_slots + len(extras)), below[i],
                                         max_entries)
                if found is None or (unfused is not None and not _chained(unfused[0])):
                    found, share = unfused, False
            if found is None:
                return None
            planned, subscripts, shapes, ones = found
            if ones is not None:
                extras.append(ones)
            backward.append(planned)
            shares.append(i - n_consts if share else -1)
            backward_work += _work(subscripts, shapes, planned.path)

    result = forward[-1].output if forward else n_slots - 1
    return GradientPlan(
        slots=tuple(slots), lam_start=n_consts, lam_cards=tuple(cards[v] for v in observable),
        forward=tuple(forward), backward=tuple(backward), result=result,
        seed_shape=tuple(cards[t] for t in targets), n_slots=n_slots,
        extras=tuple(extras), shares=tuple(shares),
        unfused=tuple(j for j in range(n_lam) if j not in shares),
        # order "C": "K" would inherit a view's strides, and every later plain loop over them crawls; a
        # share step writes into its place (out=)
        forward_direct=tuple(_direct(step, order="C") for step in forward),
        backward_direct=tuple(_direct(step) if j >= 0 else _direct(step, order="C") for step, j in zip(backward, shares)),
        forward_below=tuple(below[step.output] for step in forward),
        forward_work=forward_work, backward_work=backward_work,
    )
