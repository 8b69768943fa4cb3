"""The model card is generated from the model file and cannot drift from it."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

import kneebayes
from kneebayes.modelfile.schema import ModelSpec, NoisyOr, Prior

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "make_model_card.py"
CARD = ROOT / "docs" / "model-card.md"

TINY = """\
format: kneebayes-model/1
name: tiny
version: "0.1"
title: tiny
scale: {probable: 0.85}
nodes:
  - id: r1
    label: R1
    kind: risk_factor
    question: r1?
    prior: {value: 0.3, range: [0.1, 0.5], source: s, rationale: r}
  - id: r2
    label: R2
    kind: risk_factor
    question: r2?
    prior: {value: 0.2, range: [0.1, 0.5], source: s, rationale: "The article is SILENT here."}
  - id: c1
    label: C1
    kind: cause
    question: c1?
    noisy_or:
      leak: {value: 0.1, range: [0.05, 0.2], source: s, rationale: r}
      weights:
        r1: {value: probable, range: [0.5, 0.9], source: s, rationale: r}
        r2: {value: 0.4, range: [0.2, 0.6], source: s, rationale: "Strength not stated; guessed."}
  - id: c2
    label: C2
    kind: cause
    question: c2?
    noisy_or:
      leak: {value: 0.05, range: [0.01, 0.2], source: s, rationale: r}
      weights:
        r2: {value: 0.5, range: [0.2, 0.6], source: s, rationale: r}
        c1: {value: 0.3, range: [0.2, 0.6], source: s, rationale: r}
  - id: f1
    label: F1
    kind: finding
    question: f1?
    noisy_or:
      leak: {value: 0.05, range: [0.01, 0.2], source: s, rationale: r}
      weights:
        c1: {value: 0.7, range: [0.2, 0.8], source: s, rationale: r}
        c2: {value: 0.2, range: [0.1, 0.6], source: s, rationale: r}
  - id: f2
    label: F2
    kind: finding
    question: f2?
    states: [lo, mid, hi]
    table:
      parents: [c2]
      columns:
        - given: {c2: yes}
          probabilities:
            lo: {value: 0.2, range: [0.1, 0.3], source: s, rationale: r}
            mid: {value: 0.3, range: [0.1, 0.4], source: s, rationale: r}
            hi: {value: 0.5, range: [0.1, 0.6], source: s, rationale: r}
        - given: {c2: no}
          probabilities:
            lo: {value: 0.6, range: [0.1, 0.7], source: s, rationale: r}
            mid: {value: 0.3, range: [0.1, 0.4], source: s, rationale: r}
            hi: {value: 0.1, range: [0.05, 0.6], source: s, rationale: r}
claims:
  - id: r1_raises_c1
    statement: R1 raises C1.
    source: s
    check: raises
    cause: c1
    given: {r1: "yes"}
    versus: {r1: "no"}
  - id: c2_before_c1
    statement: C2 is more probable than C1.
    source: s
    check: more_probable
    cause: c2
    than: c1
