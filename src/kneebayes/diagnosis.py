"""The Diagnosis value: what a model concludes from one set of evidence.

A Diagnosis costs no more than its posterior: everything else (rankings,
and what later issues add) is computed when first asked for, then cached.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import KneeBayesError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .model import Model


class cached_property:  # noqa: N801 - a lock-free functools.cached_property (3.11's takes a lock per access)
    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__
        self.name = func.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced a result: name, version and the hash of its parameters."""

    name: str
    version: str
    content_hash: str


class Diagnosis:
    """Posterior of the causes given the evidence, and the probability of the evidence.

    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
    >>> max(dx.posterior, key=dx.posterior.get)
    'nerve_irritation'
    >>> 0.0 < dx.evidence_probability < 1.0
    True
    """

    def __init__(self, model: Model, evidence: Mapping[str, str], target_marginals: np.ndarray,
                 joint: np.ndarray, log_evidence: float, lam: np.ndarray) -> None:
        self._model = model
        self._evidence = MappingProxyType(dict(evidence))
        self._marg = target_marginals   # concatenated distributions of the targets
        self._joint = joint             # (K,) joint of the enumerated targets
        self._log_evidence = log_evidence
        self._lam = lam                 # (1, n, max_card) encoded evidence, for later questions

    @property
    def model(self) -> ModelInfo:
        """Name, version and content hash of the model that produced this diagnosis."""
        return self._model.info

    @property
    def evidence(self) -> Mapping[str, str]:
        """The evidence as used: node id -> state name."""
        return self._evidence

    @property
    def evidence_probability(self) -> float:
        """P(evidence) under the model."""
        return math.exp(self._log_evidence)

    @property
    def log_evidence_probability(self) -> float:
        """log P(evidence): exact even where P(evidence) itself would underflow."""
        return self._log_evidence

    @cached_property
    def distributions(self) -> Mapping[str, Mapping[str, float]]:
        """For every target: its posterior distribution over its states."""
        out: dict[str, Mapping[str, float]] = {}
        start = 0
        for t in self._model._target_ids:
            states = self._model._states[t]
            values = self._marg[start : start + len(states)]
            out[t] = MappingProxyType({s: float(v) for s, v in zip(states, values)})
            start += len(states)
        return MappingProxyType(out)

    @cached_property
    def posterior(self) -> Mapping[str, float]:
        """For each cause: P(cause = yes | evidence). Needs yes/no targets; else see distributions."""
        yes = self._model._yes_positions
        if yes is None:
            raise KneeBayesError("this model has targets with more than yes/no states: use Diagnosis.distributions")
        return MappingProxyType(dict(zip(self._model._target_ids, self._marg[yes].tolist())))

    @cached_property
    def ranked_causes(self) -> tuple[tuple[str, float], ...]:
        """Causes with P(yes | evidence), most probable first (ties by id)."""
        return tuple(sorted(self.posterior.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: model, evidence, posterior (or distributions) and P(evidence)."""
        out: dict[str, Any] = {
            "model": {"name": self.model.name, "version": self.model.version, "content_hash": self.model.content_hash},
            "evidence": dict(self._evidence),
            "evidence_probability": self.evidence_probability,
        }
        if self._model._binary_targets:
            out["posterior"] = dict(self.posterior)
        out["distributions"] = {k: dict(v) for k, v in self.distributions.items()}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        lines = [f"{self.model.name} {self.model.version}: P(cause | evidence)"]
        labels = {t: self._model.node(t).label for t in self._model.causes}
        if self._model._binary_targets:
            width = max(len(labels[t]) for t in labels)
            for t, p in self.ranked_causes:
                bar = "#" * round(p * 30)
                lines.append(f"  {labels[t]:<{width}}  {p:6.1%}  {bar}")
        else:
            for t, dist in self.distributions.items():
                lines.append(f"  {labels[t]}: " + ", ".join(f"{s}={p:.3f}" for s, p in dist.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in list(self.ranked_causes)[:3]) if self._model._binary_targets else "..."
        return f"<Diagnosis {self.model.name} {self.model.version}: {shown}>"
