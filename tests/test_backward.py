"""The backward sweep (src/kneebayes/inference/backward.py, network/backward_plan.py).

One forward and one backward pass over a component's plan must give every
node's joint with the targets exactly as clamping each node to each state
does, on random networks with multi-state nodes, noisy-ORs and evidence,
with the targets enumerated and not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pgmpy
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import brute_force, networks_with_evidence, scaled
from test_inference import many_findings

import kneebayes
from kneebayes.errors import SettingError
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference.backward import component_joints, forward_pass
from kneebayes.inference.node_joints import joint_with_targets
from kneebayes.inference.posterior import encode, target_joint
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network.compiled import JOINT_LIMIT

ENGINE_PATHS = pytest.mark.parametrize("joint_limit", [JOINT_LIMIT, 1], ids=["enumerated", "not_enumerated"])


def _prepared(spec: ModelSpec, evidence: dict[str, str], joint_limit: int) -> tuple[object, np.ndarray, object]:
    net = kneebayes.Model(spec, joint_limit=joint_limit).network
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    return net, lam, target_joint(net, lam)


@ENGINE_PATHS
@settings(max_examples=scaled(100))
@given(case=networks_with_evidence())
def test_sweep_gives_every_nodes_joint_with_the_targets_as_clamping_does(joint_limit: int, case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    net, lam, tj = _prepared(spec, evidence, joint_limit)
    assume(np.isfinite(tj.log_evidence[0]))
    nodes = list(range(len(net.names)))
    swept = joint_with_targets(net, lam, tj, nodes, method="sweep")
    clamped = joint_with_targets(net, lam, tj, nodes, method="clamp")
    np.testing.assert_allclose(swept, clamped, rtol=0, atol=1e-12)


@ENGINE_PATHS
@settings(max_examples=scaled(100))
@given(case=networks_with_evidence())
def test_sweep_marginals_equal_brute_force(joint_limit: int, case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)   # below, the float64 reference itself loses digits (subnormals)
    net, lam, tj = _prepared(spec, evidence, joint_limit)
    stack = joint_with_targets(net, lam, tj, list(range(len(net.names))), method="sweep").sum(axis=3)[0]
    for v, name in enumerate(net.names):
        expected = reference.marginal(name)
        for x, state in enumerate(net.states[v]):
            assert abs(stack[v, x] - expected[state]) <= 1e-9, (name, state)


@given(case=networks_with_evidence())
def test_each_nodes_shares_sum_to_the_components_value(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    net, lam, _ = _prepared(spec, evidence, JOINT_LIMIT)
    for comp in net.components:
        value, shares = component_joints(comp, lam[:, comp.nodes, :])
        np.testing.assert_allclose(shares.sum(axis=2), np.broadcast_to(value[:, None, :], shares.sum(axis=2).shape),
                                   rtol=1e-12, atol=1e-300)


def test_a_sweep_that_underflows_falls_back_to_clamping_with_rescaling() -> None:
    """P(evidence) ~ 1e-400 inside one component: the sweep's plain products underflow to zero."""
    model = kneebayes.Model(many_findings(200, "risk_factor", 1e-3, 1e-2, 0.3))
    evidence = {f"f{i}": "yes" for i in range(200)}
    net = model.network
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    tj = target_joint(net, lam)
    idx = [net.index["parent"]]
    swept = joint_with_targets(net, lam, tj, idx, method="sweep")
    clamped = joint_with_targets(net, lam, tj, idx, method="clamp")
    assert np.isfinite(swept).all() and swept.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(swept, clamped, rtol=0, atol=1e-12)


def test_an_unknown_method_is_refused_with_the_valid_ones(knee_model: kneebayes.Model) -> None:
    model = knee_model
    net = model.network
    lam = encode(net, [{}])
    with pytest.raises(SettingError, match="method must be 'auto', 'sweep' or 'clamp', not 'fast'"):
        joint_with_targets(net, lam, target_joint(net, lam), [0], method="fast")


