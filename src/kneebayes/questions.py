"""Which question to ask next, when to stop, and why a question is worth asking.

Pure functions over gains computed in :mod:`kneebayes.inference.gain`; the
Diagnosis calls them lazily and caches the result.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .modelfile.schema import InterviewSettings
from .pickling import reduce_frozen

# One set of defaults: the model file's (used when a file says nothing).
DEFAULT_CONFIDENCE = InterviewSettings.confidence
DEFAULT_COST_WEIGHT = InterviewSettings.cost_weight
DEFAULT_MIN_GAIN = InterviewSettings.min_gain


class StopReason(str, enum.Enum):
    """Why an interview may stop."""

    CONFIDENT = "confident"                        # some target is not normal with P >= confidence (leading_probability)
    NOTHING_WORTH_ASKING = "nothing_worth_asking"  # no question's gain is worth its cost
    NOTHING_LEFT = "nothing_left"                  # every askable question is answered or skipped

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Settings:
    """How questions are scored and when to stop (defaults come from the model file).

    A question's ``score`` is its expected information gain (bits) minus
    ``cost_weight`` times its cost: gain net of effort, so a cheap question
    wins over a costly one of similar gain. A question is worth asking when
    its gain is at least ``min_gain`` and its score is positive.
    """

    confidence: float = DEFAULT_CONFIDENCE
    cost_weight: float = DEFAULT_COST_WEIGHT
    min_gain: float = DEFAULT_MIN_GAIN
    screen_red_flags: bool = True


@dataclass(frozen=True)
class Question:
    """A candidate question with its value to the diagnosis."""

    id: str
    text: str
    expected_information_gain: float   # bits, about the causes' joint
    cost: float
    score: float                       # gain - cost_weight * cost
    red_flag: bool = False

    def worth_asking(self, settings: Settings) -> bool:
        """Whether its gain reaches ``min_gain`` and its score (net of cost) is positive."""
        return self.expected_information_gain >= settings.min_gain and self.score > 0.0


def rank(questions: Sequence[Question], *, promote_red_flags: bool) -> tuple[Question, ...]:
    """Best first: by score, ties by id; pending red flags first when ``promote_red_flags``."""
    ordered = sorted(questions, key=lambda q: (-q.score, q.id))
    if promote_red_flags:
        ordered = [q for q in ordered if q.red_flag] + [q for q in ordered if not q.red_flag]
    return tuple(ordered)


def stop_reason(questions: Sequence[Question], leading: float, settings: Settings) -> StopReason | None:
    """Why the interview could stop now, ignoring the red-flag screen (None: keep asking)."""
    if not questions:
        return StopReason.NOTHING_LEFT
    if leading >= settings.confidence:
        return StopReason.CONFIDENT
    if not any(q.worth_asking(settings) for q in questions):
        return StopReason.NOTHING_WORTH_ASKING
    return None


@dataclass(frozen=True)
class AnswerEffect:
    """What one answer would do: its probability and the causes' posterior after it."""

    state: str
    probability: float
    posterior: Mapping[str, float]

    __reduce__ = reduce_frozen   # ``posterior`` is read-only (a mapping proxy, which pickle refuses)


@dataclass(frozen=True)
class Rationale:
    """Why a question is worth asking: how each answer would move each cause."""

    question: Question
    before: Mapping[str, float]
    answers: tuple[AnswerEffect, ...]

    __reduce__ = reduce_frozen   # ``before`` is read-only (a mapping proxy, which pickle refuses)

    def __str__(self) -> str:
        causes = list(self.before)
        lines = [f"{self.question.text}  (expected gain {self.question.expected_information_gain:.3f} bits)"]
        width = max(len(c) for c in causes) if causes else 0
        head = f"  {'':<{width}}  {'now':>6}" + "".join(f"  {a.state + f' ({a.probability:.0%})':>14}" for a in self.answers)
        lines.append(head)
        for c in causes:
            row = f"  {c:<{width}}  {self.before[c]:6.1%}" + "".join(f"  {a.posterior[c]:14.1%}" for a in self.answers)
            lines.append(row)
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML table of the same content (what a notebook shows)."""
        import html   # only the HTML view needs it

        head = "".join(f"<th>{html.escape(a.state)} ({a.probability:.0%})</th>" for a in self.answers)
        rows = "".join(
            f"<tr><td>{html.escape(c)}</td><td>{p:.1%}</td>"
            + "".join(f"<td>{a.posterior[c]:.1%}</td>" for a in self.answers) + "</tr>"
            for c, p in self.before.items()
        )
        return (f"<div><p>{html.escape(self.question.text)} (expected gain "
                f"{self.question.expected_information_gain:.3f} bits)</p><table><tr><th>cause</th><th>now</th>"
                f"{head}</tr>{rows}</table></div>")

    _repr_html_ = to_html

