"""The E-step's families of one component from one sweep of its plan (``inference.table_gradient``).

A row's share of a family's expected counts is ``P(family | row)``; with
the targets' joint ``P(k | row)`` known, the component's value ``V[row, k]``
and the gradient of its tables give ``P(family, k | row)`` as
``table * dV[k] / d table / V[k]``. Seeded ``weight * P(k | row) / V[row, k]``,
one backward sweep of the batch gives every family's counts summed over
its rows. Where two or more of a family's members are hidden, that
replaces running the network once per configuration of them.

A row whose value underflows on some targets' state it has weight on
cannot be divided by it; such rows, and a batch whose sums do not check,
are left to :mod:`.learning_counts`' other paths, which rescale.
"""

from __future__ import annotations

import numpy as np

from ..inference.table_gradient import component_value, table_counts
from ..network.compiled import Component
from ..network.table_gradient import TableGradient

__all__ = ["TINY_VALUE", "fits", "swept_counts"]

#: A value below this on a state with weight is not divided by (its reciprocal would near overflow).
TINY_VALUE = 1e-250

# Bytes per entry a batch holds: forward slots and gradients (counted in row_entries), with room for a copy.
_BYTES = 16.0


def fits(plan: TableGradient, memory_budget: float) -> bool:
    """Whether one row's sweep (its forward slots and gradients) fits the memory budget. Where it does not
    (LINK, ten targets enumerated: 1.3e8 entries a row), the rows take the other paths.

    >>> import kneebayes
    >>> from kneebayes.network.table_gradient import table_gradient
    >>> plan = table_gradient(kneebayes.load_model().network.components[0])
    >>> fits(plan, 2**30), fits(plan, 8.0 * plan.row_entries - 1)
    (True, False)
    """
    return 8.0 * plan.row_entries <= memory_budget


def swept_counts(comp: Component, plan: TableGradient, own: np.ndarray, joint: np.ndarray, weights: np.ndarray,
                 memory_budget: float) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Expected counts of the component's tables (per node, the table's shape) over the rows, and which rows
    they cover.

    ``own`` is the rows' lam vectors of the component's nodes, ``joint``
    their targets' joint (rows, K), ``weights`` how often each row occurs.
    Rows not covered (False) take no part in the counts.
    """
    batch = own.shape[0]
    covered = np.zeros(batch, dtype=bool)
    out: dict[int, np.ndarray] = {}
    step = max(1, int(memory_budget // (_BYTES * plan.row_entries)))
    for start in range(0, batch, step):
        rows = slice(start, min(start + step, batch))
        value, work = component_value(comp, own[rows])
        n, width = value.shape
        index = comp.expand_index[None, :] + width * np.arange(n)[:, None]   # each joint state's entry of value
        local = np.bincount(index.reshape(-1), weights=joint[rows].reshape(-1), minlength=n * width).reshape(n, width)
        fine = ~((local > 0.0) & (value < TINY_VALUE)).any(axis=1)
        w = np.where(fine, weights[rows], 0.0)
        seed = np.divide(w[:, None] * local, value, out=np.zeros_like(local), where=(local > 0.0) & fine[:, None])
        got = table_counts(comp, plan, work, seed)
        total = float(w.sum())
        if not all(np.isfinite(t).all() and abs(float(t.sum()) - total) <= 1e-9 * max(total, 1.0) for t in got.values()):
            continue   # overflow or cancellation: these rows take the other paths
        covered[rows] = fine
        for node, table in got.items():
            np.maximum(table, 0.0, out=table)   # factorised noisy-ORs subtract: clip rounding residue below zero
            if node in out:
                out[node] += table
            else:
                out[node] = table
    return out, covered
