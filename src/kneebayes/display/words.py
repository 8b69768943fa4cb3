"""What your answers point to, in plain words: the one place a Bayes factor becomes a phrase.

The command line (``kneebayes diagnose``, ``kneebayes interview``) and the
HTML view (:func:`kneebayes.display.diagnosis_html`) word a cause's Bayes
factor with :func:`factor_words` and a probability with :func:`percent`,
and head their sections with the titles below, so every surface says the
same thing the same way.

A Bayes factor multiplies a cause's **odds**, not its probability, and the
phrase says so: "your answers multiply its odds by 28" takes a cause from
odds of 1 to 9 to about 3 to 1, a rise from 10% to 76%, never to 280%. Every surface that shows the phrase prints :data:`ODDS_NOTE` once
beside it.

>>> str(factor_words(28.4))
'your answers multiply its odds by 28 (strong evidence for it)'
>>> percent(0.4321), percent(0.0031)
('43%', '0.3%')
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import KneeBayesError, ParameterError
from ..inference.evidence_weight import FACTOR_MAX, FACTOR_MIN

if TYPE_CHECKING:
    from ..diagnosis import Diagnosis
    from ..model import Model

__all__ = [
    "COMBINATIONS_LEFT_OUT",
    "COMBINATIONS_TITLE",
    "EXPLAINING_TITLE",
    "NO_CAUSE",
    "NOTHING_YET",
    "ODDS_NOTE",
    "Explaining",
    "FactorWords",
    "combinations",
    "explaining",
    "factor_words",
    "percent",
    "probability_title",
]

#: The heading of the section every diagnosis leads with.
EXPLAINING_TITLE = "What your answers point to"
#: The heading of the most probable combinations of causes.
COMBINATIONS_TITLE = "Most probable combinations"
#: Said once beside the phrases: what odds are, so that a multiplied odds is not read as a multiplied probability.
ODDS_NOTE = ("odds: the chance a cause is present against the chance it is not (10% is odds of 1 to 9); "
             "strength on Kass and Raftery's scale")
#: What the explaining section says before any question is answered.
NOTHING_YET = "nothing yet, no question answered"
#: How a combination in which every cause is in its normal state (absent) is named.
NO_CAUSE = "none of the causes"
#: Why the combinations are not listed when the targets' joint is too large to enumerate.
COMBINATIONS_LEFT_OUT = "not listed: the causes have too many joint states to enumerate"

#: A factor strictly between 1 / SAYS_LITTLE and SAYS_LITTLE is worded "your answers say little about it".
SAYS_LITTLE = 1.5
#: Kass and Raftery (1995) on log10 of the factor: below 1/2 (a factor of 3.2) barely worth a mention,
#: 1/2 to 1 substantial, 1 to 2 (10 to 100) strong, above 2 decisive; the same for 1 / factor against.
_SUBSTANTIAL = 10.0 ** 0.5
_BARELY = "barely worth a mention"
# Above a million the count is said in millions, billions, trillions; beyond that it is only "more than".
_LARGE: tuple[tuple[float, str], ...] = ((1e6, "million"), (1e9, "billion"), (1e12, "trillion"))


@dataclass(frozen=True)
class FactorWords:
    """A Bayes factor in words: the phrase, the strength on Kass and Raftery's scale and the direction.

    Attributes
    ----------
    factor : float
        The Bayes factor worded (posterior odds over prior odds).
    phrase : str
        How strongly the answers point to the cause, or away from it:
        "your answers multiply its odds by 28", "your answers divide its
        odds by 3.2", "your answers say little about it",
        "certain from your answers" or "ruled out by your answers".
    strength : str
        Kass and Raftery's (1995) word for the factor (or for 1 / factor
        when it points away): "barely worth a mention", "substantial",
        "strong" or "decisive".
    direction : str
        "for" (the odds multiplied, or certain), "against" (divided, or
        ruled out) or "neither" (says little).

    Examples
    --------
    >>> w = factor_words(1 / 40)
    >>> w.phrase, w.strength, w.direction
    ('your answers divide its odds by 40', 'strong', 'against')
    >>> w.evidence
    'strong evidence against it'
    """

    factor: float
    phrase: str
    strength: str
    direction: str

    @property
    def evidence(self) -> str:
        """The strength as a short clause: "strong evidence for it", "substantial evidence against it",
        or "barely worth a mention"."""
        if self.strength == _BARELY:
            return _BARELY
        towards = "against" if self.direction == "against" else "for"
        return f"{self.strength} evidence {towards} it"

    def __str__(self) -> str:
        """The phrase, with the strength in brackets unless the answers say little."""
        return self.phrase if self.direction == "neither" else f"{self.phrase} ({self.evidence})"


def _strength(x: float) -> str:
    """Kass and Raftery's word for a factor ``x >= 1`` (pass 1 / factor for evidence against)."""
    if x > 100.0:
        return "decisive"
    if x >= 10.0:
        return "strong"
    if x >= _SUBSTANTIAL:
        return "substantial"
    return _BARELY


