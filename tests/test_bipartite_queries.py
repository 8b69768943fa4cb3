"""A QMR-style model file (yes/no causes with priors, noisy-OR findings over causes only, too many causes to
enumerate) is compiled to the bipartite path and answers exactly like elimination on its full tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_too_many_soft_answers_raise_a_clear_error(qmr: kneebayes.Model) -> None:
    from kneebayes.inference.bipartite_queries import SOFT_ANSWERS

    findings = [n for n in qmr.network.names if n.startswith("f")][: SOFT_ANSWERS + 1]
    with pytest.raises(kneebayes.EvidenceError, match=rf"{SOFT_ANSWERS + 1} soft answers .* at most {SOFT_ANSWERS}"):
        qmr.diagnose({f: kneebayes.Likelihood(yes=0.5, no=1.0) for f in findings})


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
