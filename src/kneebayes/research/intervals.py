"""Uncertainty from the ranges: posterior intervals when every hand-set number may vary.

How a range becomes a distribution
----------------------------------
Every number in a model file carries a range ``[low, high]``. Here a range
is read as the **central 90% interval** of the number's distribution:

* a yes/no prior (``X.prior``, which is P(yes); P(no) is its complement),
  a noisy-OR leak and each noisy-OR weight: a **Beta(a, b)** whose 5% and
  95% quantiles are ``low`` and ``high`` (:func:`beta_for_range`). The two
  equations are solved for ``(log a, log b)`` with
  ``scipy.optimize.least_squares`` (Levenberg-Marquardt), with residuals on
  the logit scale so narrow ranges near 0 or 1 are fitted as precisely as
  wide ones; the start is the Beta with the range's midpoint as mean and a
  standard deviation of ``(high - low) / 3.29``. The fit is exact (to about
  1e-12) and cached per ``(low, high)``. The Beta's mean need not equal the
  written value: the range alone says how unsure the number is.
* a full-table column, or the prior of a node with more than two states:
  a **Dirichlet(alpha)** over its cells (the column keeps summing to 1). The
  vector alpha is fitted by least squares on ``log alpha`` so that each
  cell's marginal, Beta(alpha_j, sum(alpha) - alpha_j), has 5% and 95%
  quantiles as close as possible (again on the logit scale) to that cell's
  range (:func:`dirichlet_for_ranges`). With two cells and complementary
  ranges this is exactly the Beta above. A cell written as "impossible"
  (range [0, 0]) stays 0; a column with a "certain" cell stays fixed.
* numbers without a range (bare table cells of imported networks) and
  numbers written as "certain"/"impossible" stay fixed.

The numbers are drawn independently of one another.

How the draws are computed
--------------------------
Recompiling a model per draw would be far too slow, so a small exact
inference routine runs every draw at once: the relevant part of the
network (the ancestors of the evidence and the causes; the rest is barren
and sums to one) becomes a list of factors with a leading draw axis,
observed states are sliced out, a noisy-OR with several unobserved
non-cause parents is split into pairwise factors over a hidden variable
(Diez and Galan, 2003, as the main engine does), and variables are summed
out in an order chosen once (greedy, smallest intermediate first) with one
``np.einsum`` per step. Draws run in chunks that bound memory; each
intermediate is rescaled per draw when it gets tiny, so long evidence never
underflows. With every draw at the written values it reproduces the main
engine to about 1e-15.

Limits
------
``draws`` is an int from 1 to :data:`MAX_DRAWS` (10 million;
:func:`top_question_stability`, which rebuilds a model per draw, to
:data:`MAX_STABILITY_DRAWS`), and the draws of one call may need at most
:data:`DRAW_MEMORY` bytes (4 GiB): every draw keeps the model's varying
numbers and its posteriors, so a model with many ranged numbers allows
fewer draws, and the error says how much memory the draws asked for would
need. ``seed`` is None or an int in ``[0, 2**128)``; ``mass`` a number in
(0, 1). A wrong type raises TypeError, a value out of range SettingError.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ImpossibleEvidenceError, ParameterError, SettingError, quote
from ..evidence import EvidenceLike, normalize, to_indices
from ..extras import require
from ..modelfile.numbers import is_number
from ..modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table
from ..network.compiled import JOINT_LIMIT
from ..network.planner import check_budget, eliminate, entries_allowed
from .progress import Progress

if TYPE_CHECKING:
    import pandas

    from ..model import Model

__all__ = [
    "DRAW_MEMORY",
    "MAX_DRAWS",
    "MAX_STABILITY_DRAWS",
    "RANGE_MASS",
    "beta_for_range",
    "dirichlet_for_ranges",
    "posterior_intervals",
    "posterior_samples",
    "top_question_stability",
]

RANGE_MASS = 0.9      # a range is the central 90% interval of its number's distribution
#: The most draws :func:`posterior_intervals` and :func:`posterior_samples` take.
MAX_DRAWS = 10_000_000
#: The most draws :func:`top_question_stability` takes (it rebuilds a model per draw, tens of ms each).
MAX_STABILITY_DRAWS = 100_000
#: The most memory, in bytes, the draws of one call may need (4 GiB); read at each call.
DRAW_MEMORY = 4 << 30
#: A seed is an int in [0, 2**SEED_BITS) (numpy's own entropy is 128 bits; a longer int only costs time).
SEED_BITS = 128
_CHUNK_ELEMENTS = 1 << 20   # bound on the largest intermediate array (per chunk of draws)
_MAX_CHUNK = 4096
_MAX_OPERANDS = 24
_TINY = 1e-150
_FIT = "fitting a Beta or Dirichlet to a range (posterior intervals)"


# --------------------------------------------------------------------------------------
# Fitting a Beta / Dirichlet to ranges
# --------------------------------------------------------------------------------------
def _logit(x: np.ndarray | float) -> Any:
    x = np.clip(x, 1e-300, 1.0 - 1e-16)
    return np.log(x) - np.log1p(-x)


def _check_range(low: float, high: float) -> None:
    if not (0.0 < low < high < 1.0):
        raise ParameterError(f"a range to fit must satisfy 0 < low < high < 1, got [{quote(low)}, {quote(high)}]")


@functools.lru_cache(maxsize=4096)
def beta_for_range(low: float, high: float, mass: float = RANGE_MASS) -> tuple[float, float]:
    """The Beta(a, b) whose central ``mass`` interval is ``[low, high]``.

    Solves ``ppf((1 - mass) / 2) = low`` and ``ppf((1 + mass) / 2) = high``
    for ``(log a, log b)`` by least squares on the logit scale (see the
    module docstring). Cached per ``(low, high, mass)``.

    >>> a, b = beta_for_range(0.1, 0.3)
    >>> from scipy.stats import beta
    >>> [round(float(q), 9) for q in beta.ppf([0.05, 0.95], a, b)]
    [0.1, 0.3]
    """
    low, high, mass = float(low), float(high), float(mass)
    _check_range(low, high)
    if not 0.0 < mass < 1.0:
        raise SettingError(f"mass must lie in (0, 1), got {quote(mass)}")
    least_squares = require("scipy.optimize", "research", _FIT).least_squares
    betaincinv = require("scipy.special", "research", _FIT).betaincinv

    qs = np.array([(1.0 - mass) / 2.0, (1.0 + mass) / 2.0])
    bounds = np.array([low, high])
    target = _logit(bounds)

    def residual(x: np.ndarray) -> np.ndarray:
        a, b = np.exp(np.clip(x, -30.0, 30.0))
        return _logit(betaincinv(a, b, qs)) - target

    z = float(require("scipy.stats", "research", _FIT).norm.ppf(qs[1]))
    m = (low + high) / 2.0
    sd = (high - low) / (2.0 * z)
    nu = max(m * (1.0 - m) / sd**2 - 1.0, 0.5)
    starts = [np.log([m * nu, (1.0 - m) * nu]), np.zeros(2), np.log([0.5, 0.5]), np.log([5.0, 5.0])]
    def error(x: np.ndarray) -> float:
        a, b = np.exp(x)
        q = betaincinv(a, b, qs)
        return float(np.max(np.abs(q - bounds))) if np.all(np.isfinite(q)) else math.inf

    # The moment match itself is a candidate: for a very narrow range (a + b
    # in the billions) the Beta is a normal to within rounding, and the
    # quantile function is too flat there for the solver to improve on it.
    best = (error(starts[0]), starts[0])
    for x0 in starts:
        if best[0] < 1e-10:
            break
        sol = least_squares(residual, x0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=2000)
        err = error(sol.x)
        if err < best[0]:
            best = (err, sol.x)
    if best[0] > max(1e-9, 1e-3 * (high - low)):
        raise ParameterError(f"could not fit a Beta to the range [{low:g}, {high:g}] (quantile error {best[0]:.2g})")
    a, b = np.exp(best[1])
    return float(a), float(b)


@functools.lru_cache(maxsize=4096)
def dirichlet_for_ranges(values: tuple[float, ...], ranges: tuple[tuple[float, float], ...],
                         mass: float = RANGE_MASS) -> tuple[float, ...]:
    """The Dirichlet alpha whose cells' central ``mass`` intervals best match ``ranges``.

    Each cell j's marginal is Beta(alpha_j, sum(alpha) - alpha_j); ``log
    alpha`` is fitted by least squares on the logit scale of the 2K quantile
    errors, starting from the written ``values`` as the mean. Every cell
    must have a proper range ``0 < low < high < 1``.

    >>> alpha = dirichlet_for_ranges((0.3, 0.7), ((0.2, 0.45), (0.55, 0.8)))
    >>> a, b = beta_for_range(0.2, 0.45)
    >>> bool(abs(alpha[0] - a) < 1e-6 and abs(alpha[1] - b) < 1e-6)
    True
    """
    if len(values) != len(ranges) or len(values) < 2:
        raise ValueError("a Dirichlet needs at least two cells, each with a value and a range")
    for low, high in ranges:
        _check_range(low, high)
    least_squares = require("scipy.optimize", "research", _FIT).least_squares
    betaincinv = require("scipy.special", "research", _FIT).betaincinv
    norm = require("scipy.stats", "research", _FIT).norm

    k = len(values)
    qs = np.array([(1.0 - mass) / 2.0, (1.0 + mass) / 2.0])
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    target = np.concatenate([_logit(lo), _logit(hi)])

    def residual(x: np.ndarray) -> np.ndarray:
        alpha = np.exp(np.clip(x, -30.0, 30.0))
        rest = alpha.sum() - alpha
        q = np.concatenate([betaincinv(alpha, rest, qs[0]), betaincinv(alpha, rest, qs[1])])
        return _logit(q) - target

    m = np.asarray(values, dtype=float)
    m = np.clip(m / m.sum(), 1e-6, None)
    m = m / m.sum()
    z = float(norm.ppf(qs[1]))
    sd = (hi - lo) / (2.0 * z)
    nu = float(np.median(np.maximum(m * (1.0 - m) / sd**2 - 1.0, 0.5)))
    best = None
    for x0 in (np.log(m * nu), np.log(m * 2.0), np.zeros(k)):
        sol = least_squares(residual, x0, method="trf", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=5000)
        cost = float(sol.cost)
        if best is None or cost < best[0] - 1e-14:
            best = (cost, sol.x)
    assert best is not None  # noqa: S101
    return tuple(float(a) for a in np.exp(best[1]))


# --------------------------------------------------------------------------------------
# Which numbers vary, and how: one flat vector of numbers per node
# --------------------------------------------------------------------------------------
# A node's numbers as a flat vector:
#   prior      the probabilities in state order             (card,)
#   noisy-OR   [leak, weight_1, ..., weight_k]               (1 + k,)
#   table      the cells, column by column (C order)          (columns * card,)


@dataclass(frozen=True)
class _Group:
    node: int
    positions: tuple[int, ...]
    alpha: tuple[float, ...]          # Beta: (a, b); Dirichlet: one per position
    dirichlet: bool
    complement: int | None = None     # Beta: position that receives 1 - x


@dataclass(frozen=True)
class _Sampler:
    base: tuple[np.ndarray, ...]      # per node, its flat numbers as written
    groups: tuple[_Group, ...]
    sampled: frozenset[int]           # nodes with at least one varying number

    def draw(self, rng: np.random.Generator, draws: int) -> dict[int, np.ndarray]:
        """Per sampled node, its numbers in every draw: (draws, n)."""
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

    def at_base(self, draws: int) -> dict[int, np.ndarray]:
        """Every draw at the written values (for checks against the main engine)."""
        return {i: np.repeat(self.base[i][None, :], draws, axis=0) for i in sorted(self.sampled)}


def _varies(p: Parameter) -> bool:
    return p.range is not None and p.range[0] < p.range[1]


def _column_group(node: int, start: int, probs: Sequence[Parameter]) -> _Group | None:
    """A Dirichlet over one column's cells (cells at 0 stay 0), or None if the column is fixed."""
    if any(p.range is None for p in probs) or not any(_varies(p) for p in probs):
        return None
    live = [j for j, p in enumerate(probs) if p.value > 0.0]
    if len(live) < 2 or not all(_varies(probs[j]) for j in live):
        return None
    alpha = dirichlet_for_ranges(tuple(probs[j].value for j in live), tuple(probs[j].range for j in live))  # type: ignore[misc]
    return _Group(node, tuple(start + j for j in live), alpha, True)


