"""A QMR-style model file (yes/no causes with priors, noisy-OR findings over causes only, too many causes to
enumerate) is compiled to the bipartite path and answers exactly like elimination on its full tables."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kneebayes

pgmpy = pytest.importorskip("pgmpy")

CAUSES, FINDINGS = 17, 30      # past BIPARTITE_CAUSES, and 2^17 joint states: past the default joint limit


def _write(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["format: kneebayes-model/1", "name: qmr_small", 'version: "1"', 'title: "QMR-like"',
             "source_document: synthetic", "nodes:"]

    def number(value: float) -> str:
        return f"{{value: {value!r}, range: [0.0001, 0.9999], source: synthetic, rationale: drawn}}"

    for d in range(CAUSES):
        p = round(float(rng.uniform(0.01, 0.3)), 6)
        lines += [f"  - id: d{d}", f"    label: d{d}", "    kind: cause", f'    question: "d{d}?"', "    prior:",
                  f"      yes: {number(p)}", f"      no: {number(round(1 - p, 6))}"]
    for f in range(FINDINGS):
        parents = sorted(rng.choice(CAUSES, size=int(rng.integers(1, 5)), replace=False).tolist())
        lines += [f"  - id: f{f}", f"    label: f{f}", "    kind: finding", f'    question: "f{f}?"', "    noisy_or:",
                  f"      leak: {number(round(float(rng.uniform(0.001, 0.05)), 6))}",
                  "      weights:"]
        for d in parents:
            w = round(float(rng.uniform(0.1, 0.9)), 6)
            lines.append(f"        d{d}: {number(w)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _evidence(model: kneebayes.Model, seed: int) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    findings = [n for n in model.network.names if n.startswith("f")]
    picked = rng.choice(len(findings), size=8, replace=False)
    return {findings[i]: "yes" if k < 3 else "no" for k, i in enumerate(picked)}


@pytest.fixture(scope="module")
def qmr(tmp_path_factory: pytest.TempPathFactory) -> kneebayes.Model:
    return kneebayes.load_model(_write(tmp_path_factory.mktemp("qmr") / "qmr.yaml", seed=7))


def test_a_qmr_style_model_compiles_to_the_bipartite_path(qmr: kneebayes.Model) -> None:
    assert qmr.network.bipartite is not None
    assert qmr.network.components == () and qmr.network.enumerated == ()


@pytest.mark.parametrize("seed", range(4))
def test_cause_posteriors_and_evidence_probability_equal_elimination(qmr: kneebayes.Model, seed: int) -> None:
    from pgmpy.inference import VariableElimination

    evidence = _evidence(qmr, seed)
    dx = qmr.diagnose(evidence)
    reference = VariableElimination(qmr.to_pgmpy())
    for cause in qmr.causes:
        expected = reference.query([cause], evidence=evidence, show_progress=False).get_value(**{cause: "yes"})
        assert abs(dx.posterior[cause] - expected) <= 1e-9, cause


def test_finding_marginals_equal_elimination(qmr: kneebayes.Model) -> None:
    from pgmpy.inference import VariableElimination

    evidence = _evidence(qmr, 11)
    asked = [n for n in qmr.network.names if n.startswith("f") and n not in evidence][:6]
    got = qmr.marginals(evidence, nodes=asked)
    reference = VariableElimination(qmr.to_pgmpy())
    for finding in asked:
        expected = reference.query([finding], evidence=evidence, show_progress=False).get_value(**{finding: "yes"})
        assert abs(got[finding]["yes"] - expected) <= 1e-9, finding


def test_a_cause_in_the_evidence_is_fixed_to_its_answer(qmr: kneebayes.Model) -> None:
    from pgmpy.inference import VariableElimination

    evidence = {**_evidence(qmr, 3), "d0": "yes", "d1": "no"}
    dx = qmr.diagnose(evidence)
    reference = VariableElimination(qmr.to_pgmpy())
    expected = reference.query(["d2"], evidence=evidence, show_progress=False).get_value(d2="yes")
    assert abs(dx.distributions["d2"]["yes"] - expected) <= 1e-9


def test_a_few_targets_among_many_causes_take_the_bipartite_path_and_stay_exact(qmr: kneebayes.Model) -> None:
    from pgmpy.inference import VariableElimination

    few = kneebayes.Model(qmr.spec, targets=["d0", "d1", "d2"])   # enumerable, but 17 causes share the findings
    assert few.network.bipartite is not None
    evidence = _evidence(few, 5)
    dx = few.diagnose(evidence)
    reference = VariableElimination(few.to_pgmpy())
    for cause in ("d0", "d1", "d2"):
        expected = reference.query([cause], evidence=evidence, show_progress=False).get_value(**{cause: "yes"})
        assert abs(dx.posterior[cause] - expected) <= 1e-9, cause


def _probability(reference, evidence: dict[str, str]) -> float:  # type: ignore[no-untyped-def]
    """P(evidence) by pgmpy, as the product of each answer's probability given the answers before it."""
    p, seen = 1.0, {}
    for node, state in evidence.items():
        p *= reference.query([node], evidence=seen, show_progress=False).get_value(**{node: state})
        seen[node] = state
    return p


