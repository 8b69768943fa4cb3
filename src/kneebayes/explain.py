"""Which answers drove a cause's posterior, and how much: each answer's weight of evidence.

An answer's contribution is its weight of evidence in decibans (dB) given
the other answers, leave-one-out::

    contribution(a) = 10 * log10( odds(cause | all answers) / odds(cause | all answers but a) )

positive when the answer supports the cause, negative when it speaks
against it. Odds are formed from the separate state probabilities (never
1 - p) and clipped as the Bayes factors are
(:mod:`kneebayes.inference.evidence_weight`), so none is infinite. All the
leave-one-out posteriors come from one batched inference call.

The ``total`` is the weight of evidence of all the answers together,
10 * log10(``Diagnosis.bayes_factor``). For a yes/no cause whose answers
are independent given the cause and given its absence (as in a naive-Bayes
model: findings that depend on this cause alone), each contribution is that
answer's own likelihood ratio and they add up to the total exactly;
otherwise they need not, and ``additive`` says whether they do (within
``ADDITIVE_TOLERANCE_DB``). For a state of a target with more states, "not
this state" mixes the others, so even answers independent given the target
need not add up; and a total at the clip limit (+-1000 dB) is not the sum
of anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .display.html import explanation_html
from .evidence import to_indices
from .inference.evidence_weight import FACTOR_MAX, decibans, odds_ratio
from .inference.node_joints import node_target_joints
from .inference.posterior import encode, target_joint

if TYPE_CHECKING:
    from .model import Model

#: Contributions count as adding up to the total when they are this close to it (decibans).
ADDITIVE_TOLERANCE_DB = 0.1


@dataclass(frozen=True)
class Contribution:
    """One answer's weight of evidence for a cause, given the other answers."""

    node: str
    state: str
    weight_of_evidence: float   # decibans: 10 log10(odds with every answer / odds without this one)
    posterior_without: float    # P(cause | evidence without this answer)


