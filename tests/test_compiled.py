"""Compiling within the memory budget: targets off the joint axis when enumerating them would not fit,
wide noisy-ORs kept in pieces, and full tables built only on demand."""

from __future__ import annotations

import tracemalloc
import warnings
from pathlib import Path

import pytest

import kneebayes
from kneebayes import IntractableError

LEAK, WEIGHT, PRIOR = 0.01, 0.2, 0.3


def _number(value: float) -> str:
    return f"{{value: {value!r}, range: [0.0001, 0.9999], source: synthetic, rationale: drawn}}"


def _wide(path: Path, parents: int) -> Path:
    """``parents`` risk factors, all parents of one cause (a noisy-OR), which one finding reports."""
    lines = ["format: kneebayes-model/1", "name: wide", 'version: "1"', 'title: "wide"', "source_document: s", "nodes:"]
    for i in range(parents):
        lines += [f"  - id: r{i}", f"    label: r{i}", "    kind: risk_factor", f'    question: "r{i}?"', "    prior:",
                  f"      yes: {_number(PRIOR)}", f"      no: {_number(1 - PRIOR)}"]
    lines += ["  - id: c", "    label: c", "    kind: cause", '    question: "c?"', "    noisy_or:",
              f"      leak: {_number(LEAK)}", "      weights:", *(f"        r{i}: {_number(WEIGHT)}" for i in range(parents))]
    lines += ["  - id: f", "    label: f", "    kind: finding", '    question: "f?"', "    noisy_or:",
              f"      leak: {_number(0.05)}", "      weights:", f"        c: {_number(0.8)}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_noisy_or_with_28_parents_loads_without_its_full_table(tmp_path: Path) -> None:
    path = _wide(tmp_path / "wide.yaml", 28)
    tracemalloc.start()
    try:
        model = kneebayes.load_model(path)
        marginal = model.marginals({}, nodes=["c"])["c"]["yes"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20            # the full table alone would take 4 GiB
    # Independent parents: P(c = no) = (1 - leak) * (1 - prior * weight) ** 28, exactly.
    assert marginal == pytest.approx(1 - (1 - LEAK) * (1 - PRIOR * WEIGHT) ** 28, abs=1e-12)


def test_a_wide_noisy_or_answers_evidence_on_its_parents_exactly(tmp_path: Path) -> None:
    model = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 28))
    evidence = {"r0": "yes", "r1": "yes", "r5": "no"}
    got = model.marginals(evidence, nodes=["c"])["c"]["yes"]
    assert got == pytest.approx(1 - (1 - LEAK) * (1 - WEIGHT) ** 2 * (1 - PRIOR * WEIGHT) ** 25, abs=1e-12)


def test_exporting_a_table_past_the_budget_is_refused_naming_the_node(tmp_path: Path) -> None:
    model = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 28))
    with pytest.raises(IntractableError, match=r"node 'c''s full table is only needed to export"):
        model.to_bif(tmp_path / "wide.bif")
    assert not (tmp_path / "wide.bif").exists()


def test_targets_leave_the_joint_axis_when_enumerating_them_passes_the_budget() -> None:
    import pgmpy

    path = Path(pgmpy.__file__).parent / "utils" / "example_models" / "alarm.bif.gz"
    targets = ["HYPOVOLEMIA", "LVFAILURE", "ANAPHYLAXIS", "INSUFFANESTH", "PULMEMBOLUS", "INTUBATION",
               "KINKEDTUBE", "DISCONNECT"]
    evidence = {"HRBP": "HIGH", "BP": "LOW", "SAO2": "LOW"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        roomy = kneebayes.load_bif(path, targets=targets)
        tight = kneebayes.load_bif(path, targets=targets, memory_budget=16 * 2**10)   # its largest enumerated table: 27 KiB
    assert roomy.network.enumerated and not tight.network.enumerated
    a, b = roomy.diagnose(evidence).distributions, tight.diagnose(evidence).distributions
    for target in targets:
        for state, p in a[target].items():
            assert abs(p - b[target][state]) <= 1e-12, (target, state)


def test_a_model_with_a_wide_noisy_or_diagnoses_and_ranks_questions(tmp_path: Path) -> None:
    model = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 28))
    dx = model.diagnose({"r0": "yes", "r1": "yes", "r5": "no"})
    assert dx.posterior["c"] == pytest.approx(1 - (1 - LEAK) * (1 - WEIGHT) ** 2 * (1 - PRIOR * WEIGHT) ** 25, abs=1e-12)
    assert dx.next_question is not None and dx.next_question.id.startswith(("r", "f"))