"""


@pytest.fixture(scope="module")
def card_module():
    spec = importlib.util.spec_from_file_location("make_model_card", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_model_card"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def tiny_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def addresses(spec: ModelSpec) -> list[str]:
    """Every parameter address, written out here independently of the generator."""
    out = []
    for n in spec.nodes:
        p = n.parameters
        if isinstance(p, Prior):
            if p.derived_last:
                out.append(f"{n.id}.prior")
            else:
                out += [f"{n.id}.prior[{s}]" for s in n.states]
        elif isinstance(p, NoisyOr):
            out.append(f"{n.id}.leak")
            out += [f"{n.id}.weight[{parent}]" for parent in p.parents]
        else:
            for col in p.columns:
                given = ",".join(f"{k}={v}" for k, v in col.given)
                out += [f"{n.id}.table[{given}][{s}]" for s in n.states]
    return out


def test_committed_card_is_the_generated_one(knee_model: kneebayes.Model, card_module):
    expected = card_module.card_for(knee_model)
    assert CARD.read_text(encoding="utf-8") == expected, (
        "docs/model-card.md is out of date with the model file; regenerate with `python docs/make_model_card.py`"
    )


def test_every_parameter_address_of_the_knee_model_is_in_the_card(knee_model: kneebayes.Model, card_module):
    model = knee_model
    text = card_module.card_for(model)
    expected = addresses(model.spec)
    assert len(expected) == len(set(expected)) > 0
    missing = [a for a in expected if f"`{a}`" not in text]
    assert not missing
    assert [a for a, _ in card_module.all_parameters(model.spec)] == expected


def test_every_node_and_claim_of_the_knee_model_is_in_the_card(knee_model: kneebayes.Model, card_module):
    model = knee_model
    text = card_module.card_for(model)
    for node in model.spec.nodes:
        assert f"### `{node.id}`: {node.label}" in text
        assert node.question in text
    for claim in model.spec.claims:
        assert f"| `{claim.id}` |" in text
    assert model.content_hash in text


def test_card_is_deterministic_and_undated(knee_model: kneebayes.Model, card_module):
    model = knee_model
    first = card_module.card_for(model)
    assert first == card_module.card_for(knee_model)
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", first)
    assert str(ROOT) not in first


def test_generator_works_on_another_model_file(card_module, tiny_path, tmp_path):
    out = tmp_path / "card.md"
    assert card_module.main(["--model", str(tiny_path), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    model = kneebayes.load_model(tiny_path)
    assert text == card_module.render(model)
    assert "# Model card: tiny" in text
    assert "| Model file | `tiny.yaml` |" in text
    for address in addresses(model.spec):
        assert f"`{address}`" in text
    assert "`c1.weight[r1]` | 0.85 (*probable*) | 0.5 – 0.9 |" in text
    assert "`f2.table[c2=no][hi]` | 0.1 | 0.05 – 0.6 |" in text
    assert "| risk_factor | 2 | `r1`, `r2` |" in text


def test_claims_show_whether_they_hold(card_module, tiny_path):
    model = kneebayes.load_model(tiny_path)
    report = {r.id: r.held for r in model.check_claims()}
    assert report == {"r1_raises_c1": True, "c2_before_c1": False}
    text = card_module.render(model)
    assert "1 of 2 hold now" in text
    held = next(line for line in text.splitlines() if line.startswith("| `r1_raises_c1` |"))
    broken = next(line for line in text.splitlines() if line.startswith("| `c2_before_c1` |"))
    assert held.split(" | ")[-1].startswith("yes (")
    assert broken.split(" | ")[-1].startswith("**NO** (")


def test_every_care_item_is_in_the_card_with_the_answers_it_is_tied_to(knee_model: kneebayes.Model, card_module):
    model = knee_model
    section = card_module.card_for(model).split("## Care", 1)[1].split("\n## ", 1)[0]
    for item in model.spec.care:
        assert f"| `{item.id}` | {item.title} | {item.when} |" in section
    brace = next(line for line in section.splitlines() if line.startswith("| `bracing_for_instability` |"))
    assert "| instability = yes |" in brace
    rest = next(line for line in section.splitlines() if line.startswith("| `rest_and_cross_training` |"))
    assert "| general | any answers |" in rest


def test_a_model_without_care_says_so(card_module, tiny_path):
    assert "## Care\n\nThe model file gives no care advice.\n" in card_module.render(kneebayes.load_model(tiny_path))


def test_unsettled_choices_list_exactly_the_silent_parameters(card_module, tiny_path):
    text = card_module.render(kneebayes.load_model(tiny_path))
    section = text.split("## Choices the article did not settle", 1)[1]
    listed = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
    assert listed == ["r2.prior", "c1.weight[r2]"]
    assert "2 of 17 parameters" in section


def test_knee_card_keeps_the_hand_written_preamble(knee_model: kneebayes.Model, card_module):
    text = card_module.card_for(knee_model)
    section = text.split("## Choices the article did not settle", 1)[1]
    assert card_module.KNEE_PREAMBLE in section
    listed = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
    silent = [a for a, q in card_module.all_parameters(knee_model.spec)
              if re.search("silent|not stated", q.rationale, re.IGNORECASE)]
    assert listed == silent and silent


def test_check_mode_reports_drift(card_module, tiny_path, tmp_path, capsys):
    out = tmp_path / "card.md"
    args = ["--model", str(tiny_path), "--output", str(out)]
    assert card_module.main([*args, "--check"]) == 1           # missing file
    card_module.main(args)
    assert card_module.main([*args, "--check"]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("0.85 (*probable*)", "0.8"), encoding="utf-8")
    assert card_module.main([*args, "--check"]) == 1
    assert "make_model_card.py" in capsys.readouterr().err


def test_the_numbers_page_counts_what_the_model_holds(card_module) -> None:
    """docs/how-the-numbers-were-set.md quotes two counts of the packaged model: the numbers the article is
    silent on (the card's own rule) and the numbers written as scale words. They went stale once (49 and nine)."""
    page = (ROOT / "docs" / "how-the-numbers-were-set.md").read_text(encoding="utf-8")
    params = kneebayes.load_model().parameters
    silent = sum(bool(card_module.SILENT.search(p.rationale)) for p in params.values())
    words = sum(p.term is not None for p in params.values())
    assert f"{silent} of the {len(params)} numbers rest on no statement" in page
    assert f"{words} numbers are written as scale words" in page
