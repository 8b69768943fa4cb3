"""Learning numbers from cases (kneebayes.research.learning): EM checked against brute force, pgmpy and the truth."""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kneebayes
from kneebayes.errors import EvidenceError, ImpossibleEvidenceError, InvalidStateError, SettingError, UnknownNodeError
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table, TableColumn
from kneebayes.research.learning import ConvergenceWarning, Learning, UnlearnedWarning, learn, sample, updated_with
from kneebayes.research.learning_counts import expected_counts
from kneebayes.research.learning_frame import code_frame
from kneebayes.research.learning_steps import ranges
from kneebayes.research.ranges import RANGE_MASS
from kneebayes.research.parameters import diff_frame

DATE = "2024-05-01"


# -- small models built in code ------------------------------------------------------------------
def number(value: float, low: float, high: float) -> Parameter:
    return Parameter(value, source="test", rationale="for the test", range=(low, high))


def yes_no(id_: str, kind: str, parameters: Prior | NoisyOr | Table, states: tuple[str, ...] = ("yes", "no")) -> NodeSpec:
    return NodeSpec(id_, id_, kind, f"{id_}?", states, parameters, askable=kind != "cause")


def prior(p: float, low: float, high: float) -> Prior:
    q = number(p, low, high)
    return Prior((q, Parameter(1 - p, "test", "complement", (1 - high, 1 - low))), derived_last=True)


def column(given: tuple[tuple[str, str], ...], cells: tuple[float, ...], width: float = 0.15) -> TableColumn:
    return TableColumn(given, tuple(number(v, max(v - width, 0.01), min(v + width, 0.99)) for v in cells))


def tiny_spec(c1: float = 0.3, c2: float = 0.2, w11: float = 0.8, w12: float = 0.6, leak1: float = 0.05,
              w21: float = 0.7, leak2: float = 0.1, f3_yes: tuple[float, ...] = (0.1, 0.3, 0.6),
              f3_no: tuple[float, ...] = (0.6, 0.3, 0.1)) -> ModelSpec:
    """Two causes, three findings: two noisy-ORs and a three-state table."""
    nodes = (
        yes_no("c1", "cause", prior(c1, 0.1, 0.6)),
        yes_no("c2", "cause", prior(c2, 0.05, 0.45)),
        yes_no("f1", "finding", NoisyOr(number(leak1, 0.01, 0.3), (("c1", number(w11, 0.4, 0.95)),
                                                                  ("c2", number(w12, 0.3, 0.9))))),
        yes_no("f2", "finding", NoisyOr(number(leak2, 0.01, 0.3), (("c1", number(w21, 0.4, 0.95)),))),
        yes_no("f3", "finding", Table(("c2",), (column((("c2", "yes"),), f3_yes), column((("c2", "no"),), f3_no))),
               states=("low", "mid", "high")),
    )
    return ModelSpec("tiny", "1.0", "Two causes and three findings", nodes)


START = tiny_spec()
TRUTH = tiny_spec(c1=0.4, c2=0.15, w11=0.9, w12=0.5, leak1=0.1, w21=0.6, leak2=0.05, f3_yes=(0.2, 0.3, 0.5),
                  f3_no=(0.7, 0.2, 0.1))


def values(model: kneebayes.Model) -> dict[str, float]:
    return {address: p.value for address, p in model.parameters.items()}


def largest_error(model: kneebayes.Model, truth: kneebayes.Model) -> float:
    want = values(truth)
    return max(abs(v - want[a]) for a, v in values(model).items())


@pytest.fixture(scope="module")
def start() -> kneebayes.Model:
    return kneebayes.Model(START)


@pytest.fixture(scope="module")
def truth() -> kneebayes.Model:
    return kneebayes.Model(TRUTH)


def quiet_learn(*args, **kwargs) -> Learning:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return learn(*args, **kwargs)


# -- brute force ---------------------------------------------------------------------------------
def brute_joint(model: kneebayes.Model) -> tuple[np.ndarray, np.ndarray]:
    """Every joint state of the network (rows of state indices) and its probability."""
    net = model.network
    states = np.array(list(itertools.product(*(range(c) for c in net.cards))))
    p = np.ones(len(states))
    for i in range(len(net.names)):
        table = np.asarray(net.tables[i])
        p *= table[tuple(states[:, j] for j in net.parents[i]) + (states[:, i],)]
    return states, p