def _beta_group(node: int, position: int, p: Parameter, complement: int | None = None) -> _Group | None:
    if not _varies(p):
        return None
    assert p.range is not None  # noqa: S101 - _varies checked it
    return _Group(node, (position,), beta_for_range(*p.range), False, complement)


def flat_values(node: NodeSpec) -> np.ndarray:
    """A node's numbers as one flat vector (see the layout above)."""
    params = node.parameters
    if isinstance(params, Prior):
        return np.array([p.value for p in params.probabilities], dtype=float)
    if isinstance(params, NoisyOr):
        return np.array([params.leak.value] + [w.value for _, w in params.weights], dtype=float)
    if isinstance(params, Table):
        return np.array([p.value for col in params.columns for p in col.probabilities], dtype=float)
    raise TypeError(f"unknown parameter kind for node {node.id!r}: {type(params).__name__}")


def _build_sampler(spec: ModelSpec) -> _Sampler:
    base, groups = [], []
    for i, node in enumerate(spec.nodes):
        base.append(flat_values(node))
        params = node.parameters
        found: list[_Group | None] = []
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
    return _Sampler(tuple(base), tuple(groups), frozenset(g.node for g in groups))


def _sampler(model: Model) -> _Sampler:
    return model.cached("intervals.sampler", lambda: _build_sampler(model.spec))


