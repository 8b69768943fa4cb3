"""pyAgrum as a second reference engine for the benchmarks: a network with exact numbers, posteriors, gains.

The network is built through pyAgrum's API from a pgmpy model (for a kneebayes
model, ``model.to_pgmpy()``: its renormalised tables), never through pyAgrum's
BIF reader, which keeps each number as a float32 (0.01 becomes 0.0099999998,
enough to move posteriors by 1e-8). Inference is ``LazyPropagation``, built
once per network and reused, as a user of pyAgrum would: ``setEvidence`` then
``makeInference`` for each evidence set.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def from_pgmpy(model: Any):
    """A ``pyagrum.BayesNet`` with the tables of a pgmpy model, states and numbers unchanged."""
    import pyagrum as gum

    bn = gum.BayesNet()
    cpds = {cpd.variables[0]: cpd for cpd in model.get_cpds()}
    for node in model.nodes():
        bn.add(gum.LabelizedVariable(node, node, [str(s) for s in cpds[node].state_names[node]]))
    for child, cpd in cpds.items():
        for parent in cpd.variables[1:]:
            bn.addArc(parent, child)
    for child, cpd in cpds.items():
        cpt = bn.cpt(child)
        # a pyAgrum table lists its first variable fastest: numpy's C order over its names reversed
        order = [cpd.variables.index(x) for x in reversed(list(cpt.names))]
        cpt.fillWith(np.transpose(cpd.values, order).ravel().tolist())
    return bn


def posterior_engine(bn: Any, targets: list[str]) -> Callable[[dict[str, str]], dict[str, dict[str, float]]]:
    """``posterior(ev)`` -> {target: {state: p}} by one LazyPropagation, built here (with one inference, untimed)."""
    import pyagrum as gum

    ie = gum.LazyPropagation(bn)
    ie.setTargets(set(targets))
    ie.makeInference()                                # builds the junction tree: set-up, not a query

    def posterior(ev: dict[str, str]) -> dict[str, dict[str, float]]:
        ie.setEvidence(ev)
        ie.makeInference()
        out = {}
        for t in targets:
            p = ie.posterior(t)
            out[t] = dict(zip(p.variable(0).labels(), map(float, p.tolist())))
        return out

    return posterior


def entropy_bits(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def mutual_information_bits(joint: np.ndarray) -> float:
    """H(T) - sum_x P(x) H(T | x) in bits, the candidate on axis 0 and the targets flattened on axis 1."""
    joint = joint / joint.sum()
    px = joint.sum(axis=1)
    return entropy_bits(joint.sum(axis=0)) - sum(
        float(px[x]) * entropy_bits(joint[x] / px[x]) for x in range(joint.shape[0]) if px[x] > 0)


def ranking_engine(bn: Any, targets: list[str], joint: bool) -> Callable[[dict[str, str], list[str]], dict[str, float]]:
    """``gains(ev, candidates)`` -> {candidate: bits}, the way a pyAgrum user would compute them.

    ``joint``: the gain is the mutual information of the candidate with the
    targets' joint: every (targets, candidate) joint is declared as a joint
    target of one LazyPropagation, one ``makeInference()`` per evidence set,
    then ``jointPosterior``. Otherwise (the targets' joint too large) the gain
    is the sum over targets of each target's mutual information with the
    candidate: one inference for the candidates' posteriors, then one per
    candidate state with that state added to the evidence, each giving every
    target's posterior. (Declaring every (target, candidate) pair as a joint
    target instead took over 11 GB on Win95pts' 34 targets.)
    """
    import pyagrum as gum

    ie = gum.LazyPropagation(bn)
    ie.makeInference()

    def joint_gains(ev: dict[str, str], candidates: list[str]) -> dict[str, float]:
        ie.eraseAllTargets()
        ie.eraseAllJointTargets()
        for c in candidates:
            ie.addJointTarget(set(targets) | {c})
        ie.setEvidence(ev)
        ie.makeInference()
        out = {}
        for c in candidates:
            jp = ie.jointPosterior(set(targets) | {c})
            names = list(jp.names)
            values = np.moveaxis(jp.toarray(), len(names) - 1 - names.index(c), 0)   # toarray: the names reversed
            out[c] = mutual_information_bits(values.reshape(values.shape[0], -1))
        return out

    def summed_gains(ev: dict[str, str], candidates: list[str]) -> dict[str, float]:
        ie.eraseAllJointTargets()
        ie.setTargets(set(targets) | set(candidates))
        ie.setEvidence(ev)
        ie.makeInference()
        prior = {t: ie.posterior(t).toarray() for t in targets}
        p_cand = {c: ie.posterior(c) for c in candidates}
        out = {}
        for c in candidates:
            px = p_cand[c].toarray()
            labels = p_cand[c].variable(0).labels()
            rows: list[list[np.ndarray]] = []
            for x, label in enumerate(labels):
                if px[x] <= 0:
                    rows.append([np.zeros_like(prior[t]) for t in targets])
                    continue
                ie.setEvidence({**ev, c: label})
                ie.makeInference()
                rows.append([px[x] * ie.posterior(t).toarray() for t in targets])
            out[c] = sum(mutual_information_bits(np.array([row[k] for row in rows])) for k in range(len(targets)))
        return out

    return joint_gains if joint else summed_gains
