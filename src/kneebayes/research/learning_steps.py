"""The M-step of learning from cases: priors from the ranges, new numbers from expected counts, learned specs.

Which numbers are learned together and their priors (:func:`groups`, from
the range fits of :func:`kneebayes.research.draws.build_sampler`), the
M-step itself (:func:`m_step`: posterior mode or, on the boundary, mean;
noisy-OR weights and leak through their link activations), the log prior
density (:func:`log_prior`), a step's extrapolation for accelerated EM
(:func:`extrapolated`), and the learned spec with new ranges and data
records (:func:`learned_spec`). :mod:`.learning` runs the loop; its module
docstring says what each step means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..extras import require
from ..modelfile.format import complement
from ..modelfile.schema import DataRecord, ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table
from ..network.compiled import CompiledNetwork
from .draws import build_sampler
from .ranges import RANGE_MASS

__all__ = ["Group", "groups", "probabilities", "m_step", "log_prior", "extrapolated", "ranges", "learned_spec"]


@dataclass(frozen=True)
class Group:
    """Numbers of one node learned together: a Dirichlet over positions of its flat vector, or a Beta.

    ``kind``: "column" (a table column or a prior's states), "yes" (P(yes)
    of a yes/no prior, its complement at ``complement``), "leak" or
    "weight" (a noisy-OR's, the weight's parent at ``index``). ``alpha`` is
    the prior (two numbers for a Beta: successes, failures).
    """

    node: int
    kind: str
    positions: tuple[int, ...]
    alpha: tuple[float, ...]
    column: int = 0
    index: int = 0
    complement: int | None = None


def groups(spec: ModelSpec) -> list[Group]:
    """Every learnable group of numbers, with its prior from the range fits of ``draws.build_sampler``."""
    fitted = {(g.node, g.positions): g for g in build_sampler(spec).groups}
    out: list[Group] = []

    def fit(node: int, positions: tuple[int, ...], params: Sequence[Parameter]) -> tuple[float, ...] | None:
        found = fitted.get((node, positions))
        if found is not None:
            return found.alpha
        if all(p.range is None for p in params):   # bare numbers: a flat prior (a Beta has two alphas)
            return (1.0,) * (2 if len(positions) == 1 else len(positions))
        return None   # a single-valued range: certain or impossible, kept as written

    for i, node in enumerate(spec.nodes):
        p = node.parameters
        if isinstance(p, Prior):
            probs = p.probabilities
            if p.derived_last and len(probs) == 2:
                yes = node.states.index("yes") if "yes" in node.states else 0
                alpha = fit(i, (yes,), [probs[yes]])
                if alpha is not None:
                    out.append(Group(i, "yes", (yes,), alpha, complement=1 - yes))
            else:
                positions = _live(i, 0, probs, fitted)
                alpha = fit(i, positions, probs)
                if alpha is not None:
                    out.append(Group(i, "column", positions, alpha))
        elif isinstance(p, NoisyOr):
            alpha = fit(i, (0,), [p.leak])
            if alpha is not None:
                out.append(Group(i, "leak", (0,), alpha))
            for j, (_, w) in enumerate(p.weights):
                alpha = fit(i, (1 + j,), [w])
                if alpha is not None:
                    out.append(Group(i, "weight", (1 + j,), alpha, index=j))
        elif isinstance(p, Table):
            card = len(node.states)
            for c, col in enumerate(p.columns):
                positions = _live(i, c * card, col.probabilities, fitted)
                alpha = fit(i, positions, col.probabilities)
                if alpha is not None:
                    out.append(Group(i, "column", positions, alpha, column=c))
    return out


def partly_ranged(spec: ModelSpec) -> list[str]:
    """The columns :func:`groups` leaves out because some of their numbers have a range and others none: a
    Dirichlet needs every cell's, and a flat prior would throw the ranges away. Named by their first cell's
    address (``node.table[parents][state]``, or ``node.prior[state]``), for the warning ``learn`` gives.

    >>> import kneebayes
    >>> partly_ranged(kneebayes.load_model().spec)    # every hand-set number has its range
    []
    """
    found = []
    for node in spec.nodes:
        p = node.parameters
        if isinstance(p, Table):
            columns = [(f"{node.id}.table[{','.join(f'{q}={s}' for q, s in c.given)}]", c.probabilities)
                       for c in p.columns]
        elif isinstance(p, Prior) and not (p.derived_last and len(p.probabilities) == 2):
            columns = [(f"{node.id}.prior", p.probabilities)]
        else:
            continue
        for where, probs in columns:
            ranged = [q.range is not None for q in probs]
            if any(ranged) and not all(ranged):
                found.append(f"{where}[{node.states[ranged.index(False)]}]")
    return found


def _live(node: int, start: int, probs: Sequence[Parameter],
          fitted: dict[tuple[int, tuple[int, ...]], Any]) -> tuple[int, ...]:
    """A column's positions as the range fit took them (cells at 0 left out), else all of them."""
    live = tuple(start + j for j, q in enumerate(probs) if q.value > 0.0)
    return live if (node, live) in fitted else tuple(start + j for j in range(len(probs)))


