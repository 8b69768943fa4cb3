"""Evidence at the boundary: check ids and states once, then hand on indices."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import EvidenceError, InvalidStateError, UnknownNodeError
from .network.compiled import CompiledNetwork

EvidenceLike = Mapping[str, "str | bool"]


def normalize(net: CompiledNetwork, evidence: EvidenceLike | None) -> dict[str, str]:
    """Evidence as {node id: state name}, with True/False turned into "yes"/"no".

    Raises UnknownNodeError (with the nearest ids) or InvalidStateError (with
    the valid states); nothing is dropped silently.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> normalize(net, {"limping": True, "locking_or_catching": "no"})
    {'limping': 'yes', 'locking_or_catching': 'no'}
    >>> normalize(net, {"limping": "maybe"})
    Traceback (most recent call last):
    ...
    kneebayes.errors.InvalidStateError: invalid state 'maybe' for node 'limping': valid states are 'yes', 'no' (or True/False)
    """
    return normalize_indexed(net, evidence)[0]


def normalize_indexed(net: CompiledNetwork, evidence: EvidenceLike | None) -> tuple[dict[str, str], dict[int, int]]:
    """:func:`normalize`, plus the same evidence as {node index: state index}, in one pass.

    The indices are what ``inference.posterior.encode`` takes.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> names, indices = normalize_indexed(net, {"limping": True})
    >>> names, indices == {net.index["limping"]: 0}
    ({'limping': 'yes'}, True)
    """
    if evidence is None:
        return {}, {}
    if not isinstance(evidence, Mapping):
        raise EvidenceError(f"evidence must be a mapping of node id to state, got {type(evidence).__name__}")
    out: dict[str, str] = {}
    indices: dict[int, int] = {}
    index = net.index
    for node, value in evidence.items():
        i = index.get(node) if isinstance(node, str) else None
        if i is None:
            raise UnknownNodeError(node, net.names)
        states = net.state_index[i]
        if isinstance(value, (bool, np.bool_)):
            if "yes" not in states or "no" not in states or len(states) != 2:
                raise InvalidStateError(node, value, net.states[i])
            value = "yes" if value else "no"
        elif not isinstance(value, str) or value not in states:
            raise InvalidStateError(node, value, net.states[i])
        out[node] = value
        indices[i] = states[value]
    return out, indices


def to_indices(net: CompiledNetwork, evidence: Mapping[str, str]) -> dict[int, int]:
    """Normalized evidence as {node index: state index}.

    Expects evidence :func:`normalize` has checked (a bad id is a KeyError here).

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> to_indices(net, {"limping": "no"}) == {net.index["limping"]: net.states[net.index["limping"]].index("no")}
    True
    """
    return {net.index[k]: net.state_index[net.index[k]][v] for k, v in evidence.items()}