def brute_counts(model: kneebayes.Model, codes: np.ndarray, weights: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Expected family counts and log-likelihood by enumerating every joint state for every row."""
    net = model.network
    states, p = brute_joint(model)
    tables = [np.zeros(np.asarray(net.tables[i]).shape) for i in range(len(net.names))]
    log_likelihood = 0.0
    for row, w in zip(codes, weights):
        keep = np.all((row < 0) | (states == row), axis=1)
        evidence = p[keep].sum()
        log_likelihood += w * math.log(evidence)
        for i in range(len(net.names)):
            members = list(net.parents[i]) + [i]
            np.add.at(tables[i], tuple(states[keep][:, j] for j in members), w * p[keep] / evidence)
    return tables, log_likelihood


def clamping_spec() -> ModelSpec:
    """A network where one family has two non-target members that may both be missing (they get clamped)."""
    r2_states = ("a", "b", "c")
    nodes = (
        yes_no("r1", "risk_factor", prior(0.3, 0.1, 0.5)),
        yes_no("r2", "risk_factor", Prior(tuple(number(v, 0.05, 0.8) for v in (0.2, 0.5, 0.3))), states=r2_states),
        yes_no("c", "cause", Table(("r1",), (column((("r1", "yes"),), (0.7, 0.3)), column((("r1", "no"),), (0.2, 0.8))))),
        yes_no("f", "finding", Table(("r2", "c"), tuple(column((("r2", s), ("c", t)), (v, 1 - v))
                                                       for (s, t), v in zip(itertools.product(r2_states, ("yes", "no")),
                                                                            (0.9, 0.2, 0.7, 0.3, 0.5, 0.1))))),
        yes_no("g", "finding", Table(("r1", "r2"), tuple(column((("r1", s), ("r2", t)), (v, 1 - v))
                                                        for (s, t), v in zip(itertools.product(("yes", "no"), r2_states),
                                                                             (0.8, 0.6, 0.4, 0.3, 0.2, 0.1))))),
    )
    return ModelSpec("clamp", "1.0", "Risk factors, a cause, findings", nodes)


def test_expected_counts_equal_brute_force_with_values_missing_anywhere() -> None:
    model = kneebayes.Model(clamping_spec())
    net = model.network
    rng = np.random.default_rng(4)
    cases = sample(model, 200, seed=2)
    frame = cases.astype(object).mask(rng.random(cases.shape) < 0.45)   # r1 and r2 often missing together
    coded = code_frame(net, frame)
    counts = expected_counts(net, coded.codes, coded.weights)
    want, log_likelihood = brute_counts(model, coded.codes, coded.weights)
    assert (coded.codes[:, [net.index["r1"], net.index["r2"]]] < 0).all(axis=1).any()   # the clamped path ran
    for got, expected in zip(counts.tables, want):
        np.testing.assert_allclose(got, expected, atol=1e-10)
    assert counts.log_likelihood == pytest.approx(log_likelihood, abs=1e-9)


CLAMPING = kneebayes.Model(clamping_spec())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from([-1, 0, 1, 2]), min_size=5, max_size=5), min_size=1, max_size=6))
def test_expected_counts_equal_brute_force_for_any_missing_pattern(rows: list[list[int]]) -> None:
    net = CLAMPING.network
    codes = np.array([[min(c, net.cards[i] - 1) for i, c in enumerate(row)] for row in rows], dtype=np.int8)
    weights = np.arange(1, len(rows) + 1, dtype=float)
    states, p = brute_joint(CLAMPING)
    keep = [np.all((row < 0) | (states == row), axis=1) for row in codes]
    if any(p[k].sum() == 0 for k in keep):
        return   # impossible rows are reported, not counted (tested with learn)
    counts = expected_counts(net, codes, weights)
    want, log_likelihood = brute_counts(CLAMPING, codes, weights)
    for got, expected in zip(counts.tables, want):
        np.testing.assert_allclose(got, expected, atol=1e-10)
    assert counts.log_likelihood == pytest.approx(log_likelihood, abs=1e-9)


def test_expected_counts_in_small_chunks_equal_one_chunk() -> None:
    model = kneebayes.Model(clamping_spec())
    net = model.network
    cases = sample(model, 300, seed=5)
    frame = cases.astype(object).mask(np.random.default_rng(1).random(cases.shape) < 0.5)
    coded = code_frame(net, frame)
    whole = expected_counts(net, coded.codes, coded.weights)
    tight = expected_counts(net, coded.codes, coded.weights, memory_budget=40_000)   # a few rows per chunk
    for a, b in zip(whole.tables, tight.tables):
        np.testing.assert_allclose(a, b, atol=1e-10)


# -- the EM loop -----------------------------------------------------------------------------
def test_log_likelihood_never_decreases_with_the_causes_hidden(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    cases = sample(truth, 3000, seed=1).drop(columns=["c1", "c2"])
    result = quiet_learn(start, cases, name="hidden", date=DATE, max_iterations=60)
    steps = np.diff(result.log_likelihoods)
    assert (steps >= -1e-9 * abs(result.log_likelihoods[0])).all()
    assert result.iterations == len(result.log_likelihoods) > 2


def test_hidden_causes_learn_the_findings_joint_of_the_truth(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    """Hidden causes are identifiable only up to what the findings show: compare P(f1, f2, f3) pattern by pattern."""
    cases = sample(truth, 8000, seed=2).drop(columns=["c1", "c2"])
    learned = quiet_learn(start, cases, name="hidden", date=DATE).model
    patterns = [dict(zip(("f1", "f2", "f3"), combo))
                for combo in itertools.product(("yes", "no"), ("yes", "no"), ("low", "mid", "high"))]
    got = np.array([learned.diagnose(p).evidence_probability for p in patterns])
    want = np.array([truth.diagnose(p).evidence_probability for p in patterns])
    before = np.array([start.diagnose(p).evidence_probability for p in patterns])
    assert np.abs(got - want).max() < 0.02          # sampling noise at 8,000 cases is about 0.005
    assert np.abs(before - want).max() > 0.05       # and the start was clearly off


def test_complete_data_approach_the_truth_as_cases_grow(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    few = quiet_learn(start, sample(truth, 500, seed=3), name="few", date=DATE).model
    many = quiet_learn(start, sample(truth, 20_000, seed=3), name="many", date=DATE).model
    assert largest_error(many, truth) < largest_error(few, truth)
    assert largest_error(many, truth) < 0.03


def test_one_case_leaves_every_number_inside_its_hand_set_range(start: kneebayes.Model) -> None:
    result = learn(start, pd.DataFrame({"f1": ["yes"]}), name="one", date=DATE)
    for address, p in start.parameters.items():
        low, high = p.range
        assert low <= result.model.parameters[address].value <= high, address


def test_learning_twice_keeps_both_data_records(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    once = learn(start, sample(truth, 200, seed=1), name="first", date="2024-01-01").model
    twice = learn(once, sample(truth, 300, seed=2), name="second", date="2024-02-01").model
    records = twice.parameters["f1.leak"].data
    assert [(r.name, r.cases, r.date) for r in records] == [("first", 200, "2024-01-01"), ("second", 300, "2024-02-01")]


def test_the_result_keeps_name_version_structure_and_provenance(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    learned = learn(start, sample(truth, 300, seed=1), name="clinic", date=DATE).model
    assert (learned.name, learned.version) == (start.name, start.version)
    assert [n.parents for n in learned.spec.nodes] == [n.parents for n in start.spec.nodes]
    p = learned.parameters["f1.weight[c1]"]
    assert (p.source, p.rationale) == ("test", "for the test")
    assert p.range[0] <= p.value <= p.range[1]


def test_equal_inputs_give_equal_results(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    cases = sample(truth, 400, seed=8).drop(columns=["c1"])
    a = learn(start, cases, name="x", date=DATE)
    b = learn(start, cases, name="x", date=DATE)
    assert a.log_likelihoods == b.log_likelihoods
    assert values(a.model) == values(b.model)


def test_stopping_at_max_iterations_warns_with_the_last_rise(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    cases = sample(truth, 500, seed=1).drop(columns=["c1", "c2"])
    with pytest.warns(ConvergenceWarning, match=r"stopped after 2 iterations without converging: the objective "
                                                r"still moved by .* per case"):
        result = learn(start, cases, name="short", date=DATE, max_iterations=2)
    assert not result.converged and result.iterations == 2


def test_updated_with_is_the_learned_model(start: kneebayes.Model, truth: kneebayes.Model) -> None:
    cases = sample(truth, 200, seed=4)
    assert values(updated_with(start, cases, name="x", date=DATE)) == values(learn(start, cases, name="x", date=DATE).model)


def test_prior_false_on_complete_table_data_gives_the_frequencies() -> None:
    model = kneebayes.Model(clamping_spec())
    cases = sample(model, 1000, seed=6)
    learned = learn(model, cases, name="mle", date=DATE, prior=False).model
    yes = (cases["r1"] == "yes") & (cases["g"] == "yes")
    cell = learned.parameters["g.table[r1=yes,r2=a][yes]"].value
    assert cell == pytest.approx(yes[cases["r2"] == "a"].sum() / ((cases["r1"] == "yes") & (cases["r2"] == "a")).sum())
    assert learned.parameters["r1.prior"].value == pytest.approx((cases["r1"] == "yes").mean())


# -- EM by brute force on a noisy-OR -------------------------------------------------------------
def brute_noisy_or_em(c1: float, c2: float, leak: float, w1: float, w2: float, rows: list[dict[str, str]],
                      iterations: int) -> tuple[float, ...]:
    """Maximum-likelihood EM over (c1, c2, the leak's and both links' activations), enumerated per case."""
    theta = (c1, c2, leak, w1, w2)
    for _ in range(iterations):
        c1, c2, leak, w1, w2 = theta
        sums = np.zeros(5)   # E[c1], E[c2], E[leak on], E[link 1 on], E[link 2 on]
        present = np.zeros(2)
        for row in rows:
            weight_total, acc, acc_present = 0.0, np.zeros(5), np.zeros(2)
            for x1, x2, a0, a1, a2 in itertools.product((1, 0), repeat=5):
                if (a1 and not x1) or (a2 and not x2):
                    continue
                f = "yes" if (a0 or a1 or a2) else "no"
                state = {"c1": "yes" if x1 else "no", "c2": "yes" if x2 else "no", "f": f}
                if any(row.get(k) not in (None, state[k]) for k in state):
                    continue
                p = ((c1 if x1 else 1 - c1) * (c2 if x2 else 1 - c2) * (leak if a0 else 1 - leak)
                     * ((w1 if a1 else 1 - w1) if x1 else 1.0) * ((w2 if a2 else 1 - w2) if x2 else 1.0))
                weight_total += p
                acc += p * np.array([x1, x2, a0, a1, a2])
                acc_present += p * np.array([x1, x2])
            sums += acc / weight_total
            present += acc_present / weight_total
        n = len(rows)
        theta = (sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / present[0], sums[4] / present[1])
    return theta


def test_noisy_or_em_equals_brute_force_over_link_activations() -> None:
    nodes = (
        yes_no("c1", "cause", prior(0.3, 0.1, 0.6)),
        yes_no("c2", "cause", prior(0.4, 0.1, 0.6)),
        yes_no("f", "finding", NoisyOr(number(0.1, 0.01, 0.3), (("c1", number(0.7, 0.4, 0.95)),
                                                               ("c2", number(0.5, 0.3, 0.9))))),
    )
    model = kneebayes.Model(ModelSpec("or", "1.0", "A noisy-OR", nodes))
    rows = [{"c1": "yes", "f": "yes"}, {"f": "yes"}, {"f": "no"}, {"c2": "yes", "f": "no"}, {"c1": "no", "f": "yes"},
            {"c2": "no"}, {"c1": "yes", "c2": "yes", "f": "yes"}, {"f": "yes"}]
    frame = pd.DataFrame(rows, columns=["c1", "c2", "f"])
    learned = quiet_learn(model, frame, name="or", date=DATE, prior=False, max_iterations=4, tolerance=1e-300,
                          accelerate=False).model
    want = brute_noisy_or_em(0.3, 0.4, 0.1, 0.7, 0.5, rows, iterations=4)
    got = tuple(learned.parameters[a].value for a in ("c1.prior", "c2.prior", "f.leak", "f.weight[c1]", "f.weight[c2]"))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


# -- the same EM as pgmpy -----------------------------------------------------------------------
def latent_table_spec() -> ModelSpec:
    """A latent cause (full tables only) over three findings, one with three states."""
    nodes = (
        yes_no("c", "cause", Prior((number(0.35, 0.1, 0.6), number(0.65, 0.4, 0.9)))),
        yes_no("a", "finding", Table(("c",), (column((("c", "yes"),), (0.8, 0.2)), column((("c", "no"),), (0.3, 0.7))))),
        yes_no("b", "finding", Table(("c",), (column((("c", "yes"),), (0.6, 0.4)), column((("c", "no"),), (0.1, 0.9))))),
        yes_no("d", "finding", Table(("c",), (column((("c", "yes"),), (0.5, 0.3, 0.2)),
                                            column((("c", "no"),), (0.2, 0.3, 0.5)))), states=("x", "y", "z")),
    )
    return ModelSpec("latent", "1.0", "A latent cause", nodes)


def test_em_equals_pgmpy_expectation_maximization_iteration_by_iteration() -> None:
    """pgmpy's ExpectationMaximization and learn(prior=False) from the same start, for the same 5 iterations.

    pgmpy expands each distinct row over the latent's states, weights each
    copy by its posterior under the current CPDs and re-estimates every CPD
    by weighted maximum likelihood: the same EM. Its latent takes integer
    states, so the start CPDs are our model's exported tables (``to_pgmpy``)
    with the cause's states renamed yes -> 0, no -> 1. Its convergence check
    is turned off (atol=0) so both run exactly 5 iterations; every CPD
    entry is compared to 1e-9.
    """
    pytest.importorskip("pgmpy")
    from pgmpy.estimators import ExpectationMaximization
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = kneebayes.Model(latent_table_spec())
    truth = model.with_parameters({"c.prior[yes]": (0.5, (0.2, 0.8)), "b.table[c=yes][yes]": 0.7})
    data = sample(truth, 2000, seed=1).drop(columns=["c"]).astype(str)
    exported = model.to_pgmpy()
    rename = {"yes": 0, "no": 1}
    init = {}
    for cpd in exported.get_cpds():
        names = {v: [rename[s] for s in states] if v == "c" else list(states) for v, states in cpd.state_names.items()}
        evidence = cpd.variables[1:]
        init[cpd.variable] = TabularCPD(cpd.variable, cpd.variable_card, cpd.get_values(), evidence=evidence or None,
                                        evidence_card=[cpd.cardinality[cpd.variables.index(e)] for e in evidence] or None,
                                        state_names=names)
    network = DiscreteBayesianNetwork(exported.edges(), latents={"c"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpds = ExpectationMaximization(network, data).get_parameters(latent_card={"c": 2}, max_iter=5, atol=0.0,
                                                                     init_cpds=init, show_progress=False, seed=0)
    ours = quiet_learn(model, data, name="pgmpy", date=DATE, prior=False, max_iterations=5, tolerance=1e-300,
                       accelerate=False).model
    theirs = {cpd.variable: cpd for cpd in cpds}
    net = ours.network
    for node in ("c", "a", "b", "d"):
        cpd = theirs[node]
        order = [rename[s] if node == "c" else s for s in net.states[net.index[node]]]
        values = cpd.get_values()[[cpd.state_names[node].index(s) for s in order]]
        if node != "c":   # columns by the latent's states, in our order (yes, no)
            values = values[:, [cpd.state_names["c"].index(rename[s]) for s in ("yes", "no")]]
        np.testing.assert_allclose(np.asarray(net.tables[net.index[node]]).T.reshape(values.shape), values, atol=1e-9)


# -- saving and comparing -----------------------------------------------------------------------
def test_a_learned_model_saves_and_loads_with_its_data_records(start: kneebayes.Model, truth: kneebayes.Model,
                                                               tmp_path: Path) -> None:
    learned = learn(start, sample(truth, 300, seed=1).drop(columns=["c2"]), name="clinic 2024", date=DATE).model
    back = kneebayes.load_model(learned.save(tmp_path / "learned.yaml"))
    assert back.parameters == learned.parameters
    assert back.parameters["c2.prior"].data[0].name == "clinic 2024"
    assert back.content_hash == learned.content_hash != start.content_hash


def test_a_bad_data_record_in_a_model_file_is_located(start: kneebayes.Model, truth: kneebayes.Model,
                                                      tmp_path: Path) -> None:
    learned = learn(start, sample(truth, 100, seed=1), name="clinic", date=DATE).model
    path = learned.save(tmp_path / "learned.yaml")
    path.write_text(path.read_text().replace(f"date: '{DATE}'", "date: '2024-02-30'", 1))
    problems = kneebayes.check_model_file(path)
    assert [(p.field, p.message) for p in problems] == [
        ("prior.data[0].date", "date must be a date written YYYY-MM-DD, got '2024-02-30'")]


def test_diff_flags_the_numbers_that_left_their_range(start: kneebayes.Model) -> None:
    truth = start.with_parameters({"f1.leak": (0.45, (0.3, 0.6))})
    learned = learn(start, sample(truth, 5000, seed=1), name="clinic", date=DATE).model
    table = diff_frame(start.diff(learned))
    assert table.iloc[0]["address"] == "f1.leak"
    assert table.loc[table["left_range"], "address"].tolist() == ["f1.leak"]
    assert "left it" in str(next(c for c in start.diff(learned) if c.address == "f1.leak"))


def test_sample_gives_categorical_columns_with_the_node_states(start: kneebayes.Model) -> None:
    cases = sample(start, 50, seed=1)
    assert list(cases.columns) == ["c1", "c2", "f1", "f2", "f3"]
    assert list(cases["f3"].cat.categories) == ["low", "mid", "high"]
    assert sample(start, 50, seed=1).equals(cases)


# -- bad frames ---------------------------------------------------------------------------------
def test_a_frame_with_every_value_missing_has_nothing_to_learn(start: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="every value of the 3 cases is missing: there is nothing to learn from"):
        learn(start, pd.DataFrame({"f1": [None, np.nan, pd.NA]}), name="x")


def test_a_frame_without_rows_has_nothing_to_learn(start: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="the cases have no rows: there is nothing to learn from"):
        learn(start, pd.DataFrame({"f1": []}), name="x")


def test_an_unknown_column_is_named_with_the_nearest_node(start: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError, match="unknown column 'f11' of the cases; did you mean 'f1'"):
        learn(start, pd.DataFrame({"f11": ["yes"]}), name="x")


def test_an_invalid_state_names_row_column_and_the_valid_states(start: kneebayes.Model) -> None:
    frame = pd.DataFrame({"f3": ["low", "medium"]}, index=["p1", "p2"])
    with pytest.raises(InvalidStateError, match="row 'p2', column 'f3': invalid state 'medium' for node 'f3': "
                                                "valid states are 'low', 'mid', 'high'"):
        learn(start, frame, name="x")


def test_a_row_impossible_under_the_model_is_named() -> None:
    certain = kneebayes.Model(tiny_spec()).with_parameters({"c1.prior": (0.0, (0.0, 0.0))})
    frame = pd.DataFrame({"c1": ["no", "yes"], "f2": ["yes", "no"]}, index=[11, 10])
    with pytest.raises(ImpossibleEvidenceError, match=r"row 10 of the cases cannot be learned from: the evidence "
                                                      r"\{c1=yes, f2=no\} has probability zero"):
        learn(certain, frame, name="x")


def test_the_first_impossible_row_of_the_frame_is_named(tmp_path: Path) -> None:
    # rows 3 and 4 are impossible (N0 = s1 is); the counts meet them by pattern, row 4's first
    path = tmp_path / "r.bif"
    path.write_text("network r {}\n"
                    "variable N0 { type discrete [ 2 ] { s0, s1 }; }\n"
                    "variable N1 { type discrete [ 2 ] { s0, s1 }; }\n"
                    "probability ( N0 ) { table 1.0, 0.0; }\n"
                    "probability ( N1 | N0 ) { (s0) 0.4, 0.6; (s1) 0.5, 0.5; }\n", encoding="utf-8")
    model = kneebayes.load_bif(str(path), targets=["N0"])
    frame = pd.DataFrame({"N0": ["s0", "s0", None, "s1", "s1"], "N1": [None, "s1", "s0", None, "s0"]})
    with pytest.raises(ImpossibleEvidenceError, match=r"row 3 of the cases cannot be learned from: the evidence "
                                                      r"\{N0=s1\} has probability zero"):
        learn(model, frame, name="x", max_iterations=1)


def test_a_target_joint_state_of_1e_320_leaves_its_cases_possible(tmp_path: Path) -> None:
    # P(T1 = a, T2 = a) = 1e-160 squared: no float holds its inverse, yet each case has an ordinary probability
    path = tmp_path / "t.bif"
    path.write_text("network n {}\n"
                    "variable T1 { type discrete [ 2 ] { a, b }; }\n"
                    "variable T2 { type discrete [ 2 ] { a, b }; }\n"
                    "variable X { type discrete [ 2 ] { x0, x1 }; }\n"
                    "probability ( T1 ) { table 1e-160, 1.0; }\n"
                    "probability ( T2 ) { table 1e-160, 1.0; }\n"
                    "probability ( X | T1, T2 ) { (a, a) 0.5, 0.5; (a, b) 0.5, 0.5; (b, a) 0.5, 0.5; (b, b) 0.3, 0.7; }\n",
                    encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.PrecisionWarning)   # the entries of 1e-160, as it should
        model = kneebayes.load_bif(str(path), targets=["T1", "T2"])
        warnings.simplefilter("ignore", ConvergenceWarning)           # one iteration only
        found = learn(model, pd.DataFrame({"X": ["x0", "x1", "x1"]}), name="x", max_iterations=1)
    assert found.log_likelihoods[0] == pytest.approx(math.log(0.3) + 2 * math.log(0.7), rel=1e-12)


def test_a_step_that_rounding_makes_rule_a_case_out_stops_learning_at_the_numbers_before_it(
        start: kneebayes.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    # exact EM never rules a case out; made to, as rounding near the smallest float once did, it keeps the last step
    from kneebayes.research import learning as module

    frame = sample(start, 200, seed=3)
    honest = module.counts
    calls = []

    def rounded_out(net, layout):  # type: ignore[no-untyped-def]
        calls.append(1)
        found = honest(net, layout)
        return dataclasses.replace(found, impossible=0) if len(calls) == 3 else found

    monkeypatch.setattr(module, "counts", rounded_out)
    with pytest.warns(ConvergenceWarning, match="learning stopped after 2 iterations: its next step ruled a case out "
                                                "by rounding"):
        found = learn(start, frame, name="x", accelerate=False)
    monkeypatch.setattr(module, "counts", honest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        two = learn(start, frame, name="x", accelerate=False, max_iterations=2)
        one = learn(start, frame, name="x", accelerate=False, max_iterations=1)
    assert found.log_likelihoods == two.log_likelihoods
    # the numbers the last accepted step reached (one step's), not the step that ruled a case out (two steps')
    learned = {a: p.value for a, p in found.model.parameters.items()}
    assert learned == {a: p.value for a, p in one.model.parameters.items()}
    assert learned != {a: p.value for a, p in two.model.parameters.items()}


def test_a_repeated_column_is_an_error(start: kneebayes.Model) -> None:
    frame = pd.DataFrame([["yes", "no"]], columns=["f1", "f1"])
    with pytest.raises(EvidenceError, match="column 'f1' appears more than once in the cases"):
        learn(start, frame, name="x")


def test_cases_that_are_not_a_dataframe_are_refused(start: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="the cases must be a pandas DataFrame .* got list"):
        learn(start, [{"f1": "yes"}], name="x")


def test_a_bad_setting_is_named(start: kneebayes.Model) -> None:
    frame = pd.DataFrame({"f1": ["yes"]})
    with pytest.raises(SettingError, match="date must be a date written YYYY-MM-DD, got '1 May'"):
        learn(start, frame, name="x", date="1 May")
    with pytest.raises(SettingError, match="name must be non-empty text"):
        learn(start, frame, name="")


def test_a_family_with_too_many_missing_members_is_intractable() -> None:
    roots = tuple(yes_no(f"r{k}", "risk_factor", prior(0.3, 0.1, 0.5)) for k in range(17))
    finding = yes_no("f", "finding", NoisyOr(number(0.05, 0.01, 0.2), tuple((r.id, number(0.2, 0.05, 0.4)) for r in roots)))
    cause = yes_no("c", "cause", prior(0.3, 0.1, 0.5))
    wide = kneebayes.Model(ModelSpec("wide", "1.0", "Seventeen risk factors", roots + (cause, finding)))
    with pytest.raises(kneebayes.IntractableError, match=r"fewer missing values among the family of 'f' \(its 17 "
                                                         r"missing members have 131,072 configurations"):
        learn(wide, pd.DataFrame({"f": ["yes", "no"]}), name="x", date=DATE)


def test_the_progress_bar_shows_the_log_likelihood(start: kneebayes.Model, truth: kneebayes.Model,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    learn(start, sample(truth, 100, seed=1), name="x", date=DATE, progress=True)
    assert "EM log-likelihood -" in capsys.readouterr().err


def test_the_factorised_joint_of_complete_rows_equals_the_engine_s() -> None:
    """Rows with every non-target observed take per-part tables; a budget too small for them takes the engine."""
    model = kneebayes.load_model()
    net = model.network
    cases = sample(model, 400, seed=9).drop(columns=list(model.causes))
    cases.loc[:20, "limping"] = None          # a few rows take the general path in both runs
    coded = code_frame(net, cases)
    factorised = expected_counts(net, coded.codes, coded.weights)
    engine = expected_counts(net, coded.codes, coded.weights, memory_budget=200_000)
    assert factorised.log_likelihood == pytest.approx(engine.log_likelihood, rel=1e-12)
    for a, b in zip(factorised.tables, engine.tables):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_a_soft_answer_in_the_cases_is_an_invalid_value_naming_row_and_column(start: kneebayes.Model,
                                                                              truth: kneebayes.Model) -> None:
    cases = sample(truth, 3, seed=1).astype(object)
    cases.loc[1, "f1"] = kneebayes.Likelihood(yes=2, no=1)
    with pytest.raises(kneebayes.InvalidStateError, match="row 1, column 'f1': invalid state"):
        learn(start, cases, name="x", date=DATE)


def test_log_prior_of_a_zero_under_a_flat_prior_is_exact_and_silent() -> None:
    from kneebayes.research.learning_steps import Group, log_prior

    group = Group(0, "column", (0, 1), (1.0, 3.0))   # the zero's alpha is 1: its term is 0, not 0 * log 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # numpy's "invalid value in multiply" would be an error here
        value = log_prior([group], [np.array([0.0, 1.0])])
    assert value == pytest.approx(math.lgamma(4.0) - math.lgamma(1.0) - math.lgamma(3.0), abs=1e-15)


def test_learned_ranges_are_central_beta_intervals_widened_to_hold_the_number() -> None:
    beta = pytest.importorskip("scipy.stats").beta
    alpha = np.array([8.0, 0.5, 3.0, 0.0, 2.0])
    rest = np.array([2.0, 30.0, 3.0, 4.0, 5.0])
    value = np.array([0.8, 0.2, 0.0, 0.5, 1.0])
    got = ranges(alpha, rest, value)
    assert got[0].tolist() == list(beta.interval(RANGE_MASS, 8.0, 2.0))   # the central interval itself
    low, high = beta.interval(RANGE_MASS, 0.5, 30.0)
    assert high < 0.2 and got[1].tolist() == [low, 0.2]                    # widened up to its number
    assert got[2].tolist() == [0.0, 0.0] and got[4].tolist() == [1.0, 1.0]   # a number at 0 or 1: just it
    assert got[3].tolist() == [0.5, 0.5]                                   # no interval (alpha 0): just it


def test_log_prior_is_the_sum_of_each_groups_beta_or_dirichlet_log_density() -> None:
    stats = pytest.importorskip("scipy.stats")
    from kneebayes.research.draws import flat_values
    from kneebayes.research.learning_steps import groups, log_prior, probabilities

    kinds = set()
    for spec in (kneebayes.load_model().spec, clamping_spec()):   # Betas, and Dirichlets over columns
        found = groups(spec)
        values = [flat_values(node) for node in spec.nodes]
        kinds |= {g.kind for g in found}
        want = math.fsum(float(stats.dirichlet.logpdf(probabilities(g, values[g.node]), g.alpha)) for g in found)
        assert log_prior(found, values) == pytest.approx(want, rel=1e-12)
    assert {"column", "yes", "leak", "weight"} <= kinds


def targets_along_a_chain(count: int = 8) -> ModelSpec:
    """``count`` causes, each the second parent of one link of a chain of findings: the chain's component
    touches every cause, so with the causes enumerated its sweep carries all 2**count of their states."""
    rng = np.random.default_rng(7)

    def split(given: tuple[tuple[str, str], ...]) -> TableColumn:
        p = float(rng.uniform(0.2, 0.8))
        return column(given, (p, 1 - p))

    causes = tuple(yes_no(f"t{k}", "cause", prior(float(rng.uniform(0.2, 0.6)), 0.1, 0.7)) for k in range(count))
    links = [yes_no("x0", "finding", Table(("t0",), tuple(split((("t0", s),)) for s in ("yes", "no"))))]
    links += [yes_no(f"x{k}", "finding",
                     Table((f"x{k - 1}", f"t{k}"), tuple(split(((f"x{k - 1}", a), (f"t{k}", b)))
                                                         for a, b in itertools.product(("yes", "no"), repeat=2))))
              for k in range(1, count)]
    return ModelSpec("chained", "1.0", "Causes along a chain of findings", causes + tuple(links))


def test_a_component_whose_sweep_passes_the_budget_with_targets_enumerated_learns_on_the_plain_network(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kneebayes.network.table_gradient import table_gradient
    from kneebayes.research import learning as learning_module
    from kneebayes.research.learning_sweep import fits

    spec, budget = targets_along_a_chain(), 4096
    tight = kneebayes.Model(spec, memory_budget=budget)
    assert tight.network.enumerated                  # the causes' 256 states are enumerated ...
    assert not any(plan is not None and fits(plan, budget)   # ... and no sweep of the model's own fits
                   for plan in map(table_gradient, tight.network.components))
    compiled = []
    plain = learning_module.compile_network

    def recorded(*args: object, **kwargs: object) -> object:
        compiled.append((kwargs.get("joint_limit"), kwargs.get("split_noisy_or")))
        return plain(*args, **kwargs)

    monkeypatch.setattr(learning_module, "compile_network", recorded)
    frame = sample(kneebayes.Model(spec), 60, seed=5)
    hidden = np.random.default_rng(1).random(frame.shape) < 0.4
    frame = frame.mask(pd.DataFrame(hidden, index=frame.index, columns=frame.columns))
    settings_ = dict(name="chain", date=DATE, prior=False, max_iterations=3, tolerance=1e-300, accelerate=False)
    got = quiet_learn(tight, frame, **settings_).model
    assert compiled[0] == (1, False)                 # the network learning sweeps: no targets enumerated
    want = quiet_learn(kneebayes.Model(spec), frame, **settings_).model   # the model's own network fits
    assert got.memory_budget == budget and got.network.enumerated
    for address, p in want.parameters.items():
        assert got.parameters[address].value == pytest.approx(p.value, abs=1e-12), address


@pytest.mark.parametrize("scale", [1e-8, 1e-20], ids=["1e-8", "1e-20"])
def test_a_flat_priors_mode_from_tiny_counts_keeps_every_digit(scale: float) -> None:
    # 1e-20: below a double's spacing at 1, so "1 + counts > 1" would take the mean (1/4 each) for the mode
    from fractions import Fraction

    from kneebayes.research.learning_steps import updates

    counts = np.array([3.1, 1.3, 0.27, 0.59]) * scale     # a column few cases reach, under a flat prior
    probs, post, informed = updates(counts, np.ones(4), np.array([4]), prior=True)
    total = sum(map(Fraction, counts.tolist()))
    for p, c in zip(probs.tolist(), counts.tolist()):
        assert abs(Fraction(p) - Fraction(c) / total) <= 1e-15 * (Fraction(c) / total)   # the mode: the frequencies
    assert informed.tolist() == [True] and post.tolist() == (1.0 + counts).tolist()


def test_every_learned_column_sums_to_one_where_few_cases_reach_it(tmp_path: Path) -> None:
    path = tmp_path / "rare.bif"    # bare cells: flat priors; R = a so rare that its column's counts are 1e-11
    path.write_text("network rare {}\n"
                    "variable R { type discrete [ 2 ] { a, b }; }\n"
                    "variable F { type discrete [ 3 ] { x, y, z }; }\n"
                    "probability ( R ) { table 3.7e-13, 0.99999999999963; }\n"
                    "probability ( F | R ) { (a) 0.3, 0.5, 0.2; (b) 0.6, 0.3, 0.1; }\n", encoding="utf-8")
    model = kneebayes.load_bif(path, targets=["R"])
    frame = pd.DataFrame({"F": ["x", "y", "z", "x"] * 25})
    learned = quiet_learn(model, frame, name="rare", date=DATE, max_iterations=1).model    # one M-step
    column = [p.value for p in learned.spec.node("F").parameters.columns[0].probabilities]
    assert abs(math.fsum(column) - 1.0) <= 1e-12, column
    rare, given_a, given_b = 3.7e-13, (0.3, 0.5, 0.2), (0.6, 0.3, 0.1)
    counts = [n * rare * a / (rare * a + (1.0 - rare) * b) for n, a, b in zip((50, 25, 25), given_a, given_b)]
    assert column == pytest.approx([c / math.fsum(counts) for c in counts], rel=1e-12)   # the mode: the frequencies


def test_a_group_whose_prior_has_an_alpha_below_1_takes_its_posterior_mean_whatever_its_counts() -> None:
    from kneebayes.research.learning_steps import updates

    alpha = np.array([0.9, 3.55, 2.0, 3.0])          # a Beta hugging 0, then an ordinary one
    counts = np.array([30.0, 70.0, 30.0, 70.0])      # enough for an interior mode in both
    probs, post, _ = updates(counts, alpha, np.array([2, 2]), prior=True)
    assert probs[:2].tolist() == pytest.approx([30.9 / 104.45, 73.55 / 104.45], abs=1e-15)   # the mean
    assert probs[2:].tolist() == pytest.approx([31.0 / 103.0, 72.0 / 103.0], abs=1e-15)       # the mode


@pytest.mark.parametrize("accelerate", [True, False], ids=["accelerated", "plain"])
def test_learning_the_knee_from_one_case_settles_instead_of_stopping_on_a_drop(accelerate: bool) -> None:
    model = kneebayes.load_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = learn(model, pd.DataFrame({"limping": ["yes"]}), name="one", date=DATE, accelerate=accelerate)
    last = result.log_likelihoods
    assert result.converged and abs(last[-1] - last[-2]) / result.cases <= 1e-6


def test_a_column_whose_numbers_are_partly_ranged_is_kept_and_named_in_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "ab.bif"
    path.write_text("network ab {}\n"
                    "variable A { type discrete [ 2 ] { a0, a1 }; }\n"
                    "variable B { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( A ) { table 0.5, 0.5; }\n"
                    "probability ( B | A ) { (a0) 0.6, 0.4; (a1) 0.3, 0.7; }\n", encoding="utf-8")
    bare = kneebayes.load_bif(path, targets=["A"])
    ranged = bare.with_parameters({"B.table[A=a0][yes]": (0.6, (0.3, 0.8))})     # one number of the column
    cases = sample(bare.with_parameters({"B.table[A=a0][yes]": 0.1}), 400, seed=1)
    with pytest.warns(UnlearnedWarning, match=r"1 column\(s\) keep their numbers as written: .*B\.table\[A=a0\]\[no\] has none"):
        result = learn(ranged, cases, name="clinic", date=DATE)
    kept = result.model.parameters["B.table[A=a0][yes]"]
    assert kept.value == 0.6 and not kept.data                    # as written, and said so
    assert result.model.parameters["B.table[A=a1][yes]"].data     # the bare column next to it is learned


def test_progress_that_is_no_bool_is_a_type_error() -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"progress must be None \(automatic\), True or False, got str 'yes'"):
        learn(kneebayes.load_model(), pd.DataFrame({"limping": ["yes"]}), name="x", date=DATE, progress="yes")
