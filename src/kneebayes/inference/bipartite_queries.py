"""The engine's queries on a bipartite noisy-OR network, answered by ``inference.bipartite``.

``posterior.target_joint`` and ``node_joints.joint_with_targets`` hand a
network compiled with a :class:`~kneebayes.network.bipartite.BipartiteLayout`
here. Each evidence row becomes its positive and negative findings; a
cause's answer weighs its prior (``inference.bipartite``'s ``causes``). The
targets are not enumerated (``K = 1``): the joint is one column and the
causes' posteriors travel in ``TargetJoint.cause_posteriors``.

A soft answer is one exact query too: on a cause, its likelihoods (``a``
for yes, ``b`` for no) weigh the prior in log space; on a finding, the engine takes
``a P(yes | causes) + b P(no | causes)`` as one more open finding
(``inference.bipartite``'s ``soft``), which costs what a positive costs, and
its own chances given the evidence are read off the same query.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ImpossibleEvidenceError, IntractableError
from ..network.bipartite import BipartiteLayout
from ..network.compiled import CompiledNetwork
from .bipartite import (BipartiteNoisyOr, BipartiteResult, FindingProbabilities, Planned, answer, plan_findings,
                        plan_posterior)
from .joint import TargetJoint


_NONE = np.zeros(0, dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class _Row:
    positive: np.ndarray
    negative: np.ndarray
    soft: dict[int, tuple[float, float]]     # a finding's soft answer: its likelihoods of yes and of no
    causes: dict[int, tuple[float, float]]   # a cause's answer, firm or soft: its likelihoods of yes and of no
    network: BipartiteNoisyOr
    log_weight: float = 0.0        # what firm answers' own scales (and equal soft weights) add to log P(evidence)


def _rows(net: CompiledNetwork, layout: BipartiteLayout, lam: np.ndarray) -> list[_Row]:
    """Each evidence row as one query: its findings answered yes, no or softly, and its causes' answers."""
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
        said = soft & finding & (on != off)    # a soft answer on a finding that says something: open, weighed
        # A hard answer given as a scaled vector adds its scale; equal weights (which say nothing else) theirs
        with np.errstate(divide="ignore"):   # a node with no weight on any state: log 0, an impossible row
            log_weight = float(np.log(np.maximum(on, off)[finding & ~said]).sum())
        answered_yes = on > off           # a hard answer's state
        if ((on == 0.0) & (off == 0.0)).any():   # no weight on any state (a clamp against an answer): impossible
            out.append(_Row(_NONE, _NONE, {}, {}, network, -np.inf))
            continue
        told = dict(zip(c_index.tolist(), zip(on[~finding].tolist(), off[~finding].tolist())))
        hard = ~soft[finding]
        positive = np.sort(f_index[hard & answered_yes[finding]])
        negative = np.sort(f_index[hard & ~answered_yes[finding]])
        weighed = dict(zip(f_index[said[finding]].tolist(), zip(on[said].tolist(), off[said].tolist())))
        out.append(_Row(positive, negative, weighed, told, network, log_weight))
    return out


def _planned_posteriors(net: CompiledNetwork, rows: list[_Row]) -> list[Planned | None]:
    """Each row's posterior planned, before any is answered (an IntractableError at once where one passes the
    memory budget or the work limit); None where the row is impossible."""
    out: list[Planned | None] = []
    for row in rows:
        planned = None
        if row.log_weight > -np.inf:
            try:
                planned = plan_posterior(row.network, row.positive, row.negative, row.soft, causes=row.causes,
                                         memory_budget=net.memory_budget, work_limit=net.work_limit)
            except ImpossibleEvidenceError:
                pass
        out.append(planned)
    return out


def target_joint(net: CompiledNetwork, lam: np.ndarray) -> TargetJoint:
    """``TargetJoint`` of every row: a joint of one column (1, or 0 where the evidence is impossible).

    Every row is planned before any is answered: one past the memory
    budget or the work limit refuses them all, before any work."""
    layout = net.bipartite
    assert layout is not None  # noqa: S101 - dispatched here only for such networks
    rows = _rows(net, layout, lam)
    cause_yes = np.zeros((len(rows), layout.network.n_causes))
    cause_no = np.zeros((len(rows), layout.network.n_causes))
    log_evidence = np.full(len(rows), -np.inf)
    for b, (row, planned) in enumerate(zip(rows, _planned_posteriors(net, rows))):
        if planned is None:
            continue
        try:
            result = answer(planned)
        except ImpossibleEvidenceError:
            continue
        assert isinstance(result, BipartiteResult)  # noqa: S101 - plan_posterior's
        cause_yes[b] = np.clip(result.posterior, 0.0, 1.0)
        cause_no[b] = np.clip(result.absent, 0.0, 1.0)
        log_evidence[b] = min(row.log_weight + result.log_evidence, 0.0)
    joint = np.isfinite(log_evidence).astype(float)[:, None]
    return TargetJoint(joint, log_evidence, (), (), (), (), cause_yes, cause_no)


