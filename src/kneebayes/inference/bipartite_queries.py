"""The engine's queries on a bipartite noisy-OR network, answered by ``inference.bipartite``.

``posterior.target_joint`` and ``node_joints.joint_with_targets`` hand a
network compiled with a :class:`~kneebayes.network.bipartite.BipartiteLayout`
here. Each evidence row becomes its positive and negative findings; a
cause in the evidence is fixed by giving it a prior of 1 or 0. The
targets are not enumerated (``K = 1``): the joint is one column and the
causes' posteriors travel in ``TargetJoint.cause_posteriors``.

A soft answer needs no more queries where it can be folded in exactly:
on a cause, its likelihoods (``a`` for yes, ``b`` for no) reweigh the
prior; on a finding leaning yes (``a > b``), ``a P(yes | causes) + b P(no |
causes)`` is ``a`` times a positive finding whose leak ``l`` becomes ``l +
(b / a)(1 - l)``. A finding leaning no is ``a`` times "not answered" plus
``b - a`` times "answered no" (non-negative weights, which never cancel):
a row with ``s`` of those is a sum of up to ``2 ** s`` answered rows, at most
``SOFT_ANSWERS`` of them per row (1,024 queries).
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


#: The most soft answers leaning "no" on findings one evidence row may hold: each doubles the queries the row takes.
SOFT_ANSWERS = 10

_NONE = np.zeros(0, dtype=np.int64)
_NO_VALUES = np.zeros(0)


@dataclasses.dataclass(frozen=True)
class _Row:
    positive: np.ndarray
    negative: np.ndarray
    network: BipartiteNoisyOr      # the layout's, or a copy with answered causes' priors or soft findings' leaks
    log_weight: float = 0.0        # log of the row's weight in its evidence row's sum (soft answers)
    # Findings answered softly leaning yes, taken as positives with a larger leak: each one, its own leak and
    # the logs of its likelihoods for yes and no (what its own probability given the evidence needs)
    soft: np.ndarray = dataclasses.field(default_factory=lambda: _NONE)
    soft_leak: np.ndarray = dataclasses.field(default_factory=lambda: _NO_VALUES)
    soft_yes: np.ndarray = dataclasses.field(default_factory=lambda: _NO_VALUES)
    soft_no: np.ndarray = dataclasses.field(default_factory=lambda: _NO_VALUES)


def _rows(net: CompiledNetwork, layout: BipartiteLayout, lam: np.ndarray) -> list[list[_Row]]:
    """Each evidence row as answered rows to add up: one, and more only for soft answers leaning no on findings."""
    observed = (lam != net.lam_template).any(axis=2)                 # (batch, nodes)
    network = layout.network
    out = []
    for b in range(lam.shape[0]):
        seen = np.flatnonzero(observed[b])
        role = layout.role[seen]
        finding = role < 0
        f_index, c_index = -1 - role[finding], role[~finding]
        yes_at = np.empty(len(seen), dtype=np.intp)
        yes_at[finding] = layout.finding_yes[f_index]
        yes_at[~finding] = layout.cause_yes[c_index]
        on, off = lam[b, seen, yes_at], lam[b, seen, 1 - yes_at]      # each answer's likelihood of yes, of no
        soft = (on > 0.0) & (off > 0.0)
        leaning_yes = soft & finding & (on > off)     # folded in: a positive with a larger leak
        leaning_no = soft & finding & (on < off)      # a sum of rows: not answered, and answered no
        if leaning_no.sum() > SOFT_ANSWERS:
            names = seen[leaning_no]
            listed = ", ".join(repr(net.names[i]) for i in names[:4]) + (", ..." if len(names) > 4 else "")
            raise EvidenceError(f"{len(names)} soft answers leaning no ({listed}) on the bipartite noisy-OR network "
                                f"{net.name!r} would take {2 ** len(names):,} exact queries; at most {SOFT_ANSWERS} "
                                "such answers per evidence set (answer the others yes or no)")
        # The row's weight: a hard answer given as a scaled vector, its scale; a finding leaning yes, a; equal
        # weights (which say nothing else), their value; a soft cause, below; a finding leaning no, per term
        scale = np.where(soft, np.where(finding & ~leaning_no, on, 1.0), np.maximum(on, off))
        with np.errstate(divide="ignore"):   # a node with no weight on any state: log 0, an impossible row
            log_weight = float(np.log(scale).sum())
        answered_yes = on > off           # a hard answer's state
        priors, leaks = network.priors, network.leaks
        if len(c_index):
            p = priors[c_index]
            c_on, c_off, c_soft = on[~finding], off[~finding], soft[~finding]
            # a hard answer: the prior probability of that answer, and a prior of 1 or 0; a soft one: the
            # probability of its likelihood, and the prior reweighed by it
            mass = np.where(c_soft, c_on * p + c_off * (1.0 - p), np.where(answered_yes[~finding], p, 1.0 - p))
            with np.errstate(divide="ignore", invalid="ignore"):
                log_weight += float(np.log(mass).sum())
                reweighed = np.where(mass > 0.0, c_on * p / np.where(mass > 0.0, mass, 1.0), 0.0)
            priors = priors.copy()
            priors[c_index] = np.where(c_soft, reweighed, answered_yes[~finding])
        by_index = np.argsort(f_index[leaning_yes[finding]])
        soft_f = f_index[leaning_yes[finding]][by_index]
        f_on, f_off = on[leaning_yes][by_index], off[leaning_yes][by_index]
        if len(soft_f):
            # a P(yes | causes) + b P(no | causes) = a (1 - (1 - b / a)(1 - leak) prod (1 - w)): a times a positive
            leaks = leaks.copy()
            leaks[soft_f] = np.minimum(leaks[soft_f] + f_off / f_on * (1.0 - leaks[soft_f]), 1.0)
        row_net = (network if priors is network.priors and leaks is network.leaks
                   else dataclasses.replace(network, priors=priors, leaks=leaks))
        soft_parts = (soft_f, network.leaks[soft_f], np.log(f_on), np.log(f_off))
        hard = ~soft[finding]
        positive = np.sort(np.concatenate([f_index[hard & answered_yes[finding]], soft_f]))
        negative = f_index[hard & ~answered_yes[finding]]
        no_index = f_index[leaning_no[finding]]
        no_on, no_off = on[leaning_no], off[leaning_no]
        terms = []
        for pick in range(1 << len(no_index)):   # bit j set: leaning-no answer j taken as "no", weight b - a
            taken = (pick >> np.arange(len(no_index)) & 1).astype(bool)
            weight = log_weight + float(np.log(np.where(taken, no_off - no_on, no_on)).sum())
            terms.append(_Row(positive, np.sort(np.concatenate([negative, no_index[taken]])), row_net, weight,
                              *soft_parts))
        out.append(terms)
    return out


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
                soft = np.flatnonzero(np.isin(f_index, row.soft))       # asked, and answered softly leaning yes
                if open_.any() or len(terms) > 1 or len(soft):   # one answered row with nothing to ask: nothing to do
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
                    for n in soft.tolist():
                        p_term[n], n_term[n] = _soft_finding(row, int(f_index[n]), found.log_evidence,
                                                             net.memory_budget)
                else:
                    log_mass.append(row.log_weight)
                found_yes.append(p_term)
                found_no.append(n_term)
            share, _ = _shares(log_mass)
            out[b, positions, yes, 0] = np.clip(share @ np.array(found_yes), 0.0, 1.0)
            out[b, positions, 1 - yes, 0] = np.clip(share @ np.array(found_no), 0.0, 1.0)
    return out * np.isfinite(tj.log_evidence)[:, None, None, None]


def _soft_finding(row: _Row, finding: int, log_evidence: float, memory_budget: int) -> tuple[float, float]:
    """P(finding = yes | the row's evidence) and P(no | ...) for a finding the row answers softly leaning yes
    (a positive there with a larger leak), given the row's ``log_evidence``: with likelihoods ``a`` and ``b``,
    the row's evidence is (a Y + b N) / a, where N is the evidence with the finding answered no at its own leak
    (one more query, one positive fewer), so P(no | ...) = (b / a) N / that."""
    k = int(np.searchsorted(row.soft, finding))
    leaks = row.network.leaks.copy()
    leaks[finding] = row.soft_leak[k]
    network = dataclasses.replace(row.network, leaks=leaks)
    try:
        log_no = posterior(network, row.positive[row.positive != finding], np.sort(np.append(row.negative, finding)),
                           memory_budget=memory_budget).log_evidence
    except ImpossibleEvidenceError:
        return 1.0, 0.0
    p_no = min(float(np.exp(row.soft_no[k] - row.soft_yes[k] + log_no - log_evidence)), 1.0)
    return 1.0 - p_no, p_no