@given(case=networks_with_evidence())
def test_remembered_joints_of_an_unreached_component_stay_exact_for_later_evidence(case: tuple[ModelSpec, dict[str, str]]) -> None:
    """A closed component no evidence reaches keeps its sweep; a later evidence set reusing it must still be exact."""
    spec, evidence = case
    net, lam0, tj0 = _prepared(spec, {}, JOINT_LIMIT)
    nodes = list(range(len(net.names)))
    joint_with_targets(net, lam0, tj0, nodes, method="sweep")       # remembers every closed component's sweep
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    tj = target_joint(net, lam)
    assume(np.isfinite(tj.log_evidence[0]))
    again = joint_with_targets(net, lam, tj, nodes, method="sweep")
    np.testing.assert_allclose(again, joint_with_targets(net, lam, tj, nodes, method="clamp"), rtol=0, atol=1e-12)


@given(case=networks_with_evidence(), data=st.data())
def test_sweep_for_some_nodes_skips_the_rest_and_still_equals_clamping(case: tuple[ModelSpec, dict[str, str]],
                                                                      data: st.DataObject) -> None:
    spec, evidence = case
    net, lam, tj = _prepared(spec, evidence, JOINT_LIMIT)
    assume(np.isfinite(tj.log_evidence[0]))
    nodes = data.draw(st.lists(st.sampled_from(range(len(net.names))), min_size=1, unique=True), label="nodes")
    swept = joint_with_targets(net, lam, tj, nodes, method="sweep")
    np.testing.assert_allclose(swept, joint_with_targets(net, lam, tj, nodes, method="clamp"), rtol=0, atol=1e-12)


