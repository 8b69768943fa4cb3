"""Parameter draws from a model spec: which numbers vary, drawing them, and a spec with drawn numbers.

Each number whose range is proper (``low < high``) is drawn from the fit
:mod:`kneebayes.research.ranges` gives it:

* a yes/no prior written as P(yes) (its P(no) the complement), a noisy-OR
  leak and each noisy-OR weight: a Beta of its own;
* a full-table column, or the prior of a node with more than two states:
  a Dirichlet over its cells, so the column keeps summing to 1. A cell
  written as "impossible" (0) stays 0; a column with any cell without a
  proper range (a "certain" cell, say) stays fixed.

Numbers without a range (bare cells of imported networks) stay fixed. The
numbers are drawn independently of one another.

A node's numbers travel as one flat vector (:func:`flat_values`):

=========  ===========================================  =====================
prior      the probabilities in state order             ``(card,)``
noisy-OR   ``[leak, weight_1, ..., weight_k]``          ``(1 + k,)``
table      the cells, column by column (C order)        ``(columns * card,)``
=========  ===========================================  =====================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import WrongTypeError
from ..modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table
from .ranges import beta_for_range, dirichlet_for_ranges

__all__ = ["Sampler", "VaryingGroup", "build_sampler", "flat_values", "spec_with_numbers"]


@dataclass(frozen=True)
class VaryingGroup:
    """Numbers of one node drawn together: one Beta, or one Dirichlet over a column's cells."""

    node: int
    positions: tuple[int, ...]        # into the node's flat vector
    alpha: tuple[float, ...]          # Beta: (a, b); Dirichlet: one per position
    dirichlet: bool
    complement: int | None = None     # Beta: the position that receives 1 - x


@dataclass(frozen=True)
class Sampler:
    """How a spec's numbers vary: the written values and the groups drawn from their ranges.

    >>> import numpy as np, kneebayes
    >>> sampler = build_sampler(kneebayes.load_model().spec)
    >>> numbers = sampler.draw(np.random.default_rng(0), 3)
    >>> sorted(numbers) == sorted(sampler.sampled), {a.shape[0] for a in numbers.values()}
    (True, {3})
    """

    base: tuple[np.ndarray, ...]      # per node, its flat numbers as written (read-only)
    groups: tuple[VaryingGroup, ...]
    sampled: frozenset[int]           # nodes with at least one varying number

    def draw(self, rng: np.random.Generator, draws: int) -> dict[int, np.ndarray]:
        """Per sampled node, its flat numbers in every draw, ``(draws, n)``; the same ``rng`` state gives the same draws."""
        out = {i: np.repeat(self.base[i][None, :], draws, axis=0) for i in sorted(self.sampled)}
        for g in self.groups:
            arr = out[g.node]
            if g.dirichlet:
                arr[:, list(g.positions)] = rng.dirichlet(g.alpha, size=draws)
            else:
                x = rng.beta(g.alpha[0], g.alpha[1], size=draws)
                arr[:, g.positions[0]] = x
                if g.complement is not None:
                    arr[:, g.complement] = 1.0 - x
        return out


def flat_values(node: NodeSpec) -> np.ndarray:
    """A node's numbers as one flat vector (layout in the module docstring).

    >>> import kneebayes
    >>> flat_values(kneebayes.load_model().spec.nodes[0]).ndim
    1
    """
    params = node.parameters
    if isinstance(params, Prior):
        return np.array([p.value for p in params.probabilities], dtype=float)
    if isinstance(params, NoisyOr):
        return np.array([params.leak.value] + [w.value for _, w in params.weights], dtype=float)
    if isinstance(params, Table):
        return np.array([p.value for col in params.columns for p in col.probabilities], dtype=float)
    raise WrongTypeError(f"unknown parameter kind for node {node.id!r}: {type(params).__name__}")


def _varies(p: Parameter) -> bool:
    return p.range is not None and p.range[0] < p.range[1]


def _column_group(node: int, start: int, probs: Sequence[Parameter]) -> VaryingGroup | None:
    """A Dirichlet over one column's cells (cells at 0 stay 0), or None if the column is fixed."""
    if any(p.range is None for p in probs) or not any(_varies(p) for p in probs):
        return None
    live = [j for j, p in enumerate(probs) if p.value > 0.0]
    if len(live) < 2 or not all(_varies(probs[j]) for j in live):
        return None
    alpha = dirichlet_for_ranges(tuple(probs[j].value for j in live), tuple(probs[j].range for j in live))  # type: ignore[misc]
    return VaryingGroup(node, tuple(start + j for j in live), alpha, True)


def _beta_group(node: int, position: int, p: Parameter, complement: int | None = None) -> VaryingGroup | None:
    if p.range is None or not _varies(p):
        return None
    return VaryingGroup(node, (position,), beta_for_range(*p.range), False, complement)


def build_sampler(spec: ModelSpec) -> Sampler:
    """The sampler of ``spec``'s numbers: fits every range once (scipy), then draws cheaply.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> len(build_sampler(spec).sampled) == len(spec.nodes)   # every knee number has a range
    True
    """
    base, groups = [], []
    for i, node in enumerate(spec.nodes):
        base.append(flat_values(node))
        params = node.parameters
        found: list[VaryingGroup | None] = []
        if isinstance(params, Prior):
            probs = params.probabilities
            if params.derived_last and len(probs) == 2:
                yes = node.states.index("yes") if "yes" in node.states else 0
                found.append(_beta_group(i, yes, probs[yes], complement=1 - yes))
            else:
                found.append(_column_group(i, 0, probs))
        elif isinstance(params, NoisyOr):
            found.append(_beta_group(i, 0, params.leak))
            found.extend(_beta_group(i, 1 + j, w) for j, (_, w) in enumerate(params.weights))
        elif isinstance(params, Table):
            card = len(node.states)
            found.extend(_column_group(i, c * card, col.probabilities) for c, col in enumerate(params.columns))
        groups.extend(g for g in found if g is not None)
    for b in base:
        b.setflags(write=False)
    return Sampler(tuple(base), tuple(groups), frozenset(g.node for g in groups))


def spec_with_numbers(spec: ModelSpec, numbers: Mapping[int, np.ndarray]) -> ModelSpec:
    """A copy of ``spec`` with some nodes' flat numbers replaced (ranges and sources kept).

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> spec_with_numbers(spec, {0: flat_values(spec.nodes[0])}) == spec
    True
    """
    nodes = list(spec.nodes)
    for i, vec in numbers.items():
        node = nodes[i]
        params = node.parameters
        values = [float(x) for x in vec]
        new: Any
        if isinstance(params, Prior):
            new = replace(params, probabilities=tuple(replace(p, value=v) for p, v in zip(params.probabilities, values)))
        elif isinstance(params, NoisyOr):
            new = replace(params, leak=replace(params.leak, value=values[0]),
                          weights=tuple((name, replace(w, value=v)) for (name, w), v in zip(params.weights, values[1:])))
        elif isinstance(params, Table):
            card = len(node.states)
            new = replace(params, columns=tuple(
                replace(col, probabilities=tuple(replace(p, value=v) for p, v in zip(col.probabilities, values[c * card:(c + 1) * card])))
                for c, col in enumerate(params.columns)
            ))
        else:
            raise WrongTypeError(f"unknown parameter kind for node {node.id!r}: {type(params).__name__}")
        nodes[i] = replace(node, parameters=new)
    return replace(spec, nodes=tuple(nodes))
