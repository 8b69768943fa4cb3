"""A number's range read as a distribution: fitting a Beta or a Dirichlet to ranges.

Every number in a model file carries a range ``[low, high]``. For posterior
intervals a range is the **central 90% interval** (:data:`RANGE_MASS`) of
the number's distribution:

* a yes/no prior (P(yes)), a noisy-OR leak and each noisy-OR weight: a
  **Beta(a, b)** whose 5% and 95% quantiles are ``low`` and ``high``
  (:func:`beta_for_range`). The two equations are solved for
  ``(log a, log b)`` with ``scipy.optimize.least_squares``
  (Levenberg-Marquardt), with residuals on the logit scale so narrow ranges
  near 0 or 1 are fitted as precisely as wide ones; the start is the Beta
  with the range's midpoint as mean and a standard deviation of
  ``(high - low) / 3.29``. The fit is exact (to about 1e-12) and cached per
  ``(low, high, mass)``. The Beta's mean need not equal the written value:
  the range alone says how unsure the number is.
* a full-table column, or the prior of a node with more than two states: a
  **Dirichlet(alpha)** over its cells (the column keeps summing to 1). The
  vector alpha is fitted by least squares on ``log alpha`` so that each
  cell's marginal, Beta(alpha_j, sum(alpha) - alpha_j), has 5% and 95%
  quantiles as close as possible (again on the logit scale) to that cell's
  range (:func:`dirichlet_for_ranges`). With two cells and complementary
  ranges this is exactly the Beta above.

Which numbers of a model are drawn, and from which fit, is
:mod:`kneebayes.research.draws`. scipy is imported on the first fit.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..errors import ParameterError, SettingError, quote
from ..extras import require

__all__ = ["RANGE_MASS", "beta_for_range", "dirichlet_for_ranges"]

#: A range is the central ``RANGE_MASS`` interval of its number's distribution.
RANGE_MASS = 0.9

_FIT = "fitting a Beta or Dirichlet to a range (posterior intervals)"


def _logit(x: np.ndarray | float) -> Any:
    x = np.clip(x, 1e-300, 1.0 - 1e-16)
    return np.log(x) - np.log1p(-x)


def _check_range(low: float, high: float) -> None:
    if not (0.0 < low < high < 1.0):
        raise ParameterError(f"a range to fit must satisfy 0 < low < high < 1, got [{quote(low)}, {quote(high)}]")


def _check_mass(mass: float) -> None:
    if not 0.0 < mass < 1.0:
        raise SettingError(f"mass must lie in (0, 1), got {quote(mass)}")


@functools.lru_cache(maxsize=4096)
def beta_for_range(low: float, high: float, mass: float = RANGE_MASS) -> tuple[float, float]:
    """The Beta(a, b) whose central ``mass`` interval is ``[low, high]``.

    Solves ``ppf((1 - mass) / 2) = low`` and ``ppf((1 + mass) / 2) = high``
    for ``(log a, log b)`` by least squares on the logit scale (see the
    module docstring). Cached per ``(low, high, mass)``. Raises
    ParameterError unless ``0 < low < high < 1`` (or when no Beta fits),
    SettingError unless ``0 < mass < 1``.

    >>> a, b = beta_for_range(0.1, 0.3)
    >>> from scipy.stats import beta
    >>> [round(float(q), 9) for q in beta.ppf([0.05, 0.95], a, b)]
    [0.1, 0.3]
    """
    low, high, mass = float(low), float(high), float(mass)
    _check_range(low, high)
    _check_mass(mass)
    least_squares = require("scipy.optimize", "research", _FIT).least_squares
    betaincinv = require("scipy.special", "research", _FIT).betaincinv

    qs = np.array([(1.0 - mass) / 2.0, (1.0 + mass) / 2.0])
    bounds = np.array([low, high])
    target = _logit(bounds)

    def residual(x: np.ndarray) -> np.ndarray:
        a, b = np.exp(np.clip(x, -30.0, 30.0))
        return _logit(betaincinv(a, b, qs)) - target

    def error(x: np.ndarray) -> float:
        a, b = np.exp(x)
        q = betaincinv(a, b, qs)
        return float(np.max(np.abs(q - bounds))) if np.all(np.isfinite(q)) else math.inf

    z = float(require("scipy.stats", "research", _FIT).norm.ppf(qs[1]))
    m = (low + high) / 2.0
    sd = (high - low) / (2.0 * z)
    nu = max(m * (1.0 - m) / sd**2 - 1.0, 0.5)
    starts = [np.log([m * nu, (1.0 - m) * nu]), np.zeros(2), np.log([0.5, 0.5]), np.log([5.0, 5.0])]
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
    must have a proper range ``0 < low < high < 1`` (else ParameterError);
    ``0 < mass < 1`` (else SettingError).

    >>> alpha = dirichlet_for_ranges((0.3, 0.7), ((0.2, 0.45), (0.55, 0.8)))
    >>> a, b = beta_for_range(0.2, 0.45)
    >>> bool(abs(alpha[0] - a) < 1e-6 and abs(alpha[1] - b) < 1e-6)
    True
    """
    if len(values) != len(ranges) or len(values) < 2:
        raise ParameterError(f"a Dirichlet needs at least two cells, each with a value and a range; "
                             f"got {len(values)} values and {len(ranges)} ranges")
    for low, high in ranges:
        _check_range(low, high)
    _check_mass(float(mass))
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
    starts = (np.log(m * nu), np.log(m * 2.0), np.zeros(k))
    fits = [least_squares(residual, x0, method="trf", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=5000)
            for x0 in starts]
    best_cost, best_x = float(fits[0].cost), fits[0].x
    for sol in fits[1:]:   # a later start wins only when clearly better
        if float(sol.cost) < best_cost - 1e-14:
            best_cost, best_x = float(sol.cost), sol.x
    return tuple(float(a) for a in np.exp(best_x))