def test_evidence_probability_with_causes_answered_equals_elimination(qmr: kneebayes.Model) -> None:
    from pgmpy.inference import VariableElimination

    evidence = {**_evidence(qmr, 3), "d0": "yes", "d1": "no"}     # the answered causes' priors count too
    expected = _probability(VariableElimination(qmr.to_pgmpy()), evidence)
    assert abs(qmr.diagnose(evidence).log_evidence_probability - np.log(expected)) <= 1e-9


def test_soft_answers_equal_the_weighted_sum_over_their_states(qmr: kneebayes.Model) -> None:
    from pgmpy.inference import VariableElimination

    reference = VariableElimination(qmr.to_pgmpy())
    hard = _evidence(qmr, 3)
    soft_finding = next(n for n in qmr.network.names if n.startswith("f") and n not in hard)
    weights = {"d0": {"yes": 1.0, "no": 0.3}, soft_finding: {"yes": 0.2, "no": 1.0}}
    dx = qmr.diagnose({**hard, **{n: kneebayes.Likelihood(**w) for n, w in weights.items()}})
    total = d2_yes = finding_yes = 0.0
    for a, wa in weights["d0"].items():
        for b, wb in weights[soft_finding].items():
            answered = {**hard, "d0": a, soft_finding: b}
            mass = wa * wb * _probability(reference, answered)
            total += mass
            d2_yes += mass * reference.query(["d2"], evidence=answered, show_progress=False).get_value(d2="yes")
            finding_yes += mass * (b == "yes")
    assert abs(dx.log_evidence_probability - np.log(total)) <= 1e-9
    assert abs(dx.posterior["d2"] - d2_yes / total) <= 1e-9
    got = qmr.marginals({**hard, **{n: kneebayes.Likelihood(**w) for n, w in weights.items()}}, nodes=[soft_finding])
    assert abs(got[soft_finding]["yes"] - finding_yes / total) <= 1e-9


def test_many_soft_answers_are_one_query_until_the_memory_budget_names_them(qmr: kneebayes.Model) -> None:
    findings = [n for n in qmr.network.names if n.startswith("f")][:20]
    evidence = {f: kneebayes.Likelihood(yes=0.5, no=1.0) for f in findings}    # summed over states: 2^20 queries
    assert 0.0 < qmr.diagnose(evidence).posterior["d0"] < 1.0
    small = kneebayes.Model(qmr.spec, targets=list(qmr.targets.ids), memory_budget=64 * 1024)
    with pytest.raises(kneebayes.IntractableError, match=r"over 10 variables \(f.*past the memory budget of 64.0 KiB"):
        small.diagnose(evidence).posterior


