"""Complete cases drawn from a model's own tables (ancestral sampling, vectorised over cases).

What simulated-runner studies and benchmarks use: every sampled case has
positive probability, so evidence taken from it is never impossible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..model import Model


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
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    net = model.network
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
    x = sample_states(model, n, seed)
    return [{net.names[i]: net.states[i][x[r, i]] for i in range(len(net.names))} for r in range(n)]
