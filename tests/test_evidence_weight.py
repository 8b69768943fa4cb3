"""Bayes factors and weights of evidence (src/kneebayes/inference/evidence_weight.py, via Diagnosis).

The reference is the definition, computed from brute-force enumeration of
the full joint (tests/strategies.py) or from pgmpy on the exported knee
model: for a state s of a target,

    BF(s) = [P(s | e) / P(not s | e)] / [P(s) / P(not s)],

with P(not s) the sum of the target's other states, clipped to
[1e-100, 1e100], and 1 where the prior of s is 0 or 1.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import brute_force, networks, networks_with_evidence, param, scaled

import kneebayes
from kneebayes.inference.evidence_weight import (
    EXPLANATION_MEASURE,
    FACTOR_MAX,
    FACTOR_MIN,
    TIE_GRID,
    decibans,
    odds_ratio,
    prepare,
    weigh,
)
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Prior, Table, TableColumn
from kneebayes.network.compiled import JOINT_LIMIT

TOL = 1e-9
YES_NO = ("yes", "no")
ENGINE_PATHS = pytest.mark.parametrize("joint_limit", [JOINT_LIMIT, 1], ids=["enumerated", "not_enumerated"])


# ---------------------------------------------------------------------------------
# The reference
# ---------------------------------------------------------------------------------
def _reference_factor(p: float, rest: float, p0: float, rest0: float) -> float:
    """The definition, in exact-enough floats: posterior odds over prior odds, with the documented limits."""
    if p0 == 0.0 or rest0 == 0.0:
        return 1.0
    if rest == 0.0:
        return FACTOR_MAX
    if p == 0.0:
        return FACTOR_MIN
    exact = (Fraction(p) * Fraction(rest0)) / (Fraction(rest) * Fraction(p0))   # no overflow, no rounding
    return float(min(max(exact, Fraction(FACTOR_MIN)), Fraction(FACTOR_MAX)))


def _split(dist: dict[str, float], state: str) -> tuple[float, float]:
    """P(state) and the sum of the other states' probabilities (never 1 - P(state))."""
    return dist[state], math.fsum(p for s, p in dist.items() if s != state)


def _factors_by_state(dx: kneebayes.Diagnosis) -> dict[tuple[str, str], float]:
    """Every (target, state) factor from the public shape: a float means the target's "yes"."""
    out = {}
    for target, value in dx.bayes_factor.items():
        if isinstance(value, float):
            out[(target, "yes")] = value
        else:
            out.update({(target, s): f for s, f in value.items()})
    return out


def _prior_of(dx: kneebayes.Diagnosis, cause: str, state: str) -> float:
    value = dx.prior[cause]
    return value if isinstance(value, float) else value[state]


def _causes(spec: ModelSpec) -> list[str]:
    return [n.id for n in spec.nodes if n.kind == "cause"]


def _is_yes_no(states: tuple[str, ...]) -> bool:
    return len(states) == 2 and set(states) == set(YES_NO)