@given(case=networks_with_evidence())
def test_a_sweep_reusing_the_posteriors_forward_half_equals_a_fresh_sweep(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    net, lam, tj = _prepared(spec, evidence, JOINT_LIMIT)
    assume(np.isfinite(tj.log_evidence[0]))
    nodes = list(range(len(net.names)))
    reused = joint_with_targets(net, lam, tj, nodes, method="sweep")
    fresh = joint_with_targets(net, lam, tj._replace(forwards=()), nodes, method="sweep")
    np.testing.assert_allclose(reused, fresh, rtol=0, atol=1e-15)
    # a second ranking from the same posterior must find its forward half untouched
    again = joint_with_targets(net, lam, tj, nodes[:1], method="sweep")
    np.testing.assert_allclose(again, fresh[:, :1, : again.shape[2]], rtol=0, atol=1e-15)


def test_child_keeps_each_components_forward_half_for_the_ranking() -> None:
    """CHILD's components are small enough to take the posterior from the sweep's forward half."""
    model = kneebayes.load_bif(str(Path(pgmpy.__file__).parent / "utils/example_models/child.bif.gz"), targets=["Disease"])
    net = model.network
    lam = encode(net, [to_indices(net, normalize(net, {"GruntingReport": "yes"}))])
    tj = target_joint(net, lam)
    assert all(comp.forward_first for comp in net.components)
    reached = net.where[net.index["GruntingReport"]][1]   # the other component, unreached, counts as exactly 1
    assert tj.forwards[reached] is not None
    np.testing.assert_allclose(tj.joint, target_joint(net, np.repeat(lam, 2, axis=0)).joint[:1], rtol=0, atol=1e-15)


@given(case=networks_with_evidence())
def test_a_component_too_wide_for_einsum_letters_is_clamped_and_stays_exact(case: tuple[ModelSpec, dict[str, str]]) -> None:
    """A backward step carries the targets too, so it can need more letters than its forward step;
    with too few letters there is no sweep, and asking for one clamps."""
    from unittest import mock

    from kneebayes.network import backward_plan as gradient

    spec, evidence = case
    net, lam, tj = _prepared(spec, evidence, JOINT_LIMIT)
    assume(np.isfinite(tj.log_evidence[0]))
    nodes = list(range(len(net.names)))
    expected = joint_with_targets(net, lam, tj, nodes, method="clamp")
    with mock.patch.object(gradient, "LETTERS", "b"):    # one letter: every step with two variables is too wide
        narrow, narrow_lam, narrow_tj = _prepared(spec, evidence, JOINT_LIMIT)
    assume(any(comp.gradient is None for comp in narrow.components))
    assert not any(comp.forward_first for comp in narrow.components if comp.gradient is None)
    np.testing.assert_allclose(narrow_tj.joint, tj.joint, rtol=0, atol=1e-15)
    np.testing.assert_allclose(joint_with_targets(narrow, narrow_lam, narrow_tj, nodes, method="sweep"), expected,
                               rtol=0, atol=1e-12)



@ENGINE_PATHS
@settings(max_examples=scaled(100))
@given(case=networks_with_evidence(), method=st.sampled_from(["auto", "sweep", "clamp"]), complement=st.booleans())
def test_every_nodes_joint_with_the_enumerated_targets_equals_brute_force_answered_or_not(
    joint_limit: int, case: tuple[ModelSpec, dict[str, str]], method: str, complement: bool
) -> None:
    """An answered node takes no pass (its joint is the targets' joint at its answer); the others do, with
    each clamped node's last state run too or taken as the rest's complement."""
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)   # below, the float64 reference itself loses digits (subnormals)
    assert reference.conditioned is not None
    net, lam, tj = _prepared(spec, evidence, joint_limit)
    nodes = list(range(len(net.names)))
    stack = joint_with_targets(net, lam, tj, nodes, method=method, complement=complement)[0]   # (nodes, card, K)
    enumerated = [reference.names.index(net.names[t]) for t in net.enumerated]
    for v, name in enumerate(net.names):
        node = reference.names.index(name)
        keep = [*enumerated, node] if node not in enumerated else enumerated
        summed = reference.conditioned.sum(axis=tuple(a for a in range(len(reference.names)) if a not in keep))
        order = sorted(keep)
        expected = np.transpose(summed, [order.index(a) for a in keep])   # axes: the enumerated targets, then the node
        for k, states in enumerate(net.joint_states.tolist()):
            for x in range(net.cards[v]):
                if node in enumerated:   # the node is one of the targets: the joint where it is at x
                    want = float(expected[tuple(states)]) if states[enumerated.index(node)] == x else 0.0
                else:
                    want = float(expected[(*states, x)])
                assert abs(stack[v, x, k] - want) <= 1e-12, (name, x, k)


@ENGINE_PATHS
@settings(max_examples=scaled(100))
@given(case=networks_with_evidence(), weight=st.floats(0.05, 0.95))
def test_a_soft_answer_that_leaves_one_state_gives_the_joints_of_the_hard_answer(
    joint_limit: int, case: tuple[ModelSpec, dict[str, str]], weight: float
) -> None:
    """A likelihood with one nonzero weight answers the node: every node's joint with the targets (after
    conditioning) is the hard answer's, whatever that weight, on the sweep as on clamping."""
    spec, evidence = case
    assume(evidence)
    net = kneebayes.Model(spec, joint_limit=joint_limit).network
    hard = to_indices(net, normalize(net, evidence))
    soft = dict(hard)
    node = min(hard)
    soft[node] = np.where(np.arange(net.cards[node]) == hard[node], weight, 0.0)
    lam_hard, lam_soft = encode(net, [hard]), encode(net, [soft])
    tj_hard, tj_soft = target_joint(net, lam_hard), target_joint(net, lam_soft)
    # Below 1e-200 the tables themselves may be subnormal (a noisy-OR weight of 2.2e-311 gave P(evidence) 1e-313),
    # and the weight multiplied into one has fewer digits than 1e-12 asks (6e-12 off, relative)
    assume(tj_hard.log_evidence[0] > np.log(1e-200))
    nodes = list(range(len(net.names)))
    expected = joint_with_targets(net, lam_hard, tj_hard, nodes, method="clamp")
    for method in ("auto", "sweep"):
        np.testing.assert_allclose(joint_with_targets(net, lam_soft, tj_soft, nodes, method=method), expected,
                                   rtol=0, atol=1e-12)


