"""A wide einsum compiled once into a fixed chain of batched matrix products.

``np.einsum(..., optimize=path)`` re-derives its pairwise contractions on
every call (``einsum_path``: 15-25 us, more than many of the products it
then runs), and a plain two-operand ``einsum`` loops over every index at
once, several times slower than ``matmul`` once the arrays are large. Here
each pairwise contraction is worked out at compile time as: sum out the
axes only one side has, transpose the left side to (shared, own,
contracted) and the right to (shared, contracted, own), reshape, one
``np.matmul``, reshape back (or one broadcast multiply where nothing is
contracted). Running it is a handful of array calls with no parsing.

Letters follow the plans' convention: ``a`` is the batch axis, the only
size not known at compile time; a reshape of an operand that has it
leaves that one dimension as -1.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:   # the C loop behind np.einsum, without its Python dispatch (~0.5 us a call, dozens of calls a ranking)
    from numpy._core.multiarray import c_einsum as _plain_einsum
except ImportError:  # pragma: no cover - older or future numpy: the public function does the same
    _plain_einsum = np.einsum

plain_einsum = _plain_einsum   # the same, for plans run elsewhere (one operand list, no optimisation)
BATCH = "a"
PAIRWISE_GAIN = 4.0         # a pairwise order is always used when it cuts the work at least this much
PLAIN_OPERANDS = 32         # the most operands numpy's plain loop takes (before numpy 2)
CHAIN_MEMORY = 32_768.0     # elements (256 KB) a chain's largest intermediate may reach over a batch, past numpy's cap
# Else only where batch rows x the plain loop's multiply-adds reach this. Measured on the five classic
# networks' 667 sweep steps: the plain loop costs 2-11 us a call plus 0.6-4.7 ns per multiply-add (more
# with more operands), a chain of products 1.5 us per product plus 1.3 ns per multiply-add.
BATCH_PATH_WORK = 1_500.0


def einsum_of_many(subscripts: str, *operands: np.ndarray) -> np.ndarray:
    """``plain_einsum`` for any number of operands: past ``PLAIN_OPERANDS`` (numpy's limit) the first ones are
    multiplied in chunks first, each chunk keeping every axis it has (so within the step's own clique),
    until the rest fit in one call. A pruned pass meets such a step where a node has many answered
    children (a cause with seventy findings: seventy tables over the cause in its bucket).

    >>> import numpy as np
    >>> ops = [np.full(2, 0.5)] * 40
    >>> einsum_of_many(",".join(["i"] * 40) + "->i", *ops).tolist() == [0.5 ** 40] * 2
    True
    """
    if len(operands) <= PLAIN_OPERANDS:
        return _plain_einsum(subscripts, *operands)
    inputs, output = subscripts.split("->")
    terms, ops = inputs.split(","), list(operands)
    while len(terms) > PLAIN_OPERANDS:
        chunk, terms = terms[:PLAIN_OPERANDS], terms[PLAIN_OPERANDS:]
        kept = "".join(dict.fromkeys("".join(chunk)))    # every axis of the chunk, in order of appearance
        ops = [_plain_einsum(",".join(chunk) + "->" + kept, *ops[:PLAIN_OPERANDS]), *ops[PLAIN_OPERANDS:]]
        terms = [kept, *terms]
    return _plain_einsum(",".join(terms) + "->" + output, *ops)


@dataclass(frozen=True, eq=False)
class Pairwise:
    """One contraction of two operands popped from the running list; the result is appended."""

    left: int                              # positions in the running operand list (left < right)
    right: int
    left_sum: tuple[int, ...]              # axes only this side has and the result drops: summed first
    right_sum: tuple[int, ...]
    left_perm: tuple[int, ...] | None      # to (shared, own, contracted); None when already so
    right_perm: tuple[int, ...] | None     # to (shared, contracted, own)
    left_shape: tuple[int, ...]            # (shared, own, contracted) sizes, -1 for the batch axis's group
    right_shape: tuple[int, ...]
    out_shape: tuple[int, ...]             # (*shared, *left own, *right own), -1 for the batch axis
    out_perm: tuple[int, ...] | None       # to the step's output order (last contraction only)
    # Nothing contracted: a broadcast product straight into the result's axis order (matmul over
    # 1 x 1 matrices would crawl). Each side is transposed, then given unit axes where it lacks one.
    left_spread: tuple[slice | None, ...] | None = None
    right_spread: tuple[slice | None, ...] | None = None
    swap: bool = False                     # the right operand plays the left role (fewer copies)
    cost: float = 0.0                      # elements copied to lay the operands out (compile-time choice)


@dataclass(frozen=True, eq=False)
class Program:
    """An einsum as a chain of pairwise matrix products; ``run`` gives a C-contiguous result."""

    steps: tuple[Pairwise, ...]
    output: str = ""     # the result's axis letters, in memory order
    peak: float = 0.0    # the largest intermediate, in elements per batch row

    def run(self, operands: Sequence[np.ndarray | None]) -> np.ndarray:
        """The einsum of ``operands`` (a plan's slots, every one filled by now), product by product."""
        ops: list[Any] = list(operands)   # a plan's slots: every one an array by the time it is read
        for p in self.steps:
            b = ops.pop(p.right)
            a = ops.pop(p.left)
            if p.swap:
                a, b = b, a
            if p.left_sum:
                a = a.sum(axis=p.left_sum)
            if p.right_sum:
                b = b.sum(axis=p.right_sum)
            if p.left_perm is not None:
                a = a.transpose(p.left_perm)
            if p.right_perm is not None:
                b = b.transpose(p.right_perm)
            if p.left_spread is not None:
                ops.append(np.multiply(a[p.left_spread], b[p.right_spread], order="C"))
                continue
            out = np.matmul(a.reshape(p.left_shape), b.reshape(p.right_shape)).reshape(p.out_shape)
            if p.out_perm is not None:
                # A transposed view would make every later plain einsum over it crawl: copy once.
                out = np.ascontiguousarray(out.transpose(p.out_perm))
            ops.append(out)
        return ops[0]


def _size(letters: str, dims: dict[str, int]) -> int:
    if BATCH in letters:
        return -1
    return math.prod(dims[c] for c in letters)   # np.prod on a few ints costs 10x more, at compile time


def _perm(current: str, wanted: str) -> tuple[int, ...] | None:
    perm = tuple(current.index(c) for c in wanted)
    return None if perm == tuple(range(len(perm))) else perm


_BATCH_GUESS = 64   # rows assumed for the batch axis when weighing copies


def _elements(letters: str, dims: dict[str, int]) -> float:
    return float(math.prod(dims.get(c, _BATCH_GUESS) for c in letters))


def _pairwise(left: int, right: int, sa: str, sb: str, keep: str, dims: dict[str, int],
              final: str | None) -> tuple[Pairwise, str]:
    """The contraction of operands ``sa`` and ``sb`` keeping the letters in ``keep``, and its result's letters.

    ``final`` is the step's output order when this is its last contraction
    and that order is fixed. Either operand may take matmul's left role:
    the one that copies fewer elements into place is chosen.
    """
    one = _roles(left, right, sa, sb, keep, dims, final, swap=False)
    other = _roles(left, right, sb, sa, keep, dims, final, swap=True)
    return min((one, other), key=lambda pair: pair[0].cost)


def _roles(left: int, right: int, sa: str, sb: str, keep: str, dims: dict[str, int],
           final: str | None, swap: bool) -> tuple[Pairwise, str]:
    shared = "".join(c for c in sa if c in sb and c in keep)
    contracted = "".join(c for c in sa if c in sb and c not in keep)
    own_a = "".join(c for c in sa if c not in sb and c in keep)
    own_b = "".join(c for c in sb if c not in sa and c in keep)
    left_sum = tuple(n for n, c in enumerate(sa) if c not in sb and c not in keep)
    right_sum = tuple(n for n, c in enumerate(sb) if c not in sa and c not in keep)
    kept_a = "".join(c for c in sa if c in sb or c in keep)      # after summing
    kept_b = "".join(c for c in sb if c in sa or c in keep)
    if not contracted:
        # The result's axes: the step's output order when last (no copy after), else the left side's.
        letters = final if final is not None else kept_a + own_b
        left_perm = _perm(kept_a, "".join(c for c in letters if c in kept_a))
        right_perm = _perm(kept_b, "".join(c for c in letters if c in kept_b))
        return Pairwise(
            left=left, right=right, left_sum=left_sum, right_sum=right_sum, left_perm=left_perm, right_perm=right_perm,
            left_shape=(), right_shape=(), out_shape=(), out_perm=None,
            left_spread=tuple(slice(None) if c in kept_a else None for c in letters),
            right_spread=tuple(slice(None) if c in kept_b else None for c in letters),
            swap=swap,   # strided reads, no copies: half weight
            cost=0.5 * ((left_perm is not None) * _elements(kept_a, dims) + (right_perm is not None) * _elements(kept_b, dims)),
        ), letters
    letters = shared + own_a + own_b
    out_perm = _perm(letters, final) if final is not None else None
    left_perm, right_perm = _perm(kept_a, shared + own_a + contracted), _perm(kept_b, shared + contracted + own_b)
    return Pairwise(
        left=left, right=right, left_sum=left_sum, right_sum=right_sum, left_perm=left_perm, right_perm=right_perm,
        left_shape=(_size(shared, dims), _size(own_a, dims), _size(contracted, dims)),
        right_shape=(_size(shared, dims), _size(contracted, dims), _size(own_b, dims)),
        out_shape=tuple(-1 if c == BATCH else dims[c] for c in letters),
        out_perm=out_perm, swap=swap,
        cost=((left_perm is not None) * _elements(kept_a, dims) + (right_perm is not None) * _elements(kept_b, dims)
              + (out_perm is not None) * _elements(letters, dims)),
    ), (final if final is not None else letters)


def compile_program(subscripts: str, shapes: Sequence[tuple[int, ...]], path: Sequence[Any],
                    free_output: bool = False) -> Program | None:
    """``subscripts`` run pairwise in the order ``path`` (numpy's format, a first entry
    ``"einsum_path"`` allowed); None where an operand repeats a letter (a diagonal), which stays a
    plain einsum. ``shapes`` give every size but the batch axis's. With ``free_output`` the result
    keeps whatever axis order its last product leaves (``Program.output``) instead of being copied
    into the subscripts' order."""
    ins, out = subscripts.split("->")
    subs = ins.split(",")
    if any(len(set(s)) != len(s) for s in subs) or len(set(out)) != len(out) or len(subs) < 2:
        return None
    dims = _dims(subscripts, shapes)
    pairs = [tuple(p) for p in path if not isinstance(p, str)]
    if len(pairs) != len(subs) - 1 or any(len(p) != 2 for p in pairs):
        return None
    live = list(subs)
    steps = []
    peak = 0.0
    for n, (i, j) in enumerate(pairs):
        i, j = sorted((i, j))
        sa, sb = live[i], live[j]
        rest = "".join(live[k] for k in range(len(live)) if k not in (i, j))
        last = n == len(pairs) - 1
        keep = out if last else "".join(sorted({c for c in sa + sb if c in out or c in rest}))
        pair, letters = _pairwise(i, j, sa, sb, keep, dims, out if last and not free_output else None)
        if last and free_output and BATCH in letters and not letters.startswith(BATCH):
            # callers keep the batch axis first (rescaling works per row)
            pair, letters = _pairwise(i, j, sa, sb, keep, dims, BATCH + letters.replace(BATCH, ""))
        steps.append(pair)
        del live[j], live[i]
        live.append(letters)
        if not last:
            peak = max(peak, _elements(letters.replace(BATCH, ""), dims))
    return Program(tuple(steps), live[0], peak)


@dataclass(frozen=True, eq=False)
class Einsum:
    """One einsum of a plan: ``slots[output] = einsum(subscripts, *slots[inputs])``, and how to run it.

    numpy's plain loop over many indices runs several times slower per
    multiply-add than matrix products, but a chain of products costs a few
    microseconds per call: ``program`` is used always (it cuts the work at
    least ``PAIRWISE_GAIN``-fold), ``batch_program`` once a batch makes the
    plain loop's work reach ``BATCH_PATH_WORK`` and, for a chain past
    numpy's memory cap, only up to ``max_rows`` rows; beyond them ``path``
    runs through ``np.einsum``, else the plain loop.
    """

    inputs: tuple[int, ...]
    subscripts: str
    output: int
    path: tuple[Any, ...] | None = None      # numpy's greedy order: work estimates, and large batches (see above)
    program: Program | None = None
    batch_program: Program | None = None
    naive_work: float = 0.0                  # the plain loop's multiply-adds per batch row
    below: int = 0      # backward steps: bit j set when node j's gradient needs this one (skip it otherwise)
    max_rows: int = 0   # ``batch_program`` only up to this many rows (0: any); see ``plan_einsum``

    def run(self, operands: Sequence[np.ndarray | None], batch: int, order: str = "K") -> np.ndarray:
        """The einsum of ``operands`` (``batch`` rows). ``order`` applies to the plain loop; a chain
        of products always returns C-contiguous arrays."""
        program = self._program(batch)
        if program is not None:
            return program.run(operands)
        if self.path is not None:   # greedy's order, on a batch too large for the chain (see plan_einsum)
            return np.ascontiguousarray(np.einsum(self.subscripts, *operands, optimize=list(self.path)))
        return _plain_einsum(self.subscripts, *operands, order=order)

    def run_into(self, operands: Sequence[np.ndarray | None], batch: int, out: np.ndarray) -> None:
        """``run``, written into ``out`` (any strides): the plain loop writes there directly, saving
        a temporary and a copy.

        >>> import numpy as np
        >>> step = plan_einsum((0, 1), "ab,bc->ac", output=2, shapes=[(1, 3), (3, 4)])
        >>> out = np.zeros((2, 5, 4))
        >>> step.run_into([np.ones((2, 3)), np.ones((3, 4))], batch=2, out=out[:, 1])
        >>> out[:, 1].tolist() == [[3.0] * 4] * 2 and not out[:, 0].any()
        True
        """
        if self.path is None and self._program(batch) is None:
            _plain_einsum(self.subscripts, *operands, out=out)
        else:
            out[...] = self.run(operands, batch)

    def _program(self, batch: int) -> Program | None:
        """The chain of products to run for ``batch`` rows, or None for an einsum."""
        if (self.program is None and self.batch_program is not None and batch * self.naive_work >= BATCH_PATH_WORK
                and (not self.max_rows or batch <= self.max_rows)):
            return self.batch_program
        return self.program


def plan_einsum(inputs: Sequence[int], subscripts: str, output: int, shapes: Sequence[tuple[int, ...]],
                below: int = 0, free_output: bool = False) -> Einsum:
    """An ``Einsum`` with its pairwise programs decided from the operands' ``shapes`` (batch axis 1).

    With ``free_output`` a step run pairwise may return its axes in the
    order its last matrix product leaves them (the batch axis still first):
    the returned subscripts say which, and the caller renames its
    consumer's axes, so no copy restores an order.

    >>> import numpy as np
    >>> step = plan_einsum((0, 1), "ab,bc->ac", output=2, shapes=[(1, 3), (3, 4)])
    >>> x, y = np.arange(15.0).reshape(5, 3), np.ones((3, 4))
    >>> np.allclose(step.run([x, y], batch=5), np.einsum("ab,bc->ac", x, y))
    True
    """
    decided = _decide(subscripts, tuple(tuple(int(d) for d in s) for s in shapes), free_output)
    return dataclasses.replace(decided, inputs=tuple(inputs), output=output, below=below)


# A network's plans repeat the same step shapes (a third of the knee model's are repeats); what is
# decided is immutable, so each is worked out once.
@functools.lru_cache(maxsize=4096)
def _decide(subscripts: str, shapes: tuple[tuple[int, ...], ...], free_output: bool) -> Einsum:
    """``plan_einsum``'s decision for one step shape, with no inputs or output slots yet."""
    inputs: tuple[int, ...] = ()
    output = below = 0
    if len(shapes) < 2:
        return Einsum(inputs, subscripts, output, below=below)
    ins, out = subscripts.split("->")
    if set(ins) - {","} <= set(out) and len(shapes) <= PLAIN_OPERANDS:
        # Nothing summed: a broadcast product, which the plain loop makes in one pass over the result. A chain
        # makes it in several and reads the large operand transposed into the result's order: ALARM's sweep
        # steps of this kind, one row, 24 against 50 us, and 2-4x slower at 4 to 128 rows.
        size = _elements(out.replace(BATCH, ""), _dims(subscripts, shapes))
        return Einsum(inputs, subscripts, output, naive_work=size * (len(shapes) - 1) / 2, below=below)   # numpy's count
    path, report = np.einsum_path(subscripts, *[stand_in(s) for s in shapes], optimize="greedy")
    naive, best = flops(report, "Naive FLOP count"), flops(report, "Optimized FLOP count")
    if naive is None or best is None:   # pragma: no cover - numpy changed its report: plain loops are always right
        return Einsum(inputs, subscripts, output, below=below)
    always = len(shapes) > 2 and best * PAIRWISE_GAIN < naive
    pairs = path_pairs(path, len(shapes))
    program = compile_program(subscripts, shapes, pairs)
    if program is None:
        return Einsum(inputs, subscripts, output, naive_work=naive / 2, below=below)
    # numpy's greedy order keeps every intermediate within the largest operand or the result (it
    # leaves the rest as one multi-operand einsum, split here into pairs). A chain that goes past
    # that cap wins on a few rows (Pathfinder's sweep, one row: 190 us against 470) but can lose on
    # many (256 rows: 69 ms against 42 for greedy's own order): past the cap, only small batches
    # use it, and larger ones run as before this module existed.
    out_size = _elements(subscripts.split("->")[1].replace(BATCH, ""), _dims(subscripts, shapes))
    bounded = program.peak <= max(out_size, *(float(math.prod(shape)) for shape in shapes))   # batch axis is 1 here
    max_rows = 0 if bounded else max(1, int(CHAIN_MEMORY // program.peak))
    if free_output and bounded:   # a layout good for every batch size, else the fixed order
        program = compile_program(subscripts, shapes, pairs, free_output=True)
        assert program is not None  # noqa: S101 - compiled above with the same operands
        subscripts = ins + "->" + program.output   # the plain loop writes the same order
    if always and bounded:
        return Einsum(inputs, subscripts, output, tuple(path), program, naive_work=naive / 2, below=below)
    # Past max_rows, a step whose work greedy's own order cuts runs in that order (np.einsum, which
    # contracts the leftover group in one loop); any other as one plain loop.
    return Einsum(inputs, subscripts, output, tuple(path) if not bounded and best < naive else None,
                  batch_program=program, naive_work=naive / 2, below=below, max_rows=max_rows)


def stand_in(shape: tuple[int, ...]) -> np.ndarray:
    """An array of this shape that allocates nothing (every entry is one read-only zero): what
    ``np.einsum_path`` and shape-only planning need, at any size.

    >>> big = stand_in((100_000, 100_000))
    >>> big.shape, big.strides, big.flags.writeable
    ((100000, 100000), (0, 0), False)
    """
    return np.broadcast_to(np.zeros(()), shape)


def _dims(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> dict[str, int]:
    dims: dict[str, int] = {}
    for s, shape in zip(subscripts.split("->")[0].split(","), shapes):
        dims.update((c, int(d)) for c, d in zip(s, shape) if c != BATCH)
    return dims


def path_pairs(path: Sequence[Any], n: int) -> list[tuple[int, int]]:
    """numpy's contraction order (``np.einsum_path``'s path over ``n`` operands) as pairs only: a
    contraction of three or more operands (numpy's greedy leaves one where pairs would outgrow its memory
    cap) becomes pairs taken left to right.

    >>> path_pairs(["einsum_path", (0, 2, 3), (0, 1)], 4)
    [(0, 2), (1, 2), (0, 1)]
    """
    ids = list(range(n))      # which operand sits at each position of the running list
    fresh = n
    out: list[tuple[int, int]] = []
    for step in path:
        if isinstance(step, str):
            continue
        group = [ids[i] for i in step]
        while len(group) > 1:
            a, b = group[0], group[1]
            i, j = sorted((ids.index(a), ids.index(b)))
            out.append((i, j))
            del ids[j], ids[i]
            ids.append(fresh)
            group = [fresh, *group[2:]]
            fresh += 1
        if len(step) == 1:   # a lone operand summed on its own: nothing to pair
            ids.append(ids.pop(ids.index(group[0])))
    return out


def flops(report: str, label: str) -> float | None:
    """A FLOP count from ``np.einsum_path``'s report ("Naive FLOP count", "Optimized FLOP count")."""
    for line in report.splitlines():
        if label in line:
            try:
                return float(line.split(":")[1])
            except (IndexError, ValueError):
                return None
    return None
