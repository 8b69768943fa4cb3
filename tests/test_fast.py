"""The fast path (src/kneebayes/inference/fast.py) against the general engine it stands in for.

Wherever the fast plan settles a row (``ok``), its joint of the targets and
log P(evidence) equal the general engine's (``target_joint``) to 1e-12, on
the knee model and on random small networks, zeros and impossible evidence
included; rows it does not settle are the general engine's to compute.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import brute_force, evidence_for, networks, param, probabilities

import kneebayes
from kneebayes.inference.fast import TINY, batch_rows, clear_part_cache, compile_fast, fast_joint, part_rows
from kneebayes.inference.posterior import encode, target_joint
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Prior, Table, TableColumn

TOL = 1e-12


def _indices(model: kneebayes.Model, evidence: dict[str, str]) -> dict[int, int]:
    net = model.network
    return {net.index[k]: net.state_index[net.index[k]][v] for k, v in evidence.items()}


def _general(model: kneebayes.Model, indices: dict[int, int]) -> tuple[np.ndarray, float]:
    tj = target_joint(model.network, encode(model.network, [indices]))
    return tj.joint[0], float(tj.log_evidence[0])


def _assert_same(model: kneebayes.Model, indices: dict[int, int], joint: np.ndarray, log_evidence: float) -> None:
    expected, expected_log = _general(model, indices)
    if expected_log == -math.inf or log_evidence == -math.inf:
        assert log_evidence == expected_log == -math.inf
        return
    assert np.abs(joint - expected).max() <= TOL
    assert abs(log_evidence - expected_log) <= TOL * max(1.0, abs(expected_log))


@st.composite
def knee_evidence(draw: st.DrawFn, model: kneebayes.Model) -> dict[str, str]:
    """Yes/no answers on a random subset of the knee's nodes, causes included."""
    chosen = draw(st.lists(st.sampled_from([n.id for n in model.nodes]), unique=True))
    return {node: draw(st.sampled_from(("yes", "no"))) for node in chosen}


def test_the_knee_model_has_a_fast_plan(knee_model: kneebayes.Model) -> None:
    assert compile_fast(knee_model.network) is not None


@given(data=st.data())
def test_knee_fast_joint_equals_the_general_engine_where_it_settles(knee_model: kneebayes.Model,
                                                                    data: st.DataObject) -> None:
    plan = compile_fast(knee_model.network)
    assert plan is not None
    indices = _indices(knee_model, data.draw(knee_evidence(knee_model)))
    found = fast_joint(plan, part_rows(plan, indices))
    assume(found.ok[0])
    _assert_same(knee_model, indices, found.joint[0], float(found.log_evidence[0]))


