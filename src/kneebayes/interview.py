"""The interview session: a thin, stateful holder of one person's answers.

All the reasoning lives in :class:`~kneebayes.diagnosis.Diagnosis`; the
session only records answers, skips and undos, and checks each change
before applying it, so a bad answer leaves the session as it was.

A saved session (:meth:`Interview.to_json`) is read back by
:meth:`Interview.from_json`, which checks every part of it, so a damaged or
hand-edited file raises a :class:`~kneebayes.errors.KneeBayesError` naming
what is wrong instead of resuming a session that is not what was saved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import EvidenceError, KneeBayesError, SettingError, UnknownNodeError, WrongTypeError, quote
from .evidence import normalize
from .likelihood import Likelihood
from .model import Model
from .pickling import reduce_frozen
from .settings import SETTING_RULES, setting_problem

if TYPE_CHECKING:
    from .diagnosis import Diagnosis
    from .questions import Question

_FORMAT = "kneebayes-interview/1"
#: The ``format`` value of a saved interview (``Interview.to_json``).
SAVED_FORMAT = _FORMAT

#: The largest saved interview read back, in characters. One step takes about
#: 100; even a network of thousands of questions stays far below this.
MAX_SAVED_CHARS = 4 * 1024 * 1024

_OPTIONS = ("screen_red_flags", "confidence", "cost_weight", "min_gain")
_TOP_KEYS = ("format", "model", "options", "steps")
_MODEL_KEYS = ("name", "version", "content_hash")
_STEP_KEYS = ("action", "node", "value")


class AlreadyAnsweredError(EvidenceError):
    """The question was answered (or skipped) already; undo first to change it.

    >>> import kneebayes
    >>> session = kneebayes.Interview(kneebayes.load_model())
    >>> dx = session.answer("limping", "yes")
    >>> try:
    ...     session.answer("limping", "no")
    ... except kneebayes.AlreadyAnsweredError as err:
    ...     print(err)
    'limping' is already answered (yes); undo it before answering again
    >>> dx = session.undo(); dx = session.answer("limping", "no")
    """


class SavedInterviewError(KneeBayesError, ValueError):
    """A saved interview that cannot be resumed: not JSON, a part missing or of the wrong kind, another model.

    >>> import kneebayes
    >>> try:
    ...     kneebayes.Interview.from_json(kneebayes.load_model(), "limping: yes")
    ... except kneebayes.SavedInterviewError as err:
    ...     print(err)
    not a saved interview: the text is not JSON (Expecting value: line 1 column 1)
    """


@dataclass(frozen=True)
class Step:
    """One change to the session and the posterior it led to."""

    action: str                  # "answer" or "skip"
    node: str
    value: str | Likelihood | None   # the state answered, a soft answer's Likelihood; None for a skip
    posterior: Mapping[str, float]

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_frozen(self)


class Interview:
    """Ask the most informative question, record the answer, repeat until told to stop.

    The settings are checked at once (a :class:`~kneebayes.errors.SettingError`
    for a confidence of 5 or a negative cost weight). One session may be
    shared between threads: every read and change holds the session's lock,
    so concurrent answers are all recorded, in some order, each step with the
    posterior after it.

    >>> import kneebayes
    >>> session = kneebayes.Interview(kneebayes.load_model())
    >>> q = session.next_question()
    >>> dx = session.answer(q.id, "no")
    >>> dx = session.skip(session.next_question().id)
    >>> len(session.history), session.answers == {q.id: "no"}
    (2, True)
    >>> dx = session.undo(); dx = session.undo(); session.answers
    {}

    An answer between yes and no is one of the model file's graded answers
    ("probably", "not sure", "probably not") or a :class:`~kneebayes.Likelihood`.
    It counts as soft evidence; its question is then not asked again:

    >>> dx = session.answer("swelling_behind_knee", "probably")
    >>> session.answers["swelling_behind_knee"].label, session.next_question().id != "swelling_behind_knee"
    ('probably', True)
    """

    def __init__(self, model: Model, *, screen_red_flags: bool = True, confidence: float | None = None,
                 cost_weight: float | None = None, min_gain: float | None = None) -> None:
        if not isinstance(model, Model):
            raise WrongTypeError(f"an Interview needs a kneebayes.Model, got {type(model).__name__}")
        self._model = model
        self._options: dict[str, Any] = _checked_options({
            "screen_red_flags": screen_red_flags, "confidence": confidence,
            "cost_weight": cost_weight, "min_gain": min_gain,
        })
        self._answers: dict[str, str | Likelihood] = {}
        self._skipped: list[str] = []
        self._steps: list[Step] = []
        self._diagnosis: Diagnosis | None = None
        # Re-entrant: next_question() and undo() read the diagnosis, which takes the lock again.
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle or deep copy keeps: the model, options, answers, skips and steps (one consistent
        snapshot, as ``to_json`` takes). The lock cannot travel, and the diagnosis is computed again when asked."""
        with self._lock:
            state = dict(self.__dict__)
            state.update(_answers=dict(self._answers), _skipped=list(self._skipped), _steps=list(self._steps),
                         _options=dict(self._options), _diagnosis=None)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()   # a fresh lock: the copy is a session of its own

    @property
    def model(self) -> Model:
        """The model this session asks about."""
        return self._model

    @property
    def options(self) -> dict[str, Any]:
        """The settings this session was started with (screen_red_flags, confidence, ...; a copy)."""
        with self._lock:
            return dict(self._options)

    @property
    def answers(self) -> dict[str, str | Likelihood]:
        """The answers so far, in the order given (a copy): state names, and Likelihoods for soft answers."""
        with self._lock:
            return dict(self._answers)

    @property
    def skipped(self) -> tuple[str, ...]:
        """Questions answered "don't know", in order."""
        with self._lock:
            return tuple(self._skipped)

    @property
    def history(self) -> tuple[Step, ...]:
        """Every answer and skip in order, each with the posterior after it."""
        with self._lock:
            return tuple(self._steps)

    @property
    def diagnosis(self) -> Diagnosis:
        """The diagnosis for the answers so far."""
        with self._lock:
            if self._diagnosis is None:
                self._diagnosis = self._diagnose(self._answers, self._skipped)
            return self._diagnosis

    def next_question(self) -> Question | None:
        """The question to ask now, or None when the interview should stop."""
        dx = self.diagnosis
        return None if dx.should_stop else dx.next_question

    def answer(self, node: str, value: str | bool | Likelihood) -> Diagnosis:
        """Record an answer; raises (leaving the session unchanged) if it is unknown, invalid or impossible.

        ``value`` is a state, True/False, a graded answer of the model file
        ("probably") or a Likelihood.
        """
        with self._lock:
            self._check_open(node)
            (state,) = normalize(self._model.network, {node: value}, self._model.graded_answers).values()
            answers = {**self._answers, node: state}
            dx = self._diagnose(answers, self._skipped)   # raises ImpossibleEvidenceError before any change
            self._answers = answers
            self._commit("answer", node, state, dx)
            return dx

    def skip(self, node: str) -> Diagnosis:
        """The person does not know: never ask this again."""
        with self._lock:
            self._check_open(node)
            skipped = [*self._skipped, node]
            dx = self._diagnose(self._answers, skipped)
            self._skipped = skipped
            self._commit("skip", node, None, dx)
            return dx

    def undo(self) -> Diagnosis:
        """Take back the last answer or skip."""
        with self._lock:
            if not self._steps:
                raise KneeBayesError("nothing to undo: no question has been answered or skipped")
            last = self._steps[-1]
            answers = dict(self._answers)
            skipped = list(self._skipped)
            if last.action == "answer":
                del answers[last.node]
            else:
                skipped.remove(last.node)
            dx = self._diagnose(answers, skipped)   # computed first: a failure leaves the session as it was
            self._steps.pop()
            self._answers, self._skipped, self._diagnosis = answers, skipped, dx
            return dx

    def _check_open(self, node: str) -> None:
        net = self._model.network
        if not isinstance(node, str) or node not in net.index:
            raise UnknownNodeError(node, net.names)
        if node in self._answers:
            raise AlreadyAnsweredError(f"'{node}' is already answered ({self._answers[node]}); undo it before answering again")
        if node in self._skipped:
            raise AlreadyAnsweredError(f"'{node}' was skipped; undo it before answering")

    def _diagnose(self, answers: Mapping[str, str | Likelihood], skipped: list[str]) -> Diagnosis:
        # A question answered softly is answered: closed to asking again, as a skipped one is.
        closed = [*skipped, *(node for node, value in answers.items() if isinstance(value, Likelihood))]
        return self._model.diagnose(answers, skipped=closed, **self._options)

    def _commit(self, action: str, node: str, value: str | Likelihood | None, dx: Diagnosis) -> None:
        self._diagnosis = dx
        summary = dx.posterior if self._model.targets.binary else {
            f"{t}={s}": p for t, d in dx.distributions.items() for s, p in d.items()}
        self._steps.append(Step(action, node, value, MappingProxyType(dict(summary))))

    # -- saving and resuming ----------------------------------------------------------
    def to_json(self) -> str:
        """The session as JSON: model identity, options and the steps in order."""
        info = self._model.info
        with self._lock:   # one consistent snapshot, even while another thread answers
            steps = [{"action": s.action, "node": s.node,
                      "value": s.value.to_dict() if isinstance(s.value, Likelihood) else s.value} for s in self._steps]
            options = dict(self._options)
        return json.dumps({
            "format": _FORMAT,
            "model": {"name": info.name, "version": info.version, "content_hash": info.content_hash},
            "options": options,
            "steps": steps,
        }, indent=2)

    @classmethod
    def from_json(cls, model: Model, text: str) -> Interview:
        """Resume a saved session on ``model``; the model must be the one it was saved with.

        Raises :class:`SavedInterviewError` (a ``KneeBayesError``) naming the
        first thing wrong: not JSON, too large or nested too deeply, a part
        missing, unknown or of the wrong kind, or saved with another model;
        :class:`~kneebayes.errors.SettingError` for a bad option; and, for a
        step that cannot be replayed, a ``SavedInterviewError`` naming the step.
        """
        try:
            data = parse_saved_json(text)
        except SavedInterviewError as exc:
            hint = ""
            if isinstance(text, str) and text.strip().lower().endswith(".json") and "{" not in text:
                hint = "; from_json takes the saved text, not a file's path: pass the file's contents"
            raise SavedInterviewError(f"not a saved interview: the text {exc}{hint}") from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            got = f"a JSON {_json_kind(data)}" if not isinstance(data, dict) else f"format {quote(data.get('format'))}"
            raise SavedInterviewError(f"not a saved interview (format should be {quote(_FORMAT)}, got {got})")
        _no_unknown_keys(data, _TOP_KEYS, "the saved interview")
        for key in ("model", "steps"):
            if key not in data:
                raise SavedInterviewError(f"the saved interview has no {quote(key)}: it was not written by "
                                          f"Interview.to_json() or was cut short")
        _check_model(data["model"], model)
        options = data.get("options", {})
        if not isinstance(options, dict):
            raise SavedInterviewError(f"the saved interview's 'options' must be a JSON object of settings "
                                      f"({', '.join(_OPTIONS)}), got {_json_kind(options)} {quote(options)}")
        for name in options:
            if name not in SETTING_RULES:
                raise SettingError(f"saved interview options: {setting_problem(name, options[name])}")
        try:
            session = cls(model, **options)
        except SettingError as exc:
            raise SettingError(f"saved interview options: {exc}") from None
        steps = data["steps"]
        if not isinstance(steps, list):
            raise SavedInterviewError(f"the saved interview's 'steps' must be a JSON list, "
                                      f"got {_json_kind(steps)} {quote(steps)}")
        for i, step in enumerate(steps, 1):
            action, node, value = _checked_step(i, step)
            try:
                if action == "answer":
                    session.answer(node, value)
                else:
                    session.skip(node)
            except KneeBayesError as exc:   # unknown node, invalid state, answered twice, impossible
                raise SavedInterviewError(f"saved interview, step {i} ({action} {quote(node)}): {exc}") from exc
        return session