@ENGINE_PATHS
@settings(max_examples=scaled(100))
@given(case=networks_with_evidence(max_card=4), data=st.data())
def test_a_soft_answer_that_rules_out_one_state_gives_the_same_joints_on_the_sweep_as_clamping(
    joint_limit: int, case: tuple[ModelSpec, dict[str, str]], data: st.DataObject
) -> None:
    """A likelihood with a zero weight and others not leaves the node open: the ruled-out state's joint is
    zero, the others' as clamping gives them."""
    spec, evidence = case
    net = kneebayes.Model(spec, joint_limit=joint_limit).network
    hard = to_indices(net, normalize(net, evidence))
    wide = [v for v in range(len(net.names)) if net.cards[v] >= 3 and v not in hard]
    assume(wide)
    node = data.draw(st.sampled_from(wide))
    out = data.draw(st.integers(0, net.cards[node] - 1))
    soft = {**hard, node: np.where(np.arange(net.cards[node]) == out, 0.0, 0.5)}
    lam = encode(net, [soft])
    tj = target_joint(net, lam)
    assume(np.isfinite(tj.log_evidence[0]))
    nodes = list(range(len(net.names)))
    expected = joint_with_targets(net, lam, tj, nodes, method="clamp")
    assert not expected[0, node, out].any()
    for method in ("auto", "sweep"):
        np.testing.assert_allclose(joint_with_targets(net, lam, tj, nodes, method=method), expected, rtol=0, atol=1e-12)


@settings(max_examples=scaled(100))
@given(case=networks_with_evidence())
def test_a_forward_pass_told_the_observed_nodes_equals_the_full_pass(case: tuple[ModelSpec, dict[str, str]]) -> None:
    """Steps no evidence reaches take the pass without evidence's values: every forward slot is unchanged."""
    spec, evidence = case
    net, lam, _ = _prepared(spec, evidence, JOINT_LIMIT)
    observed = (lam[0] != net.lam_template).any(axis=1)
    for comp in net.components:
        if comp.gradient is None:
            continue
        own = lam[:, comp.nodes, :]
        bits = sum(1 << int(p) for p in np.flatnonzero(observed[comp.nodes]))
        told, full = forward_pass(comp, own, bits), forward_pass(comp, own)
        for step in comp.gradient.forward:
            np.testing.assert_allclose(told[step.output], full[step.output], rtol=1e-13, atol=0)


def test_a_batched_sweep_past_the_memory_budget_runs_its_rows_one_at_a_time(knee_model: kneebayes.Model) -> None:
    from unittest import mock

    from kneebayes.inference import node_joints

    net = knee_model.network
    rows = [{"locking_or_catching": "yes"}, {"tingling_or_numbness": "yes", "limping": "no"}, {}]
    lam = encode(net, [to_indices(net, normalize(net, ev)) for ev in rows])
    tj = target_joint(net, lam)
    nodes = list(range(len(net.names)))
    batched = joint_with_targets(net, lam, tj, nodes, method="sweep")
    spy = mock.Mock(wraps=node_joints._row_by_row)
    with mock.patch.object(node_joints, "_sweep_bytes", lambda comp: net.memory_budget), \
            mock.patch.object(node_joints, "_row_by_row", spy):
        apart = joint_with_targets(net, lam, tj, nodes, method="sweep")   # each row's sweep alone fits, three do not
    assert spy.call_count == len([c for c in net.components if c.gradient is not None])
    np.testing.assert_allclose(apart, batched, rtol=1e-12, atol=1e-15)
