"""Which question to ask next, when to stop, and why a question is worth asking.

Pure functions over gains computed in :mod:`kneebayes.inference.gain`; the
Diagnosis calls them lazily and caches the result.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .display.html import rationale_html
from .modelfile.schema import InterviewSettings
from .pickling import reduce_frozen

if TYPE_CHECKING:
    from .model import Model, Node

# One set of defaults: the model file's (used when a file says nothing).
DEFAULT_CONFIDENCE = InterviewSettings.confidence
DEFAULT_COST_WEIGHT = InterviewSettings.cost_weight
DEFAULT_MIN_GAIN = InterviewSettings.min_gain


class StopReason(str, enum.Enum):
    """Why an interview may stop: ``Diagnosis.stop_reason``, None while questions worth asking remain.

    A ``str`` too, so it compares with and prints as its value:

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> print(model.diagnose({}).stop_reason)
    None
    >>> dx = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"},
    ...                     confidence=0.5, screen_red_flags=False)
    >>> dx.stop_reason is kneebayes.StopReason.CONFIDENT, dx.stop_reason == "confident"
    (True, True)
    """

    CONFIDENT = "confident"                        # some target is not normal with P >= confidence (leading_probability)
    NOTHING_WORTH_ASKING = "nothing_worth_asking"  # no question's gain is worth its cost
    NOTHING_LEFT = "nothing_left"                  # every askable question is answered or skipped

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Settings(InterviewSettings):
    """How questions are scored and when to stop: the model file's interview settings, plus the red-flag screen.

    The three numbers are the file's ``interview`` section (:class:`InterviewSettings`,
    whose fields this extends, defaults included); ``screen_red_flags``
    is a choice of the caller, not of the file. A question's ``score`` is
    its expected information gain (bits) minus ``cost_weight`` times its
    cost: gain net of effort, so a cheap question wins over a costly one of
    similar gain. A question is worth asking when its gain is at least
    ``min_gain`` and its score is positive.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> model.settings
    Settings(confidence=0.9, cost_weight=0.01, min_gain=0.01, screen_red_flags=True)
    >>> model.diagnose({}, confidence=0.8).settings.confidence
    0.8
    """

    screen_red_flags: bool = True

    def __post_init__(self) -> None:
        # Checked where made, as diagnose's overrides are: a Settings built by hand reaches worth_asking and the
        # stopping rule, where a text min_gain was a TypeError from a comparison
        from .settings import check_setting   # here: settings imports this module

        for name in ("confidence", "cost_weight", "min_gain", "screen_red_flags"):
            check_setting(name, getattr(self, name))


@dataclass(frozen=True, init=False)
class Question:
    """A candidate question with its value to the diagnosis.

    ``score`` is the gain net of effort, ``expected_information_gain -
    cost_weight * cost``: here 0.362 - 0.01 * 2.

    >>> import kneebayes
    >>> q = kneebayes.load_model().diagnose({"locking_or_catching": "yes"}).next_question
    >>> q.id, round(q.expected_information_gain, 3), q.cost, round(q.score, 3)
    ('localized_tenderness', 0.362, 2.0, 0.342)
    """

    id: str
    text: str
    expected_information_gain: float   # bits, about the causes' joint
    cost: float
    score: float                       # gain - cost_weight * cost
    red_flag: bool = False

    def __init__(self, id: str, text: str, expected_information_gain: float, cost: float, score: float,
                 red_flag: bool = False) -> None:
        # The dataclass's own frozen __init__ sets each field through object.__setattr__, a third of a ranking's
        # time outside inference on CHILD; the fields are set here once, as frozen fields are.
        self.__dict__.update(id=id, text=text, expected_information_gain=expected_information_gain, cost=cost,
                             score=score, red_flag=red_flag)

    def worth_asking(self, settings: Settings) -> bool:
        """Whether its gain reaches ``min_gain`` and its score (net of cost) is positive."""
        return self.expected_information_gain >= settings.min_gain and self.score > 0.0


#: A stop verdict as a code, for rows of candidates: its index here.
STOP_CODES: tuple[StopReason | None, ...] = (None, StopReason.CONFIDENT, StopReason.NOTHING_WORTH_ASKING,
                                             StopReason.NOTHING_LEFT)
_KEEP_ASKING, _CONFIDENT, _NOTHING_WORTH, _NOTHING_LEFT = range(4)


def order_questions(score: np.ndarray, red: np.ndarray, open_: np.ndarray, promote: np.ndarray) -> np.ndarray:
    """The ranking rule on rows of candidates: positions best first, (rows, n).

    Open candidates first, by score, ties by position (pass candidates in
    id order for ties by id); with ``promote`` a row's open red flags come
    before its other open questions. ``score`` (rows, n) or (n,), ``red``
    (n,), ``open_`` (rows, n), ``promote`` (rows,).

    >>> import numpy as np
    >>> order_questions(np.array([[0.1, 0.3, 0.3]]), np.array([True, False, False]),
    ...                 np.ones((1, 3), bool), np.array([False])).tolist()
    [[1, 2, 0]]
    """
    if score.shape != open_.shape:
        score = np.broadcast_to(score, open_.shape)   # its Python wrapper costs more than a small ranking's sort
    if not promote.any():   # no row puts its red flags first: that key would be all False
        return np.lexsort((-score, ~open_), axis=-1)
    later = promote[:, None] & ~red[None, :]     # promoted rows put the non-red questions after the red ones
    return np.lexsort((-score, later, ~open_), axis=-1)


def stop_codes(gains: np.ndarray, score: np.ndarray, open_: np.ndarray, leading: np.ndarray,
               settings: Settings) -> np.ndarray:
    """The stopping rule on rows, ignoring the red-flag screen: codes into ``STOP_CODES``, (rows,).

    Nothing open: ``nothing_left``; the leading probability at or above
    ``confidence``: ``confident``; no open question worth asking (gain at
    least ``min_gain`` and a positive score): ``nothing_worth_asking``;
    else keep asking (code 0).

    >>> import numpy as np
    >>> [STOP_CODES[c] for c in stop_codes(np.array([[0.5]]), np.array([[0.4]]), np.array([[True]]),
    ...                                    np.array([0.99]), Settings(confidence=0.9))]
    [<StopReason.CONFIDENT: 'confident'>]
    """
    worth = open_ & (gains >= settings.min_gain) & (score > 0.0)
    return np.where(~open_.any(axis=1), _NOTHING_LEFT,
                    np.where(leading >= settings.confidence, _CONFIDENT,
                             np.where(worth.any(axis=1), _KEEP_ASKING, _NOTHING_WORTH)))


@dataclass(frozen=True, eq=False)
class Decisions:
    """What the question rules decide for rows of candidates (``decide``): the order and when to stop.

    ``order`` (rows, n): candidate positions, the row's open ones best
    first (``n_open`` of them), then the rest. ``stop``: codes into
    ``STOP_CODES`` after the red-flag screen (an open red flag keeps the
    interview going unless nothing is left). ``score``: gain minus
    ``cost_weight`` times cost.
    """

    order: np.ndarray
    n_open: np.ndarray
    stop: np.ndarray
    score: np.ndarray


def decide(gains: np.ndarray, costs: np.ndarray, red: np.ndarray, open_: np.ndarray, leading: np.ndarray,
           settings: Settings) -> Decisions:
    """The question rules, once for a Diagnosis (a batch of one) and for ``diagnose_frame``.

    ``gains`` (rows, n) in bits, ``costs`` and ``red`` (n,), ``open_``
    (rows, n): which candidates are unanswered and not skipped in each
    row; ``leading`` (rows,): ``leading_probability``. Candidates in id
    order, so that ties go by id. While the row could stop (settled) and
    the screen is on, its open red flags are ranked first.

    >>> import numpy as np
    >>> d = decide(np.array([[0.2, 0.5]]), np.ones(2), np.array([True, False]), np.ones((1, 2), bool),
    ...            np.array([0.3]), Settings(cost_weight=0.0))
    >>> d.order.tolist(), STOP_CODES[int(d.stop[0])]
    ([[1, 0]], None)
    """
    score = gains - settings.cost_weight * costs
    if gains.shape[0] == 1:
        found = _decide_one(gains[0].tolist(), score, red.tolist(), open_[0].tolist(), float(leading[0]), settings)
        if found is not None:
            return found
    raw = stop_codes(gains, score, open_, leading, settings)
    red_open = (open_ & red[None, :]).any(axis=1)
    screen = settings.screen_red_flags & red_open
    order = order_questions(score, red, open_, (raw != _KEEP_ASKING) & screen)
    stop = np.where(((raw == _CONFIDENT) | (raw == _NOTHING_WORTH)) & screen, _KEEP_ASKING, raw)
    return Decisions(order, open_.sum(axis=1), stop, score)


def _decide_one(gains: list[float], score: np.ndarray, red: list[bool], open_: list[bool], leading: float,
                settings: Settings) -> Decisions | None:
    """``decide`` on one row, in plain Python over its few candidates (the array rules cost a dozen numpy calls,
    ~50 us of a CHILD ranking's 0.5 ms; a Diagnosis is a batch of one). The same rules and the same ties
    (a stable sort: open first, then promoted red flags, then by score, then by position). None where a
    score is not a number, whose order only the array rules define."""
    scores = score[0].tolist()
    if any(s != s for s in scores):
        return None
    n_open = sum(open_)
    if not n_open:
        raw = _NOTHING_LEFT
    elif leading >= settings.confidence:
        raw = _CONFIDENT
    elif any(o and g >= settings.min_gain and s > 0.0 for o, g, s in zip(open_, gains, scores)):
        raw = _KEEP_ASKING
    else:
        raw = _NOTHING_WORTH
    screen = settings.screen_red_flags and any(o and r for o, r in zip(open_, red))
    promote = raw != _KEEP_ASKING and screen
    order = sorted(range(len(scores)), key=lambda k: (not open_[k], promote and not red[k], -scores[k]))
    stop = _KEEP_ASKING if raw in (_CONFIDENT, _NOTHING_WORTH) and screen else raw
    return Decisions(np.array([order], dtype=np.intp), np.array([n_open]), np.array([stop]), score)


@dataclass(frozen=True, eq=False)
class Candidates:
    """A model's askable nodes in id order (ties go by id), with what the rules need of each."""

    nodes: tuple[Node, ...]
    indices: tuple[int, ...]    # node indices in the compiled network
    costs: np.ndarray           # (n,)
    red: np.ndarray             # (n,) whether the node is a red flag


def question_candidates(model: Model) -> Candidates:
    """The model's question candidates, built once per model.

    >>> import kneebayes
    >>> found = question_candidates(kneebayes.load_model())
    >>> [n.id for n in found.nodes] == sorted(n.id for n in found.nodes)
    True
    """
    def build() -> Candidates:
        nodes = tuple(sorted(model.askable_nodes, key=lambda n: n.id))
        red = set(model.red_flag_nodes)
        costs = np.array([model.costs[n.id] for n in nodes], dtype=float)
        flags = np.array([n.id in red for n in nodes], dtype=bool)
        costs.setflags(write=False)
        flags.setflags(write=False)
        return Candidates(nodes, tuple(model.network.index[n.id] for n in nodes), costs, flags)

    return model.cached("questions.candidates", build)


def rank(questions: Sequence[Question], *, promote_red_flags: bool) -> tuple[Question, ...]:
    """Best first: by score, ties by id; pending red flags first when ``promote_red_flags`` (``order_questions``)."""
    by_id = sorted(questions, key=lambda q: q.id)
    if not by_id:
        return ()
    order = order_questions(np.array([[q.score for q in by_id]]), np.array([q.red_flag for q in by_id]),
                            np.ones((1, len(by_id)), dtype=bool), np.array([promote_red_flags]))
    return tuple(by_id[k] for k in order[0].tolist())


def stop_reason(questions: Sequence[Question], leading: float, settings: Settings) -> StopReason | None:
    """Why the interview could stop now, ignoring the red-flag screen (None: keep asking; ``stop_codes``)."""
    gains = np.array([[q.expected_information_gain for q in questions]])
    score = np.array([[q.score for q in questions]])
    code = stop_codes(gains, score, np.ones(gains.shape, dtype=bool), np.array([leading]), settings)
    return STOP_CODES[int(code[0])]


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
        """An HTML table of the same content (what a notebook shows; built in ``display.html``)."""
        return rationale_html(self)

    _repr_html_ = to_html

