"""One large bucket product, summed to its output, as a chain of two-operand steps chosen greedily.

A bucket pass (``inference.pruned``) multiplies a bucket's tables and sums
its variable out, or (on the way back) sums a parent's tables down to a
child's separator. Over a large clique (MUNIN1's reach 10^7-10^8 entries)
numpy's plain loop walks the whole clique once per operand, and a chain of
matrix products (``network.contraction``) copies every operand into
(shared, own, contracted) order first, which on these tables (many shared
axes, a contracted axis of 2-7 states) costs more than the product. Here
the chain is planned per bucket, greedily as ``opt_einsum`` does (each time
the pair whose result frees the most memory), and each step runs as what
suits it: a two-operand einsum where something is summed, a broadcast
product where nothing is. No step builds a table over a summed variable.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .contraction import plain_einsum


@dataclass(frozen=True, eq=False)
class PairStep:
    """Pop operands ``left`` and ``right`` (``left < right``) from the running list and append their product."""

    left: int
    right: int
    subscripts: str                                   # the two-operand einsum, when something is summed
    spread: tuple[str, str] | None = None             # nothing summed: each side's own einsum to its kept axes,
    left_view: tuple[slice | None, ...] = ()          # then a broadcast product through these views
    right_view: tuple[slice | None, ...] = ()


@dataclass(frozen=True, eq=False)
class PairChain:
    """``einsum(subscripts, *operands)`` as two-operand steps; ``run`` returns the output's axes in order.

    >>> import numpy as np
    >>> chain = plan_chain("ab,bc,cd->ad", {"a": 2, "b": 3, "c": 4, "d": 5})
    >>> ops = [np.random.default_rng(0).random(s) for s in [(2, 3), (3, 4), (4, 5)]]
    >>> bool(np.allclose(chain.run(ops), np.einsum("ab,bc,cd->ad", *ops)))
    True
    """

    steps: tuple[PairStep, ...]
    last: str | None       # a final one-operand einsum (sum or reorder), when the chain does not end in order

    def run(self, operands: Sequence[np.ndarray]) -> np.ndarray:
        """The product of ``operands`` (in the subscripts' order), summed to the output."""
        ops = list(operands)
        for step in self.steps:
            b = ops.pop(step.right)
            a = ops.pop(step.left)
            if step.spread is None:
                ops.append(plain_einsum(step.subscripts, a, b))
            else:
                a = plain_einsum(step.spread[0], a)
                b = plain_einsum(step.spread[1], b)
                ops.append(np.multiply(a[step.left_view], b[step.right_view]))
        return ops[0] if self.last is None else plain_einsum(self.last, ops[0])


def plan_chain(subscripts: str, dims: Mapping[str, int]) -> PairChain:
    """The greedy chain of ``subscripts`` (letters only, no repeated letter in a term) given each letter's size."""
    ins, out = subscripts.split("->")
    terms = ins.split(",")

    def size(letters: str) -> int:
        return math.prod(dims[c] for c in letters)

    # How many terms hold each letter (a letter appears once in a term at most), kept as terms merge: whether a
    # letter is needed past a pair is then a count, not a scan of every other term (buckets of a hundred tables,
    # a Fault's children in Pathfinder, made that scan most of a pass's planning).
    holders = Counter("".join(terms))
    needed = set(out)
    sizes = [size(t) for t in terms]
    steps = []
    while len(terms) > 1:
        best: tuple[tuple[int, bool], int, int, str] | None = None
        last = len(terms) == 2
        for i in range(len(terms)):
            a = terms[i]
            for j in range(i + 1, len(terms)):
                b = terms[j]
                # An intermediate keeps the larger side's axis order: its product then streams through memory.
                big, small = (a, b) if sizes[i] >= sizes[j] else (b, a)
                keep = out if last else "".join(c for c in dict.fromkeys(big + small)
                                                if c in needed or holders[c] > (c in a) + (c in b))
                cost = (size(keep) - sizes[i] - sizes[j], not set(a) & set(b))
                if best is None or cost < best[0]:
                    best = (cost, i, j, keep)
        assert best is not None  # noqa: S101 - two terms or more give a pair
        _, i, j, keep = best
        steps.append(_step(i, j, terms[i], terms[j], keep))
        holders.subtract(terms[i] + terms[j])
        holders.update(keep)
        del terms[j], terms[i], sizes[j], sizes[i]
        terms.append(keep)
        sizes.append(size(keep))
    last = None if terms[0] == out else f"{terms[0]}->{out}"
    return PairChain(tuple(steps), last)


def _step(i: int, j: int, a: str, b: str, keep: str) -> PairStep:
    subscripts = f"{a},{b}->{keep}"
    if not keep or set(a) & set(b) - set(keep):   # (to a scalar: one einsum, which returns an array)
        return PairStep(i, j, subscripts)
    # Nothing summed between the two: each side drops what only it holds, then one broadcast product.
    kept_a = "".join(c for c in keep if c in a)
    kept_b = "".join(c for c in keep if c in b)
    return PairStep(i, j, subscripts, (f"{a}->{kept_a}", f"{b}->{kept_b}"),
                    tuple(slice(None) if c in a else None for c in keep),
                    tuple(slice(None) if c in b else None for c in keep))

