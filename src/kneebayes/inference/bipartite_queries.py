"""The engine's queries on a bipartite noisy-OR network, answered by ``inference.bipartite``.

``posterior.target_joint`` and ``posterior.joint_with_targets`` hand a
network compiled with a :class:`~kneebayes.network.bipartite.BipartiteLayout`
here. Each evidence row becomes its positive and negative findings; a
cause in the evidence is fixed by giving it a prior of 1 or 0. The
targets are not enumerated (``K = 1``): the joint is one column and the
causes' posteriors travel in ``TargetJoint.cause_posteriors``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..errors import EvidenceError, ImpossibleEvidenceError
from ..network.bipartite import BipartiteLayout
from ..network.compiled import CompiledNetwork
from .bipartite import BipartiteNoisyOr, finding_probabilities, posterior
from .joint import TargetJoint


@dataclasses.dataclass(frozen=True)
class _Row:
    positive: np.ndarray
    negative: np.ndarray
    network: BipartiteNoisyOr      # the layout's, or a copy with observed causes' priors fixed


def _rows(net: CompiledNetwork, layout: BipartiteLayout, lam: np.ndarray) -> list[_Row]:
    observed = (lam != net.lam_template).any(axis=2)                 # (batch, nodes)
    rows = []
    for b in range(lam.shape[0]):
        seen = np.flatnonzero(observed[b])
        values = lam[b, seen, :2]
        if not ((values.sum(axis=1) == 1.0) & ((values == 0.0) | (values == 1.0)).all(axis=1)).all():
            raise EvidenceError("a bipartite noisy-OR network takes answers (one state per node); soft answers "
                                "(a Likelihood) need a network the general engine runs")
        state = values.argmax(axis=1)
        role = layout.role[seen]
        finding = role < 0
        f_index = -1 - role[finding]
        yes = state[finding] == layout.finding_yes[f_index]
        network = layout.network
        if not finding.all():
            c_index = role[~finding]
            priors = network.priors.copy()
            priors[c_index] = (state[~finding] == layout.cause_yes[c_index]).astype(float)
            network = dataclasses.replace(network, priors=priors)
        rows.append(_Row(np.sort(f_index[yes]), np.sort(f_index[~yes]), network))
    return rows


def target_joint(net: CompiledNetwork, lam: np.ndarray) -> TargetJoint:
    """``TargetJoint`` of every row: a joint of one column (1, or 0 where the evidence is impossible)."""
    layout = net.bipartite
    assert layout is not None  # noqa: S101 - dispatched here only for such networks
    rows = _rows(net, layout, lam)
    cause_yes = np.zeros((len(rows), layout.network.n_causes))
    log_evidence = np.full(len(rows), -np.inf)
    for b, row in enumerate(rows):
        try:
            result = posterior(row.network, row.positive, row.negative, memory_budget=net.memory_budget)
        except ImpossibleEvidenceError:
            continue
        cause_yes[b] = np.clip(result.posterior, 0.0, 1.0)
        log_evidence[b] = min(result.log_evidence, 0.0)
    joint = np.isfinite(log_evidence).astype(float)[:, None]
    return TargetJoint(joint, log_evidence, (), (), (), (), cause_yes)


def joint_with_targets(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Sequence[int]) -> np.ndarray:
    """P(node = x | evidence) for each node, shaped like ``posterior.joint_with_targets`` with K = 1."""
    layout = net.bipartite
    assert layout is not None and tj.cause_posteriors is not None  # noqa: S101 - from target_joint above
    nodes = np.asarray(nodes, dtype=np.intp)
    out = np.zeros((lam.shape[0], len(nodes), 2, 1))
    role = layout.role[nodes]
    cause = role >= 0
    if cause.any():
        c_index = role[cause]
        p_yes = tj.cause_posteriors[:, c_index]                                  # (batch, causes asked)
        yes = layout.cause_yes[c_index]
        positions = np.flatnonzero(cause)
        out[:, positions, yes, 0] = p_yes
        out[:, positions, 1 - yes, 0] = 1.0 - p_yes
    if (~cause).any():
        rows = _rows(net, layout, lam)
        positions = np.flatnonzero(~cause)
        f_index = -1 - role[~cause]
        yes = layout.finding_yes[f_index]
        for b, row in enumerate(rows):
            if not np.isfinite(tj.log_evidence[b]):
                continue
            observed = np.isin(f_index, row.positive) | np.isin(f_index, row.negative)
            p_yes = np.where(np.isin(f_index, row.positive), 1.0, 0.0)
            ask = f_index[~observed]
            if len(ask):
                found = finding_probabilities(row.network, row.positive, row.negative, np.unique(ask),
                                              memory_budget=net.memory_budget)
                lookup = dict(zip(found.findings.tolist(), np.clip(found.probability, 0.0, 1.0).tolist()))
                p_yes[~observed] = [lookup[f] for f in ask.tolist()]
            out[b, positions, yes, 0] = p_yes
            out[b, positions, 1 - yes, 0] = 1.0 - p_yes
    return out * np.isfinite(tj.log_evidence)[:, None, None, None]
