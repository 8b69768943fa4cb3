"""Exact posteriors over a compiled network: pure functions, batch-first.

``lam`` is the encoded evidence, shape ``(batch, n_nodes, max_card)``:
a likelihood vector per node (all ones where the node is unobserved,
one-hot where it is observed). Everything is computed in log space where
products of many small numbers could underflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..network.compiled import CompiledNetwork, Component


def encode(net: CompiledNetwork, evidence: Sequence[Mapping[int, int]]) -> np.ndarray:
    """Likelihood vectors for a batch of evidence sets given as {node index: state index}."""
    lam = np.repeat(net.lam_template[None, :, :], len(evidence), axis=0) if len(evidence) != 1 else net.lam_template[None].copy()
    for b, ev in enumerate(evidence):
        for node, state in ev.items():
            row = lam[b, node]
            row[:] = 0.0
            row[state] = 1.0
    return lam


_TINY = 1e-250


def _rescale(x: np.ndarray, log_scale: np.ndarray) -> np.ndarray:
    """Divide each batch row by its largest entry, adding its log to ``log_scale`` (in place)."""
    top = np.abs(x.reshape(x.shape[0], -1)).max(axis=1)
    top = np.where(top > 0, top, 1.0)
    log_scale += np.log(top)
    return x / top.reshape((-1,) + (1,) * (x.ndim - 1))


def run_component(comp: Component, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The component's summed-out value on the targets' joint, (batch, K), and its log scale, (batch,).

    The true value is ``value * exp(log_scale)``. The fast pass multiplies
    plainly (every factor is at most 1 in size, so nothing it keeps has
    underflowed); a row whose result falls below 1e-250 is recomputed with
    every message rescaled, so hundreds of small likelihoods never read as
    "impossible".
    """
    out = _contract(comp, lam, None)
    top = out.reshape(out.shape[0], -1).max(axis=1)
    log_scale = np.zeros(lam.shape[0])
    low = top < _TINY
    if low.any():
        careful_scale = np.zeros(int(low.sum()))
        careful = _rescale(_contract(comp, lam[low], careful_scale), careful_scale)
        out = out.copy()
        out[low] = careful
        log_scale[low] = careful_scale
    batch = lam.shape[0]
    value = np.broadcast_to(out.reshape((batch, *comp.expand_shape)), (batch, *comp.full_shape)).reshape(batch, -1)
    return value, log_scale


def _contract(comp: Component, lam: np.ndarray, log_scale: np.ndarray | None) -> np.ndarray:
    """Run the plan; with ``log_scale`` given, rescale every message and accumulate the logs there."""
    batch = lam.shape[0]
    slots = list(comp.slots)
    own = lam[:, comp.nodes, :]
    for j in comp.lam_used:
        slots[comp.lam_start + j] = own[:, j, : comp.cards[j]]
    for group in comp.leaf_groups:
        messages = np.matmul(own[:, group.positions, None, : group.card], group.matrices)   # (batch, n, 1, w)
        if log_scale is not None:
            top = messages.max(axis=3, keepdims=True)
            top = np.where(top > 0, top, 1.0)
            log_scale += np.log(top).sum(axis=(1, 2, 3))
            messages = messages / top
        slots[group.output] = messages.prod(axis=1).reshape((batch, *group.shape))
    for step in comp.steps:
        out = np.einsum(step.subscripts, *[slots[i] for i in step.inputs])
        slots[step.output] = out if log_scale is None else _rescale(out, log_scale)
    out = slots[comp.result]
    assert out is not None  # noqa: S101 - the plan always fills its last slot
    # Factorised noisy-ORs subtract; clip the rounding residue below an exact zero.
    return np.maximum(out, 0.0)


@dataclass(frozen=True, eq=False)
class TargetJoint:
    """P(targets | evidence) over the enumerated joint, and log P(evidence).

    ``parts`` keeps each singleton group's and component's value so that
    per-node joints can reuse them instead of recomputing.
    """

    joint: np.ndarray             # (batch, K), rows sum to 1 (NaN-free; zero rows where impossible)
    log_evidence: np.ndarray      # (batch,), -inf where the evidence is impossible
    singleton_values: tuple[np.ndarray, ...]   # per group: (batch, n, K)
    component_values: tuple[np.ndarray, ...]   # per component: (batch, K), scaled
    component_scales: tuple[np.ndarray, ...]   # per component: (batch,) log of the scale