def _noisy_or_ratio(net: CompiledNetwork, node: int, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per parent configuration: expected (child yes) / P(yes | parents), the expected total; the child's yes."""
    yes = net.state_index[node]["yes"]
    p_yes = np.asarray(net.tables[node])[..., yes]
    ratio = np.divide(counts[..., yes], p_yes, out=np.zeros(p_yes.shape), where=p_yes > 0)
    return ratio, counts.sum(axis=-1), yes


def _group_counts(g: Group, counts: np.ndarray, values: np.ndarray, net: CompiledNetwork,
                  ratios: dict[int, tuple[np.ndarray, np.ndarray, int]]) -> np.ndarray:
    """The expected counts behind one group: per cell of a column, or (successes, failures) of a Beta."""
    if g.kind == "column":
        card = counts.shape[-1]
        column = counts.reshape(-1, card)[g.column]
        return column[[q - g.column * card for q in g.positions]]
    if g.kind == "yes":
        s = counts[g.positions[0]]
        return np.array([s, counts.sum() - s])
    if g.node not in ratios:
        ratios[g.node] = _noisy_or_ratio(net, g.node, counts)
    ratio, total, _ = ratios[g.node]
    if g.kind == "leak":
        s, t = values[0] * ratio.sum(), total.sum()
    else:   # a weight: only parent states with this parent present (its "yes") count
        parent = net.parents[g.node][g.index]
        present = net.state_index[parent]["yes"]
        s = values[1 + g.index] * ratio.take(present, axis=g.index).sum()
        t = total.take(present, axis=g.index).sum()
    return np.array([s, t - s])


def probabilities(g: Group, values: np.ndarray) -> np.ndarray:
    """A group's probabilities from its node's flat numbers: a column's cells, or (p, 1 - p) for a Beta.

    >>> import numpy as np
    >>> probabilities(Group(0, "leak", (0,), (2.0, 5.0)), np.array([0.1, 0.7])).tolist()
    [0.1, 0.9]
    """
    if g.kind == "column":
        return values[list(g.positions)]
    return np.array([values[g.positions[0]], 1.0 - values[g.positions[0]]])


def log_prior(groups: Sequence[Group], values: Sequence[np.ndarray]) -> float:
    """The log density of the numbers under their priors (Beta and Dirichlet, with normalising constants).

    Every group's terms in one array, not a few numpy calls per group (DIABETES: 2.5 s a step).

    >>> import math
    >>> g = Group(0, "column", (0, 1), (2.0, 3.0))
    >>> round(log_prior([g], [np.array([0.4, 0.6])]), 12) == round(math.log(12 * 0.4 * 0.6 ** 2), 12)  # Beta(2, 3)
    True
    """
    if not groups:
        return 0.0
    starts = np.cumsum([0] + [len(v) for v in values])
    flat = np.concatenate([np.asarray(v, dtype=float) for v in values])
    where: list[int] = []      # each alpha's number in ``flat``; a Beta's second is the complement of its first
    second: list[bool] = []
    alphas: list[float] = []
    constant = 0.0
    for g in groups:
        start = int(starts[g.node])
        if g.kind == "column":
            where.extend(start + p for p in g.positions)
            second.extend([False] * len(g.positions))
        else:
            where.extend((start + g.positions[0],) * 2)
            second.extend((False, True))
        alphas.extend(g.alpha)
        constant += math.lgamma(math.fsum(g.alpha)) - math.fsum(math.lgamma(a) for a in g.alpha)
    theta = flat[where]
    complement = np.asarray(second)
    theta[complement] = 1.0 - theta[complement]
    alpha = np.asarray(alphas, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):   # a zero under a flat prior: 0 * -inf, replaced by 0
        terms = np.where(alpha == 1.0, 0.0, (alpha - 1.0) * np.log(theta))
    return math.fsum(terms.tolist()) + constant


def m_step(groups: Sequence[Group], values: list[np.ndarray], tables: Sequence[np.ndarray], net: CompiledNetwork,
            prior: bool) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """New flat numbers per node, and each informed group's posterior alpha (by group position).

    Every group's update at once (:func:`updates`). A column's cells sit at the same flat positions in its
    node's numbers and in its counts table (a noisy-OR's numbers and table differ, but it has no column), so
    the columns' counts are read, and their numbers written, through one index each (DIABETES, 31,000
    columns: a few numpy calls each took a second a step); a Beta's two counts come from its own rule.
    """
    starts = np.cumsum([0] + [len(v) for v in values])
    table_starts = np.cumsum([0] + [np.size(t) for t in tables])
    new_flat = np.concatenate([np.asarray(v, dtype=float) for v in values])
    new = np.split(new_flat, starts[1:-1])      # views: writes below land in each node's numbers
    columns = [k for k, g in enumerate(groups) if g.kind == "column"]
    betas = [k for k, g in enumerate(groups) if g.kind != "column"]
    where: list[int] = []      # the columns' cells in the numbers
    read: list[int] = []       # and in the counts
    for k in columns:
        g = groups[k]
        start, table_start = int(starts[g.node]), int(table_starts[g.node])
        where.extend(start + q for q in g.positions)
        read.extend(table_start + q for q in g.positions)
    ratios: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
    flat_counts = np.concatenate([np.zeros(0)] + [np.asarray(t, dtype=float).reshape(-1) for t in tables])
    counts = np.concatenate([flat_counts[read]] + [_group_counts(groups[k], tables[groups[k].node],
                                                                 values[groups[k].node], net, ratios) for k in betas])
    order = columns + betas
    lengths = np.array([len(groups[k].alpha) for k in order], dtype=np.intp)
    alpha = np.array([a for k in order for a in groups[k].alpha], dtype=float)
    probs, post, informed = updates(counts, alpha, lengths, prior)
    cells = np.repeat(informed, lengths)[: len(where)]
    new_flat[np.asarray(where, dtype=np.intp)[cells]] = probs[: len(where)][cells]
    first = np.cumsum(lengths) - lengths
    posterior = {}
    for k, f, n, yes in zip(order, first.tolist(), lengths.tolist(), informed.tolist()):
        if yes:
            posterior[k] = post[f : f + n]
            if groups[k].kind != "column":
                _put(new[groups[k].node], groups[k], probs[f : f + n])
    return new, posterior


def updates(counts: np.ndarray, alpha: np.ndarray, lengths: np.ndarray, prior: bool
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each group's new probabilities and posterior alpha from its expected counts, groups laid end to end
    (``lengths`` each, none empty), and which groups some case informs (the others' entries are not to be
    used). With ``prior``, the posterior mode where every posterior alpha is above 1 and no prior alpha below
    1, else the posterior mean; without, the counts' frequencies.

    The mode's numerator and denominator are summed from alpha - 1 and the counts apart: taken as the
    posterior less 1 over its sum less the group's length, a flat prior's group whose counts sum to 1e-7
    kept 8 digits; and whether an alpha is above 1 is read from the same sum (below 1e-16, ``1 + counts``
    is 1, and such a group took its mean).

    >>> import numpy as np
    >>> probs, post, informed = updates(np.array([3.0, 1.0, 0.0, 0.0]), np.array([2.0, 2.0, 1.0, 1.0]),
    ...                                 np.array([2, 2]), prior=True)
    >>> probs[:2].tolist(), post[:2].tolist(), informed.tolist()    # the mode of Beta(5, 3); nothing for the second
    ([0.6666666666666666, 0.3333333333333333], [5.0, 3.0], [True, False])
    """
    counts = np.maximum(counts, 0.0)
    first = np.cumsum(lengths) - lengths
    total = np.add.reduceat(counts, first)
    informed = total > 0.0
    with np.errstate(invalid="ignore", divide="ignore"):   # an uninformed group divides by zero: not used
        if not prior:
            return counts / np.repeat(total, lengths), 1.0 + counts, informed
        post = alpha + counts
        above = (alpha - 1.0) + counts
        # A group whose prior has an alpha below 1 takes its mean, whatever its counts: that density is unbounded at
        # the boundary, and switching between mode and mean as the counts moved kept EM from settling (the knee,
        # one case: 200 iterations, the objective swinging by 10)
        mode = np.logical_and.reduceat((above > 0.0) & (alpha >= 1.0), first)   # not post > 1: 1 + 1e-17 is 1
        probs = np.where(np.repeat(mode, lengths), above / np.repeat(np.add.reduceat(alpha - 1.0, first) + total, lengths),
                         post / np.repeat(np.add.reduceat(post, first), lengths))
    return probs, post, informed


def _put(vector: np.ndarray, g: Group, probs: np.ndarray) -> None:
    """Write a group's probabilities into its node's flat numbers (a yes/no prior's complement too)."""
    if g.kind == "column":
        vector[list(g.positions)] = probs
    else:
        vector[g.positions[0]] = probs[0]
        if g.complement is not None:
            vector[g.complement] = 1.0 - probs[0]


def ranges(alpha: np.ndarray, rest: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per number, the central RANGE_MASS interval of Beta(alpha, rest) widened to hold ``value``, as
    (numbers, 2); a single value at 0 or 1. One call to scipy for all (MILDEW's 540,000 numbers one at a
    time took over a minute).

    >>> import numpy as np
    >>> ranges(np.array([8.0, 1.0]), np.array([2.0, 1.0]), np.array([0.8, 1.0])).round(3).tolist()
    [[0.571, 0.959], [1.0, 1.0]]
    """
    beta = require("scipy.stats", "research", "learning from cases").beta
    tails = np.array([(1.0 - RANGE_MASS) / 2.0, (1.0 + RANGE_MASS) / 2.0])
    with np.errstate(invalid="ignore"):
        low, high = beta.ppf(tails[:, None], alpha[None, :], rest[None, :])
    low = np.where(np.isfinite(low), np.minimum(value, np.maximum(low, 1e-12)), value)
    high = np.where(np.isfinite(high), np.maximum(value, np.minimum(high, 1.0 - 1e-12)), value)
    edge = (value == 0.0) | (value == 1.0)
    return np.stack([np.where(edge, value, low), np.where(edge, value, high)], axis=1)


def learned_spec(spec: ModelSpec, groups: Sequence[Group], values: Sequence[np.ndarray],
                  posterior: dict[int, np.ndarray], record: DataRecord) -> ModelSpec:
    """``spec`` with every informed group's numbers, ranges and data records replaced."""
    informed = [(g, np.asarray(posterior[k], dtype=float)) for k, g in enumerate(groups) if k in posterior]
    if not informed:
        return replace(spec, path=None)
    # number j of a group: Beta(post[j], the rest of the group's posterior); a group at a time, not a number at
    # a time (MILDEW learns 540,000 numbers: 2 s of list building)
    alpha = np.concatenate([post[: len(g.positions)] for g, post in informed])
    rest = np.concatenate([post.sum() - post[: len(g.positions)] for g, post in informed])
    value = np.concatenate([values[g.node][list(g.positions)] for g, _ in informed]).astype(float)
    bounds = ranges(alpha, rest, value)
    spans = list(zip(bounds[:, 0].tolist(), bounds[:, 1].tolist()))   # tuples made in C: a nested tolist took 1 s
    numbers = value.tolist()
    histories: dict[tuple[DataRecord, ...], tuple[DataRecord, ...]] = {}   # each distinct one extended once
    changes: dict[int, dict[int, Parameter]] = {}
    n = 0
    for g, _ in informed:
        node = spec.nodes[g.node]
        found = changes.setdefault(g.node, {})
        for position, old in zip(g.positions, _parameters_at(node, g.positions)):
            data = histories.get(old.data)
            if data is None:
                data = histories[old.data] = old.data + (record,)
            # The constructor, not ``replace``, whose walk over the fields took 4 of MILDEW's 10 s here; its fields
            # in order (value, source, rationale, range, term, data): keywords cost a fifth more a call
            found[position] = Parameter(numbers[n], old.source, old.rationale, spans[n], None, data)
            n += 1
    nodes = list(spec.nodes)
    for i, by_position in changes.items():
        nodes[i] = _with_parameters(nodes[i], by_position)
    return replace(spec, nodes=tuple(nodes), path=None)


def _parameters_at(node: NodeSpec, positions: Sequence[int]) -> Sequence[Parameter]:
    """The parameters at some positions of a node's flat numbers: a table's column read once, not cell by cell."""
    p = node.parameters
    if isinstance(p, Table):
        card = len(node.states)
        first = positions[0] // card
        if all(q // card == first for q in positions):
            column = p.columns[first].probabilities
            return [column[q % card] for q in positions]
    return [_parameter_at(node, q) for q in positions]


def _parameter_at(node: NodeSpec, position: int) -> Parameter:
    p = node.parameters
    if isinstance(p, Prior):
        return p.probabilities[position]
    if isinstance(p, NoisyOr):
        return p.leak if position == 0 else p.weights[position - 1][1]
    assert isinstance(p, Table)  # noqa: S101 - the three kinds of the schema
    card = len(node.states)
    return p.columns[position // card].probabilities[position % card]


def _with_parameters(node: NodeSpec, by_position: dict[int, Parameter]) -> NodeSpec:
    p = node.parameters
    if isinstance(p, Prior):
        probs = [by_position.get(j, q) for j, q in enumerate(p.probabilities)]
        if p.derived_last and len(probs) == 2:   # P(no) follows P(yes), as the loader builds it
            yes = node.states.index("yes") if "yes" in node.states else 0
            probs[1 - yes] = complement(probs[yes])
        return replace(node, parameters=replace(p, probabilities=tuple(probs)))
    if isinstance(p, NoisyOr):
        weights = tuple((parent, by_position.get(1 + j, w)) for j, (parent, w) in enumerate(p.weights))
        return replace(node, parameters=replace(p, leak=by_position.get(0, p.leak), weights=weights))
    assert isinstance(p, Table)  # noqa: S101 - the three kinds of the schema
    card = len(node.states)
    columns = tuple(replace(col, probabilities=tuple(by_position.get(c * card + j, q)
                                                     for j, q in enumerate(col.probabilities)))
                    for c, col in enumerate(p.columns))
    return replace(node, parameters=replace(p, columns=columns))


def extrapolated(groups: Sequence[Group], start: Sequence[np.ndarray], step: Sequence[np.ndarray],
                 factor: float) -> list[np.ndarray]:
    """The numbers ``factor`` times as far from ``start`` as the EM ``step`` went, on the log scale of each group.

    Each group's probabilities move along ``log p``, then are normalised, so
    they stay probabilities summing to 1 (for a Beta: its logit moves). A
    group with a number at 0 takes the plain step.

    >>> import numpy as np
    >>> g = Group(0, "column", (0, 1), (1.0, 1.0))
    >>> [round(float(x), 3) for x in extrapolated([g], [np.array([0.5, 0.5])], [np.array([0.6, 0.4])], 2.0)[0]]
    [0.692, 0.308]
    """
    out = [v.copy() for v in step]
    for g in groups:
        p0, p1 = probabilities(g, start[g.node]), probabilities(g, step[g.node])
        if not ((p0 > 0.0).all() and (p1 > 0.0).all()):
            continue
        z = np.log(p0) + factor * (np.log(p1) - np.log(p0))
        p = np.exp(z - z.max())
        p /= p.sum()
        _put(out[g.node], g, p)
    return out
