"""Expected information gain (src/kneebayes/inference/gain.py, through Diagnosis.ranked_questions).

The engine computes every candidate's gain in one vectorised pass. The
reference here is the definition, by repeated exact inference:

    gain(X) = H(T | e) - sum_x P(x | e) H(T | e, x)

with T the causes' joint (or, on the non-enumerated path, the sum of that
over each cause alone), the joints from brute-force enumeration (random
networks) or a plain einsum over every table (the knee model, 31 nodes),
and P(x | e) read from that same joint: the reference asks the engine nothing.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Mapping, Sequence
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import brute_force, cpt_by_definition, evidence_for, networks, param

import kneebayes
from kneebayes.evidence import to_indices
from kneebayes.inference import gain
from kneebayes.inference.gain import expected_information_gains
from kneebayes.inference.posterior import encode, target_joint
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Prior, Table, TableColumn

TOL = 1e-9


# ---------------------------------------------------------------------------------
# The reference
# ---------------------------------------------------------------------------------
def _entropy(p: np.ndarray) -> float:
    """Shannon entropy in bits of a (not necessarily normalised) non-negative array."""
    flat = np.asarray(p, dtype=float).ravel()
    total = math.fsum(flat.tolist())
    q = [v / total for v in flat.tolist() if v > 0.0]
    return -math.fsum(v * math.log2(v) for v in q)


def _answer_probabilities(joint_with: np.ndarray) -> list[float]:
    """P(X = x | e) for every state x, from P(T_1, ..., T_m, X, e) up to a constant (exactly 0 where
    e + x is impossible: every product over it has a zero factor)."""
    flat = np.asarray(joint_with, dtype=float).reshape(-1, joint_with.shape[-1])
    per_state = [math.fsum(flat[:, i].tolist()) for i in range(flat.shape[1])]
    total = math.fsum(per_state)
    return [p / total for p in per_state]


def _reference_gain(joint_with: np.ndarray, n_targets: int, joint_measure: bool) -> float:
    """The definition, given P(T_1, ..., T_m, X, e) up to a constant (axes: targets..., X)."""
    weights = _answer_probabilities(joint_with)

    def h(arr: np.ndarray) -> float:
        if joint_measure:
            return _entropy(arr)
        axes = range(n_targets)
        return math.fsum(_entropy(arr.sum(axis=tuple(a for a in axes if a != j))) for j in axes)

    before = h(joint_with.sum(axis=-1))
    after = math.fsum(w * h(joint_with[..., i]) for i, w in enumerate(weights) if w > 0.0)
    return before - after


def _brute_joint_with(spec: ModelSpec, evidence: Mapping[str, str], targets: Sequence[str], node: str) -> np.ndarray:
    """P(targets..., node | e) by brute-force enumeration of the full joint."""
    ref = brute_force(spec, evidence)
    assert ref.conditioned is not None
    keep = [ref.names.index(t) for t in targets] + [ref.names.index(node)]
    other = tuple(a for a in range(len(ref.names)) if a not in keep)
    summed = ref.conditioned.sum(axis=other)               # remaining axes in ascending order
    order = sorted(keep)
    return np.transpose(summed, [order.index(a) for a in keep])


class EinsumReference:
    """P(causes..., X, e) for a network too big to enumerate: every table in one plain einsum."""

    def __init__(self, spec: ModelSpec, targets: Sequence[str]) -> None:
        self.spec = spec
        self.targets = tuple(targets)
        names = [n.id for n in spec.nodes]
        self.states = {n.id: n.states for n in spec.nodes}
        self.letter = {name: string.ascii_letters[i] for i, name in enumerate(names)}
        self.tables = [cpt_by_definition(n, self.states) for n in spec.nodes]
        self.subs = [("".join(self.letter[p] for p in n.parents) + self.letter[n.id]) for n in spec.nodes]
        self.names = names
        self._steps: dict[str, list[tuple[tuple[int, ...], str]]] = {}

    def joint_with(self, evidence: Mapping[str, str], node: str) -> np.ndarray:
        # The evidence zeroes the other states of each observed node in its own table (its last axis):
        # one fixed expression per output, whatever the evidence.
        operands = [table * np.array([1.0 if evidence.get(n, s) == s else 0.0 for s in self.states[n]])
                    for n, table in zip(self.names, self.tables)]
        out = "".join(self.letter[t] for t in self.targets) + self.letter[node]
        if out not in self._steps:
            path = np.einsum_path(",".join(self.subs) + "->" + out, *operands, optimize="greedy")[0]
            self._steps[out] = _steps(self.subs, out, path)
        return _contract(self._steps[out], operands)


def _steps(subs: Sequence[str], out: str, path: Sequence[object]) -> list[tuple[tuple[int, ...], str]]:
    """numpy's contraction order as the einsum of each step: which operands it takes (popped from the
    running list, the result appended) and its subscripts. What ``np.einsum(..., optimize=path)``
    runs, worked out once: numpy re-derives it on every call, which took most of this reference's time."""
    live = list(subs)
    steps = []
    for group in path[1:]:                                # path[0] is the word "einsum_path"
        taken = sorted(group, reverse=True)               # type: ignore[call-overload]
        inputs = [live.pop(i) for i in taken]
        last = not live
        kept = out if last else "".join(sorted(set("".join(inputs)) & set("".join(live) + out)))
        steps.append((tuple(taken), ",".join(inputs) + "->" + kept))
        live.append(kept)
    return steps


