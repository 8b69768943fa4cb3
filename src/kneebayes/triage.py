"""Triage: should the runner care for the knee at home or see a doctor, and why.

Pure functions of a model spec, the evidence and (optionally) the posterior;
the rules and their wording live in the model file (``red_flags`` and
``escalations``), never here. Triage says only what it knows; its level is
one of four:

- ``"see_doctor"``: a red flag answered with its state, or an escalation
  (P(cause = yes | evidence) at or above its threshold). Red flags are
  rules, not probabilities: they send the runner to a doctor whatever the
  posterior says.
- ``"self_care"``: every warning-sign question answered with its all-clear
  state and nothing escalates. Only then.
- ``"incomplete"``: no warning sign so far, but warning-sign questions are
  still unanswered, so care at home cannot be called safe yet.
- ``"not_assessed"``: the model has no triage rules (no red flags and no
  escalations), so it cannot tell home care from a doctor's visit.

A soft answer to a warning-sign question (a :class:`~kneebayes.Likelihood`,
"probably") is read for safety first: one that leans towards the red flag's
state fires it, as that answer would; any other ("not sure", "probably
not") leaves the question open, since only a firm all-clear clears it.

>>> import kneebayes
>>> from kneebayes.triage import triage
>>> model = kneebayes.load_model()
>>> t = triage(model.spec, {"locking_or_catching": "yes"}, None)
>>> t.level, t.reasons[0].trigger
('see_doctor', 'locking_or_catching')
>>> triage(model.spec, {}, None).level
'incomplete'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .likelihood import Likelihood
from .modelfile.schema import Escalation, ModelSpec, RedFlag

__all__ = ["INCOMPLETE", "LEVELS", "LEVEL_TITLES", "NOT_ASSESSED", "QUIET_TRIGGER", "SELF_CARE", "SEE_DOCTOR", "CodedAnswers",
           "Reason", "Triage", "WarningSigns", "has_triage_rules", "level_of", "levels", "screened", "triage", "unanswered_red_flags",
           "warning_signs"]

TriageLevel = Literal["see_doctor", "self_care", "incomplete", "not_assessed"]
ReasonKind = Literal["red_flag", "escalation", "self_care", "incomplete", "not_assessed"]
SEE_DOCTOR: TriageLevel = "see_doctor"
SELF_CARE: TriageLevel = "self_care"
INCOMPLETE: TriageLevel = "incomplete"
NOT_ASSESSED: TriageLevel = "not_assessed"
#: Every level, most urgent first.
LEVELS: tuple[TriageLevel, ...] = (SEE_DOCTOR, INCOMPLETE, SELF_CARE, NOT_ASSESSED)

#: How each level is headlined to a runner (CLI, HTML, ``str``).
LEVEL_TITLES: dict[str, str] = {
    SEE_DOCTOR: "See a doctor",
    SELF_CARE: "Self-care",
    INCOMPLETE: "Safety screen not complete",
    NOT_ASSESSED: "Not assessed",
}

#: The trigger of the one reason a self-care triage carries (no node or cause fired).
NO_WARNING_SIGN = "no_warning_sign"
#: The trigger of the one reason an incomplete triage carries.
SCREEN_INCOMPLETE = "screen_incomplete"
#: The trigger of the one reason a not-assessed triage carries.
NO_TRIAGE_RULES = "no_triage_rules"
#: The trigger of the one reason each level without a fired warning sign carries.
QUIET_TRIGGER: dict[str, str] = {SELF_CARE: NO_WARNING_SIGN, INCOMPLETE: SCREEN_INCOMPLETE,
                                 NOT_ASSESSED: NO_TRIAGE_RULES}


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
    """The level (``"see_doctor"``, ``"self_care"``, ``"incomplete"`` or ``"not_assessed"``) with its reasons.

    ``reasons``: for see_doctor, the red flags in the model file's order,
    then the escalations in file order; every other level has exactly one
    reason saying why. ``unanswered_red_flags``: the red-flag node ids not
    yet in the evidence (at every level).
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

    @property
    def title(self) -> str:
        """The level in words for a runner: "See a doctor", "Self-care", "Safety screen not complete", "Not assessed"."""
        return LEVEL_TITLES[self.level]

    def __str__(self) -> str:
        lines = [f"{self.title}:"] + [f"  - {r.text}" for r in self.reasons]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this value."""
        return {
            "level": self.level,
            "title": self.title,
            "reasons": [r.to_dict() for r in self.reasons],
            "unanswered_red_flags": list(self.unanswered_red_flags),
        }


def _state(value: object) -> object:
    """Evidence values as state names: True/False count as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def unanswered_red_flags(spec: ModelSpec, evidence: Mapping[str, object]) -> tuple[str, ...]:
    """The node ids of red flags not yet answered firmly (absent, or a soft answer), in file order, each once."""
    out: list[str] = []
    for flag in spec.red_flags:
        if not isinstance(evidence.get(flag.node, None), (str, bool)) and flag.node not in out:
            out.append(flag.node)
    return tuple(out)


