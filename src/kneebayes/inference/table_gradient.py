"""Every family's expected counts in a component from one forward and one backward sweep.

See ``network.table_gradient``: with the component's value ``V[row, k]``
on its targets' states seeded by ``seed[row, k]``, the gradient of
``sum seed * V`` with respect to node v's table, times the table, is
``sum over rows and k of seed * P(family of v, targets = k, row's evidence
in the component)``. Learning seeds ``weight * P(k | row) / V[row, k]``,
which makes that the family's expected counts.
"""

from __future__ import annotations

import numpy as np

from ..network.compiled import Component
from ..network.table_gradient import TableGradient
from .backward import forward_pass

__all__ = ["component_value", "table_counts"]


def component_value(comp: Component, own: np.ndarray) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """The component's unscaled value (batch, its targets' states, flat) and the forward slots behind it.

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode
    >>> net = kneebayes.load_model().network
    >>> comp = net.components[0]
    >>> value, work = component_value(comp, encode(net, [{}])[:, comp.nodes, :])
    >>> value.shape          # one row; the five causes the risk factors touch
    (1, 32)
    >>> round(float(value.sum()), 12)     # no evidence: the risk factors' share of the causes' prior, summed
    1.0
    """
    plan = comp.gradient
    assert plan is not None  # noqa: S101 - only called on components that have one
    work = forward_pass(comp, own)
    value = work[plan.result]
    assert value is not None  # noqa: S101 - the forward pass fills its result
    return value.reshape(own.shape[0], -1), work


def table_counts(comp: Component, plan: TableGradient, work: list[np.ndarray | None], seed: np.ndarray
                 ) -> dict[int, np.ndarray]:
    """Per node of ``plan.tables``: its table times the gradient of ``sum seed * value``, summed over the rows.

    ``work`` is the forward slots of ``component_value``; ``seed`` has the
    value's shape (batch, its targets' states, flat).
    """
    gradient = comp.gradient
    assert gradient is not None  # noqa: S101 - a table gradient exists only beside a gradient plan
    batch = seed.shape[0]
    grads: dict[int, np.ndarray] = {gradient.result: seed.reshape(batch, *gradient.seed_shape)}
    for t in plan.steps:
        source = t.step.inputs[0]
        g = t.step.run([grads[source], *(work[i] for i in t.step.inputs[1:])], batch, "C")
        if t.release:
            del grads[source]
        if t.expand:   # axes the slot summed alone: its gradient is constant along them
            g = np.broadcast_to(np.expand_dims(g, t.expand), (batch, *t.shape))
        grads[t.slot] = g
    out = {}
    for slot, node in plan.tables:
        table = work[slot]
        assert table is not None  # noqa: S101 - constants are filled in
        out[node] = table * grads[slot].sum(axis=0)
    return out
