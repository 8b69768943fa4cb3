"""Properties of exact inference (src/kneebayes/inference/posterior.py and the engine).

The engine enumerates the targets jointly, splits the other nodes into
components and works in log space across them. Each property here checks
one behaviour against a reference that shares none of that machinery:
brute-force enumeration of the full joint (tests/strategies.py) or pgmpy's
VariableElimination on the exported model.
"""

from __future__ import annotations

import math
import random
import string

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import (
    brute_force,
    cpt_by_definition,
    networks,
    networks_with_evidence,
    param,
    scaled,
)

import kneebayes
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Prior
from kneebayes.network.compiled import JOINT_LIMIT

TOL = 1e-9
YES_NO = ("yes", "no")


def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol


# ---------------------------------------------------------------------------------
# Random networks against brute-force enumeration (the core properties)
# ---------------------------------------------------------------------------------
# joint_limit=1 forces the engine's other path (no target enumeration) on the same networks.
ENGINE_PATHS = pytest.mark.parametrize("joint_limit", [JOINT_LIMIT, 1], ids=["enumerated", "not_enumerated"])


@ENGINE_PATHS
@given(case=networks_with_evidence())
def test_marginals_equal_brute_force_enumeration(joint_limit: int, case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)   # below, the float64 reference itself loses digits (subnormals)
    got = kneebayes.Model(spec, joint_limit=joint_limit).marginals(evidence)
    assert set(got) == {n.id for n in spec.nodes}
    for node, dist in got.items():
        expected = reference.marginal(node)
        assert list(dist) == list(expected), node
        for state, p in dist.items():
            assert _close(p, expected[state]), (node, state, p, expected[state])


@settings(max_examples=scaled(50))
@given(networks_with_evidence(min_nodes=14, max_nodes=15, min_causes=13, max_causes=13, max_card=2))
def test_marginals_equal_brute_force_when_the_targets_joint_is_too_large_to_enumerate(
    case: tuple[ModelSpec, dict[str, str]],
) -> None:
    """13 yes/no causes: 8192 joint states, past JOINT_LIMIT, so the engine takes its other path."""
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)   # below, the float64 reference itself loses digits (subnormals)
    model = kneebayes.Model(spec)
    got = model.marginals(evidence)
    for node, dist in got.items():
        expected = reference.marginal(node)
        for state, p in dist.items():
            assert _close(p, expected[state]), (node, state, p, expected[state])
    dx = model.diagnose(evidence)
    for cause, dist in dx.distributions.items():
        for state, p in dist.items():
            assert _close(p, got[cause][state]), (cause, state)
    assert math.isclose(dx.evidence_probability, reference.p_evidence, rel_tol=TOL, abs_tol=0.0)


@ENGINE_PATHS
@given(case=networks_with_evidence())
def test_diagnose_target_distributions_and_evidence_probability_equal_brute_force(
    joint_limit: int, case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)   # below, the float64 reference itself loses digits (subnormals)
    dx = kneebayes.Model(spec, joint_limit=joint_limit).diagnose(evidence)
    causes = [n.id for n in spec.nodes if n.kind == "cause"]
    assert list(dx.distributions) == causes
    for cause in causes:
        expected = reference.marginal(cause)
        for state, p in dx.distributions[cause].items():
            assert _close(p, expected[state]), (cause, state, p, expected[state])
    assert math.isclose(dx.evidence_probability, reference.p_evidence, rel_tol=TOL, abs_tol=0.0)
    assert _close(dx.log_evidence_probability, math.log(reference.p_evidence))