@given(data=st.data())
def test_a_batch_gives_each_row_what_it_gives_alone(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    plan = compile_fast(knee_model.network)
    assert plan is not None
    # the sets from a drawn seed: forty hypothesis draws of evidence cost seconds an example
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ids = [n.id for n in knee_model.nodes]
    sets = [_indices(knee_model, {ids[j]: ("yes", "no")[int(rng.integers(2))]
                                  for j in rng.choice(len(ids), size=int(rng.integers(0, len(ids) + 1)), replace=False)})
            for _ in range(data.draw(st.integers(1, 40)))]
    codes = np.full((len(sets), len(knee_model.network.names)), -1)
    for r, indices in enumerate(sets):
        codes[r, list(indices)] = list(indices.values())
    batch = fast_joint(plan, batch_rows(plan, codes))
    for r, indices in enumerate(sets):
        alone = fast_joint(plan, part_rows(plan, indices))
        assert batch.ok[r] == alone.ok[0]
        if alone.ok[0]:
            assert np.abs(batch.joint[r] - alone.joint[0]).max() <= TOL


def test_typical_knee_evidence_is_settled_by_the_fast_path(knee_model: kneebayes.Model) -> None:
    # Forward-sampled runners answering 2-8 questions: the fast path's own cases, nearly all.
    from kneebayes.research.sampling import sample_cases

    plan = compile_fast(knee_model.network)
    assert plan is not None
    rng = np.random.default_rng(0)
    askable = [n.id for n in knee_model.nodes if n.askable]
    settled = 0
    cases = sample_cases(knee_model, 200, rng)
    for case in cases:
        shown = rng.choice(len(askable), size=int(rng.integers(2, 9)), replace=False)
        indices = _indices(knee_model, {askable[j]: case[askable[j]] for j in shown})
        settled += bool(fast_joint(plan, part_rows(plan, indices)).ok[0])
    assert settled >= 0.95 * len(cases)


@given(networks(min_causes=1), st.data())
def test_random_networks_fast_joint_equals_the_general_engine(spec: ModelSpec, data: st.DataObject) -> None:
    model = kneebayes.Model(spec)
    plan = compile_fast(model.network)
    assume(plan is not None)
    assert plan is not None
    indices = _indices(model, data.draw(evidence_for(spec)))
    found = fast_joint(plan, part_rows(plan, indices))
    assume(found.ok[0])
    _assert_same(model, indices, found.joint[0], float(found.log_evidence[0]))


@given(networks(min_causes=1), st.data())
def test_random_networks_diagnose_agrees_with_brute_force_and_refuses_impossible_evidence(
        spec: ModelSpec, data: st.DataObject) -> None:
    model = kneebayes.Model(spec)
    evidence = data.draw(evidence_for(spec))
    reference = brute_force(spec, evidence)
    if reference.p_evidence == 0.0:
        with pytest.raises(kneebayes.ImpossibleEvidenceError, match="probability zero"):
            model.diagnose(evidence)
        return
    dx = model.diagnose(evidence)
    for cause, dist in dx.distributions.items():
        for state, p in dist.items():
            assert abs(p - reference.marginal(cause)[state]) <= 1e-9


def _two_cause_model(findings: int, p_yes: float, zero: bool = False) -> kneebayes.Model:
    """Two causes under one risk factor, and ``findings`` findings of both (each P(yes) = p_yes whatever
    the causes); with ``zero``, a last finding that is never "yes" when the first cause is "no"."""
    yes_no = ("yes", "no")
    nodes = [
        NodeSpec(id="rf", label="rf", kind="risk_factor", question="rf?", states=yes_no,
                 parameters=Prior((param(0.3), param(0.7))), askable=True),
    ]
    for c in ("c1", "c2"):
        nodes.append(NodeSpec(id=c, label=c, kind="cause", question=f"{c}?", states=yes_no,
                              parameters=NoisyOr(param(0.1), (("rf", param(0.6)),)), askable=False))
    for j in range(findings):
        columns = tuple(TableColumn((("c1", a), ("c2", b)), (param(p_yes), param(1.0 - p_yes)))
                        for a, b in itertools.product(yes_no, yes_no))
        nodes.append(NodeSpec(id=f"f{j}", label=f"f{j}", kind="finding", question=f"f{j}?", states=yes_no,
                              parameters=Table(("c1", "c2"), columns), askable=True))
    if zero:
        columns = tuple(TableColumn((("c1", a),), (param(0.5 if a == "yes" else 0.0), param(0.5 if a == "yes" else 1.0)))
                        for a in yes_no)
        nodes.append(NodeSpec(id="z", label="z", kind="finding", question="z?", states=yes_no,
                              parameters=Table(("c1",), columns), askable=True))
    return kneebayes.Model(ModelSpec(name="two", version="0", title="two causes", nodes=tuple(nodes)))


def test_impossible_evidence_raises_the_same_error_as_the_general_engine() -> None:
    model = _two_cause_model(2, 0.5, zero=True)
    plan = compile_fast(model.network)
    assert plan is not None
    indices = _indices(model, {"c1": "no", "z": "yes"})
    found = fast_joint(plan, part_rows(plan, indices))
    assert found.ok[0] and found.log_evidence[0] == -math.inf
    with pytest.raises(kneebayes.ImpossibleEvidenceError) as err:
        model.diagnose({"c1": "no", "z": "yes"})
    assert str(err.value) == ("the evidence {c1=no, z=yes} has probability zero under this model; "
                              "no posterior exists (check for contradictory answers)")


def test_evidence_below_tiny_is_left_to_the_general_engine_in_log_space() -> None:
    # 40 findings of probability 1e-6 each: P(evidence) = 1e-240, past the general engine's switch to log space.
    model = _two_cause_model(40, 1e-6)
    evidence = {f"f{j}": "yes" for j in range(40)}
    plan = compile_fast(model.network)
    assert plan is not None
    indices = _indices(model, evidence)
    assert not fast_joint(plan, part_rows(plan, indices)).ok[0]
    expected, expected_log = _general(model, indices)
    assert expected_log < math.log(TINY)
    dx = model.diagnose(evidence)
    assert dx.log_evidence_probability == expected_log
    assert abs(dx.posterior["c1"] - float(expected @ (model.network.joint_states[:, 0] == 0))) <= TOL


def test_a_targets_joint_too_large_to_enumerate_has_no_fast_plan(knee_model: kneebayes.Model) -> None:
    model = kneebayes.Model(knee_model.spec, joint_limit=32)
    assert compile_fast(model.network) is None


def test_a_long_chain_of_non_targets_has_no_fast_plan() -> None:
    # 14 linked findings: too many evidence patterns to tabulate, and not roots of noisy-ORs.
    yes_no = ("yes", "no")
    nodes = [NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                      parameters=Prior((param(0.2), param(0.8))), askable=False)]
    parent = "c"
    for j in range(14):
        nodes.append(NodeSpec(id=f"f{j}", label=f"f{j}", kind="finding", question=f"f{j}?", states=yes_no,
                              parameters=NoisyOr(param(0.1), ((parent, param(0.7)),)), askable=True))
        parent = f"f{j}"
    model = kneebayes.Model(ModelSpec(name="chain", version="0", title="chain", nodes=tuple(nodes)))
    assert compile_fast(model.network) is None
    assert 0.0 < model.diagnose({"f13": "yes"}).posterior["c"] < 1.0


