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
than a minute given 30 positives that keep 14 open at once: past the
default work limit (below).

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

**Work limit.** The memory budget bounds a state, not the time: 17
positives open over 600 causes fit 1 GiB and take about 3e9 moves of
the DP, most of a minute. So each method's work is priced
too, in steps of about a nanosecond (fitted to timed queries, each within
2x of the time: ``_DP_NS`` and the rest), the DP's by its states and
moves (finding rows included), Quickscore's by its subsets times its
columns. A method whose work passes ``work_limit`` steps
(:data:`~kneebayes.settings.WORK_LIMIT`, 1e9 by default, about a second
here; ``math.inf`` lifts it) is not tried, and a query whose groups'
first methods pass it together is refused: an
:class:`~kneebayes.errors.IntractableError` (``limit="work_limit"``)
names the positive findings (the costliest group's first), the steps and
the limit, before any work. Where Quickscore, within the limit, cancels
and the DP would pass it, the DP's work is the error. A refusal's steps
are the cheapest method's, so a limit that large lets it run.
:func:`plan_posterior` and :func:`plan_findings` price a query without
answering it (:attr:`Planned.work`); a batch is planned whole before any
row is answered. ``docs/engine.md`` has the positives each shape of
network affords.

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
from ..settings import MEMORY_BUDGET, WORK_LIMIT, check_memory_budget, check_work_limit
from .bipartite_dp import Schedule, dp, dp_bytes, dp_need, schedule_within
from .bipartite_evidence import (BYTES, HUGE_BITS, FindingEdges, Query, Tilts, answered_no, check_ids, finding_edges,
                                 impossible, positive_groups, possible, prepare)
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
    "Planned",
    "plan_posterior",
    "plan_findings",
    "answer",
    "METHODS",
    "TOLERANCE",
]

Method = Literal["auto", "quickscore", "dp"]

#: The ``method`` values every entry point takes.
METHODS: tuple[str, ...] = ("auto", "quickscore", "dp")

#: The largest estimated absolute error a Quickscore answer may carry (a tenth of the 1e-9 promised).
TOLERANCE = 1e-10

# How "auto" chooses between the methods, in elementwise steps: the DP keeps the digits of a tiny chance where
# Quickscore's sum keeps 1e-10 of its largest term, so a numpy call is priced low, and Quickscore is taken only where
# it looks clearly cheaper (its work is lost when its sum cancels). These choose, but are no clock: see the next.
_QS_WORK = 6.0                   # elementwise passes per (subset, parent cause) in Quickscore
_DP_WORK = 5.0                   # per (state, switch) in the DP, forward plus backward: logaddexp is dearer
_CALL = 2048.0                   # one numpy call, in elementwise steps: what makes a small DP slower than it looks
_QS_RISK = 4.0                   # how much cheaper Quickscore must look before "auto" risks a sum that may cancel

# What the work limit compares: the method's work in steps of about a nanosecond each, fitted to 90 timed queries
# on QMR-like networks (40 causes x 400 findings, dense; 600 x 4,000, sparse; 10 to 50 positives; 2 cores,
# 2026-12-06), each within 2x of the time measured where it passes 10 ms.
_DP_NS = 15.0                    # per (state, move) in the DP, forward plus backward
_ROW_NS = 2.0                    # per (row, state, move) of a finding's ratios (plain arithmetic on [0, 1])
_DP_STEP_NS = 8e4                # per DP step: its numpy calls (fitted: 83 us)
_ROW_STEP_NS = 2.7e5             # more per step where finding rows are swept (fitted: 356 us in all)
_QS_NS = 130.0                   # per (subset, parent cause or positive) in Quickscore: exp, log1p, logaddexp
_QS_ROW_NS = 25.0                # per (subset, edge or finding asked about) in Quickscore's finding tilts


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