def parse_saved_json(text: str) -> Any:
    """``text`` as JSON; else a :class:`SavedInterviewError` whose message is a predicate ("is not JSON (...)")
    for the caller to put after its own subject ("answers file F", "the text").

    Bounded: text over :data:`MAX_SAVED_CHARS`, nesting past the parser's
    recursion limit and integers too long to convert are refused, never
    raised as ``RecursionError`` or a bare ``ValueError``. An object that
    names a key twice (``{"limping": "yes", "limping": "no"}``) is refused
    naming the key, rather than keeping whichever came last.
    """
    if not isinstance(text, str):
        raise WrongTypeError(f"a saved interview is read from a str, got {type(text).__name__}")
    if len(text) > MAX_SAVED_CHARS:
        raise SavedInterviewError(f"is {len(text):,} characters, over the limit of {MAX_SAVED_CHARS:,}")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        raise SavedInterviewError(f"names the key {quote(exc.key)} twice in one JSON object "
                                  f"(each key may appear only once: which was meant?)") from None
    except json.JSONDecodeError as exc:
        raise SavedInterviewError(f"is not JSON ({exc.msg}: line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise SavedInterviewError("is JSON nested too deeply to read") from None
    except ValueError as exc:   # e.g. an integer of more digits than int() converts; the message quotes no input
        raise SavedInterviewError(f"cannot be read as JSON: {str(exc)[:200]}") from None


class _DuplicateKeyError(Exception):
    """Raised from inside ``json.loads`` for a key an object names twice (not a ValueError: caught apart)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; :class:`_DuplicateKeyError` for a key named twice."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _checked_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options checked by the one settings validator, as plain JSON values (numpy scalars become floats)."""
    out: dict[str, Any] = {}
    for name, value in options.items():
        if value is None and name != "screen_red_flags":
            out[name] = None   # the model file's setting
            continue
        problem = setting_problem(name, value)
        if problem is not None:
            raise SettingError(problem)
        out[name] = bool(value) if name == "screen_red_flags" else float(value)
    return out


def _check_model(saved: object, model: Model) -> None:
    """The saved model identity must be an object whose content hash is ``model``'s."""
    if not isinstance(saved, dict) or not isinstance(saved.get("content_hash"), str):
        raise SavedInterviewError(f"the saved interview's 'model' must be a JSON object with the model's name, "
                                  f"version and content_hash (a string), got {quote(saved)}")
    _no_unknown_keys(saved, _MODEL_KEYS, "the saved interview's 'model'")
    if saved["content_hash"] != model.content_hash:
        raise SavedInterviewError(
            f"the interview was saved with model {_plain(saved.get('name'))} {_plain(saved.get('version'))} "
            f"(hash {_plain(saved['content_hash'][:12])}), not {model.name} {model.version} "
            f"(hash {model.content_hash[:12]}); its answers may not mean the same here")


def _checked_step(i: int, step: object) -> tuple[str, str, Any]:
    """(action, node, value) of the ``i``-th saved step, once its shape is right."""
    where = f"saved interview, step {i}"
    if not isinstance(step, dict):
        raise SavedInterviewError(f"{where}: a step must be a JSON object "
                                  f'{{"action": "answer" or "skip", "node": ID, "value": STATE}}, got {quote(step)}')
    _no_unknown_keys(step, _STEP_KEYS, where)
    action, node, value = step.get("action"), step.get("node"), step.get("value")
    if action not in ("answer", "skip"):
        raise SavedInterviewError(f"{where}: unknown action {quote(action)} (valid: 'answer', 'skip')")
    if not isinstance(node, str):
        raise SavedInterviewError(f"{where}: 'node' must be a node id (a string), got {quote(node)}")
    if action == "answer" and isinstance(value, dict):   # a soft answer, as Likelihood.to_dict wrote it
        try:
            value = Likelihood.from_dict(value)
        except EvidenceError as exc:
            raise SavedInterviewError(f"{where}: {exc}") from None
    elif action == "answer" and not isinstance(value, (str, bool)):
        raise SavedInterviewError(f"{where}: the answer to {quote(node)} must be a state such as \"yes\" or "
                                  f"\"no\", or a soft answer {{\"likelihood\": {{...}}, \"label\": ...}}, got {quote(value)}")
    if action == "skip" and value is not None:
        raise SavedInterviewError(f"{where}: a skip of {quote(node)} has no value (null), got {quote(value)}")
    return action, node, value


def _no_unknown_keys(data: dict[str, Any], valid: tuple[str, ...], where: str) -> None:
    unknown = [k for k in data if k not in valid]
    if unknown:
        raise SavedInterviewError(f"{where} has unknown key {quote(unknown[0])} "
                                  f"(valid keys: {', '.join(valid)})")


def _json_kind(value: object) -> str:
    """The JSON name of a parsed value's kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "object"}.get(type(value), type(value).__name__)


def _plain(value: object) -> str:
    """A saved name or version as written, bounded (strings without quotes, as the message reads)."""
    return value if isinstance(value, str) and len(value) <= 60 and value.isprintable() else quote(value)
