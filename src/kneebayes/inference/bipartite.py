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

Quickscore is ``inference.quickscore``, the DP ``inference.bipartite_dp``;
both read the evidence as ``inference.bipartite_evidence`` checks and
folds it, and this module chooses between them and answers.

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
of 1, that scale entering P(evidence) as a log. A softly answered
finding's own chances are read off the DP where its answer closes, or,
where Quickscore answers, from one more sum with it answered no
(:func:`finding_probabilities`).

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

from ..errors import EvidenceError, IntractableError, KneeBayesError, SettingError, quote
from ..network.bipartite import BipartiteNoisyOr
from ..settings import MEMORY_BUDGET, check_memory_budget
from .bipartite_dp import Schedule, dp, dp_bytes, dp_need, schedule_within
from .bipartite_evidence import (HUGE_BITS, Query, Tilts, answered_no, check_ids, finding_edges, impossible,
                                 positive_groups, possible, prepare)
from .quickscore import quickscore, quickscore_bytes

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

_QS_WORK = 6.0                   # elementwise passes per (subset, parent cause) in Quickscore
_DP_WORK = 5.0                   # per (state, switch) in the DP, forward plus backward: logaddexp is dearer
_CALL = 2048.0                   # one numpy call, in elementwise steps: what makes a small DP slower than it looks
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
# Pricing: memory before anything large is allocated, time to choose
# ---------------------------------------------------------------------------------


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
    need = dp_bytes if method == "dp" else (lambda k, r, _: quickscore_bytes(k, r))
    k = 0
    while need(k + 1, parent_causes, findings) <= memory_budget:
        k += 1
    return k


def _choose(net: BipartiteNoisyOr, q: Query, method: str, memory_budget: int, fe: Tilts | None,
            plan: Schedule) -> list[str]:
    """The methods to try, cheapest first, among those that fit the budget (IntractableError if none)."""
    size = 2.0 ** min(q.k, HUGE_BITS)   # subsets of the positives (priced as a float: see HUGE_BITS)
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
    need = {"dp": dp_need(plan, fe is not None), "quickscore": quickscore_bytes(q.k, q.r)}
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
# Entry points
# ---------------------------------------------------------------------------------


def _solve(net: BipartiteNoisyOr, q: Query, findings: np.ndarray | None, method: str, memory_budget: int,
           tolerance: float, soft_out: dict[int, tuple[float, float]] | None = None
           ) -> tuple[float, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None, str, float]:
    """(log P(evidence), every cause's posterior present and absent, P(f = yes | e) and P(f = no | e) or None,
    method, error bound): the one rule. With ``soft_out``, the softly answered findings' own P(yes | e) and
    P(no | e) go there: read off the DP, which their groups take where it fits ("auto"), else from one more
    Quickscore sum per such finding, with it answered no (``_soft_shares``).

    Each group of positives sharing parents is answered on its own (they
    are independent given the negatives); every group's plan is priced
    before any group's work starts.
    """
    fe = None if findings is None else finding_edges(net, q, findings)
    groups = positive_groups(q)
    tilts = [None if fe is None else fe.within(np.searchsorted(q.dplus, g.dplus)) for g in groups]
    schedules = [schedule_within(g, memory_budget) for g in groups]
    # a group whose soft answers' own chances are asked reads them off the DP at no cost where it fits
    asking = [soft_out is not None and any(int(f) in soft_out for f in g.positive[~g.hard]) for g in groups]
    plans = [_choose(net, g, "dp" if (a and method == "auto" and dp_need(p, t is not None) <= memory_budget)
                     else method, memory_budget, t, p)
             for g, t, p, a in zip(groups, tilts, schedules, asking)]
    post = np.exp(q.log_p)
    absent = np.exp(q.log_q)
    log_e = q.log_negatives
    # P(f = no | e) = exp(constant) * product over groups of the tilt ratios, kept as a sign and a log
    log_no = None if fe is None else fe.constant.copy()
    sign = None if fe is None else np.ones(len(log_no))
    ran: set[str] = set()
    bound = 0.0
    for g, t, plan, schedule, asked in zip(groups, tilts, plans, schedules, asking):
        if not possible(g):
            # Told apart before any sum: Quickscore's alternating sum cancels to zero on impossible evidence and on
            # possible evidence alike
            raise impossible(net, q.positive[q.hard], q.negative)
        answer = None
        for name in plan:
            answer = (quickscore(g, t, memory_budget, tolerance) if name == "quickscore"
                      else dp(g, t, schedule, memory_budget, soft_out))
            if name == "dp" or math.isfinite(answer[-1]) and answer[-1] <= tolerance:   # the DP's rounding is tiny
                ran.add(name)
                break
            if method == "quickscore":
                raise PrecisionError(answer[-1], tolerance)
        else:   # Quickscore alone fitted and its sum cancelled: the exact DP needs more than the budget
            raise _cancelled(net, g, schedule, t is not None, memory_budget, answer[-1])
        if answer is None:   # unreachable: every plan holds a method
            raise KneeBayesError("no exact method answered")
        log_pos, group_post, group_absent, ratios, group_bound = answer
        if log_pos == -np.inf:
            raise impossible(net, q.positive[q.hard], q.negative)
        if asked and name == "quickscore" and soft_out is not None:
            group_bound += _soft_shares(net, g, log_pos, schedule, t is not None, method, memory_budget, tolerance,
                                        soft_out)
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
        # -expm1 keeps the digits of a small P(f = yes); a log above 0, or a Quickscore ratio a rounding below 0,
        # is a probability a hair outside [0, 1]: taken at 1 or 0
        np.minimum(log_no, 0.0, out=log_no)
        size = np.exp(log_no)
        probs = (np.where(sign > 0, -np.expm1(log_no), 1.0), np.where(sign > 0, size, 0.0))
    name = "+".join(sorted(ran)) if ran else "closed_form"
    return log_e, post, absent, probs, name, bound