@st.composite
def factored_networks(draw: st.DrawFn) -> ModelSpec:
    """Yes/no roots whose only children are causes, each cause a noisy-OR over some of them: the shape the
    fast plan factors instead of tabulating. (No findings: with nothing tabulated, they would have no plan.)"""
    yes_no = ("yes", "no")
    n_roots = draw(st.integers(min_value=1, max_value=3))
    n_causes = draw(st.integers(min_value=1, max_value=3))
    nodes: list[NodeSpec] = []
    roots = [f"r{i}" for i in range(n_roots)]
    for r in roots:
        p = draw(probabilities())
        nodes.append(NodeSpec(id=r, label=r, kind="risk_factor", question=f"{r}?", states=yes_no,
                              parameters=Prior((param(p), param(1.0 - p))), askable=True))
    causes = [f"c{i}" for i in range(n_causes)]
    for c in causes:
        parents = draw(st.lists(st.sampled_from(roots), min_size=1, unique=True))
        weights = tuple((r, param(draw(probabilities()))) for r in parents)
        nodes.append(NodeSpec(id=c, label=c, kind="cause", question=f"{c}?", states=yes_no,
                              parameters=NoisyOr(param(draw(probabilities())), weights), askable=False))
    return ModelSpec(name="factored", version="0", title="factored", nodes=tuple(draw(st.permutations(nodes))))