def _as_flag_answers(column: np.ndarray, state: str) -> np.ndarray:
    """A red flag's answers with each soft one read for safety: the flag's state where it leans there, else open."""
    soft = _is_soft(column).astype(bool)
    if not soft.any():
        return column
    column = column.copy()
    for r in np.flatnonzero(soft).tolist():
        column[r] = state if column[r].favoured() == state else None
    return column


def _one(value: object) -> np.ndarray:
    """A one-row object array holding ``value`` (np.array would unpack a Likelihood, a mapping)."""
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


_is_soft = np.frompyfunc(lambda value: isinstance(value, Likelihood), 1, 1)


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
        if node in evidence:   # answered softly: the screen asks, it does not overwrite an answer
            continue
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


def has_triage_rules(spec: ModelSpec) -> bool:
    """The model has red flags or escalations, so triage can assess it."""
    return bool(spec.red_flags or spec.escalations)


def level_of(fired: bool, has_rules: bool, screen_open: bool) -> TriageLevel:
    """The triage level from three facts, for one case (``levels`` for many).

    ``fired``: a red flag or an escalation fired; ``has_rules``: the model
    has triage rules at all; ``screen_open``: some warning-sign question is
    unanswered.

    >>> level_of(True, True, True), level_of(False, True, True), level_of(False, True, False)
    ('see_doctor', 'incomplete', 'self_care')
    >>> level_of(False, False, False)
    'not_assessed'
    """
    return levels(np.array([fired]), has_rules, np.array([screen_open]))[0]   # type: ignore[no-any-return]


def levels(fired: np.ndarray, has_rules: bool, screen_open: np.ndarray) -> np.ndarray:
    """The one level rule, on rows: (rows,) booleans in, (rows,) level names out (an object array).

    A warning sign fired: see a doctor. No triage rules: not assessed. A
    warning-sign question open: incomplete. Else self-care.

    >>> levels(np.array([True, False, False]), True, np.array([False, True, False])).tolist()
    ['see_doctor', 'incomplete', 'self_care']
    """
    fired = np.asarray(fired, dtype=bool)
    if has_rules:   # 0 see_doctor, 1 incomplete, 2 self_care: small codes, then one take of the names
        code = np.where(fired, 0, np.where(screen_open, 1, 2).astype(np.int8))
    else:
        code = np.where(fired, 0, 3).astype(np.int8)
    return _LEVEL_NAMES.take(code)


_LEVEL_NAMES = np.array([SEE_DOCTOR, INCOMPLETE, SELF_CARE, NOT_ASSESSED], dtype=object)


@dataclass(frozen=True, eq=False)
class CodedAnswers:
    """A column of answers as its few distinct answers and, per case, which one: case ``r`` answered
    ``values[codes[r]]`` (a negative code counts from the end, as numpy indexes).

    ``warning_signs`` reads each distinct answer once and spreads the result
    over the cases with one take, instead of reading every case's cell.

    >>> import numpy as np
    >>> column = CodedAnswers(np.array(["yes", "no", None], dtype=object), np.array([0, -1, 1, 0]))
    >>> column.values[column.codes].tolist()
    ['yes', None, 'no', 'yes']
    """

    values: np.ndarray   # (distinct answers,) object: state names, soft answers (Likelihood), None
    codes: np.ndarray    # (cases,) integers indexing values


@dataclass(frozen=True, eq=False)
class WarningSigns:
    """Which warning signs fire in each case (``warning_signs``).

    ``rules``: the red flags in file order, then the escalations in file
    order; ``fired`` (rows, rules); ``screen_open`` (rows,): some
    red-flag question is unanswered.
    """

    rules: tuple[RedFlag | Escalation, ...]
    fired: np.ndarray
    screen_open: np.ndarray

    def levels(self, spec: ModelSpec) -> np.ndarray:
        """Each case's triage level (``levels``)."""
        return levels(self.fired.any(axis=1), has_triage_rules(spec), self.screen_open)