def _contract(steps: Sequence[tuple[tuple[int, ...], str]], operands: Sequence[np.ndarray]) -> np.ndarray:
    ops = list(operands)
    for taken, subscripts in steps:
        inputs = [ops.pop(i) for i in taken]
        ops.append(np.einsum(subscripts, *inputs))   # a plain einsum of the step's few operands
    (result,) = ops
    return result


def _gains_by_id(dx: kneebayes.Diagnosis) -> dict[str, float]:
    return {q.id: q.expected_information_gain for q in dx.ranked_questions}


def _joint_measure(model: kneebayes.Model) -> bool:
    net = model.network
    return bool(net.enumerated) or not net.targets


@st.composite
def knee_evidence(draw: st.DrawFn, model: kneebayes.Model) -> dict[str, str]:
    """Random yes/no answers on a random subset of the knee's nodes (causes included)."""
    ids = [n.id for n in model.nodes]
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=12))
    return {node: draw(st.sampled_from(("yes", "no"))) for node in chosen}


@st.composite
def possible_cases(draw: st.DrawFn, min_causes: int = 0) -> tuple[ModelSpec, dict[str, str]]:
    """A random network and evidence of non-zero probability under it."""
    spec = draw(networks(min_causes=min_causes))
    evidence = draw(evidence_for(spec))
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    return spec, evidence


@pytest.fixture(scope="module")
def knee_reference(knee_model: kneebayes.Model) -> EinsumReference:
    return EinsumReference(knee_model.spec, knee_model.causes)


@pytest.fixture(scope="module")
def knee_sum_model(knee_model: kneebayes.Model) -> kneebayes.Model:
    """The knee model forced onto the non-enumerated path (gain = sum of per-cause gains)."""
    return kneebayes.Model(knee_model.spec, joint_limit=1)


# ---------------------------------------------------------------------------------
# Agreement with the reference
# ---------------------------------------------------------------------------------
@given(data=st.data())
def test_knee_gains_equal_repeated_exact_inference(knee_model: kneebayes.Model, knee_reference: EinsumReference,
                                                   data: st.DataObject) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    assert _joint_measure(knee_model)
    gains = _gains_by_id(knee_model.diagnose(evidence))
    n = len(knee_model.causes)
    for node, got in gains.items():
        expected = _reference_gain(knee_reference.joint_with(evidence, node), n, True)
        assert abs(got - expected) <= TOL, (node, got, expected)


@given(data=st.data())
def test_knee_gains_on_the_non_enumerated_path_equal_the_sum_of_per_cause_gains(
    knee_sum_model: kneebayes.Model, knee_reference: EinsumReference, data: st.DataObject,
) -> None:
    evidence = data.draw(knee_evidence(knee_sum_model), label="evidence")
    assert not knee_sum_model.network.enumerated
    gains = _gains_by_id(knee_sum_model.diagnose(evidence))
    n = len(knee_sum_model.causes)
    for node, got in gains.items():
        expected = _reference_gain(knee_reference.joint_with(evidence, node), n, False)
        assert abs(got - expected) <= TOL, (node, got, expected)