@dataclass(frozen=True)
class Explanation:
    """How the evidence moved one cause: each answer's weight of evidence in decibans, largest first.

    Attributes
    ----------
    cause, state : str
        The target and the state of it being explained ("yes" for a yes/no cause).
    posterior, prior : float
        P(cause = state) given every answer, and with no answers.
    supporting, conflicting : tuple of Contribution
        Answers with a positive (negative) weight of evidence, largest in
        size first; answers that change nothing are in neither.
    total : float
        The weight of evidence of all the answers together, in decibans:
        10 * log10 of the cause's Bayes factor (``Diagnosis.weight_of_evidence``).
    additive : bool
        True when the contributions add up to ``total`` within 0.1 dB, which
        holds when the answers are independent given the cause and given
        its absence.

    Examples
    --------
    >>> import kneebayes
    >>> ex = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"}).explain("nerve_irritation")
    >>> ex.supporting[0].node, ex.additive        # a single answer: its weight is the total
    ('tingling_or_numbness', True)
    >>> print(ex)                                  # doctest: +ELLIPSIS
    nerve_irritation: ...% with no answers -> ...% now, +... dB
      supporting tingling_or_numbness=yes: +... dB (without it ...%)
      these add up to the total
    """

    cause: str
    posterior: float
    prior: float                                  # P(cause = state) with no evidence
    supporting: tuple[Contribution, ...]
    conflicting: tuple[Contribution, ...]
    state: str = "yes"                            # the state of the cause being explained
    total: float = 0.0                            # decibans from all the answers together
    additive: bool = True                         # the contributions sum to the total (within 0.1 dB)
    two_states: bool = True                       # the target is yes/no (only then can dependence be read off)

    @property
    def sum_of_contributions(self) -> float:
        """The contributions added up, in decibans (equal to ``total`` when ``additive``)."""
        return math.fsum(c.weight_of_evidence for c in self.supporting + self.conflicting)

    def summary(self) -> str:
        """One plain sentence on whether the contributions add up to the total."""
        if not self.supporting and not self.conflicting:
            return "no answer changes it" if self.additive else \
                f"no single answer changes it given the others, but together they give {self.total:+.1f} dB"
        if self.additive:
            return "these add up to the total"
        sums = f"they add up to {self.sum_of_contributions:+.1f} dB of the total {self.total:+.1f} dB"
        if abs(self.total) >= 10 * math.log10(FACTOR_MAX) * (1 - 1e-12):
            return f"{sums}, which is at its limit: the answers settle it"
        if not self.two_states:
            return f"{sums}: 'not {self.state}' mixes the other states, so the answers' weights need not add up"
        return f"the answers are not independent given the cause: {sums}"

    def __str__(self) -> str:
        name = self.cause if self.state == "yes" else f"{self.cause}={self.state}"
        lines = [f"{name}: {self.prior:.1%} with no answers -> {self.posterior:.1%} now, {self.total:+.1f} dB"]
        for title, items in (("supporting", self.supporting), ("against", self.conflicting)):
            for c in items:
                lines.append(f"  {title:<10} {c.node}={c.state}: {c.weight_of_evidence:+.1f} dB "
                             f"(without it {c.posterior_without:.1%})")
        lines.append(f"  {self.summary()}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML table of the same content (what a notebook shows; built in ``display.html``)."""
        return explanation_html(self)

    _repr_html_ = to_html


def explain(model: Model, evidence: Mapping[str, str], cause: str, state: str = "yes", *,
            total: float | None = None) -> Explanation:
    """Each answer's weight of evidence for ``cause`` = ``state`` given the others: leave-one-out, batched.

    Parameters
    ----------
    model : Model
    evidence : Mapping[str, str]
        The answers, as ``Diagnosis.evidence`` holds them.
    cause, state : str
        The target and its state to explain.
    total : float, optional
        The state's weight of evidence from all the answers, when the
        caller has it (``Diagnosis.explain`` passes its own, so the two
        agree to the bit); else computed here.

    Returns
    -------
    Explanation

    Examples
    --------
    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> ex = explain(model, {"locking_or_catching": "yes"}, "meniscal_injury")
    >>> abs(ex.total - ex.supporting[0].weight_of_evidence) < 1e-12   # one answer: its weight is the total
    True
    """
    net = model.network
    items = list(evidence.items())
    sets = [dict(items)] + [dict(items[:i] + items[i + 1 :]) for i in range(len(items))]
    lam = encode(net, [to_indices(net, e) for e in sets])
    p, rest = _state_and_rest(model, lam, target_joint(net, lam), cause, state)
    layout = model.weight_layout
    start = model.targets.column(cause, model.targets.states_of(cause)[0])
    states = model.targets.states_of(cause)
    k = states.index(state)
    prior_dist = layout.prior[start : start + len(states)]
    prior = float(prior_dist[k])
    if total is None:
        prior_rest = float(np.delete(prior_dist, k).sum())
        total = float(decibans(odds_ratio(p[0], rest[0], prior, prior_rest))[0])
    weights = decibans(odds_ratio(p[0], rest[0], p[1:], rest[1:])).tolist()
    without = p[1:].tolist()
    contributions = [Contribution(node, value, w, pw) for (node, value), w, pw in zip(items, weights, without)]
    supporting = tuple(sorted((c for c in contributions if c.weight_of_evidence > 0),
                              key=lambda c: (-c.weight_of_evidence, c.node)))
    conflicting = tuple(sorted((c for c in contributions if c.weight_of_evidence < 0),
                               key=lambda c: (c.weight_of_evidence, c.node)))
    additive = abs(math.fsum(weights) - total) <= ADDITIVE_TOLERANCE_DB
    return Explanation(cause, float(p[0]), prior, supporting, conflicting, state, float(total), additive,
                       len(states) == 2)


def _state_and_rest(model: Model, lam: np.ndarray, tj: object, cause: str, state: str) -> tuple[np.ndarray, np.ndarray]:
    """P(cause = state | each evidence set) and P(cause = any other state | it), each summed from the joint."""
    net = model.network
    t = net.index[cause]
    joints = node_target_joints(net, lam, tj, [t])   # type: ignore[arg-type]
    dist = joints[t].sum(axis=1)                      # (batch, card)
    k = net.states[t].index(state)
    return dist[:, k], np.delete(dist, k, axis=1).sum(axis=1)
