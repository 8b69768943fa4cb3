"""Evidence at the boundary: check ids, states and soft answers once, then hand on indices.

An evidence value is a state name, True/False for a yes/no node, or a
:class:`~kneebayes.likelihood.Likelihood` (a soft answer). Inside the
library a node's evidence is its state index (hard) or its likelihood
vector scaled to a largest weight of 1 (soft): what
``inference.posterior.encode`` multiplies in.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from .errors import EvidenceError, InvalidStateError, UnknownNodeError, stacklevel_outside, quote
from .likelihood import Likelihood
from .network.compiled import TINY_ENTRY, CompiledNetwork, PrecisionWarning

EvidenceLike = Mapping[str, "str | bool | Likelihood"]
#: One node's evidence as the engine takes it: a state index, or a likelihood vector (soft).
Indexed = dict[int, "int | np.ndarray"]


def normalize(net: CompiledNetwork, evidence: EvidenceLike | None,
              graded: Mapping[str, Likelihood] | None = None) -> dict[str, str | Likelihood]:
    """Evidence as {node id: state name or Likelihood}, with True/False turned into "yes"/"no".

    A Likelihood must name every state of its node; one that is zero for
    every state but one becomes that state (a hard answer). ``graded``
    maps the model's graded answers ("probably", ...) to their
    Likelihoods: such a word answers a yes/no node softly. Raises
    UnknownNodeError (with the nearest ids), InvalidStateError (with the
    valid states) or EvidenceError; nothing is dropped silently.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> normalize(net, {"limping": True, "locking_or_catching": kneebayes.Likelihood(yes=1, no=0)})
    {'limping': 'yes', 'locking_or_catching': 'yes'}
    >>> normalize(net, {"limping": "maybe"})
    Traceback (most recent call last):
    ...
    kneebayes.errors.InvalidStateError: invalid state 'maybe' for node 'limping': valid states are 'yes', 'no' (or True/False)
    >>> normalize(net, {"limping": kneebayes.Likelihood(yes=2)})
    Traceback (most recent call last):
    ...
    kneebayes.errors.EvidenceError: the Likelihood for 'limping' gives no weight for 'no'; name every state: 'yes', 'no'
    """
    return normalize_indexed(net, evidence, graded)[0]


def normalize_indexed(net: CompiledNetwork, evidence: EvidenceLike | None,
                      graded: Mapping[str, Likelihood] | None = None
                      ) -> tuple[dict[str, str | Likelihood], Indexed, bool]:
    """:func:`normalize`, plus the same evidence as {node index: state index or likelihood vector} and whether
    every answer is hard (a state, not a likelihood vector), in one pass.

    The indices are what ``inference.posterior.encode`` takes.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> answers = {"limping": True, "swelling_behind_knee": kneebayes.Likelihood(yes=1, no=4)}
    >>> names, indices, hard = normalize_indexed(net, answers)
    >>> indices[net.index["limping"]], indices[net.index["swelling_behind_knee"]].tolist(), hard
    (0, [0.25, 1.0], False)
    """
    if evidence is None:
        return {}, {}, True
    if type(evidence) is not dict and (not isinstance(evidence, Mapping) or isinstance(evidence, Likelihood)):
        raise EvidenceError(f"evidence must be a mapping of node id to state, got {type(evidence).__name__}")
    out: dict[str, str | Likelihood] = {}
    indices: Indexed = {}
    hard = True
    index, state_index = net.index, net.state_index
    for node, value in evidence.items():
        i = index.get(node) if isinstance(node, str) else None
        if i is None:
            raise UnknownNodeError(node, net.names)
        states = state_index[i]
        if type(value) is str and value in states:   # the common answer first: what a diagnosis pays for
            out[node] = value
            indices[i] = states[value]
            continue
        if graded and isinstance(value, str) and value not in states and value in graded:
            if len(states) != 2 or "yes" not in states:
                raise EvidenceError(f"the graded answer {quote(value)} is for yes/no questions; {quote(node)} has "
                                    f"the states {', '.join(repr(s) for s in net.states[i])}")
            value = graded[value]
        if isinstance(value, Likelihood):
            vector = _soft(node, value, net.states[i])
            if value.label is not None:
                _check_label(node, value, vector, net.states[i], graded)
            state = value.hard_state()
            if state is None:
                _warn_if_faint(node, value)
                out[node] = value
                indices[i] = vector
                hard = False
                continue
            value = state
        elif isinstance(value, (bool, np.bool_)):
            if "yes" not in states or "no" not in states or len(states) != 2:
                raise InvalidStateError(node, value, net.states[i])
            value = "yes" if value else "no"
        elif not isinstance(value, str) or value not in states:
            text = number_text(value)   # 1 or 1.0 for a state named "1", as in a frame read from a CSV
            if text is None or text not in states:
                raise InvalidStateError(node, value, net.states[i], tuple(graded or ()))
            value = text
        out[node] = value
        indices[i] = states[value]
    return out, indices, hard


def number_text(value: object) -> str | None:
    """The state name a number stands for, written out (``1``, ``1.0`` and ``np.int64(1)`` are ``"1"``, ``2.5``
    is ``"2.5"``); None for anything else, True/False and NaN included. The one rule by which a diagnosis and a
    frame's cells match numbers to a node's states: a state whose name is that text.

    >>> number_text(1), number_text(np.float64(3.0)), number_text(2.5), number_text(True), number_text("1")
    ('1', '3', '2.5', None, None)
    """
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if f != f:
            return None
        return str(int(f)) if f.is_integer() else repr(f)
    return None


def _check_label(node: str, value: Likelihood, vector: np.ndarray, states: tuple[str, ...],
                 graded: Mapping[str, Likelihood] | None) -> None:
    """A soft answer's label is shown as the answer given: it may not be one of the node's states (a 1000:1 answer
    labelled "no" would read as a firm no), and one that names a graded answer of the model carries its weights."""
    label = value.label
    if label in states and value.hard_state() != label:   # (a firm answer may carry its own state's name)
        raise EvidenceError(f"a soft answer to {quote(node)} may not be labelled {quote(label)}, one of its states: "
                            "the label is shown as the answer given; label it in other words, or answer the state")
    known = graded.get(label) if graded and label is not None else None
    if known is not None and len(states) == 2 and "yes" in states:
        expected = np.array(known.vector(states))
        if not np.allclose(vector / vector.max(), expected / expected.max(), rtol=1e-9, atol=0.0):
            raise EvidenceError(f"a soft answer to {quote(node)} is labelled {quote(label)}, this model's graded answer "
                                f"{known}, but weighs {value}; give it the answer's weights or another label")


def _warn_if_faint(node: str, value: Likelihood) -> None:
    """Warn (:class:`~kneebayes.PrecisionWarning`) where a soft answer weighs some state below ``TINY_ENTRY``
    (1e-100) of its strongest: the engine multiplies it in as a table entry that small, with the same limit."""
    weights = [w for w in value.values() if w > 0.0]
    faint = min(weights) / max(weights)
    if faint < TINY_ENTRY:
        warnings.warn(f"the soft answer to {quote(node)} weighs a state {faint:.3g} times its strongest; products of "
                      f"a few numbers below {TINY_ENTRY:g} can fall below the smallest double inside one step, where "
                      "answers that rest on them lose their digits (docs/engine.md, Underflow); give such a state "
                      "a weight of 0 if it is ruled out", PrecisionWarning, stacklevel=stacklevel_outside())


def _soft(node: str, value: Likelihood, states: tuple[str, ...]) -> np.ndarray:
    """The Likelihood's vector in the node's state order, after checking it names exactly those states."""
    valid = ", ".join(repr(s) for s in states)
    for state in value:
        if state not in states:
            raise EvidenceError(f"the Likelihood for {quote(node)} names {quote(state)}, which is not a state of "
                                f"it; valid states are {valid}")
    for state in states:
        if state not in value:
            raise EvidenceError(f"the Likelihood for {quote(node)} gives no weight for {quote(state)}; "
                                f"name every state: {valid}")
    vector = np.array(value.vector(states))
    vector.setflags(write=False)
    return vector


def to_indices(net: CompiledNetwork, evidence: Mapping[str, str | Likelihood]) -> Indexed:
    """Normalized evidence as {node index: state index or likelihood vector}.

    Expects evidence :func:`normalize` has checked (a bad id is a KeyError here).

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> to_indices(net, {"limping": "no"}) == {net.index["limping"]: net.states[net.index["limping"]].index("no")}
    True
    """
    out: Indexed = {}
    for k, v in evidence.items():
        i = net.index[k]
        out[i] = np.array(v.vector(net.states[i])) if isinstance(v, Likelihood) else net.state_index[i][v]
    return out


def hard_answers(evidence: Mapping[str, str | Likelihood]) -> dict[str, str]:
    """The hard answers alone (a soft answer leaves its question open).

    >>> from kneebayes.likelihood import Likelihood
    >>> hard_answers({"limping": "yes", "swelling_behind_knee": Likelihood(yes=2, no=1)})
    {'limping': 'yes'}
    """
    return {k: v for k, v in evidence.items() if isinstance(v, str)}