# --------------------------------------------------------------------------------------
# Exact inference over many parameter draws at once
# --------------------------------------------------------------------------------------
_LETTERS = "bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"   # 'a' is the draw axis


@dataclass(frozen=True, eq=False)
class _Factor:
    scope: tuple[int, ...]                              # after slicing out observed variables
    node: int
    build: Callable[[np.ndarray], np.ndarray]           # (d, n) numbers -> (d, *scope cards)


@dataclass(frozen=True, eq=False)
class _Step:
    inputs: tuple[int, ...]
    subscripts: str
    output: int
    drawn: bool                                          # does the result carry the draw axis


def _noisy_or_full(leak: np.ndarray, w: np.ndarray, parent_yes: Sequence[int], yes: int) -> np.ndarray:
    """(d, 2, ..., 2, 2): P(child | parents) for every draw, axes (draw, parents..., child)."""
    d, k = w.shape
    p_no = (1.0 - leak).reshape((d,) + (1,) * k)
    for j, py in enumerate(parent_yes):
        f = np.ones((d, 2))
        f[:, py] = 1.0 - w[:, j]
        shape = [d] + [1] * k
        shape[1 + j] = 2
        p_no = p_no * f.reshape(shape)
    p_no = np.broadcast_to(p_no, (d,) + (2,) * k)
    table = np.empty((d,) + (2,) * k + (2,))
    table[..., yes] = 1.0 - p_no
    table[..., 1 - yes] = p_no
    return table


