"""Quickscore (Heckerman 1989): a group of positive findings answered by inclusion-exclusion over their subsets.

Each subset of the group's positives is treated as negative, which
factorises; the signed terms are summed exactly (``math.fsum``) and their
rounding estimated, since the alternating sum cancels. Cost about ``2^k *
r`` for ``k`` positives over ``r`` parent causes; memory ``2^k`` floats
plus one chunk of subsets. ``inference.bipartite`` chooses between this
and the dynamic programme (``inference.bipartite_dp``).
"""

from __future__ import annotations

import math

import numpy as np

from .bipartite_evidence import BYTES, EPS, Query, Tilts

_CHUNK_BYTES = 16 << 20          # the per-chunk arrays: small enough for the cache, large enough for BLAS


def quickscore_bytes(k: int, r: int) -> int:
    """Quickscore's per-subset terms (summed exactly at the end) plus one smallest chunk."""
    return (1 << k) * BYTES + 64 * (4 * r + k + 4) * BYTES


def _chunk_rows(q: Query, columns: int, memory_budget: int) -> int:
    """Subsets per Quickscore chunk: its (chunk, columns) arrays stay within a slice of the budget."""
    room = max(memory_budget - (1 << q.k) * BYTES, 0)
    return int(max(64, min(1 << q.k, min(room, _CHUNK_BYTES) // max(columns * BYTES, 1))))


def _subset_sums(bits: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``bits @ table`` where ``table`` may hold -inf (0 * -inf would be NaN in a plain product)."""
    zero = np.isneginf(table)
    out = bits @ np.where(zero, 0.0, table)
    if zero.any():
        out[(bits @ zero.astype(np.float64)) > 0] = -np.inf
    return out


def quickscore(q: Query, fe: Tilts | None, memory_budget: int, tolerance: float = math.inf, *,
               absolute: bool = False) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """(log P(positives | negatives), posteriors of dplus present and absent, tilt ratios of the findings,
    estimated error).

    A finding's tilt ratio is E[prod over its parents here of (1 - w)^present | evidence].
    The estimated error is relative to the sum (what the posteriors carry), infinite when the alternating
    sum cancels to nothing. Once the terms summed so far put the error past ``tolerance`` whatever the rest
    hold, the sum stops there: the error returned is then that floor, and the other numbers are not the
    answer. With ``absolute``, the error is the sum's own (what a caller scaling the sum by a known factor
    needs), and a sum that cancels to zero or a hair below comes back as log 0 with it: the true sum lies
    within it of zero.
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
    floor_per_size = 2.0 * EPS * (k + 8.0) / ceiling if ceiling > 0.0 else math.inf
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
    # each term carries a relative rounding of about eps * (|log term| + k): the sum's error is at most that times
    # the terms' total size (measured: 100 to 10,000 times the error seen, so a safe side to err on)
    error = 2.0 * EPS * (worst + k + 8.0) * magnitude
    if not total > 0.0:
        return (-math.inf, numer, numer_no, fnum, error) if absolute else (0.0, numer, numer_no, fnum, math.inf)
    bound = error if absolute else error / total
    return math.log(total), numer / total, numer_no / total, fnum / total, bound
