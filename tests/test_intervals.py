"""Uncertainty from the ranges: Beta/Dirichlet fits, the vectorised draws, intervals, stability."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import beta

import kneebayes
from kneebayes.errors import ImpossibleEvidenceError, InvalidStateError, UnknownNodeError
from kneebayes.evidence import normalize, to_indices
from kneebayes.modelfile.schema import (
    ModelSpec,
    NodeSpec,
    NoisyOr,
    Parameter,
    Prior,
    Table,
    TableColumn,
)
from kneebayes.research import intervals
from kneebayes.research.intervals import (
    _build_sampler,
    DrawPlan,
    _run_draws,
    beta_for_range,
    dirichlet_for_ranges,
    flat_values,
    posterior_intervals,
    posterior_samples,
    top_question_stability,
)
from kneebayes.research.progress import Progress, should_show

from strategies import networks_with_evidence

EVIDENCE_SETS = [
    {},
    {"locking_or_catching": "yes", "swelling_behind_knee": "yes"},
    {"tingling_or_numbness": "yes", "poor_warmup": "no", "sharp_pain": "no"},
    {"meniscal_injury": "yes", "limping": "no"},
    {"worse_with_activity": "yes", "sharp_pain": "yes", "localized_tenderness": "yes", "limping": "no",
     "instability": "no", "symptoms_over_two_weeks": "yes", "knee_trauma": "no", "previous_injury": "yes"},
]


def _exact(model: kneebayes.Model, evidence: dict[str, str]) -> dict[str, float]:
    return dict(model.diagnose(evidence).posterior)


# -- the fits ---------------------------------------------------------------------------
@pytest.mark.parametrize("low, high", [(0.25, 0.65), (0.01, 0.55), (0.001, 0.01), (0.9, 0.999), (0.45, 0.55),
                                       (0.01, 0.99), (1e-5, 3e-5), (0.3, 0.3001)])
def test_beta_fit_quantiles_match_the_range(low: float, high: float) -> None:
    a, b = beta_for_range(low, high)
    q05, q95 = beta.ppf([0.05, 0.95], a, b)
    assert q05 == pytest.approx(low, abs=1e-6, rel=1e-6)
    assert q95 == pytest.approx(high, abs=1e-6, rel=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.001, 0.98), st.floats(0.002, 0.9))
def test_beta_fit_property(low: float, width: float) -> None:
    high = min(low + width * (1 - low), 0.999)
    assume(high - low > 1e-4)
    a, b = beta_for_range(low, high)
    q = beta.ppf([0.05, 0.95], a, b)
    assert np.allclose(q, [low, high], atol=1e-6, rtol=0)


def test_beta_fit_rejects_a_bad_range() -> None:
    with pytest.raises(kneebayes.ParameterError):
        beta_for_range(0.5, 0.5)
    with pytest.raises(kneebayes.ParameterError):
        beta_for_range(0.0, 0.5)


def test_dirichlet_with_two_cells_is_the_beta() -> None:
    alpha = dirichlet_for_ranges((0.3, 0.7), ((0.2, 0.45), (0.55, 0.8)))
    assert alpha == pytest.approx(beta_for_range(0.2, 0.45), rel=1e-6)


def test_dirichlet_marginals_near_the_ranges() -> None:
    ranges = ((0.1, 0.3), (0.35, 0.65), (0.2, 0.4))
    alpha = np.array(dirichlet_for_ranges((0.2, 0.5, 0.3), ranges))
    for a, (low, high) in zip(alpha, ranges):
        q = beta.ppf([0.05, 0.95], a, alpha.sum() - a)
        assert q == pytest.approx([low, high], abs=0.05)


# -- a small hand-made model with every kind of number -------------------------------------
def _p(value: float, low: float | None = None, high: float | None = None) -> Parameter:
    rng = None if low is None else (low, high)
    return Parameter(value, "test", "test", rng)


def small_spec(with_ranges: bool = True) -> ModelSpec:
    """Two yes/no causes, a three-state risk factor, a noisy-OR finding and a table finding."""
    r = (lambda v, lo, hi: _p(v, lo, hi)) if with_ranges else (lambda v, lo, hi: _p(v))
    load = NodeSpec("load", "load", "risk_factor", "load?", ("low", "mid", "high"),
                    Prior((r(0.5, 0.3, 0.7), r(0.3, 0.15, 0.45), r(0.2, 0.1, 0.35))), True)
    c1_cols = tuple(
        TableColumn((("load", s),), (r(py, py / 2, (1 + py) / 2), r(1 - py, (1 - py) / 2, 1 - py / 2)))
        for s, py in (("low", 0.1), ("mid", 0.3), ("high", 0.6))
    )
    c1 = NodeSpec("c1", "c1", "cause", "c1?", ("yes", "no"), Table(("load",), c1_cols), False)
    yes, no = _p(0.2, 0.1, 0.35) if with_ranges else _p(0.2), _p(0.8, 0.65, 0.9) if with_ranges else _p(0.8)
    c2 = NodeSpec("c2", "c2", "cause", "c2?", ("yes", "no"), Prior((yes, no), derived_last=True), False)
    f1 = NodeSpec("f1", "f1", "finding", "f1?", ("yes", "no"),
                  NoisyOr(r(0.05, 0.01, 0.2), (("c1", r(0.7, 0.5, 0.9)), ("c2", r(0.4, 0.2, 0.6)))), True)
    f2_cols = []
    for a in ("yes", "no"):
        for b in ("yes", "no"):
            base = {("yes", "yes"): (0.6, 0.3, 0.1), ("yes", "no"): (0.5, 0.3, 0.2),
                    ("no", "yes"): (0.2, 0.5, 0.3), ("no", "no"): (0.1, 0.2, 0.7)}[(a, b)]
            f2_cols.append(TableColumn((("c1", a), ("c2", b)),
                                       tuple(r(v, v / 2, min(v * 1.5, 0.95)) for v in base)))
    f2 = NodeSpec("f2", "f2", "finding", "f2?", ("mild", "moderate", "severe"), Table(("c1", "c2"), tuple(f2_cols)), True)
    return ModelSpec("small", "0", "small test model", (load, c1, c2, f1, f2))


# -- exactness of the draw engine ------------------------------------------------------------
@pytest.mark.parametrize("evidence", EVIDENCE_SETS)
def test_draws_at_the_written_numbers_equal_the_engine(knee_model: kneebayes.Model, evidence: dict[str, str]) -> None:
    prepared, result = _run_draws(knee_model, evidence, 7, 0, False, at_base=True)
    exact = knee_model.diagnose(evidence).distributions
    expected = np.array([exact[t][s] for t, s in prepared.labels])
    assert np.abs(result - expected[None, :]).max() < 1e-12


@pytest.mark.parametrize("evidence", [{}, {"f1": "yes"}, {"f2": "severe", "load": "high"}, {"c1": "no", "f2": "mild"}])
def test_small_model_at_base_and_mixed_fixed(evidence: dict[str, str]) -> None:
    for spec in (small_spec(True), small_spec(False)):
        model = kneebayes.Model(spec)
        prepared, result = _run_draws(model, evidence, 5, 0, False, at_base=True)
        exact = model.diagnose(evidence).distributions
        expected = np.array([exact[t][s] for t, s in prepared.labels])
        assert np.abs(result - expected[None, :]).max() < 1e-12


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks_with_evidence(max_nodes=7))
def test_draw_engine_equals_the_engine_on_random_networks(case: tuple[ModelSpec, dict[str, str]]) -> None:
    """Every node treated as drawn (all draws at the written numbers), and every node fixed."""
    spec, evidence = case
    model = kneebayes.Model(spec)
    assume(model.causes)
    try:
        exact = model.diagnose(evidence).distributions
    except ImpossibleEvidenceError:
        assume(False)
        return
    net = model.network
    observed = to_indices(net, normalize(net, evidence))
    keep = [t for t in net.targets if t not in observed]
    assume(keep)
    base = tuple(flat_values(n) for n in spec.nodes)
    for sampled in (frozenset(range(len(spec.nodes))), frozenset()):
        plan = DrawPlan(model, observed, keep, sampled, base, 3)
        joint = plan.run({i: np.repeat(base[i][None], 3, axis=0) for i in sampled}, 3).reshape(3, -1)
        joint = joint / joint.sum(axis=1, keepdims=True)
        grid = np.indices([net.cards[v] for v in keep]).reshape(len(keep), -1)
        for k, t in enumerate(keep):
            for s, name in enumerate(net.states[t]):
                got = joint[:, grid[k] == s].sum(axis=1)
                assert np.allclose(got, exact[net.names[t]][name], atol=1e-9, rtol=0)


# -- sampling ------------------------------------------------------------------------------
def test_sampled_numbers_follow_the_rules() -> None:
    spec = small_spec(True)
    sampler = _build_sampler(spec)
    numbers = sampler.draw(np.random.default_rng(3), 4000)
    load, c1, c2, f1, f2 = (numbers[i] for i in range(5))
    assert np.allclose(load.sum(axis=1), 1.0)                       # Dirichlet over a multi-state prior
    assert np.allclose(c1.reshape(-1, 3, 2).sum(axis=2), 1.0)       # table columns still sum to 1
    assert np.allclose(f2.reshape(-1, 4, 3).sum(axis=2), 1.0)
    assert np.allclose(c2[:, 0] + c2[:, 1], 1.0)                    # complement follows P(yes)
    # P(yes) of c2 has its range as the central 90%: about 5% of draws below 0.1, 5% above 0.35
    assert 0.03 < (c2[:, 0] < 0.1).mean() < 0.07
    assert 0.03 < (c2[:, 0] > 0.35).mean() < 0.07
    assert 0.03 < (f1[:, 1] > 0.9).mean() < 0.07                    # a noisy-OR weight
    # without ranges nothing varies
    assert not _build_sampler(small_spec(False)).sampled


def test_numbers_without_a_range_stay_fixed() -> None:
    spec = small_spec(True)
    nodes = list(spec.nodes)
    f1 = nodes[3]
    nodes[3] = replace(f1, parameters=replace(f1.parameters, leak=_p(0.05)))
    sampler = _build_sampler(replace(spec, nodes=tuple(nodes)))
    numbers = sampler.draw(np.random.default_rng(0), 100)
    assert np.all(numbers[3][:, 0] == 0.05)
    assert numbers[3][:, 1].std() > 0


# -- the public functions -------------------------------------------------------------------
def test_intervals_shape_and_order(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[1]
    table = posterior_intervals(knee_model, ev, draws=2000, seed=1)
    assert list(table.index) == list(knee_model.causes)
    assert list(table.columns) == ["mean", "low", "high"]
    assert (table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all()
    assert ((table["low"] >= 0) & (table["high"] <= 1)).all()
    assert table.attrs["mass"] == 0.9 and table.attrs["draws"] == 2000 and table.attrs["seed"] == 1
    assert table.attrs["posterior"] == pytest.approx(_exact(knee_model, ev), abs=1e-12)
    wider = posterior_intervals(knee_model, ev, draws=2000, seed=1, mass=0.99)
    assert (wider["low"] <= table["low"] + 1e-12).all() and (wider["high"] >= table["high"] - 1e-12).all()


def test_model_method_delegates(knee_model: kneebayes.Model) -> None:
    a = knee_model.posterior_intervals(EVIDENCE_SETS[2], draws=500, seed=4)
    b = posterior_intervals(knee_model, EVIDENCE_SETS[2], draws=500, seed=4)
    assert a.equals(b)


def test_same_seed_same_result_different_seed_different(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[2]
    a = posterior_intervals(knee_model, ev, draws=1000, seed=7)
    b = posterior_intervals(knee_model, ev, draws=1000, seed=7)
    c = posterior_intervals(knee_model, ev, draws=1000, seed=8)
    assert a.equals(b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())


def test_tiny_ranges_give_the_exact_posterior(knee_model: kneebayes.Model) -> None:
    """Shrink every range to +-1e-6 around its value: the interval collapses onto the exact posterior."""
    spec = knee_model.spec

    def tight(p: Parameter) -> Parameter:
        if p.range is None or p.range[0] == p.range[1]:
            return p
        return replace(p, range=(p.value - 1e-6, p.value + 1e-6))

    nodes = []
    for n in spec.nodes:
        params = n.parameters
        if isinstance(params, Prior):
            params = replace(params, probabilities=tuple(tight(p) for p in params.probabilities))
        elif isinstance(params, NoisyOr):
            params = replace(params, leak=tight(params.leak), weights=tuple((k, tight(w)) for k, w in params.weights))
        nodes.append(replace(n, parameters=params))
    model = kneebayes.Model(replace(spec, nodes=tuple(nodes)))
    ev = EVIDENCE_SETS[1]
    table = posterior_intervals(model, ev, draws=200, seed=0)
    exact = _exact(knee_model, ev)
    for cause, row in table.iterrows():
        assert row["mean"] == pytest.approx(exact[cause], abs=1e-5)
        assert row["high"] - row["low"] < 1e-4


def test_ten_thousand_draws(knee_model: kneebayes.Model) -> None:
    table = knee_model.posterior_intervals(EVIDENCE_SETS[4], draws=10_000, seed=0)
    assert table.attrs["draws"] == 10_000 and table.attrs["impossible_draws"] == 0
    assert table.notna().all().all()


def test_observed_cause_is_a_point_mass(knee_model: kneebayes.Model) -> None:
    table = posterior_intervals(knee_model, {"meniscal_injury": "yes"}, draws=300)
    assert tuple(table.loc["meniscal_injury"]) == (1.0, 1.0, 1.0)


def test_multi_state_targets_and_samples() -> None:
    spec = small_spec(True)
    nodes = tuple(replace(n, kind="cause" if n.id in ("load", "c1") else ("finding" if n.kind == "cause" else n.kind))
                  for n in spec.nodes)
    model = kneebayes.Model(replace(spec, nodes=nodes))
    table = posterior_intervals(model, {"f1": "yes"}, draws=500, seed=2)
    assert table.index.names == ["cause", "state"]
    assert table.loc["load"]["mean"].sum() == pytest.approx(1.0)
    samples = posterior_samples(model, {"f1": "yes"}, draws=50, seed=2)
    assert samples.shape == (50, 5)
    binary = posterior_samples(kneebayes.Model(spec), {"f1": "yes"}, draws=50, seed=2)
    assert list(binary.columns) == ["c1", "c2"]


def test_evidence_errors_propagate(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError) as info:
        posterior_intervals(knee_model, {"tinglng": "yes"}, draws=10)
    assert "tingling_or_numbness" in info.value.suggestions
    with pytest.raises(InvalidStateError):
        posterior_intervals(knee_model, {"limping": "maybe"}, draws=10)
    with pytest.raises(UnknownNodeError):
        top_question_stability(knee_model, {"tinglng": "yes"}, draws=2)
    with pytest.raises(ValueError):
        posterior_intervals(knee_model, {}, draws=0)
    with pytest.raises(ValueError):
        posterior_intervals(knee_model, {}, draws=10, mass=1.5)


def test_impossible_evidence_raises() -> None:
    spec = small_spec(False)
    nodes = list(spec.nodes)
    nodes[2] = replace(nodes[2], parameters=Prior((_p(0.0, 0.0, 0.0), _p(1.0, 1.0, 1.0)), derived_last=True))
    model = kneebayes.Model(replace(spec, nodes=tuple(nodes)))
    with pytest.raises(ImpossibleEvidenceError):
        posterior_intervals(model, {"c2": "yes"}, draws=10)


def test_top_question_stability(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[1]
    table = top_question_stability(knee_model, ev, draws=30, seed=5)
    assert list(table.columns) == ["question", "count", "share"]
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["count"].sum() == 30
    assert table["share"].is_monotonic_decreasing
    assert table.attrs["top"] == knee_model.diagnose(ev).next_question.id
    again = top_question_stability(knee_model, ev, draws=30, seed=5)
    assert table.equals(again)


def test_spec_with_base_numbers_is_the_same_model(knee_model: kneebayes.Model) -> None:
    sampler = intervals._sampler(knee_model)
    spec = intervals._spec_with_numbers(knee_model.spec, {i: sampler.base[i] for i in sampler.sampled})
    assert kneebayes.Model(spec).content_hash == knee_model.content_hash


# -- progress ------------------------------------------------------------------------------
def test_progress_bar_forced_quiet_and_auto() -> None:
    out = io.StringIO()
    with Progress(10, enabled=True, label="x", stream=out) as bar:
        for _ in range(10):
            bar.update(1)
    assert out.getvalue().rstrip().endswith("10/10") and out.getvalue().endswith("\n")
    quiet = io.StringIO()
    with Progress(10, enabled=False, stream=quiet) as bar:
        bar.update(10)
    assert quiet.getvalue() == ""
    assert should_show(None, io.StringIO()) is False    # not a terminal, not a notebook
    auto = io.StringIO()
    with Progress(10, enabled=None, stream=auto) as bar:
        bar.update(10)
    assert auto.getvalue() == ""


def test_intervals_progress_goes_to_stderr(knee_model: kneebayes.Model, capsys: pytest.CaptureFixture[str]) -> None:
    posterior_intervals(knee_model, {}, draws=100, progress=True)
    assert "100/100" in capsys.readouterr().err
    posterior_intervals(knee_model, {}, draws=100)
    assert capsys.readouterr().err == ""
