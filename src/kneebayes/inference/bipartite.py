"""Exact inference for large bipartite noisy-OR diagnostic networks (QMR-DT style), on plain arrays.

The network: ``n`` binary causes, independent roots with priors
``p_d = P(d = yes)``, and ``m`` binary findings, each a leaky noisy-OR over
a few causes::

    P(f = no | causes) = (1 - leak_f) * prod over present parents d of (1 - w_fd)

Evidence is a set of findings observed positive (yes) and a set observed
negative (no); every other finding is barren and drops out.

**Negative findings** factorise exactly into the causes: a cause's prior
odds are multiplied by the product of ``1 - w_fd`` over its negative
children, and ``P(negatives)`` is a product of per-cause sums and leak
constants. Causes that are no parent of a positive finding are then
independent of everything else a posteriori: their posterior is that
closed form.

**Positive findings** couple their parents, but only within a *group*:
positives that share no parent cause (directly or through other
positives) are independent given the negatives, so each group is answered
on its own and ``P(evidence)`` is the product over groups. Below, ``k`` is
a group's positives and ``r`` its parent causes. Two exact methods answer
a group, both in log space:

* ``"quickscore"`` (Heckerman 1989): inclusion-exclusion over the ``2^k``
  subsets of the positives, each subset treated as negative. Cost about
  ``2^k * r``; memory ``2^k`` floats (the signed terms, summed exactly by
  ``math.fsum``; the rest is done in chunks of subsets). Its alternating
  sum cancels: the result records an estimated error (each term's rounding
  times the terms' total size over their sum, measured 100 to 10,000
  times above the error seen), and a Quickscore answer past the tolerance
  is never returned.
* ``"dp"``: a dynamic programme over the ``r`` parent causes whose state is
  the set of positives already switched on (a present cause switches each
  positive child ``f`` on with probability ``w_fd``; the leak is one more
  cause). Run forward and backward it gives ``P(evidence)`` and every
  ``P(d = yes, evidence)`` from non-negative terms only, in log space, so
  it keeps its digits when ``P(evidence)`` is 1e-300 or far below. Only
  the positives *open* at a step need a bit: a positive's leak is added at
  its first parent in the order and the positive is kept "on" and dropped
  after its last, and a greedy order keeps few open at once. Cost about
  ``2^open * (1 + switches)`` per step and direction, at most
  ``2^k * (r + edges)``; memory the stored forward vectors, at most
  ``r * 2^k`` floats (twice that for :func:`finding_probabilities`, which
  keeps the backward ones too).

``method="auto"`` (the default) prices both per group, runs the cheaper one
that fits the memory budget (Quickscore only when it looks clearly
cheaper, since its work is lost when the sum cancels), and falls back to
the DP when Quickscore's estimate misses the tolerance; where only
Quickscore fits the budget and it misses, the DP's need is an
:class:`~kneebayes.errors.IntractableError`. Evidence of probability
zero (a positive with no leak and no parent that may be present and
switch it on) is told apart before any sum, whatever the method: both
cancel to zero in Quickscore.
:attr:`BipartiteResult.method` says which ran: ``"dp"``,
``"quickscore"``, ``"dp+quickscore"`` (groups differed) or
``"closed_form"`` (no positive finding).

**Soft answers.** A finding answered softly, likelihoods ``a`` for yes
and ``b`` for no, weighs the evidence by ``a P(yes | causes) + b P(no |
causes)``: one more open finding in either method, at a positive's cost.
The DP switches its bit on as a positive's and, where a positive keeps
only its "on" states when it closes, weighs "on" by ``a`` and "off" by
``b``; Quickscore expands it as ``a - (a - b)(1 - leak) prod (1 - w)``, so
a subset holding it takes ``-(a - b)`` (its sign flips only where ``a >
b``). An answer on a cause (``causes``, firm or soft) weighs the cause's
two states in log space. Each answer's likelihoods are scaled to a largest
of 1, that scale entering P(evidence) as a log.

**Finding probabilities.** ``P(f = no, e)`` is ``e`` with ``f`` one more
negative: outside the positives' parents a closed form, inside them a tilt
of its parents' factors by ``1 - w``. Quickscore evaluates every tilt in
the same pass over the subsets (one matrix product); the DP carries each
finding as a row of ratios to its forward vector, from its first parent
to its last, in plain arithmetic on numbers in [0, 1]. Its cost is, per
finding, the states it passes through on that way: on a QMR-DT-sized
network (600 causes, 4,000 findings, 40,000 edges) all 3,800 unobserved
findings take about 50 ms given 10 positives and 200 negatives, but more
than a minute given 30 positives that keep 14 open at once.

**Memory budget.** Every group's ``2^k``-sized work must fit
``memory_budget`` bytes; otherwise
:class:`~kneebayes.errors.IntractableError` names the positive findings
of the largest state (for the DP, those open at once), before anything
large is allocated (every group is priced before any is answered), and
before the DP's order is planned where one cause's positive children alone,
all open at its step in any order, pass the budget. With
1 GiB, a group whose parents are all 600 causes of a QMR-DT-sized network,
at worst with all its positives open at every step, affords 17 positive
findings with the DP (16 for finding probabilities) and 26 with
Quickscore, whose memory is small but which at 26 positives would do
2^26 * 600 steps and rarely keeps its digits (its sum is given up as soon
as the terms summed so far, over a ceiling on the sum, each positive's own
chance of being on, put its error past the tolerance: 20 positives under
one cause, refused in 11.5 s of subsets before, in 0.02 s); fewer parent causes afford
more (:func:`affordable_positives`), and so does a DP order that keeps
fewer positives open:

>>> affordable_positives(2**30, 600, "dp"), affordable_positives(2**30, 600, "quickscore")
(17, 26)
>>> affordable_positives(2**30, 600, "dp", findings=True), affordable_positives(2**30, 60, "dp")
(16, 20)

An example: two causes, one finding each observed positive and negative.

>>> net = BipartiteNoisyOr.from_parents(
...     priors=[0.1, 0.2], leaks=[0.01, 0.0],
...     parents=[[0, 1], [1]], weights=[[0.8, 0.5], [0.9]], name="tiny")
>>> r = posterior(net, positive=[0], negative=[1])
>>> [round(p, 6) for p in r.posterior.tolist()], r.method
([0.80195, 0.132422], 'dp')
>>> bool(np.allclose(posterior(net, [0], [1], method="quickscore").posterior, r.posterior, atol=1e-12))
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import (
    EvidenceError,
    ImpossibleEvidenceError,
    IntractableError,
    KneeBayesError,
    ParameterError,
    SettingError,
    quote,
)
from ..settings import MEMORY_BUDGET, check_memory_budget

__all__ = [
    "BipartiteNoisyOr",
    "BipartiteResult",
    "BipartiteBatch",
    "FindingProbabilities",
    "PrecisionError",
    "posterior",
    "posterior_batch",
    "finding_probabilities",
    "affordable_positives",
    "METHODS",
    "TOLERANCE",
]

Method = Literal["auto", "quickscore", "dp"]

#: The ``method`` values every entry point takes.
METHODS: tuple[str, ...] = ("auto", "quickscore", "dp")

#: The largest estimated absolute error a Quickscore answer may carry (a tenth of the 1e-9 promised).
TOLERANCE = 1e-10

_EPS = float(np.finfo(float).eps)
_BYTES = 8                       # float64
_CHUNK_BYTES = 16 << 20          # Quickscore's per-chunk arrays: small enough for the cache, large enough for BLAS
_QS_WORK = 6.0                   # elementwise passes per (subset, parent cause) in Quickscore
_DP_WORK = 5.0                   # per (state, switch) in the DP, forward plus backward: logaddexp is dearer
_CALL = 2048.0                   # one numpy call, in elementwise steps: what makes a small DP slower than it looks
#: Open positives past which a state is priced as this many: 2^900 bytes is past any budget, and a float
#: holds no more than 2^1023.
_HUGE_BITS = 900
_QS_RISK = 4.0                   # how much cheaper Quickscore must look before "auto" risks a sum that may cancel


class PrecisionError(KneeBayesError, ArithmeticError):
    """Quickscore was asked for by name but its alternating sum would lose the digits promised.

    ``bound`` is its estimated absolute error, ``tolerance`` what was asked;
    ``method="dp"`` or ``"auto"`` answers the same query exactly.
    """

    def __init__(self, bound: float, tolerance: float) -> None:
        self.bound = float(bound)
        self.tolerance = float(tolerance)
        super().__init__(
            f"Quickscore's alternating sum cancels here: its posteriors could be off by {self.bound:.3g}, "
            f"more than the tolerance {self.tolerance:.3g}; use method='dp' (exact without cancellation) or 'auto'"
        )


# ---------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BipartiteNoisyOr:
    """A bipartite noisy-OR network: cause priors, finding leaks, and sparse weights.

    The weights are stored per finding, CSR-like: finding ``f``'s parents
    are ``parent_index[parent_start[f]:parent_start[f + 1]]`` with weights
    ``parent_weight[...]`` at the same positions, so memory is linear in
    the number of edges. Arrays are copied and made read-only.

    Priors, leaks and weights are probabilities in [0, 1]; a finding lists
    each parent once. ``finding_names`` (optional) are used in messages;
    without them a finding is named by its index.

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01], [[0, 1]], [[0.8, 0.5]])
    >>> net.n_causes, net.n_findings, net.n_edges
    (2, 1, 2)
    >>> net.parents(0)
    (array([0, 1]), array([0.8, 0.5]))
    >>> BipartiteNoisyOr.from_parents([0.1, 1.5], [0.01], [[0, 1]], [[0.8, 0.5]])
    Traceback (most recent call last):
    ...
    kneebayes.errors.ParameterError: bipartite network 'bipartite': priors[1] is 1.5; priors must be probabilities in [0, 1]
    """

    priors: np.ndarray          # (n,) P(cause = yes)
    leaks: np.ndarray           # (m,) P(finding = yes | no cause present)
    parent_start: np.ndarray    # (m + 1,) int64, non-decreasing from 0 to n_edges
    parent_index: np.ndarray    # (n_edges,) int64 cause of each edge
    parent_weight: np.ndarray   # (n_edges,) w_fd of each edge
    name: str = "bipartite"
    finding_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        where = f"bipartite network {quote(self.name)}"
        if not isinstance(self.name, str):
            raise ParameterError(f"a bipartite network's name must be a string, got {quote(self.name)}")
        priors = _float_vector(self.priors, "priors", where)
        leaks = _float_vector(self.leaks, "leaks", where)
        weight = _float_vector(self.parent_weight, "parent_weight", where)
        start = _int_vector(self.parent_start, "parent_start", where)
        index = _int_vector(self.parent_index, "parent_index", where)
        n, m, e = len(priors), len(leaks), len(weight)
        if len(start) != m + 1:
            raise ParameterError(f"{where}: parent_start has {len(start)} entries; it needs one per finding plus one ({m + 1})")
        if len(index) != e:
            raise ParameterError(f"{where}: parent_index has {len(index)} entries and parent_weight {e}; "
                                 "they need one entry per edge each")
        if start[0] != 0 or start[-1] != e or np.any(np.diff(start) < 0):
            raise ParameterError(f"{where}: parent_start must rise from 0 to the number of edges ({e}), "
                                 f"got {quote(start.tolist())}")
        for label, values in (("priors", priors), ("leaks", leaks), ("parent_weight", weight)):
            bad = np.flatnonzero(~((values >= 0.0) & (values <= 1.0)))
            if len(bad):
                raise ParameterError(f"{where}: {label}[{bad[0]}] is {quote(float(values[bad[0]]))}; "
                                     f"{label} must be probabilities in [0, 1]")
        bad = np.flatnonzero((index < 0) | (index >= n))
        if len(bad):
            f = int(np.searchsorted(start, bad[0], side="right") - 1)
            raise ParameterError(f"{where}: finding {f} names cause {quote(int(index[bad[0]]))}; "
                                 f"cause indices run from 0 to {n - 1}")
        finding_of = np.repeat(np.arange(m), np.diff(start))
        if e:
            key = finding_of * max(n, 1) + index
            dup = np.flatnonzero(np.diff(np.sort(key)) == 0)
            if len(dup):
                k = np.sort(key)[dup[0]]
                raise ParameterError(f"{where}: finding {k // max(n, 1)} lists cause {k % max(n, 1)} twice; "
                                     "each parent may appear once")
        if self.finding_names is not None:
            names = tuple(self.finding_names)
            if len(names) != m or not all(isinstance(s, str) for s in names):
                raise ParameterError(f"{where}: finding_names must be {m} strings, one per finding")
            object.__setattr__(self, "finding_names", names)
        for attr, arr in (("priors", priors), ("leaks", leaks), ("parent_weight", weight),
                          ("parent_start", start), ("parent_index", index)):
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)

    @classmethod
    def from_parents(cls, priors: Sequence[float] | np.ndarray, leaks: Sequence[float] | np.ndarray,
                     parents: Sequence[Sequence[int]], weights: Sequence[Sequence[float]], *,
                     name: str = "bipartite", finding_names: Sequence[str] | None = None) -> BipartiteNoisyOr:
        """A network from per-finding lists: ``parents[f]`` the causes of finding ``f``, ``weights[f]`` theirs."""
        where = f"bipartite network {quote(name)}"
        if len(parents) != len(weights):
            raise ParameterError(f"{where}: parents lists {len(parents)} findings and weights {len(weights)}; "
                                 "they need one list per finding each")
        for f, (ps, ws) in enumerate(zip(parents, weights)):
            if len(ps) != len(ws):
                raise ParameterError(f"{where}: finding {f} has {len(ps)} parents and {len(ws)} weights; "
                                     "they need one weight per parent")
        counts = np.array([len(ps) for ps in parents], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat_i = [int(c) if isinstance(c, (int, np.integer)) and not isinstance(c, bool) else c
                  for ps in parents for c in ps]
        flat_w = [w for ws in weights for w in ws]
        return cls(np.asarray(priors), np.asarray(leaks), start, np.asarray(flat_i) if flat_i else np.zeros(0, np.int64),
                   np.asarray(flat_w) if flat_w else np.zeros(0), name,
                   None if finding_names is None else tuple(finding_names))

    @property
    def n_causes(self) -> int:
        """The number of causes."""
        return len(self.priors)

    @property
    def n_findings(self) -> int:
        """The number of findings."""
        return len(self.leaks)

    @property
    def n_edges(self) -> int:
        """The number of (finding, parent cause) edges."""
        return len(self.parent_index)

    def parents(self, finding: int) -> tuple[np.ndarray, np.ndarray]:
        """Finding ``finding``'s parent causes and their weights (read-only views)."""
        lo, hi = self.parent_start[finding], self.parent_start[finding + 1]
        return self.parent_index[lo:hi], self.parent_weight[lo:hi]

    def finding_name(self, finding: int) -> str:
        """The name messages use for ``finding``: its name, or its index."""
        return str(finding) if self.finding_names is None else self.finding_names[finding]


