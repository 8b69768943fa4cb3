"""Exact inference over many parameter draws at once: one network, one evidence set, a batch axis of draws.

Recompiling a model per draw would be far too slow, so this small exact
routine runs every draw at once. The relevant part of the network (the
ancestors of the evidence and of the variables kept; the rest is barren and
sums to one) becomes a list of factors with a leading draw axis; observed
states are sliced out; a noisy-OR with several unobserved, unkept parents is
split into pairwise factors over a hidden variable (Diez and Galan, 2003, as
the main engine does); and variables are summed out in an order chosen once
by the engine's planner (:mod:`kneebayes.network.planner`) with one
``np.einsum`` per step. Factors whose numbers do not vary, and every step
over them alone, are computed once when the plan is built. Each
intermediate is rescaled per draw when it gets tiny, so long evidence never
underflows. With every draw at the written values it reproduces the main
engine to about 1e-15.

:class:`DrawPlan` answers one set of kept variables; :class:`TargetDraws`
turns plans into every target state's posterior per draw. The numbers of a
draw come as flat vectors per node (:func:`kneebayes.research.draws.flat_values`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..modelfile.schema import ModelSpec, NoisyOr, Prior
from ..network.compiled import JOINT_LIMIT, SPLIT_ALWAYS_PARENTS, CompiledNetwork, split_keeps_digits
from ..network.einsum_steps import MAX_OPERANDS, step_subscripts
from ..network.planner import BYTES_PER_ENTRY, check_budget, eliminate, entries_allowed
from ..network.tables import noisy_or_table

__all__ = ["DrawPlan", "TargetDraws"]

_CHUNK_ELEMENTS = 1 << 20   # bound on the largest intermediate array (per chunk of draws)
_MAX_CHUNK = 4096
_MAX_OPERANDS = MAX_OPERANDS
_TINY = 1e-150
_COPIES = 3   # a step's operands and its result, each as wide as the widest at most, per draw
_LETTERS = "bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"   # 'a' is the draw axis

Build = Callable[[np.ndarray], np.ndarray]   # (d, n) flat numbers -> (d, *scope cards)


@dataclass(frozen=True, eq=False)
class _Step:
    inputs: tuple[int, ...]
    subscripts: str
    output: int
    drawn: bool                                          # does the result carry the draw axis


def _slicer(scope: tuple[int, ...], observed: Mapping[int, int]) -> Build:
    """Index the observed variables' states out of an array with axes (draw, *scope)."""
    index: tuple[Any, ...] = (slice(None),) + tuple(observed.get(v, slice(None)) for v in scope)
    if all(isinstance(i, slice) for i in index):
        return lambda a: a
    return lambda a: a[index]


def _relevant(parents: Sequence[Sequence[int]], wanted: set[int]) -> set[int]:
    """``wanted`` and its ancestors: every other node is barren and sums to one."""
    relevant: set[int] = set()
    stack = list(wanted)
    while stack:
        v = stack.pop()
        if v not in relevant:
            relevant.add(v)
            stack.extend(parents[v])
    return relevant


def _factors(spec: ModelSpec, net: CompiledNetwork, observed: Mapping[int, int], keep: Sequence[int],
             cards: list[int], soft: Sequence[int] = ()) -> list[tuple[tuple[int, ...], int, Build]]:
    """(scope, node, build) per factor of the relevant network; appends hidden variables to ``cards``.

    ``observed`` are the hard answers (sliced out); ``soft`` the softly answered nodes, which stay
    variables but are evidence, so they and their ancestors are relevant."""
    keep_set = set(keep)
    factors: list[tuple[tuple[int, ...], int, Build]] = []
    for i in sorted(_relevant(net.parents, set(observed) | keep_set | set(soft))):
        params = spec.nodes[i].parameters
        pa = net.parents[i]
        if isinstance(params, NoisyOr):
            parent_yes = [net.states[p].index("yes") for p in pa]
            yes = net.states[i].index("yes")
            free = [p for p in pa if p not in observed and p not in keep_set]
            # split as the compiled network splits: where the pieces' subtraction keeps its digits
            if len(free) >= 2 and (len(free) >= SPLIT_ALWAYS_PARENTS or split_keeps_digits(params)):
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
                return noisy_or_table(vec[:, 0], vec[:, 1:], parent_yes, yes)

            factors.append((pa + (i,), i, full))
        elif isinstance(params, Prior):
            factors.append(((i,), i, lambda vec: vec))
        else:
            shape = tuple(net.cards[p] for p in pa) + (net.cards[i],)
            factors.append((pa + (i,), i, lambda vec, shape=shape: vec.reshape((vec.shape[0],) + shape)))
    return factors


