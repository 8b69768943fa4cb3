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
    lam = np.repeat(net.lam_template[None, :, :], len(evidence), axis=0)
    for b, ev in enumerate(evidence):
        for node, state in ev.items():
            row = lam[b, node]
            row[:] = 0.0
            row[state] = 1.0
    return lam


def run_component(comp: Component, lam: np.ndarray) -> np.ndarray:
    """The component's summed-out value for each evidence set: (batch, K) or (batch,)."""
    slots: list[np.ndarray | None] = list(comp.constants)
    slots.extend(lam[:, v, :c] for v, c in zip(comp.nodes, comp.cards))
    slots.extend([None] * len(comp.steps))
    for step in comp.steps:
        slots[step.output] = np.einsum(step.subscripts, *[slots[i] for i in step.inputs])
    out = slots[-1]
    assert out is not None  # noqa: S101 - the plan always fills its last slot
    return out


@dataclass(frozen=True, eq=False)
class TargetJoint:
    """P(targets | evidence) over the enumerated joint, and log P(evidence).

    ``parts`` keeps each singleton group's and component's value so that
    per-node joints can reuse them instead of recomputing.
    """

    joint: np.ndarray             # (batch, K), rows sum to 1 (NaN-free; zero rows where impossible)
    log_evidence: np.ndarray      # (batch,), -inf where the evidence is impossible
    singleton_values: tuple[np.ndarray, ...]   # per group: (batch, n, K)
    component_values: tuple[np.ndarray, ...]   # per component: (batch, K) or (batch,)


def target_joint(net: CompiledNetwork, lam: np.ndarray) -> TargetJoint:
    """Joint posterior of the enumerated targets and the log probability of the evidence."""
    batch = lam.shape[0]
    with np.errstate(divide="ignore"):
        log_q = np.broadcast_to(np.log(net.base), (batch, net.n_joint)).copy()
        if net.enumerated:
            e = np.asarray(net.enumerated)
            log_q += np.log(lam[:, e[None, :], net.joint_states].prod(axis=-1))
        singles = []
        for group in net.singletons:
            values = np.einsum("bnc,nkc->bnk", lam[:, group.nodes, : group.card], group.tables)
            singles.append(values)
            log_q += np.log(values).sum(axis=1)
        comps = []
        for comp in net.components:
            value = run_component(comp, lam)
            comps.append(value)
            log_q += np.log(value) if comp.has_k else np.log(value)[:, None]
    top = log_q.max(axis=1)
    possible = np.isfinite(top)
    shifted = np.where(possible[:, None], log_q - np.where(possible, top, 0.0)[:, None], -np.inf)
    q = np.exp(shifted)
    total = q.sum(axis=1)
    joint = np.divide(q, total[:, None], out=np.zeros_like(q), where=possible[:, None])
    log_evidence = np.where(possible, top + np.log(np.where(possible, total, 1.0)), -np.inf)
    return TargetJoint(joint, log_evidence, tuple(singles), tuple(comps))


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
            terms = lam[:, v, None, :card] * g.tables[pos][None, :, :]   # (batch, K, card)
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
        values = run_component(comp, big.reshape(batch * len(clamps), *lam.shape[1:]))
        values = values.reshape(batch, len(clamps), -1)                     # (batch, S, K or 1)
        denom = tj.component_values[c]
        denom = denom[:, None, :] if comp.has_k else denom[:, None, None]
        ratio = np.divide(values, denom, out=np.zeros(np.broadcast_shapes(values.shape, denom.shape)), where=denom > 0)
        start = 0
        for v in vs:
            card = net.cards[v]
            r = ratio[:, start : start + card, :]                           # (batch, card, K|1)
            out[v] = tj.joint[:, :, None] * np.moveaxis(r, 1, 2)
            start += card
    return out


def marginals(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Iterable[int]) -> dict[int, np.ndarray]:
    """P(node = x | evidence) for each node: arrays of shape (batch, card)."""
    return {v: j.sum(axis=1) for v, j in node_target_joints(net, lam, tj, nodes).items()}
