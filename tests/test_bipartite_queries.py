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
