"""The interview session: a thin, stateful holder of one person's answers.

All the reasoning lives in :class:`~kneebayes.diagnosis.Diagnosis`; the
session only records answers, skips and undos, and checks each change
before applying it, so a bad answer leaves the session as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import EvidenceError, KneeBayesError, UnknownNodeError
from .evidence import normalize

if TYPE_CHECKING:
    from .diagnosis import Diagnosis
    from .model import Model
    from .questions import Question

_FORMAT = "kneebayes-interview/1"


class AlreadyAnsweredError(EvidenceError):
    """The question was answered (or skipped) already; undo first to change it."""


@dataclass(frozen=True)
class Step:
    """One change to the session and the posterior it led to."""

    action: str                  # "answer" or "skip"
    node: str
    value: str | None            # the state answered; None for a skip
    posterior: Mapping[str, float]


class Interview:
    """Ask the most informative question, record the answer, repeat until told to stop.

    >>> import kneebayes
    >>> session = kneebayes.Interview(kneebayes.load_model())
    >>> q = session.next_question()
    >>> dx = session.answer(q.id, "no")
    >>> dx = session.skip(session.next_question().id)
    >>> len(session.history), session.answers == {q.id: "no"}
    (2, True)
    >>> dx = session.undo(); dx = session.undo(); session.answers
    {}
    """

    def __init__(self, model: Model, *, screen_red_flags: bool = True, confidence: float | None = None,
                 cost_weight: float | None = None, min_gain: float | None = None) -> None:
        self._model = model
        self._options: dict[str, Any] = {
            "screen_red_flags": screen_red_flags, "confidence": confidence,
            "cost_weight": cost_weight, "min_gain": min_gain,
        }
        self._answers: dict[str, str] = {}
        self._skipped: list[str] = []
        self._steps: list[Step] = []
        self._diagnosis: Diagnosis | None = None

    @property
    def model(self) -> Model:
        """The model this session asks about."""
        return self._model

    @property
    def answers(self) -> dict[str, str]:
        """The answers so far, in the order given (a copy)."""
        return dict(self._answers)

    @property
    def skipped(self) -> tuple[str, ...]:
        """Questions answered "don't know", in order."""
        return tuple(self._skipped)

    @property
    def history(self) -> tuple[Step, ...]:
        """Every answer and skip in order, each with the posterior after it."""
        return tuple(self._steps)

    @property
    def diagnosis(self) -> Diagnosis:
        """The diagnosis for the answers so far."""
        if self._diagnosis is None:
            self._diagnosis = self._diagnose(self._answers, self._skipped)
        return self._diagnosis

    def next_question(self) -> Question | None:
        """The question to ask now, or None when the interview should stop."""
        dx = self.diagnosis
        return None if dx.should_stop else dx.next_question

    def answer(self, node: str, value: str | bool) -> Diagnosis:
        """Record an answer; raises (leaving the session unchanged) if it is unknown, invalid or impossible."""
        self._check_open(node)
        (state,) = normalize(self._model.network, {node: value}).values()
        answers = {**self._answers, node: state}
        dx = self._diagnose(answers, self._skipped)   # raises ImpossibleEvidenceError before any change
        self._answers = answers
        self._commit("answer", node, state, dx)
        return dx

    def skip(self, node: str) -> Diagnosis:
        """The person does not know: never ask this again."""
        self._check_open(node)
        skipped = [*self._skipped, node]
        dx = self._diagnose(self._answers, skipped)
        self._skipped = skipped
        self._commit("skip", node, None, dx)
        return dx

    def undo(self) -> Diagnosis:
        """Take back the last answer or skip."""
        if not self._steps:
            raise KneeBayesError("nothing to undo: no question has been answered or skipped")
        last = self._steps.pop()
        if last.action == "answer":
            del self._answers[last.node]
        else:
            self._skipped.remove(last.node)
        self._diagnosis = None
        return self.diagnosis

    def _check_open(self, node: str) -> None:
        net = self._model.network
        if node not in net.index:
            raise UnknownNodeError(node, net.names)
        if node in self._answers:
            raise AlreadyAnsweredError(f"'{node}' is already answered ({self._answers[node]}); undo it before answering again")
        if node in self._skipped:
            raise AlreadyAnsweredError(f"'{node}' was skipped; undo it before answering")

    def _diagnose(self, answers: Mapping[str, str], skipped: list[str]) -> Diagnosis:
        return self._model.diagnose(answers, skipped=skipped, **self._options)

    def _commit(self, action: str, node: str, value: str | None, dx: Diagnosis) -> None:
        self._diagnosis = dx
        summary = dx.posterior if self._model._yes_positions is not None else {
            f"{t}={s}": p for t, d in dx.distributions.items() for s, p in d.items()}
        self._steps.append(Step(action, node, value, MappingProxyType(dict(summary))))

    # -- saving and resuming ----------------------------------------------------------
    def to_json(self) -> str:
        """The session as JSON: model identity, options and the steps in order."""
        info = self._model.info
        return json.dumps({
            "format": _FORMAT,
            "model": {"name": info.name, "version": info.version, "content_hash": info.content_hash},
            "options": self._options,
            "steps": [{"action": s.action, "node": s.node, "value": s.value} for s in self._steps],
        }, indent=2)

    @classmethod
    def from_json(cls, model: Model, text: str) -> Interview:
        """Resume a saved session on ``model``; the model must be the one it was saved with."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KneeBayesError(f"not a saved interview: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise KneeBayesError(f"not a saved interview (format should be {_FORMAT!r})")
        saved = data.get("model", {})
        if saved.get("content_hash") != model.content_hash:
            raise KneeBayesError(
                f"the interview was saved with model {saved.get('name')} {saved.get('version')} "
                f"(hash {str(saved.get('content_hash'))[:12]}), not {model.name} {model.version} "
                f"(hash {model.content_hash[:12]}); its answers may not mean the same here")
        session = cls(model, **{k: v for k, v in data.get("options", {}).items()
                                if k in ("screen_red_flags", "confidence", "cost_weight", "min_gain")})
        for step in data.get("steps", []):
            if step.get("action") == "answer":
                session.answer(step["node"], step["value"])
            elif step.get("action") == "skip":
                session.skip(step["node"])
            else:
                raise KneeBayesError(f"unknown step in saved interview: {step!r}")
        return session