@given(factored_networks(), st.data())
def test_random_networks_factored_wherever_they_can_be_equal_the_general_engine(spec: ModelSpec,
                                                                               data: st.DataObject) -> None:
    from kneebayes.inference import fast

    model = kneebayes.Model(spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast, "TABLE_LIMIT", 0)     # nothing tabulated: every group of roots under causes is factored
        plan = compile_fast(model.network)
    assert plan is not None and plan.mix is not None
    evidence = data.draw(evidence_for(spec))
    indices = _indices(model, evidence)
    found = fast_joint(plan, part_rows(plan, indices))
    assume(found.ok[0])
    # Against brute force, every table entry to its last digit: the general engine splits a noisy-OR over a
    # hidden variable with a negative term where that keeps 12 digits, and no further.
    reference = brute_force(spec, evidence)
    if reference.p_evidence == 0.0:
        assert found.log_evidence[0] == -math.inf
        return
    assert float(found.log_evidence[0]) == pytest.approx(math.log(reference.p_evidence), rel=TOL, abs=TOL)
    net = model.network
    for j, t in enumerate(net.targets):
        for s, state in enumerate(net.states[t]):
            got = float(found.joint[0] @ (net.joint_states[:, j] == s))
            assert abs(got - reference.marginal(net.names[t])[state]) <= TOL


def _factored_pair(weight_r0: float, weight_r1: float) -> kneebayes.Model:
    """Risk factors r0 (always present) and r1 (never), a cause c0 = noisy-OR(r0, r1) without leak: factored."""
    yes_no = ("yes", "no")
    nodes = [NodeSpec(id=r, label=r, kind="risk_factor", question=f"{r}?", states=yes_no,
                      parameters=Prior((param(p), param(1.0 - p))), askable=True) for r, p in (("r0", 1.0), ("r1", 0.0))]
    nodes.append(NodeSpec(id="c0", label="c0", kind="cause", question="c0?", states=yes_no,
                          parameters=NoisyOr(param(0.0), (("r0", param(weight_r0)), ("r1", param(weight_r1)))),
                          askable=False))
    return kneebayes.Model(ModelSpec(name="pair", version="0", title="pair", nodes=tuple(nodes)))


def _factored_plan(model: kneebayes.Model):  # type: ignore[no-untyped-def]
    from kneebayes.inference import fast

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast, "TABLE_LIMIT", 0)     # nothing tabulated: the roots under the cause are factored
        plan = compile_fast(model.network)
    assert plan is not None and plan.mix is not None
    return plan


def test_a_factored_cause_that_cannot_be_yes_makes_its_yes_impossible_not_improbable() -> None:
    # c0 = yes needs r1, which is never present: P(evidence) is exactly 0 (a fitted intercept of 4e-17 gave e^-37.7).
    model = _factored_pair(0.0, 1.0)
    plan = _factored_plan(model)
    found = fast_joint(plan, part_rows(plan, _indices(model, {"r0": "yes", "c0": "yes"})))
    assert not found.ok[0] or found.log_evidence[0] == -math.inf
    with pytest.raises(kneebayes.ImpossibleEvidenceError, match="probability zero"):
        model.diagnose({"r0": "yes", "c0": "yes"})


def test_a_factored_probability_of_one_in_a_million_keeps_every_digit() -> None:
    # P(c0 = no | r0) = 1 - 0.999999: a fitted intercept of 1e-17 moved log P(evidence) by 4.6e-11.
    model = _factored_pair(0.999999, 1.0)
    plan = _factored_plan(model)
    indices = _indices(model, {"r0": "yes", "c0": "no"})
    found = fast_joint(plan, part_rows(plan, indices))
    assert found.ok[0]
    assert float(found.log_evidence[0]) == pytest.approx(math.log(1.0 - 0.999999), rel=1e-15)
    _assert_same(model, indices, found.joint[0], float(found.log_evidence[0]))


def test_a_budget_too_small_for_a_whole_table_leaves_the_posterior_to_the_general_engine(
        knee_model: kneebayes.Model) -> None:
    small = kneebayes.Model(knee_model.spec, memory_budget=1024)   # the knee's widest table takes 2 KiB whole
    assert small.fast_plan is None
    assert abs(small.diagnose({}).posterior["meniscal_injury"] - knee_model.diagnose({}).posterior["meniscal_injury"]) < 1e-12


@pytest.mark.parametrize("change", [{"bakers_cyst.leak": 0.1},                       # a tabulated part
                                    {"hamstring_strain.weight[poor_warmup]": 0.45},  # a factored part's fit
                                    {"poor_warmup.prior": (0.2, (0.1, 0.3))}])       # a factored part's root