def _cancelled(net: BipartiteNoisyOr, g: Query, schedule: Schedule, findings: bool, memory_budget: int,
               bound: float) -> IntractableError:
    """The error where only Quickscore fits the budget and its sum cancels: the exact DP's need."""
    return IntractableError(net.name, [net.finding_name(int(f)) for f in g.positive[list(schedule.widest)]],
                            dp_need(schedule, findings), memory_budget, at_least=schedule.floor,
                            advice="fewer positive findings (answer the query in parts, or ask fewer), or a "
                                   "larger memory_budget: Quickscore, which fits, cancels here "
                                   f"(its error could reach {bound:.3g} or more)")


def _soft_shares(net: BipartiteNoisyOr, g: Query, log_pos: float, schedule: Schedule, findings: bool, method: str,
                 memory_budget: int, tolerance: float, soft_out: dict[int, tuple[float, float]]) -> float:
    """Each softly answered finding of group ``g`` that ``soft_out`` asks for (the group answered by Quickscore,
    ``log_pos`` its log P(positives | negatives)): P(no | e), its likelihood of no times P(e with it answered
    no) over P(e), from one more Quickscore sum over the other positives, into ``soft_out`` with P(yes | e) as
    its complement. Returns the estimated errors of those P(no | e), added.

    P(no | e) is the sum scaled by a known factor, so it carries the sum's own error times that factor: a tiny
    P(no | e) is kept where its sum's digits are few, and one whose sum cancels to about zero reads as 0 when
    the terms' size, so scaled, is within the tolerance. So the sum is not given up early (its tolerance is
    for P(no | e)); it costs at most half the group's own sum, which ended within the tolerance."""
    bound = 0.0
    for i in np.flatnonzero(~g.hard).tolist():
        if int(g.positive[i]) not in soft_out:
            continue   # not asked: no sum for it
        folded, log_off = answered_no(g, i)
        log_no = -math.inf
        if folded is not None and possible(folded):   # else answered no, the rest could not all be on: P(no | e) = 0
            # the sum's own error, scaled as the sum is into P(no | e); a sum at or a hair below 0 reads as 0
            log_rest, *_, rest_error = quickscore(folded, None, memory_budget, absolute=True)
            log_no = min(log_off + log_rest - log_pos, 0.0)   # a probability: rounding may land a hair above 1
            error = rest_error * math.exp(log_off - log_pos)
            if not error <= tolerance:
                if method == "quickscore":
                    raise PrecisionError(error, tolerance)
                raise _cancelled(net, g, schedule, findings, memory_budget, error)
            bound += error
        soft_out[int(g.positive[i])] = (float(-math.expm1(log_no)), float(math.exp(log_no)))
    return bound


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
        q = prepare(net, *row)
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
    where its answer closes, each to its own digits, at no query more
    (with ``"auto"`` its group takes the DP where that fits the budget).
    Where Quickscore answers its group (the DP past the budget, or
    ``method="quickscore"``), one more Quickscore sum with it answered no,
    over the group's other positives, gives ``P(no | e)``; ``P(yes | e)`` is
    one less that, exact to the tolerance.

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
    q = prepare(net, positive, negative, soft, causes)
    observed = np.union1d(q.positive[q.hard], q.negative)
    softly = q.positive[~q.hard]
    if findings is None:
        wanted = np.setdiff1d(np.arange(net.n_findings), observed)
    else:
        wanted = check_ids(net, findings, "requested")
        seen = np.intersect1d(wanted, observed)
        if len(seen):
            raise EvidenceError(f"finding {quote(net.finding_name(int(seen[0])))} is observed already; "
                                "ask only for unobserved or softly answered findings")
    asked_soft = np.isin(wanted, softly)
    # the softly answered findings asked about, each filled in by the method that answers its group
    soft_out = {int(f): (math.nan, math.nan) for f in wanted[asked_soft]} if asked_soft.any() else None
    log_e, _, _, probs, ran, bound = _solve(net, q, wanted[~asked_soft], method, memory_budget, tolerance, soft_out)
    yes, no = np.empty(len(wanted)), np.empty(len(wanted))
    if probs is not None:
        yes[~asked_soft], no[~asked_soft] = probs
    if soft_out is not None:
        yes[asked_soft], no[asked_soft] = np.array([soft_out[int(f)] for f in wanted[asked_soft]]).T
    return FindingProbabilities(wanted, yes, log_e, ran, bound, no)