@given(possible_cases())
def test_random_network_gains_equal_repeated_exact_inference(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec)
    joint = _joint_measure(model)
    gains = _gains_by_id(model.diagnose(evidence))
    for node, got in gains.items():
        expected = _reference_gain(_brute_joint_with(spec, evidence, model.causes, node), len(model.causes), joint)
        assert abs(got - expected) <= TOL, (node, got, expected, joint)


@given(possible_cases())
def test_gains_whose_entropies_skip_empty_states_equal_repeated_exact_inference(case: tuple[ModelSpec, dict[str, str]]) -> None:
    """The path large networks take (only states with some mass get a log), forced on small ones."""
    spec, evidence = case
    model = kneebayes.Model(spec)
    joint = _joint_measure(model)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gain, "SKIP_EMPTY_FROM", 0)
        gains = _gains_by_id(model.diagnose(evidence))
    for node, got in gains.items():
        expected = _reference_gain(_brute_joint_with(spec, evidence, model.causes, node), len(model.causes), joint)
        assert abs(got - expected) <= TOL, (node, got, expected, joint)


@given(possible_cases(min_causes=1))
def test_random_network_gains_on_the_non_enumerated_path_equal_the_sum_of_per_cause_gains(
    case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec, joint_limit=1)
    assert not model.network.enumerated
    gains = _gains_by_id(model.diagnose(evidence))
    for node, got in gains.items():
        expected = _reference_gain(_brute_joint_with(spec, evidence, model.causes, node), len(model.causes), False)
        assert abs(got - expected) <= TOL, (node, got, expected)


@given(possible_cases(min_causes=1), st.sampled_from(["targets", "candidates"]))
def test_non_enumerated_gains_clamping_either_side_equal_the_sum_of_per_cause_gains(
    case: tuple[ModelSpec, dict[str, str]], clamp: str,
) -> None:
    """I(T; X) is symmetric: clamping each target to each state (reading every candidate's marginal) or each
    candidate (reading the targets') gives the same gains; the ranking clamps whichever side has fewer states."""
    from kneebayes.evidence import normalize

    spec, evidence = case
    model = kneebayes.Model(spec, joint_limit=1)
    net = model.network
    candidates = tuple(net.index[n.id] for n in spec.nodes if n.askable)
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    gains, h_x = gain.marginal_gains(net, lam, candidates, clamp)
    for n, c in enumerate(candidates):
        node = net.names[c]
        expected = _reference_gain(_brute_joint_with(spec, evidence, model.causes, node), len(model.causes), False)
        assert abs(gains[n] - expected) <= TOL, (node, clamp, gains[n], expected)
        marginal = brute_force(spec, evidence).marginal(node)
        assert abs(h_x[n] - _entropy(np.array(list(marginal.values())))) <= TOL, (node, clamp)


@pytest.mark.parametrize("at_least", [1, 10**9], ids=["batched", "row_by_row"])
@given(possible_cases(min_causes=1), st.sampled_from(["targets", "candidates"]))
def test_non_enumerated_gains_batched_or_row_by_row_equal_the_sum_of_per_cause_gains(
    at_least: int, case: tuple[ModelSpec, dict[str, str]], clamp: str,
) -> None:
    """Clamped rows run as one batch, or one at a time where fewer than ``BATCH_ROWS_AT_LEAST`` would fit a
    pass (each on its own pruned plan): the same gains."""
    from kneebayes.evidence import normalize

    spec, evidence = case
    model = kneebayes.Model(spec, joint_limit=1)
    net = model.network
    candidates = tuple(net.index[n.id] for n in spec.nodes if n.askable)
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    with (mock.patch.object(gain, "BATCH_ROWS_AT_LEAST", at_least),
          mock.patch.object(gain, "target_joint", wraps=gain.target_joint) as passes):
        gains, _ = gain.marginal_gains(net, lam, candidates, clamp)
    rows = [call.args[1].shape[0] for call in passes.call_args_list]
    assert rows == [1] * len(rows) if at_least > 1 else len(rows) == 1   # one at a time, or all in one pass
    for n, c in enumerate(candidates):
        node = net.names[c]
        expected = _reference_gain(_brute_joint_with(spec, evidence, model.causes, node), len(model.causes), False)
        assert abs(gains[n] - expected) <= TOL, (node, clamp, at_least, gains[n], expected)