def _plain(x: float) -> str:
    """A count of times ``x >= 1``, rounded for reading: one decimal below 10 (no trailing ".0"),
    whole numbers with separators up to a million, then millions, billions and trillions."""
    if round(x, 1) < 10.0:
        text = f"{x:.1f}"
        return text[:-2] if text.endswith(".0") else text
    if round(x) < 1_000_000:
        return f"{round(x):,}"
    for size, name in _LARGE:
        if x / size < 999.5:   # 999,999.6 reads "1 million", 999.6 million "1 billion"
            return f"{_plain(x / size)} {name}"
    return "more than a thousand trillion"


def factor_words(factor: float) -> FactorWords:
    """Word a Bayes factor for a reader: how strongly the answers point to a cause, or away from it.

    At or above 1.5 the answers "multiply its odds by x"; at or below
    1 / 1.5, "divide its odds by x" (x = 1 /
    factor); in between they "say little about it". x is rounded for
    reading: one decimal below 10 (without a trailing ".0"), whole numbers
    with thousands separators above, then millions, billions and trillions.
    A factor at the clip limits (``FACTOR_MAX`` = 1e100, ``FACTOR_MIN`` =
    1e-100) means the answers settled it, most often because the cause
    itself was answered: "certain from your answers", "ruled out by your
    answers".

    The strength is Kass and Raftery's (1995) scale for Bayes factors:
    under 3.2 (half a power of ten) "barely worth a mention", 3.2 to 10
    "substantial", 10 to 100 "strong", over 100 "decisive"; the same
    for 1 / factor when the answers point away. It is judged on the count
    as shown, so "10 times" is never called merely substantial.

    Remember that x multiplies the cause's odds, not its probability; show
    :data:`ODDS_NOTE` beside the phrase.

    Parameters
    ----------
    factor : float
        A Bayes factor, as ``Diagnosis.bayes_factor`` or
        ``Diagnosis.explaining_causes`` give it: positive (infinity counts
        as certain, 0 as ruled out).

    Returns
    -------
    FactorWords

    Raises
    ------
    ParameterError
        When ``factor`` is not a number, is NaN or is negative (also a
        ValueError).

    Examples
    --------
    >>> factor_words(28.4).phrase
    'your answers multiply its odds by 28'
    >>> factor_words(1 / 3.19).phrase, factor_words(1 / 3.19).strength
    ('your answers divide its odds by 3.2', 'substantial')
    >>> factor_words(1.2).phrase, factor_words(1.2).direction
    ('your answers say little about it', 'neither')
    >>> factor_words(12345.6).phrase
    'your answers multiply its odds by 12,346'
    >>> str(factor_words(1e100))
    'certain from your answers (decisive evidence for it)'
    """
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or math.isnan(factor) or factor < 0:
        raise ParameterError(f"a Bayes factor must be a number at or above 0, got {str(factor)[:40]!r}")
    factor = float(factor)
    if factor >= FACTOR_MAX:
        return FactorWords(factor, "certain from your answers", "decisive", "for")
    if factor <= FACTOR_MIN:
        return FactorWords(factor, "ruled out by your answers", "decisive", "against")
    if factor >= 1.0:
        up, x = True, factor
    else:
        up, x = False, 1.0 / factor
    if x < SAYS_LITTLE * (1.0 - 1e-12):   # 1 / (1 / 1.5) is 1.5 up to the last bit
        return FactorWords(factor, "your answers say little about it", _strength(x), "neither")
    way = "multiply" if up else "divide"
    shown = round(x, 1) if round(x, 1) < 10.0 else float(round(x))   # the strength agrees with the number shown
    return FactorWords(factor, f"your answers {way} its odds by {_plain(x)}", _strength(shown),
                       "for" if up else "against")