@given(networks_with_evidence())
def test_marginals_and_evidence_probability_are_probabilities(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    model = kneebayes.Model(spec)
    assert 0.0 < model.diagnose(evidence).evidence_probability <= 1.0
    for node, dist in model.marginals(evidence).items():
        assert all(0.0 <= p <= 1.0 for p in dist.values()), (node, dist)
        assert abs(math.fsum(dist.values()) - 1.0) <= 1e-12, (node, dist)


def _support(spec: ModelSpec) -> np.ndarray:
    """Where the joint is not exactly zero: the product of the tables' nonzero patterns (0/1 never underflows).

    A float joint can be zero by underflow alone (a weight of 1e-311 times
    a prior of 1e-4); that evidence is possible, and exact engines say so.
    """
    states = {n.id: n.states for n in spec.nodes}
    letters = {n.id: string.ascii_letters[i] for i, n in enumerate(spec.nodes)}
    operands: list[object] = []
    for node in spec.nodes:
        operands += [(cpt_by_definition(node, states) != 0.0).astype(float),
                     "".join(letters[p] for p in node.parents) + letters[node.id]]
    subs = ",".join(operands[1::2]) + "->" + "".join(letters.values())  # type: ignore[arg-type]
    return np.einsum(subs, *operands[0::2]) > 0.0


@st.composite
def impossible_cases(draw: st.DrawFn) -> tuple[ModelSpec, dict[str, str]]:
    """A network with a structural zero in its joint, and evidence of probability exactly zero under it.

    The evidence is a random part of a zero-probability full assignment when
    that part is itself impossible, else the whole assignment.
    """
    spec = draw(networks())
    support = _support(spec)
    zeros = np.argwhere(~support)
    assume(len(zeros) > 0)
    cell = zeros[draw(st.integers(min_value=0, max_value=len(zeros) - 1))]
    full = {n.id: n.states[j] for n, j in zip(spec.nodes, cell)}
    part = {k: full[k] for k in draw(st.lists(st.sampled_from(sorted(full)), unique=True, min_size=1))}
    index = tuple(cell[i] if n.id in part else slice(None) for i, n in enumerate(spec.nodes))
    return spec, part if not support[index].any() else full


@ENGINE_PATHS
@given(case=impossible_cases())
def test_evidence_of_probability_zero_raises_impossible_evidence_error(
    joint_limit: int, case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec, joint_limit=joint_limit)
    for call in (model.diagnose, model.marginals):
        with pytest.raises(kneebayes.ImpossibleEvidenceError, match="probability zero") as err:
            call(evidence)
        for node, state in evidence.items():
            assert f"{node}={state}" in str(err.value)


@given(networks_with_evidence())
def test_marginal_of_an_observed_node_is_the_point_mass_on_its_state(
    case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    assume(evidence)
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    got = kneebayes.Model(spec).marginals(evidence, nodes=list(evidence))
    for node, observed in evidence.items():
        # Exactly: the engine knows the evidence, and 1.0000000000000002 is not a probability.
        assert got[node] == {s: (1.0 if s == observed else 0.0) for s in spec.node(node).states}


# ---------------------------------------------------------------------------------
# Random networks against pgmpy (slow: fewer examples; the core check is brute force)
# ---------------------------------------------------------------------------------
def _pgmpy_marginals(ve, evidence: dict[str, str], nodes: list[str]) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    if not nodes:
        return {}
    factors = ve.query(variables=nodes, evidence=evidence or None, joint=False, show_progress=False)
    out = {}
    for node, factor in factors.items():
        out[node] = {s: float(factor.get_value(**{node: s})) for s in factor.state_names[node]}
    return out


@settings(max_examples=scaled(60))
@given(networks_with_evidence())
def test_marginals_agree_with_pgmpy_variable_elimination_on_the_export(
    case: tuple[ModelSpec, dict[str, str]],
) -> None:
    from pgmpy.inference import VariableElimination

    spec, evidence = case
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    model = kneebayes.Model(spec)
    free = [n.id for n in spec.nodes if n.id not in evidence]
    expected = _pgmpy_marginals(VariableElimination(model.to_pgmpy()), evidence, free)
    got = model.marginals(evidence, nodes=free)
    for node in free:
        assert got[node].keys() == expected[node].keys()
        for state, p in got[node].items():
            assert _close(p, expected[node][state]), (node, state, p, expected[node][state])


# ---------------------------------------------------------------------------------
# The knee model
# ---------------------------------------------------------------------------------
@st.composite
def knee_evidence(draw: st.DrawFn, model: kneebayes.Model) -> dict[str, str]:
    """Random yes/no answers on a random subset of the knee's nodes (causes included)."""
    ids = [n.id for n in model.nodes]
    chosen = draw(st.lists(st.sampled_from(ids), unique=True))
    return {node: draw(st.sampled_from(YES_NO)) for node in chosen}


@given(data=st.data())
def test_knee_cause_posteriors_equal_pgmpy_variable_elimination(
    knee_model: kneebayes.Model, knee_pgmpy, data: st.DataObject  # type: ignore[no-untyped-def]
) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    try:
        dx = knee_model.diagnose(evidence)
    except kneebayes.ImpossibleEvidenceError:
        # The knee model has no structural zeros a yes/no answer could hit.
        pytest.fail(f"engine calls possible-looking evidence impossible: {evidence}")
    free = [c for c in knee_model.causes if c not in evidence]
    expected = _pgmpy_marginals(knee_pgmpy, evidence, free)
    for cause in knee_model.causes:
        if cause in evidence:
            if evidence[cause] == "yes":
                assert abs(dx.posterior[cause] - 1.0) <= 1e-12, cause
            else:
                assert dx.posterior[cause] == 0.0, cause
        else:
            assert _close(dx.posterior[cause], expected[cause]["yes"]), (cause, dx.posterior[cause], expected[cause])


@given(data=st.data())
def test_knee_posteriors_lie_in_unit_interval_and_distributions_sum_to_one(
    knee_model: kneebayes.Model, data: st.DataObject
) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    dx = knee_model.diagnose(evidence)
    assert all(0.0 <= p <= 1.0 for p in dx.posterior.values())
    assert 0.0 < dx.evidence_probability <= 1.0
    for dist in dx.distributions.values():
        assert abs(math.fsum(dist.values()) - 1.0) <= 1e-12
    for node, dist in knee_model.marginals(evidence).items():
        assert all(0.0 <= p <= 1.0 for p in dist.values()), node
        assert abs(math.fsum(dist.values()) - 1.0) <= 1e-12, node


@given(data=st.data())
def test_knee_evidence_order_is_irrelevant(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    items = list(evidence.items())
    random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed")).shuffle(items)
    shuffled = dict(items)
    first, second = knee_model.diagnose(evidence), knee_model.diagnose(shuffled)
    for cause, p in first.posterior.items():
        assert abs(p - second.posterior[cause]) <= 1e-15, cause
    assert abs(first.log_evidence_probability - second.log_evidence_probability) <= 1e-15


@given(data=st.data())
def test_knee_true_false_equal_yes_no(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    as_bools = {k: v == "yes" for k, v in evidence.items()}
    words, bools = knee_model.diagnose(evidence), knee_model.diagnose(as_bools)
    assert dict(bools.evidence) == evidence
    assert dict(bools.posterior) == dict(words.posterior)
    assert bools.log_evidence_probability == words.log_evidence_probability


# ---------------------------------------------------------------------------------
# Numerical soundness: many small likelihoods must not underflow to "impossible"
# ---------------------------------------------------------------------------------
def _binary(node_id: str, kind: str, parameters: Prior | NoisyOr) -> NodeSpec:
    return NodeSpec(node_id, node_id, kind, f"{node_id}?", YES_NO, parameters, kind != "cause")


def many_findings(n: int, parent_kind: str, leak: float, weight: float, prior: float) -> ModelSpec:
    """One yes/no parent (of ``parent_kind``) with ``n`` noisy-OR findings, plus one unrelated cause."""
    nodes = [
        _binary("parent", parent_kind, Prior((param(prior), param(1.0 - prior)))),
        _binary("other_cause", "cause", Prior((param(0.5), param(0.5)))),
    ]
    nodes += [
        _binary(f"f{i}", "finding", NoisyOr(param(leak), (("parent", param(weight)),)))
        for i in range(n)
    ]
    return ModelSpec(name="many", version="0", title="many findings", nodes=tuple(nodes))


def _p_yes_present(leak: float, weight: float) -> float:
    """1 - (1 - leak)(1 - weight) without the subtraction's rounding (60 findings multiply it 60 times)."""
    return -math.expm1(math.log1p(-leak) + math.log1p(-weight))


def _exact_log_evidence(n: int, leak: float, weight: float, prior: float) -> float:
    """log P(all n findings = yes), by hand: a two-term mixture in log space."""
    p_yes_present = _p_yes_present(leak, weight)
    return float(np.logaddexp(math.log(prior) + n * math.log(p_yes_present), math.log(1.0 - prior) + n * math.log(leak)))


@pytest.mark.parametrize("parent_kind", ["cause", "risk_factor"])
@pytest.mark.parametrize(("n", "leak", "weight"), [(200, 1e-3, 1e-2), (60, 1e-6, 1e-6)], ids=["200_findings", "60_findings"])
def test_many_small_likelihoods_give_finite_log_evidence_and_sound_posteriors(
    parent_kind: str, n: int, leak: float, weight: float
) -> None:
    """P(evidence) is ~1e-400 and ~1e-342: below the float range, so only log space survives."""
    prior = 0.3
    model = kneebayes.Model(many_findings(n, parent_kind, leak, weight, prior))
    evidence = {f"f{i}": "yes" for i in range(n)}
    dx = model.diagnose(evidence)
    expected = _exact_log_evidence(n, leak, weight, prior)
    assert math.isfinite(dx.log_evidence_probability)
    assert math.isclose(dx.log_evidence_probability, expected, rel_tol=1e-12)
    marginals = model.marginals(evidence, nodes=["parent", "other_cause"])
    p_parent = marginals["parent"]["yes"]
    assert not math.isnan(p_parent) and 0.0 <= p_parent <= 1.0
    p_yes_present = _p_yes_present(leak, weight)
    log_odds = math.log(prior / (1.0 - prior)) + n * (math.log(p_yes_present) - math.log(leak))
    assert _close(p_parent, 1.0 / (1.0 + math.exp(-log_odds)))
    assert _close(marginals["other_cause"]["yes"], 0.5)
    assert all(0.0 <= p <= 1.0 and not math.isnan(p) for p in dx.posterior.values())


# ---------------------------------------------------------------------------------
# Minimal reproducers of engine corner cases the properties above also reach
# ---------------------------------------------------------------------------------
def test_a_network_without_causes_compiles_and_answers() -> None:
    nodes = (
        _binary("risk", "risk_factor", Prior((param(0.3), param(0.7)))),
        _binary("sign", "finding", NoisyOr(param(0.1), (("risk", param(0.5)),))),
    )
    model = kneebayes.Model(ModelSpec(name="nocause", version="0", title="no cause", nodes=nodes))
    # P(sign = yes) = 0.3 * (1 - 0.9 * 0.5) + 0.7 * 0.1 = 0.235
    dx = model.diagnose({"sign": "yes"})
    assert dict(dx.distributions) == {}
    assert math.isclose(dx.evidence_probability, 0.235, rel_tol=1e-12)
    assert _close(model.marginals({"sign": "yes"})["risk"]["yes"], 0.3 * 0.55 / 0.235)


@given(data=st.data())
def test_targets_given_in_any_order_give_the_same_posteriors(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    order = data.draw(st.permutations(knee_model.causes), label="target order")
    reordered = kneebayes.Model(knee_model.spec, targets=order)
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    assert reordered.causes == tuple(order)
    expected, got = knee_model.diagnose(evidence).posterior, reordered.diagnose(evidence).posterior
    for cause in knee_model.causes:
        assert abs(expected[cause] - got[cause]) <= 1e-12, cause


def test_a_batch_past_the_memory_budget_runs_in_slices_with_the_same_values(knee_model: kneebayes.Model) -> None:
    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.posterior import encode, run_component

    net = knee_model.network
    rng = np.random.default_rng(5)
    askable = [n.id for n in knee_model.nodes if n.askable]
    rows = [{k: str(rng.choice(["yes", "no"])) for k in rng.choice(askable, size=4, replace=False)} for _ in range(9)]
    lam = encode(net, [to_indices(net, normalize(net, ev)) for ev in rows])
    assert net.components    # the knee's risk factors share causes: components to slice
    for comp in net.components:
        whole = run_component(comp, lam)
        sliced = run_component(comp, lam, memory_budget=8 * 4 * comp.largest * 2)   # two rows a slice
        np.testing.assert_array_equal(whole[0], sliced[0])
        np.testing.assert_array_equal(whole[1], sliced[1])


def test_a_network_without_targets_still_weighs_its_evidence() -> None:
    """No node is a target: the network is not a bipartite cause-finding network for want of causes, and
    P(evidence) comes from its own tables (it was once read as 1, whatever the evidence)."""
    from kneebayes.modelfile.schema import Parameter

    def number(v: float) -> Parameter:
        return Parameter(v, "test", "test")

    first = NodeSpec("v0", "v0", "risk_factor", "?", ("yes", "no"), Prior((number(0.3), number(0.7))), True)
    second = NodeSpec("v1", "v1", "risk_factor", "?", ("yes", "no"),
                      NoisyOr(number(0.1), (("v0", number(0.5)),)), True)
    model = kneebayes.Model(ModelSpec("none", "0", "no targets", (first, second)))
    assert model.network.bipartite is None
    assert model.diagnose({"v0": "yes"}).evidence_probability == pytest.approx(0.3, abs=1e-15)
    assert model.diagnose({"v1": "yes"}).evidence_probability == pytest.approx(0.3 * 0.55 + 0.7 * 0.1, abs=1e-15)
