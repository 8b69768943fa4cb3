"""What the answers point to: Good's weight of evidence, as pure functions, batch-first.

Every function here takes the targets' concatenated marginals, shape
``(..., width)``, the layout :meth:`Model.diagnose` forms (each target's
states in turn, in ``model.causes`` order). A single
:class:`~kneebayes.Diagnosis` is a batch of one and ``diagnose_frame`` a
batch of many: both call :func:`weigh` and :func:`explaining_order`, so the
rule is written once.

**The Bayes factor** of a state ``s`` of a target, given evidence ``e``, is
its posterior odds over its prior odds (Good's "factor in favour")::

    BF(s) = [P(s | e) / P(not s | e)] / [P(s) / P(not s)]  =  P(e | s) / P(e | not s)

It measures what the answers say about ``s``, whatever its prior: a rare
cause the answers fit 30 times better than its absence has factor 30, though
it may stay improbable. ``P(not s)`` is the sum of the target's *other*
states' probabilities, each summed from the targets' joint, never
``1 - P(s)``: a posterior of 1e-20 keeps all its digits. For a yes/no target
the state of interest is ``yes``; a multi-state target has one factor per
state, that state against the rest.

**The weight of evidence** is the same in decibans: ``10 * log10(BF)`` dB.
+10 dB is a factor of 10, +3 dB about 2, 0 dB no evidence either way, and
contributions of independent answers add.

**Never NaN or infinite.** Factors are clipped to ``[FACTOR_MIN,
FACTOR_MAX]`` = [1e-100, 1e100] (-1000 to +1000 dB). Evidence that makes a
state certain (the target itself observed, or a deterministic table ruling
it in or out) gives exactly ``FACTOR_MAX`` (or ``FACTOR_MIN``). A state
whose prior is already certain (0 or 1) has no odds to move: its factor is
exactly 1.0. With no evidence every factor is exactly 1.0.

**Which causes the answers point to** (``EXPLANATION_MEASURE`` =
``"bayes_factor"``). Each target is represented by its *leading abnormal
state*: of its states other than its normal state (``Model.normal_states``;
all its states when it has none), the one with the largest factor, ties by
posterior. Targets are then ordered by that factor, largest first; ties by
posterior (higher first), then by target id. Factors count as tied when their
natural logs round to the same multiple of ``TIE_GRID`` (1e-9), that is when
they agree to about nine significant digits: a cause the answers do not bear
on has factor 1 up to rounding, and rounding noise should not order it.

>>> import numpy as np
>>> layout = prepare(np.array([0.1, 0.9, 0.5, 0.5]),
...                  [("a", ("yes", "no"), "no"), ("b", ("yes", "no"), "no")])
>>> factors, posteriors = weigh(np.array([0.5, 0.5, 0.5, 0.5]), layout)
>>> [round(f, 6) for f in factors[: layout.n_candidates].tolist()]   # a: odds 1/9 -> 1, b: 1 -> 1
[9.0, 1.0]
>>> [layout.ids[c] for c in explaining_order(factors, posteriors, layout).tolist()]
['a', 'b']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

try:   # the ufunc behind np.clip, without its Python dispatch: both bounds in one call (~0.5 us less)
    from numpy._core.umath import clip as _clip
except ImportError:  # pragma: no cover - older or future numpy: the public function does the same
    _clip = np.clip
try:   # the C function behind np.lexsort, without its __array_function__ dispatch (~0.3 us a call)
    from numpy._core._multiarray_umath import lexsort as _lexsort
except ImportError:  # pragma: no cover - older or future numpy: the public function does the same
    _lexsort = np.lexsort

__all__ = [
    "EXPLANATION_MEASURE",
    "FACTOR_MAX",
    "FACTOR_MIN",
    "TIE_GRID",
    "Layout",
    "decibans",
    "explaining_order",
    "leaders",
    "odds_ratio",
    "prepare",
    "weigh",
]

#: The largest Bayes factor reported (+1000 dB): evidence that makes a state certain gets exactly this.
FACTOR_MAX: float = 1e100
#: The smallest Bayes factor reported (-1000 dB): evidence that rules a state out gets exactly this.
FACTOR_MIN: float = 1e-100
#: Factors whose natural logs round to the same multiple of this count as tied when causes are ordered.
TIE_GRID: float = 1e-9
#: The name of the rule that orders ``Diagnosis.explaining_causes``.
EXPLANATION_MEASURE: str = "bayes_factor"


# The division, without ever dividing by zero. Numerators and denominators come scaled by _SCALE (a
# power of two, so exactly: the quotient is the same). _divide computes n * _CEIL / max(d * _CEIL, n):
# a factor up to _CEIL (about 1.75e100) comes out as n / d, to a rounding; any larger one, infinity
# included, comes out at _CEIL, which the clip takes to exactly FACTOR_MAX. _CEIL is a power of two
# too, so a yes/no layout folds it into its matrix with the very same products (one multiplication
# fewer per term). Nothing underflows on the way, even where a prior is within a subnormal float of
# certainty, and nothing overflows (the scaled values are at most _SCALE * _CEIL, about 1.5e200).
# Only 0 / 0, a row of impossible evidence, gives NaN.
_SCALE = 2.0**332                               # 8.7e99
_CEIL = np.array(2.0**333)                      # 1.75e100: past the bound, so the clip below decides it
# 0-d arrays: numpy takes them faster than Python floats on the tiny arrays of one diagnosis.
_MIN, _MAX, _GRID = np.array(FACTOR_MIN), np.array(FACTOR_MAX), np.array(1.0 / TIE_GRID)


@dataclass(frozen=True, eq=False)
class Layout:
    """One model's targets as the rule needs them, with their no-evidence marginals; built once by :func:`prepare`.

    Every array result of :func:`weigh` is in ``columns`` order: the
    candidate columns (each target's states other than its normal state)
    first, in model order, then the normal states.

    Attributes
    ----------
    prior : numpy.ndarray
        (width,) the targets' marginals with no evidence, in the model's column order.
    columns : numpy.ndarray
        (width,) model column of each result column.
    inverse : numpy.ndarray
        (width,) result column of each model column (``columns``' inverse).
    n_candidates : int
        How many leading result columns are candidates.
    ids : tuple of str
        Target id of each result column.
    states : tuple of str
        State name of each result column.
    matrix : numpy.ndarray
        ``marg @ matrix`` gives, per result column, the factor's numerator
        P(s | e) * P(not s), its denominator P(not s | e) * P(s) (both
        times ``_SCALE``), and P(s | e) itself: (width, 3 * width). With
        ``scale`` given, the first two parts still need multiplying by it.
        Where ``scale`` is None, (width, 4 * width): the numerator and the
        denominator times ``_CEIL`` as well, then the numerator without it,
        then P(s | e).
    scale : numpy.ndarray or None
        (2 * width,) the prior's "rest" then the prior, times ``_SCALE``;
        None where they are folded into ``matrix`` already (every target
        yes/no: each sum has a single term, so folding gives the very same
        products).
    rank : numpy.ndarray
        (n_candidates,) the last tie-break: larger for an earlier target id, then an earlier state.
    one_each : bool
        Every target has exactly one candidate (yes/no targets), so no
        de-duplication is needed.
    """

    prior: np.ndarray
    columns: np.ndarray
    inverse: np.ndarray
    n_candidates: int
    ids: tuple[str, ...]
    states: tuple[str, ...]
    matrix: np.ndarray
    scale: np.ndarray | None
    rank: np.ndarray
    one_each: bool

    @property
    def width(self) -> int:
        """How many columns (all targets' states together)."""
        return int(self.columns.size)


def prepare(prior: np.ndarray, targets: Sequence[tuple[str, Sequence[str], str | None]]) -> Layout:
    """The layout of the targets, for the rule's functions.

    Parameters
    ----------
    prior : numpy.ndarray
        (width,) the targets' concatenated marginals with no evidence.
    targets : sequence of (id, states, normal state or None)
        The targets in column order; their state counts add up to ``width``.

    Returns
    -------
    Layout

    Examples
    --------
    >>> import numpy as np
    >>> layout = prepare(np.array([0.7, 0.2, 0.1]), [("damage", ("intact", "torn", "ruptured"), "intact")])
    >>> layout.n_candidates, [layout.states[c] for c in range(layout.width)]
    (2, ['torn', 'ruptured', 'intact'])
    """
    prior = np.asarray(prior, dtype=float).reshape(-1)
    candidates: list[tuple[int, int, str, str, int]] = []   # (model column, first column of target, id, state, k)
    normals: list[tuple[int, int, str, str, int]] = []
    start = 0
    for target_id, states, normal in targets:
        for k, state in enumerate(states):
            entry = (start + k, start, target_id, state, k)
            (normals if state == normal else candidates).append(entry)
        start += len(states)
    if start != prior.size:
        raise ValueError(f"the targets have {start} states but the prior has {prior.size} entries")
    width = prior.size
    entries = candidates + normals
    columns = np.array([e[0] for e in entries], dtype=np.intp)
    inverse = np.empty(width, dtype=np.intp)
    inverse[columns] = np.arange(width, dtype=np.intp)
    cards = {tid: len(states) for tid, states, _ in targets}
    matrix = np.zeros((width, 3 * width))
    for j, (col, first, tid, _, _) in enumerate(entries):
        matrix[col, j] = 1.0
        matrix[col, 2 * width + j] = 1.0
        for other in range(first, first + cards[tid]):
            if other != col:
                matrix[other, width + j] = 1.0
    both = prior.dot(matrix)                   # the prior's own "rest", summed as weigh sums the posterior's
    prior_cols, prior_rest = both[:width], both[width : 2 * width]
    scale = np.concatenate([prior_rest, prior_cols]) * _SCALE   # a power of two: exactly
    # A state whose prior is certain gets numerator = denominator = its target's total: factor exactly 1.
    for j, (_, first, tid, _, _) in enumerate(entries):
        if prior_cols[j] <= 0.0 or prior_rest[j] <= 0.0:
            matrix[:, j] = matrix[:, width + j] = 0.0
            matrix[first : first + cards[tid], j] = matrix[first : first + cards[tid], width + j] = 1.0
            scale[j] = scale[width + j] = _SCALE
    folded = all(n == 2 for n in cards.values())
    if folded:   # powers of two times single terms: the same products as scaling after the sum
        matrix[:, : 2 * width] *= scale
        matrix = np.concatenate([matrix[:, : 2 * width] * _CEIL, matrix[:, :width], matrix[:, 2 * width :]], axis=1)
    by_id = sorted(range(len(candidates)), key=lambda j: (candidates[j][2], candidates[j][4]))
    rank = np.empty(len(candidates), dtype=np.intp)
    rank[np.array(by_id, dtype=np.intp)] = np.arange(len(candidates) - 1, -1, -1, dtype=np.intp)
    counts: dict[str, int] = {}
    for e in candidates:
        counts[e[2]] = counts.get(e[2], 0) + 1
    for array in (prior, columns, inverse, matrix, scale, rank):
        array.setflags(write=False)
    return Layout(
        prior=prior, columns=columns, inverse=inverse, n_candidates=len(candidates),
        ids=tuple(e[2] for e in entries), states=tuple(e[3] for e in entries), matrix=matrix,
        scale=None if folded else scale, rank=rank, one_each=all(c == 1 for c in counts.values()),
    )


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator clipped to [FACTOR_MIN, FACTOR_MAX], in place in ``numerator`` (both are overwritten).

    Both come multiplied by ``_SCALE``. 0 and infinity land exactly on the
    bounds and nothing divides by zero; only 0 / 0 (impossible evidence)
    gives NaN, with numpy's "invalid" warning.
    """
    # n / max(d, n * floor), written as n * K / max(d * K, n) with K = 1 / floor: the floor's product
    # never underflows, so a prior within a subnormal float of certainty still lands on the bound
    np.multiply(denominator, _CEIL, out=denominator)
    np.maximum(denominator, numerator, out=denominator)
    np.multiply(numerator, _CEIL, out=numerator)
    return _clipped_quotient(numerator, denominator)


def _clipped_quotient(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """:func:`_divide`'s last steps, n * _CEIL / max(d * _CEIL, n), clipped, in place in ``numerator``."""
    np.divide(numerator, denominator, out=numerator)
    _clip(numerator, _MIN, _MAX, out=numerator)   # NaN stays NaN, as with maximum then minimum
    return numerator


def weigh(marg: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Every state's Bayes factor, and its posterior, in ``layout.columns`` order.

    Parameters
    ----------
    marg : numpy.ndarray
        (..., width) the targets' concatenated marginals given the evidence.
    layout : Layout
        From :func:`prepare`, with the no-evidence marginals.

    Returns
    -------
    factors : numpy.ndarray
        (..., width) each state's factor against the rest of its target,
        clipped to [FACTOR_MIN, FACTOR_MAX]; 1.0 where the prior is
        certain. A row of zeros (impossible evidence) gives NaN (call under
        ``numpy.errstate(invalid="ignore")`` where such rows can occur);
        no other row divides by zero.
    posteriors : numpy.ndarray
        (..., width) the same columns of ``marg``.

    Examples
    --------
    >>> import numpy as np
    >>> layout = prepare(np.array([0.25, 0.75]), [("a", ("yes", "no"), "no")])
    >>> factors, _ = weigh(np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]]), layout)
    >>> factors[:, 0].tolist()                      # yes: odds 1/3 -> 1, then certain yes, certain no
    [3.0, 1e+100, 1e-100]
    """
    width = layout.columns.size
    parts = marg.dot(layout.matrix)                   # a fresh array: the division works in it
    if layout.scale is None:                          # yes/no targets: the prior and _CEIL are in the matrix
        denominator = parts[..., width : 2 * width]
        np.maximum(denominator, parts[..., 2 * width : 3 * width], out=denominator)
        return _clipped_quotient(parts[..., :width], denominator), parts[..., 3 * width :]
    terms = parts[..., : 2 * width] * layout.scale
    return _divide(terms[..., :width], terms[..., width:]), parts[..., 2 * width :]


def odds_ratio(p: np.ndarray | float, rest: np.ndarray | float, p0: np.ndarray | float,
               rest0: np.ndarray | float) -> np.ndarray:
    """The factor by which odds p : rest differ from odds p0 : rest0, with :func:`weigh`'s clipping.

    ``(p / rest) / (p0 / rest0)``, clipped to [FACTOR_MIN, FACTOR_MAX], and
    1.0 where ``p0`` or ``rest0`` is 0 (odds that were certain cannot move).
    Element-wise over arrays that broadcast.

    Examples
    --------
    >>> odds_ratio([0.5, 1.0, 0.3], [0.5, 0.0, 0.7], [0.25, 0.25, 0.0], [0.75, 0.75, 1.0]).tolist()
    [3.0, 1e+100, 1.0]
    """
    p, rest, p0, rest0 = (np.asarray(x, dtype=float) for x in (p, rest, p0, rest0))
    certain = (p0 <= 0.0) | (rest0 <= 0.0)
    numerator = np.array(np.where(certain, _SCALE, (p * _SCALE) * rest0), ndmin=1)
    denominator = np.array(np.broadcast_to(np.where(certain, _SCALE, (rest * _SCALE) * p0), numerator.shape), ndmin=1)
    return _divide(numerator, denominator)


def decibans(factors: np.ndarray | float) -> np.ndarray:
    """Weight of evidence in decibans: ``10 * log10(factor)`` (+1000 dB at FACTOR_MAX).

    >>> decibans([1.0, 10.0, 1e100, 1e-100]).tolist()
    [0.0, 10.0, 1000.0, -1000.0]
    """
    out: np.ndarray = 10.0 * np.log10(np.asarray(factors, dtype=float))
    return out


def explaining_order(factors: np.ndarray, posteriors: np.ndarray, layout: Layout) -> np.ndarray:
    """The candidate columns best first: by factor (tied on the ``TIE_GRID``), then posterior, then id.

    Parameters
    ----------
    factors, posteriors : numpy.ndarray
        (..., width) from :func:`weigh`.
    layout : Layout

    Returns
    -------
    numpy.ndarray
        (..., n_candidates) positions among the candidate columns, best
        first. ``[..., 0]`` is the explaining cause's leading state;
        :func:`leaders` keeps each target's first (leading) state.

    Examples
    --------
    >>> import numpy as np
    >>> layout = prepare(np.array([0.5, 0.5, 0.2, 0.8]), [("b", ("yes", "no"), "no"), ("a", ("yes", "no"), "no")])
    >>> explaining_order(*weigh(layout.prior, layout), layout).tolist()   # no evidence: by posterior
    [0, 1]
    """
    c = layout.n_candidates
    key = np.log(factors[..., :c])
    np.multiply(key, _GRID, out=key)
    np.rint(key, out=key)
    rank = layout.rank if key.ndim == 1 else np.broadcast_to(layout.rank, key.shape)
    return _lexsort((rank, posteriors[..., :c], key), axis=-1)[..., ::-1]


def leaders(order: Sequence[int], layout: Layout) -> list[int]:
    """Of one row's :func:`explaining_order`, each target's first candidate (its leading state), in order.

    >>> import numpy as np
    >>> layout = prepare(np.array([0.6, 0.3, 0.1]), [("d", ("ok", "torn", "gone"), "ok")])
    >>> leaders([1, 0], layout)
    [1]
    """
    if layout.one_each:
        return list(order)
    seen: set[str] = set()
    out = []
    for c in order:
        target = layout.ids[c]
        if target not in seen:
            seen.add(target)
            out.append(c)
    return out