def _by_states(model: kneebayes.Model, hard: dict[str, str], soft: dict[str, dict[str, float]], asked: list[str]
               ) -> tuple[float, dict[str, float], dict[str, float]]:
    """P(evidence), each cause's P(yes) and each asked finding's P(yes) with soft answers, as the weighted sum of
    the hard-answered evidence sets they stand for (each answered on the bipartite path by its hard answers)."""
    total, causes, findings = 0.0, {}, {}
    for states in itertools.product(*[sorted(w) for w in soft.values()]):
        answered = {**hard, **dict(zip(soft, states))}
        dx = model.diagnose(answered)
        mass = math.prod(soft[n][x] for n, x in zip(soft, states)) * math.exp(dx.log_evidence_probability)
        total += mass
        for cause, p in dx.posterior.items():
            causes[cause] = causes.get(cause, 0.0) + mass * p
        found = model.marginals(answered, nodes=[f for f in asked if f not in answered])
        for f in asked:
            p_yes = float(answered[f] == "yes") if f in answered else found[f]["yes"]
            findings[f] = findings.get(f, 0.0) + mass * p_yes
    return total, {c: v / total for c, v in causes.items()}, {f: v / total for f, v in findings.items()}


_WEIGHT = st.sampled_from([0.05, 0.2, 0.5, 0.9, 1.0])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weights=st.lists(st.tuples(_WEIGHT, _WEIGHT), min_size=5, max_size=5), seed=st.integers(0, 50))
def test_soft_answers_of_every_leaning_equal_the_weighted_sum_of_hard_ones(
        qmr: kneebayes.Model, weights: list[tuple[float, float]], seed: int) -> None:
    hard = _evidence(qmr, seed)
    open_findings = [n for n in qmr.network.names if n.startswith("f") and n not in hard]
    soft_nodes = open_findings[:4] + [next(n for n in qmr.network.names if n.startswith("d"))]
    soft = {n: {"yes": a / max(a, b), "no": b / max(a, b)} for n, (a, b) in zip(soft_nodes, weights)}   # ratios only
    asked = open_findings[:6]      # the four answered softly, and two not answered
    try:
        total, causes, findings = _by_states(qmr, hard, soft, asked)
    except kneebayes.ImpossibleEvidenceError:
        return
    evidence = {**hard, **{n: kneebayes.Likelihood(**w) for n, w in soft.items()}}
    dx = qmr.diagnose(evidence)
    assert dx.log_evidence_probability == pytest.approx(math.log(total), abs=1e-9)
    for cause, p in causes.items():
        assert dx.posterior[cause] == pytest.approx(p, abs=1e-9), cause
    got = qmr.marginals(evidence, nodes=asked)
    for f, p in findings.items():
        assert got[f]["yes"] == pytest.approx(p, abs=1e-9), f
        assert got[f]["no"] == pytest.approx(1.0 - p, abs=1e-9), f