def _float_vector(value: object, label: str, where: str) -> np.ndarray:
    arr = np.array(value)
    if arr.dtype.kind not in "iuf" and not (arr.size == 0 and arr.dtype.kind in "bOU"):
        raise ParameterError(f"{where}: {label} must be numbers, got {quote(value)}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ParameterError(f"{where}: {label} must be one-dimensional, got shape {arr.shape}")
    return arr


def _int_vector(value: object, label: str, where: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or not (arr.dtype.kind in "iu" or (arr.size == 0 and arr.dtype.kind == "f")):
        raise ParameterError(f"{where}: {label} must be a one-dimensional array of whole numbers, got {quote(value)}")
    return arr.astype(np.int64, copy=True)


# ---------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BipartiteResult:
    """The posterior of every cause and the log probability of the evidence.

    ``method`` is what ran: ``"quickscore"``, ``"dp"``, or ``"closed_form"``
    (no positive finding has a parent whose answer is in doubt).
    ``error_bound`` is the estimated absolute error of the posteriors: the
    rounding of Quickscore's alternating sum, or the DP's accumulated
    rounding; a Quickscore posterior may lie that far outside [0, 1].
    """

    posterior: np.ndarray        # (n,) P(cause = yes | evidence)
    log_evidence: float          # natural log of P(evidence)
    method: str
    error_bound: float
    # (n,) P(cause = no | evidence), computed in its own right: 1 - posterior loses its digits near 1
    absent: np.ndarray


@dataclass(frozen=True, eq=False)
class BipartiteBatch:
    """Results for several evidence rows, stacked: ``posterior`` is ``(rows, n)``.

    ``batch[i]`` is row ``i`` as a :class:`BipartiteResult`.
    """

    posterior: np.ndarray        # (rows, n)
    log_evidence: np.ndarray     # (rows,)
    method: tuple[str, ...]
    error_bound: np.ndarray      # (rows,)
    absent: np.ndarray           # (rows, n) P(cause = no | evidence)

    def __len__(self) -> int:
        return len(self.method)

    def __getitem__(self, row: int) -> BipartiteResult:
        return BipartiteResult(self.posterior[row], float(self.log_evidence[row]), self.method[row],
                               float(self.error_bound[row]), self.absent[row])


@dataclass(frozen=True, eq=False)
class FindingProbabilities:
    """P(finding = yes | evidence) for the requested unobserved findings, in the order asked."""

    findings: np.ndarray         # (j,) finding indices
    probability: np.ndarray      # (j,) P(f = yes | evidence)
    log_evidence: float
    method: str
    error_bound: float
    # (j,) P(f = no | evidence), from its own log: 1 - probability loses its digits near 1
    absent: np.ndarray


# ---------------------------------------------------------------------------------
# Evidence: negatives folded into the causes, positives' parents gathered
# ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Query:
    """One evidence row, ready for either method: all in natural logs."""

    positive: np.ndarray     # (k,) finding indices
    negative: np.ndarray
    log_p: np.ndarray        # (n,) log P(d = yes | negatives)
    log_q: np.ndarray        # (n,) log P(d = no | negatives)
    log_negatives: float     # log P(negatives)
    dplus: np.ndarray        # (r,) causes that are parents of a positive finding, ascending
    plus_p: np.ndarray       # (r,) log_p of those causes
    plus_q: np.ndarray       # (r,) log_q of those causes
    log_w: np.ndarray        # (k, r) log w of positive i from cause dplus[j]; -inf where no edge
    log_1mw: np.ndarray      # (k, r) log (1 - w); 0 where no edge
    leak_on: np.ndarray      # (k,) log leak
    leak_off: np.ndarray     # (k,) log (1 - leak)
    # (k,) a positive's weight once closed, on and off (logs): 0 and -inf for a positive, log a and log b for a
    # soft answer (likelihood a for yes, b for no), which leaves both states in
    close_on: np.ndarray
    close_off: np.ndarray

    @property
    def hard(self) -> np.ndarray:
        """Which of the positives are answered yes (not softly)."""
        return np.isneginf(self.close_off)

    @property
    def k(self) -> int:
        return len(self.positive)

    @property
    def r(self) -> int:
        return len(self.dplus)


def _check_ids(net: BipartiteNoisyOr, ids: object, label: str) -> np.ndarray:
    values = list(ids) if not isinstance(ids, (str, bytes)) and hasattr(ids, "__iter__") else None
    if values is None:
        raise EvidenceError(f"{label} findings must be a sequence of finding indices, got {quote(ids)}")
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise EvidenceError(f"{label} finding {quote(v)} is not a finding index (a whole number)")
        if not 0 <= int(v) < net.n_findings:
            raise EvidenceError(f"{label} finding {quote(v)} does not exist: "
                                f"finding indices run from 0 to {net.n_findings - 1}")
        out.append(int(v))
    arr = np.array(out, dtype=np.int64)
    if len(np.unique(arr)) != len(arr):
        twice = int(np.sort(arr)[np.flatnonzero(np.diff(np.sort(arr)) == 0)[0]])
        raise EvidenceError(f"{label} finding {twice} is listed twice")
    return arr


def _edges_of(net: BipartiteNoisyOr, findings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edge positions of ``findings`` and, for each, the position of its finding in ``findings``."""
    lo, hi = net.parent_start[findings], net.parent_start[findings + 1]
    counts = hi - lo
    owner = np.repeat(np.arange(len(findings)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(lo, counts) + offsets, owner


def _log1m(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log1p(-x)


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _check_soft(net: BipartiteNoisyOr, soft: object, causes: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The soft answers' findings (or ``causes``') and the logs of their likelihoods of yes and of no, checked, each
    pair scaled to a largest of 1 (only the ratio says anything), with the logs of those scales."""
    if soft is None:
        return np.zeros(0, dtype=np.int64), np.zeros((2, 0)), np.zeros(0)
    what, label = ("cause", "answer") if causes else ("finding", "soft answer")
    if not isinstance(soft, Mapping):
        raise EvidenceError(f"{label}s must be a mapping of {what} index to (likelihood of yes, likelihood "
                            f"of no), got {quote(soft)}")
    if causes:
        ids = np.array([int(c) if isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) else -1
                        for c in soft], dtype=np.int64)
        bad = np.flatnonzero((ids < 0) | (ids >= net.n_causes))
        if len(bad):
            raise EvidenceError(f"cause {quote(list(soft)[bad[0]])} does not exist: cause indices run from 0 to "
                                f"{net.n_causes - 1}")
    else:
        ids = _check_ids(net, list(soft), "soft")
    pairs = np.empty((2, len(ids)))
    for n, (f, pair) in enumerate(soft.items()):
        name = f if causes else net.finding_name(int(f))
        try:
            if isinstance(pair, (str, bytes, Mapping)) or not all(
                    isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
                    for x in pair):
                raise TypeError
            a, b = (float(x) for x in pair)
        except (TypeError, ValueError, OverflowError):   # not two numbers, or an int past any float
            raise EvidenceError(f"{label} of {what} {quote(name)} must be two likelihoods (yes, no), "
                                f"got {quote(pair)}") from None
        # a cause may be answered firmly here, (1, 0) or (0, 1); a finding answered firmly is a positive or negative
        if not (math.isfinite(a) and math.isfinite(b) and a >= 0.0 and b >= 0.0 and a + b > 0.0
                and (causes or (a > 0.0 and b > 0.0))):
            firm = ", not both 0" if causes else " above 0 (a zero is a firm answer: list it as positive or negative)"
            raise EvidenceError(f"{label} of {what} {quote(name)} must be two finite likelihoods{firm}, got {quote(pair)}")
        pairs[:, n] = a, b
    scale = pairs.max(axis=0)
    with np.errstate(divide="ignore"):   # a cause's firm answer: log 0 for the other state
        # in logs: a ratio past any float (1e300 against 1e-300) stays soft, where pairs / scale would round to 0
        return ids, np.log(pairs) - np.log(scale), np.log(scale)


def _prepare(net: BipartiteNoisyOr, positive: object, negative: object, soft: object = None,
             causes: object = None) -> _Query:
    """Check the evidence, fold the negatives and the causes' answers into the causes, gather the positives'
    parents (a soft answer on a finding is one more positive, weighed when it closes)."""
    pos = _check_ids(net, positive, "positive")
    neg = _check_ids(net, negative, "negative")
    both = np.intersect1d(pos, neg)
    if len(both):
        raise EvidenceError(f"finding {quote(net.finding_name(int(both[0])))} is listed as both positive and negative")
    soft_ids, soft_logs, soft_scale = _check_soft(net, soft)
    told, told_logs, told_scale = _check_soft(net, causes, causes=True)
    if len(soft_ids):
        both = np.intersect1d(soft_ids, np.union1d(pos, neg))
        if len(both):
            raise EvidenceError(f"finding {quote(net.finding_name(int(both[0])))} is answered both softly and firmly")
    n = net.n_causes
    edges, _ = _edges_of(net, neg)
    log_a = np.bincount(net.parent_index[edges], weights=_log1m(net.parent_weight[edges]), minlength=n)
    prior = net.priors
    yes = _log(prior) + log_a
    no = _log1m(prior)
    # A cause's answer weighs its states, in logs (a likelihood ratio of 1e-300 keeps its digits, where a prior
    # reweighed to 1 - 1e-300 would round to 1)
    untouched = log_a == 0.0
    if len(told):
        yes[told] += told_logs[0]
        no[told] += told_logs[1]
        untouched[told] = False
    # a cause with no negative child keeps its prior exactly (log z = 0, not log(p + (1 - p)) rounded)
    log_z = np.where(untouched, 0.0, np.logaddexp(yes, no))
    log_negatives = float(_log1m(net.leaks[neg]).sum() + log_z.sum() + soft_scale.sum() + told_scale.sum())
    if log_negatives == -np.inf:
        raise _impossible(net, pos, neg)
    log_p, log_q = yes - log_z, no - log_z
    hard = len(pos)
    if len(soft_ids):
        pos = np.concatenate([pos, soft_ids])
    edges, owner = _edges_of(net, pos)
    live = net.parent_weight[edges] > 0.0        # a weight-0 edge switches nothing: its cause stays independent
    edges, owner = edges[live], owner[live]
    causes = net.parent_index[edges]
    dplus = np.unique(causes)
    col = np.searchsorted(dplus, causes)
    k, r = len(pos), len(dplus)
    log_w = np.full((k, r), -np.inf)
    log_1mw = np.zeros((k, r))
    log_w[owner, col] = _log(net.parent_weight[edges])
    log_1mw[owner, col] = _log1m(net.parent_weight[edges])
    for a in (log_p, log_q, log_w, log_1mw):
        a.setflags(write=False)
    close_on = np.concatenate([np.zeros(hard), soft_logs[0]]) if len(soft_ids) else np.zeros(hard)
    close_off = np.concatenate([np.full(hard, -np.inf), soft_logs[1]]) if len(soft_ids) else np.full(hard, -np.inf)
    return _Query(pos, neg, log_p, log_q, log_negatives, dplus, log_p[dplus], log_q[dplus], log_w, log_1mw,
                  _log(net.leaks[pos]), _log1m(net.leaks[pos]), close_on, close_off)


def _possible(q: _Query) -> bool:
    """Whether the group's positives can all be on given the negatives: each has a leak, or a parent that may be
    present (given the negatives) and switches it on with some chance. Exact: the causes are independent given
    the negatives, so all the causes that may be present can be present at once, and each positive is then on
    with a chance above zero."""
    can_be = np.isfinite(q.plus_p)[None, :] & np.isfinite(q.log_w)
    able = np.isfinite(q.leak_on) | can_be.any(axis=1)
    return bool(able.all() or (able | ~q.hard).all())   # a soft answer is never impossible


def _impossible(net: BipartiteNoisyOr, pos: np.ndarray, neg: np.ndarray) -> ImpossibleEvidenceError:
    return ImpossibleEvidenceError([(net.finding_name(int(f)), "yes") for f in pos]
                                   + [(net.finding_name(int(f)), "no") for f in neg])


# ---------------------------------------------------------------------------------
# Pricing: memory before anything large is allocated, time to choose
# ---------------------------------------------------------------------------------


def _dp_bytes(k: int, r: int, findings: bool) -> int:
    """The DP's memory at worst: every one of ``r`` steps with all ``k`` positives open."""
    return ((2 * r if findings else r) + 6) * (1 << k) * _BYTES


def _dp_need(plan: _Schedule, findings: bool) -> int:
    """The DP's memory for ``plan``: the stored forward vectors (and backward ones for findings), working vectors."""
    stored = float(plan.sizes.sum()) * (2 if findings else 1)
    return int((stored + 6.0 * 2.0 ** min(len(plan.widest), _HUGE_BITS)) * _BYTES)


def _quickscore_bytes(k: int, r: int) -> int:
    """Quickscore's per-subset terms (summed exactly at the end) plus one smallest chunk."""
    return (1 << k) * _BYTES + 64 * (4 * r + k + 4) * _BYTES


def affordable_positives(memory_budget: int, parent_causes: int, method: str = "dp", *,
                         findings: bool = False) -> int:
    """The most positive findings in one group ``method`` can take within ``memory_budget`` bytes.

    ``parent_causes`` is the number of the group's parent causes (at most
    the network's causes); ``findings`` prices :func:`finding_probabilities`
    rather than :func:`posterior`.

    >>> affordable_positives(2**30, 600, "dp")
    17
    >>> affordable_positives(2**20, 10, "quickscore")
    16
    """
    memory_budget = check_memory_budget(memory_budget)
    if method not in ("dp", "quickscore"):
        raise SettingError(f"method must be 'dp' or 'quickscore', got {quote(method)}")
    need = _dp_bytes if method == "dp" else (lambda k, r, _: _quickscore_bytes(k, r))
    k = 0
    while need(k + 1, parent_causes, findings) <= memory_budget:
        k += 1
    return k


def _chunk_rows(q: _Query, columns: int, memory_budget: int) -> int:
    """Subsets per Quickscore chunk: its (chunk, columns) arrays stay within a slice of the budget."""
    room = max(memory_budget - (1 << q.k) * _BYTES, 0)
    return int(max(64, min(1 << q.k, min(room, _CHUNK_BYTES) // max(columns * _BYTES, 1))))


def _choose(net: BipartiteNoisyOr, q: _Query, method: str, memory_budget: int, fe: _Tilts | None,
            plan: _Schedule) -> list[str]:
    """The methods to try, cheapest first, among those that fit the budget (IntractableError if none)."""
    size = 2.0 ** min(q.k, _HUGE_BITS)   # subsets of the positives (priced as a float: see _HUGE_BITS)
    sizes = plan.sizes
    per_step = sizes * (np.array([len(s) for s in plan.switches]) + 2.0)
    dp_work = math.inf if plan.floor else 2.0 * float(per_step.sum())   # a floor: the DP cannot fit
    qs_extra = 0
    if fe is not None and len(fe.rows):
        # Quickscore adds a column per edge into the group; the DP sweeps each finding's row over its steps
        qs_extra = len(fe.column) + len(fe.rows)
        if not plan.floor:   # a floor has no order to sweep along
            step = plan.step_of[fe.column]
            first, last = np.minimum.reduceat(step, fe.starts), np.maximum.reduceat(step, fe.starts)
            reach = np.concatenate([[0.0], np.cumsum(per_step)])
            dp_work += 2.0 * float((reach[last + 1] - reach[first]).sum())
    need = {"dp": _dp_need(plan, fe is not None), "quickscore": _quickscore_bytes(q.k, q.r)}
    cost = {"dp": _DP_WORK * dp_work + _CALL * 10 * len(plan.order),
            "quickscore": size * _QS_WORK * (q.r + q.k + qs_extra) + _CALL * 12 * (size // 64 + 1)}
    wanted = ["dp", "quickscore"] if method == "auto" else [method]
    fits = [m for m in wanted if need[m] <= memory_budget]
    if not fits:
        smallest = min(wanted, key=lambda m: need[m])
        # the DP's largest state is over the positives open at once; Quickscore's over all of the group's
        clique = q.positive[list(plan.widest)] if smallest == "dp" else q.positive
        raise IntractableError(net.name, [net.finding_name(int(f)) for f in clique], need[smallest], memory_budget,
                               advice="fewer positive findings (answer the query in parts, or ask fewer), "
                                      "or a larger memory_budget", at_least=smallest == "dp" and plan.floor)
    # Quickscore's sum may cancel and its work be thrown away: "auto" wants it clearly cheaper before trying it
    cost["quickscore"] *= _QS_RISK
    fits.sort(key=lambda m: cost[m])
    if "dp" in fits:             # the DP never fails: nothing to try after it
        fits = fits[: fits.index("dp") + 1]
    return fits


# ---------------------------------------------------------------------------------
# Log-space helpers
# ---------------------------------------------------------------------------------


def _logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(sum(exp(x))) along ``axis``; -inf where every entry is -inf (no warning, no NaN)."""
    top = np.max(x, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - safe), axis=axis, keepdims=True)) + safe
    return np.squeeze(out, axis=axis)


def _subset_sums(bits: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``bits @ table`` where ``table`` may hold -inf (0 * -inf would be NaN in a plain product)."""
    zero = np.isneginf(table)
    out = bits @ np.where(zero, 0.0, table)
    if zero.any():
        out[(bits @ zero.astype(np.float64)) > 0] = -np.inf
    return out


# ---------------------------------------------------------------------------------
# Quickscore
# ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Tilts:
    """Requested findings' edges into one group's parent causes, grouped by finding (ascending)."""

    rows: np.ndarray         # (h,) positions (in the request) of findings with a parent in the group
    starts: np.ndarray       # (h,) first edge of each such finding in the arrays below
    column: np.ndarray       # (e,) position of the edge's cause among the group's parent causes
    log_1mw: np.ndarray      # (e,) log (1 - w)
    first: np.ndarray        # (h,) smallest such position among the finding's parents
    last: np.ndarray         # (h,) largest

    @staticmethod
    def of(owner: np.ndarray, column: np.ndarray, log_1mw: np.ndarray) -> _Tilts:
        """From edges listed by ascending ``owner`` (the finding's position in the request)."""
        rows, starts = np.unique(owner, return_index=True)
        if not len(rows):
            empty = np.zeros(0, np.int64)
            return _Tilts(empty, empty, empty, np.zeros(0), empty, empty)
        return _Tilts(rows, starts, column, log_1mw, np.minimum.reduceat(column, starts),
                      np.maximum.reduceat(column, starts))


@dataclass(frozen=True, eq=False)
class _FindingEdges:
    """The requested findings: a closed-form part, and their edges into the positives' parent causes."""

    constant: np.ndarray     # (j,) log of (1 - leak) * prod over parents outside dplus of P(d does not switch f on)
    owner: np.ndarray        # (e,) position in the request of each edge into dplus, ascending
    column: np.ndarray       # (e,) position of the edge's cause in dplus
    log_1mw: np.ndarray      # (e,) log (1 - w)

    def within(self, columns: np.ndarray) -> _Tilts:
        """The edges into ``columns`` (ascending dplus positions), renumbered among them."""
        keep = np.isin(self.column, columns)
        return _Tilts.of(self.owner[keep], np.searchsorted(columns, self.column[keep]), self.log_1mw[keep])


def _finding_edges(net: BipartiteNoisyOr, q: _Query, findings: np.ndarray) -> _FindingEdges:
    edges, owner = _edges_of(net, findings)
    cause = net.parent_index[edges]
    log_1mw = _log1m(net.parent_weight[edges])
    pos = np.searchsorted(q.dplus, cause)
    inside = (pos < q.r) & (q.dplus[np.minimum(pos, max(q.r - 1, 0))] == cause) if q.r else np.zeros(len(cause), bool)
    # outside dplus a parent is independent a posteriori: P(it does not switch f on) = 1 - p' w = q' + p' (1 - w)
    outside = np.logaddexp(q.log_q[cause], q.log_p[cause] + log_1mw)
    constant = _log1m(net.leaks[findings]) + np.bincount(owner[~inside], weights=outside[~inside],
                                                          minlength=len(findings))
    return _FindingEdges(constant, owner[inside], pos[inside], log_1mw[inside])


def _groups(q: _Query) -> list[_Query]:
    """The positives split into groups that share no parent cause: independent given the negatives.

    Each group is a query of its own over its positives and their parents,
    so the ``2^k`` of either method becomes a sum of ``2^k_group``.
    """
    edge = q.log_w > -np.inf                              # (k, r): cause j can switch positive i on
    linked = (edge.astype(np.int64) @ edge.T.astype(np.int64)) > 0
    label = np.full(q.k, -1)
    for start in range(q.k):
        if label[start] >= 0:
            continue
        label[start] = start
        frontier = [start]
        while frontier:
            nxt = np.flatnonzero(linked[frontier].any(axis=0) & (label < 0))
            label[nxt] = start
            frontier = nxt.tolist()
    out = []
    for g in np.unique(label):
        rows = np.flatnonzero(label == g)
        cols = np.flatnonzero(edge[rows].any(axis=0))
        out.append(_Query(q.positive[rows], q.negative, q.log_p, q.log_q, q.log_negatives, q.dplus[cols],
                          q.plus_p[cols], q.plus_q[cols], q.log_w[np.ix_(rows, cols)],
                          q.log_1mw[np.ix_(rows, cols)], q.leak_on[rows], q.leak_off[rows], q.close_on[rows],
                          q.close_off[rows]))
    return out


def _quickscore(q: _Query, fe: _Tilts | None, memory_budget: int, tolerance: float = math.inf
                ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """(log P(positives | negatives), posteriors of dplus present and absent, tilt ratios of the findings,
    estimated error).

    A finding's tilt ratio is E[prod over its parents here of (1 - w)^present | evidence].
    The estimated error is infinite when the alternating sum cancels to nothing. Once the terms summed so far
    put the error past ``tolerance`` whatever the rest hold, the sum stops there: the error returned is then
    that floor, and the other numbers are not the answer.
    """
    k, r = q.k, q.r
    n_fe = 0 if fe is None else len(fe.column) + len(fe.rows)
    chunk = _chunk_rows(q, 4 * r + k + 2 * n_fe, memory_budget)
    terms = np.empty(1 << k)                              # signed terms, summed exactly at the end
    numer = np.zeros(r)
    numer_no = np.zeros(r)
    fnum = np.zeros(0 if fe is None else len(fe.rows))
    shifts = np.arange(k)
    log_q, log_p = q.plus_q[None, :], q.plus_p[None, :]
    # A positive f is a P(yes) + b P(no) = a - (a - b)(1 - leak) prod (1 - w) (a = 1, b = 0 when answered yes): in a
    # subset S, a where f is outside, -(a - b)(1 - leak) prod (1 - w) inside; the sign flips with f where a > b
    soft = not q.hard.all()
    inside, outside, flips = q.leak_off[:, None], q.close_on[:, None], np.ones(k)
    if soft:
        with np.errstate(divide="ignore"):   # equal likelihoods: no term inside
            inside = (q.leak_off + np.log(np.abs(np.exp(q.close_on) - np.exp(q.close_off))))[:, None]
        flips = (q.close_on > q.close_off).astype(np.float64)
    worst = 0.0                                           # the largest |log term|: its rounding scales with it
    # A ceiling on the sum, P(the group's positives | negatives): each positive answered yes is on with at most its
    # own chance (one less its singleton subset's term), and a soft answer weighs at most its larger likelihood.
    # The error's floor, 2 eps (k + 8) |terms so far| / ceiling (see the bound below), grows with every chunk:
    # past the tolerance the sum is given up (20 positives under one cause took 11.5 s of subsets to refuse).
    log_off = q.leak_off + np.logaddexp(log_q, log_p + q.log_1mw).sum(axis=1)      # (k,) log P(f off | negatives)
    hard = q.hard
    ceiling = float(np.min(-np.expm1(log_off[hard]))) if hard.any() else 1.0
    ceiling *= math.exp(float(np.maximum(q.close_on, q.close_off)[~hard].sum()))
    floor_per_size = 2.0 * _EPS * (k + 8.0) / ceiling if ceiling > 0.0 else math.inf
    seen = 0.0
    for lo in range(0, 1 << k, chunk):
        subset = np.arange(lo, min(lo + chunk, 1 << k))
        bits = ((subset[:, None] >> shifts) & 1).astype(np.float64)
        log_b = _subset_sums(bits, q.log_1mw)             # (c, r) log P(d cannot switch on any positive in S)
        log_g = np.logaddexp(log_q, log_p + log_b)        # (c, r) log P(S all off | d's part)
        term = _subset_sums(bits, inside)[:, 0] + log_g.sum(axis=1)
        if soft:
            term += _subset_sums(1.0 - bits, outside)[:, 0]
        finite = term[np.isfinite(term)]
        if len(finite):
            worst = max(worst, float(-finite.min()))
        size = np.exp(term)
        signed = np.where(((bits @ flips) if soft else bits.sum(axis=1)) % 2 == 1, -size, size)
        terms[subset] = signed
        seen += float(np.add.reduce(size))
        if floor_per_size * seen > tolerance:
            return 0.0, numer, numer_no, fnum, floor_per_size * seen
        alive = np.isfinite(log_g)                        # where g = 0 the term is 0 anyway
        with np.errstate(invalid="ignore"):
            rho = np.where(alive, np.exp(log_p + log_b - np.where(alive, log_g, 0.0)), 0.0)
            rho_no = np.where(alive, np.exp(log_q - np.where(alive, log_g, 0.0)), 0.0)
        numer += signed @ rho
        numer_no += signed @ rho_no
        if fe is not None and len(fe.rows):
            lg = log_g[:, fe.column]
            ok = np.isfinite(lg)
            with np.errstate(invalid="ignore"):
                log_h = np.where(ok, np.logaddexp(q.plus_q[fe.column], q.plus_p[fe.column] + log_b[:, fe.column]
                                                  + fe.log_1mw) - np.where(ok, lg, 0.0), 0.0)
            fnum += signed @ np.exp(np.add.reduceat(log_h, fe.starts, axis=1))
    total = math.fsum(terms.tolist())
    magnitude = float(np.abs(terms).sum())
    if not total > 0.0:
        return 0.0, numer, numer_no, fnum, math.inf
    # each term carries a relative rounding of about eps * (|log term| + k): over P(e), the sum's error is at most
    # that times the terms' total size (measured: 100 to 10,000 times the error seen, so a safe side to err on)
    bound = 2.0 * _EPS * (worst + k + 8.0) * magnitude / total
    return math.log(total), numer / total, numer_no / total, fnum / total, bound


# ---------------------------------------------------------------------------------
# The dynamic programme over switched-on sets
# ---------------------------------------------------------------------------------


def _switch(v: np.ndarray, bit: int, log_w: float, log_1mw: float) -> np.ndarray:
    """Forward: positive ``bit`` switched on with probability w (rows of log vectors over states)."""
    v3 = v.reshape(v.shape[0], -1, 2, 1 << bit)
    out = np.empty_like(v3)
    np.logaddexp(v3[:, :, 1, :], log_w + v3[:, :, 0, :], out=out[:, :, 1, :])
    np.add(v3[:, :, 0, :], log_1mw, out=out[:, :, 0, :])
    return out.reshape(v.shape)


def _switch_back(b: np.ndarray, bit: int, log_w: float, log_1mw: float) -> np.ndarray:
    """Backward (the transpose of :func:`_switch`)."""
    b3 = b.reshape(b.shape[0], -1, 2, 1 << bit)
    out = np.empty_like(b3)
    out[:, :, 1, :] = b3[:, :, 1, :]
    np.logaddexp(log_1mw + b3[:, :, 0, :], log_w + b3[:, :, 1, :], out=out[:, :, 0, :])
    return out.reshape(b.shape)


def _open(v: np.ndarray, off: float, on: float) -> np.ndarray:
    """A new top bit, set by its leak alone (log)."""
    return np.concatenate([v + off, v + on], axis=1)


def _unopen(b: np.ndarray, off: float, on: float) -> np.ndarray:
    """Backward: the top bit summed out under its leak (log)."""
    half = b.shape[1] // 2
    return np.logaddexp(off + b[:, :half], on + b[:, half:])


def _close(v: np.ndarray, bit: int, on: float = 0.0, off: float = -np.inf) -> np.ndarray:
    """Drop ``bit`` (no later cause can switch it): its states weighed ``on`` and ``off`` (logs) and added. A
    positive keeps the states where it is on; a soft answer weighs both by its likelihoods."""
    v4 = v.reshape(v.shape[0], -1, 2, 1 << bit)
    if off == -np.inf:
        kept = v4[:, :, 1, :] if on == 0.0 else on + v4[:, :, 1, :]
        return kept.reshape(v.shape[0], -1)
    return np.logaddexp(on + v4[:, :, 1, :], off + v4[:, :, 0, :]).reshape(v.shape[0], -1)


def _unclose(b: np.ndarray, bit: int, on: float = 0.0, off: float = -np.inf) -> np.ndarray:
    """Backward (the transpose of :func:`_close`): ``bit`` put back, each of its states weighed (for a positive, a
    state with it off cannot reach the evidence: log 0)."""
    rows = b.shape[0]
    out = np.empty((rows, b.shape[1] // (1 << bit), 2, 1 << bit))
    back = b.reshape(rows, -1, 1 << bit)
    np.add(back, on, out=out[:, :, 1, :])
    np.add(back, off, out=out[:, :, 0, :])
    return out.reshape(rows, -1)


@dataclass(frozen=True, eq=False)
class _Schedule:
    """The DP's order over a group's parent causes, and which positives are open at each step.

    A positive is *open* from its first parent in the order (before it, only
    its leak can have switched it on: a factor apart) to its last (after
    it, only its "on" states can still meet the evidence). The state at a
    step is the set of open positives switched on, so its size is
    ``2^open``, not ``2^k``; the order is chosen greedily to keep few open.
    """

    order: tuple[int, ...]                                   # dplus positions, in processing order
    opens: tuple[tuple[int, ...], ...]                       # per step: positives opened before it (new top bits)
    closes: tuple[tuple[int, ...], ...]                      # per step: bits closed after it, highest first
    closing: tuple[tuple[int, ...], ...]                     # per step: the positives of those bits
    live: tuple[tuple[int, ...], ...]                        # per step: the open positives, bit 0 first
    switches: tuple[tuple[tuple[int, float, float], ...], ...]  # per step: (bit, log w, log (1 - w))
    idle: tuple[int, ...]                                    # positives with no parent here: their leak alone
    # Not an order but its floor (``_schedule_within``): one step, the positives of the cause with the most,
    # open at once in any order; set where even that passes the budget, so no order is planned
    floor: bool = False

    @property
    def sizes(self) -> np.ndarray:
        # past _HUGE_BITS open positives a state is past any budget: priced as that many (a float holds 2^1023)
        return np.array([2.0 ** min(len(live), _HUGE_BITS) for live in self.live])

    @property
    def widest(self) -> tuple[int, ...]:
        return max(self.live, key=len, default=())

    @property
    def step_of(self) -> np.ndarray:
        out = np.empty(len(self.order), dtype=np.int64)
        out[list(self.order)] = np.arange(len(self.order))
        return out


def _schedule_within(q: _Query, memory_budget: int) -> _Schedule:
    """``_schedule``, or its floor where the DP could not fit the budget whatever its order: a cause's positive
    children are all open at its step, so the cause with the most of them bounds every order's widest state.
    Planning an order costs about ``k^2 r`` set operations (200 positives under 600 shared causes: 13 s to
    refuse); the floor costs one count."""
    edge = q.log_w > -np.inf
    if q.r:
        j = int(np.add.reduce(edge, axis=0).argmax())
        widest = tuple(np.flatnonzero(edge[:, j]).tolist())
        if 6 * (1 << len(widest)) * _BYTES > memory_budget:
            return _Schedule((j,), (widest,), ((),), ((),), (widest,), ((),), (), floor=True)
    return _schedule(q)


def _schedule(q: _Query) -> _Schedule:
    """Greedy: next, the positive whose remaining parents open the fewest new positives; its own parents first."""
    edge = q.log_w > -np.inf
    children = [tuple(np.flatnonzero(edge[:, j]).tolist()) for j in range(q.r)]
    causes = [set(np.flatnonzero(edge[i]).tolist()) for i in range(q.k)]
    idle = tuple(i for i in range(q.k) if not causes[i])
    done: set[int] = set()
    opened: set[int] = set()
    closed = set(idle)
    live: list[int] = []
    order, opens, closes, closing, lives, switches = [], [], [], [], [], []
    while len(closed) < q.k:
        def score(i: int) -> tuple[int, int, int]:
            rest = causes[i] - done
            touched = set().union(*(children[j] for j in rest)) | {i}
            return (len(live) + len(touched - opened), len(rest), i)

        pick = min((i for i in range(q.k) if i not in closed), key=score)
        for j in sorted(causes[pick] - done, key=lambda j: (len(children[j]), j)):
            new = tuple(i for i in children[j] if i not in opened)
            opened.update(new)
            live.extend(new)
            order.append(j)
            opens.append(new)
            lives.append(tuple(live))
            switches.append(tuple((live.index(i), float(q.log_w[i, j]), float(q.log_1mw[i, j])) for i in children[j]))
            done.add(j)
            ending = sorted((live.index(i) for i in children[j] if causes[i] <= done), reverse=True)
            closes.append(tuple(ending))
            closing.append(tuple(live[bit] for bit in ending))
            for bit in ending:
                closed.add(live.pop(bit))
    return _Schedule(tuple(order), tuple(opens), tuple(closes), tuple(closing), tuple(lives), tuple(switches), idle)


def _dp(q: _Query, fe: _Tilts | None, plan: _Schedule, memory_budget: int,
        soft_out: dict[int, tuple[float, float]] | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """(log P(positives | negatives), posteriors of dplus present and absent, tilt ratios of the findings, error
    bound). With ``soft_out``, each softly answered finding's P(yes | evidence) and P(no | evidence) go there:
    its two states' shares where it closes, from the forward vector just before and the backward one after."""
    v = np.zeros((1, 1))
    alphas = []
    kept: dict[int, np.ndarray] = {}     # a soft answer's forward vector just before it closes
    for t, j in enumerate(plan.order):
        for i in plan.opens[t]:
            v = _open(v, q.leak_off[i], q.leak_on[i])
        alphas.append(v[0])
        present = v
        for bit, lw, l1w in plan.switches[t]:
            present = _switch(present, bit, lw, l1w)
        v = np.logaddexp(q.plus_q[j] + v, q.plus_p[j] + present)
        for bit, i in zip(plan.closes[t], plan.closing[t]):
            if soft_out is not None and q.close_off[i] > -np.inf:
                kept[i] = v
            v = _close(v, bit, q.close_on[i], q.close_off[i])
    log_bits = float(v[0, 0])
    log_e = log_bits
    if plan.idle:   # positives with no parent here: their leak alone, weighed as they close
        idle = list(plan.idle)
        log_e += float(np.logaddexp(q.close_on[idle] + q.leak_on[idle], q.close_off[idle] + q.leak_off[idle]).sum())
    if log_e == -np.inf:
        return log_e, np.zeros(q.r), np.zeros(q.r), np.zeros(0), 0.0
    if soft_out is not None:
        for i in plan.idle:   # its leak alone: a leak, b (1 - leak)
            if q.close_off[i] > -np.inf:
                on, off = q.close_on[i] + q.leak_on[i], q.close_off[i] + q.leak_off[i]
                both = np.logaddexp(on, off)
                soft_out[int(q.positive[i])] = (float(np.exp(on - both)), float(np.exp(off - both)))
    betas: list[np.ndarray] = []
    b = np.zeros((1, 1))
    joint = np.empty(q.r)
    joint_no = np.empty(q.r)   # the absent branch, summed in its own right: 1 - P(yes) loses its digits near 1
    for t in reversed(range(len(plan.order))):
        j = plan.order[t]
        for bit, i in zip(reversed(plan.closes[t]), reversed(plan.closing[t])):
            if i in kept and soft_out is not None:
                v4, b3 = kept[i].reshape(-1, 2, 1 << bit), b.reshape(-1, 1 << bit)
                on = q.close_on[i] + _logsumexp((v4[:, 1, :] + b3).reshape(-1))
                off = q.close_off[i] + _logsumexp((v4[:, 0, :] + b3).reshape(-1))
                soft_out[int(q.positive[i])] = (float(np.exp(on - log_bits)), float(np.exp(off - log_bits)))
            b = _unclose(b, bit, q.close_on[i], q.close_off[i])
        betas.append(b[0])
        tb = b
        for bit, lw, l1w in plan.switches[t]:
            tb = _switch_back(tb, bit, lw, l1w)
        joint[j] = q.plus_p[j] + _logsumexp(alphas[t] + tb[0])
        joint_no[j] = q.plus_q[j] + _logsumexp(alphas[t] + b[0])
        b = np.logaddexp(q.plus_q[j] + b, q.plus_p[j] + tb)
        for i in reversed(plan.opens[t]):
            b = _unopen(b, q.leak_off[i], q.leak_on[i])
    betas.reverse()
    ratios = np.zeros(0)
    if fe is not None:
        ratios = _dp_findings(q, fe, plan, alphas, betas, log_bits, memory_budget)
    bound = 16.0 * _EPS * (q.r + q.k + 2) * (1.0 + abs(log_e))
    return log_e, np.exp(joint - log_bits), np.exp(joint_no - log_bits), ratios, bound


def _dp_findings(q: _Query, fe: _Tilts, plan: _Schedule, alphas: list[np.ndarray], betas: list[np.ndarray],
                 log_bits: float, memory_budget: int) -> np.ndarray:
    """E[prod over f's parents here of (1 - w)^present | evidence] for each finding with such parents.

    Each finding's row joins the sweep at its first parent and leaves after
    its last; in between the present branch of its parents is tilted by
    (1 - w). A row is held as its ratio to the untilted forward vector, a
    number in [0, 1] per state: every step is then a convex mixing with
    weights taken once from the (log-space) forward vectors, shared by all
    rows, in plain arithmetic; on leaving, the ratio is averaged under the
    posterior over states. Non-negative terms throughout, and no underflow
    however small P(evidence) is.
    """
    h = len(fe.rows)
    out = np.empty(h)
    if not h:
        return out
    step = plan.step_of[fe.column]
    first, last = np.minimum.reduceat(step, fe.starts), np.maximum.reduceat(step, fe.starts)
    owner = np.repeat(np.arange(h), np.diff(np.append(fe.starts, len(step))))
    room = max(memory_budget - _dp_need(plan, True), 0)
    group = int(max(1, min(h, room // (4 * (1 << len(plan.widest)) * _BYTES))))
    by_first = np.argsort(first, kind="stable")
    for g0 in range(0, h, group):
        members = by_first[g0:g0 + group]
        slot = np.full(h, -1)
        slot[members] = np.arange(len(members))
        mine = slot[owner] >= 0
        tilt = np.ones((len(members), len(plan.order)))      # (member, step) -> 1 - w of its parent there
        tilt[slot[owner[mine]], step[mine]] = np.exp(fe.log_1mw[mine])
        m_first, m_last = first[members], last[members]
        ratio = np.empty((0, 1))
        active = np.zeros(0, dtype=np.int64)                 # member slots of the rows, in order
        for t in range(int(m_first.min()), int(m_last.max()) + 1):
            j = plan.order[t]
            joining = np.flatnonzero(m_first == t)
            if len(active):
                for _ in plan.opens[t]:
                    ratio = np.concatenate([ratio, ratio], axis=1)   # a new bit, set by its leak alone
            if len(joining):
                fresh = np.ones((len(joining), len(alphas[t])))
                ratio = np.concatenate([ratio, fresh]) if len(active) else fresh
                active = np.concatenate([active, joining])
            if not len(active):
                continue
            before = alphas[t][None, :]
            present = ratio.copy()
            for bit, lw, l1w in plan.switches[t]:
                after = _switch(before, bit, lw, l1w)
                a3, b3 = before.reshape(-1, 2, 1 << bit), after.reshape(-1, 2, 1 << bit)
                keep, gain = _shares(a3[:, 1, :], lw + a3[:, 0, :], b3[:, 1, :])
                p3 = present.reshape(len(active), -1, 2, 1 << bit)
                on = p3[:, :, 1, :]
                on *= keep                                   # in place: rows are the bulk of the work
                on += gain * p3[:, :, 0, :]
                before = after
            nxt = np.logaddexp(q.plus_q[j] + alphas[t], q.plus_p[j] + before[0])
            stay, move = _shares(q.plus_q[j] + alphas[t], q.plus_p[j] + before[0], nxt)
            ratio *= stay
            present *= move
            present *= tilt[active, t][:, None]
            ratio += present
            leaving = m_last[active] == t
            if leaving.any():
                weight = np.exp(nxt + betas[t] - log_bits)    # the posterior over switched-on sets after this step
                out[members[active[leaving]]] = ratio[leaving] @ weight
                ratio, active = ratio[~leaving], active[~leaving]
            if len(active):
                for bit, i in zip(plan.closes[t], plan.closing[t]):
                    if q.close_off[i] == -np.inf:   # a positive: its "on" states go on
                        ratio = _close(ratio, bit)
                        nxt = _close(nxt[None, :], bit, q.close_on[i])[0]
                        continue
                    # a soft answer: each state's ratio becomes the two states' ratios, mixed as their weights mix
                    v4 = nxt.reshape(-1, 2, 1 << bit)
                    after = np.logaddexp(q.close_on[i] + v4[:, 1, :], q.close_off[i] + v4[:, 0, :])
                    w_on, w_off = _shares(q.close_on[i] + v4[:, 1, :], q.close_off[i] + v4[:, 0, :], after)
                    r4 = ratio.reshape(len(active), -1, 2, 1 << bit)
                    ratio = (r4[:, :, 1, :] * w_on + r4[:, :, 0, :] * w_off).reshape(len(active), -1)
                    nxt = after.reshape(-1)
    return out


def _shares(x: np.ndarray, y: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(x - total) and exp(y - total), where total = logaddexp(x, y): the two parts' shares (1, 0 where both are 0)."""
    alive = total > -np.inf
    safe = np.where(alive, total, 0.0)
    return np.where(alive, np.exp(x - safe), 1.0), np.where(alive, np.exp(y - safe), 0.0)


# ---------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------


def _solve(net: BipartiteNoisyOr, q: _Query, findings: np.ndarray | None, method: str, memory_budget: int,
           tolerance: float, soft_out: dict[int, tuple[float, float]] | None = None
           ) -> tuple[float, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None, str, float]:
    """(log P(evidence), every cause's posterior present and absent, P(f = yes | e) and P(f = no | e) or None,
    method, error bound): the one rule. With ``soft_out``, the softly answered findings' own P(yes | e) and
    P(no | e) go there: read off the DP, which their groups then take.

    Each group of positives sharing parents is answered on its own (they
    are independent given the negatives); every group's plan is priced
    before any group's work starts.
    """
    fe = None if findings is None else _finding_edges(net, q, findings)
    groups = _groups(q)
    tilts = [None if fe is None else fe.within(np.searchsorted(q.dplus, g.dplus)) for g in groups]
    schedules = [_schedule_within(g, memory_budget) for g in groups]
    plans = [_choose(net, g, "dp" if soft_out is not None and not g.hard.all() else method, memory_budget, t, p)
             for g, t, p in zip(groups, tilts, schedules)]
    post = np.exp(q.log_p)
    absent = np.exp(q.log_q)
    log_e = q.log_negatives
    # P(f = no | e) = exp(constant) * product over groups of the tilt ratios, kept as a sign and a log
    log_no = None if fe is None else fe.constant.copy()
    sign = None if fe is None else np.ones(len(log_no))
    ran: set[str] = set()
    bound = 0.0
    for g, t, plan, schedule in zip(groups, tilts, plans, schedules):
        if not _possible(g):
            # Told apart before any sum: Quickscore's alternating sum cancels to zero on impossible evidence and on
            # possible evidence alike
            raise _impossible(net, q.positive[q.hard], q.negative)
        answer = None
        for name in plan:
            answer = (_quickscore(g, t, memory_budget, tolerance) if name == "quickscore"
                      else _dp(g, t, schedule, memory_budget, soft_out))
            if name == "dp" or math.isfinite(answer[-1]) and answer[-1] <= tolerance:   # the DP's rounding is tiny
                ran.add(name)
                break
            if method == "quickscore":
                raise PrecisionError(answer[-1], tolerance)
        else:   # Quickscore alone fitted and its sum cancelled: the exact DP needs more than the budget
            need = _dp_need(schedule, t is not None)
            raise IntractableError(net.name, [net.finding_name(int(f)) for f in g.positive[list(schedule.widest)]],
                                   need, memory_budget, at_least=schedule.floor,
                                   advice="fewer positive findings (answer the query in parts, or ask fewer), or a "
                                          "larger memory_budget: Quickscore, which fits, cancels here "
                                          f"(its error could reach {answer[-1]:.3g} or more)")
        if answer is None:   # unreachable: every plan holds a method
            raise KneeBayesError("no exact method answered")
        log_pos, group_post, group_absent, ratios, group_bound = answer
        if log_pos == -np.inf:
            raise _impossible(net, q.positive[q.hard], q.negative)
        log_e += log_pos
        post[g.dplus] = group_post
        absent[g.dplus] = group_absent
        bound += group_bound
        if t is not None and log_no is not None and sign is not None:
            with np.errstate(divide="ignore"):
                log_no[t.rows] += np.log(np.abs(ratios))
            sign[t.rows] *= np.sign(ratios)
    probs = None
    if log_no is not None and sign is not None:
        size = np.exp(log_no)
        # -expm1 keeps the digits of a small P(f = yes); a Quickscore ratio a rounding below 0 is honoured as is
        probs = (np.where(sign > 0, -np.expm1(log_no), 1.0 + size), np.where(sign > 0, size, 0.0))
    name = "+".join(sorted(ran)) if ran else "closed_form"
    return log_e, post, absent, probs, name, bound


def _check_method(method: object) -> None:
    if method not in METHODS:
        raise SettingError(f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {quote(method)}")


def _check_tolerance(tolerance: object) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float, np.floating)) or not tolerance > 0:
        raise SettingError(f"tolerance must be a positive number, got {quote(tolerance)}")
    return float(tolerance)


def posterior_batch(net: BipartiteNoisyOr,
                    rows: Sequence[tuple[Any, ...]], *,
                    method: Method = "auto", memory_budget: int = MEMORY_BUDGET,
                    tolerance: float = TOLERANCE) -> BipartiteBatch:
    """Posteriors for several evidence rows, each ``(positive findings, negative findings)``, optionally followed by
    the soft answers on findings and the answers on causes (see :func:`posterior`), stacked.

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01, 0.0], [[0, 1], [1]], [[0.8, 0.5], [0.9]])
    >>> batch = posterior_batch(net, [([0], []), ([], [1])])
    >>> batch.posterior.shape, batch.method
    ((2, 2), ('dp', 'closed_form'))
    >>> round(float(batch[1].posterior[1]), 6)    # 0.2 * 0.1 / (0.8 + 0.02)
    0.02439
    """
    memory_budget = check_memory_budget(memory_budget)
    tolerance = _check_tolerance(tolerance)
    _check_method(method)
    n = net.n_causes
    post = np.empty((len(rows), n))
    absent = np.empty((len(rows), n))
    log_e = np.empty(len(rows))
    bounds = np.empty(len(rows))
    methods = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") or len(row) not in (2, 3, 4):
            raise EvidenceError(f"evidence row {i} must be a pair (positive findings, negative findings), or those "
                                f"and the soft answers (and the causes' answers), got {quote(row)}")
        q = _prepare(net, *row)
        log_e[i], post[i], absent[i], _, ran, bounds[i] = _solve(net, q, None, method, memory_budget, tolerance)
        methods.append(ran)
    return BipartiteBatch(post, log_e, tuple(methods), bounds, absent)


def posterior(net: BipartiteNoisyOr, positive: Sequence[int], negative: Sequence[int] = (),
              soft: Mapping[int, tuple[float, float]] | None = None, *,
              causes: Mapping[int, tuple[float, float]] | None = None, method: Method = "auto",
              memory_budget: int = MEMORY_BUDGET, tolerance: float = TOLERANCE) -> BipartiteResult:
    """P(cause = yes | evidence) for every cause, and log P(evidence); exact.

    ``positive`` and ``negative`` are finding indices observed yes and no;
    ``soft`` maps a finding index to its soft answer, likelihoods ``(a, b)``
    of yes and no, both above 0: the evidence takes ``a P(yes | causes) + b
    P(no | causes)``, so P(evidence) is scaled by them. A soft answer costs
    what a positive costs (one more finding open in either method).
    ``causes`` maps a cause index to its answer's likelihoods of yes and no
    (``(1, 0)`` answers yes), weighed into its prior in log space.
    ``method`` is ``"auto"``, ``"quickscore"`` or ``"dp"`` (see the module
    docstring); ``memory_budget`` bounds the ``2^k``-sized work in bytes;
    ``tolerance`` is the largest estimated error a Quickscore answer may
    carry (past it ``"auto"`` runs the DP, and ``"quickscore"`` raises
    :class:`PrecisionError`).

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01], [[0, 1]], [[0.8, 0.5]])
    >>> r = posterior(net, positive=[0])
    >>> [round(p, 4) for p in r.posterior.tolist()], round(math.exp(r.log_evidence), 6)
    ([0.4558, 0.6042], 0.18028)
    >>> soft = posterior(net, [], soft={0: (0.9, 0.3)})    # a witness three times likelier to say yes if it is
    >>> round(math.exp(soft.log_evidence), 6), round(0.9 * 0.18028 + 0.3 * (1 - 0.18028), 6)
    (0.408168, 0.408168)
    """
    return posterior_batch(net, [(positive, negative, soft, causes)], method=method, memory_budget=memory_budget,
                           tolerance=tolerance)[0]


def finding_probabilities(net: BipartiteNoisyOr, positive: Sequence[int], negative: Sequence[int] = (),
                          findings: Sequence[int] | None = None, *, soft: Mapping[int, tuple[float, float]] | None = None,
                          causes: Mapping[int, tuple[float, float]] | None = None, method: Method = "auto",
                          memory_budget: int = MEMORY_BUDGET,
                          tolerance: float = TOLERANCE) -> FindingProbabilities:
    """P(f = yes | evidence) for unobserved findings (every one when ``findings`` is None); exact, vectorised.

    ``soft`` and ``causes`` as in :func:`posterior`. A softly answered
    finding may be asked too: its two states' shares are read off the DP
    (which its group then takes) where its answer closes, each to its own
    digits, at no query more.

    ``P(f = no, e)`` is ``e`` with ``f`` one more negative: outside the
    positives' parents that is a product of closed forms, and inside them a
    tilt of those parents' factors, evaluated for every finding in the same
    pass over Quickscore's subsets (one matrix product) or the DP's sweep.

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01, 0.0], [[0, 1], [1]], [[0.8, 0.5], [0.9]])
    >>> fp = finding_probabilities(net, positive=[0])
    >>> fp.findings.tolist(), [round(p, 6) for p in fp.probability.tolist()]
    ([1], [0.543754])
    """
    memory_budget = check_memory_budget(memory_budget)
    tolerance = _check_tolerance(tolerance)
    _check_method(method)
    q = _prepare(net, positive, negative, soft, causes)
    observed = np.union1d(q.positive[q.hard], q.negative)
    softly = q.positive[~q.hard]
    if findings is None:
        wanted = np.setdiff1d(np.arange(net.n_findings), observed)
    else:
        wanted = _check_ids(net, findings, "requested")
        seen = np.intersect1d(wanted, observed)
        if len(seen):
            raise EvidenceError(f"finding {quote(net.finding_name(int(seen[0])))} is observed already; "
                                "ask only for unobserved or softly answered findings")
    asked_soft = np.isin(wanted, softly)
    soft_out: dict[int, tuple[float, float]] | None = {} if asked_soft.any() else None
    log_e, _, _, probs, ran, bound = _solve(net, q, wanted[~asked_soft], method, memory_budget, tolerance, soft_out)
    yes, no = np.empty(len(wanted)), np.empty(len(wanted))
    if probs is not None:
        yes[~asked_soft], no[~asked_soft] = probs
    if soft_out is not None:
        yes[asked_soft], no[asked_soft] = np.array([soft_out[int(f)] for f in wanted[asked_soft]]).T
    return FindingProbabilities(wanted, yes, log_e, ran, bound, no)
