"""The engine's queries on a bipartite noisy-OR network, answered by ``inference.bipartite``.

``posterior.target_joint`` and ``node_joints.joint_with_targets`` hand a
network compiled with a :class:`~kneebayes.network.bipartite.BipartiteLayout`
here. Each evidence row becomes its positive and negative findings; a
cause in the evidence is fixed by giving it a prior of 1 or 0. The
targets are not enumerated (``K = 1``): the joint is one column and the
causes' posteriors travel in ``TargetJoint.cause_posteriors``.

A soft answer (likelihood ``a`` for one state, ``b <= a`` for the other)
is ``b`` times "not answered" plus ``a - b`` times "answered with the
first state": a row with ``s`` soft answers is a sum of up to ``2 ** s``
answered rows with non-negative weights, which never cancel. At most
``SOFT_ANSWERS`` soft answers per row (1,024 queries).
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


#: The most soft answers one evidence row may hold: each doubles the queries the row takes.
SOFT_ANSWERS = 10


@dataclasses.dataclass(frozen=True)
class _Row:
    positive: np.ndarray
    negative: np.ndarray
    network: BipartiteNoisyOr      # the layout's, or a copy with observed causes' priors fixed
    log_weight: float = 0.0        # log of the row's weight in its evidence row's sum (soft answers)


def _rows(net: CompiledNetwork, layout: BipartiteLayout, lam: np.ndarray) -> list[list[_Row]]:
    """Each evidence row as answered rows to add up: one where every answer is a state, more for soft answers."""
    observed = (lam != net.lam_template).any(axis=2)                 # (batch, nodes)
    out = []
    for b in range(lam.shape[0]):
        seen = np.flatnonzero(observed[b])
        values = lam[b, seen, :2]
        top = values.max(axis=1)
        low = values.min(axis=1)
        soft = np.flatnonzero(low > 0.0)   # a weight on both states; a vector with one zero is an answer
        if len(soft) > SOFT_ANSWERS:
            names = ", ".join(repr(net.names[i]) for i in seen[soft][:4]) + (", ..." if len(soft) > 4 else "")
            raise EvidenceError(f"{len(soft)} soft answers ({names}) on the bipartite noisy-OR network "
                                f"{net.name!r} would take {2 ** len(soft):,} exact queries; at most {SOFT_ANSWERS} "
                                "soft answers per evidence set (answer the others yes or no)")
        with np.errstate(divide="ignore"):   # a node with no weight on any state: log 0, an impossible row
            base = float(np.log(top[low == 0.0]).sum())   # answers given as a scaled vector: their weight
        terms = []
        for pick in range(1 << len(soft)):
            chosen = np.ones(len(seen), dtype=bool)   # bit j set: soft answer j taken as its likelier state
            log_weight = base
            for j, i in enumerate(soft.tolist()):
                if pick >> j & 1:
                    if top[i] == low[i]:
                        break                          # equal weights: the answer says nothing, no second row
                    log_weight += float(np.log(top[i] - low[i]))
                else:
                    chosen[i] = False
                    log_weight += float(np.log(low[i]))
            else:
                terms.append(_answered(layout, seen[chosen], values[chosen].argmax(axis=1), log_weight))
        out.append(terms)
    return out


def _answered(layout: BipartiteLayout, seen: np.ndarray, state: np.ndarray, log_weight: float) -> _Row:
    """The answered row: nodes ``seen`` in states ``state``.

    An answered cause gets a prior of 1 or 0, and the row's weight takes
    its prior probability of that answer, so that the engine's P(findings |
    causes answered) times the weight is P(evidence).
    """
    role = layout.role[seen]
    finding = role < 0
    f_index = -1 - role[finding]
    yes = state[finding] == layout.finding_yes[f_index]
    network = layout.network
    if not finding.all():
        c_index = role[~finding]
        answered_yes = state[~finding] == layout.cause_yes[c_index]
        prior = network.priors[c_index]
        with np.errstate(divide="ignore"):   # an answer its prior rules out: log 0, an impossible row
            log_weight += float(np.where(answered_yes, np.log(prior), np.log1p(-prior)).sum())
        priors = network.priors.copy()
        priors[c_index] = answered_yes.astype(float)
        network = dataclasses.replace(network, priors=priors)
    return _Row(np.sort(f_index[yes]), np.sort(f_index[~yes]), network, log_weight)


def _shares(log_mass: list[float]) -> tuple[np.ndarray, float]:
    """Each answered row's share of its evidence row's probability, and the log of that probability."""
    mass = np.array(log_mass)
    if not np.isfinite(mass).any():
        return np.zeros(len(mass)), -np.inf
    top = mass.max()
    share = np.exp(mass - top)
    total = share.sum()
    return share / total, float(top + np.log(total))


def target_joint(net: CompiledNetwork, lam: np.ndarray) -> TargetJoint:
    """``TargetJoint`` of every row: a joint of one column (1, or 0 where the evidence is impossible)."""
    layout = net.bipartite
    assert layout is not None  # noqa: S101 - dispatched here only for such networks
    rows = _rows(net, layout, lam)
    cause_yes = np.zeros((len(rows), layout.network.n_causes))
    cause_no = np.zeros((len(rows), layout.network.n_causes))
    log_evidence = np.full(len(rows), -np.inf)
    for b, terms in enumerate(rows):
        posteriors, absent, log_mass = [], [], []
        for row in terms:
            try:
                result = posterior(row.network, row.positive, row.negative, memory_budget=net.memory_budget)
            except ImpossibleEvidenceError:
                continue
            posteriors.append(result.posterior)
            absent.append(result.absent)
            log_mass.append(row.log_weight + result.log_evidence)
        if not log_mass:
            continue
        share, log_evidence[b] = _shares(log_mass)
        cause_yes[b] = np.clip(share @ np.array(posteriors), 0.0, 1.0)
        cause_no[b] = np.clip(share @ np.array(absent), 0.0, 1.0)
        log_evidence[b] = min(log_evidence[b], 0.0)
    joint = np.isfinite(log_evidence).astype(float)[:, None]
    return TargetJoint(joint, log_evidence, (), (), (), (), cause_yes, cause_no)


def joint_with_targets(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, nodes: Sequence[int]) -> np.ndarray:
    """P(node = x | evidence) for each node, shaped like ``node_joints.joint_with_targets`` with K = 1."""
    layout = net.bipartite
    assert layout is not None and tj.cause_posteriors is not None and tj.cause_absent is not None  # noqa: S101
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
        out[:, positions, 1 - yes, 0] = tj.cause_absent[:, c_index]   # its own digits, where 1 - p_yes has none
    if (~cause).any():
        rows = _rows(net, layout, lam)
        positions = np.flatnonzero(~cause)
        f_index = -1 - role[~cause]
        yes = layout.finding_yes[f_index]
        for b, terms in enumerate(rows):
            if not np.isfinite(tj.log_evidence[b]):
                continue
            found_yes, found_no, log_mass = [], [], []
            for row in terms:
                positive = np.isin(f_index, row.positive)
                open_ = ~(positive | np.isin(f_index, row.negative))
                p_term = positive.astype(float)
                n_term = (~positive & ~open_).astype(float)
                if open_.any() or len(terms) > 1:   # one answered row with nothing to ask: nothing to compute
                    try:
                        found = finding_probabilities(row.network, row.positive, row.negative,
                                                      np.unique(f_index[open_]), memory_budget=net.memory_budget)
                    except ImpossibleEvidenceError:
                        continue
                    at = {f: k for k, f in enumerate(found.findings.tolist())}
                    asked = [at[f] for f in f_index[open_].tolist()]
                    p_term[open_] = np.clip(found.probability[asked], 0.0, 1.0)
                    n_term[open_] = np.clip(found.absent[asked], 0.0, 1.0)
                    log_mass.append(row.log_weight + found.log_evidence)
                else:
                    log_mass.append(row.log_weight)
                found_yes.append(p_term)
                found_no.append(n_term)
            share, _ = _shares(log_mass)
            out[b, positions, yes, 0] = np.clip(share @ np.array(found_yes), 0.0, 1.0)
            out[b, positions, 1 - yes, 0] = np.clip(share @ np.array(found_no), 0.0, 1.0)
    return out * np.isfinite(tj.log_evidence)[:, None, None, None]
