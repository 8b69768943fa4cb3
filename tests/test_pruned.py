"""Pruning to the evidence's ancestors (src/kneebayes/inference/pruned.py, network/pruned_plan.py).

On the packaged networks pruning only switches on for large components, so
these tests switch it on for every component of small random networks and
compare with brute-force enumeration: barren nodes left out, evidence
instantiated, a component without evidence taken as exactly 1, and a
target whose table lies in a component kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import brute_force, networks_with_evidence

import kneebayes
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference.posterior import TargetJoint, encode
from kneebayes.inference import pruned
from kneebayes.inference.pruned import pruned_value, pruned_value_scaled
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network import compiled
from kneebayes.network.compiled import JOINT_LIMIT
from kneebayes.network.pruned_plan import Pruning

ENGINE_PATHS = pytest.mark.parametrize("joint_limit", [JOINT_LIMIT, 1], ids=["enumerated", "not_enumerated"])
# A small pattern runs as one einsum over all its tables; with the threshold at 0 every pattern is planned in buckets.
PLAN_KINDS = pytest.mark.parametrize("one_call_work", [pruned.ONE_CALL_WORK, 0], ids=["one_call", "buckets"])


def _always_pruned(spec: ModelSpec, joint_limit: int = JOINT_LIMIT) -> kneebayes.Model:
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        model = kneebayes.Model(spec, joint_limit=joint_limit)
    assert all(comp.pruning is not None for comp in model.network.components)
    return model


@PLAN_KINDS
@ENGINE_PATHS
@given(case=networks_with_evidence())
def test_pruned_target_posteriors_and_evidence_probability_equal_brute_force(
    joint_limit: int, one_call_work: int, case: tuple[ModelSpec, dict[str, str]]
) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)   # below, the float64 reference itself loses digits (subnormals)
    model = _always_pruned(spec, joint_limit)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(pruned, "ONE_CALL_WORK", one_call_work):
        dx = model.diagnose(evidence)
        got = dx.distributions
    assert abs(dx.log_evidence_probability - np.log(reference.p_evidence)) <= 1e-9
    for target, dist in got.items():
        expected = reference.marginal(target)
        for state, p in dist.items():
            assert abs(p - expected[state]) <= 1e-9, (target, state)


@PLAN_KINDS
@given(case=networks_with_evidence())
def test_a_pruned_component_value_equals_its_full_plan(one_call_work: int, case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    model = _always_pruned(spec)
    net = model.network
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    observed = (lam[0] != net.lam_template).any(axis=1)
    for comp in net.components:
        seen = observed[comp.nodes]
        with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
                mock.patch.object(pruned, "ONE_CALL_WORK", one_call_work):
            value = pruned_value(comp, lam[:, comp.nodes, :], seen)
        full, scale = compiled_value(comp, lam)
        assume(scale.max() == 0.0)
        np.testing.assert_allclose(value, full, rtol=1e-12, atol=1e-300)


@PLAN_KINDS
@given(case=networks_with_evidence(), data=st.data())
def test_a_pruned_value_weighs_a_soft_answer_in_and_equals_its_full_plan(
        one_call_work: int, case: tuple[ModelSpec, dict[str, str]], data: st.DataObject) -> None:
    # A soft answer sent the whole component to its fixed plan: MUNIN1, a ranking with three soft answers
    # among eight ran every clamped state through it, past 15 minutes.
    spec, evidence = case
    model = _always_pruned(spec)
    net = model.network
    inside = sorted(net.names[v] for comp in net.components for v in comp.nodes.tolist())
    assume(inside)                    # (else every node a target or on its own)
    soft = data.draw(st.sampled_from(inside))   # answered or not: a soft answer replaces a hard one
    states = spec.node(soft).states
    raw = np.array(data.draw(st.lists(st.floats(0.05, 1.0), min_size=len(states), max_size=len(states))))
    assume(raw.min() < raw.max())     # equal weights are no answer at all
    answers: dict[str, object] = {**evidence, soft: kneebayes.Likelihood(dict(zip(states, (raw / raw.max()).tolist())))}
    lam = encode(net, [to_indices(net, normalize(net, answers))])
    observed = (lam[0] != net.lam_template).any(axis=1)
    comp = next(c for c in net.components if net.index[soft] in c.nodes.tolist())
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(pruned, "ONE_CALL_WORK", one_call_work):
        value = pruned_value(comp, lam[:, comp.nodes, :], observed[comp.nodes])
        scaled = pruned_value_scaled(comp, lam[:, comp.nodes, :], observed[comp.nodes])
    full, scale = compiled_value(comp, lam)
    assume(scale.max() == 0.0)
    assert value is not None and scaled is not None
    np.testing.assert_allclose(value, full, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(scaled[0] * math.exp(scaled[1]), full, rtol=1e-12, atol=1e-300)   # messages rescaled


@pytest.mark.parametrize("weights", [{"yes": 1.0, "no": 0.5}, {"yes": 0.2, "no": 1.0}], ids=["for_yes", "against_yes"])
def test_a_soft_answer_on_a_pruned_component_is_weighed_not_cut(weights: dict[str, float]) -> None:
    # The pruned plan cut a soft answer at its likeliest state, so P(evidence) came out 0.5, not 0.75 (or 0.6).
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Prior
    from strategies import param

    yes_no = ("yes", "no")
    nodes = [NodeSpec(id=r, label=r, kind="risk_factor", question=f"{r}?", states=yes_no,
                      parameters=Prior((param(0.5), param(0.5))), askable=True) for r in ("r0", "r1")]
    nodes.append(NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                          parameters=NoisyOr(param(0.1), (("r0", param(0.6)), ("r1", param(0.3)))), askable=False))
    model = _always_pruned(ModelSpec(name="soft", version="0", title="soft", nodes=tuple(nodes)), joint_limit=1)
    expected = 0.5 * weights["yes"] + 0.5 * weights["no"]
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        dx = model.diagnose({"r0": kneebayes.Likelihood(weights)})
    assert dx.evidence_probability == pytest.approx(expected, rel=1e-12)


def compiled_value(comp: compiled.Component, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from kneebayes.inference.posterior import run_component
    return run_component(comp, lam)


@pytest.mark.parametrize("one_call_work, planned", [(pruned.ONE_CALL_WORK, False), (0, True)], ids=["small", "threshold_0"])
def test_a_small_pattern_runs_as_one_call_without_planning_buckets(one_call_work: int, planned: bool) -> None:
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Prior
    from strategies import param

    yes_no = ("yes", "no")
    nodes = (NodeSpec(id="r", label="r", kind="risk_factor", question="r?", states=yes_no,
                      parameters=Prior((param(0.3), param(0.7))), askable=True),
             NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                      parameters=NoisyOr(param(0.1), (("r", param(0.6)),)), askable=False),
             NodeSpec(id="f", label="f", kind="finding", question="f?", states=yes_no,
                      parameters=NoisyOr(param(0.05), (("c", param(0.8)),)), askable=True))
    model = _always_pruned(ModelSpec(name="chain", version="0", title="chain", nodes=nodes), joint_limit=1)
    net = model.network
    evidence = {"f": "yes"}   # its ancestors r -> c -> f: three small tables
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    observed = (lam[0] != net.lam_template).any(axis=1)
    comp = next(c for c in net.components if observed[c.nodes].any())
    spy = mock.Mock(wraps=pruned.choose_buckets)
    with mock.patch.object(pruned, "choose_buckets", spy), mock.patch.object(pruned, "ONE_CALL_WORK", one_call_work), \
            mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        value = pruned_value(comp, lam[:, comp.nodes, :], observed[comp.nodes])
    assert spy.called is planned
    full, _ = compiled_value(comp, lam)
    np.testing.assert_allclose(value, full, rtol=1e-12)


def test_a_pattern_of_more_tables_than_one_einsum_takes_is_planned_in_buckets() -> None:
    # Forty findings in a chain under one cause, all answered: forty tables, most cut to scalars (a tiny pattern
    # by its entries), more than numpy's einsum takes in one call (32 operands before numpy 2).
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Prior
    from strategies import param

    yes_no = ("yes", "no")
    nodes = [NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                      parameters=Prior((param(0.3), param(0.7))), askable=False)]
    for i in range(40):
        nodes.append(NodeSpec(id=f"f{i}", label=f"f{i}", kind="finding", question=f"f{i}?", states=yes_no,
                              parameters=NoisyOr(param(0.1), ((f"f{i - 1}" if i else "c", param(0.7)),)), askable=True))
    model = _always_pruned(ModelSpec(name="chain", version="0", title="chain", nodes=tuple(nodes)))
    net = model.network
    evidence = {f"f{i}": ("yes", "no")[i % 3 == 0] for i in range(40)}
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    observed = (lam[0] != net.lam_template).any(axis=1)
    (comp,) = net.components
    spy = mock.Mock(wraps=pruned.choose_buckets)
    with mock.patch.object(pruned, "choose_buckets", spy), mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        value = pruned_value(comp, lam[:, comp.nodes, :], observed[comp.nodes])
    assert spy.called
    full, scale = compiled_value(comp, lam)
    np.testing.assert_allclose(value, full * np.exp(scale[:, None]), rtol=1e-12)


def test_pruning_declines_when_the_evidence_reaches_most_of_a_component() -> None:
    pruning = Pruning(ancestors=np.eye(2, dtype=bool), tables=(), scopes=(), owned=(), hidden_cards={}, position={}, topological=(), targets=(),
                      target_cards=(), extra=(), always=np.zeros(2, dtype=bool), full_work=100.0, node_work=30.0)
    assert pruning.worth_it(1)
    assert not pruning.worth_it(2)


@given(case=networks_with_evidence())
def test_a_batch_pruned_row_by_row_equals_each_row_on_its_own(case: tuple[ModelSpec, dict[str, str]]) -> None:
    """Rows with different evidence (one of them none, one declined to the full plan) in one batch."""
    from kneebayes.inference import posterior

    spec, evidence = case
    model = _always_pruned(spec)
    net = model.network
    names = [n for n in net.names if n in evidence]
    rows = [evidence, {}, {k: v for k, v in evidence.items() if k in names[: len(names) // 2]}]
    lam = encode(net, [to_indices(net, normalize(net, ev)) for ev in rows])
    declined = {"n": 0}

    def worth_it(self: Pruning, n: int, work: float | None = None, than: float | None = None) -> bool:
        # decline every other new pattern
        if work is not None:
            return True     # the pattern was let through above: keep its plan
        declined["n"] += 1
        return declined["n"] % 2 == 0

    with mock.patch.object(posterior, "ROW_PRUNE_WORK", -1.0), mock.patch.object(Pruning, "worth_it", worth_it):
        batch = posterior.target_joint(net, lam)
    single = [posterior.target_joint(net, np.repeat(lam[r : r + 1], 2, axis=0)) for r in range(len(rows))]
    assume(all(np.isfinite(s.log_evidence).all() for s in single))
    for r, s in enumerate(single):
        np.testing.assert_allclose(batch.joint[r], s.joint[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(batch.log_evidence[r], s.log_evidence[0], rtol=1e-12, atol=1e-12)


def _chain(n: int) -> kneebayes.Model:
    """A cause over a chain of ``n`` findings, each the child of the one before: every component pruned."""
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Prior
    from strategies import param

    yes_no = ("yes", "no")
    nodes = [NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                      parameters=Prior((param(0.3), param(0.7))), askable=False)]
    for i in range(n):
        nodes.append(NodeSpec(id=f"f{i}", label=f"f{i}", kind="finding", question=f"f{i}?", states=yes_no,
                              parameters=NoisyOr(param(0.1), ((f"f{i - 1}" if i else "c", param(0.7)),)), askable=True))
    return _always_pruned(ModelSpec(name="chain", version="0", title="chain", nodes=tuple(nodes)))


def _pattern(model: kneebayes.Model, evidence: dict[str, str]) -> tuple[compiled.Component, np.ndarray, np.ndarray]:
    net = model.network
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    observed = (lam[0] != net.lam_template).any(axis=1)
    (comp,) = net.components
    return comp, lam, observed[comp.nodes]


def _by_count_never(self: Pruning, n: int, work: float | None = None, than: float | None = None) -> bool:
    return work is not None    # too many nodes by their count, but any planned work pays


@pytest.mark.parametrize("plan_anyway_work, planned", [(0.0, True), (float("inf"), False)], ids=["expensive", "cheap"])
def test_a_pattern_too_wide_by_its_count_is_planned_only_where_the_fixed_plan_is_expensive(
        plan_anyway_work: float, planned: bool) -> None:
    comp, lam, observed = _pattern(_chain(40), {"f5": "yes", "f20": "no"})
    with mock.patch.object(Pruning, "worth_it", _by_count_never), \
            mock.patch.object(pruned, "PLAN_ANYWAY_WORK", plan_anyway_work):
        value = pruned_value(comp, lam[:, comp.nodes, :], observed)
    if not planned:
        assert value is None     # declined by the count: the fixed plan runs instead
        return
    full, scale = compiled_value(comp, lam)
    np.testing.assert_allclose(value, full * np.exp(scale[:, None]), rtol=1e-12)


def _planned_in_turn(answer_sets: list[dict[str, object]]) -> list[bool]:
    """Whether each answer set's pattern was planned, one after another on one chain, with every pattern too
    wide by its count and every plan declined on its work (so each one planned is a plan that did not pay)."""
    model = _chain(40)
    spy = mock.Mock(wraps=pruned.choose_buckets)
    planned = []
    with mock.patch.object(Pruning, "worth_it", lambda self, n, work=None, than=None: False), \
            mock.patch.object(pruned, "PLAN_ANYWAY_WORK", 0.0), mock.patch.object(pruned, "ONE_CALL_WORK", 0), \
            mock.patch.object(pruned, "choose_buckets", spy):
        for answers in answer_sets:
            comp, lam, observed = _pattern(model, answers)  # type: ignore[arg-type]
            before = spy.call_count
            assert pruned_value(comp, lam[:, comp.nodes, :], observed) is None
            planned.append(spy.call_count > before)
    return planned


def test_patterns_planned_past_their_count_stop_being_planned_once_they_keep_not_paying() -> None:
    from kneebayes.network.pruned_plan import QUICK_MISSES

    planned = _planned_in_turn([{f"f{i}": "yes", f"f{i + 20}": "no"} for i in range(QUICK_MISSES + 2)])
    assert planned == [True] * QUICK_MISSES + [False, False]


def test_soft_patterns_that_do_not_pay_shut_planning_for_soft_patterns_only() -> None:
    # MILDEW, two soft answers a set: their plans (the soft axes kept) seldom paid, shut planning after four, and
    # later sets lost the bucket passes that served them before soft answers were planned (1.7 -> 12 ms);
    # DIABETES's soft plans do not pay either, and planning each took longer than its fixed plan.
    from kneebayes.network.pruned_plan import QUICK_MISSES

    probably = kneebayes.Likelihood({"yes": 1.0, "no": 0.5})
    soft = [{f"f{i}": probably, f"f{i + 20}": "no"} for i in range(QUICK_MISSES + 2)]
    planned = _planned_in_turn([*soft, {"f7": "yes", "f30": "no"}])
    assert planned == [True] * QUICK_MISSES + [False, False, True]   # the hard pattern still planned


@contextmanager
def _while_planning_does_not_pay() -> Iterator[None]:
    """Patterns too wide by their count, on a component whose fixed plan is expensive, while planning has
    not been paying: each new one is left to the fixed plan unless told otherwise."""
    with mock.patch.object(Pruning, "worth_it", _by_count_never), \
            mock.patch.multiple(pruned, PLAN_ANYWAY_WORK=0.0, planning_pays=lambda *_: False):
        yield


def test_a_pattern_that_several_rows_share_is_planned_while_planning_does_not_pay() -> None:
    # A clamped node's states share one pattern: one plan serves them all, where the fixed plan runs once a row.
    comp, lam, observed = _pattern(_chain(40), {"f5": "yes", "f20": "no"})
    own = lam[:, comp.nodes, :]
    with _while_planning_does_not_pay():
        shared = pruned_value(comp, own, observed, rows=2)
    assert shared is not None
    full, scale = compiled_value(comp, lam)
    np.testing.assert_allclose(shared, full * np.exp(scale[:, None]), rtol=1e-12)


def test_a_pattern_left_unplanned_stays_so_for_one_row_and_is_planned_when_several_share_it() -> None:
    comp, lam, observed = _pattern(_chain(40), {"f5": "yes", "f20": "no"})
    own = lam[:, comp.nodes, :]
    with _while_planning_does_not_pay():
        assert pruned_value(comp, own, observed) is None       # the fixed plan
        assert pruned_value(comp, own, observed) is None       # again: DIABETES's plans do not repay planning
        assert pruned_value(comp, own, observed, rows=3) is not None


def test_a_pruned_value_that_underflows_comes_back_exact_when_rescaled() -> None:
    # 600 findings, each answered against what its parent makes likely: P(evidence) about 1e-480, past float64
    model = _chain(600)
    evidence = {f"f{i}": ("yes", "no")[i % 2] for i in range(600)}
    comp, lam, observed = _pattern(model, evidence)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        plain = pruned_value(comp, lam[:, comp.nodes, :], observed)
        found = pruned_value_scaled(comp, lam[:, comp.nodes, :], observed)
    assert plain is not None and plain.max() < 1e-250
    assert found is not None
    value, log_scale = found
    full, scale = compiled_value(comp, lam)
    assert np.log(value.sum()) + log_scale == pytest.approx(np.log(full.sum()) + scale[0], rel=1e-12)
    assert np.log(value.sum()) + log_scale < -400 * np.log(10)


def _f_yes_impossible(m_present: float, m_weight: float) -> tuple[compiled.Component, np.ndarray, np.ndarray]:
    """A cause c, a risk factor m present with probability ``m_present``, and a finding f, noisy-OR over m
    (weight ``m_weight``) and c (weight 0) with no leak, answered "yes": the pattern of its one component."""
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Prior
    from strategies import param

    yes_no = ("yes", "no")
    nodes = (NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                      parameters=Prior((param(0.3), param(0.7))), askable=False),
             NodeSpec(id="m", label="m", kind="risk_factor", question="m?", states=yes_no,
                      parameters=Prior((param(m_present), param(1.0 - m_present))), askable=True),
             NodeSpec(id="f", label="f", kind="finding", question="f?", states=yes_no,
                      parameters=NoisyOr(param(0.0), (("m", param(m_weight)), ("c", param(0.0)))), askable=True))
    return _pattern(_always_pruned(ModelSpec(name="zero", version="0", title="zero", nodes=nodes)), {"f": "yes"})


def test_a_pruned_value_that_is_truly_zero_stays_zero_when_rescaled() -> None:
    # f "yes" needs m, which is never present (and f has no leak): impossible whatever the cause
    comp, lam, observed = _f_yes_impossible(m_present=0.0, m_weight=0.7)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        plain = pruned_value(comp, lam[:, comp.nodes, :], observed)
        found = pruned_value_scaled(comp, lam[:, comp.nodes, :], observed)
    assert plain is not None and not plain.any()
    assert found is not None
    assert not found[0].any() and np.isfinite(found[1])


def _chain_ranking() -> tuple[compiled.CompiledNetwork, np.ndarray, TargetJoint, list[int], np.ndarray]:
    """A chain's network with two answers, their targets' joint, four candidates and their joints with the targets."""
    from kneebayes.inference import node_joints, posterior

    net = _chain(40).network
    lam = encode(net, [to_indices(net, normalize(net, {"f3": "yes", "f30": "no"}))])
    tj = posterior.target_joint(net, lam)
    candidates = [net.index[f"f{i}"] for i in (0, 10, 20, 39)]
    return net, lam, tj, candidates, node_joints.joint_with_targets(net, lam, tj, candidates)


@pytest.mark.parametrize("plan_anyway_work, planned", [(0.0, True), (float("inf"), False)], ids=["expensive", "cheap"])
def test_clamps_too_wide_by_their_count_are_planned_and_pruned_where_the_alternative_is_expensive(
        plan_anyway_work: float, planned: bool) -> None:
    from kneebayes.inference import node_joints

    net, lam, tj, candidates, expected = _chain_ranking()
    spy = mock.Mock(wraps=node_joints.pattern_work)
    with mock.patch.object(node_joints, "ROW_PRUNE_WORK", -1.0), mock.patch.object(Pruning, "worth_it", _by_count_never), \
            mock.patch.object(node_joints, "PLAN_CLAMPS_WORK", plan_anyway_work), \
            mock.patch.object(pruned, "PLAN_ANYWAY_WORK", plan_anyway_work), \
            mock.patch.object(node_joints, "pattern_work", spy):
        got = node_joints.joint_with_targets(net, lam, tj, candidates)
    assert spy.called is planned
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_a_rankings_clamped_rows_share_their_nodes_pattern_and_its_plan_while_planning_does_not_pay() -> None:
    # MILDEW, target dm_4, after a few unpaid plans: a 100-state node's clamps each took the fixed plan, 100 runs
    # of 6 ms (a ranking 1.5 s; pyAgrum 0.27 s); one plan for the node's pattern serves them all (0.12 s).
    from kneebayes.inference import node_joints, posterior

    net, lam, tj, candidates, expected = _chain_ranking()
    rows: list[tuple[int, bool]] = []

    def recorded(comp: compiled.Component, own: np.ndarray, observed: np.ndarray, max_entries: float = math.inf,
                 shared: int = 1) -> np.ndarray | None:
        found = pruned_value(comp, own, observed, max_entries, shared)
        rows.append((shared, found is not None))
        return found

    with mock.patch.object(node_joints, "ROW_PRUNE_WORK", -1.0), _while_planning_does_not_pay(), \
            mock.patch.object(posterior, "pruned_value", recorded):
        got = node_joints.joint_with_targets(net, lam, tj, candidates, method="clamp")
    assert len(rows) == 2 * len(candidates)          # a row per state of each candidate
    assert all(row == (2, True) for row in rows)      # each shared by its node's two states, and planned
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_a_rescaled_run_stops_at_a_table_that_is_zero_everywhere() -> None:
    # f has no leak and weighs nothing on its parents: "yes" is impossible, so its table cut at "yes" is zero
    # everywhere and the rescaled run multiplies nothing; the value is zero either way
    comp, lam, observed = _f_yes_impossible(m_present=0.4, m_weight=0.0)
    calls = {}
    for kind, run in (("plain", pruned_value), ("scaled", pruned_value_scaled)):
        spy = mock.Mock(wraps=pruned.einsum_of_many)
        with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), mock.patch.object(pruned, "ONE_CALL_WORK", 0), \
                mock.patch.object(pruned, "einsum_of_many", spy):
            found = run(comp, lam[:, comp.nodes, :], observed)
        calls[kind] = spy.call_count
        value = found if kind == "plain" else found[0]
        assert value is not None and not value.any()
    assert calls == {"plain": 1, "scaled": 0}


def _chain_rows(evidence: list[dict[str, str]]) -> tuple[compiled.CompiledNetwork, np.ndarray, TargetJoint, list[int]]:
    """The chain's network with one evidence row per dict, their targets' joint, and four candidates."""
    from kneebayes.inference import posterior

    net = _chain(40).network
    lam = encode(net, [to_indices(net, normalize(net, ev)) for ev in evidence])
    return net, lam, posterior.target_joint(net, lam), [net.index[f"f{i}"] for i in (0, 10, 20, 39)]


@pytest.mark.parametrize("evidence, apart", [
    ([{"f3": "yes", "f30": "no"}, {"f0": "no", "f20": "yes"}, {"f10": "yes"}, {}], True),   # candidates answered in some
    ([{"f3": "yes"}, {"f30": "no"}, {"f5": "no", "f6": "yes"}], False),                     # every candidate open in all
], ids=["rows_differ", "rows_alike"])
def test_a_batchs_clamps_run_row_by_row_where_its_rows_differ_in_what_is_open(
        evidence: list[dict[str, str]], apart: bool) -> None:
    from kneebayes.inference import node_joints

    net, lam, tj, candidates = _chain_rows(evidence)
    spy = mock.Mock(wraps=node_joints._row_by_row)
    with mock.patch.object(node_joints, "_row_by_row", spy):
        got = node_joints.joint_with_targets(net, lam, tj, candidates, method="clamp")
    assert spy.called is apart
    for r in range(len(evidence)):   # each row as a single diagnosis has it
        alone = node_joints.joint_with_targets(net, lam[r : r + 1], tj.take(slice(r, r + 1)), candidates, method="clamp")
        np.testing.assert_allclose(got[r], alone[0], rtol=1e-12, atol=1e-15)


@ENGINE_PATHS
@given(case=networks_with_evidence(), more=st.data())
def test_a_batch_of_rows_on_pruned_components_equals_brute_force_row_by_row(
        joint_limit: int, case: tuple[ModelSpec, dict[str, str]], more: st.DataObject) -> None:
    # Rows one at a time through one row's paths (bucket pass, pruned plan), or the batch's: each exact.
    from strategies import evidence_for

    from kneebayes.inference import node_joints, posterior

    spec, first = case
    rows = [first, *(more.draw(evidence_for(spec)) for _ in range(2))]
    references = [brute_force(spec, ev) for ev in rows]
    assume(all(r.p_evidence > 1e-200 for r in references))
    model = _always_pruned(spec, joint_limit)
    frame = pd.DataFrame(rows, columns=[n.id for n in model.nodes])   # a cause answered too
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(posterior, "ROW_PRUNE_WORK", -1.0), mock.patch.object(node_joints, "ROW_PRUNE_WORK", -1.0):
        out = model.diagnose_frame(frame, next_question=True)   # every component large enough to go row by row
        asked = [model.diagnose(ev).next_question for ev in rows]
    assert out["next_question"].tolist() == [None if q is None else q.id for q in asked]
    for r, reference in enumerate(references):
        assert abs(out["log_evidence_probability"][r] - np.log(reference.p_evidence)) <= 1e-9
        for target in model.causes:
            dist = reference.marginal(target)
            for state, p in dist.items():
                column = target if model.targets.binary and state == "yes" else f"{target}={state}"
                if column in out:
                    assert abs(out[column][r] - p) <= 1e-9, (r, target, state)