def target_joint(net: CompiledNetwork, lam: np.ndarray, targets_observed: bool = True) -> TargetJoint:
    """Joint posterior of the enumerated targets and the log probability of the evidence.

    The product of the parts is formed in linear space (fast); a row whose
    largest entry falls below 1e-200 is recomputed in log space, so many
    findings never underflow into a false "impossible". Pass
    ``targets_observed=False`` when no target is in the evidence to skip
    their (all-ones) likelihoods.
    """
    batch = lam.shape[0]
    q = np.repeat(net.base[None, :], batch, axis=0)
    if net.enumerated and targets_observed:
        flat = lam[:, net.enumerated, :].reshape(batch, -1)
        q *= flat[:, net.joint_flat].prod(axis=-1)
    singles = []
    for group in net.singletons:
        values = np.matmul(lam[:, group.nodes, None, : group.card], group.tables)[:, :, 0, :]   # (batch, n, K)
        singles.append(values)
        q *= values.prod(axis=1)
    comps, scales = [], []
    for comp in net.components:
        value, scale = run_component(comp, lam)
        comps.append(value)
        scales.append(scale)
        q *= value
    top = q.max(axis=1)
    if (top < 1e-200).any():
        return _target_joint_log(net, lam, singles, comps, scales)
    total = q.sum(axis=1)
    log_evidence = np.log(total) + sum(scales) if scales else np.log(total)
    log_evidence = np.minimum(log_evidence, 0.0)  # a probability; rounding may land a hair above log 1
    return TargetJoint(q / total[:, None], log_evidence, tuple(singles), tuple(comps), tuple(scales))


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


def node_target_joints(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Iterable[int]) -> dict[int, np.ndarray]:
    """P(node = x, targets = k | evidence) for each node: arrays of shape (batch, K, card).

    For a node outside the targets, its component is re-run with the node
    clamped to each state in turn (one batched pass per component, not one
    inference per state), and the ratio to the unclamped value rescales the
    targets' joint. Targets themselves come straight from the joint.
    """
    out: dict[int, np.ndarray] = {}
    by_component: dict[int, list[int]] = {}
    for v in nodes:
        kind, group, pos = net.where[v]
        card = net.cards[v]
        if kind == "target":
            onehot = np.eye(card)[net.joint_states[:, pos]]         # (K, card)
            out[v] = tj.joint[:, :, None] * onehot[None, :, :]
        elif kind == "singleton":
            g = net.singletons[group]
            terms = lam[:, v, None, :card] * g.tables[pos].T[None, :, :]   # (batch, K, card)
            denom = tj.singleton_values[group][:, pos, :, None]          # (batch, K, 1)
            out[v] = tj.joint[:, :, None] * np.divide(terms, denom, out=np.zeros_like(terms), where=denom > 0)
        else:
            by_component.setdefault(group, []).append(v)
    for c, vs in by_component.items():
        comp = net.components[c]
        batch = lam.shape[0]
        clamps = [(v, x) for v in vs for x in range(net.cards[v])]
        big = np.repeat(lam, len(clamps), axis=0)                          # (batch * S, n, maxc)
        big = big.reshape(batch, len(clamps), *lam.shape[1:])
        for s, (v, x) in enumerate(clamps):
            keep = big[:, s, v, x].copy()
            big[:, s, v, :] = 0.0
            big[:, s, v, x] = keep
        values, scale = run_component(comp, big.reshape(batch * len(clamps), *lam.shape[1:]))
        # Bring the clamped values to the unclamped run's scale before taking the ratio.
        shift = np.exp(scale.reshape(batch, len(clamps)) - tj.component_scales[c][:, None])
        values = values.reshape(batch, len(clamps), -1) * shift[:, :, None]  # (batch, S, K)
        denom = tj.component_values[c][:, None, :]
        ratio = np.divide(values, denom, out=np.zeros(np.broadcast_shapes(values.shape, denom.shape)), where=denom > 0)
        start = 0
        for v in vs:
            card = net.cards[v]
            r = ratio[:, start : start + card, :]                           # (batch, card, K)
            out[v] = tj.joint[:, :, None] * np.moveaxis(r, 1, 2)
            start += card
    return out


def marginals(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Iterable[int]) -> dict[int, np.ndarray]:
    """P(node = x | evidence) for each node: arrays of shape (batch, card)."""
    return {v: j.sum(axis=1) for v, j in node_target_joints(net, lam, tj, nodes).items()}
