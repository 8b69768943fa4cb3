"""Answers typed by a person: ``ID=STATE`` pairs, the words for yes and no, and answers files.

One word list serves ``diagnose``, the interview prompt and answers files:
for a yes/no question, ``y``, ``yes`` and ``true`` mean yes and ``n``,
``no`` and ``false`` mean no, in any case; any other question takes its
states, in any case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InputFileError, KneeBayesError, UnknownNodeError, quote
from ..files import read_text
from ..interview import MAX_SAVED_CHARS, Interview, SavedInterviewError, parse_saved_json

if TYPE_CHECKING:
    from ..model import Model

YES_WORDS = frozenset({"y", "yes", "true"})
NO_WORDS = frozenset({"n", "no", "false"})
SKIP_WORDS = frozenset({"skip", "s", "?", "dont know", "don't know", "unknown"})
UNDO_WORDS = frozenset({"undo", "u", "back"})
QUIT_WORDS = frozenset({"quit", "q", "exit"})

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


def words_for(states: Sequence[str]) -> str:
    """The answers a question takes, in words: "yes or no (y / n)" or its states."""
    if set(states) == {"yes", "no"}:
        return "yes or no (y / n, true / false)"
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
        state = state_for(states, word)
        if state is None:
            raise KneeBayesError(f"cannot read {quote(word)} as an answer to {quote(node)}: "
                                 f"answer {words_for(states)}")
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
    object ``{"node id": "yes" | "no" | true | false | null | "skip"}``
    (null and "skip" mean "don't know").
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
                session.answer(node, state_for(states, value) or value)   # unknown words: the session's error
            else:
                raise KneeBayesError(f"invalid answer {quote(value)} for {quote(node)}: write a state such as "
                                     f"\"yes\" or \"no\" (or null / \"skip\" for don't know)")
    except KneeBayesError as exc:
        raise KneeBayesError(f"answers file {path}: {exc}") from None
    return session
