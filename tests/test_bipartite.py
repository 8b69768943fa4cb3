"""Exact inference on bipartite noisy-OR networks: against brute force, between methods, at the limits."""

from __future__ import annotations

import itertools
import math
import tracemalloc
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from bounds import few_calls
from strategies import scaled

from kneebayes.errors import (
    EvidenceError,
    ImpossibleEvidenceError,
    IntractableError,
    ParameterError,
    SettingError,
)
from kneebayes.inference import bipartite
from kneebayes.inference.bipartite import (
    METHODS,
    BipartiteNoisyOr,
    PrecisionError,
    finding_probabilities,
    plan_findings,
    plan_posterior,
    posterior,
    posterior_batch,
)
from kneebayes.inference.quickscore import quickscore

# ---------------------------------------------------------------------------------
# Brute force: every assignment of the causes
# ---------------------------------------------------------------------------------


def _p_no(net: BipartiteNoisyOr, states: np.ndarray, f: int) -> np.ndarray:
    idx, w = net.parents(f)
    return (1.0 - net.leaks[f]) * np.prod(np.where(states[:, idx] == 1, 1.0 - w, 1.0), axis=1)


def brute(net: BipartiteNoisyOr, pos: list[int], neg: list[int],
          asked: list[int] = (), soft: dict[int, tuple[float, float]] | None = None
          ) -> tuple[float, np.ndarray, np.ndarray]:
    """(P(evidence), P(cause = yes | e) for each cause, P(f = yes | e) for each asked finding); a soft answer
    (a, b) weighs a P(yes | causes) + b P(no | causes)."""
    states = np.array(list(itertools.product((0, 1), repeat=net.n_causes)), dtype=float)
    weight = np.prod(np.where(states == 1, net.priors, 1.0 - net.priors), axis=1)
    for f in pos:
        weight = weight * (1.0 - _p_no(net, states, f))
    for f in neg:
        weight = weight * _p_no(net, states, f)
    for f, (a, b) in (soft or {}).items():
        weight = weight * (a * (1.0 - _p_no(net, states, f)) + b * _p_no(net, states, f))
    total = float(weight.sum())
    if total == 0.0:
        return 0.0, np.full(net.n_causes, np.nan), np.full(len(asked), np.nan)
    yes = np.array([1.0 - float((weight * _p_no(net, states, f)).sum()) / total for f in asked])
    return total, (weight[:, None] * states).sum(axis=0) / total, yes


def exact_brute(net: BipartiteNoisyOr, pos: list[int], neg: list[int]) -> tuple[Fraction, list[Fraction]]:
    """Brute force in exact rationals: the reference where floats underflow."""
    priors = [Fraction(float(p)) for p in net.priors]
    total, per_cause = Fraction(0), [Fraction(0)] * net.n_causes
    for states in itertools.product((0, 1), repeat=net.n_causes):
        w = Fraction(1)
        for p, x in zip(priors, states):
            w *= p if x else 1 - p
        for f, positive in [(f, True) for f in pos] + [(f, False) for f in neg]:
            no = 1 - Fraction(float(net.leaks[f]))
            for d, wd in zip(*net.parents(f)):
                if states[d]:
                    no *= 1 - Fraction(float(wd))
            w *= (1 - no) if positive else no
        total += w
        per_cause = [c + w * x for c, x in zip(per_cause, states)]
    return total, [c / total for c in per_cause]


# ---------------------------------------------------------------------------------
# Random networks and evidence
# ---------------------------------------------------------------------------------

@st.composite
def cases(draw: st.DrawFn, extremes: bool = False, max_causes: int = 10):
    """A network of at most ``max_causes`` causes and 10 findings, and evidence split three ways.

    Hypothesis draws the shape; the numbers come from a drawn seed (drawing
    each of some 60 numbers through hypothesis costs more than the check).
    With ``extremes`` about a fifth of them are exactly 0 or 1.
    """
    n = draw(st.integers(1, max_causes))
    m = draw(st.integers(1, 10))
    k = draw(st.integers(0, min(m, 6)))
    j = draw(st.integers(0, m - k))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def values(size: int) -> np.ndarray:
        v = rng.uniform(0.01, 0.99, size)
        if extremes:
            v = np.where(rng.random(size) < 0.2, rng.integers(0, 2, size).astype(float), v)
        return v

    parents = [sorted(rng.choice(n, rng.integers(0, min(n, 4) + 1), replace=False).tolist()) for _ in range(m)]
    net = BipartiteNoisyOr.from_parents(values(n), values(m) * 0.5, parents, [values(len(p)).tolist() for p in parents])
    order = rng.permutation(m).tolist()
    return net, order[:k], order[k:k + j], order[k + j:]


def answers(method: str, net: BipartiteNoisyOr, pos: list[int], neg: list[int]):  # type: ignore[no-untyped-def]
    """The posterior, or nothing when Quickscore (asked by name) declines a sum that cancels."""
    try:
        return posterior(net, pos, neg, method=method)
    except PrecisionError:
        assume(False)


def qmr_like(seed: int, n: int = 300, m: int = 2000, k: int = 10, kn: int = 200):  # type: ignore[no-untyped-def]
    """A QMR-DT-shaped network and a patient drawn from it: three causes present, findings sampled."""
    rng = np.random.default_rng(seed)
    parents = [np.sort(rng.choice(n, rng.integers(1, 7), replace=False)).tolist() for _ in range(m)]
    weights = [rng.uniform(0.1, 0.9, len(p)).tolist() for p in parents]
    net = BipartiteNoisyOr.from_parents(rng.uniform(0.001, 0.05, n), rng.uniform(0.001, 0.02, m), parents, weights,
                                        name="qmr-like")
    present = np.zeros(n, bool)
    present[rng.choice(n, 3, replace=False)] = True
    p_no = np.array([(1 - net.leaks[f]) * np.prod(np.where(present[net.parents(f)[0]], 1 - net.parents(f)[1], 1.0))
                     for f in range(m)])
    yes = rng.random(m) >= p_no
    pos = rng.choice(np.flatnonzero(yes), k, replace=False).tolist()
    neg = rng.choice(np.flatnonzero(~yes), kn, replace=False).tolist()
    return net, pos, neg


