"""Complete cases drawn from a model's own tables (ancestral sampling, vectorised over cases).

What simulated-runner studies and benchmarks use: every sampled case has
positive probability, so evidence taken from it is never impossible.

``n`` is an int from 0 to :data:`MAX_CASES` whose cases fit in
``kneebayes.research.intervals.DRAW_MEMORY``; ``seed`` is None, an int in
``[0, 2**128)`` or a numpy Generator. A wrong type raises WrongTypeError, a value
out of range SettingError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .intervals import check_count, check_memory, check_seed

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["MAX_CASES", "sample_cases", "sample_states"]

#: The most cases one call draws.
MAX_CASES = 100_000_000


def _topological_order(parents: tuple[tuple[int, ...], ...]) -> list[int]:
    order: list[int] = []
    done: set[int] = set()
    pending = list(range(len(parents)))
    while pending:
        rest = [i for i in pending if not all(p in done for p in parents[i])]
        for i in pending:
            if i not in rest:
                order.append(i)
                done.add(i)
        pending = rest
    return order


def sample_states(model: Model, n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """``n`` complete cases as state indices, shape (n, nodes) in ``model.network.names`` order.

    >>> import kneebayes
    >>> states = sample_states(kneebayes.load_model(), 5, seed=1)
    >>> states.shape
    (5, 32)
    """
    net = model.network
    n = _check(n, seed, 8 * (len(net.names) + 6 * max(net.cards, default=1) + 4))   # the cases; one node's rows, cdf
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    x = np.zeros((n, len(net.names)), dtype=np.intp)
    for i in _topological_order(net.parents):
        table = np.asarray(net.tables[i], dtype=float)                    # axes (parents..., node)
        rows = table[tuple(x[:, p] for p in net.parents[i])] if net.parents[i] else np.broadcast_to(table, (n, net.cards[i]))
        cdf = np.cumsum(rows / rows.sum(axis=1, keepdims=True), axis=1)
        u = rng.random(n)
        x[:, i] = np.minimum((u[:, None] >= cdf).sum(axis=1), net.cards[i] - 1)
    return x


def sample_cases(model: Model, n: int, seed: int | np.random.Generator | None = 0) -> list[dict[str, str]]:
    """``n`` complete cases as {node id: state name}.

    >>> import kneebayes
    >>> case = sample_cases(kneebayes.load_model(), 1, seed=1)[0]
    >>> case["hamstring_strain"] in ("yes", "no")
    True
    """
    net = model.network
    # a dict per case: about 100 bytes of its own and 40 a node (the state names are shared)
    _check(n, seed, 8 * len(net.names) + 100 + 40 * len(net.names))
    x = sample_states(model, n, seed)
    return [{net.names[i]: net.states[i][x[r, i]] for i in range(len(net.names))} for r in range(n)]


def _check(n: object, seed: object, per_case: int) -> int:
    count = check_count(n, "n", MAX_CASES, minimum=0, limit_name="kneebayes.research.sampling.MAX_CASES")
    check_seed(seed, generator=True)
    check_memory(count, per_case, name="n", what="case")
    return count