def _asking(row: _Row, f_index: np.ndarray) -> np.ndarray:
    """Which of the findings ``f_index`` the row asks the chances of: the open ones and the softly answered ones."""
    answered = np.isin(f_index, row.positive) | np.isin(f_index, row.negative)
    return ~answered


def _planned_findings(net: CompiledNetwork, rows: list[_Row], f_index: np.ndarray, live: np.ndarray
                      ) -> list[Planned | None]:
    """Each ``live`` row's chances of the findings ``f_index`` it does not know, planned before any is answered
    (an IntractableError at once where one passes the memory budget or the work limit); None where it asks none."""
    out: list[Planned | None] = []
    for b, row in enumerate(rows):
        asking = _asking(row, f_index)
        if not live[b] or not asking.any():
            out.append(None)
            continue
        out.append(plan_findings(row.network, row.positive, row.negative, np.unique(f_index[asking]), soft=row.soft,
                                 causes=row.causes, memory_budget=net.memory_budget, work_limit=net.work_limit))
    return out


def check_rows(net: CompiledNetwork, lam: np.ndarray, nodes: Sequence[int], describe: Callable[[int], str]) -> None:
    """Plan every row's query before a call that weighs them all starts any: the chances of the findings among
    ``nodes`` it does not know (its posterior where it asks none). Where one passes the memory budget or the work
    limit, its IntractableError, with ``describe(row)`` (which evidence set it is) as its context.

    Nothing is answered; a ranking weighs many evidence sets, and is refused whole, at once, where one of them
    would pass a limit that its own diagnosis does not (``inference.gain``)."""
    layout = net.bipartite
    assert layout is not None  # noqa: S101 - dispatched here only for such networks
    rows = _rows(net, layout, lam)
    role = layout.role[np.asarray(nodes, dtype=np.intp)]
    f_index = -1 - role[role < 0]
    # A plan's shape, so its memory and work, follows from the positive and soft findings and the findings asked
    # alone (negatives and causes' answers change its numbers): a ranking's rows that clamp a cause or answer a
    # finding no share their evidence's plan, and are planned once
    seen = set()
    for b, row in enumerate(rows):
        if row.log_weight == -np.inf:
            continue
        shape = (row.positive.tobytes(), tuple(sorted(row.soft)), _asking(row, f_index).tobytes())
        if shape in seen:
            continue
        seen.add(shape)
        try:
            if len(f_index) and _asking(row, f_index).any():
                _planned_findings(net, [row], f_index, np.ones(1, dtype=bool))
            else:
                _planned_posteriors(net, [row])
        except IntractableError as err:
            raise IntractableError(err.network, err.clique, err.size, err.budget, advice=err.advice,
                                   at_least=err.at_least, limit=err.limit, context=describe(b)) from None
        except ImpossibleEvidenceError:
            continue


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
        plans = _planned_findings(net, rows, f_index, np.isfinite(tj.log_evidence))
        for b, (row, planned) in enumerate(zip(rows, plans)):
            if not np.isfinite(tj.log_evidence[b]):
                continue
            positive = np.isin(f_index, row.positive)
            asking = _asking(row, f_index)     # a softly answered finding's own chances are read off the same query
            p_term = positive.astype(float)
            n_term = (~positive & ~asking).astype(float)
            if planned is not None:
                found = answer(planned)
                assert isinstance(found, FindingProbabilities)  # noqa: S101 - plan_findings'
                at = {f: k for k, f in enumerate(found.findings.tolist())}
                asked = [at[f] for f in f_index[asking].tolist()]
                p_term[asking] = np.clip(found.probability[asked], 0.0, 1.0)
                n_term[asking] = np.clip(found.absent[asked], 0.0, 1.0)
            out[b, positions, yes, 0] = p_term
            out[b, positions, 1 - yes, 0] = n_term
    return out * np.isfinite(tj.log_evidence)[:, None, None, None]