def percent(p: float) -> str:
    """A probability as a plain percentage: whole percents, one decimal near 0 and 100%.

    "0%" only for exactly 0 and "100%" only for 1 up to the last bits of
    a float (within 1e-12: an answered cause's posterior may come out as
    0.9999999999999998); anything else that would round to them reads
    "under 0.1%" or "over 99.9%".

    >>> [percent(p) for p in (0.0, 0.0004, 0.0031, 0.4321, 0.996, 0.99996, 1.0)]
    ['0%', 'under 0.1%', '0.3%', '43%', '99.6%', 'over 99.9%', '100%']
    """
    p = float(p)
    if p <= 0.0:
        return "0%"
    if p >= 1.0 - 1e-12:
        return "100%"
    if p < 0.0005:
        return "under 0.1%"
    if p >= 0.9995:
        return "over 99.9%"
    if p < 0.0095 or p >= 0.995:
        return f"{p * 100:.1f}%"
    return f"{p * 100:.0f}%"


# -- a diagnosis in words -----------------------------------------------------------------
def _yes_no(model: Model, target: str) -> bool:
    states = model.node(target).states
    return len(states) == 2 and set(states) == {"yes", "no"}


def _name(model: Model, target: str, state: str) -> str:
    """A target's label, with ``= state`` unless it is a yes/no cause named by its "yes"."""
    label = model.node(target).label
    return label if state == "yes" and _yes_no(model, target) else f"{label} = {state}"


def probability_title(dx: Diagnosis) -> str:
    """The heading of the probabilities: "How likely each cause is present" for yes/no causes,
    "How likely each state of each cause is" when some target has more states.

    >>> import kneebayes
    >>> probability_title(kneebayes.load_model().diagnose({}))
    'How likely each cause is present'
    """
    model: Model = dx.model
    if all(_yes_no(model, t) for t in model.causes):
        return "How likely each cause is present"
    return "How likely each state of each cause is"


@dataclass(frozen=True)
class Explaining:
    """One cause in "What your answers point to": who, how strongly, and its probability now and before.

    Attributes
    ----------
    cause, state : str
        The target and the state that represents it (``Diagnosis.explaining_states``:
        "yes" for a yes/no cause).
    name : str
        Its label, with ``= state`` for a target that is not yes/no ("Damage = torn").
    words : FactorWords
        Its Bayes factor in words.
    now, before : float
        P(state | answers) and P(state) with no answers.
    """

    cause: str
    state: str
    name: str
    words: FactorWords
    now: float
    before: float


def explaining(dx: Diagnosis) -> tuple[Explaining, ...]:
    """Every cause of a diagnosis in the order of ``Diagnosis.explaining_causes``, in words, with its probabilities.

    Works on any model: a target with more states than yes/no is named
    by its leading abnormal state (``Diagnosis.explaining_states``).

    Examples
    --------
    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
    >>> first = explaining(dx)[0]
    >>> first.name, first.words.direction, first.now > first.before
    ('Nerve irritation', 'for', True)
    """
    model: Model = dx.model
    states = dx.explaining_states
    out = []
    for cause, factor in dx.explaining_causes:
        state = states[cause]
        prior = dx.prior[cause]
        before = prior if isinstance(prior, float) else prior[state]
        out.append(Explaining(cause, state, _name(model, cause, state), factor_words(factor),
                              dx.distributions[cause][state], before))
    return tuple(out)