# ---------------------------------------------------------------------------------
# Invariants
# ---------------------------------------------------------------------------------
@given(possible_cases(), st.booleans())
def test_gain_is_never_negative(case: tuple[ModelSpec, dict[str, str]], enumerate_joint: bool) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec) if enumerate_joint else kneebayes.Model(spec, joint_limit=1)
    for q in model.diagnose(evidence).ranked_questions:
        assert q.expected_information_gain >= 0.0, q


@given(possible_cases(), st.booleans())
def test_gain_of_an_observed_node_is_zero(case: tuple[ModelSpec, dict[str, str]], enumerate_joint: bool) -> None:
    """Handed to the gain function as a candidate anyway, an observed node gains nothing.

    (Through the public API an observed node is never a candidate: see the ranking test below.)
    """
    spec, evidence = case
    assume(evidence)
    model = kneebayes.Model(spec) if enumerate_joint else kneebayes.Model(spec, joint_limit=1)
    net = model.network
    lam = encode(net, [to_indices(net, evidence)])
    observed = [net.index[n] for n in evidence]
    gains = expected_information_gains(net, lam, target_joint(net, lam), observed)
    assert gains.candidates == tuple(observed)
    for node, g in zip(evidence, gains.gains[0].tolist()):
        assert 0.0 <= g <= 1e-12, (node, g)   # zero up to rounding of the joint's sum, never below


def _certain_answer_spec() -> ModelSpec:
    """Two 3-state causes (one with a 4-state parent) and a finding that is s0 whatever its parent.

    Found by hypothesis: with v0 = s0 observed the causes' joint sums to
    1 + 2e-16, so H(v3 | e) rounds to -3.2e-16 and a gain clipped to
    [0, H(X)] came out negative.
    """
    s4, s3 = ("s0", "s1", "s2", "s3"), ("s0", "s1", "s2")
    first = (0.2727272727272727, 0.36363636363636365, 1 - 0.2727272727272727 - 0.36363636363636365)
    third = (0.3333333333333333, 0.33333333333333337, 0.3333333333333333)
    v1_columns = tuple(TableColumn((("v0", s),), tuple(param(p) for p in (first if s == "s0" else third))) for s in s4)
    v3_columns = tuple(TableColumn((("v2", s),), (param(1.0), param(0.0))) for s in s3)
    half = 0.47058823529411764
    return ModelSpec("certain", "0", "certain answer", (
        NodeSpec(id="v0", label="v0", kind="risk_factor", question="v0?", states=s4,
                 parameters=Prior(tuple(param(0.25) for _ in s4)), askable=True),
        NodeSpec(id="v1", label="v1", kind="cause", question="v1?", states=s3,
                 parameters=Table(("v0",), v1_columns), askable=False),
        NodeSpec(id="v2", label="v2", kind="cause", question="v2?", states=s3,
                 parameters=Prior((param(half), param(half), param(1 - 2 * half))), askable=False),
        NodeSpec(id="v3", label="v3", kind="finding", question="v3?", states=("s0", "s1"),
                 parameters=Table(("v2",), v3_columns), askable=True),
    ))


def test_gain_of_a_question_whose_answer_is_already_certain_is_zero_not_negative() -> None:
    model = kneebayes.Model(_certain_answer_spec())
    (question,) = model.diagnose({"v0": "s0"}).ranked_questions
    assert question.id == "v3"
    assert 0.0 <= question.expected_information_gain <= 1e-12


@given(possible_cases(), st.booleans(), st.data())
def test_ranking_holds_exactly_the_askable_nodes_neither_observed_nor_skipped(
    case: tuple[ModelSpec, dict[str, str]], enumerate_joint: bool, data: st.DataObject,
) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec) if enumerate_joint else kneebayes.Model(spec, joint_limit=1)
    ids = [n.id for n in spec.nodes]
    # a node is answered or skipped, never both (diagnose refuses that)
    # and only a question (an askable node) may be skipped
    askable = [n.id for n in spec.nodes if n.askable] or ids[:0]
    skipped = set(data.draw(st.lists(st.sampled_from(askable), unique=True) if askable else st.just([]),
                            label="skipped")) - set(evidence)
    ranked = [q.id for q in model.diagnose(evidence, skipped=skipped).ranked_questions]
    assert len(ranked) == len(set(ranked))
    expected = {n.id for n in spec.nodes if n.askable} - set(evidence) - skipped
    assert set(ranked) == expected
    assert not set(ranked) & set(evidence)
    assert not set(ranked) & skipped