class DrawPlan:
    """The factors of the relevant network and a fixed elimination order, for one evidence set.

    ``observed`` maps node index to observed state index, or to a soft
    answer's likelihood vector (a constant factor on that node); ``keep`` are the
    variables left in the output; ``sampled`` the nodes whose numbers vary
    across draws (the others are built once from ``base``, every node's
    flat numbers as written). Raises IntractableError when a step of one
    draw would pass the network's memory budget; :attr:`chunk` is how many
    draws one :meth:`run` may take within it.

    >>> import numpy as np, kneebayes
    >>> from kneebayes.research.draws import flat_values
    >>> model = kneebayes.load_model()
    >>> net = model.network
    >>> base = [flat_values(n) for n in model.spec.nodes]
    >>> root = net.index["poor_warmup"]          # a yes/no prior, no parents
    >>> plan = DrawPlan(model.spec, net, {}, [root], frozenset({root}), base)
    >>> joint = plan.run({root: np.array([[0.2, 0.8], [0.5, 0.5]])}, 2)
    >>> (joint / joint.sum(axis=1, keepdims=True)).round(3).tolist()   # a root's posterior, nothing observed: its prior
    [[0.2, 0.8], [0.5, 0.5]]
    """

    def __init__(self, spec: ModelSpec, network: CompiledNetwork, observed: Mapping[int, int | np.ndarray],
                 keep: Sequence[int], sampled: frozenset[int], base: Sequence[np.ndarray]) -> None:
        cards = list(network.cards)
        soft = {v: s for v, s in observed.items() if isinstance(s, np.ndarray)}
        observed = {v: s for v, s in observed.items() if not isinstance(s, np.ndarray)}
        factors = _factors(spec, network, observed, keep, cards, tuple(soft))
        # Slice observed states out; build the factors that never vary once, here.
        slots: list[np.ndarray | None] = []
        drawn: list[bool] = []
        scopes: list[tuple[int, ...]] = []
        builders: list[tuple[int, int, Build]] = []   # (slot, node, build)
        for scope, node, build in factors:
            cut = _slicer(scope, observed)
            slot = len(slots)
            if node in sampled:
                builders.append((slot, node, lambda vec, b=build, c=cut: c(b(vec))))
                slots.append(None)
                drawn.append(True)
            else:
                slots.append(np.array(cut(build(base[node][None, :]))[0], dtype=float))
                drawn.append(False)
            scopes.append(tuple(v for v in scope if v not in observed))
        for v, weights in soft.items():   # a soft answer: its likelihood, one constant factor on the node
            slots.append(np.array(weights[: cards[v]], dtype=float))
            drawn.append(False)
            scopes.append((v,))
        #: The variables of the output, in its axis order after the draw axis.
        self.keep: tuple[int, ...] = tuple(keep)
        #: Every variable's number of states (the network's, then the hidden ones).
        self.cards: tuple[int, ...] = tuple(cards)
        self._builders = tuple(builders)
        self._memory_budget = network.memory_budget
        self._plan(network, slots, drawn, scopes)

    def _plan(self, network: CompiledNetwork, slots: list[np.ndarray | None], drawn: list[bool],
              scopes: list[tuple[int, ...]]) -> None:
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
            subscripts, has_d = step_subscripts([live[i] for i in inputs], out_vars, _LETTERS)
            out = len(slots)
            if has_d:
                involved = {v for i in inputs for v in live[i][0]}
                widest = max(widest, size(involved))
                slots.append(None)
            else:  # nothing here varies across draws: compute it once, now
                slots.append(np.einsum(subscripts, *[slots[i] for i in inputs]))
            steps.append(_Step(tuple(inputs), subscripts, out, has_d))
            for i in inputs:
                del live[i]
            live[out] = (out_vars, has_d)

        to_eliminate = sorted({v for vs, _ in live.values() for v in vs} - set(self.keep))
        # The engine's one planner, for one draw: a run takes as many draws as fit (``chunk``), at least one.
        order = eliminate(to_eliminate, [vs for vs, _ in live.values()], cards,
                          limit=entries_allowed(network.memory_budget))
        check_budget(order, network.names, network.memory_budget, network.name,
                     advice="more evidence, or a larger memory_budget")
        for v in order.order:
            bucket = [i for i, (vs, _) in live.items() if v in vs]
            out_vars = tuple(sorted({u for i in bucket for u in live[i][0]} - {v}))
            emit(bucket, out_vars)
        remaining = list(live)
        if len(remaining) != 1 or live[remaining[0]][0] != self.keep:
            emit(remaining, self.keep)
        self._slots = tuple(slots)
        self._steps = tuple(s for s in steps if s.drawn)
        self._result = len(slots) - 1
        self._result_drawn = live[self._result][1]
        #: Entries of the largest intermediate per draw (bounds the draws per chunk).
        self.widest = widest

    @property
    def chunk(self) -> int:
        """How many draws one :meth:`run` takes at most: its largest intermediate bounded (``_CHUNK_ELEMENTS``, 16
        draws at least, 4,096 at most), and within the memory budget whatever that floor (WATER's 2.8 million
        entries a draw: 1,024 draws at once asked 21 GiB; a plan per draw and chunks that fit run)."""
        per_draw = float(BYTES_PER_ENTRY * _COPIES * self.widest)
        return int(max(1, min(_MAX_CHUNK, max(16, _CHUNK_ELEMENTS // self.widest), self._memory_budget // per_draw)))

    def run(self, numbers: Mapping[int, np.ndarray], d: int) -> np.ndarray:
        """Unnormalised P(keep, evidence) per draw, shape ``(d, *cards of keep)``, up to a per-draw factor.

        ``numbers`` maps each sampled node to its flat numbers in every draw, ``(d, n)``.
        """
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
class TargetDraws:
    """Every target state's posterior in each draw, for one evidence set: the plans and how to read them.

    Build it with :meth:`build`. ``labels`` are the output columns,
    ``(target, state)`` for every state of every target in the network's
    order; ``binary`` says every target is yes/no; ``fixed`` holds the
    columns of observed targets (0 or 1) and NaN where a plan computes them.

    >>> import numpy as np, kneebayes
    >>> from kneebayes.research.draws import build_sampler
    >>> model = kneebayes.load_model()
    >>> sampler = build_sampler(model.spec)
    >>> targets = TargetDraws.build(model.spec, model.network, {}, sampler.sampled, sampler.base)
    >>> posteriors = targets.posteriors(sampler.draw(np.random.default_rng(0), 4), 4)
    >>> posteriors.shape == (4, len(targets.labels))
    True
    """

    labels: tuple[tuple[str, str], ...]
    binary: bool
    fixed: np.ndarray
    plans: tuple[tuple[DrawPlan, np.ndarray, np.ndarray], ...]   # plan, joint -> marginals matrix, output columns

    @classmethod
    def build(cls, spec: ModelSpec, network: CompiledNetwork, observed: Mapping[int, int | np.ndarray],
              sampled: frozenset[int], base: Sequence[np.ndarray]) -> TargetDraws:
        """The plans for ``observed`` (node index -> state index, or a soft answer's likelihood vector): the free
        targets' joint when it is small, else one plan per target."""
        net = network
        labels = tuple((net.names[t], s) for t in net.targets for s in net.states[t])
        binary = all(set(net.states[t]) == {"yes", "no"} for t in net.targets)
        start = np.cumsum([0] + [net.cards[t] for t in net.targets])
        fixed = np.full(len(labels), np.nan)
        free = []
        for j, t in enumerate(net.targets):
            state = observed.get(t)
            if state is not None and not isinstance(state, np.ndarray):
                fixed[start[j]: start[j + 1]] = np.eye(net.cards[t])[state]
            else:
                free.append(j)
        joint = int(np.prod([net.cards[net.targets[j]] for j in free])) if free else 1
        groups = [free] if joint <= JOINT_LIMIT else [[j] for j in free]
        plans = []
        for group in groups:
            keep = [net.targets[j] for j in group]
            plan = DrawPlan(spec, net, observed, keep, sampled, base)
            # joint over keep (C order) -> each kept target's distribution
            grids = np.indices([net.cards[v] for v in keep]).reshape(len(keep), -1) if keep else np.zeros((0, 1), dtype=int)
            cols = [np.eye(net.cards[net.targets[j]])[grids[k]] for k, j in enumerate(group)]
            matrix = np.concatenate(cols, axis=1) if cols else np.zeros((grids.shape[1], 0))
            where = np.concatenate([np.arange(start[j], start[j + 1]) for j in group]) if group else np.zeros(0, dtype=np.intp)
            plans.append((plan, matrix, where))
        return cls(labels, binary, fixed, tuple(plans))

    @property
    def chunk_size(self) -> int:
        """How many draws to run at once: every plan's :attr:`DrawPlan.chunk`."""
        return min((p.chunk for p, _, _ in self.plans), default=_MAX_CHUNK)

    def posteriors(self, numbers: Mapping[int, np.ndarray], d: int) -> np.ndarray:
        """``(d, columns)``: every target state's posterior in each draw; NaN where a draw makes the evidence impossible."""
        out = np.repeat(self.fixed[None, :], d, axis=0)
        for plan, matrix, where in self.plans:
            joint = plan.run(numbers, d).reshape(d, -1)
            total = joint.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                probs = np.where(total > 0, joint / total, np.nan) @ matrix
            out[:, where] = np.clip(probs, 0.0, 1.0)
        return out
