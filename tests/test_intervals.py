"""Uncertainty from the ranges, as tables: posterior intervals, posterior draws, top-question stability."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import kneebayes
from kneebayes.errors import ImpossibleEvidenceError, InvalidStateError, SettingError, UnknownNodeError
from kneebayes.modelfile.schema import NoisyOr, Parameter, Prior
from kneebayes.research import intervals
from kneebayes.research.intervals import posterior_intervals, posterior_samples, top_question_stability
from ranged import KNEE_EVIDENCE, param, small_spec

EVIDENCE_SETS = KNEE_EVIDENCE


def _exact(model: kneebayes.Model, evidence: dict[str, str]) -> dict[str, float]:
    return dict(model.diagnose(evidence).posterior)


def test_intervals_shape_and_order(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[1]
    table = posterior_intervals(knee_model, ev, draws=2000, seed=1)
    assert list(table.index) == list(knee_model.causes)
    assert list(table.columns) == ["mean", "low", "high"]
    assert (table["low"] <= table["high"]).all()
    assert ((table["low"] >= 0) & (table["high"] <= 1)).all()
    assert table.attrs["mass"] == 0.9 and table.attrs["draws"] == 2000 and table.attrs["seed"] == 1
    assert table.attrs["posterior"] == pytest.approx(_exact(knee_model, ev), abs=1e-12)


def test_a_larger_mass_gives_wider_intervals(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[1]
    table = posterior_intervals(knee_model, ev, draws=2000, seed=1)
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


def _multi_state_model() -> kneebayes.Model:
    """The small model with load (three states) and c1 as its targets."""
    spec = small_spec(True)
    nodes = tuple(replace(n, kind="cause" if n.id in ("load", "c1") else ("finding" if n.kind == "cause" else n.kind))
                  for n in spec.nodes)
    return kneebayes.Model(replace(spec, nodes=nodes))


def test_multi_state_targets_get_a_row_per_state() -> None:
    table = posterior_intervals(_multi_state_model(), {"f1": "yes"}, draws=500, seed=2)
    assert table.index.names == ["cause", "state"]
    assert table.loc["load"]["mean"].sum() == pytest.approx(1.0)


def test_samples_have_a_column_per_target_state() -> None:
    samples = posterior_samples(_multi_state_model(), {"f1": "yes"}, draws=50, seed=2)
    assert samples.shape == (50, 5)


def test_samples_of_yes_no_targets_have_a_column_per_cause() -> None:
    samples = posterior_samples(kneebayes.Model(small_spec(True)), {"f1": "yes"}, draws=50, seed=2)
    assert list(samples.columns) == ["c1", "c2"]
    assert samples.index.name == "draw" and samples.attrs["draws"] == 50


def test_samples_and_intervals_use_the_same_draws(knee_model: kneebayes.Model) -> None:
    samples = posterior_samples(knee_model, EVIDENCE_SETS[2], draws=300, seed=9)
    table = posterior_intervals(knee_model, EVIDENCE_SETS[2], draws=300, seed=9)
    assert table["mean"].to_numpy() == pytest.approx(samples.mean().to_numpy(), abs=1e-15)


def test_an_unknown_evidence_node_is_named_with_suggestions(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError, match="unknown node 'tinglng'; did you mean 'tingling_or_numbness'") as info:
        posterior_intervals(knee_model, {"tinglng": "yes"}, draws=10)
    assert "tingling_or_numbness" in info.value.suggestions


def test_an_invalid_state_is_named(knee_model: kneebayes.Model) -> None:
    with pytest.raises(InvalidStateError, match="invalid state 'maybe' for node 'limping'"):
        posterior_intervals(knee_model, {"limping": "maybe"}, draws=10)


def test_stability_checks_the_evidence(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError, match="unknown node 'tinglng'"):
        top_question_stability(knee_model, {"tinglng": "yes"}, draws=2)


def test_zero_draws_is_a_setting_error(knee_model: kneebayes.Model) -> None:
    with pytest.raises(SettingError, match=r"draws must be from 1 to 10,000,000 \(kneebayes.research.intervals.MAX_DRAWS\), got 0"):
        posterior_intervals(knee_model, {}, draws=0)


def test_a_mass_above_one_is_a_setting_error(knee_model: kneebayes.Model) -> None:
    with pytest.raises(SettingError, match="mass must lie strictly between 0 and 1, such as 0.9, got 1.5"):
        posterior_intervals(knee_model, {}, draws=10, mass=1.5)


def test_impossible_evidence_raises() -> None:
    spec = small_spec(False)
    nodes = list(spec.nodes)
    nodes[2] = replace(nodes[2], parameters=Prior((param(0.0, 0.0, 0.0), param(1.0, 1.0, 1.0)), derived_last=True))
    model = kneebayes.Model(replace(spec, nodes=tuple(nodes)))
    with pytest.raises(ImpossibleEvidenceError, match=r"the evidence \{c2=yes\} has probability zero"):
        posterior_intervals(model, {"c2": "yes"}, draws=10)


def test_the_memory_check_names_the_setting_to_raise() -> None:
    with pytest.raises(SettingError, match=r"the limit is 4.0 GiB \(kneebayes.research.intervals.DRAW_MEMORY\)"):
        intervals.check_memory(10**9, 8)


def test_top_question_stability(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[1]
    table = top_question_stability(knee_model, ev, draws=30, seed=5)
    assert list(table.columns) == ["question", "count", "share"]
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["count"].sum() == 30
    assert table["share"].is_monotonic_decreasing
    assert table.attrs["top"] == knee_model.diagnose(ev).next_question.id


def test_top_question_stability_is_reproducible(knee_model: kneebayes.Model) -> None:
    ev = EVIDENCE_SETS[1]
    assert top_question_stability(knee_model, ev, draws=30, seed=5).equals(top_question_stability(knee_model, ev, draws=30, seed=5))


def test_names_that_moved_out_stay_importable_from_here() -> None:
    from kneebayes.research import checks, draw_engine, draws, ranges

    assert intervals.DrawPlan is draw_engine.DrawPlan and intervals.flat_values is draws.flat_values
    assert intervals.beta_for_range is ranges.beta_for_range and intervals.RANGE_MASS == ranges.RANGE_MASS
    assert intervals.check_count is checks.check_count and intervals.show is checks.show


def test_intervals_progress_goes_to_stderr(knee_model: kneebayes.Model, capsys: pytest.CaptureFixture[str]) -> None:
    posterior_intervals(knee_model, {}, draws=100, progress=True)
    assert "100/100" in capsys.readouterr().err


def test_intervals_are_quiet_by_default_off_a_terminal(knee_model: kneebayes.Model, capsys: pytest.CaptureFixture[str]) -> None:
    posterior_intervals(knee_model, {}, draws=100)
    assert capsys.readouterr().err == ""


SKEWED = """\
format: kneebayes-model/1
name: skewed
version: "1"
title: skewed
description: a rare cause whose only finding is nearly proof of it
source_document: none
nodes:
  - id: c
    label: c
    kind: cause
    question: "c?"
    prior: {value: 0.1, range: [0.000001, 0.6], source: s, rationale: r}
  - id: f
    label: f
    kind: finding
    question: "f?"
    noisy_or:
      leak: {value: 1.0e-10, range: [5.0e-11, 2.0e-10], source: s, rationale: r}
      weights:
        c: {value: 0.9, range: [0.8, 0.95], source: s, rationale: r}
"""


def test_the_interval_is_the_draws_quantiles_even_where_the_mean_lies_outside(tmp_path) -> None:
    path = tmp_path / "skewed.yaml"
    path.write_text(SKEWED)
    model = kneebayes.load_model(path)
    table = posterior_intervals(model, {"f": "yes"}, draws=4000, seed=0)
    draws = posterior_samples(model, {"f": "yes"}, draws=4000, seed=0)["c"].to_numpy()   # the same draws
    low, high = np.quantile(draws, [0.05, 0.95])
    assert (table.loc["c", "low"], table.loc["c", "high"]) == (low, high)
    assert table.loc["c", "mean"] < low       # a few draws near a prior of 1e-6 pull the mean below the interval