@given(possible_cases())
def test_joint_gain_is_at_most_the_questions_own_entropy(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec)
    assume(_joint_measure(model))
    questions = model.diagnose(evidence).ranked_questions
    assume(questions)
    answers = model.marginals(evidence, nodes=[q.id for q in questions])
    for q in questions:
        h_x = _entropy(np.array(list(answers[q.id].values())))
        assert q.expected_information_gain <= h_x + 1e-12, (q.id, q.expected_information_gain, h_x)


@given(data=st.data())
def test_knee_joint_gain_is_at_most_the_questions_own_entropy(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    questions = knee_model.diagnose(evidence).ranked_questions
    answers = knee_model.marginals(evidence, nodes=[q.id for q in questions])
    for q in questions:
        h_x = _entropy(np.array(list(answers[q.id].values())))
        assert q.expected_information_gain <= h_x + 1e-12, (q.id, q.expected_information_gain, h_x)


@given(possible_cases(), st.booleans(), st.randoms(use_true_random=False))
def test_evidence_order_does_not_change_the_gains(case: tuple[ModelSpec, dict[str, str]], enumerate_joint: bool,
                                                  rng: random.Random) -> None:
    spec, evidence = case
    model = kneebayes.Model(spec) if enumerate_joint else kneebayes.Model(spec, joint_limit=1)
    items = list(evidence.items())
    rng.shuffle(items)
    first = _gains_by_id(model.diagnose(evidence))
    second = _gains_by_id(model.diagnose(dict(items)))
    assert first.keys() == second.keys()
    for node in first:
        assert abs(first[node] - second[node]) <= 1e-12, (node, first[node], second[node])


@given(data=st.data())
def test_knee_evidence_order_does_not_change_the_gains(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    evidence = data.draw(knee_evidence(knee_model), label="evidence")
    shuffled = dict(data.draw(st.permutations(list(evidence.items())), label="order"))
    first = _gains_by_id(knee_model.diagnose(evidence))
    second = _gains_by_id(knee_model.diagnose(shuffled))
    assert first.keys() == second.keys()
    for node in first:
        assert abs(first[node] - second[node]) <= 1e-12, (node, first[node], second[node])


# ---------------------------------------------------------------------------------
# Models built one after another
# ---------------------------------------------------------------------------------
_YES_NO = ("yes", "no")


def _cause(node: str, params: Prior | Table, states: tuple[str, ...] = _YES_NO) -> NodeSpec:
    return NodeSpec(id=node, label=node, kind="cause", question=f"{node}?", states=states, parameters=params, askable=False)


def _table(parent: str, columns: tuple[tuple[float, ...], ...]) -> Table:
    """A child of a yes/no ``parent``: one column per parent state."""
    return Table((parent,), tuple(TableColumn(((parent, s),), tuple(param(p) for p in col)) for s, col in zip(_YES_NO, columns)))


def _cause_and_finding(finding_states: tuple[str, ...], columns: tuple[tuple[float, ...], ...]) -> ModelSpec:
    finding = NodeSpec(id="f", label="f", kind="finding", question="f?", states=finding_states,
                       parameters=_table("c", columns), askable=True)
    return ModelSpec("pair", "0", "one cause, one finding", (_cause("c", Prior((param(0.3), param(0.7)))), finding))


def _two_roots(states: tuple[str, ...]) -> ModelSpec:
    n = len(states)
    prior = Prior(tuple(param(p) for p in [0.6] + [0.4 / (n - 1)] * (n - 1)))
    return ModelSpec("roots", "0", "two root causes", (_cause("a", prior, states), _cause("b", prior, states)))


def _linked_causes() -> ModelSpec:
    return ModelSpec("linked", "0", "b depends on a", (
        _cause("a", Prior((param(0.2), param(0.8)))), _cause("b", _table("a", ((0.9, 0.1), (0.1, 0.9))))))


_PAIRS = {
    "finding_2_then_3_states": (_cause_and_finding(("yes", "no"), ((0.9, 0.1), (0.1, 0.9))),
                                _cause_and_finding(("a", "b", "c"), ((0.1, 0.1, 0.8), (0.8, 0.1, 0.1)))),
    "causes_2_then_3_states": (_two_roots(("yes", "no")), _two_roots(("s0", "s1", "s2"))),
    "independent_then_linked_causes": (_two_roots(("yes", "no")), _linked_causes()),
}


@pytest.mark.parametrize("joint_limit", [4096, 1], ids=["enumerated", "non_enumerated"])
@pytest.mark.parametrize("pair", list(_PAIRS))
def test_results_do_not_depend_on_models_built_and_dropped_before(pair: str, joint_limit: int) -> None:
    """Build two different models alternately, dropping each: every one must give its own numbers.

    CPython hands a dropped network's memory (and so its id()) to the next
    network built; anything cached under id(network) then answers for the
    wrong network.
    """
    specs = _PAIRS[pair]
    truth = []
    for spec in specs:
        ref = brute_force(spec, {})
        causes = [n.id for n in spec.nodes if n.kind == "cause"]
        askable = [n.id for n in spec.nodes if n.askable]
        joint = _joint_measure(kneebayes.Model(spec, joint_limit=joint_limit))
        gains = {node: _reference_gain(_brute_joint_with(spec, {}, causes, node), len(causes), joint) for node in askable}
        truth.append(({c: ref.marginal(c) for c in causes}, gains))
    for i in range(600):
        k = i % 2
        dx = kneebayes.Model(specs[k], joint_limit=joint_limit).diagnose({})
        distributions, gains = truth[k]
        for cause, dist in distributions.items():
            for state, p in dist.items():
                assert abs(dx.distributions[cause][state] - p) <= TOL, (i, cause, dict(dx.distributions[cause]), dist)
        got = {q.id: q.expected_information_gain for q in dx.ranked_questions}
        assert got.keys() == gains.keys()
        for node, g in gains.items():
            assert abs(got[node] - g) <= TOL, (i, node, got[node], g)


def test_the_diagnosis_says_which_gain_measure_it_used(knee_model: kneebayes.Model) -> None:
    evidence = {"limping": "yes"}
    assert knee_model.diagnose(evidence).gain_measure == "joint"
    assert kneebayes.Model(knee_model.spec, joint_limit=1).diagnose(evidence).gain_measure == "sum_of_marginals"


def test_an_unknown_side_to_clamp_is_refused_with_the_valid_ones(knee_model: kneebayes.Model) -> None:
    net = kneebayes.Model(knee_model.spec, joint_limit=1).network
    with pytest.raises(kneebayes.SettingError, match="'auto', 'targets' or 'candidates', not 'both'"):
        gain.marginal_gains(net, encode(net, [{}]), (net.index["limping"],), clamp="both")


def test_an_impossible_row_among_marginal_gains_warns_of_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the row's clamped states all have probability zero: their weights are zeros, not 0 / 0
    path = tmp_path / "r.bif"
    path.write_text("network r {}\n"
                    "variable A { type discrete [ 2 ] { a0, a1 }; }\n"
                    "variable B { type discrete [ 2 ] { b0, b1 }; }\n"
                    "variable C { type discrete [ 3 ] { c0, c1, c2 }; }\n"
                    "probability ( A ) { table 0.3, 0.7; }\n"
                    "probability ( B | A ) { (a0) 1.0, 0.0; (a1) 0.4, 0.6; }\n"
                    "probability ( C | A ) { (a0) 0.2, 0.3, 0.5; (a1) 0.6, 0.3, 0.1; }\n", encoding="utf-8")
    model = kneebayes.Model(kneebayes.load_bif(str(path), targets=["A"]).spec, targets=["A"], joint_limit=1)
    frame = pd.DataFrame([{"A": "a0", "B": "b1"}, {"B": "b0"}])      # the first row has probability zero
    with np.errstate(all="raise"):
        out = model.diagnose_frame(frame, next_question=True)
    assert out["impossible"].tolist() == [True, False]
    assert out["next_question"].tolist() == [None, "C"]
