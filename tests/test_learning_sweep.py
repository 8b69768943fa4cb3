"""One sweep for every family (research/learning_sweep.py, inference/table_gradient.py, network/table_gradient.py).

The gradient of a component's value with respect to each node's table,
seeded as learning seeds it, must give each family's expected counts as the
full joint does: on random networks with multi-state nodes, noisy-ORs (some
split into pieces in the same component) and rows of evidence, with the
targets enumerated and not. Rows it cannot divide by their value are left
to the other paths, which must still count them exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import brute_force, evidence_for, networks, scaled
from test_learning import brute_counts, clamping_spec

import kneebayes
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference.posterior import encode, target_joint
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Parameter, Prior, Table, TableColumn
from kneebayes.network.compiled import JOINT_LIMIT, compile_network
from kneebayes.network.table_gradient import table_gradient
from kneebayes.research import learning_sweep
from kneebayes.research.learning_counts import case_layout, expected_counts
from kneebayes.research.learning_families import Clamps
from kneebayes.research.learning_sweep import swept_counts

ENGINE_PATHS = pytest.mark.parametrize("joint_limit", [JOINT_LIMIT, 1], ids=["enumerated", "not_enumerated"])
BUDGET = 2.0**30


@st.composite
def networks_with_rows(draw: st.DrawFn) -> tuple[ModelSpec, list[dict[str, str]], np.ndarray]:
    spec = draw(networks(max_nodes=7))
    rows = draw(st.lists(evidence_for(spec), min_size=1, max_size=4))
    weights = np.array(draw(st.lists(st.integers(1, 5), min_size=len(rows), max_size=len(rows))), dtype=float)
    return spec, rows, weights


def families_by_brute_force(spec: ModelSpec, net: object, rows: list[dict[str, str]], weights: np.ndarray
                            ) -> dict[int, np.ndarray] | None:
    """Per node, the sum over rows of weight * P(parents, node | row), axes (parents..., node); None when some
    row is impossible."""
    out: dict[int, np.ndarray] = {}
    for row, w in zip(rows, weights):
        bf = brute_force(spec, row)
        if bf.conditioned is None:
            return None
        for v, name in enumerate(net.names):
            members = [bf.names.index(net.names[m]) for m in (*net.parents[v], v)]
            summed = bf.conditioned.sum(axis=tuple(a for a in range(len(bf.names)) if a not in members))
            order = sorted(members)   # summed keeps the members in the joint's axis order
            family = np.transpose(summed, [order.index(m) for m in members])
            out[v] = out.get(v, 0.0) + w * family
    return out


def _lam_and_joint(net: object, rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    lam = np.concatenate([encode(net, [to_indices(net, normalize(net, row))]) for row in rows])
    return lam, target_joint(net, lam).joint


@ENGINE_PATHS
@settings(max_examples=scaled(100), deadline=None)
@given(case=networks_with_rows(), split=st.booleans())
def test_each_tables_sweep_gives_its_familys_expected_counts_as_the_full_joint_does(
        joint_limit: int, case: tuple[ModelSpec, list[dict[str, str]], np.ndarray], split: bool) -> None:
    spec, rows, weights = case
    net = compile_network(spec, joint_limit=joint_limit, split_noisy_or=split)
    want = families_by_brute_force(spec, net, rows, weights)
    assume(want is not None)
    lam, joint = _lam_and_joint(net, rows)
    for comp in net.components:
        plan = table_gradient(comp)
        if plan is None:
            continue
        got, covered = swept_counts(comp, plan, lam[:, comp.nodes, :], joint, weights, BUDGET)
        assert covered.all()
        assert set(got) == plan.nodes
        for v, table in got.items():
            np.testing.assert_allclose(table, want[v], rtol=0, atol=1e-10)


def test_every_table_of_a_component_without_noisy_or_pieces_is_swept() -> None:
    net = kneebayes.load_model().network
    risk_factors = net.components[0]
    assert table_gradient(risk_factors).nodes == frozenset(int(v) for v in risk_factors.nodes)


def test_a_batch_past_the_memory_budget_is_swept_in_parts_that_add_up() -> None:
    net = kneebayes.load_model().network
    rows = [{}, {"poor_warmup": "yes"}, {"worn_footwear": "no", "knee_trauma": "yes"}, {"tight_hip_muscles": "yes"}]
    lam, joint = _lam_and_joint(net, rows)
    comp = net.components[0]
    plan = table_gradient(comp)
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    whole, _ = swept_counts(comp, plan, lam[:, comp.nodes, :], joint, weights, BUDGET)
    parts, covered = swept_counts(comp, plan, lam[:, comp.nodes, :], joint, weights, 16.0 * plan.row_entries)
    assert covered.all()
    for v in whole:
        np.testing.assert_allclose(parts[v], whole[v], rtol=0, atol=1e-12)


def chain_of_findings(count: int) -> ModelSpec:
    """A hidden non-target root with ``count`` findings, each a table on it: enough of them observed puts
    P(evidence) below any float."""
    def number(value: float) -> Parameter:
        return Parameter(value, source="test", rationale="for the test", range=None)

    root = NodeSpec("h", "h", "risk_factor", "h?", ("a", "b"), Prior((number(0.3), number(0.7))), askable=True)
    cause = NodeSpec("c", "c", "cause", "c?", ("yes", "no"), Prior((number(0.2), number(0.8))), askable=False)
    findings = tuple(
        NodeSpec(f"f{k}", f"f{k}", "finding", f"f{k}?", ("yes", "no"),
                 Table(("h",), (TableColumn((("h", "a"),), (number(0.05), number(0.95))),
                                TableColumn((("h", "b"),), (number(0.02), number(0.98))))), askable=True)
        for k in range(count))
    return ModelSpec("chain", "1.0", "A hidden root and its findings", (cause, root) + findings)


def test_rows_whose_probability_underflows_in_one_sweep_still_count_exactly() -> None:
    count = 260
    net = kneebayes.Model(chain_of_findings(count)).network
    codes = np.full((3, len(net.names)), -1, dtype=np.int8)
    findings = [net.index[f"f{k}"] for k in range(count)]
    codes[:, findings] = 0                       # every finding yes: P(evidence) about 1e-338
    codes[1, findings[0]] = -1                   # a second row with one finding missing
    codes[2, net.index["h"]] = 0                 # a third with h observed (f0's and f1's families all known)
    codes[2, findings[-1]] = -1                  # and the last finding not (a complete row is counted apart)
    comp = net.components[0]
    lam = np.stack([encode(net, [{v: 0 for v in findings}])[0], encode(net, [{v: 0 for v in findings[1:]}])[0]])
    _, covered = swept_counts(comp, table_gradient(comp), lam[:, comp.nodes, :], target_joint(net, lam).joint,
                              np.ones(2), BUDGET)
    assert not covered.any()                     # the sweep cannot divide by these rows' values
    counts = expected_counts(net, codes, np.array([1.0, 2.0, 3.0]))
    # P(h = a | the row) in log space, exactly
    log_a = math.log(0.3) + count * math.log(0.05)
    log_b = math.log(0.7) + count * math.log(0.02)
    fewer = (log_a - math.log(0.05), log_b - math.log(0.02))                            # one finding fewer
    p_a, p_b = 1.0 / (1.0 + math.exp(log_b - log_a)), 1.0 / (1.0 + math.exp(log_a - log_b))
    q_a, q_b = 1.0 / (1.0 + math.exp(fewer[1] - fewer[0])), 1.0 / (1.0 + math.exp(fewer[0] - fewer[1]))
    h = net.index["h"]
    np.testing.assert_allclose(counts.tables[h], [p_a + 2 * q_a + 3, p_b + 2 * q_b], rtol=1e-12)
    both_yes = counts.tables[findings[1]]        # (h, f1): yes in every row
    np.testing.assert_allclose(both_yes, [[p_a + 2 * q_a + 3, 0.0], [p_b + 2 * q_b, 0.0]], rtol=1e-12)
    one_missing = counts.tables[findings[0]]     # (h, f0): missing in the second row
    np.testing.assert_allclose(one_missing, [[p_a + 2 * q_a * 0.05 + 3, 2 * q_a * 0.95],
                                             [p_b + 2 * q_b * 0.02, 2 * q_b * 0.98]], rtol=1e-12)


def test_a_row_whose_value_falls_below_the_tiny_value_is_not_covered(monkeypatch: pytest.MonkeyPatch) -> None:
    net = kneebayes.load_model().network
    lam, joint = _lam_and_joint(net, [{}, {"poor_warmup": "yes"}])
    comp = net.components[0]
    monkeypatch.setattr(learning_sweep, "TINY_VALUE", 2.0)   # every value is at most 1
    got, covered = swept_counts(comp, table_gradient(comp), lam[:, comp.nodes, :], joint, np.ones(2), BUDGET)
    assert not covered.any()
    assert all(float(t.sum()) == 0.0 for t in got.values())


def test_a_batch_whose_counts_do_not_add_up_to_its_weight_is_not_covered(monkeypatch: pytest.MonkeyPatch) -> None:
    net = kneebayes.load_model().network
    lam, joint = _lam_and_joint(net, [{}, {"poor_warmup": "yes"}])
    comp = net.components[0]
    sweep = learning_sweep.table_counts

    def doubled(*args: object) -> dict[int, np.ndarray]:   # as a cancelling sum might go wrong
        return {v: 2.0 * t for v, t in sweep(*args).items()}

    monkeypatch.setattr(learning_sweep, "table_counts", doubled)
    got, covered = swept_counts(comp, table_gradient(comp), lam[:, comp.nodes, :], joint, np.ones(2), BUDGET)
    assert not covered.any() and got == {}


def test_a_component_whose_one_row_sweep_passes_the_budget_is_counted_by_the_other_paths() -> None:
    model = kneebayes.Model(clamping_spec())
    net = model.network
    codes = np.array([[-1, -1, -1, 0, 1], [0, -1, -1, 1, -1], [-1, 2, 0, -1, 0]], dtype=np.int8)
    weights = np.array([1.0, 2.0, 3.0])
    plan = table_gradient(net.components[0])
    tight = 8.0 * plan.row_entries - 1
    assert not case_layout(net, codes, weights, memory_budget=tight).chunks[0].swept   # not swept
    assert case_layout(net, codes, weights).chunks[0].swept
    want, _ = brute_counts(model, codes, weights)
    for got, expected in zip(expected_counts(net, codes, weights, memory_budget=tight).tables, want):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_family_with_two_hidden_members_is_swept_not_clamped(monkeypatch: pytest.MonkeyPatch) -> None:
    model = kneebayes.Model(clamping_spec())
    net = model.network
    r1, r2 = net.index["r1"], net.index["r2"]
    codes = np.array([[-1, -1, -1, 0, 1], [0, -1, -1, 1, -1], [-1, -1, 0, -1, 0]], dtype=np.int8)
    assert ((codes[:, [r1, r2]] < 0).all(axis=1)).any()        # g's family (r1, r2, g): two hidden in a row

    def clamped(*args: object) -> None:
        raise AssertionError("a family was clamped")

    monkeypatch.setattr(Clamps, "add", clamped)
    want, _ = brute_counts(model, codes, np.ones(3))
    for got, expected in zip(expected_counts(net, codes, np.ones(3)).tables, want):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