def _price(q: Query, plan: Schedule, fe: Tilts | None, soft_sums: int = 0
           ) -> tuple[dict[str, int], dict[str, float], dict[str, float]]:
    """Each method's memory (bytes), work (steps of about a nanosecond: what the work limit compares) and price
    (what "auto" chooses by) on group ``q``; ``soft_sums``: the soft answers whose own chances take one more
    Quickscore sum each where Quickscore answers."""
    size = 2.0 ** min(q.k, HUGE_BITS)   # subsets of the positives (priced as a float: see HUGE_BITS)
    per_step = plan.sizes * (np.array([len(s) for s in plan.switches]) + 2.0)
    states = 2.0 * float(per_step.sum())            # the DP's (state, move) pairs, forward plus backward
    rows = 0.0                                      # its findings' (row, state, move) triples
    qs_extra = 0
    if fe is not None and len(fe.rows):
        # Quickscore adds a column per edge into the group; the DP sweeps each finding's row over its steps
        qs_extra = len(fe.column) + len(fe.rows)
        if not plan.floor:   # a floor has no order to sweep along
            step = plan.step_of[fe.column]
            first, last = np.minimum.reduceat(step, fe.starts), np.maximum.reduceat(step, fe.starts)
            reach = np.concatenate([[0.0], np.cumsum(per_step)])
            rows = 2.0 * float((reach[last + 1] - reach[first]).sum())
    steps = len(plan.order)
    step_ns = _DP_STEP_NS + (_ROW_STEP_NS if fe is not None else 0.0)
    dp_work = math.inf if plan.floor else _DP_NS * states + _ROW_NS * rows + step_ns * steps   # a floor cannot fit
    dp_price = math.inf if plan.floor else _DP_WORK * (states + rows) + _CALL * 10 * steps
    chunks = math.ceil(size * (4 * q.r + q.k + 2 * qs_extra) * BYTES / (16 << 20))
    # each soft answer's own sum, where Quickscore answers, runs over the other positives: half the subsets
    qs_work = (size * (_QS_NS * (q.r + q.k) + _QS_ROW_NS * qs_extra) + _CALL * 30 * chunks) * (1.0 + soft_sums / 2.0)
    qs_price = size * _QS_WORK * (q.r + q.k + qs_extra) + _CALL * 12 * (size // 64 + 1)
    need = {"dp": dp_need(plan, fe is not None), "quickscore": quickscore_bytes(q.k, q.r)}
    return need, {"dp": dp_work, "quickscore": qs_work}, {"dp": dp_price, "quickscore": qs_price}


@dataclass(frozen=True, eq=False)
class _GroupPlan:
    """One group of positives, planned: what it is, the DP's order, the methods to try (cheapest first) and each
    method's memory (bytes) and work (steps)."""

    query: Query
    tilts: Tilts | None
    schedule: Schedule
    methods: tuple[str, ...]
    need: dict[str, int]
    work: dict[str, float]
    soft_sums: int               # its soft answers whose own chances are asked


@dataclass(frozen=True, eq=False)
class _Plan:
    """A query, planned: its groups' plans and the work of the methods each tries first, added."""

    edges: FindingEdges | None
    groups: tuple[_GroupPlan, ...]
    work: float


def _choose(net: BipartiteNoisyOr, q: Query, method: str, memory_budget: int, work_limit: float, fe: Tilts | None,
            plan: Schedule, soft_sums: int = 0) -> _GroupPlan:
    """The methods to try, cheapest first, among those within the memory budget and the work limit (an
    IntractableError naming what passes it if none is); with ``soft_sums`` and "auto" the DP alone where it fits,
    as it reads the soft answers' own chances off at no cost."""
    need, cost, price = _price(q, plan, fe, soft_sums)
    wanted = ["dp", "quickscore"] if method == "auto" else [method]
    fits = [m for m in wanted if need[m] <= memory_budget]
    if not fits:
        smallest = min(wanted, key=lambda m: need[m])
        # the DP's largest state is over the positives open at once; Quickscore's over all of the group's
        clique = q.positive[list(plan.widest)] if smallest == "dp" else q.positive
        raise IntractableError(net.name, [net.finding_name(int(f)) for f in clique], need[smallest], memory_budget,
                               advice="fewer positive findings (answer the query in parts, or ask fewer), "
                                      "or a larger memory_budget", at_least=smallest == "dp" and plan.floor)
    cheap = [m for m in fits if cost[m] <= work_limit]
    if not cheap:
        least = min(fits, key=lambda m: cost[m])
        raise _too_much(net, [q], cost[least], work_limit)
    if soft_sums and method == "auto" and "dp" in cheap:
        cheap = ["dp"]
    # Quickscore's sum may cancel and its work be thrown away: "auto" wants it clearly cheaper before trying it
    cheap.sort(key=lambda m: price[m] * (_QS_RISK if m == "quickscore" else 1.0))
    if "dp" in cheap:            # the DP never fails: nothing to try after it
        cheap = cheap[: cheap.index("dp") + 1]
    return _GroupPlan(q, fe, plan, tuple(cheap), need, cost, soft_sums)


def _too_much(net: BipartiteNoisyOr, groups: Sequence[Query], work: float, work_limit: float,
              advice: str = "") -> IntractableError:
    """The error for a query whose work passes the limit: the positive findings of ``groups``, costliest first."""
    named = [net.finding_name(int(f)) for g in groups for f in g.positive]
    return IntractableError(net.name, named, work, work_limit, limit="work_limit", advice=advice)


def _plan(net: BipartiteNoisyOr, q: Query, findings: np.ndarray | None, method: str, memory_budget: int,
          work_limit: float, soft_asked: Sequence[int] = ()) -> _Plan:
    """Every group of ``q`` planned and priced before any work starts: an IntractableError where a group passes the
    memory budget, or the work of all of them the work limit. ``findings``: those whose chances are asked (None
    for none); ``soft_asked``: the softly answered findings whose own chances are asked."""
    fe = None if findings is None else finding_edges(net, q, findings)
    groups = positive_groups(q)
    asked = set(soft_asked)
    plans = tuple(
        _choose(net, g, method, memory_budget, work_limit, None if fe is None else fe.within(
            np.searchsorted(q.dplus, g.dplus)), schedule_within(g, memory_budget),
            sum(int(f) in asked for f in g.positive[~g.hard]))
        for g in groups)
    work = math.fsum(p.work[p.methods[0]] for p in plans)
    if work > work_limit:
        costliest = sorted(plans, key=lambda p: -p.work[p.methods[0]])
        raise _too_much(net, [p.query for p in costliest], work, work_limit)
    return _Plan(fe, plans, work)


def _solve(net: BipartiteNoisyOr, q: Query, planned: _Plan, method: str, memory_budget: int, work_limit: float,
           tolerance: float, soft_out: dict[int, tuple[float, float]] | None = None
           ) -> tuple[float, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None, str, float]:
    """(log P(evidence), every cause's posterior present and absent, P(f = yes | e) and P(f = no | e) or None,
    method, error bound) of ``q`` as :func:`_plan` planned it: the one rule. With ``soft_out``, the softly
    answered findings' own P(yes | e) and P(no | e) go there: read off the DP, which their groups take where it
    fits ("auto"), else from one more Quickscore sum per such finding, with it answered no (``_soft_shares``).

    Each group of positives sharing parents is answered on its own (they
    are independent given the negatives).
    """
    fe = planned.edges
    post = np.exp(q.log_p)
    absent = np.exp(q.log_q)
    log_e = q.log_negatives
    # P(f = no | e) = exp(constant) * product over groups of the tilt ratios, kept as a sign and a log
    log_no = None if fe is None else fe.constant.copy()
    sign = None if fe is None else np.ones(len(log_no))
    ran: set[str] = set()
    bound = 0.0
    work = planned.work
    for gp in planned.groups:
        g, t, schedule = gp.query, gp.tilts, gp.schedule
        if not possible(g):
            # Told apart before any sum: Quickscore's alternating sum cancels to zero on impossible evidence and on
            # possible evidence alike
            raise impossible(net, q.positive[q.hard], q.negative)
        answer = None
        for name in gp.methods:
            if name == "dp" and gp.methods[0] == "quickscore":   # Quickscore cancelled: the DP's work instead
                work += gp.work["dp"] - gp.work["quickscore"]
                if work > work_limit:
                    raise _cancelled(net, gp, memory_budget, work_limit, answer[-1] if answer else math.inf, work)
            answer = (quickscore(g, t, memory_budget, tolerance) if name == "quickscore"
                      else dp(g, t, schedule, memory_budget, soft_out))
            if name == "dp" or math.isfinite(answer[-1]) and answer[-1] <= tolerance:   # the DP's rounding is tiny
                ran.add(name)
                break
            if method == "quickscore":
                raise PrecisionError(answer[-1], tolerance)
        else:   # Quickscore alone fitted and its sum cancelled: the exact DP needs more than the budget or the limit
            raise _cancelled(net, gp, memory_budget, work_limit, answer[-1] if answer else math.inf)
        if answer is None:   # unreachable: every plan holds a method
            raise KneeBayesError("no exact method answered")
        log_pos, group_post, group_absent, ratios, group_bound = answer
        if log_pos == -np.inf:
            raise impossible(net, q.positive[q.hard], q.negative)
        if gp.soft_sums and name == "quickscore" and soft_out is not None:
            group_bound += _soft_shares(net, gp, log_pos, method, memory_budget, work_limit, tolerance, soft_out)
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


def _cancelled(net: BipartiteNoisyOr, gp: _GroupPlan, memory_budget: int, work_limit: float, bound: float,
               work: float | None = None) -> IntractableError:
    """The error where Quickscore's sum cancels and the exact DP needs more than the budget, or more work than the
    limit (``work``: the query's with the DP, where that passes it)."""
    g, schedule = gp.query, gp.schedule
    why = f"Quickscore, which fits, cancels here (its error could reach {bound:.3g} or more)"
    if gp.need["dp"] > memory_budget:
        return IntractableError(net.name, [net.finding_name(int(f)) for f in g.positive[list(schedule.widest)]],
                                gp.need["dp"], memory_budget, at_least=schedule.floor,
                                advice="fewer positive findings (answer the query in parts, or ask fewer), or a "
                                       f"larger memory_budget: {why}")
    return _too_much(net, [g], gp.work["dp"] if work is None else work, work_limit,
                     advice=f"fewer positive findings (answer the query in parts, or ask fewer), or a larger "
                            f"work_limit: {why}")


def _soft_shares(net: BipartiteNoisyOr, gp: _GroupPlan, log_pos: float, method: str, memory_budget: int,
                 work_limit: float, tolerance: float, soft_out: dict[int, tuple[float, float]]) -> float:
    """Each softly answered finding of group ``gp`` that ``soft_out`` asks for (the group answered by Quickscore,
    ``log_pos`` its log P(positives | negatives)): P(no | e), its likelihood of no times P(e with it answered
    no) over P(e), from one more Quickscore sum over the other positives, into ``soft_out`` with P(yes | e) as
    its complement. Returns the estimated errors of those P(no | e), added.

    P(no | e) is the sum scaled by a known factor, so it carries the sum's own error times that factor: a tiny
    P(no | e) is kept where its sum's digits are few, and one whose sum cancels to about zero reads as 0 when
    the terms' size, so scaled, is within the tolerance. So the sum is not given up early (its tolerance is
    for P(no | e)); it costs at most half the group's own sum, which ended within the tolerance."""
    g = gp.query
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
                raise _cancelled(net, gp, memory_budget, work_limit, error)
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


@dataclass(frozen=True, eq=False)
class Planned:
    """One evidence row checked, folded and priced, not yet answered: :func:`plan_posterior` or
    :func:`plan_findings` makes it, :func:`answer` answers it.

    ``work`` is the steps the answer is planned to take (about a nanosecond
    each on the machine the prices were fitted on; within 2x of the time
    measured): what ``work_limit`` was compared with. Planning is cheap
    beside the answer, and a batch planned row by row before any row is
    answered is refused whole, at once, where one row passes a limit.
    """

    net: BipartiteNoisyOr
    query: Query
    plan: _Plan
    wanted: np.ndarray | None         # the findings asked about (plan_findings), else None
    asked_soft: np.ndarray | None     # which of them are softly answered
    method: str
    memory_budget: int
    work_limit: float
    tolerance: float

    @property
    def work(self) -> float:
        """The steps of work the answer is planned to take."""
        return self.plan.work


def _settings(method: object, memory_budget: object, work_limit: object, tolerance: object
              ) -> tuple[str, int, float, float]:
    _check_method(method)
    return str(method), check_memory_budget(memory_budget), check_work_limit(work_limit), _check_tolerance(tolerance)


def plan_posterior(net: BipartiteNoisyOr, positive: Sequence[int], negative: Sequence[int] = (),
                   soft: Mapping[int, tuple[float, float]] | None = None, *,
                   causes: Mapping[int, tuple[float, float]] | None = None, method: Method = "auto",
                   memory_budget: int = MEMORY_BUDGET, tolerance: float = TOLERANCE,
                   work_limit: float = WORK_LIMIT) -> Planned:
    """:func:`posterior`'s query, checked and priced but not answered (:func:`answer` answers it).

    An IntractableError where it would pass the memory budget or the work
    limit, an EvidenceError where the evidence is bad, as the query itself.

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01], [[0, 1]], [[0.8, 0.5]])
    >>> planned = plan_posterior(net, [0])
    >>> planned.work < 1e6, [round(p, 4) for p in answer(planned).posterior.tolist()]
    (True, [0.4558, 0.6042])
    """
    method, memory_budget, work_limit, tolerance = _settings(method, memory_budget, work_limit, tolerance)
    q = prepare(net, positive, negative, soft, causes)
    return Planned(net, q, _plan(net, q, None, method, memory_budget, work_limit), None, None, method, memory_budget,
                   work_limit, tolerance)


def plan_findings(net: BipartiteNoisyOr, positive: Sequence[int], negative: Sequence[int] = (),
                  findings: Sequence[int] | None = None, *, soft: Mapping[int, tuple[float, float]] | None = None,
                  causes: Mapping[int, tuple[float, float]] | None = None, method: Method = "auto",
                  memory_budget: int = MEMORY_BUDGET, tolerance: float = TOLERANCE,
                  work_limit: float = WORK_LIMIT) -> Planned:
    """:func:`finding_probabilities`' query, checked and priced but not answered (:func:`answer` answers it).

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01, 0.0], [[0, 1], [1]], [[0.8, 0.5], [0.9]])
    >>> plan_posterior(net, [0]).work < plan_findings(net, [0]).work < 1e6
    True
    """
    method, memory_budget, work_limit, tolerance = _settings(method, memory_budget, work_limit, tolerance)
    q = prepare(net, positive, negative, soft, causes)
    observed = np.union1d(q.positive[q.hard], q.negative)
    if findings is None:
        wanted = np.setdiff1d(np.arange(net.n_findings), observed)
    else:
        wanted = check_ids(net, findings, "requested")
        seen = np.intersect1d(wanted, observed)
        if len(seen):
            raise EvidenceError(f"finding {quote(net.finding_name(int(seen[0])))} is observed already; "
                                "ask only for unobserved or softly answered findings")
    asked_soft = np.isin(wanted, q.positive[~q.hard])
    planned = _plan(net, q, wanted[~asked_soft], method, memory_budget, work_limit, wanted[asked_soft].tolist())
    return Planned(net, q, planned, wanted, asked_soft, method, memory_budget, work_limit, tolerance)


def answer(planned: Planned) -> BipartiteResult | FindingProbabilities:
    """The answer of a query :func:`plan_posterior` (a :class:`BipartiteResult`) or :func:`plan_findings` (a
    :class:`FindingProbabilities`) planned."""
    p = planned
    if p.wanted is None or p.asked_soft is None:
        log_e, post, absent, _, ran, bound = _solve(p.net, p.query, p.plan, p.method, p.memory_budget, p.work_limit,
                                                    p.tolerance)
        return BipartiteResult(post, log_e, ran, bound, absent)
    wanted, asked_soft = p.wanted, p.asked_soft
    # the softly answered findings asked about, each filled in by the method that answers its group
    soft_out = {int(f): (math.nan, math.nan) for f in wanted[asked_soft]} if asked_soft.any() else None
    log_e, _, _, probs, ran, bound = _solve(p.net, p.query, p.plan, p.method, p.memory_budget, p.work_limit,
                                            p.tolerance, soft_out)
    yes, no = np.empty(len(wanted)), np.empty(len(wanted))
    if probs is not None:
        yes[~asked_soft], no[~asked_soft] = probs
    if soft_out is not None:
        yes[asked_soft], no[asked_soft] = np.array([soft_out[int(f)] for f in wanted[asked_soft]]).T
    return FindingProbabilities(wanted, yes, log_e, ran, bound, no)


def posterior_batch(net: BipartiteNoisyOr,
                    rows: Sequence[tuple[Any, ...]], *,
                    method: Method = "auto", memory_budget: int = MEMORY_BUDGET,
                    tolerance: float = TOLERANCE, work_limit: float = WORK_LIMIT) -> BipartiteBatch:
    """Posteriors for several evidence rows, each ``(positive findings, negative findings)``, optionally followed by
    the soft answers on findings and the answers on causes (see :func:`posterior`), stacked.

    Every row is planned before any is answered: a row past the memory budget
    or the work limit refuses the batch at once.

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01, 0.0], [[0, 1], [1]], [[0.8, 0.5], [0.9]])
    >>> batch = posterior_batch(net, [([0], []), ([], [1])])
    >>> batch.posterior.shape, batch.method
    ((2, 2), ('dp', 'closed_form'))
    >>> round(float(batch[1].posterior[1]), 6)    # 0.2 * 0.1 / (0.8 + 0.02)
    0.02439
    """
    _settings(method, memory_budget, work_limit, tolerance)
    planned = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__") or len(row) not in (2, 3, 4):
            raise EvidenceError(f"evidence row {i} must be a pair (positive findings, negative findings), or those "
                                f"and the soft answers (and the causes' answers), got {quote(row)}")
        positive, negative, *rest = row
        soft, causes = (list(rest) + [None, None])[:2]
        planned.append(plan_posterior(net, positive, negative, soft, causes=causes, method=method,
                                      memory_budget=memory_budget, tolerance=tolerance, work_limit=work_limit))
    n = net.n_causes
    post = np.empty((len(rows), n))
    absent = np.empty((len(rows), n))
    log_e = np.empty(len(rows))
    bounds = np.empty(len(rows))
    methods = []
    for i, p in enumerate(planned):
        result = answer(p)
        assert isinstance(result, BipartiteResult)  # noqa: S101 - plan_posterior's
        post[i], absent[i] = result.posterior, result.absent
        log_e[i], bounds[i] = result.log_evidence, result.error_bound
        methods.append(result.method)
    return BipartiteBatch(post, log_e, tuple(methods), bounds, absent)


def posterior(net: BipartiteNoisyOr, positive: Sequence[int], negative: Sequence[int] = (),
              soft: Mapping[int, tuple[float, float]] | None = None, *,
              causes: Mapping[int, tuple[float, float]] | None = None, method: Method = "auto",
              memory_budget: int = MEMORY_BUDGET, tolerance: float = TOLERANCE,
              work_limit: float = WORK_LIMIT) -> BipartiteResult:
    """P(cause = yes | evidence) for every cause, and log P(evidence); exact.

    ``positive`` and ``negative`` are finding indices observed yes and no;
    ``soft`` maps a finding index to its soft answer, likelihoods ``(a, b)``
    of yes and no, both above 0: the evidence takes ``a P(yes | causes) + b
    P(no | causes)``, so P(evidence) is scaled by them. A soft answer costs
    what a positive costs (one more finding open in either method).
    ``causes`` maps a cause index to its answer's likelihoods of yes and no
    (``(1, 0)`` answers yes), weighed into its prior in log space.
    ``method`` is ``"auto"``, ``"quickscore"`` or ``"dp"`` (see the module
    docstring); ``memory_budget`` bounds the ``2^k``-sized work in bytes,
    and ``work_limit`` its estimated steps (:attr:`Planned.work`);
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
    result = answer(plan_posterior(net, positive, negative, soft, causes=causes, method=method,
                                   memory_budget=memory_budget, tolerance=tolerance, work_limit=work_limit))
    assert isinstance(result, BipartiteResult)  # noqa: S101 - plan_posterior's
    return result


def finding_probabilities(net: BipartiteNoisyOr, positive: Sequence[int], negative: Sequence[int] = (),
                          findings: Sequence[int] | None = None, *, soft: Mapping[int, tuple[float, float]] | None = None,
                          causes: Mapping[int, tuple[float, float]] | None = None, method: Method = "auto",
                          memory_budget: int = MEMORY_BUDGET, tolerance: float = TOLERANCE,
                          work_limit: float = WORK_LIMIT) -> FindingProbabilities:
    """P(f = yes | evidence) for unobserved findings (every one when ``findings`` is None); exact, vectorised.

    ``soft``, ``causes``, ``memory_budget`` and ``work_limit`` as in
    :func:`posterior`. A softly answered
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
    result = answer(plan_findings(net, positive, negative, findings, soft=soft, causes=causes, method=method,
                                  memory_budget=memory_budget, tolerance=tolerance, work_limit=work_limit))
    assert isinstance(result, FindingProbabilities)  # noqa: S101 - plan_findings'
    return result