# ---------------------------------------------------------------------------------
# Against brute force and pgmpy
# ---------------------------------------------------------------------------------
@ENGINE_PATHS
@given(case=networks_with_evidence())
def test_bayes_factor_is_posterior_odds_over_prior_odds_by_brute_force(
    joint_limit: int, case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    after, before = brute_force(spec, evidence), brute_force(spec, {})
    assume(after.p_evidence > 0.0)
    dx = kneebayes.Model(spec, joint_limit=joint_limit).diagnose(evidence)
    got = _factors_by_state(dx)
    for cause in _causes(spec):
        post, prior = after.marginal(cause), before.marginal(cause)
        states = ("yes",) if _is_yes_no(spec.node(cause).states) else spec.node(cause).states
        for state in states:
            (p, rest), (p0, rest0) = _split(post, state), _split(prior, state)
            factor = got[(cause, state)]
            assert FACTOR_MIN <= factor <= FACTOR_MAX, (cause, state, factor)
            if p0 == 0.0 or rest0 == 0.0:
                assert factor == 1.0, (cause, state)
            elif min(p, rest, p0, rest0) >= 1e-4:   # well conditioned: the factor itself to 1e-9
                assert math.isclose(factor, _reference_factor(p, rest, p0, rest0), rel_tol=TOL), (cause, state)
            else:   # near 0 or 1 the odds are ill-conditioned: the posterior they imply, to 1e-9
                odds = min(factor * (p0 / rest0), 1e300)
                assert abs(odds / (1.0 + odds) - p) <= TOL, (cause, state, factor, p)


@given(data=st.data())
def test_knee_bayes_factors_equal_pgmpy_posterior_and_prior_odds(
    knee_model: kneebayes.Model, knee_pgmpy, data: st.DataObject,  # type: ignore[no-untyped-def]
) -> None:
    ids = [n.id for n in knee_model.nodes if n.askable]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=10), label="nodes")
    evidence = {node: data.draw(st.sampled_from(YES_NO), label=node) for node in chosen}
    dx = knee_model.diagnose(evidence)
    causes = list(knee_model.causes)
    post = knee_pgmpy.query(variables=causes, evidence=evidence or None, joint=False, show_progress=False)
    prior = knee_pgmpy.query(variables=causes, joint=False, show_progress=False)
    for cause in causes:
        p, rest = (float(post[cause].get_value(**{cause: s})) for s in YES_NO)
        p0, rest0 = (float(prior[cause].get_value(**{cause: s})) for s in YES_NO)
        expected = (p / rest) / (p0 / rest0)
        assert math.isclose(dx.bayes_factor[cause], expected, rel_tol=TOL), (cause, dx.bayes_factor[cause], expected)
        assert math.isclose(dx.weight_of_evidence[cause], 10.0 * math.log10(expected), abs_tol=1e-8), cause


# ---------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------
@given(networks_with_evidence())
def test_bayes_factor_is_above_one_exactly_when_the_posterior_rises_above_the_prior(
    case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    dx = kneebayes.Model(spec).diagnose(evidence)
    factors = _factors_by_state(dx)
    for (cause, state), factor in factors.items():
        post, prior = dx.distributions[cause][state], _prior_of(dx, cause, state)
        if post > prior + 1e-12:
            assert factor > 1.0, (cause, state, post, prior, factor)
        elif post < prior - 1e-12:
            assert factor < 1.0, (cause, state, post, prior, factor)
        else:   # the posterior did not move (beyond rounding): no evidence either way
            assert abs(factor - 1.0) <= 1e-6 or min(prior, 1.0 - prior) < 1e-6, (cause, state, post, prior, factor)


@given(networks())
def test_with_no_evidence_every_factor_is_exactly_one(spec: ModelSpec) -> None:
    dx = kneebayes.Model(spec).diagnose({})
    assert set(_factors_by_state(dx).values()) <= {1.0}
    assert all(w == 0.0 for w in _woe_values(dx))


def _woe_values(dx: kneebayes.Diagnosis) -> list[float]:
    return [w for v in dx.weight_of_evidence.values() for w in ([v] if isinstance(v, float) else v.values())]


def _two_parts(other_prior: float) -> ModelSpec:
    """A cause ``c`` with a finding ``f``, and an unconnected cause ``d`` with a finding ``g``."""
    def finding(node_id: str, parent: str, p_yes: float, p_no: float) -> NodeSpec:
        columns = (TableColumn(((parent, "yes"),), (param(p_yes), param(1.0 - p_yes))),
                   TableColumn(((parent, "no"),), (param(p_no), param(1.0 - p_no))))
        return NodeSpec(node_id, node_id, "finding", "?", YES_NO, Table((parent,), columns), True)

    nodes = (
        NodeSpec("c", "c", "cause", "?", YES_NO, Prior((param(0.2), param(0.8))), False),
        NodeSpec("d", "d", "cause", "?", YES_NO, Prior((param(other_prior), param(1.0 - other_prior))), False),
        finding("f", "c", 0.9, 0.1),
        finding("g", "d", 0.7, 0.2),
    )
    return ModelSpec(name="two", version="0", title="two unconnected parts", nodes=nodes)


@pytest.mark.parametrize("answer", YES_NO)
def test_a_cause_the_answers_do_not_reach_has_factor_one(answer: str) -> None:
    dx = kneebayes.Model(_two_parts(0.3)).diagnose({"f": answer})
    assert dx.bayes_factor["d"] == pytest.approx(1.0, abs=1e-12)
    assert dx.bayes_factor["c"] == pytest.approx(9.0 if answer == "yes" else 1.0 / 9.0, rel=1e-12)


@given(data=st.data())
def test_evidence_order_is_irrelevant(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    ids = [n.id for n in knee_model.nodes]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True), label="nodes")
    evidence = {node: data.draw(st.sampled_from(YES_NO), label=node) for node in chosen}
    items = list(evidence.items())
    random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed")).shuffle(items)
    first, second = knee_model.diagnose(evidence), knee_model.diagnose(dict(items))
    for cause, factor in first.bayes_factor.items():
        assert math.isclose(factor, second.bayes_factor[cause], rel_tol=1e-12), cause
    assert [c for c, _ in first.explaining_causes] == [c for c, _ in second.explaining_causes]


