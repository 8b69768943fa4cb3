"""Triage: should the runner care for the knee at home or see a doctor, and why.

Pure functions of a model spec, the evidence and (optionally) the posterior;
the rules and their wording live in the model file (``red_flags`` and
``escalations``), never here.

- Any red flag answered with its state sends the runner to a doctor, whatever
  the posterior says: red flags are rules, not probabilities.
- An escalation sends the runner to a doctor when P(cause = yes | evidence)
  reaches its threshold.
- Otherwise the level is self-care, with one reason saying that no warning
  sign was reported and which warning-sign questions are still unanswered,
  so a caller can tell a finished screen from an unfinished one.

>>> import kneebayes
>>> from kneebayes.triage import triage
>>> model = kneebayes.load_model()
>>> t = triage(model.spec, {"locking_or_catching": "yes"}, None)
>>> t.level, t.reasons[0].trigger
('see_doctor', 'locking_or_catching')
>>> triage(model.spec, {}, None).level
'self_care'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .modelfile.schema import ModelSpec

__all__ = ["SELF_CARE", "SEE_DOCTOR", "Reason", "Triage", "screened", "triage", "unanswered_red_flags"]

TriageLevel = Literal["self_care", "see_doctor"]
ReasonKind = Literal["red_flag", "escalation", "self_care"]
SELF_CARE: TriageLevel = "self_care"
SEE_DOCTOR: TriageLevel = "see_doctor"

#: The trigger of the one reason a self-care triage carries (no node or cause fired).
NO_WARNING_SIGN = "no_warning_sign"


@dataclass(frozen=True)
class Reason:
    """Why triage chose its level.

    ``trigger`` is the red flag's node id, the escalation's cause id, or
    ``"no_warning_sign"`` for the self-care reason. ``text`` is a plain
    sentence for the runner; ``source`` the article heading(s) it rests on.
    ``probability`` is the cause's posterior for an escalation, else None.
    """

    trigger: str
    text: str
    source: str
    kind: ReasonKind
    probability: float | None = None

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this value."""
        return {"trigger": self.trigger, "kind": self.kind, "text": self.text, "source": self.source,
                "probability": self.probability}


@dataclass(frozen=True)
class Triage:
    """The level (``"self_care"`` or ``"see_doctor"``) with its reasons.

    ``reasons``: red flags in the model file's order, then escalations in
    file order; a self-care triage has exactly one reason. ``unanswered_red_flags``:
    the red-flag node ids not yet in the evidence (at either level).
    """

    level: TriageLevel
    reasons: tuple[Reason, ...]
    unanswered_red_flags: tuple[str, ...] = ()

    @property
    def see_doctor(self) -> bool:
        """True when the level is see_doctor."""
        return self.level == SEE_DOCTOR

    @property
    def screen_complete(self) -> bool:
        """Every red-flag question has been answered."""
        return not self.unanswered_red_flags

    def __str__(self) -> str:
        head = "See a doctor" if self.see_doctor else "Self-care"
        lines = [f"{head}:"] + [f"  - {r.text}" for r in self.reasons]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this value."""
        return {
            "level": self.level,
            "reasons": [r.to_dict() for r in self.reasons],
            "unanswered_red_flags": list(self.unanswered_red_flags),
        }


def _state(value: object) -> object:
    """Evidence values as state names: True/False count as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def unanswered_red_flags(spec: ModelSpec, evidence: Mapping[str, object]) -> tuple[str, ...]:
    """The node ids of red flags not yet in the evidence, in file order, each once."""
    out: list[str] = []
    for flag in spec.red_flags:
        if flag.node not in evidence and flag.node not in out:
            out.append(flag.node)
    return tuple(out)


def screened(spec: ModelSpec, evidence: Mapping[str, str]) -> dict[str, str]:
    """The evidence after the safety screen: every open red-flag question answered with its all-clear state.

    This is what an interview that asks every warning-sign question before
    it stops produces for a runner who reports no further warning sign. A
    red-flag node's all-clear state is its one state that raises no flag
    (``no`` for the knee's yes/no warning signs); a node with more than one
    such state has no single all-clear answer and is left open.

    >>> import kneebayes
    >>> from kneebayes.triage import screened
    >>> ev = screened(kneebayes.load_model().spec, {"locking_or_catching": "yes"})
    >>> ev["locking_or_catching"], ev["swelling_behind_knee"], len(ev)
    ('yes', 'no', 9)
    """
    out = dict(evidence)
    flagged: dict[str, set[str]] = {}
    for flag in spec.red_flags:
        flagged.setdefault(flag.node, set()).add(flag.state)
    states = {n.id: n.states for n in spec.nodes}
    for node in unanswered_red_flags(spec, evidence):
        clear = [s for s in states[node] if s not in flagged[node]]
        if len(clear) == 1:
            out[node] = clear[0]
    return out


def _with_estimate(text: str, p: float) -> str:
    estimate = f" (estimated {p:.0%})"
    stripped = text.rstrip()
    if stripped.endswith("."):
        return stripped[:-1] + estimate + "."
    return stripped + estimate


def _sources(spec: ModelSpec) -> str:
    seen: list[str] = []
    for flag in spec.red_flags:
        if flag.source not in seen:
            seen.append(flag.source)
    return "; ".join(seen)


def triage(spec: ModelSpec, evidence: Mapping[str, object], posterior: Mapping[str, float] | None = None) -> Triage:
    """Self-care or see a doctor, with every reason.

    ``evidence`` maps node ids to state names (True/False read as yes/no).
    ``posterior`` maps cause ids to P(yes | evidence); when None, or when it
    lacks an escalation's cause, that escalation is not evaluated (red flags
    never need it). An escalation fires when the posterior is at or above
    its threshold.
    """
    reasons: list[Reason] = []
    for flag in spec.red_flags:
        if flag.node in evidence and _state(evidence[flag.node]) == flag.state:
            reasons.append(Reason(flag.node, flag.text, flag.source, "red_flag"))
    if posterior is not None:
        for esc in spec.escalations:
            p = posterior.get(esc.cause)
            if p is not None and p >= esc.threshold:
                reasons.append(Reason(esc.cause, _with_estimate(esc.text, float(p)), esc.source, "escalation", float(p)))
    unanswered = unanswered_red_flags(spec, evidence)
    if reasons:
        return Triage(SEE_DOCTOR, tuple(reasons), unanswered)
    return Triage(SELF_CARE, (Reason(NO_WARNING_SIGN, _self_care_text(spec, unanswered), _sources(spec), "self_care"),),
                  unanswered)


def _self_care_text(spec: ModelSpec, unanswered: tuple[str, ...]) -> str:
    care = "care at home as the care plan describes is reasonable"
    if not spec.red_flags:
        return f"The model lists no warning signs, so {care}."
    if not unanswered:
        n = len({f.node for f in spec.red_flags})
        return f"No warning sign was reported (all {n} warning-sign questions answered), so {care}."
    labels = "; ".join(_label(spec, n) for n in unanswered)
    return (f"No warning sign was reported, so {care}; but these warning-sign questions are still unanswered: "
            f"{labels}.")


def _label(spec: ModelSpec, node_id: str) -> str:
    try:
        return spec.node(node_id).label
    except KeyError:
        return node_id