def test_soft_answers_of_every_leaning_take_one_query(qmr: kneebayes.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    from kneebayes.inference import bipartite_queries

    calls = []
    counted = bipartite_queries.answer
    monkeypatch.setattr(bipartite_queries, "answer", lambda *a, **k: calls.append(1) or counted(*a, **k))
    findings = [n for n in qmr.network.names if n.startswith("f")][:6]
    evidence = {f: kneebayes.Likelihood(yes=1.0, no=0.3) if k % 2 else kneebayes.Likelihood(yes=0.4, no=1.0)
                for k, f in enumerate(findings)}
    evidence.update({"d0": kneebayes.Likelihood(yes=0.2, no=1.0), "d1": kneebayes.Likelihood(yes=1.0, no=0.4)})
    qmr.diagnose(evidence).posterior
    assert len(calls) == 1       # as a sum over their states: 2^8 queries


def test_a_ranking_with_soft_answers_gains_what_the_weighted_sums_say(qmr: kneebayes.Model) -> None:
    hard = _evidence(qmr, 3)
    open_findings = [n for n in qmr.network.names if n.startswith("f") and n not in hard]
    soft = {open_findings[0]: {"yes": 1.0, "no": 0.25}, open_findings[1]: {"yes": 0.3, "no": 0.9}}
    evidence = {**hard, **{n: kneebayes.Likelihood(**w) for n, w in soft.items()}}
    gains = {q.id: q.expected_information_gain for q in qmr.diagnose(evidence).ranked_questions}
    causes = [n for n in qmr.network.names if n.startswith("d")]
    for candidate in (open_findings[0], open_findings[2]):    # one answered softly, one not answered
        _, before, asked = _by_states(qmr, hard, soft, [candidate])
        expected = 0.0
        for answer, p_answer in (("yes", asked[candidate]), ("no", 1.0 - asked[candidate])):
            rest = {n: w for n, w in soft.items() if n != candidate}
            _, after, _ = _by_states(qmr, {**hard, candidate: answer}, rest, [])
            expected += p_answer * sum(_bits(after[c]) for c in causes)
        expected = sum(_bits(before[c]) for c in causes) - expected
        assert gains[candidate] == pytest.approx(expected, abs=1e-9), candidate


def _bits(p: float) -> float:
    return -sum(x * math.log2(x) for x in (p, 1.0 - p) if x > 0.0)


_NEAR_CERTAIN = """format: kneebayes-model/1
name: near
version: "1"
title: "near"
nodes:
  - {id: d0, label: d0, kind: cause, question: "d0?", prior: {value: 0.5, range: [0.25, 0.75], source: s, rationale: r}}
  - {id: d1, label: d1, kind: cause, question: "d1?", prior: {value: 1.0e-06, range: [5.0e-07, 0.5], source: s, rationale: r}}
  - id: f0
    label: f0
    kind: finding
    question: "f0?"
    noisy_or:
      leak: {value: 0.0, range: [0.0, 0.0], source: s, rationale: r}
      weights:
        d0: {value: 0.9, range: [0.45, 0.95], source: s, rationale: r}
        d1: {value: 1.0e-12, range: [5.0e-13, 0.5], source: s, rationale: r}
  - id: f1
    label: f1
    kind: finding
    question: "f1?"
    noisy_or:
      leak: {value: 1.0e-20, range: [1.0e-21, 0.5], source: s, rationale: r}
      weights:
        d0: {value: 1.0, range: [1.0, 1.0], source: s, rationale: r}
"""


def test_a_cause_near_certain_keeps_the_digits_of_its_no(tmp_path: Path) -> None:
    path = tmp_path / "near.yaml"
    path.write_text(_NEAR_CERTAIN)
    model = kneebayes.Model(kneebayes.load_model(path).spec, joint_limit=1)
    assert model.network.bipartite is not None
    dx = model.diagnose({"f0": "yes"})
    no, yes = 0.5 * 1e-6 * 1e-12, 0.5 * (1 - 0.1 * (1 - 1e-18))        # P(d0 = no, f0), P(d0 = yes, f0)
    assert dx.distributions["d0"]["no"] == pytest.approx(no / (no + yes), rel=1e-12, abs=0)
    assert dx.bayes_factor["d0"] == pytest.approx(yes / no, rel=1e-12)           # prior odds 1


def test_a_finding_near_certain_keeps_the_digits_of_its_no(tmp_path: Path) -> None:
    path = tmp_path / "near.yaml"
    path.write_text(_NEAR_CERTAIN)
    model = kneebayes.Model(kneebayes.load_model(path).spec, joint_limit=1)
    # given f0, d0 is present but for about 1e-18, and then f1 is on for sure: P(f1 = no | f0) is that 1e-18
    p_no = model.marginals({"f0": "yes"})["f1"]["no"]
    no, yes = 0.5 * 1e-6 * 1e-12, 0.5 * (1 - 0.1 * (1 - 1e-18))
    assert p_no == pytest.approx(no / (no + yes) * (1 - 1e-20), rel=1e-12, abs=0)


def test_a_strong_soft_answer_on_a_cause_keeps_its_weak_state_possible(tmp_path: Path) -> None:
    path = tmp_path / "near.yaml"
    path.write_text(_NEAR_CERTAIN)
    model = kneebayes.Model(kneebayes.load_model(path).spec, joint_limit=1)
    # f1 is on whenever d0 is present: f1 = no says d0 is absent, against a likelihood ratio of 1e17 for present
    dx = model.diagnose({"d0": kneebayes.Likelihood(yes=1.0, no=1e-17), "f1": "no"})
    assert dx.log_evidence_probability == pytest.approx(math.log(0.5 * 1e-17 * (1 - 1e-20)), rel=1e-12)
    assert dx.posterior["d0"] == 0.0


def test_a_soft_answer_keeps_the_digits_of_its_finding_s_small_chance(tmp_path: Path) -> None:
    path = tmp_path / "near.yaml"
    path.write_text(_NEAR_CERTAIN)
    model = kneebayes.Model(kneebayes.load_model(path).spec, joint_limit=1)
    p_no = sum(pd0 * pd1 * (1 - 0.9 * d0) * (1 - 1e-12 * d1)        # P(f0 = no): no leak
               for d0, pd0 in ((1, 0.5), (0, 0.5)) for d1, pd1 in ((1, 1e-6), (0, 1 - 1e-6)))
    a, b = 1e-10, 1.0
    got = model.marginals({"f0": kneebayes.Likelihood(yes=a, no=b)})["f0"]["yes"]
    assert got == pytest.approx(a * (1 - p_no) / (a * (1 - p_no) + b * p_no), rel=1e-12, abs=0)


@pytest.mark.parametrize(("targets", "states"), [(10, "1,024"), (CAUSES, "131,072")])
def test_combinations_on_a_qmr_style_model_say_it_is_answered_cause_by_cause(qmr: kneebayes.Model, targets: int,
                                                                           states: str) -> None:
    # within the joint limit or past it, a joint this path never enumerates: neither a larger limit nor budget helps
    model = kneebayes.Model(qmr.spec, targets=[f"d{d}" for d in range(targets)])
    assert model.network.bipartite is not None
    with pytest.raises(kneebayes.KneeBayesError, match=rf"{targets} targets have {states} joint states, and this "
                                                       r"bipartite noisy-OR network is answered cause by cause, never "
                                                       r"as their joint \(see Diagnosis.distributions\)"):
        model.diagnose({}).most_probable_combinations()


# ---------------------------------------------------------------------------------
# The work limit
# ---------------------------------------------------------------------------------


def shared_cause_model(work_limit: float, others_on_c0: bool = True, shared: int = 12) -> kneebayes.Model:
    """17 causes (the targets); ``shared`` findings s0, s1, ... that share cause c0, each with a cause of its own
    (positives among them are one group, all open at c0's step), and o0..o19 over one of c13..c16 (and c0,
    ``others_on_c0``)."""
    from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior

    def number(v: float) -> Parameter:
        return Parameter(v, "s", "r", (0.01, 0.99))

    nodes = [NodeSpec(f"c{i}", f"c{i}", "cause", "?", ("yes", "no"), Prior((number(0.1), number(0.9)), True), False)
             for i in range(17)]
    nodes += [NodeSpec(f"s{j}", f"s{j}", "finding", "?", ("yes", "no"),
                       NoisyOr(number(0.01), (("c0", number(0.3)), (f"c{j + 1}", number(0.6)))), True)
              for j in range(shared)]
    nodes += [NodeSpec(f"o{j}", f"o{j}", "finding", "?", ("yes", "no"),
                       NoisyOr(number(0.01),
                               (("c0", number(0.2)),) * others_on_c0 + ((f"c{13 + j % 4}", number(0.5)),)), True)
              for j in range(20)]
    return kneebayes.Model(ModelSpec("shared", "1", "shared", tuple(nodes)), work_limit=work_limit)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per query the engine answers (none for a refusal before any work)."""
    from kneebayes.inference import bipartite_queries

    calls: list[int] = []
    counted = bipartite_queries.answer
    monkeypatch.setattr(bipartite_queries, "answer", lambda *a, **k: calls.append(1) or counted(*a, **k))
    return calls


def planned_work(model: kneebayes.Model, positive: list[str], negative: Sequence[str] = (),
                 findings: bool = False) -> float:
    """The planned work of a diagnosis (of the chances of the findings not answered, ``findings``)."""
    from kneebayes.inference.bipartite import plan_findings, plan_posterior

    net = model.network.bipartite.network
    at = {f: i for i, f in enumerate(net.finding_names)}
    pos, neg = [at[f] for f in positive], [at[f] for f in negative]
    plan = plan_findings if findings else plan_posterior
    return plan(net, pos, neg, work_limit=math.inf).work


def test_a_diagnosis_past_the_models_work_limit_is_refused_naming_its_positives(answers: list[int]) -> None:
    shared = [f"s{j}" for j in range(10)]    # ten positives under c0
    work = planned_work(shared_cause_model(math.inf), shared)
    model = shared_cause_model(work_limit=work / 2)
    with pytest.raises(kneebayes.IntractableError, match=r"exact inference on 'shared' needs about \S+ steps of work "
                                                         r"for 10 positive findings together \(s0, s1, .* and 2 "
                                                         r"more\), past the work limit of \S+ steps") as info:
        model.diagnose(dict.fromkeys(shared, "yes")).posterior
    assert answers == [] and info.value.size == work


def test_a_ranking_whose_evidence_sets_pass_the_work_limit_is_refused_whole_before_any_is_answered(
        answers: list[int]) -> None:
    # the chances of the 22 open findings cost more than the diagnosis; ranking by the targets' 34 states weighs 35
    # evidence sets, each as costly
    shared = [f"s{j}" for j in range(10)]
    unlimited = shared_cause_model(math.inf)
    alone, chances = planned_work(unlimited, shared), planned_work(unlimited, shared, findings=True)
    assert alone < chances / 2
    dx = shared_cause_model(work_limit=chances / 2).diagnose(dict.fromkeys(shared, "yes"))
    assert 0.0 < dx.posterior["c0"] < 1.0
    asked = len(answers)
    with pytest.raises(kneebayes.IntractableError, match=r"exact inference on 'shared' \(ranking the questions weighs "
                                                         r"35 evidence sets; this one is the evidence as given\) needs "
                                                         r"about \S+ steps of work for 10 positive findings") as info:
        dx.ranked_questions
    assert len(answers) == asked and chances / 2 < info.value.size <= chances    # the cheaper method's work


def test_a_ranking_names_the_answer_whose_evidence_set_passes_the_work_limit(answers: list[int]) -> None:
    # three questions open (s9, s10, s11): each answer is an evidence set of its own, and a "yes" adds a tenth
    # positive under c0, past the limit the evidence itself is within
    shared, others = [f"s{j}" for j in range(9)], [f"o{j}" for j in range(20)]
    alone, more = (planned_work(shared_cause_model(math.inf), pos, others) for pos in (shared, [*shared, "s9"]))
    limit = (alone + more) / 2
    dx = shared_cause_model(work_limit=limit).diagnose({**dict.fromkeys(shared, "yes"), **dict.fromkeys(others, "no")})
    assert 0.0 < dx.posterior["c0"] < 1.0
    asked = len(answers)
    with pytest.raises(kneebayes.IntractableError, match=r"\(ranking the questions weighs 7 evidence sets; this one is "
                                                         r"the evidence with 's(9|10|11)' = 'yes'\) needs about \S+ "
                                                         r"steps of work for 10 positive findings"):
        dx.ranked_questions
    assert len(answers) == asked
