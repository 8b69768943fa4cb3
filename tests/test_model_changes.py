"""docs/make_model_changes.py: the page of what changed between two model versions, generated from Model.diff."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import kneebayes

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "make_model_changes.py"
PAGE = ROOT / "docs" / "model-changes.md"
OLD = ROOT / "docs" / "model-history" / "knee-1.0.0.yaml"


@pytest.fixture(scope="module")
def changes_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_model_changes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_model_changes"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def old() -> kneebayes.Model:
    return kneebayes.load_model(OLD)


def test_committed_page_is_the_generated_one(knee_model: kneebayes.Model, changes_module: ModuleType, old: kneebayes.Model) -> None:
    expected = changes_module.changes_for(old, knee_model, changes_module.KNEE_WHY)
    assert PAGE.read_text(encoding="utf-8") == expected, (
        "docs/model-changes.md is out of date; regenerate with `python docs/make_model_changes.py`")


def test_every_changed_number_is_listed_with_its_old_and_new_value(knee_model: kneebayes.Model, changes_module: ModuleType, old: kneebayes.Model) -> None:
    new = knee_model
    text = changes_module.changes_for(old, new)
    changes = old.diff(new)
    assert changes
    for ch in changes:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{ch.address}` |"))
        assert changes_module.num(ch.old) in row and changes_module.num(ch.new) in row


def test_the_model_version_was_bumped(knee_model: kneebayes.Model, old: kneebayes.Model) -> None:
    assert old.version == "1.0.0"
    assert knee_model.version != old.version


def test_a_changed_threshold_and_an_added_claim_are_reported(knee_model: kneebayes.Model, changes_module: ModuleType, old: kneebayes.Model) -> None:
    text = changes_module.changes_for(old, knee_model)
    assert "Escalation `likely_bakers_cyst` (bakers_cyst): 0.5 -> 0.35." in text
    assert "- Added `locking_stays_telling_after_the_screen` (holds)" in text


def test_a_care_item_tied_to_an_answer_is_reported(knee_model: kneebayes.Model, changes_module: ModuleType, old: kneebayes.Model) -> None:
    text = changes_module.changes_for(old, knee_model)
    assert "- Care item `bracing_for_instability`: applies when any answers -> instability = yes." in text


def test_identical_models_report_no_change(changes_module: ModuleType, old: kneebayes.Model) -> None:
    text = changes_module.changes_for(old, old)
    assert "## Numbers (0 changed)" in text
    assert "No node was added or removed, and no edge changed." in text
    assert "Triage rules unchanged." in text
    assert "Care advice unchanged." in text
    assert "No claim added or removed." in text


def test_check_mode_reports_drift(changes_module: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "changes.md"
    stale.write_text("old text\n", encoding="utf-8")
    assert changes_module.main(["--output", str(stale), "--check"]) == 1
    assert "make_model_changes.py" in capsys.readouterr().err
