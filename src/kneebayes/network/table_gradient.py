"""A component's plan run backwards to its tables: every family's joint from one sweep.

P(evidence) is multilinear in each node's table: every term of the sum over
the network's states holds exactly one of its entries. So
``theta_v[u, x] * dP(e) / d theta_v[u, x] = P(parents = u, v = x, e)``, and
likewise for a component's value on each targets' state. Seeded at the
result with a number per row and targets' state (learning seeds
``weight * P(targets | row) / value``), the gradient of that weighted sum
with respect to a table, times the table and summed over the rows, is the
family's expected counts: EM's E-step for every family of the component at
once, at a few times the cost of one forward pass (Darwiche's differential
approach; what a junction tree's calibration gives), where clamping two
hidden members of one family runs the whole network once per configuration.

The gradient here is of one number, so each slot's gradient has the slot's
own shape (``network.backward_plan`` carries the targets on every gradient,
for each node's joint with them). This module plans those steps from the
gradient plan's forward steps; ``inference.table_gradient`` runs them.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

from .compiled import Component
from .contraction import Einsum, plan_einsum

__all__ = ["TableStep", "TableGradient", "table_gradient"]

BATCH = "a"   # the gradient plan's batch letter


@dataclass(frozen=True, eq=False)
class TableStep:
    """One backward step: ``step`` takes (the gradient of its forward step's output, that step's other
    inputs) to the gradient of ``slot``, without the axes that slot sums alone (``expand``: their
    positions, batch axis counted, where the result is constant and is broadcast to ``shape``)."""

    step: Einsum
    slot: int
    shape: tuple[int, ...]         # the gradient's shape after the batch axis
    expand: tuple[int, ...]
    release: bool                  # the last step reading its output's gradient: drop that afterwards


@dataclass(frozen=True, eq=False)
class TableGradient:
    """The backward steps from a component's value to its nodes' tables.

    ``tables`` pairs each constant slot that is a node's whole table with
    that node; ``row_entries`` is what one batch row holds at most, forward
    slots and gradients together (for sizing batches).
    """

    steps: tuple[TableStep, ...]
    tables: tuple[tuple[int, int], ...]
    row_entries: float

    @property
    def nodes(self) -> frozenset[int]:
        """The nodes whose tables' gradients the sweep gives."""
        return frozenset(node for _, node in self.tables)


_PLANS: weakref.WeakKeyDictionary[Component, TableGradient | None] = weakref.WeakKeyDictionary()


def table_gradient(comp: Component) -> TableGradient | None:
    """The component's table gradient plan, planned once per component; None where it has no gradient plan
    or no node's whole table among its constants (a split noisy-OR's pieces are not one node's table).

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> comp = net.components[0]                  # the risk factors, each a table
    >>> plan = table_gradient(comp)
    >>> len(plan.nodes) == len(comp.nodes), "poor_warmup" in {net.names[v] for v in plan.nodes}
    (True, True)
    """
    if comp in _PLANS:
        return _PLANS[comp]
    found = _planned(comp)
    _PLANS[comp] = found
    return found


def _split(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _planned(comp: Component) -> TableGradient | None:
    plan = comp.gradient
    if plan is None or not comp.table_nodes:
        return None
    consumed = {i for step in plan.forward for i in step.inputs}
    tables = {i: v for i, v in enumerate(comp.table_nodes) if v >= 0 and i in consumed}
    if not tables:
        return None
    # Each slot's shape after the batch axis, from the constants, the lam vectors and the steps' letters.
    shapes: dict[int, tuple[int, ...]] = {i: a.shape for i, a in enumerate(plan.slots) if a is not None}
    for j, card in enumerate(plan.lam_cards):
        shapes[plan.lam_start + j] = (card,)
    for step in plan.forward:
        ins, out = _split(step.subscripts)
        dims: dict[str, int] = {}
        for sub, i in zip(ins, step.inputs):
            dims.update(zip(sub.replace(BATCH, ""), shapes[i]))
        shapes[step.output] = tuple(dims[c] for c in out.replace(BATCH, ""))
    needed: set[int] = set()   # forward outputs some table lies upstream of
    for step in plan.forward:
        if any(i in tables or i in needed for i in step.inputs):
            needed.add(step.output)
    steps: list[TableStep] = []
    for step in reversed(plan.forward):
        if step.output not in needed:
            continue
        ins, out = _split(step.subscripts)
        wanted = [k for k, i in enumerate(step.inputs) if i in tables or i in needed]
        for n, k in enumerate(wanted):
            i = step.inputs[k]
            target = ins[k] if ins[k].startswith(BATCH) else BATCH + ins[k]   # a table's gradient per row too
            others = [(ins[m], step.inputs[m]) for m in range(len(ins)) if m != k]
            available = set(out).union(*(sub for sub, _ in others))
            kept = "".join(c for c in target if c in available)
            subscripts = ",".join([out, *(sub for sub, _ in others)]) + "->" + kept
            operand_shapes = [(1, *shapes[step.output])] + [
                ((1,) if sub.startswith(BATCH) else ()) + shapes[m] for sub, m in others]
            planned = plan_einsum((step.output, *(m for _, m in others)), subscripts, i, operand_shapes)
            expand = tuple(p for p, c in enumerate(target) if c not in available)
            steps.append(TableStep(planned, i, shapes[i], expand, release=n == len(wanted) - 1))
    entries = sum(math.prod(s) for s in shapes.values() if s)   # forward slots (constants counted once more)
    entries += sum(math.prod(shapes[t.slot]) for t in steps)
    return TableGradient(tuple(steps), tuple(sorted(tables.items())), float(entries))