# ---------------------------------------------------------------------------------
# Against brute force
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=scaled(50))   # per method: 150 examples per property
@given(case=cases())
def test_posterior_matches_brute_force(method: str, case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, _ = case
    result = answers(method, net, pos, neg)
    _, expected, _ = brute(net, pos, neg)
    np.testing.assert_allclose(result.posterior, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("method", ["dp", "auto"])
def test_a_near_certain_cause_keeps_the_digits_of_its_absence(method: str) -> None:
    # f0 has no leak: d0 explains it unless d1 (prior 1e-6) switches it on with chance 1e-12
    net = BipartiteNoisyOr.from_parents([0.5, 1e-6], [0.0], [[0, 1]], [[0.9, 1e-12]])
    no, yes = 0.5 * 1e-6 * 1e-12, 0.5 * (1 - 0.1 * (1 - 1e-18))
    result = posterior(net, [0], [], method=method)
    assert result.absent[0] == pytest.approx(no / (no + yes), rel=1e-12, abs=0)
    d1_yes = 1e-6 * (1 - (0.5 * 0.1 + 0.5) * (1 - 1e-12)) / (no + yes)    # P(d1 = yes, f0) / P(f0)
    assert result.absent[1] == pytest.approx(1.0 - d1_yes, rel=1e-12)


@settings(max_examples=scaled(100))
@given(case=cases())
def test_the_dp_gives_each_absence_to_its_own_precision(case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, _ = case
    total, _, _ = brute(net, pos, neg)
    assume(total > 0.0)
    result = posterior(net, pos, neg, method="dp")
    _, exact = exact_brute(net, pos, neg)
    # P(no) summed in its own right: relative to itself, however near 1 the cause's P(yes) is
    np.testing.assert_allclose(result.absent, [float(1 - p) for p in exact], rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=scaled(50))   # per method: 150 examples per property
@given(case=cases())
def test_log_evidence_matches_brute_force(method: str, case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, _ = case
    result = answers(method, net, pos, neg)
    total, _, _ = brute(net, pos, neg)
    assert result.log_evidence == pytest.approx(math.log(total), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=scaled(50))   # per method: 150 examples per property
@given(case=cases())
def test_finding_probabilities_match_brute_force(method: str, case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, rest = case
    try:
        result = finding_probabilities(net, pos, neg, rest, method=method)
    except PrecisionError:
        assume(False)
    _, _, expected = brute(net, pos, neg, rest)
    assert result.findings.tolist() == rest
    np.testing.assert_allclose(result.probability, expected, rtol=0, atol=1e-9)


@st.composite
def soft_cases(draw: st.DrawFn):
    """``cases`` with up to three of the unobserved findings answered softly: likelihoods of yes and no each
    in [0.05, 1], leaning either way or equal."""
    net, pos, neg, rest = draw(cases())
    s = draw(st.integers(0, min(3, len(rest))))
    weight = st.sampled_from([0.05, 0.3, 0.7, 1.0])
    soft = {f: (draw(weight), draw(weight)) for f in rest[:s]}
    return net, pos, neg, rest[s:], soft


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=scaled(50))   # per method: 150 examples per property
@given(case=soft_cases())
def test_soft_answers_match_brute_force(method: str, case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, rest, soft = case
    total, expected, expected_yes = brute(net, pos, neg, rest, soft)
    assume(total > 0.0)
    try:
        result = posterior(net, pos, neg, soft, method=method)
        found = finding_probabilities(net, pos, neg, rest, soft=soft, method=method)
    except PrecisionError:
        assume(False)
    assert result.log_evidence == pytest.approx(math.log(total), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(result.posterior, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.absent, 1.0 - expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(found.probability, expected_yes, rtol=0, atol=1e-9)
    assert found.log_evidence == pytest.approx(math.log(total), rel=1e-9, abs=1e-9)
    if soft:    # a softly answered finding's own chances: read off the DP, or one more Quickscore sum each
        try:
            answered = finding_probabilities(net, pos, neg, list(soft), soft=soft, method=method)
        except PrecisionError:
            assume(False)
        # the DP keeps each state's own digits; Quickscore's P(yes) is one less P(no), exact to its tolerance
        within = 1e-300 if answered.method == "dp" else 1e-9
        for f, p_yes, p_no in zip(soft, answered.probability, answered.absent):
            rest = {g: w for g, w in soft.items() if g != f}
            no = soft[f][1] * brute(net, pos, [*neg, f], soft=rest)[0] / total
            assert p_no == pytest.approx(no, rel=1e-9, abs=within)
            assert p_yes == pytest.approx(soft[f][0] * brute(net, [*pos, f], neg, soft=rest)[0] / total, rel=1e-9,
                                          abs=within)


def test_soft_answers_own_chances_where_only_quickscore_fits_match_brute_force() -> None:
    # eight findings over the same two causes: the DP's 20 KiB are past the budget, Quickscore's 12 KiB within it
    net = BipartiteNoisyOr.from_parents([0.2, 0.3], [0.05] * 8, [[0, 1]] * 8, [[0.7, 0.4]] * 8)
    soft = {6: (0.3, 0.9), 7: (1.0, 0.2)}
    total, _, _ = brute(net, list(range(6)), [], soft=soft)
    found = finding_probabilities(net, list(range(6)), [], list(soft), soft=soft, memory_budget=13 * 1024)
    assert found.method == "quickscore"
    for f, p_yes, p_no in zip(soft, found.probability, found.absent):
        rest = {g: w for g, w in soft.items() if g != f}
        assert p_no == pytest.approx(soft[f][1] * brute(net, list(range(6)), [f], soft=rest)[0] / total, rel=1e-9)
        assert p_yes == pytest.approx(soft[f][0] * brute(net, [*range(6), f], [], soft=rest)[0] / total, rel=1e-9)


def _soft_chances(net: BipartiteNoisyOr, pos: list[int], soft: dict[int, tuple[float, float]], f: int
                  ) -> tuple[float, float]:
    """Brute force: a softly answered finding's P(yes | e) and P(no | e)."""
    total = brute(net, pos, [], soft=soft)[0]
    rest = {g: w for g, w in soft.items() if g != f}
    return (soft[f][0] * brute(net, [*pos, f], [], soft=rest)[0] / total,
            soft[f][1] * brute(net, pos, [f], soft=rest)[0] / total)


def _eight_over_two(leak_0: float, weight_7: float) -> BipartiteNoisyOr:
    """Eight findings over two causes (only Quickscore fits 13 KiB), finding 0 over cause 0 alone."""
    return BipartiteNoisyOr.from_parents([0.2, 0.3], [leak_0] + [0.05] * 7, [[0]] + [[0, 1]] * 7,
                                         [[0.7]] + [[0.7, 0.4]] * 6 + [[weight_7, 0.4]])


def test_a_soft_answer_whose_no_rules_out_the_rest_is_certainly_yes_under_quickscore() -> None:
    # finding 7 off means cause 0 absent (weight 1), and then finding 0 (no leak) cannot be on: P(7 = no | e) = 0
    net, soft = _eight_over_two(0.0, 1.0), {6: (0.3, 0.9), 7: (1.0, 0.2)}
    for method in ("quickscore", "auto"):
        found = finding_probabilities(net, list(range(6)), [], [6, 7], soft=soft, method=method,
                                      memory_budget=13 * 1024)
        assert found.method == "quickscore"
        assert (found.probability[1], found.absent[1]) == (1.0, 0.0)
        assert (found.probability[0], found.absent[0]) == pytest.approx(_soft_chances(net, list(range(6)), soft, 6),
                                                                        rel=1e-9)


def test_a_tiny_chance_of_no_keeps_its_digits_under_quickscore() -> None:
    # P(7 = no | e) is 1.7e-11: its sum's rounding, relative to what it sums, is tiny next to it
    net, soft = _eight_over_two(1e-9, 1.0), {6: (0.3, 0.9), 7: (1.0, 0.2)}
    found = finding_probabilities(net, list(range(6)), [], [7], soft=soft, method="quickscore", memory_budget=13 * 1024)
    yes, no = _soft_chances(net, list(range(6)), soft, 7)
    assert no == pytest.approx(1.69e-11, rel=1e-2)
    assert found.absent[0] == pytest.approx(no, abs=1e-13)
    assert found.probability[0] == pytest.approx(yes, abs=1e-13)


def test_a_soft_answer_whose_sum_cancels_to_about_zero_reads_as_certainly_yes_under_quickscore() -> None:
    # a found case: P(1 = no | e) is 1e-36; its sum over the other positives cancels to -6e-22 against terms of 1e-3,
    # whose rounding, scaled into P(no | e), is about 3e-25: within the tolerance of zero
    net = BipartiteNoisyOr.from_parents(
        [0.19596408215724348, 1.0, 1e-12],
        [0.0, 0.999999999999, 0.0, 0.24804589976898184, 0.999999999999, 0.6629796905106582, 0.5663611488954764, 1.0,
         0.0, 0.0, 0.34450071286086137, 1e-12],
        [[0, 1, 2], [0, 2, 1], [0, 2, 1], [2, 0, 1], [2, 1, 0], [0, 2, 1], [0, 2, 1], [0, 1, 2], [2, 1, 0], [1, 2, 0],
         [2, 0, 1], [0, 1]],
        [[1e-12, 0.999999999999, 0.8883108606837277], [1.0, 1e-12, 0.4183606513687539],
         [0.7393527394176104, 0.17308612287752856, 0.33625561978174023], [0.6266432540893361, 0.0, 0.610458171765981],
         [0.07796764329712569, 0.9860582018558615, 0.0], [0.781922818192096, 1.0, 0.16871010964805588],
         [0.8229838906405328, 0.20477282672091124, 0.1117489178985348],
         [0.8187620743105892, 0.870830610097761, 0.6927321192574571],
         [0.4727530982844198, 0.9606622931312641, 0.010197435508748964], [1e-12, 0.5038495798293823, 0.9477476947998237],
         [0.5397721976566202, 0.2063591516557739, 0.2710650774424147], [1.0, 1e-12]])
    soft = {4: (3.6094779096844145e-05, 0.052160925601712024), 5: (1.8515996974346467e-06, 0.0010718926346103461),
            1: (0.00032939018817048103, 3.586800546249847e-05), 6: (0.4167750768695102, 0.4167750768695102)}
    exact = finding_probabilities(net, [11, 7, 9, 8, 2], [0], [1], soft=soft, method="dp")
    assert exact.absent[0] == pytest.approx(1e-36, rel=1e-3)
    found = finding_probabilities(net, [11, 7, 9, 8, 2], [0], [1], soft=soft, method="quickscore")
    assert found.absent[0] == pytest.approx(exact.absent[0], abs=1e-10)
    assert found.probability[0] == pytest.approx(exact.probability[0], abs=1e-10)


def test_only_the_soft_answers_asked_about_take_a_quickscore_sum_of_their_own() -> None:
    net, soft = _eight_over_two(0.05, 0.5), {6: (0.3, 0.9), 7: (1.0, 0.2)}
    with mock.patch("kneebayes.inference.bipartite.quickscore", wraps=quickscore) as sums:
        found = finding_probabilities(net, list(range(6)), [], [6], soft=soft, method="quickscore")
    assert sums.call_count == 2     # the group's own, and finding 6 answered no
    assert (found.probability[0], found.absent[0]) == pytest.approx(_soft_chances(net, list(range(6)), soft, 6),
                                                                    rel=1e-9)


def test_finding_chances_never_leave_zero_to_one_by_rounding() -> None:
    # a found case where the DP's shares and an open finding's one-less landed a few ulps outside [0, 1]
    net = BipartiteNoisyOr.from_parents(
        [1e-12, 0.999999999999],
        [0.0, 0.0, 0.0, 0.06663298707463705, 0.1541231588349513, 0.0, 0.0, 0.14280547723510184, 1e-12,
         0.9626723030210862],
        [[0], [1, 0], [0, 1], [1, 0], [1, 0], [0, 1], [1, 0], [0, 1], [0], [0, 1]],
        [[0.3169893159261734], [0.37368011408868707, 0.1559539781983672], [0.42402598480719544, 0.3851607727664883],
         [0.06185448082181788, 0.9027464391961869], [0.18286973245470228, 0.04976176769466456],
         [0.575913456924212, 0.2783568833390361], [0.6449694978264022, 0.6632645221432586],
         [0.2626822430216338, 0.17485305376853677], [1.0], [0.6605894547304408, 0.8560917515235048]])
    found = finding_probabilities(net, [0, 2], [1, 5, 3], [8, 7, 9, 4, 6], soft={8: (0.0001535866225450174,
                                                                                  0.20762970997323107)}, method="dp")
    assert ((found.probability >= 0.0) & (found.probability <= 1.0)).all()
    assert ((found.absent >= 0.0) & (found.absent <= 1.0)).all()


def test_an_open_finding_s_chances_never_leave_zero_to_one_by_rounding() -> None:
    # a found case where an open finding's P(no) came out 1 + 5.6e-15 and its P(yes) below 0
    net = BipartiteNoisyOr.from_parents(
        [1e-12, 1.0, 0.2120571623213422],
        [0.06824621643862949, 1e-12, 0.0, 0.0, 0.9648207808631737, 0.055955830502260384, 0.2686882166255695, 0.0,
         0.9130113918245867, 0.0, 0.0, 0.14317409504801737],
        [[2, 0], [0, 1], [2, 0, 1], [1], [2, 0, 1], [0, 2], [1, 0, 2], [0, 1, 2], [2], [1], [0], [2, 0, 1]],
        [[0.9694770825548429, 1e-12], [0.3900143350376982, 1e-12], [0.8417179052949832, 0.024927180351672962,
         0.6980881404289032], [0.9533368798178417], [0.814021705990234, 0.3895883516497872, 0.22586013376975456],
         [0.9754783075165389, 0.665732848980943], [0.6557895887828618, 0.7961836630778018, 1.0],
         [0.3112311575797708, 0.07343597951542846, 0.12528289139962923], [0.9102010940171307], [0.0],
         [0.17850911563344818], [0.33837516242019516, 0.15783380028587568, 0.3935644116356004]])
    soft = {0: (0.0018403354905794343, 5.952322066111513e-05), 4: (0.0005744109929255428, 6.972747604793268e-06),
            3: (4.044118035764993e-06, 0.00015691096513073362), 6: (8.378660383443212e-05, 0.0962542229863846)}
    found = finding_probabilities(net, [1, 10, 7], [5, 11, 2], [9, 8], soft=soft,
                                  causes={0: (1e-06, 1.0), 1: (0.3, 0.3), 2: (0.0, 1.0)}, method="dp")
    assert ((found.probability >= 0.0) & (found.probability <= 1.0)).all()
    assert ((found.absent >= 0.0) & (found.absent <= 1.0)).all()


@pytest.mark.parametrize("method", METHODS)
def test_soft_answers_leaning_each_way_match_brute_force(method: str) -> None:
    net = BipartiteNoisyOr.from_parents([0.2, 0.3, 0.1], [0.01, 0.02, 0.05, 0.03], [[0], [0, 1], [1, 2], [0, 2]],
                                        [[0.7], [0.5, 0.4], [0.6, 0.3], [0.2, 0.8]])
    soft = {1: (0.3, 0.9), 2: (1.0, 0.2), 3: (0.5, 0.5)}     # leaning no, leaning yes, saying nothing
    total, expected, _ = brute(net, [0], [], soft=soft)
    result = posterior(net, [0], [], soft, method=method)
    assert result.log_evidence == pytest.approx(math.log(total), rel=1e-12)
    np.testing.assert_allclose(result.posterior, expected, rtol=1e-12)


def test_soft_likelihoods_past_any_product_are_scaled_not_overflowed() -> None:
    net = BipartiteNoisyOr.from_parents([0.05] * 30, [0.01, 0.01], [list(range(30))] * 2, [[0.3] * 30] * 2)
    for method in METHODS:
        huge = posterior(net, [], [], {0: (1e300, 1.0), 1: (1e300, 1.0)}, method=method)
        scaled = posterior(net, [], [], {0: (1.0, 1e-300), 1: (1.0, 1e-300)}, method=method)
        assert huge.log_evidence == pytest.approx(scaled.log_evidence + 2 * math.log(1e300), rel=1e-12)
        np.testing.assert_allclose(huge.posterior, scaled.posterior, rtol=1e-12)


def test_a_soft_ratio_past_any_float_stays_soft() -> None:
    # f1 can never be on: a soft answer of ratio 1e600 for yes leaves its "no", of likelihood 1e-300
    net = BipartiteNoisyOr.from_parents([0.5], [0.0, 0.0], [[0], [0]], [[0.5], [0.0]])
    for method in ("auto", "dp"):   # Quickscore's a - (a - b) cancels to nothing here: it says so
        result = posterior(net, [], [], {1: (1e300, 1e-300)}, method=method)
        assert result.log_evidence == pytest.approx(math.log(1e-300), rel=1e-12)
        assert result.posterior[0] == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize(("causes", "message"), [
    ({7: (1.0, 0.0)}, r"cause 7 does not exist: cause indices run from 0 to 1"),
    ({True: (1.0, 0.0)}, r"cause True does not exist"),
    ({0: (0.0, 0.0)}, r"answer of cause 0 must be two finite likelihoods, not both 0, got \(0.0, 0.0\)"),
    ({0: (-1.0, 1.0)}, r"answer of cause 0 must be two finite likelihoods"),
    ({0: "10"}, r"answer of cause 0 must be two likelihoods \(yes, no\), got '10'"),
    ([(0, 1.0, 0.0)], r"answers must be a mapping of cause index to"),
])
def test_a_bad_cause_answer_is_refused_by_name(causes: object, message: str) -> None:
    net = BipartiteNoisyOr.from_parents([0.2, 0.3], [0.01, 0.02], [[0], [0, 1]], [[0.7], [0.5, 0.4]])
    with pytest.raises(EvidenceError, match=message):
        posterior(net, [0], [], causes=causes)   # type: ignore[arg-type]


def test_a_cause_s_answer_weighs_its_prior_in_logs() -> None:
    net = BipartiteNoisyOr.from_parents([0.5, 0.3], [0.01], [[0, 1]], [[0.7, 0.5]])
    result = posterior(net, [], [], causes={0: (1.0, 1e-12)})      # a prior reweighed to 1 - 1e-12 would round
    assert result.absent[0] == pytest.approx(1e-12 / (1 + 1e-12), rel=1e-13, abs=0)
    assert result.log_evidence == pytest.approx(math.log(0.5 * (1 + 1e-12)), rel=1e-13)
    firm = posterior(net, [0], [], causes={1: (0.0, 2.0)})           # answered no, as a scaled vector
    total, expected, _ = brute(BipartiteNoisyOr.from_parents([0.5, 0.0], [0.01], [[0, 1]], [[0.7, 0.5]]), [0], [])
    assert firm.log_evidence == pytest.approx(math.log(2.0 * 0.7 * total), rel=1e-12)
    np.testing.assert_allclose(firm.posterior, expected, atol=1e-12)


def test_soft_answers_cost_the_memory_positives_cost() -> None:
    net = BipartiteNoisyOr.from_parents([0.2], [0.01] * 7, [[0]] * 7, [[0.7]] * 7)
    six = {f: (0.3, 0.9) for f in range(6)}
    result = posterior(net, [], [], six, method="dp", memory_budget=4096)    # six open at once: 3.5 KiB
    total, _, _ = brute(net, [], [], soft=six)
    assert result.log_evidence == pytest.approx(math.log(total), rel=1e-12)
    with pytest.raises(IntractableError, match="7.0 KiB, past the memory budget of 4.0 KiB"):                    # seven, as seven positives
        posterior(net, [], [], {**six, 6: (0.3, 0.9)}, method="dp", memory_budget=4096)
    with pytest.raises(IntractableError, match="7.0 KiB, past the memory budget of 4.0 KiB"):
        posterior(net, list(range(7)), [], method="dp", memory_budget=4096)


def _one_wide_group(positives: int) -> tuple[BipartiteNoisyOr, list[int]]:
    """``positives`` findings that all share cause 0 (one group), each with five more parents among 200."""
    rng = np.random.default_rng(1)
    parents = [sorted({0, *rng.choice(np.arange(1, 200), 5, replace=False).tolist()}) for _ in range(positives)]
    weights = [rng.uniform(0.1, 0.9, len(p)).tolist() for p in parents]
    net = BipartiteNoisyOr.from_parents(rng.uniform(0.001, 0.05, 200), rng.uniform(0.001, 0.02, positives), parents,
                                        weights)
    return net, list(range(positives))


def test_a_quickscore_sum_that_cannot_keep_its_digits_is_given_up_in_its_first_chunk() -> None:
    net, pos = _one_wide_group(20)     # the DP's 56 MiB past the budget; Quickscore's 2^20 subsets fit
    with pytest.raises(IntractableError):   # once uncounted: a first call's imports are not the sum's work
        posterior(net, pos, [], memory_budget=16 << 20, work_limit=math.inf)
    # no work limit: the default one refuses Quickscore's 2^20 subsets before the first
    with few_calls(5_000), pytest.raises(IntractableError, match=r"Quickscore, which fits, cancels here \(its error "
                                                                  r"could reach .* or more\)"):
        posterior(net, pos, [], memory_budget=16 << 20, work_limit=math.inf)
    with few_calls(5_000), pytest.raises(PrecisionError):
        posterior(net, pos, [], method="quickscore", memory_budget=16 << 20, work_limit=math.inf)


@settings(max_examples=scaled(100))
@given(case=soft_cases())
def test_quickscore_never_gives_up_a_sum_its_full_estimate_keeps(case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, _, soft = case
    assume(brute(net, pos, neg, soft=soft)[0] > 0.0)
    full = posterior(net, pos, neg, soft, method="quickscore", tolerance=1e300)   # every subset summed
    assume(full.error_bound > 0.0)
    kept = posterior(net, pos, neg, soft, method="quickscore", tolerance=full.error_bound * (1 + 1e-9))
    np.testing.assert_array_equal(kept.posterior, full.posterior)


@pytest.mark.parametrize(("soft", "message"), [
    ({0: (0.5, 0.0)}, r"finding '0' must be two finite likelihoods above 0 \(a zero is a firm answer"),
    ({0: (0.5,)}, r"soft answer of finding '0' must be two likelihoods \(yes, no\), got \(0.5,\)"),
    ({0: (float("nan"), 1.0)}, r"finding '0' must be two finite likelihoods above 0"),
    ({0: (10**400, 1.0)}, r"finding '0' must be two likelihoods \(yes, no\), got \(1000"),      # past any float
    ({0: "12"}, r"finding '0' must be two likelihoods \(yes, no\), got '12'"),
    ({0: {0.5: 1, 0.2: 2}}, r"finding '0' must be two likelihoods \(yes, no\)"),
    ({0: (True, True)}, r"finding '0' must be two likelihoods \(yes, no\), got \(True, True\)"),
    ({0: ("0.5", "0.2")}, r"finding '0' must be two likelihoods \(yes, no\)"),
    ({1: (0.5, 1.0)}, r"finding '1' is answered both softly and firmly"),
    ([(0, 0.5, 1.0)], r"soft answers must be a mapping of finding index to"),
    ({7: (0.5, 1.0)}, r"soft finding 7 does not exist: finding indices run from 0 to 1"),
])
def test_a_bad_soft_answer_is_refused_by_name(soft: object, message: str) -> None:
    net = BipartiteNoisyOr.from_parents([0.2, 0.3], [0.01, 0.02], [[0], [0, 1]], [[0.7], [0.5, 0.4]])
    with pytest.raises(EvidenceError, match=message):
        posterior(net, [], [1], soft)   # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=scaled(50))   # per method: 150 examples per property
@given(case=cases())
def test_posterior_batch_rows_match_brute_force(method: str, case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, rest = case
    rows = [(pos, neg), (rest, []), ([], neg)]   # three evidence sets on one network
    try:
        batch = posterior_batch(net, rows, method=method)
    except PrecisionError:
        assume(False)
    assert batch.posterior.shape == (3, net.n_causes) and len(batch) == 3
    for i, (p, n) in enumerate(rows):
        _, expected, _ = brute(net, p, n)
        np.testing.assert_allclose(batch[i].posterior, expected, rtol=0, atol=1e-9)


@given(case=cases(), seed=st.integers(0, 2**32 - 1))
def test_evidence_order_does_not_change_the_answer(case, seed: int) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, rest = case
    rng = np.random.default_rng(seed)
    first = finding_probabilities(net, pos, neg, rest, method="dp")
    again = finding_probabilities(net, rng.permutation(pos).tolist(), rng.permutation(neg).tolist(), rest, method="dp")
    np.testing.assert_allclose(again.probability, first.probability, rtol=0, atol=1e-12)
    assert again.log_evidence == pytest.approx(first.log_evidence, rel=1e-12, abs=1e-12)


@given(case=cases(extremes=True))
def test_certain_and_impossible_parameters_match_brute_force_or_raise(case) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg, rest = case
    total, expected, expected_f = brute(net, pos, neg, rest)
    if total == 0.0:
        with pytest.raises(ImpossibleEvidenceError, match="probability zero"):
            finding_probabilities(net, pos, neg, rest)
        return
    result = finding_probabilities(net, pos, neg, rest)
    np.testing.assert_allclose(result.probability, expected_f, rtol=0, atol=1e-9)
    np.testing.assert_allclose(posterior(net, pos, neg).posterior, expected, rtol=0, atol=1e-9)


def test_brute_force_agreement_holds_at_twelve_causes() -> None:
    rng = np.random.default_rng(12)
    parents = [sorted(rng.choice(12, 3, replace=False).tolist()) for _ in range(9)]
    net = BipartiteNoisyOr.from_parents(rng.uniform(0.01, 0.3, 12), rng.uniform(0, 0.05, 9), parents,
                                        [rng.uniform(0.2, 0.9, 3).tolist() for _ in parents])
    pos, neg, rest = [0, 1, 2, 3], [4, 5], [6, 7, 8]
    _, expected, expected_f = brute(net, pos, neg, rest)
    for method in ("quickscore", "dp"):
        np.testing.assert_allclose(posterior(net, pos, neg, method=method).posterior, expected, atol=1e-9, rtol=0)
        np.testing.assert_allclose(finding_probabilities(net, pos, neg, rest, method=method).probability,
                                   expected_f, atol=1e-9, rtol=0)


# ---------------------------------------------------------------------------------
# Between methods, on a medium network
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def medium():  # type: ignore[no-untyped-def]
    return qmr_like(0)


def test_quickscore_and_dp_posteriors_agree_on_a_medium_network(medium) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = medium
    quick = posterior(net, pos, neg, method="quickscore", tolerance=1e-6)
    dp = posterior(net, pos, neg, method="dp")
    np.testing.assert_allclose(quick.posterior, dp.posterior, rtol=0, atol=1e-9)
    assert quick.log_evidence == pytest.approx(dp.log_evidence, rel=1e-12)


def test_quickscore_and_dp_finding_probabilities_agree_on_a_medium_network(medium) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = medium
    quick = finding_probabilities(net, pos, neg, method="quickscore", tolerance=1e-6)
    dp = finding_probabilities(net, pos, neg, method="dp")
    assert len(dp.findings) == net.n_findings - len(pos) - len(neg)
    np.testing.assert_allclose(quick.probability, dp.probability, rtol=0, atol=1e-9)


def test_finding_probabilities_equal_a_posterior_with_the_finding_added(medium) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = medium
    asked = [f for f in range(net.n_findings) if f not in pos and f not in neg][:5]
    probs = finding_probabilities(net, pos, neg, asked).probability
    base = posterior(net, pos, neg).log_evidence
    as_negative = [math.exp(posterior(net, pos, neg + [f]).log_evidence - base) for f in asked]
    np.testing.assert_allclose(probs, 1.0 - np.array(as_negative), rtol=0, atol=1e-12)


def test_auto_records_the_method_that_ran(medium) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = medium
    assert posterior(net, pos, neg, method="dp").method == "dp"
    assert posterior(net, pos, neg, method="quickscore", tolerance=1e-6).method == "quickscore"
    assert set(posterior(net, pos, neg).method.split("+")) <= {"dp", "quickscore"}
    assert posterior(net, [], neg).method == "closed_form"


# ---------------------------------------------------------------------------------
# Tiny evidence: P(evidence) far below the smallest float
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rare():  # type: ignore[no-untyped-def]
    """Causes with priors near 1e-160, and positives that take two of them together: P(evidence) near 1e-320."""
    net = BipartiteNoisyOr.from_parents(
        [1e-160, 3e-161, 2e-160, 0.3, 0.01, 5e-160], [0.0, 0.0, 0.0, 0.0, 0.2],
        [[0, 1], [1, 2], [2, 5], [0, 4], [3, 4, 5]],
        [[0.9, 0.6], [0.7, 0.5], [0.8, 0.3], [0.5, 0.2], [0.6, 0.3, 0.9]])
    return net, [0, 1, 2], [4]


def test_tiny_evidence_posteriors_are_exact(rare) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = rare
    total, expected = exact_brute(net, pos, neg)
    assert total < Fraction(1, 10**300)
    result = posterior(net, pos, neg)
    assert not np.isnan(result.posterior).any()
    np.testing.assert_allclose(result.posterior, [float(e) for e in expected], rtol=1e-9, atol=1e-12)


def test_tiny_evidence_log_probability_is_exact(rare) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = rare
    total, _ = exact_brute(net, pos, neg)
    exact_log = math.log(total.numerator) - math.log(total.denominator)
    assert posterior(net, pos, neg).log_evidence == pytest.approx(exact_log, rel=1e-12)


def test_tiny_evidence_finding_probability_is_exact(rare) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = rare
    total, _ = exact_brute(net, pos, neg)
    without, _ = exact_brute(net, pos, neg + [3])
    result = finding_probabilities(net, pos, neg, [3])
    assert result.probability[0] == pytest.approx(float(1 - without / total), abs=1e-12)
    assert not np.isnan(result.probability).any()


def test_tiny_evidence_runs_the_dp_under_auto(rare) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = rare
    assert posterior(net, pos, neg).method == "dp"


def test_quickscore_by_name_refuses_a_sum_that_cancels(rare) -> None:  # type: ignore[no-untyped-def]
    net, pos, neg = rare
    with pytest.raises(PrecisionError, match="use method='dp'"):
        posterior(net, pos, neg, method="quickscore")


def _wide_positives(prior: float) -> BipartiteNoisyOr:
    """Twelve positives without a leak, all over the same fifty causes: the DP needs 1.8 MiB, Quickscore 143 KiB."""
    rng = np.random.default_rng(1)
    return BipartiteNoisyOr.from_parents([prior] * 50, [0.0] * 12, [list(range(50))] * 12,
                                         [rng.uniform(0.01, 0.05, 50).tolist() for _ in range(12)])


def test_auto_refuses_a_cancelling_quickscore_when_the_dp_does_not_fit() -> None:
    net = _wide_positives(1e-3)
    exact = posterior(net, list(range(12)), [])          # the default budget: the DP runs
    assert exact.method == "dp" and exact.posterior.min() > 0
    with pytest.raises(IntractableError, match=r"12 variables .* past the memory budget of 195\.3 KiB.*Quickscore, "
                                               r"which fits, cancels here"):
        posterior(net, list(range(12)), [], memory_budget=200_000)


@pytest.mark.parametrize("budget", [1 << 30, 200_000])
def test_impossible_positives_are_impossible_whichever_method_fits(budget: int) -> None:
    with pytest.raises(ImpossibleEvidenceError, match="probability zero"):
        posterior(_wide_positives(0.0), list(range(12)), [], memory_budget=budget)


@pytest.mark.parametrize("method", ["auto", "quickscore", "dp"])
def test_a_positive_nothing_can_switch_on_is_impossible_evidence_for_every_method(method: str) -> None:
    net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.0], [[0, 1]], [[0.0, 0.0]])
    with pytest.raises(ImpossibleEvidenceError, match=r"\{0=yes\}"):
        posterior(net, [0], [], method=method)


# ---------------------------------------------------------------------------------
# Groups of positives, and the memory budget
# ---------------------------------------------------------------------------------


def test_positives_sharing_no_parent_are_answered_apart() -> None:
    # 40 positives, each with its own cause: 40 groups of one, though 2^40 would never fit
    n = 40
    priors, leaks, weights = np.full(n, 0.02), np.full(n, 0.01), np.full(n, 0.7)
    net = BipartiteNoisyOr.from_parents(priors, leaks, [[d] for d in range(n)], [[w] for w in weights])
    result = posterior(net, list(range(n)), [], memory_budget=1 << 20)
    p_yes = 1 - (1 - leaks) * (1 - weights)                 # P(f | d present)
    expected = priors * p_yes / (priors * p_yes + (1 - priors) * leaks)
    np.testing.assert_allclose(result.posterior, expected, rtol=1e-12)


def test_a_chain_of_positives_keeps_the_dp_state_small() -> None:
    # 11 positives in one group, each sharing a cause with the next: 2^11 states would pass the budget,
    # but the DP keeps only the two or three open positives
    n = 12
    rng = np.random.default_rng(7)
    net = BipartiteNoisyOr.from_parents(rng.uniform(0.05, 0.3, n), np.full(n - 1, 0.01),
                                        [[d, d + 1] for d in range(n - 1)], rng.uniform(0.3, 0.9, (n - 1, 2)).tolist())
    pos = list(range(n - 1))
    result = posterior(net, pos, [], memory_budget=4096)
    _, expected, _ = brute(net, pos, [])
    assert result.method == "dp"
    np.testing.assert_allclose(result.posterior, expected, rtol=0, atol=1e-9)


def shared_cause_network(k: int) -> BipartiteNoisyOr:
    """``k`` findings all explained by one cause (and each by its own): one group of ``k`` positives."""
    return BipartiteNoisyOr.from_parents(np.full(k + 1, 0.1), np.full(k, 0.01), [[0, f + 1] for f in range(k)],
                                         [[0.5, 0.5] for _ in range(k)], name="shared",
                                         finding_names=[f"finding_{f}" for f in range(k)])


def test_too_many_positives_raise_intractable_error_naming_them() -> None:
    net = shared_cause_network(40)
    with pytest.raises(IntractableError, match=r"'shared'.*40 variables \(finding_0, finding_1") as info:
        posterior(net, list(range(40)), [], memory_budget=1 << 20)
    assert info.value.clique[:2] == ("finding_0", "finding_1") and info.value.budget == 1 << 20
    assert "fewer positive findings" in str(info.value)


def test_intractable_error_comes_before_anything_large_is_allocated() -> None:
    net = shared_cause_network(40)
    with pytest.raises(IntractableError):   # once first: what is imported on a first refusal is not the table
        finding_probabilities(net, list(range(30)), [], memory_budget=1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(IntractableError, match=r"'shared' needs a table over 30 variables .* past the memory budget of 1\.0 MiB"):
            finding_probabilities(net, list(range(30)), [], memory_budget=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 18


def test_the_budget_is_checked() -> None:
    net = shared_cause_network(2)
    with pytest.raises(SettingError, match="memory_budget must be a whole number of bytes"):
        posterior(net, [0], [], memory_budget=10)


# ---------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("priors", "leaks", "parents", "weights", "message"), [
    pytest.param([0.1, 1.5], [0.1], [[0]], [[0.5]], r"priors\[1\] is 1.5; priors must be probabilities in \[0, 1\]",
                 id="prior_outside_zero_one"),
    pytest.param([0.1], [0.1], [[0]], [[float("nan")]], r"parent_weight\[0\] is nan", id="nan_weight"),
    pytest.param([0.1, 0.2], [0.1, 0.1], [[0], [7]], [[0.5], [0.5]],
                 "finding 1 names cause 7; cause indices run from 0 to 1", id="parent_that_is_no_cause"),
    pytest.param([0.1, 0.2], [0.1], [[1, 1]], [[0.5, 0.4]], "finding 0 lists cause 1 twice", id="parent_listed_twice"),
    pytest.param([0.1, 0.2], [0.1], [[0, 1]], [[0.5]], "finding 0 has 2 parents and 1 weights",
                 id="parents_and_weights_of_different_lengths"),
    pytest.param([0.1], [0.1], [[0]], [["half"]], "parent_weight must be numbers, got", id="weights_not_numbers"),
])
def test_a_bad_network_is_refused_naming_what_is_wrong(priors: list[float], leaks: list[float], parents: list[list[int]],
                                                       weights: list[list[object]], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        BipartiteNoisyOr.from_parents(priors, leaks, parents, weights)  # type: ignore[arg-type]


def test_a_parent_start_that_falls_is_refused() -> None:
    with pytest.raises(ParameterError, match="parent_start must rise from 0 to the number of edges"):
        BipartiteNoisyOr(np.array([0.1]), np.array([0.1, 0.1]), np.array([0, 1, 0]), np.array([0]), np.array([0.5]))


def test_the_network_arrays_are_read_only() -> None:
    net = shared_cause_network(2)
    with pytest.raises(ValueError, match="read-only"):
        net.priors[0] = 0.5


@pytest.mark.parametrize(("positive", "negative", "message"), [
    pytest.param([9], [], "positive finding 9 does not exist: finding indices run from 0 to 1", id="unknown_finding"),
    pytest.param([1], [1], "finding 'finding_1' is listed as both positive and negative", id="positive_and_negative"),
    pytest.param([], [0, 0], "negative finding 0 is listed twice", id="listed_twice"),
    pytest.param(["cough"], [], r"positive finding 'cough' is not a finding index \(a whole number\)", id="not_an_index"),
])
def test_bad_findings_are_refused_naming_the_finding(positive: list[object], negative: list[object], message: str) -> None:
    with pytest.raises(EvidenceError, match=message):
        posterior(shared_cause_network(2), positive, negative)  # type: ignore[arg-type]


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(SettingError, match="method must be one of 'auto', 'quickscore', 'dp', got 'exact'"):
        posterior(shared_cause_network(2), [0], [], method="exact")  # type: ignore[arg-type]


def test_a_tolerance_that_is_not_positive_is_refused() -> None:
    with pytest.raises(SettingError, match="tolerance must be a positive number, got 0"):
        posterior(shared_cause_network(2), [0], [], tolerance=0)


def test_a_batch_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(EvidenceError, match=r"evidence row 1 must be a pair \(positive findings, negative findings\), "
                                            r"or those and the soft answers \(and the causes' answers\)"):
        posterior_batch(shared_cause_network(2), [([0], []), ([0], [], {}, {}, [1])])  # type: ignore[list-item]


def test_a_batch_row_may_carry_soft_answers() -> None:
    net = shared_cause_network(2)
    batch = posterior_batch(net, [([0], []), ([0], [], {1: (0.2, 0.9)})])
    assert batch[1].log_evidence == pytest.approx(posterior(net, [0], [], {1: (0.2, 0.9)}).log_evidence, rel=1e-15)
    assert batch[1].log_evidence < batch[0].log_evidence    # the soft answer's likelihoods weigh P(evidence)


def test_asking_for_an_observed_finding_is_refused() -> None:
    with pytest.raises(EvidenceError, match="finding 'finding_0' is observed already"):
        finding_probabilities(shared_cause_network(2), [0], [], [0])


def test_impossible_evidence_is_an_error_not_nan() -> None:
    net = BipartiteNoisyOr.from_parents([0.0], [0.0], [[0]], [[0.5]], finding_names=["fever"])
    with pytest.raises(ImpossibleEvidenceError, match=r"\{fever=yes\} has probability zero"):
        posterior(net, [0], [])


@pytest.mark.parametrize(("causes", "positives"), [(600, 200), (5, 1100)])
def test_positives_under_one_cause_past_any_order_are_refused_before_an_order_is_planned(causes: int,
                                                                                        positives: int) -> None:
    # every positive has every cause as a parent: at the first cause's step all of them are open, in any order
    net = BipartiteNoisyOr.from_parents([0.01] * causes, [0.01] * positives, [list(range(causes))] * positives,
                                        [[0.03] * causes] * positives)
    with few_calls(40_000), pytest.raises(IntractableError, match=f"over {positives} variables") as info:
        posterior(net, list(range(positives)), [])
    assert info.value.size > 2**100 and "or a larger memory_budget" in str(info.value)


# ---------------------------------------------------------------------------------
# The work limit
# ---------------------------------------------------------------------------------


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The methods run (Quickscore, the DP), in order: a refusal before any work leaves it empty."""
    ran: list[str] = []
    for name in ("dp", "quickscore"):
        method = getattr(bipartite, name)
        monkeypatch.setattr(bipartite, name, lambda *a, _m=method, _n=name, **k: ran.append(_n) or _m(*a, **k))
    return ran


def _work(net: BipartiteNoisyOr, positives: list[int]) -> float:
    return plan_posterior(net, positives, work_limit=math.inf).work


def test_a_query_past_the_work_limit_is_refused_before_any_work(answered: list[str]) -> None:
    net = shared_cause_network(12)      # 12 positives that share cause 0: all open at its step
    with pytest.raises(IntractableError, match=r"exact inference on 'shared' needs about \S+ steps of work for 12 "
                                               r"positive findings together \(finding_0, finding_1, .* and 4 more\), "
                                               r"past the work limit of \S+ steps; what would help: fewer positive "
                                               r"findings \(answer the query in parts, or ask fewer\), or a larger "
                                               r"work_limit") as info:
        posterior(net, list(range(12)), [], work_limit=_work(net, list(range(12))) / 2)
    assert answered == [] and info.value.limit == "work_limit"


def test_the_work_a_refusal_names_is_a_limit_that_lets_the_query_run() -> None:
    net = shared_cause_network(12)
    with pytest.raises(IntractableError) as info:
        posterior(net, list(range(12)), [], work_limit=1e5)
    assert info.value.size == _work(net, list(range(12)))
    assert posterior(net, list(range(12)), [], work_limit=info.value.size).method == "dp"


def test_finding_chances_are_priced_with_the_rows_they_sweep() -> None:
    # ten positives share cause 0; thirty findings asked about, each over cause 0 and one positive's own cause, sweep
    # the DP's states from one to the other
    parents = [[0, j + 1] for j in range(10)] + [[0, 1 + j % 10] for j in range(30)]
    net = BipartiteNoisyOr.from_parents([0.1] * 11, [0.01] * 40, parents, [[0.5] * len(p) for p in parents])
    alone = _work(net, list(range(10)))
    assert posterior(net, list(range(10)), [], work_limit=alone * 2).method == "dp"
    with pytest.raises(IntractableError, match="steps of work for 10 positive findings"):
        finding_probabilities(net, list(range(10)), [], work_limit=alone * 2)


def test_a_batch_with_one_row_past_the_work_limit_answers_no_row(answered: list[str]) -> None:
    net = shared_cause_network(12)
    limit = _work(net, list(range(12))) / 2
    assert _work(net, [0, 1]) < limit
    with pytest.raises(IntractableError, match="for 12 positive findings together"):
        posterior_batch(net, [([0, 1], []), (list(range(12)), [])], work_limit=limit)
    assert answered == []


def test_auto_refuses_a_cancelling_quickscore_when_the_dp_passes_the_work_limit(answered: list[str]) -> None:
    net = _wide_positives(1e-3)
    work = plan_posterior(net, list(range(12)), work_limit=math.inf).plan.groups[0].work
    assert work["quickscore"] < work["dp"]
    limit = (work["quickscore"] + work["dp"]) / 2     # Quickscore within it runs, and cancels; the DP is past it
    with pytest.raises(IntractableError, match=r"steps of work for 12 positive findings together .* past the work "
                                               r"limit of \S+ steps; .*or a larger work_limit: Quickscore, which fits, "
                                               r"cancels here") as info:
        posterior(net, list(range(12)), [], work_limit=limit)
    assert answered == ["quickscore"] and info.value.size == work["dp"]


@pytest.mark.parametrize("limit", [0, -1.0, float("nan"), True, "1e9", None])
def test_a_work_limit_that_is_no_positive_number_is_refused(limit: object) -> None:
    with pytest.raises(SettingError, match=r"work_limit must be a positive number of steps \(math.inf for none\), "
                                           r"got "):
        posterior(shared_cause_network(2), [0], [], work_limit=limit)  # type: ignore[arg-type]
