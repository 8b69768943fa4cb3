"""Soft answers: a likelihood over a node's states (virtual evidence, Pearl 1988).

A hard answer says which state a node is in. A soft answer says how much
more likely the person's report would be under each state: ``weights[s]``
is P(report | node = s) up to a constant factor, so only the ratios
matter. ``Likelihood(yes=0.8, no=0.2)`` (a ratio of 4 to 1) moves every
posterior exactly as a witness who says "yes" four times as often when the
answer is yes as when it is no.

Two things it is not:

* **Not a posterior.** ``Likelihood(yes=0.8, no=0.2)`` does not make
  P(node = yes) equal 0.8: it multiplies the node's odds by 4, whatever
  they were. A rare sign stays likelier absent than present after a weak
  "probably".
* **Not a fixed marginal** (Jeffrey's rule, "soft evidence" in a narrower
  sense), which sets P(node) to a given distribution and revises the rest
  to match. kneebayes takes likelihoods only: they compose with other
  answers in any order, which fixed marginals do not.

A likelihood whose weight is zero for every state but one is the hard
answer of that state, and is treated as exactly that.

>>> import kneebayes
>>> soft = kneebayes.Likelihood(yes=0.8, no=0.2)
>>> soft
Likelihood(yes=0.8, no=0.2)
>>> soft.ratio("yes", "no")
4.0
>>> kneebayes.Likelihood({"yes": 0.8, "no": 0.2}) == soft   # the same weights, written as a mapping
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from .errors import EvidenceError, control_character, quote

__all__ = ["Likelihood"]

_SMALLEST_RATIO = 2.2250738585072014e-308   # the smallest normal float: below it a scaled weight loses its digits


def _weight(state: object, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise EvidenceError(f"the weight of state {quote(state)} must be a number, got {type(value).__name__} "
                            f"{quote(value)}")
    try:
        number = float(value)   # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EvidenceError(f"the weight of state {quote(state)} must be a number, got {quote(value)}") from None
    except OverflowError:   # an int past any float (10**400)
        raise EvidenceError(f"the weight of state {quote(state)} must be a finite number >= 0, got a number past "
                            "the largest float (about 1.8e308)") from None
    if not math.isfinite(number) or number < 0:
        raise EvidenceError(f"the weight of state {quote(state)} must be a finite number >= 0, got {quote(value)}")
    return number


class Likelihood(Mapping[str, float]):
    """A soft answer: each state's weight, P(report | state) up to a common factor.

    Written as keywords (``Likelihood(yes=0.8, no=0.2)``) or as one mapping
    (``Likelihood({"mild": 1, "severe": 0.5})``, for states that are not
    identifiers). Weights are finite numbers >= 0, at least one above 0.
    Used as an evidence value it must name every state of its node.
    ``label`` is how the answer was given ("probably"), for display; it
    takes no part in the maths. Immutable and hashable.

    >>> soft = Likelihood(yes=3, no=1, label="probably")
    >>> dict(soft), soft.label, str(soft)
    ({'yes': 3.0, 'no': 1.0}, 'probably', 'probably (yes:no = 3:1)')
    >>> Likelihood(yes=-1, no=1)
    Traceback (most recent call last):
    ...
    kneebayes.errors.EvidenceError: the weight of state 'yes' must be a finite number >= 0, got -1
    """

    __slots__ = ("_weights", "_label", "_hash")

    def __init__(self, weights: Mapping[str, float] | None = None, /, *, label: str | None = None,
                 **states: float) -> None:
        if weights is not None and states:
            raise EvidenceError("give a Likelihood's weights either as one mapping or as keywords, not both")
        if weights is None:
            weights = states
        if not isinstance(weights, Mapping):
            raise EvidenceError(f"a Likelihood takes a mapping of state to weight, got {type(weights).__name__}")
        if label is not None and (not isinstance(label, str) or not label):
            raise EvidenceError(f"a Likelihood's label must be a non-empty string, got {quote(label)}")
        control = None if label is None else control_character(label)
        if control is not None:   # shown on screen: no terminal commands
            raise EvidenceError(f"a Likelihood's label holds the control character {control}, "
                                f"which a terminal would act on, got {quote(label)}")
        clean: dict[str, float] = {}
        for state, value in weights.items():
            if not isinstance(state, str) or not state:
                raise EvidenceError(f"a Likelihood's states must be non-empty strings, got {quote(state)}")
            clean[state] = _weight(state, value)
        if not clean:
            raise EvidenceError("a Likelihood needs a weight for each state of its node, e.g. Likelihood(yes=0.8, no=0.2)")
        if not any(w > 0 for w in clean.values()):
            raise EvidenceError("a Likelihood needs at least one weight above 0 (all zero would make any answer impossible)")
        top, least = max(clean.values()), min(w for w in clean.values() if w > 0)
        if least / top < _SMALLEST_RATIO:
            # scaled to a largest of 1, the small weight would round to 0 (or lose its digits): a firm answer unsaid
            raise EvidenceError(f"a Likelihood's weights {least:g} and {top:g} differ by more than a float can hold "
                                "(a ratio past about 4.5e307); give the small one as 0 for a firm answer, "
                                "or weights nearer each other")
        object.__setattr__(self, "_weights", MappingProxyType(clean))
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_hash", hash((frozenset(clean.items()), label)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Likelihood is immutable")

    # -- the Mapping protocol: state -> weight ---------------------------------------------
    def __getitem__(self, state: str) -> float:
        return self._weights[state]

    def __iter__(self) -> Iterator[str]:
        return iter(self._weights)

    def __len__(self) -> int:
        return len(self._weights)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Likelihood):
            return NotImplemented
        return dict(self._weights) == dict(other._weights) and self._label == other._label

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (dict(self._weights), self._label))

    @property
    def label(self) -> str | None:
        """How the answer was given ("probably"), or None."""
        return self._label

    def labelled(self, label: str | None) -> Likelihood:
        """The same weights with another label.

        >>> Likelihood(yes=1, no=4).labelled("probably not").label
        'probably not'
        """
        return Likelihood(dict(self._weights), label=label)

    def ratio(self, state: str, other: str) -> float:
        """``weights[state] / weights[other]``: how many times the report favours ``state`` (inf if ``other`` is 0).

        >>> Likelihood(yes=1, no=4).ratio("yes", "no")
        0.25
        """
        top, bottom = self._weight_of(state), self._weight_of(other)
        return math.inf if bottom == 0 else top / bottom

    def _weight_of(self, state: str) -> float:
        found = self._weights.get(state)
        if found is None:
            raise EvidenceError(f"{quote(state)} is no state of this likelihood; its states are "
                                f"{', '.join(map(quote, self._weights))}")
        return found

    def favoured(self) -> str | None:
        """The one state with the largest weight, or None when several share it (the answer leans nowhere).

        >>> Likelihood(yes=3, no=1).favoured(), Likelihood(yes=1, no=1).favoured()
        ('yes', None)
        """
        top = max(self._weights.values())
        best = [s for s, w in self._weights.items() if w == top]
        return best[0] if len(best) == 1 else None

    def hard_state(self) -> str | None:
        """The state this is a hard answer for (every other weight is 0), or None.

        >>> Likelihood(yes=0.5, no=0).hard_state(), Likelihood(yes=0.5, no=0.1).hard_state()
        ('yes', None)
        """
        positive = [s for s, w in self._weights.items() if w > 0]
        return positive[0] if len(positive) == 1 else None

    def vector(self, states: Sequence[str]) -> list[float]:
        """The weights in ``states``' order, scaled so the largest is 1 (what the engine multiplies in).

        Expects every state named (``kneebayes.evidence`` checks that first).

        >>> Likelihood(no=1, yes=4).vector(("yes", "no"))
        [1.0, 0.25]
        """
        top = max(self._weights.values())
        return [self._weight_of(s) / top for s in states]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``{"likelihood": {state: weight}, "label": ...}`` (read back by :meth:`from_dict`).

        >>> Likelihood(yes=3, no=1, label="probably").to_dict()
        {'likelihood': {'yes': 3.0, 'no': 1.0}, 'label': 'probably'}
        """
        return {"likelihood": dict(self._weights), "label": self._label}

    @classmethod
    def from_dict(cls, data: object) -> Likelihood:
        """The Likelihood :meth:`to_dict` wrote; EvidenceError for anything else.

        >>> Likelihood.from_dict({"likelihood": {"yes": 3, "no": 1}, "label": "probably"}).ratio("yes", "no")
        3.0
        """
        if not isinstance(data, Mapping) or set(data) - {"likelihood", "label"} or "likelihood" not in data:
            raise EvidenceError(f"a soft answer is written {{'likelihood': {{state: weight}}, 'label': ...}}, "
                                f"got {quote(data)}")
        return cls(data["likelihood"], label=data.get("label"))

    def __repr__(self) -> str:
        if all(s.isidentifier() and s != "label" for s in self._weights):
            body = ", ".join(f"{s}={w!r}" for s, w in self._weights.items())
        else:
            body = repr(dict(self._weights))
        if self._label is not None:
            body += f", label={self._label!r}"
        return f"Likelihood({body})"

    def __str__(self) -> str:
        ratio = ":".join(f"{w:g}" for w in self._weights.values())
        text = f"{':'.join(self._weights)} = {ratio}"
        return f"{self._label} ({text})" if self._label else f"likelihood {text}"


def _rebuild(weights: dict[str, float], label: str | None) -> Likelihood:
    return Likelihood(weights, label=label)