def _slicer(scope: tuple[int, ...], observed: Mapping[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """Index the observed variables' states out of an array with axes (draw, *scope)."""
    index: tuple[Any, ...] = (slice(None),) + tuple(observed.get(v, slice(None)) for v in scope)
    if all(isinstance(i, slice) for i in index):
        return lambda a: a
    return lambda a: a[index]


class DrawPlan:
    """The factors of the relevant network and a fixed elimination order, for one evidence set.

    ``keep`` are the variables left in the output, (d, *cards of keep).
    """

    def __init__(self, model: Model, observed: Mapping[int, int], keep: Sequence[int], sampled: frozenset[int],
                 base: Sequence[np.ndarray], chunk_hint: int) -> None:
        spec, net = model.spec, model.network
        n = len(net.names)
        wanted = set(observed) | set(keep)
        relevant: set[int] = set()
        stack = list(wanted)
        while stack:   # ancestors of the evidence and of what we keep: the rest is barren
            v = stack.pop()
            if v not in relevant:
                relevant.add(v)
                stack.extend(net.parents[v])
        keep_set = set(keep)
        cards = list(net.cards)
        factors: list[tuple[tuple[int, ...], int, Callable[[np.ndarray], np.ndarray]]] = []
        for i in sorted(relevant):
            node = spec.nodes[i]
            params = node.parameters
            pa = net.parents[i]
            if isinstance(params, NoisyOr):
                parent_yes = [net.states[p].index("yes") for p in pa]
                yes = net.states[i].index("yes")
                free = [p for p in pa if p not in observed and p not in keep_set]
                if len(free) >= 2:
                    h = len(cards)
                    cards.append(2)

                    def phi(vec: np.ndarray, yes: int = yes) -> np.ndarray:
                        d = vec.shape[0]
                        out = np.zeros((d, 2, 2))
                        q = 1.0 - vec[:, 0]
                        out[:, 1 - yes, 0] = q
                        out[:, yes, 0] = -q
                        out[:, yes, 1] = 1.0
                        return out

                    factors.append(((i, h), i, phi))
                    for j, p in enumerate(pa):
                        def psi(vec: np.ndarray, j: int = j, py: int = parent_yes[j]) -> np.ndarray:
                            out = np.ones((vec.shape[0], 2, 2))
                            out[:, 0, py] = 1.0 - vec[:, 1 + j]
                            return out

                        factors.append(((h, p), i, psi))
                    continue

                def full(vec: np.ndarray, parent_yes: list[int] = parent_yes, yes: int = yes) -> np.ndarray:
                    return _noisy_or_full(vec[:, 0], vec[:, 1:], parent_yes, yes)

                factors.append((pa + (i,), i, full))
            elif isinstance(params, Prior):
                factors.append(((i,), i, lambda vec: vec))
            else:
                shape = tuple(net.cards[p] for p in pa) + (net.cards[i],)
                factors.append((pa + (i,), i, lambda vec, shape=shape: vec.reshape((vec.shape[0],) + shape)))

        # Slice observed states out; build the factors that never vary once, here.
        slots: list[np.ndarray | None] = []
        drawn: list[bool] = []
        scopes: list[tuple[int, ...]] = []
        builders: list[tuple[int, int, Callable[[np.ndarray], np.ndarray]]] = []   # (slot, node, build)
        for scope, node, build in factors:
            cut = _slicer(scope, observed)
            new_scope = tuple(v for v in scope if v not in observed)
            slot = len(slots)
            if node in sampled:
                builders.append((slot, node, lambda vec, b=build, c=cut: c(b(vec))))
                slots.append(None)
                drawn.append(True)
            else:
                slots.append(np.array(cut(build(base[node][None, :]))[0], dtype=float))
                drawn.append(False)
            scopes.append(new_scope)
        self.cards = tuple(cards)
        self.names = net.names
        self.network = net.name
        self.memory_budget = net.memory_budget
        self.keep = tuple(keep)
        self.n_nodes = n
        self._builders = tuple(builders)
        self._plan(slots, drawn, scopes, chunk_hint)

    # -- planning ----------------------------------------------------------------------
    def _plan(self, slots: list[np.ndarray | None], drawn: list[bool], scopes: list[tuple[int, ...]], chunk_hint: int) -> None:
        cards = self.cards
        live = {s: (scopes[s], drawn[s]) for s in range(len(slots))}
        steps: list[_Step] = []
        widest = 1

        def size(vs: Sequence[int]) -> int:
            return int(np.prod([cards[v] for v in vs])) if vs else 1

        def emit(inputs: list[int], out_vars: tuple[int, ...]) -> None:
            nonlocal widest
            while len(inputs) > _MAX_OPERANDS:
                chunk, inputs = inputs[:_MAX_OPERANDS], inputs[_MAX_OPERANDS:]
                emit(chunk, tuple(sorted({v for i in chunk for v in live[i][0]})))
                inputs = inputs + [len(slots) - 1]
            involved = sorted({v for i in inputs for v in live[i][0]})
            if len(involved) > len(_LETTERS):   # pragma: no cover - the budget check refuses such a step first
                raise AssertionError(f"an elimination step joins {len(involved)} variables, past the budget check")
            letter = {v: _LETTERS[k] for k, v in enumerate(involved)}
            has_d = any(live[i][1] for i in inputs)

            def sub(vs: tuple[int, ...], d: bool) -> str:
                return ("a" if d else "") + "".join(letter[v] for v in vs)

            subscripts = ",".join(sub(*live[i]) for i in inputs) + "->" + sub(out_vars, has_d)
            out = len(slots)
            if has_d:
                widest = max(widest, size(involved))
                slots.append(None)
            else:  # nothing here varies across draws: compute it once, now
                slots.append(np.einsum(subscripts, *[slots[i] for i in inputs]))
            steps.append(_Step(tuple(inputs), subscripts, out, has_d))
            for i in inputs:
                del live[i]
            live[out] = (out_vars, has_d)

        keep = set(self.keep)
        to_eliminate = sorted({v for vs, _ in live.values() for v in vs} - keep)
        # The engine's one planner; a table carries up to chunk_hint draws, so the budget is per draw.
        order = eliminate(to_eliminate, [vs for vs, _ in live.values()], cards,
                          limit=entries_allowed(self.memory_budget, chunk_hint))
        check_budget(order, self.names, self.memory_budget, self.network, rows=chunk_hint,
                     advice="fewer draws at once, more evidence, or a larger memory_budget")
        for v in order.order:
            bucket = [i for i, (vs, _) in live.items() if v in vs]
            out_vars = tuple(sorted({u for i in bucket for u in live[i][0]} - {v}))
            emit(bucket, out_vars)
        final_vars = tuple(self.keep)
        remaining = list(live)
        if len(remaining) != 1 or live[remaining[0]][0] != final_vars:
            emit(remaining, final_vars)
        self._slots = tuple(slots)
        self._steps = tuple(s for s in steps if s.drawn)
        self._result = len(slots) - 1
        self._result_drawn = live[self._result][1]
        self.widest = widest

    # -- running -----------------------------------------------------------------------
    def run(self, numbers: Mapping[int, np.ndarray], d: int) -> np.ndarray:
        """Unnormalised P(keep, evidence) per draw, shape (d, *cards of keep), up to a per-draw factor."""
        slots = list(self._slots)
        for slot, node, build in self._builders:
            slots[slot] = build(numbers[node])
        for step in self._steps:
            out = np.einsum(step.subscripts, *[slots[i] for i in step.inputs])
            flat = out.reshape(out.shape[0], -1)
            top = np.abs(flat).max(axis=1) if flat.shape[1] else np.ones(out.shape[0])
            if (top < _TINY).any():   # rescale each draw's message; the posterior is a ratio
                out = out / np.where(top > 0, top, 1.0).reshape((-1,) + (1,) * (out.ndim - 1))
            slots[step.output] = out
        result = slots[self._result]
        assert result is not None  # noqa: S101 - the plan fills its last slot
        if not self._result_drawn:
            result = np.broadcast_to(result[None], (d,) + result.shape)
        return np.maximum(result, 0.0)   # factorised noisy-ORs subtract: clip rounding below zero


@dataclass(frozen=True, eq=False)
class _Prepared:
    labels: tuple[tuple[str, str], ...]   # (target, state) per output column
    binary: bool
    evidence: dict[str, str]
    base: np.ndarray                      # the main engine's answer at the written values
    fixed: np.ndarray                     # (columns,) values for observed targets, NaN where computed
    plans: tuple[tuple[DrawPlan, np.ndarray, np.ndarray], ...]   # plan, joint -> marginals matrix, output columns


def _prepare(model: Model, evidence: EvidenceLike | None, chunk_hint: int = 1024) -> _Prepared:
    net = model.network
    ev = normalize(net, evidence)     # UnknownNodeError / InvalidStateError as everywhere
    dx = model.diagnose(ev)           # ImpossibleEvidenceError when the written numbers rule it out
    dist = dx.distributions
    observed = to_indices(net, ev)
    labels, base = [], []
    for t in net.targets:
        name = net.names[t]
        for s in net.states[t]:
            labels.append((name, s))
            base.append(dist[name][s])
    binary = all(set(net.states[t]) == {"yes", "no"} for t in net.targets)
    sampler = _sampler(model)
    start = np.cumsum([0] + [net.cards[t] for t in net.targets])
    fixed = np.full(len(labels), np.nan)
    free = []
    for j, t in enumerate(net.targets):
        if t in observed:
            fixed[start[j]: start[j + 1]] = np.eye(net.cards[t])[observed[t]]
        else:
            free.append(j)
    joint = int(np.prod([net.cards[net.targets[j]] for j in free])) if free else 1
    groups = [free] if joint <= JOINT_LIMIT else [[j] for j in free]
    plans = []
    for group in groups:
        keep = [net.targets[j] for j in group]
        plan = DrawPlan(model, observed, keep, sampler.sampled, sampler.base, chunk_hint)
        # joint over keep (C order) -> each kept target's distribution
        cols = []
        grids = np.indices([net.cards[v] for v in keep]).reshape(len(keep), -1) if keep else np.zeros((0, 1), dtype=int)
        for k, j in enumerate(group):
            cols.append(np.eye(net.cards[net.targets[j]])[grids[k]])
        matrix = np.concatenate(cols, axis=1) if cols else np.zeros((grids.shape[1], 0))
        where = np.concatenate([np.arange(start[j], start[j + 1]) for j in group]) if group else np.zeros(0, dtype=np.intp)
        plans.append((plan, matrix, where))
    return _Prepared(tuple(labels), binary, dict(ev), np.array(base), fixed, tuple(plans))


def _posteriors(prepared: _Prepared, numbers: Mapping[int, np.ndarray], d: int) -> np.ndarray:
    """(d, columns): every target state's posterior in each draw; NaN where a draw makes the evidence impossible."""
    out = np.repeat(prepared.fixed[None, :], d, axis=0)
    for plan, matrix, where in prepared.plans:
        joint = plan.run(numbers, d).reshape(d, -1)
        total = joint.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            probs = np.where(total > 0, joint / total, np.nan) @ matrix
        out[:, where] = np.clip(probs, 0.0, 1.0)
    return out


def _chunk_size(prepared: _Prepared) -> int:
    widest = max((p.widest for p, _, _ in prepared.plans), default=1)
    return int(max(16, min(_MAX_CHUNK, _CHUNK_ELEMENTS // widest)))


# --------------------------------------------------------------------------------------
# Checking draws, seed, mass and progress (shared with sampling and sensitivity)
# --------------------------------------------------------------------------------------
def show(value: object) -> str:
    """``quote(value)``, except that a huge int is described by its size (its repr would raise past 4,300 digits)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        n = int(value)
        if abs(n) >= 10**30:
            digits = int(abs(n).bit_length() * math.log10(2)) + 1
            return f"{'-' if n < 0 else ''}an integer of about {digits:,} digits"
        return f"{n:,}" if abs(n) >= 10_000 else str(n)
    return quote(value)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_count(value: object, name: str, maximum: int, *, minimum: int = 1, limit_name: str = "") -> int:
    """``value`` as an int in [minimum, maximum]: TypeError for a non-int (a bool, a float), SettingError outside."""
    where = f" ({limit_name})" if limit_name else ""
    if not _is_int(value):
        raise TypeError(f"{name} must be a whole number (an int) from {minimum:,} to {maximum:,}, "
                        f"got {type(value).__name__} {show(value)}")
    n = int(value)  # type: ignore[call-overload]
    if not minimum <= n <= maximum:
        raise SettingError(f"{name} must be from {minimum:,} to {maximum:,}{where}, got {show(n)}")
    return n


def check_seed(seed: object, *, generator: bool = False) -> Any:
    """None or an int in [0, 2**SEED_BITS) (or, with ``generator``, a numpy Generator), else TypeError/SettingError."""
    if seed is None or (generator and isinstance(seed, np.random.Generator)):
        return seed
    also = ", a numpy Generator" if generator else ""
    if not _is_int(seed):
        raise TypeError(f"seed must be None{also} or a non-negative int, got {type(seed).__name__} {show(seed)}")
    n = int(seed)  # type: ignore[call-overload]
    if not 0 <= n < 1 << SEED_BITS:
        raise SettingError(f"seed must be None{also} or an int from 0 to 2**{SEED_BITS} - 1, got {show(n)}")
    return n


def check_mass(mass: object) -> float:
    """``mass`` as a float strictly between 0 and 1: TypeError for a non-number (a string, a bool), SettingError outside."""
    if isinstance(mass, (bool, np.bool_)) or not isinstance(mass, numbers.Real):
        raise TypeError(f"mass must be a number in (0, 1), such as 0.9, got {type(mass).__name__} {show(mass)}")
    value = float(mass) if is_number(mass) else math.nan
    if not 0.0 < value < 1.0:   # NaN, inf and huge ints fail too
        raise SettingError(f"mass must lie strictly between 0 and 1, such as 0.9, got {show(mass)}")
    return value


def check_progress(progress: object) -> bool | None:
    if progress is None or isinstance(progress, (bool, np.bool_)):
        return None if progress is None else bool(progress)
    raise TypeError(f"progress must be None (automatic), True or False, got {type(progress).__name__} {quote(progress)}")


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def check_memory(count: int, per_item: int, name: str = "draws", what: str = "draw") -> None:
    """SettingError when ``count`` items of ``per_item`` bytes each would need more than DRAW_MEMORY."""
    limit = DRAW_MEMORY
    need = count * per_item
    if need > limit:
        most = max(limit // per_item, 0)
        raise SettingError(
            f"{name}={count:,} would need about {_size(need)} of memory for this model (about {per_item:,} bytes a "
            f"{what}); the limit is {_size(limit)} (kneebayes.research.intervals.DRAW_MEMORY), so use at most "
            f"{most:,} {what}s"
        )


def _check_draws(model: Model, draws: object, seed: object, progress: object, maximum: int = MAX_DRAWS,
                 limit_name: str = "kneebayes.research.intervals.MAX_DRAWS") -> tuple[int, int | None, _Sampler]:
    """Checked draws and seed, and the model's sampler; SettingError when the draws would not fit DRAW_MEMORY."""
    n = check_count(draws, "draws", maximum, limit_name=limit_name)
    seed = check_seed(seed)
    check_progress(progress)
    sampler = _sampler(model)
    varying = sum(int(sampler.base[i].size) for i in sampler.sampled)
    net = model.network
    outputs = sum(net.cards[t] for t in net.targets)
    # per draw: the drawn numbers, the posteriors, and up to three copies of them (selection, filtering, quantiles)
    check_memory(n, 8 * (varying + 4 * outputs) + 8)
    return n, seed, sampler


def _run_draws(model: Model, evidence: EvidenceLike | None, draws: int, seed: int | None,
               progress: bool | None, at_base: bool = False) -> tuple[_Prepared, np.ndarray]:
    draws, seed, sampler = _check_draws(model, draws, seed, progress)
    prepared = _prepare(model, evidence)
    rng = np.random.default_rng(seed)
    numbers = sampler.at_base(draws) if at_base else sampler.draw(rng, draws)
    chunk = _chunk_size(prepared)
    result = np.empty((draws, len(prepared.labels)))
    with Progress(draws, enabled=progress, label="posterior draws") as bar:
        for lo in range(0, draws, chunk):
            hi = min(lo + chunk, draws)
            part = {i: a[lo:hi] for i, a in numbers.items()}
            result[lo:hi] = _posteriors(prepared, part, hi - lo)
            bar.update(hi - lo)
    return prepared, result


def _pandas_and_scipy(feature: str) -> Any:
    """pandas, once scipy (for the Beta and Dirichlet fits) is known to be there too: one clear error up front."""
    require("scipy", "research", feature)
    return require("pandas", "research", feature)


def _index(prepared: _Prepared) -> Any:
    pd = require("pandas", "research", "a table of posterior draws")
    if prepared.binary:
        return pd.Index([t for t, s in prepared.labels if s == "yes"], name="cause")
    return pd.MultiIndex.from_tuples(prepared.labels, names=["cause", "state"])


def _columns(prepared: _Prepared) -> np.ndarray:
    if prepared.binary:
        return np.array([k for k, (_, s) in enumerate(prepared.labels) if s == "yes"], dtype=np.intp)
    return np.arange(len(prepared.labels))


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------
def posterior_samples(model: Model, evidence: EvidenceLike | None = None, *, draws: int = 10_000, seed: int | None = 0,
                      progress: bool | None = None) -> pandas.DataFrame:
    """Each cause's exact posterior under each of ``draws`` sampled models: one row per draw.

    The numbers are drawn as :func:`posterior_intervals` describes; the
    columns are the causes (P(yes)), or (cause, state) pairs for a model
    with multi-state targets. Same ``seed``, same draws. ``draws`` and
    ``seed`` are checked as there.
    """
    pd = _pandas_and_scipy("posterior_samples")

    prepared, result = _run_draws(model, evidence, draws, seed, progress)
    frame = pd.DataFrame(result[:, _columns(prepared)], columns=_index(prepared))
    frame.index.name = "draw"
    frame.attrs.update({"draws": int(draws), "seed": seed, "evidence": dict(prepared.evidence)})
    return frame


def posterior_intervals(model: Model, evidence: EvidenceLike | None = None, *, draws: int = 10_000, seed: int | None = 0,
                        mass: float = 0.9, progress: bool | None = None) -> pandas.DataFrame:
    """Each cause's posterior mean and central credible interval when the numbers vary within their ranges.

    Every number with a range is drawn from a Beta (a Dirichlet for a
    full-table column) whose central 90% interval is that range (see the
    module docstring); numbers without a range stay fixed. Each draw's
    posterior is exact. Returns a DataFrame indexed by cause with columns
    ``mean``, ``low`` and ``high`` (the central ``mass`` interval of the
    draws' posteriors); ``attrs`` holds ``mass``, ``draws``, ``seed``,
    ``evidence``, ``posterior`` (at the written numbers) and
    ``impossible_draws`` (draws under which the evidence had probability
    zero, left out). ``progress`` shows a bar on stderr (None: only in a
    terminal or notebook, for runs over half a second).

    ``draws`` is an int from 1 to :data:`MAX_DRAWS` whose draws fit in
    :data:`DRAW_MEMORY`; ``seed`` is None or an int in ``[0, 2**128)``;
    ``mass`` a number strictly between 0 and 1. A wrong type raises
    TypeError, a value out of range SettingError (saying how much memory
    too many draws would need).

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> table = model.posterior_intervals({"locking_or_catching": "yes"}, draws=500, seed=1)
    >>> bool((table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all())
    True
    """
    pd = _pandas_and_scipy("posterior_intervals")
    mass = check_mass(mass)
    prepared, result = _run_draws(model, evidence, draws, seed, progress)
    cols = _columns(prepared)
    values = result[:, cols]
    ok = ~np.isnan(values).any(axis=1)
    values = values[ok]
    if values.shape[0] == 0:
        raise ImpossibleEvidenceError(prepared.evidence.items())
    tail = (1.0 - mass) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail], axis=0)
    mean = values.mean(axis=0)
    frame = pd.DataFrame({"mean": mean, "low": np.minimum(low, mean), "high": np.maximum(high, mean)}, index=_index(prepared))
    frame.attrs.update({
        "mass": mass, "draws": int(draws), "seed": seed, "evidence": dict(prepared.evidence),
        "posterior": dict(zip(frame.index, prepared.base[cols].tolist())),
        "impossible_draws": int((~ok).sum()), "range_mass": RANGE_MASS,
    })
    return frame


def _spec_with_numbers(spec: ModelSpec, numbers: Mapping[int, np.ndarray]) -> ModelSpec:
    """A copy of ``spec`` with some nodes' flat numbers replaced (ranges and sources kept)."""
    nodes = list(spec.nodes)
    for i, vec in numbers.items():
        node = nodes[i]
        params = node.parameters
        values = [float(x) for x in vec]
        if isinstance(params, Prior):
            new: Any = replace(params, probabilities=tuple(replace(p, value=v) for p, v in zip(params.probabilities, values)))
        elif isinstance(params, NoisyOr):
            new = replace(params, leak=replace(params.leak, value=values[0]),
                          weights=tuple((name, replace(w, value=v)) for (name, w), v in zip(params.weights, values[1:])))
        else:
            assert isinstance(params, Table)  # noqa: S101
            card = len(node.states)
            new = replace(params, columns=tuple(
                replace(col, probabilities=tuple(replace(p, value=v) for p, v in zip(col.probabilities, values[c * card:(c + 1) * card])))
                for c, col in enumerate(params.columns)
            ))
        nodes[i] = replace(node, parameters=new)
    return replace(spec, nodes=tuple(nodes))


def top_question_stability(model: Model, evidence: EvidenceLike | None = None, *, draws: int = 200, seed: int | None = 0,
                           progress: bool | None = None) -> pandas.DataFrame:
    """How often each question is the top question when the numbers vary within their ranges.

    Draws models as :func:`posterior_intervals` does (same seed, same
    draws), rebuilds each one and takes ``diagnose(evidence).next_question``.
    Returns a DataFrame with columns ``question`` (None when nothing is
    left to ask), ``count`` and ``share``, most frequent first (ties by
    id); ``attrs["top"]`` is the top question at the written numbers.
    It rebuilds a model per draw, so ``draws`` is at most
    :data:`MAX_STABILITY_DRAWS`; otherwise checked as there.
    """
    pd = _pandas_and_scipy("top_question_stability")

    from ..model import Model as _Model

    draws, seed, sampler = _check_draws(model, draws, seed, progress, MAX_STABILITY_DRAWS,
                                          "kneebayes.research.intervals.MAX_STABILITY_DRAWS")
    dx = model.diagnose(evidence)
    base_top = dx.next_question.id if dx.next_question is not None else None
    numbers = sampler.draw(np.random.default_rng(seed), draws)
    targets = model.causes
    joint_limit = model.joint_limit
    counts: dict[str | None, int] = {}
    with Progress(draws, enabled=progress, label="top question draws") as bar:
        for k in range(draws):
            spec = _spec_with_numbers(model.spec, {i: a[k] for i, a in numbers.items()})
            drawn = _Model(spec, targets=targets, joint_limit=joint_limit, memory_budget=model.memory_budget)
            bar.update(1)
            try:
                q = drawn.diagnose(dx.evidence, skipped=dx.skipped).next_question
            except ImpossibleEvidenceError:
                continue
            key = None if q is None else q.id
            counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    frame = pd.DataFrame({"question": [q for q, _ in rows], "count": [c for _, c in rows],
                          "share": [c / total for _, c in rows] if total else []})
    frame.attrs.update({"draws": draws, "seed": seed, "evidence": dict(dx.evidence), "top": base_top,
                        "impossible_draws": draws - total})
    return frame
