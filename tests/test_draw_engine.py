"""Exact inference over many parameter draws at once: at the written numbers it is the main engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings

import kneebayes
from kneebayes.errors import ImpossibleEvidenceError, IntractableError
from kneebayes.evidence import normalize, to_indices
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.research.draw_engine import DrawPlan, TargetDraws
from kneebayes.research.draws import build_sampler, flat_values
from ranged import KNEE_EVIDENCE, small_spec
from strategies import networks_with_evidence, tiny_noisy_or_file


def at_written_numbers(model: kneebayes.Model, evidence: dict[str, str], draws: int) -> tuple[TargetDraws, np.ndarray]:
    """Every target state's posterior in ``draws`` draws, each at the numbers as written."""
    net = model.network
    sampler = build_sampler(model.spec)
    targets = TargetDraws.build(model.spec, net, to_indices(net, normalize(net, evidence)), sampler.sampled, sampler.base)
    numbers = {i: np.repeat(sampler.base[i][None, :], draws, axis=0) for i in sampler.sampled}
    return targets, targets.posteriors(numbers, draws)


def engine_answer(model: kneebayes.Model, evidence: dict[str, str], targets: TargetDraws) -> np.ndarray:
    exact = model.diagnose(evidence).distributions
    return np.array([exact[t][s] for t, s in targets.labels])


@pytest.mark.parametrize("evidence", KNEE_EVIDENCE)
def test_draws_at_the_written_numbers_equal_the_engine(knee_model: kneebayes.Model, evidence: dict[str, str]) -> None:
    targets, result = at_written_numbers(knee_model, evidence, 7)
    assert np.abs(result - engine_answer(knee_model, evidence, targets)[None, :]).max() < 1e-12


def test_draws_keep_every_digit_of_a_tiny_noisy_or(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # P(c = yes) is about 1e-12 with its parents open: pieces over a hidden variable would keep 4 of its digits.
    tiny_noisy_or_file(tmp_path / "tiny.yaml", leak=1e-12, weight=1e-12)
    model = kneebayes.load_model(tmp_path / "tiny.yaml")
    targets, result = at_written_numbers(model, {"r0": "no"}, 3)
    exact = -np.expm1(np.log1p(-1e-12) + 2 * np.log1p(-0.3 * 1e-12))    # r1, r2 open
    assert targets.labels[0] == ("c", "yes")
    assert np.abs(result[:, 0] / exact - 1.0).max() < 1e-13


@pytest.mark.parametrize("with_ranges", [True, False], ids=["drawn", "fixed"])
@pytest.mark.parametrize("evidence", [{}, {"f1": "yes"}, {"f2": "severe", "load": "high"}, {"c1": "no", "f2": "mild"}])
def test_every_kind_of_number_drawn_or_fixed_equals_the_engine(evidence: dict[str, str], with_ranges: bool) -> None:
    model = kneebayes.Model(small_spec(with_ranges))
    targets, result = at_written_numbers(model, evidence, 5)
    assert np.abs(result - engine_answer(model, evidence, targets)[None, :]).max() < 1e-12


def test_an_observed_target_is_a_point_mass() -> None:
    model = kneebayes.Model(small_spec(True))
    targets, result = at_written_numbers(model, {"c1": "no"}, 3)
    columns = [k for k, (t, _) in enumerate(targets.labels) if t == "c1"]
    assert result[:, columns].tolist() == [[0.0, 1.0]] * 3


def test_labels_are_every_state_of_every_target_in_order(knee_model: kneebayes.Model) -> None:
    targets, _ = at_written_numbers(knee_model, {}, 1)
    assert targets.binary
    assert targets.labels == tuple((c, s) for c in knee_model.causes for s in ("yes", "no"))


def test_each_draw_answers_with_its_own_numbers() -> None:
    """Two draws of one root's prior: the root's posterior, with nothing observed, is each draw's prior."""
    model = kneebayes.Model(small_spec(True))
    net = model.network
    base = [flat_values(n) for n in model.spec.nodes]
    c2 = net.index["c2"]
    plan = DrawPlan(model.spec, net, {}, [c2], frozenset({c2}), base)
    joint = plan.run({c2: np.array([[0.1, 0.9], [0.7, 0.3]])}, 2)
    assert (joint / joint.sum(axis=1, keepdims=True)) == pytest.approx(np.array([[0.1, 0.9], [0.7, 0.3]]), abs=1e-15)


def test_the_chunk_size_is_bounded(knee_model: kneebayes.Model) -> None:
    targets, _ = at_written_numbers(knee_model, KNEE_EVIDENCE[1], 1)
    assert 16 <= targets.chunk_size <= 4096


def test_draws_whose_tables_fit_one_at_a_time_run_in_chunks_that_fit_the_budget(knee_model: kneebayes.Model) -> None:
    # The knee's plans hold 64 entries a draw: five draws' steps (operands and result) fit 7,680 bytes, 1,024
    # would not. Planned for one draw, they run five at a time and answer as with the default budget.
    tight = kneebayes.Model(knee_model.spec, memory_budget=8 * 3 * 64 * 5)
    targets, _ = at_written_numbers(tight, KNEE_EVIDENCE[1], 1)
    assert targets.chunk_size == 5
    evidence = {"locking_or_catching": "yes"}
    pd.testing.assert_frame_equal(tight.posterior_intervals(evidence, draws=40),
                                  knee_model.posterior_intervals(evidence, draws=40), rtol=0, atol=1e-12)


def test_a_draw_that_does_not_fit_the_budget_is_refused_with_what_would_help(knee_model: kneebayes.Model) -> None:
    from dataclasses import replace

    net = replace(knee_model.network, memory_budget=8 * 32)       # fewer bytes than one draw's joint of the causes
    sampler = build_sampler(knee_model.spec)
    with pytest.raises(IntractableError, match=r"past the memory budget of 256 bytes; what would help: more evidence, "
                                               r"or a larger memory_budget$"):
        DrawPlan(knee_model.spec, net, {}, list(net.targets), sampler.sampled, sampler.base)


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
        plan = DrawPlan(spec, net, observed, keep, sampled, base)
        joint = plan.run({i: np.repeat(base[i][None], 3, axis=0) for i in sampled}, 3).reshape(3, -1)
        joint = joint / joint.sum(axis=1, keepdims=True)
        grid = np.indices([net.cards[v] for v in keep]).reshape(len(keep), -1)
        for k, t in enumerate(keep):
            for s, name in enumerate(net.states[t]):
                got = joint[:, grid[k] == s].sum(axis=1)
                assert np.allclose(got, exact[net.names[t]][name], atol=1e-9, rtol=0)
