"""A large component's families case by case (research/learning_buckets.py, inference/pruned.family_posteriors,
network/pruned_plan.bucket_plan's ``families``).

Each case's observed values cut their axes out of every table; one bucket
pass over the cut tables and its way back must give every family's
posterior as the full joint does, barren hidden nodes included, and
learning must count with it exactly what it counts without it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import brute_force, networks, scaled
from test_learning import brute_counts, clamping_spec
from test_learning_sweep import chain_of_findings, families_by_brute_force, networks_with_rows

import kneebayes
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference.posterior import encode
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network import compiled
from kneebayes.network.compiled import CompiledNetwork, compile_network
from kneebayes.network.pruned_plan import Pruning
from kneebayes.research import learning_buckets, learning_counts
from kneebayes.research.learning_buckets import PatternPlans, bucket_counts, by_buckets
from kneebayes.research.learning_counts import expected_counts

BUDGET = 2.0**30


def _pruned(spec: ModelSpec) -> CompiledNetwork:
    """Every component pruned, noisy-ORs whole, no targets enumerated: each component one a bucket pass serves."""
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        return compile_network(spec, joint_limit=1, split_noisy_or=False)


def _always(self: Pruning, *args: object) -> bool:   # every pattern planned, however small the component
    return True


@settings(max_examples=scaled(100), deadline=None)
@given(case=networks_with_rows())
def test_each_familys_counts_from_bucket_passes_equal_the_full_joints(
        case: tuple[ModelSpec, list[dict[str, str]], np.ndarray]) -> None:
    spec, rows, weights = case
    net = _pruned(spec)
    want = families_by_brute_force(spec, net, rows, weights)
    assume(want is not None)
    lam = np.concatenate([encode(net, [to_indices(net, normalize(net, row))]) for row in rows])
    with mock.patch.object(Pruning, "worth_it", _always), mock.patch.object(learning_buckets, "BUCKETS_FROM", -1.0):
        for comp in net.components:
            assert by_buckets(comp)
            got, covered, _ = bucket_counts(comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes], weights,
                                            PatternPlans(), BUDGET)
            assert covered.all()
            assert set(got) == {int(v) for v in comp.nodes}
            for v, table in got.items():
                np.testing.assert_allclose(table, want[v], rtol=0, atol=1e-10)


@settings(max_examples=scaled(60), deadline=None)
@given(case=networks_with_rows())
def test_each_rows_log_value_is_the_probability_of_the_components_evidence(
        case: tuple[ModelSpec, list[dict[str, str]], np.ndarray]) -> None:
    spec, rows, weights = case
    net = _pruned(spec)
    lam = np.concatenate([encode(net, [to_indices(net, normalize(net, row))]) for row in rows])
    with mock.patch.object(Pruning, "worth_it", _always):
        for comp in net.components:
            members = {net.names[v] for v in comp.nodes}
            want = [brute_force(spec, {k: v for k, v in row.items() if k in members}).p_evidence for row in rows]
            _, covered, log_values = bucket_counts(comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes],
                                                   weights, PatternPlans(), BUDGET)
            assert covered.tolist() == [p > 0.0 for p in want]      # an impossible row is left to the others
            np.testing.assert_allclose(np.exp(log_values[covered]), np.array(want)[covered], rtol=1e-9, atol=0)
            assert (log_values[~covered] == 0.0).all()


@settings(max_examples=scaled(60), deadline=None)
@given(spec=networks(max_nodes=7), data=st.data())
def test_learning_counts_with_bucket_passes_what_it_counts_without(spec: ModelSpec, data: st.DataObject) -> None:
    net = _pruned(spec)
    # a subnormal entry (1.3e-314) holds a few digits only, which the two ways lose differently (1.5e-9 relative)
    assume(all(bool(((table == 0.0) | (table >= 1e-300)).all()) for table in net.tables))
    rows = data.draw(st.integers(1, 5))
    codes = np.array([[data.draw(st.integers(-1, net.cards[i] - 1)) for i in range(len(net.names))]
                      for _ in range(rows)], dtype=np.int8)
    weights = np.arange(1.0, rows + 1.0)
    with mock.patch.object(learning_buckets, "BUCKETS_FROM", math.inf):
        plain = expected_counts(net, codes, weights)
    assume(plain.impossible is None)
    with mock.patch.object(Pruning, "worth_it", _always), mock.patch.object(learning_buckets, "BUCKETS_FROM", -1.0):
        found = expected_counts(net, codes, weights)
    assert found.impossible is None
    assert abs(found.log_likelihood - plain.log_likelihood) <= 1e-9 * max(1.0, abs(plain.log_likelihood))
    for got, expected in zip(found.tables, plain.tables):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_a_log_value_far_below_any_float_is_exact() -> None:
    count = 260
    spec = chain_of_findings(count)                  # P(every finding yes) about 1e-338: the pass rescales
    net = _pruned(spec)
    comp = net.components[net.where[net.index["h"]][1]]
    lam = encode(net, [{net.index[f"f{k}"]: 0 for k in range(count)}])
    with mock.patch.object(Pruning, "worth_it", _always):
        _, covered, log_values = bucket_counts(comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes], np.ones(1),
                                               PatternPlans(), BUDGET)
    want = np.logaddexp(math.log(0.3) + count * math.log(0.05), math.log(0.7) + count * math.log(0.02))
    assert covered.all() and log_values[0] == pytest.approx(want, rel=1e-12)


def _clamping_network() -> tuple[kneebayes.Model, CompiledNetwork, np.ndarray]:
    model = kneebayes.Model(clamping_spec())
    codes = np.array([[-1, -1, -1, 0, 1], [0, -1, -1, 1, -1], [-1, 2, 0, -1, 0], [-1, 2, 0, -1, 0]], dtype=np.int8)
    return model, _pruned(model.spec), codes


@contextlib.contextmanager
def _planning_counted() -> Iterator[list[object]]:
    """Every pattern planned and every component taken case by case; yields the patterns planned, in turn."""
    planned: list[object] = []
    plan = learning_buckets.family_plan

    def counting(*args: object) -> object:
        planned.append(args[1])
        return plan(*args)   # type: ignore[arg-type]

    with mock.patch.object(Pruning, "worth_it", _always), mock.patch.object(learning_buckets, "BUCKETS_FROM", -1.0), \
            mock.patch.object(learning_buckets, "family_plan", counting):
        yield planned


def test_each_pattern_is_planned_once_and_its_plan_serves_the_next_iterations_network() -> None:
    model, net, codes = _clamping_network()
    with _planning_counted() as planned:
        layout = learning_counts.case_layout(net, codes, np.ones(4))
        first = learning_counts.counts(net, layout)
        again = learning_counts.counts(_pruned(model.spec), layout)   # a new network of the same structure
    assert len(planned) == 3                         # rows 3 and 4 share a pattern; the second pass plans none
    want, _ = brute_counts(model, codes, np.ones(4))
    for found in (first, again):
        for got, expected in zip(found.tables, want):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_past_the_kept_steps_the_plans_are_dropped_and_made_again_and_the_counts_stay_exact() -> None:
    model, net, codes = _clamping_network()
    with _planning_counted() as planned, mock.patch.object(learning_buckets, "KEPT_PLAN_STEPS", 1):
        layout = learning_counts.case_layout(net, codes, np.ones(4))
        found = [learning_counts.counts(net, layout) for _ in range(2)]
    assert [len(plans) for plans in layout.bucket_plans.values()] == [1]    # one kept at a time
    assert len(planned) == 6                         # three patterns, planned again in the second pass
    want, _ = brute_counts(model, codes, np.ones(4))
    for counts in found:
        for got, expected in zip(counts.tables, want):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_rows_whose_plan_is_declined_are_counted_by_the_other_paths() -> None:
    model, net, codes = _clamping_network()
    found = []
    counts = learning_buckets.bucket_counts

    def spying(*args: object) -> learning_buckets.BucketCounts:
        out = counts(*args)   # type: ignore[arg-type]
        found.append(out.covered.copy())
        return out

    with mock.patch.object(Pruning, "worth_it", lambda self, *args: False), \
            mock.patch.object(learning_buckets, "BUCKETS_FROM", -1.0), \
            mock.patch.object(learning_counts, "bucket_counts", spying):
        got = expected_counts(net, codes, np.ones(4))
    assert found and not any(covered.any() for covered in found)    # asked, and every row declined
    want, _ = brute_counts(model, codes, np.ones(4))
    for table, expected in zip(got.tables, want):
        np.testing.assert_allclose(table, expected, rtol=0, atol=1e-12)


def test_a_small_component_is_swept_in_one_batch_not_case_by_case() -> None:
    assert not any(by_buckets(comp) for comp in kneebayes.load_model().network.components)
    assert not any(by_buckets(comp) for comp in _clamping_network()[1].components)   # under BUCKETS_FROM


def test_a_row_with_a_soft_answer_is_left_to_the_other_paths() -> None:
    _, net, codes = _clamping_network()
    comp = net.components[0]
    own = net.lam_template[None, comp.nodes].copy()
    own[0, 0, :2] = (0.3, 0.7)                       # a likelihood, not a state
    with mock.patch.object(Pruning, "worth_it", _always):
        got, covered, log_values = bucket_counts(comp, own, net.lam_template[comp.nodes], np.ones(1), PatternPlans(),
                                                 BUDGET)
    assert not covered.any() and all(float(t.sum()) == 0.0 for t in got.values()) and (log_values == 0.0).all()
