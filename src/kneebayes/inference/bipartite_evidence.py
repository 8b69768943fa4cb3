"""One evidence row on a bipartite noisy-OR network, checked and folded, as both exact methods read it.

:func:`prepare` checks the answers, folds the negative findings and the
answers on causes into the causes' factors (in logs) and gathers the
positive findings' parent causes into a :class:`Query`; :func:`positive_groups`
splits a query into groups that share no parent cause;
:func:`finding_edges` lays out the findings whose chances are asked, as
tilts of a group's causes. ``inference.bipartite`` holds the methods'
description and the public entry points; ``inference.quickscore`` and
``inference.bipartite_dp`` are the two methods.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import EvidenceError, ImpossibleEvidenceError, quote
from ..network.bipartite import BipartiteNoisyOr

EPS = float(np.finfo(float).eps)
BYTES = 8                        # float64
#: Open positives past which a state is priced as this many: 2^900 bytes is past any budget, and a float
#: holds no more than 2^1023.
HUGE_BITS = 900


@dataclass(frozen=True, eq=False)
class Query:
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
        """How many positives (soft answers on findings included)."""
        return len(self.positive)

    @property
    def r(self) -> int:
        """How many parent causes they have."""
        return len(self.dplus)


@dataclass(frozen=True, eq=False)
class Tilts:
    """Requested findings' edges into one group's parent causes, grouped by finding (ascending)."""

    rows: np.ndarray         # (h,) positions (in the request) of findings with a parent in the group
    starts: np.ndarray       # (h,) first edge of each such finding in the arrays below
    column: np.ndarray       # (e,) position of the edge's cause among the group's parent causes
    log_1mw: np.ndarray      # (e,) log (1 - w)
    first: np.ndarray        # (h,) smallest such position among the finding's parents
    last: np.ndarray         # (h,) largest

    @staticmethod
    def of(owner: np.ndarray, column: np.ndarray, log_1mw: np.ndarray) -> Tilts:
        """From edges listed by ascending ``owner`` (the finding's position in the request)."""
        rows, starts = np.unique(owner, return_index=True)
        if not len(rows):
            empty = np.zeros(0, np.int64)
            return Tilts(empty, empty, empty, np.zeros(0), empty, empty)
        return Tilts(rows, starts, column, log_1mw, np.minimum.reduceat(column, starts),
                      np.maximum.reduceat(column, starts))


@dataclass(frozen=True, eq=False)
class FindingEdges:
    """The requested findings: a closed-form part, and their edges into the positives' parent causes."""

    constant: np.ndarray     # (j,) log of (1 - leak) * prod over parents outside dplus of P(d does not switch f on)
    owner: np.ndarray        # (e,) position in the request of each edge into dplus, ascending
    column: np.ndarray       # (e,) position of the edge's cause in dplus
    log_1mw: np.ndarray      # (e,) log (1 - w)

    def within(self, columns: np.ndarray) -> Tilts:
        """The edges into ``columns`` (ascending dplus positions), renumbered among them."""
        keep = np.isin(self.column, columns)
        return Tilts.of(self.owner[keep], np.searchsorted(columns, self.column[keep]), self.log_1mw[keep])


# ---------------------------------------------------------------------------------
# Evidence: negatives folded into the causes, positives' parents gathered
# ---------------------------------------------------------------------------------


def check_ids(net: BipartiteNoisyOr, ids: object, label: str) -> np.ndarray:
    """``ids`` as an array of finding indices, each a whole number of the network's, none twice; else an
    ``EvidenceError`` naming the bad one (``label``: which findings they are, "positive" or "negative")."""
    if isinstance(ids, np.ndarray) and ids.ndim == 1 and np.issubdtype(ids.dtype, np.integer):
        # an index array (the engine's own requests: 3,800 findings a row of a ranking): checked at once
        arr = ids.astype(np.int64)
        if not len(arr) or (arr.min() >= 0 and arr.max() < net.n_findings and (np.diff(np.sort(arr)) > 0).all()):
            return arr
    values = list(ids) if not isinstance(ids, (str, bytes)) and hasattr(ids, "__iter__") else None
    if values is None:
        raise EvidenceError(f"{label} findings must be a sequence of finding indices, got {quote(ids)}")
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise EvidenceError(f"{label} finding {quote(v)} is not a finding index (a whole number)")
        if not 0 <= int(v) < net.n_findings:
            raise EvidenceError(f"{label} finding {quote(int(v))} does not exist: "
                                f"finding indices run from 0 to {net.n_findings - 1}")
        out.append(int(v))
    arr = np.array(out, dtype=np.int64)
    if len(np.unique(arr)) != len(arr):
        twice = int(np.sort(arr)[np.flatnonzero(np.diff(np.sort(arr)) == 0)[0]])
        raise EvidenceError(f"{label} finding {twice} is listed twice")
    return arr


def edges_of(net: BipartiteNoisyOr, findings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edge positions of ``findings`` and, for each, the position of its finding in ``findings``."""
    lo, hi = net.parent_start[findings], net.parent_start[findings + 1]
    counts = hi - lo
    owner = np.repeat(np.arange(len(findings)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(lo, counts) + offsets, owner


def log1m(x: np.ndarray) -> np.ndarray:
    """log(1 - x), -inf at 1 (no warning)."""
    with np.errstate(divide="ignore"):
        return np.log1p(-x)


def log_or_minus_inf(x: np.ndarray) -> np.ndarray:
    """log x, -inf at 0 (no warning)."""
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
        ids = check_ids(net, list(soft), "soft")
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


def prepare(net: BipartiteNoisyOr, positive: object, negative: object, soft: object = None,
             causes: object = None) -> Query:
    """Check the evidence, fold the negatives and the causes' answers into the causes, gather the positives'
    parents (a soft answer on a finding is one more positive, weighed when it closes)."""
    pos = check_ids(net, positive, "positive")
    neg = check_ids(net, negative, "negative")
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
    edges, _ = edges_of(net, neg)
    log_a = np.bincount(net.parent_index[edges], weights=log1m(net.parent_weight[edges]), minlength=n)
    prior = net.priors
    yes = log_or_minus_inf(prior) + log_a
    no = log1m(prior)
    # A cause's answer weighs its states, in logs (a likelihood ratio of 1e-300 keeps its digits, where a prior
    # reweighed to 1 - 1e-300 would round to 1)
    untouched = log_a == 0.0
    if len(told):
        yes[told] += told_logs[0]
        no[told] += told_logs[1]
        untouched[told] = False
    # a cause with no negative child keeps its prior exactly (log z = 0, not log(p + (1 - p)) rounded)
    log_z = np.where(untouched, 0.0, np.logaddexp(yes, no))
    log_negatives = float(log1m(net.leaks[neg]).sum() + log_z.sum() + soft_scale.sum() + told_scale.sum())
    if log_negatives == -np.inf:
        raise impossible(net, pos, neg)
    log_p, log_q = yes - log_z, no - log_z
    hard = len(pos)
    if len(soft_ids):
        pos = np.concatenate([pos, soft_ids])
    edges, owner = edges_of(net, pos)
    live = net.parent_weight[edges] > 0.0        # a weight-0 edge switches nothing: its cause stays independent
    edges, owner = edges[live], owner[live]
    causes = net.parent_index[edges]
    dplus = np.unique(causes)
    col = np.searchsorted(dplus, causes)
    k, r = len(pos), len(dplus)
    log_w = np.full((k, r), -np.inf)
    log_1mw = np.zeros((k, r))
    log_w[owner, col] = log_or_minus_inf(net.parent_weight[edges])
    log_1mw[owner, col] = log1m(net.parent_weight[edges])
    for a in (log_p, log_q, log_w, log_1mw):
        a.setflags(write=False)
    close_on = np.concatenate([np.zeros(hard), soft_logs[0]]) if len(soft_ids) else np.zeros(hard)
    close_off = np.concatenate([np.full(hard, -np.inf), soft_logs[1]]) if len(soft_ids) else np.full(hard, -np.inf)
    return Query(pos, neg, log_p, log_q, log_negatives, dplus, log_p[dplus], log_q[dplus], log_w, log_1mw,
                  log_or_minus_inf(net.leaks[pos]), log1m(net.leaks[pos]), close_on, close_off)


def possible(q: Query) -> bool:
    """Whether the group's positives can all be on given the negatives: each has a leak, or a parent that may be
    present (given the negatives) and switches it on with some chance. Exact: the causes are independent given
    the negatives, so all the causes that may be present can be present at once, and each positive is then on
    with a chance above zero."""
    can_be = np.isfinite(q.plus_p)[None, :] & np.isfinite(q.log_w)
    able = np.isfinite(q.leak_on) | can_be.any(axis=1)
    return bool(able.all() or (able | ~q.hard).all())   # a soft answer is never impossible


def impossible(net: BipartiteNoisyOr, pos: np.ndarray, neg: np.ndarray) -> ImpossibleEvidenceError:
    """The error for evidence of probability zero, naming the positives ``pos`` and negatives ``neg``."""
    return ImpossibleEvidenceError([(net.finding_name(int(f)), "yes") for f in pos]
                                   + [(net.finding_name(int(f)), "no") for f in neg])


# ---------------------------------------------------------------------------------
# Groups of positives, and the findings asked about
# ---------------------------------------------------------------------------------


def finding_edges(net: BipartiteNoisyOr, q: Query, findings: np.ndarray) -> FindingEdges:
    """The ``findings`` whose chances are asked, laid out for ``q``: each one's closed-form part (its leak, its
    parents outside the positives' parents) and its edges into those parents."""
    edges, owner = edges_of(net, findings)
    cause = net.parent_index[edges]
    log_1mw = log1m(net.parent_weight[edges])
    pos = np.searchsorted(q.dplus, cause)
    inside = (pos < q.r) & (q.dplus[np.minimum(pos, max(q.r - 1, 0))] == cause) if q.r else np.zeros(len(cause), bool)
    # outside dplus a parent is independent a posteriori: P(it does not switch f on) = 1 - p' w = q' + p' (1 - w)
    outside = np.logaddexp(q.log_q[cause], q.log_p[cause] + log_1mw)
    constant = log1m(net.leaks[findings]) + np.bincount(owner[~inside], weights=outside[~inside],
                                                          minlength=len(findings))
    return FindingEdges(constant, owner[inside], pos[inside], log_1mw[inside])


def answered_no(q: Query, i: int) -> tuple[Query | None, float]:
    """``q`` with its ``i``-th positive (a soft answer) taken as answered no instead, weighed by its likelihood
    of no: the query over the other positives, with that finding folded into its parents' factors as a
    negative is; and the log of what the folding took out, its likelihood of no times P(it is off | the
    negatives). None (and -inf) where it cannot be off: a parent present for certain switches it on for certain.

    >>> from kneebayes.network.bipartite import BipartiteNoisyOr
    >>> net = BipartiteNoisyOr.from_parents([0.5], [0.1, 0.2], [[0], [0]], [[0.6], [0.5]])
    >>> folded, log_off = answered_no(prepare(net, [0], [], soft={1: (1.0, 0.5)}), 1)
    >>> folded.positive.tolist(), round(math.exp(log_off), 6)     # 0.5 * (1 - 0.2) * (0.5 + 0.5 * (1 - 0.5))
    ([0], 0.3)
    """
    parents = np.flatnonzero(np.isfinite(q.log_w[i]))    # its parents here (the others keep their factors exactly)
    yes = q.plus_p[parents] + q.log_1mw[i, parents]
    z = np.logaddexp(yes, q.plus_q[parents])              # log P(d does not switch it on | negatives), per parent
    if np.isneginf(z).any():
        return None, -math.inf
    log_off = float(q.close_off[i] + q.leak_off[i] + z.sum())
    keep = np.arange(q.k) != i
    log_p, log_q = q.log_p.copy(), q.log_q.copy()
    log_p[q.dplus[parents]], log_q[q.dplus[parents]] = yes - z, q.plus_q[parents] - z
    for a in (log_p, log_q):
        a.setflags(write=False)
    folded = Query(q.positive[keep], np.append(q.negative, q.positive[i]), log_p, log_q, q.log_negatives + log_off,
                   q.dplus, log_p[q.dplus], log_q[q.dplus], q.log_w[keep], q.log_1mw[keep], q.leak_on[keep],
                   q.leak_off[keep], q.close_on[keep], q.close_off[keep])
    return folded, log_off


def positive_groups(q: Query) -> list[Query]:
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
        out.append(Query(q.positive[rows], q.negative, q.log_p, q.log_q, q.log_negatives, q.dplus[cols],
                          q.plus_p[cols], q.plus_q[cols], q.log_w[np.ix_(rows, cols)],
                          q.log_1mw[np.ix_(rows, cols)], q.leak_on[rows], q.leak_off[rows], q.close_on[rows],
                          q.close_off[rows]))
    return out
