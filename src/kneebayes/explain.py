"""Which answers drove a cause's posterior, and how much.

Each piece of evidence's contribution is the change in the cause's log
odds when that answer is removed from the rest (natural log; positive
supports the cause). All leave-one-out posteriors come from one batched
inference call.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .model import Model

_EPS = 1e-15


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class Contribution:
    """One answer's share in a cause's posterior."""

    node: str
    state: str
    log_odds: float            # logit P(cause | all evidence) - logit P(cause | evidence without it)
    posterior_without: float   # P(cause | evidence without this answer)


@dataclass(frozen=True)
class Explanation:
    """How the evidence moved one cause, largest contributions first."""

    cause: str
    posterior: float
    prior: float                                  # P(cause = state) with no evidence
    supporting: tuple[Contribution, ...]
    conflicting: tuple[Contribution, ...]
    state: str = "yes"                            # the state of the cause being explained

    def __str__(self) -> str:
        name = self.cause if self.state == "yes" else f"{self.cause}={self.state}"
        lines = [f"{name}: {self.prior:.1%} with no answers -> {self.posterior:.1%} now"]
        for title, items in (("supporting", self.supporting), ("against", self.conflicting)):
            for c in items:
                lines.append(f"  {title:<10} {c.node}={c.state}: {c.log_odds:+.2f} log-odds "
                             f"(without it {c.posterior_without:.1%})")
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML table of the same content (what a notebook shows)."""
        def rows(items: tuple[Contribution, ...], cls: str) -> str:
            return "".join(f"<tr class='{cls}'><td>{html.escape(c.node)}={html.escape(c.state)}</td>"
                           f"<td>{c.log_odds:+.2f}</td><td>{c.posterior_without:.1%}</td></tr>" for c in items)
        return (f"<div><p><b>{html.escape(self.cause)}</b>: {self.prior:.1%} with no answers, {self.posterior:.1%} now</p>"
                "<table><tr><th>answer</th><th>log-odds</th><th>without it</th></tr>"
                f"{rows(self.supporting, 'supporting')}{rows(self.conflicting, 'conflicting')}</table></div>")

    _repr_html_ = to_html


def explain(model: Model, evidence: Mapping[str, str], cause: str, state: str = "yes") -> Explanation:
    """Each answer's contribution to P(``cause`` = ``state``): leave-one-out, batched."""
    from .evidence import to_indices
    from .inference.posterior import encode, target_joint

    net = model.network
    items = list(evidence.items())
    sets = [dict(items)] + [dict(items[:i] + items[i + 1 :]) for i in range(len(items))] + [{}]
    lam = encode(net, [to_indices(net, e) for e in sets])
    probs = _cause_probability(model, lam, target_joint(net, lam), cause, state)
    full, prior = float(probs[0]), float(probs[-1])
    contributions = [
        Contribution(node, state, _logit(full) - _logit(float(probs[i + 1])), float(probs[i + 1]))
        for i, (node, state) in enumerate(items)
    ]
    supporting = tuple(sorted((c for c in contributions if c.log_odds > 0), key=lambda c: (-c.log_odds, c.node)))
    conflicting = tuple(sorted((c for c in contributions if c.log_odds < 0), key=lambda c: (c.log_odds, c.node)))
    return Explanation(cause, full, prior, supporting, conflicting, state)


def _cause_probability(model: Model, lam: np.ndarray, tj: object, cause: str, state: str) -> np.ndarray:
    from .inference.posterior import node_target_joints

    net = model.network
    t = net.index[cause]
    joints = node_target_joints(net, lam, tj, [t])   # type: ignore[arg-type]
    return joints[t].sum(axis=1)[:, net.states[t].index(state)]
