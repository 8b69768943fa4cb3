"""The Diagnosis value: what a model concludes from one set of evidence.

A Diagnosis costs no more than its posterior: the question ranking,
stopping, triage, care plan and explanations are computed when first
asked for, then cached on the (otherwise immutable) value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import KneeBayesError, UnknownNodeError
from .questions import Question, Rationale, Settings, StopReason, rank, stop_reason

if TYPE_CHECKING:
    from .care import CareAdvice
    from .explain import Explanation
    from .inference.posterior import TargetJoint
    from .model import Model
    from .triage import Triage


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
    """Posterior of the causes given the evidence, and everything that follows from it.

    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
    >>> max(dx.posterior, key=dx.posterior.get)
    'nerve_irritation'
    >>> 0.0 < dx.evidence_probability < 1.0
    True
    >>> dx.next_question.expected_information_gain > 0
    True
    >>> dx.triage.level
    'see_doctor'
    """

    def __init__(self, model: Model, evidence: Mapping[str, str], target_marginals: np.ndarray,
                 tj: TargetJoint, lam: np.ndarray, settings: Settings, skipped: frozenset[str]) -> None:
        d = self.__dict__   # the value is immutable: fields are set here once, never through setattr
        d["_model"] = model
        d["_evidence"] = MappingProxyType(evidence)   # a fresh dict made by the model, never shared
        d["_marg"] = target_marginals   # concatenated distributions of the targets
        d["_tj"] = tj
        d["_log_evidence"] = float(tj.log_evidence[0])
        d["_lam"] = lam                 # (1, n, max_card) encoded evidence
        d["_settings"] = settings
        d["_skipped"] = skipped

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Diagnosis is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Diagnosis is immutable; cannot delete {name!r}")

    # -- the posterior ------------------------------------------------------------------
    @property
    def model(self) -> ModelInfo:
        """Name, version and content hash of the model that produced this diagnosis."""
        return self._model.info

    @property
    def evidence(self) -> Mapping[str, str]:
        """The evidence as used: node id -> state name."""
        return self._evidence

    @property
    def skipped(self) -> frozenset[str]:
        """Questions the person could not answer ("don't know"): never asked again."""
        return self._skipped

    @property
    def settings(self) -> Settings:
        """The settings this diagnosis ranks questions and decides stopping with."""
        return self._settings

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
        values = self._marg.tolist()
        for t in self._model.causes:
            states = self._model._states[t]
            out[t] = MappingProxyType(dict(zip(states, values[start : start + len(states)])))
            start += len(states)
        return MappingProxyType(out)

    @cached_property
    def posterior(self) -> Mapping[str, float]:
        """For each cause: P(cause = yes | evidence). Needs yes/no targets; else see distributions."""
        yes = self._model._yes_positions
        if yes is None:
            raise KneeBayesError("this model has targets with more than yes/no states: use Diagnosis.distributions")
        return MappingProxyType(dict(zip(self._model.causes, self._marg[yes].tolist())))

    @cached_property
    def ranked_causes(self) -> tuple[tuple[str, float], ...]:
        """Causes with P(yes | evidence), most probable first (ties by id)."""
        return tuple(sorted(self.posterior.items(), key=lambda kv: (-kv[1], kv[0])))

    @cached_property
    def leading_probability(self) -> float:
        """The largest, over the targets, of P(not in its normal state), or of its likeliest state for a
        target without a normal state: what the ``confident`` stop rule compares with ``confidence``.

        Each target counts one number, and this is the largest:

        * a target with a normal (no-fault) state (``Model.normal_states``;
          ``no`` for a yes/no cause) counts the probability that it is *not*
          normal, 1 - P(normal): for a yes/no cause, P(yes);
        * a target without one (CHILD's ``Disease``, whose six states are all
          diseases) counts its largest state probability.

        So "confident" means some target is confidently in an abnormal state
        (a fault or disease found), never that something is healthy.

        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
        >>> dx.leading_probability == max(dx.posterior.values())
        True
        """
        return float(self._model._leading(self._marg)) if len(self._marg) else 0.0

    def _leading_target(self) -> tuple[str, str, bool] | None:
        """Which target gives ``leading_probability``: (target, state, is_normal_state).

        With ``is_normal_state`` True the number is P(target is not ``state``);
        otherwise it is P(target = ``state``). None when there are no targets.
        """
        best: tuple[float, str, str, bool] | None = None
        normals = self._model.normal_states
        for t, dist in self.distributions.items():
            normal = normals[t]
            if normal is not None:
                value, state = math.fsum(p for s, p in dist.items() if s != normal), normal
            else:
                state = max(dist, key=lambda s: dist[s])
                value = dist[state]
            if best is None or value > best[0] or (value == best[0] and t < best[1]):   # ties by id
                best = (value, t, state, normal is not None)
        return None if best is None else best[1:]

    # -- questions and stopping ---------------------------------------------------------
    @cached_property
    def ranked_questions(self) -> tuple[Question, ...]:
        """Every unanswered, unskipped askable node, best first (see ``Settings`` for the score)."""
        return self._questions[0]

    @property
    def gain_measure(self) -> str:
        """Which information the gains measure: ``"joint"`` (entropy of the targets' joint, while it
        has at most 4,096 states) or ``"sum_of_marginals"`` (the sum of each target's own gain)."""
        return self._questions[1]

    @cached_property
    def _questions(self) -> tuple[tuple[Question, ...], str]:
        from .inference.gain import expected_information_gains

        model = self._model
        asked = self._evidence.keys() | self._skipped
        open_nodes = [(i, n) for i, n in model._askable if n.id not in asked]
        gains = expected_information_gains(model.network, self._lam, self._tj, [i for i, _ in open_nodes])
        red = set(model.red_flag_nodes)
        weight, costs = self._settings.cost_weight, model._costs
        questions = [
            Question(n.id, n.question, g, costs[n.id], g - weight * costs[n.id], n.id in red)
            for (_, n), g in zip(open_nodes, gains.gains.tolist())
        ]
        settled = stop_reason(questions, self.leading_probability, self._settings) is not None
        return rank(questions, promote_red_flags=settled and self._settings.screen_red_flags), gains.measure

    @property
    def next_question(self) -> Question | None:
        """The first of ``ranked_questions``, or None when nothing is left to ask.

        Stays available when ``should_stop`` is True, so a caller may go on.
        """
        ranked = self.ranked_questions
        return ranked[0] if ranked else None

    @cached_property
    def stop_reason(self) -> StopReason | None:
        """Why asking could stop now, or None. Unanswered red flags keep the interview going."""
        reason = stop_reason(self.ranked_questions, self.leading_probability, self._settings)
        if reason is StopReason.NOTHING_LEFT or reason is None:
            return reason
        if self._settings.screen_red_flags and any(q.red_flag for q in self.ranked_questions):
            return None  # the safety screen comes before stopping
        return reason

    @property
    def should_stop(self) -> bool:
        """True when the leading cause is confident enough, nothing is worth asking, or nothing is left."""
        return self.stop_reason is not None

    def rationale(self, question_id: str) -> Rationale:
        """How each answer to ``question_id`` would move each cause, with the answers' probabilities."""
        from .questions import AnswerEffect

        question = next((q for q in self.ranked_questions if q.id == question_id), None)
        if question is None:
            valid = [q.id for q in self.ranked_questions]
            raise UnknownNodeError(question_id, valid, what="open question")
        effects = []
        for state in self._model.node(question_id).states:
            try:
                after = self._model.diagnose({**self._evidence, question_id: state})
            except KneeBayesError:
                effects.append(AnswerEffect(state, 0.0, MappingProxyType(dict(self._summary()))))
                continue
            p = math.exp(after.log_evidence_probability - self._log_evidence)
            effects.append(AnswerEffect(state, min(p, 1.0), MappingProxyType(dict(after._summary()))))
        return Rationale(question, MappingProxyType(dict(self._summary())), tuple(effects))

    def _summary(self) -> Mapping[str, float]:
        if self._model._yes_positions is not None:
            return self.posterior
        return {f"{t}={s}": p for t, d in self.distributions.items() for s, p in d.items()}

    # -- triage, care, explanations -------------------------------------------------------
    @cached_property
    def triage(self) -> Triage:
        """self_care or see_doctor, with the reasons (red flags answered, causes needing imaging)."""
        from .triage import triage

        post = self.posterior if self._model._yes_positions is not None else None
        return triage(self._model.spec, self._evidence, post)

    @cached_property
    def care_plan(self) -> tuple[CareAdvice, ...]:
        """The article's advice for the likely causes, most relevant first, each with its source."""
        from .care import care_plan

        post = self.posterior if self._model._yes_positions is not None else {}
        return care_plan(self._model.spec, post, self.triage.level)

    def explain(self, cause: str, state: str | None = None) -> Explanation:
        """Each answer's contribution to ``cause`` being in ``state``: supporting and conflicting, largest first.

        ``state`` defaults to "yes" for a yes/no target and to the most
        probable state now for a multi-state target.
        """
        if cause not in self._model.causes:
            raise UnknownNodeError(cause, self._model.causes, what="cause")
        states = self._model._states[cause]
        if state is None:
            dist = self.distributions[cause]
            state = "yes" if "yes" in states and len(states) == 2 else max(dist, key=lambda s: (dist[s], s))
        elif state not in states:
            from .errors import InvalidStateError

            raise InvalidStateError(cause, state, states)
        cache = self.__dict__.setdefault("_explanations", {})
        if (cause, state) not in cache:
            from .explain import explain

            cache[(cause, state)] = explain(self._model, self._evidence, cause, state)
        return cache[(cause, state)]

    # -- output ------------------------------------------------------------------------
    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        """A JSON-ready summary: model, evidence, posterior (or distributions) and P(evidence).

        With ``full=True`` also the next question, stop state, triage and care plan.
        """
        out: dict[str, Any] = {
            "model": {"name": self.model.name, "version": self.model.version, "content_hash": self.model.content_hash},
            "evidence": dict(self._evidence),
            "evidence_probability": self.evidence_probability,
        }
        if self._model._yes_positions is not None:
            out["posterior"] = dict(self.posterior)
        out["distributions"] = {k: dict(v) for k, v in self.distributions.items()}
        if full:
            q = self.next_question
            out["next_question"] = None if q is None else {
                "id": q.id, "text": q.text, "expected_information_gain": q.expected_information_gain,
                "cost": q.cost, "score": q.score}
            out["should_stop"] = self.should_stop
            out["stop_reason"] = None if self.stop_reason is None else self.stop_reason.value
            out["triage"] = self.triage.to_dict()
            out["care_plan"] = [a.to_dict() for a in self.care_plan]
        return out

    def to_json(self, *, full: bool = False) -> str:
        """``to_dict()`` as indented JSON."""
        return json.dumps(self.to_dict(full=full), indent=2)

    def to_html(self) -> str:
        """An HTML summary: posterior bars, triage and reasons, next question, top care items."""
        from .display.html import diagnosis_html

        return diagnosis_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        lines = [f"{self.model.name} {self.model.version}: P(cause | evidence)"]
        labels = {t: self._model.node(t).label for t in self._model.causes}
        if self._model._yes_positions is not None:
            width = max((len(v) for v in labels.values()), default=0)
            for t, p in self.ranked_causes:
                lines.append(f"  {labels[t]:<{width}}  {p:6.1%}  {'#' * round(p * 30)}")
        else:
            for t, dist in self.distributions.items():
                lines.append(f"  {labels[t]}: " + ", ".join(f"{s}={p:.3f}" for s, p in dist.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in list(self.ranked_causes)[:3]) if self._model._yes_positions is not None else "..."
        return f"<Diagnosis {self.model.name} {self.model.version}: {shown}>"