def warning_signs(spec: ModelSpec, answers: Mapping[str, np.ndarray | CodedAnswers], rows: int,
                  yes_probability: Mapping[str, np.ndarray] | None = None) -> WarningSigns:
    """The warning-sign rules on rows of cases: the one place they are written, for a Diagnosis and a batch.

    ``answers[node]``: each case's state name or soft answer (Likelihood)
    for a red-flag node (an object array, None where unanswered; or a
    :class:`CodedAnswers`, the column's distinct answers and which one each
    case gave, read once per distinct answer; a node left out is unanswered
    everywhere; a soft answer is read as the module docstring says). ``yes_probability[cause]``: each case's P(cause = yes);
    an escalation whose cause is missing (or all of them, when None) is not
    evaluated and never fires. A red flag fires when its node is answered
    with its state; an escalation when the probability is at or above its
    threshold (NaN never fires).

    >>> import numpy as np, kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> signs = warning_signs(spec, {"locking_or_catching": np.array(["yes", None], dtype=object)}, 2)
    >>> signs.levels(spec).tolist()
    ['see_doctor', 'incomplete']
    """
    fired, rules = [], []
    screen_open = np.zeros(rows, dtype=bool)
    for flag in spec.red_flags:
        given = answers.get(flag.node)
        rules.append(flag)
        if given is None:   # never answered: open everywhere, fires nowhere
            fired.append(np.zeros(rows, dtype=bool))
            screen_open[:] = True
            continue
        coded = isinstance(given, CodedAnswers)
        column = _as_flag_answers(given.values if coded else given, flag.state)
        fires, open_ = np.equal(column, flag.state).astype(bool), np.equal(column, None).astype(bool)
        if coded:   # read once per distinct answer, spread over the cases
            codes = given.codes  # type: ignore[union-attr]
            fires, open_ = fires[codes], open_[codes]   # (indexing: twice as fast as take on int8 codes)
        fired.append(fires)
        screen_open |= open_
    for esc in spec.escalations:
        p = None if yes_probability is None else yes_probability.get(esc.cause)
        if p is None:
            continue
        with np.errstate(invalid="ignore"):
            fired.append(np.asarray(p, dtype=float) >= esc.threshold)
        rules.append(esc)
    matrix = np.stack(fired, axis=1).astype(bool) if fired else np.zeros((rows, 0), dtype=bool)
    return WarningSigns(tuple(rules), matrix, screen_open)


def triage(spec: ModelSpec, evidence: Mapping[str, object], posterior: Mapping[str, float] | None = None) -> Triage:
    """The triage level with every reason, for one case (``warning_signs`` on a batch of one).

    ``evidence`` maps node ids to state names (True/False read as yes/no).
    ``posterior`` maps cause ids to P(yes | evidence); when None, or when it
    lacks an escalation's cause, that escalation is not evaluated (red flags
    never need it). An escalation fires when the posterior is at or above
    its threshold.
    """
    answers = {node: _one(_state(evidence[node])) for node in {f.node for f in spec.red_flags} if node in evidence}
    probs = None if posterior is None else {c: np.array([float(p)]) for c, p in posterior.items()}
    signs = warning_signs(spec, answers, 1, probs)
    reasons: list[Reason] = []
    for rule, fired in zip(signs.rules, signs.fired[0].tolist()):
        if not fired:
            continue
        if isinstance(rule, RedFlag):
            reasons.append(Reason(rule.node, rule.text, rule.source, "red_flag"))
        else:
            p = float(posterior[rule.cause])   # type: ignore[index]
            reasons.append(Reason(rule.cause, _with_estimate(rule.text, p), rule.source, "escalation", p))
    unanswered = unanswered_red_flags(spec, evidence)
    level = signs.levels(spec)[0]
    if level == SEE_DOCTOR:
        return Triage(level, tuple(reasons), unanswered)
    return Triage(level, (_reason(spec, level, unanswered),), unanswered)


def _reason(spec: ModelSpec, level: TriageLevel, unanswered: tuple[str, ...]) -> Reason:
    """The one reason of a level that no warning sign fired."""
    if level == NOT_ASSESSED:
        return Reason(QUIET_TRIGGER[level], "This model has no triage rules (no warning signs and no escalations), so it "
                      "cannot say whether care at home is enough; ask a professional if in doubt.", "", "not_assessed")
    care = "care at home is reasonable" + (", as the care plan describes" if spec.care else "")
    if level == SELF_CARE:
        n = len({f.node for f in spec.red_flags})
        if n == 0:
            text = f"No escalation applies, so {care}."
        elif n == 1:
            text = f"No warning sign was reported (the one warning-sign question answered), so {care}."
        else:
            text = f"No warning sign was reported (all {n} warning-sign questions answered), so {care}."
        return Reason(QUIET_TRIGGER[level], text, _sources(spec), "self_care")
    labels = "; ".join(_label(spec, n) for n in unanswered)
    n = len(unanswered)
    open_ = "this warning-sign question is" if n == 1 else f"these {n} warning-sign questions are"
    return Reason(QUIET_TRIGGER[level], f"No warning sign so far, but the safety screen is not complete: {open_} "
                  f"still unanswered: {labels}. Answer {'it' if n == 1 else 'them'} before relying on care at home.",
                  _sources(spec), "incomplete")


def _label(spec: ModelSpec, node_id: str) -> str:
    try:
        return spec.node(node_id).label
    except KeyError:
        return node_id