def combinations(dx: Diagnosis, k: int = 3) -> tuple[tuple[str, float], ...] | None:
    """The ``k`` most probable combinations of causes, each named ("A + B", or :data:`NO_CAUSE`) with its
    probability; None when the targets' joint is too large to enumerate (say :data:`COMBINATIONS_LEFT_OUT`).

    Examples
    --------
    >>> import kneebayes
    >>> for name, p in combinations(kneebayes.load_model().diagnose({})):
    ...     print(f"{name}: {percent(p)}")
    Hamstring tightness or strain: 22%
    none of the causes: 20%
    Hamstring tightness or strain + Hamstring or popliteal tendonitis: 9%
    """
    model: Model = dx.model
    try:
        found = dx.most_probable_combinations(k)
    except ParameterError:   # a bad k is the caller's mistake, not a large joint
        raise
    except KneeBayesError:
        return None
    return tuple((" + ".join(_name(model, t, c.states[t]) for t in c.present) or NO_CAUSE, c.probability)
                 for c in found)


# -- the disclaimer ----------------------------------------------------------------------------
GENERIC_DISCLAIMER = "Decision support from the model '{title}'; not a medical diagnosis."


def disclaimer(model: Model) -> str:
    """The model file's own disclaimer, or a plain one naming the model (the CLI, JSON and HTML all show it).

    >>> import kneebayes
    >>> "not a medical diagnosis" in disclaimer(kneebayes.load_model()).lower()
    True
    """
    return model.spec.disclaimer or GENERIC_DISCLAIMER.format(title=model.spec.title)


# -- why a question is asked ------------------------------------------------------------------
#: A move smaller than this (in probability) is not worth naming beside a safety check.
_WORTH_NAMING = 0.02


def _summary_name(model: Model, key: str) -> str:
    """A cause named in a rationale: its label, or "label = state" for a multi-state target's key."""
    target, sep, state = key.partition("=")
    return _name(model, target, state) if sep else model.node(key).label


def question_reason(dx: Diagnosis, question_id: str) -> str:
    """Why an open question is worth asking, in one plain sentence (no bits, no jargon).

    A warning-sign question says it is a safety check. Otherwise the sentence
    names the cause the answer is expected to move most, and where each
    answer would put it.

    Examples
    --------
    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
    >>> question_reason(dx, "locking_or_catching").startswith("A safety check")
    True
    >>> print(question_reason(dx, "worse_with_activity"))
    Its answer tells most about Hamstring tightness or strain: a yes would put it at 72%, a no at 24% (now 57%).
    """
    model: Model = dx.model
    question = next((q for q in dx.ranked_questions if q.id == question_id), None)
    rationale = dx.rationale(question_id)
    before = rationale.before
    answers = [a for a in rationale.answers if a.probability > 0]

    def expected_move(key: str) -> float:
        return sum(a.probability * abs(a.posterior[key] - before[key]) for a in answers)

    key = max(sorted(before), key=expected_move) if before and answers else None
    moves = [f"a {a.state} at {percent(a.posterior[key])}" for a in answers] if key is not None else []
    if moves:
        moves[0] = moves[0].replace(" at ", " would put it at ", 1)
    where = f"{', '.join(moves)} (now {percent(before[key])})" if key is not None else ""
    if question is not None and question.red_flag:
        text = "A safety check: it is one of the warning signs that mean a doctor should look at the knee"
        if key is not None and expected_move(key) >= _WORTH_NAMING:
            text += f"; it also bears on {_summary_name(model, key)}: {where}"
        return text + "."
    if key is None:
        return "It is the open question expected to tell most about the causes."
    return f"Its answer tells most about {_summary_name(model, key)}: {where}."
