"""A number's range read as a Beta or a Dirichlet: the fits hit the ranges, and bad ranges are refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kneebayes.errors import ParameterError, SettingError
from kneebayes.research.ranges import RANGE_MASS, beta_for_range, dirichlet_for_ranges


def quantiles(q: object, a: float, b: float) -> np.ndarray:
    """Beta(a, b)'s quantiles by scipy.stats, the reference (imported here: it takes a second, in every
    pytest worker that collects this file, and only these tests need it)."""
    from scipy.stats import beta

    return beta.ppf(q, a, b)


@pytest.mark.parametrize("low, high", [(0.25, 0.65), (0.01, 0.55), (0.001, 0.01), (0.9, 0.999), (0.45, 0.55),
                                       (0.01, 0.99), (1e-5, 3e-5), (0.3, 0.3001)])
def test_beta_fit_quantiles_match_the_range(low: float, high: float) -> None:
    a, b = beta_for_range(low, high)
    q05, q95 = quantiles([0.05, 0.95], a, b)
    assert q05 == pytest.approx(low, abs=1e-6, rel=1e-6)
    assert q95 == pytest.approx(high, abs=1e-6, rel=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.001, 0.98), st.floats(0.002, 0.9))
def test_beta_fit_property(low: float, width: float) -> None:
    high = min(low + width * (1 - low), 0.999)
    assume(high - low > 1e-4)
    a, b = beta_for_range(low, high)
    q = quantiles([0.05, 0.95], a, b)
    assert np.allclose(q, [low, high], atol=1e-6, rtol=0)


def test_a_range_is_the_central_ninety_percent_by_default() -> None:
    assert RANGE_MASS == 0.9
    assert beta_for_range(0.2, 0.4) == beta_for_range(0.2, 0.4, mass=0.9)


def test_a_larger_mass_gives_a_narrower_beta() -> None:
    a90, b90 = beta_for_range(0.2, 0.4)
    a99, b99 = beta_for_range(0.2, 0.4, mass=0.99)
    assert a99 + b99 > a90 + b90      # the same range holds more of the mass: more concentrated
    assert quantiles(0.005, a99, b99) == pytest.approx(0.2, abs=1e-6)


def test_beta_fit_refuses_an_empty_range() -> None:
    with pytest.raises(ParameterError, match=r"must satisfy 0 < low < high < 1, got \[0.5, 0.5\]"):
        beta_for_range(0.5, 0.5)


def test_beta_fit_refuses_a_range_touching_zero() -> None:
    with pytest.raises(ParameterError, match=r"must satisfy 0 < low < high < 1, got \[0.0, 0.5\]"):
        beta_for_range(0.0, 0.5)


def test_beta_fit_refuses_a_mass_outside_0_1() -> None:
    with pytest.raises(SettingError, match=r"mass must lie in \(0, 1\), got 1.0"):
        beta_for_range(0.1, 0.3, mass=1.0)


def test_dirichlet_with_two_cells_is_the_beta() -> None:
    alpha = dirichlet_for_ranges((0.3, 0.7), ((0.2, 0.45), (0.55, 0.8)))
    assert alpha == pytest.approx(beta_for_range(0.2, 0.45), rel=1e-6)


def test_dirichlet_marginals_near_the_ranges() -> None:
    ranges = ((0.1, 0.3), (0.35, 0.65), (0.2, 0.4))
    alpha = np.array(dirichlet_for_ranges((0.2, 0.5, 0.3), ranges))
    for a, (low, high) in zip(alpha, ranges):
        q = quantiles([0.05, 0.95], a, alpha.sum() - a)
        assert q == pytest.approx([low, high], abs=0.05)


def test_dirichlet_needs_two_cells() -> None:
    with pytest.raises(ParameterError, match="at least two cells.*got 1 values and 1 ranges"):
        dirichlet_for_ranges((0.5,), ((0.1, 0.9),))


def test_dirichlet_needs_a_range_per_value() -> None:
    with pytest.raises(ParameterError, match="got 2 values and 3 ranges"):
        dirichlet_for_ranges((0.5, 0.5), ((0.1, 0.9), (0.1, 0.9), (0.1, 0.9)))


def test_dirichlet_refuses_a_cell_with_an_empty_range() -> None:
    with pytest.raises(ParameterError, match=r"0 < low < high < 1, got \[0.55, 0.55\]"):
        dirichlet_for_ranges((0.3, 0.7), ((0.2, 0.45), (0.55, 0.55)))


def test_dirichlet_refuses_a_mass_outside_0_1() -> None:
    with pytest.raises(SettingError, match=r"mass must lie in \(0, 1\), got 0.0"):
        dirichlet_for_ranges((0.3, 0.7), ((0.2, 0.45), (0.55, 0.8)), mass=0.0)