def test_a_changed_models_plan_reuses_only_parts_whose_numbers_are_unchanged(knee_model: kneebayes.Model,
                                                                           change: dict) -> None:
    before = compile_fast(knee_model.network)
    changed = knee_model.with_parameters(change)
    kept = compile_fast(changed.network)
    clear_part_cache()
    fresh = compile_fast(changed.network)
    assert before is not None and kept is not None and fresh is not None
    assert np.array_equal(kept.logs, fresh.logs) and np.array_equal(kept.mix, fresh.mix)
    assert not np.array_equal(kept.logs, before.logs) or not np.array_equal(kept.mix, before.mix)


# -- rows of codes (rows_plan, rows_marginals): the batch path of diagnose_frame ----------------

def _codes(model: kneebayes.Model, rows: list[dict[int, int]], nodes: list[int]) -> np.ndarray:
    """Evidence sets as rows of codes over ``nodes``: -1 where not observed."""
    return np.array([[indices.get(v, -1) for v in nodes] for indices in rows], dtype=np.int8).reshape(len(rows), len(nodes))


def _random_knee_rows(model: kneebayes.Model, seed: int, n: int) -> list[dict[int, int]]:
    rng = np.random.default_rng(seed)
    ids = [nd.id for nd in model.nodes]
    return [_indices(model, {ids[j]: ("yes", "no")[int(rng.integers(2))]
                             for j in rng.choice(len(ids), size=int(rng.integers(0, len(ids) + 1)), replace=False)})
            for _ in range(n)]


@given(seed=st.integers(0, 2**32 - 1), n_columns=st.integers(0, 32))
def test_rows_marginals_equal_the_general_engine_where_they_settle(knee_model: kneebayes.Model, seed: int,
                                                                   n_columns: int) -> None:
    from kneebayes.inference.fast import rows_marginals, rows_plan

    net = knee_model.network
    nodes = [int(v) for v in np.random.default_rng(seed).permutation(len(net.names))[:n_columns]]
    sets = [{v: s for v, s in indices.items() if v in nodes} for indices in _random_knee_rows(knee_model, seed, 30)]
    matrix = knee_model.targets.matrix
    found = rows_marginals(rows_plan(knee_model.fast_plan, nodes, matrix), _codes(knee_model, sets, nodes))
    for r, indices in enumerate(sets):
        if not found.ok[r]:
            continue
        joint, log_evidence = _general(knee_model, indices)
        if log_evidence == -math.inf:
            assert found.log_evidence[r] == -math.inf
            continue
        assert np.abs(found.marginals[r] - joint @ matrix).max() <= TOL
        assert abs(found.log_evidence[r] - log_evidence) <= TOL * max(1.0, abs(log_evidence))


def test_rows_marginals_settle_the_rows_fast_joint_settles(knee_model: kneebayes.Model) -> None:
    from kneebayes.inference.fast import rows_marginals, rows_plan

    plan = knee_model.fast_plan
    nodes = list(range(len(knee_model.network.names)))
    sets = _random_knee_rows(knee_model, 3, 2000)
    codes = _codes(knee_model, sets, nodes)
    grouped = rows_marginals(rows_plan(plan, nodes, knee_model.targets.matrix), codes)
    summed = fast_joint(plan, batch_rows(plan, codes))
    assert (~summed.ok).sum() > 10    # the sample holds rows the fast path leaves to the general engine
    assert np.array_equal(grouped.ok, summed.ok)


def test_rows_marginals_are_the_same_whatever_the_groups(knee_model: kneebayes.Model) -> None:
    from kneebayes.inference.fast import rows_marginals, rows_plan

    nodes = list(range(len(knee_model.network.names)))[::-1]   # columns in any order
    codes = _codes(knee_model, _random_knee_rows(knee_model, 4, 300), nodes)
    matrix = knee_model.targets.matrix
    found = [rows_marginals(rows_plan(knee_model.fast_plan, nodes, matrix, patterns=p), codes) for p in (1, 9, 100_000)]
    for other in found[1:]:
        settled = found[0].ok
        assert np.array_equal(other.ok, settled)   # rows left to the general engine may differ in any digit
        assert np.abs(other.marginals[settled] - found[0].marginals[settled]).max() <= TOL
        assert np.abs(other.log_evidence[settled] - found[0].log_evidence[settled]).max() <= TOL