@given(networks_with_evidence(allow_zero=True))
def test_factors_and_weights_are_never_nan_or_infinite(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    dx = kneebayes.Model(spec).diagnose(evidence)
    for factor in _factors_by_state(dx).values():
        assert FACTOR_MIN <= factor <= FACTOR_MAX
    for weight in _woe_values(dx):
        assert -1000.0 <= weight <= 1000.0
    for cause, factor in dx.explaining_causes:
        assert FACTOR_MIN <= factor <= FACTOR_MAX, cause
    for value in dx.lift.values():
        for lift in ([value] if isinstance(value, float) else value.values()):
            assert 0.0 <= lift <= FACTOR_MAX


# ---------------------------------------------------------------------------------
# Certainty: observed causes, deterministic tables, certain priors
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("answer", "factor", "weight"), [("yes", 1e100, 1000.0), ("no", 1e-100, -1000.0)])
def test_an_observed_cause_has_the_limit_factor_exactly(knee_model: kneebayes.Model, answer: str,
                                                        factor: float, weight: float) -> None:
    dx = knee_model.diagnose({"meniscal_injury": answer, "limping": "yes"})
    assert dx.bayes_factor["meniscal_injury"] == factor
    assert dx.weight_of_evidence["meniscal_injury"] == weight
    assert dict(dx.explaining_causes)["meniscal_injury"] == factor


def _deterministic(cause_prior: float) -> ModelSpec:
    """A cause ``c`` whose finding ``f`` is yes exactly when ``c`` is yes (a deterministic table)."""
    columns = (TableColumn((("c", "yes"),), (param(1.0), param(0.0))),
               TableColumn((("c", "no"),), (param(0.0), param(1.0))))
    nodes = (
        NodeSpec("c", "c", "cause", "?", YES_NO, Prior((param(cause_prior), param(1.0 - cause_prior))), False),
        NodeSpec("f", "f", "finding", "?", YES_NO, Table(("c",), columns), True),
    )
    return ModelSpec(name="det", version="0", title="deterministic", nodes=nodes)


@pytest.mark.parametrize(("answer", "factor"), [("yes", 1e100), ("no", 1e-100)])
def test_a_deterministic_table_ruling_a_cause_in_or_out_gives_the_limit_factor(answer: str, factor: float) -> None:
    dx = kneebayes.Model(_deterministic(0.3)).diagnose({"f": answer})
    assert dx.bayes_factor["c"] == factor
    assert not math.isnan(dx.lift["c"]) and dx.lift["c"] == (1.0 / 0.3 if answer == "yes" else 0.0)


@pytest.mark.parametrize("prior", [0.0, 1.0])
def test_a_cause_whose_prior_is_certain_has_factor_one_and_lift_one(prior: float) -> None:
    model = kneebayes.Model(_deterministic(prior))
    dx = model.diagnose({"f": "yes" if prior == 1.0 else "no"})
    assert dx.bayes_factor["c"] == 1.0
    assert dx.weight_of_evidence["c"] == 0.0
    assert dx.lift["c"] == 1.0


