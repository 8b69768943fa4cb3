"""Answers typed by a person: ``ID=STATE`` pairs, the words for yes and no, and answers files.

One word list serves ``diagnose``, the interview prompt and answers files:
for a yes/no question, ``y``, ``yes`` and ``true`` mean yes and ``n``,
``no`` and ``false`` mean no, in any case, and the model file's graded
answers ("probably", "not sure", "probably not") answer softly; any other
question takes its states, in any case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InputFileError, KneeBayesError, UnknownNodeError, quote
from ..files import read_text
from ..interview import MAX_SAVED_CHARS, Interview, SavedInterviewError, parse_saved_json
from ..likelihood import Likelihood
from ..modelfile.format import NO_WORDS, YES_WORDS   # beside the model file's rules, which keep graded answers off them

if TYPE_CHECKING:
    from ..model import Model

#: Said after an unknown id when no id is near enough to suggest.
LIST_IDS = "run `kneebayes nodes` to list every id"


def state_for(states: Sequence[str], word: str) -> str | None:
    """The state a typed word names, or None: a state in any case, or a yes/no word for a yes/no question.

    >>> state_for(("yes", "no"), "True"), state_for(("yes", "no"), "n"), state_for(("low", "high"), "HIGH")
    ('yes', 'no', 'high')
    >>> state_for(("yes", "no"), "maybe") is None
    True
    """
    word = " ".join(word.strip().split())
    if word in states:
        return word
    folded = {s.casefold(): s for s in states}
    key = word.casefold()
    if key in folded:
        return folded[key]
    if set(states) == {"yes", "no"}:
        if key in YES_WORDS:
            return "yes"
        if key in NO_WORDS:
            return "no"
    return None


def graded_for(model: Model, states: Sequence[str], word: str) -> str | None:
    """The graded answer a typed word names (its key in ``model.graded_answers``), or None.

    Only a yes/no question takes one; the word is read in any case, with
    spaces for underscores, or as the answer's ``text``.

    >>> import kneebayes
    >>> graded_for(kneebayes.load_model(), ("yes", "no"), "Probably Not")
    'probably_not'
    """
    if set(states) != {"yes", "no"}:
        return None
    key = "_".join(word.strip().casefold().split())
    for answer in model.spec.graded_answers:
        if key == answer.word.casefold() or key == "_".join(answer.text.casefold().split()):
            return answer.word
    return None


def graded_texts(model: Model) -> list[str]:
    """How the model's graded answers are offered ("probably", "not sure", ...), in file order."""
    return [a.text for a in model.spec.graded_answers]


def words_for(states: Sequence[str], graded: Sequence[str] = ()) -> str:
    """The answers a question takes, in words: "yes or no (y / n)" (and any graded ones) or its states."""
    if set(states) == {"yes", "no"}:
        between = f", or {' / '.join(graded)}" if graded else ""
        return f"yes or no (y / n, true / false){between}"
    return ", ".join(states)


def parse_pairs(model: Model, pairs: Sequence[str]) -> dict[str, str]:
    """``ID=STATE`` arguments as evidence, each id checked and each word read as :func:`state_for` reads it."""
    evidence: dict[str, str] = {}
    ids = [n.id for n in model.nodes]
    for pair in pairs:
        node, sep, word = pair.partition("=")
        node, word = node.strip(), word.strip()
        if not sep or not node or not word:
            raise KneeBayesError(f"cannot read {quote(pair)}: write answers as ID=state, e.g. "
                                 f"{_example(model)}")
        if node not in ids:
            raise unknown_node(node, ids)
        if node in evidence:
            raise KneeBayesError(f"{quote(node)} is answered twice")
        states = model.node(node).states
        state = state_for(states, word) or graded_for(model, states, word)
        if state is None:
            raise KneeBayesError(f"cannot read {quote(word)} as an answer to {quote(node)}: "
                                 f"answer {words_for(states, graded_texts(model))}")
        evidence[node] = state
    return evidence


def unknown_node(node: str, ids: Sequence[str]) -> UnknownNodeError:
    """UnknownNodeError with its suggestions, or else pointing to ``kneebayes nodes``."""
    exc = UnknownNodeError(node, ids)
    if not exc.suggestions:
        exc = UnknownNodeError(node, ids, context=f" ({LIST_IDS})")
    return exc


def _example(model: Model) -> str:
    askable = [n for n in model.nodes if n.askable]
    if not askable:
        return "node=state"
    return f"{askable[0].id}={askable[0].states[0]}"


def read_answers_file(model: Model, path: str, screen: bool | None, confidence: float | None) -> Interview:
    """A session with the file's answers applied in order; KneeBayesError names the file on any problem.

    The file is either a saved interview (``Interview.to_json()``) or a JSON
    object ``{"node id": "yes" | "no" | true | false | "probably" | null | "skip"}``
    (a graded answer of the model file answers softly; null and "skip" mean
    "don't know"; ``{"likelihood": {...}}`` is a soft answer's weights).
    """
    try:
        # a regular file only (a FIFO would block, a folder or /dev/zero never end), size- and UTF-8-checked
        text = read_text(path, what="answers file", limit=MAX_SAVED_CHARS)
    except InputFileError as exc:
        raise KneeBayesError(str(exc)) from None   # "answers file 'F' does not exist", ...
    except OSError as exc:   # should read_text ever let one through: still a message, not a traceback
        raise KneeBayesError(f"cannot read answers file {path}: {exc.strerror or exc}") from None
    try:
        data = parse_saved_json(text)
    except SavedInterviewError as exc:
        raise SavedInterviewError(f"answers file {path} {exc}") from None
    if not isinstance(data, dict):
        raise KneeBayesError(f"answers file {path}: expected a JSON object such as "
                             f'{{"locking_or_catching": "no"}} or a saved interview, got {type(data).__name__}')
    try:
        if "format" in data:  # a saved interview: from_json checks the format, the model, options and every step
            saved = Interview.from_json(model, text)
            options: dict[str, Any] = saved.options
            steps: list[tuple[str, str, Any]] = [(s.action, s.node, s.value) for s in saved.history]
        else:
            options = {}
            steps = [("skip" if value is None or value == "skip" else "answer", str(node), value)
                     for node, value in data.items()]
        if screen is not None:
            options["screen_red_flags"] = screen
        if confidence is not None:
            options["confidence"] = confidence
        session = Interview(model, **options)
        for action, node, value in steps:
            if action == "skip":
                session.skip(node)
            elif isinstance(value, bool):
                session.answer(node, value)
            elif isinstance(value, str):
                states = model.node(node).states if node in {n.id for n in model.nodes} else ()
                # unknown words: the session's error
                session.answer(node, state_for(states, value) or graded_for(model, states, value) or value)
            elif isinstance(value, Likelihood):   # from a saved interview
                session.answer(node, value)
            elif isinstance(value, dict):   # a soft answer written out: {"likelihood": {...}, "label": ...}
                session.answer(node, Likelihood.from_dict(value))
            elif isinstance(value, (int, float)):   # a number stands for a state written so, as in diagnose
                session.answer(node, value)
            else:
                raise KneeBayesError(f"invalid answer {quote(value)} for {quote(node)}: write a state such as "
                                     f"\"yes\" or \"no\", a graded answer such as \"probably\" "
                                     f"(or null / \"skip\" for don't know)")
    except KneeBayesError as exc:
        raise KneeBayesError(f"answers file {path}: {exc}") from None
    return session