@given(networks(min_causes=1), st.data())
def test_random_networks_rows_marginals_equal_the_general_engine(spec: ModelSpec, data: st.DataObject) -> None:
    from kneebayes.inference.fast import rows_marginals, rows_plan

    model = kneebayes.Model(spec)
    plan = compile_fast(model.network)
    assume(plan is not None and model.targets.matrix is not None)
    sets = [_indices(model, data.draw(evidence_for(spec))) for _ in range(3)]
    nodes = sorted({v for indices in sets for v in indices})
    found = rows_marginals(rows_plan(plan, nodes, model.targets.matrix), _codes(model, sets, nodes))
    for r, indices in enumerate(sets):
        joint, log_evidence = _general(model, indices)
        if log_evidence == -math.inf:
            assert not found.ok[r] or found.log_evidence[r] == -math.inf
        elif found.ok[r]:
            assert np.abs(found.marginals[r] - joint @ model.targets.matrix).max() <= TOL
            assert abs(found.log_evidence[r] - log_evidence) <= TOL * max(1.0, abs(log_evidence))


def test_rows_marginals_tell_impossible_rows_from_tiny_ones() -> None:
    from kneebayes.inference.fast import rows_marginals, rows_plan

    # 40 findings of 1e-6: P(evidence) = 1e-240, whose values over the joint pass below the range's bottom
    tiny = _two_cause_model(40, 1e-6, zero=True)
    net = tiny.network
    nodes = [net.index[f"f{j}"] for j in range(40)] + [net.index["c1"], net.index["z"]]
    rows = np.array([[0] * 40 + [-1, -1], [-1] * 40 + [1, 0]], dtype=np.int8)   # all "yes"; c1 = no with z = yes
    found = rows_marginals(rows_plan(compile_fast(net), nodes, tiny.targets.matrix), rows)
    assert not found.ok[0] and found.log_evidence[0] == pytest.approx(40 * math.log(1e-6), rel=1e-12)
    assert found.ok[1] and found.log_evidence[1] == -math.inf


def test_rows_plan_is_kept_for_the_same_plan_columns_and_matrix(knee_model: kneebayes.Model) -> None:
    from kneebayes.inference.fast import rows_plan

    plan, matrix = knee_model.fast_plan, knee_model.targets.matrix
    kept = rows_plan(plan, [3, 1, 4], matrix)
    assert rows_plan(plan, np.array([3, 1, 4]), matrix.copy()) is kept
    assert rows_plan(plan, [3, 1, 5], matrix) is not kept and rows_plan(plan, [3, 1, 4], matrix[:, :2]) is not kept


def test_rows_marginals_are_the_same_with_the_joint_in_blocks_or_whole(knee_model: kneebayes.Model) -> None:
    from kneebayes.inference.fast import rows_marginals, rows_plan

    nodes = list(range(len(knee_model.network.names)))
    codes = _codes(knee_model, _random_knee_rows(knee_model, 6, 300), nodes)
    matrix = knee_model.targets.matrix
    blocked = rows_plan(knee_model.fast_plan, nodes, matrix)
    assert len(blocked.columns) == 2   # the knee's sixth cause couples with no risk factor: the terms repeat
    whole = rows_plan(knee_model.fast_plan, nodes, matrix, blocks=False)
    assert len(whole.columns) == 1
    a, b = rows_marginals(blocked, codes), rows_marginals(whole, codes)
    assert np.array_equal(a.ok, b.ok)
    assert np.abs(a.marginals[a.ok] - b.marginals[a.ok]).max() <= TOL
    assert np.abs(a.log_evidence[a.ok] - b.log_evidence[a.ok]).max() <= TOL