# ---------------------------------------------------------------------------------
# The pure functions
# ---------------------------------------------------------------------------------
def _pair(weights: tuple[float, float]) -> tuple[float, float]:
    """A distribution over a state and the rest, from two weights (as marginals are: summing to 1)."""
    a, b = weights
    return (a / (a + b), b / (a + b)) if a + b > 0 else (0.5, 0.5)


_WEIGHT = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1e-300, 1e-20, 1.0]))


@given(st.lists(st.tuples(st.tuples(_WEIGHT, _WEIGHT).map(_pair), st.tuples(_WEIGHT, _WEIGHT).map(_pair)),
                min_size=1, max_size=20))
def test_odds_ratio_follows_the_definition_and_its_limits(pairs: list[tuple[tuple[float, float], ...]]) -> None:
    rows = [(p, rest, p0, rest0) for (p, rest), (p0, rest0) in pairs]
    p, rest, p0, rest0 = (np.array(col) for col in zip(*rows))
    got = odds_ratio(p, rest, p0, rest0)
    for g, args in zip(got.tolist(), rows):
        expected = _reference_factor(*args)
        assert math.isclose(g, expected, rel_tol=1e-12), (args, g, expected)


@given(st.lists(st.floats(1e-6, 1.0), min_size=2, max_size=6), st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6))
def test_weigh_on_a_batch_equals_weigh_row_by_row(prior_raw: list[float], post_raw: list[float]) -> None:
    n = min(len(prior_raw), len(post_raw))
    prior = np.array(prior_raw[:n]) / sum(prior_raw[:n])
    assume(sum(post_raw[:n]) > 0)
    post = np.array(post_raw[:n]) / sum(post_raw[:n])
    layout = prepare(prior, [("t", tuple(f"s{i}" for i in range(n)), "s0")])
    rows = np.stack([post, prior, post[::-1] / post.sum()])
    batch, _ = weigh(rows, layout)
    for r in range(rows.shape[0]):
        one, _ = weigh(rows[r], layout)
        np.testing.assert_allclose(batch[r], one, rtol=1e-13)


def test_decibans_of_the_limits_are_plus_and_minus_a_thousand() -> None:
    assert decibans([FACTOR_MAX, FACTOR_MIN, 1.0]).tolist() == [1000.0, -1000.0, 0.0]


def test_the_explanation_measure_is_named_bayes_factor(knee_model: kneebayes.Model) -> None:
    assert EXPLANATION_MEASURE == "bayes_factor"
    assert knee_model.diagnose({"limping": "yes"}).explanation_measure == EXPLANATION_MEASURE


def test_factors_within_the_tie_grid_count_as_tied_and_the_posterior_decides() -> None:
    # Two yes/no targets: a with prior 0.3, b with prior 0.6; posteriors chosen so that both
    # factors are 2, a's a hair above b's (well inside the grid).
    layout = prepare(np.array([0.3, 0.7, 0.6, 0.4]), [("a", YES_NO, "no"), ("b", YES_NO, "no")])
    odds_a = 2.0 * (1.0 + TIE_GRID / 100) * 0.3 / 0.7
    odds_b = 2.0 * 0.6 / 0.4
    post = np.array([odds_a / (1 + odds_a), 1 / (1 + odds_a), odds_b / (1 + odds_b), 1 / (1 + odds_b)])
    from kneebayes.inference.evidence_weight import explaining_order

    factors, posteriors = weigh(post, layout)
    assert factors[0] > factors[1]                       # a's factor is (just) larger ...
    assert explaining_order(factors, posteriors, layout).tolist() == [1, 0]   # ... but b is more probable


@settings(max_examples=scaled(30))
@given(networks(min_causes=1))
def test_the_prior_is_computed_once_per_model(spec: ModelSpec) -> None:
    import kneebayes.inference.evidence_weight as ew

    calls = []
    original = ew.prepare

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ew, "prepare", counting)
        model = kneebayes.Model(spec)
        for evidence in ({}, {spec.nodes[0].id: spec.nodes[0].states[0]}):
            try:
                dx = model.diagnose(evidence)
            except kneebayes.ImpossibleEvidenceError:
                continue
            dx.prior, dx.bayes_factor, dx.explaining_causes, dx.lift  # noqa: B018
    assert len(calls) == 1
