"""kneebayes.explore: the widgets drive the same models and diagnoses as the library's own calls.

Widgets are traitlets objects: setting a slider's or a toggle's ``value``
and clicking a button (``Button.click()``) run the explorer's observers at
once, as a browser's change would, so each test moves something and
compares the explorer's public state with a direct computation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from networks import SMALL_BIF

import kneebayes
from kneebayes import MissingExtraError, UnknownNodeError
from kneebayes.display import knobs
from kneebayes.display.explore import UNKNOWN

pytest.importorskip("ipywidgets", reason="the notebook extra (ipywidgets) is not installed")

START = {"locking_or_catching": "yes"}



@pytest.fixture(scope="module")
def model() -> kneebayes.Model:
    return kneebayes.load_model()


@pytest.fixture
def view(model: kneebayes.Model):  # type: ignore[no-untyped-def]
    return kneebayes.explore(model, START)


@pytest.fixture
def small(tmp_path: Path) -> kneebayes.Model:
    path = tmp_path / "small.bif"
    path.write_text(SMALL_BIF)
    return kneebayes.load_bif(path, targets=["Fault"])


# -- what it shows at the start -------------------------------------------------------------
def test_default_sliders_are_every_number_of_the_causes(view, model) -> None:  # type: ignore[no-untyped-def]
    want = [a for a in model.parameters if a.split(".", 1)[0] in model.causes]
    assert sorted(view.sliders) == sorted(want)


def test_nodes_choose_whose_numbers_get_sliders(model) -> None:  # type: ignore[no-untyped-def]
    view = kneebayes.explore(model, nodes=["bakers_cyst", "poor_warmup"])
    assert list(view.sliders) == ["bakers_cyst.leak", "bakers_cyst.weight[meniscal_injury]",
                                  "bakers_cyst.weight[knee_arthritis]", "poor_warmup.prior"]


def test_slider_spans_the_range_widened_by_half_its_width_each_side(view) -> None:  # type: ignore[no-untyped-def]
    slider = view.sliders["bakers_cyst.weight[meniscal_injury]"]   # range [0.05, 0.45]
    assert (slider.min, slider.max, slider.value) == (pytest.approx(0.0), pytest.approx(0.65), 0.25)


def test_slider_tooltip_gives_the_numbers_source_and_rationale(view, model) -> None:  # type: ignore[no-untyped-def]
    p = model.parameters["bakers_cyst.leak"]
    assert view.sliders["bakers_cyst.leak"].tooltip == f"source: {p.source}\n{p.rationale}"


def test_starting_evidence_sets_the_toggles_and_the_rest_are_unknown(view) -> None:  # type: ignore[no-untyped-def]
    assert view.answers["locking_or_catching"].value == "yes"
    assert view.answers["limping"].value is UNKNOWN
    assert view.evidence == START


def test_yes_no_questions_offer_the_graded_answers(view) -> None:  # type: ignore[no-untyped-def]
    labels = [label for label, _ in view.answers["limping"].options]
    assert labels == ["yes", "probably", "not sure", "probably not", "no", "unknown"]


def test_starting_diagnosis_is_the_models_own(view, model) -> None:  # type: ignore[no-untyped-def]
    assert view.diagnosis.posterior == model.diagnose(START).posterior


def test_starting_claims_are_checked_and_shown(view) -> None:  # type: ignore[no-untyped-def]
    assert view.claims is not None and view.claims.all_held
    assert f"{len(view.claims)} of {len(view.claims)} claims hold" in view.output.value


# -- moving numbers ---------------------------------------------------------------------------
def test_moving_a_slider_gives_the_diagnosis_of_the_changed_model(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.2
    direct = model.with_parameters({"bakers_cyst.leak": 0.2}).diagnose(START)
    assert view.diagnosis.posterior == direct.posterior
    assert view.diagnosis.next_question == direct.next_question
    assert view.diagnosis.triage == direct.triage


def test_two_slider_moves_add_up(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.2
    view.sliders["tendonitis.leak"].value = 0.1
    direct = model.with_parameters({"bakers_cyst.leak": 0.2, "tendonitis.leak": 0.1})
    assert view.model.content_hash == direct.content_hash


def test_output_shows_the_posterior_of_the_changed_model(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["meniscal_injury.leak"].value = 0.2
    p = model.with_parameters({"meniscal_injury.leak": 0.2}).diagnose(START).posterior["meniscal_injury"]
    assert f"{p * 100:.1f}%" in view.output.value


def test_a_value_beyond_the_range_stretches_the_range_to_reach_it(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.3   # stated range [0.01, 0.25]
    assert view.model.parameters["bakers_cyst.leak"].range == (0.01, 0.3)
    direct = model.with_parameters({"bakers_cyst.leak": (0.3, (0.01, 0.3))})
    assert view.model.content_hash == direct.content_hash


def test_moving_back_inside_the_range_restores_the_stated_range(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.3
    view.sliders["bakers_cyst.leak"].value = 0.1
    assert view.model.parameters["bakers_cyst.leak"].range == model.parameters["bakers_cyst.leak"].range


def test_a_slider_at_zero_gives_the_impossible_range(view) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.weight[meniscal_injury]"].value = 0.0
    assert view.model.parameters["bakers_cyst.weight[meniscal_injury]"].range == (0.0, 0.0)


def test_a_move_that_breaks_a_claim_lists_it(view) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.weight[meniscal_injury]"].value = 0.0
    assert "meniscal_tear_raises_bakers_cyst" in [r.id for r in view.claims.broken]
    assert "meniscal_tear_raises_bakers_cyst" in view.output.value
    assert view.claims == view.model.check_claims()


def test_changed_numbers_are_listed_against_the_file(view) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.2
    assert "1 number changed from the model file" in view.output.value
    assert "<code>bakers_cyst.leak</code>: 0.05 &rarr; <b>0.2</b>" in view.output.value


def test_a_column_rescales_its_other_states_and_their_sliders_follow(small) -> None:  # type: ignore[no-untyped-def]
    view = kneebayes.explore(small, {"Light": "off"}, nodes=["Light"])
    view.sliders["Light.table[Fault=yes][on]"].value = 0.3
    assert view.sliders["Light.table[Fault=yes][off]"].value == pytest.approx(0.7)
    direct = small.with_parameters({"Light.table[Fault=yes][on]": 0.3})
    assert view.diagnosis.posterior["Fault"] == pytest.approx(direct.diagnose({"Light": "off"}).posterior["Fault"],
                                                              abs=1e-12)


def test_numbers_that_make_the_answers_impossible_show_an_error(small) -> None:  # type: ignore[no-untyped-def]
    view = kneebayes.explore(small, {"Light": "on"}, nodes=["Light"])
    view.sliders["Light.table[Fault=yes][on]"].value = 0.0
    view.sliders["Light.table[Fault=no][on]"].value = 0.0
    assert "has probability zero" in view.error
    assert "not applied" in view.output.value and "has probability zero" in view.output.value


# -- answers ----------------------------------------------------------------------------------
def test_clicking_an_answer_gives_the_diagnosis_with_it(view, model) -> None:  # type: ignore[no-untyped-def]
    view.answers["swelling_behind_knee"].value = "yes"
    direct = model.diagnose({**START, "swelling_behind_knee": "yes"})
    assert view.diagnosis.posterior == direct.posterior


def test_a_graded_answer_is_soft_evidence(view, model) -> None:  # type: ignore[no-untyped-def]
    view.answers["limping"].value = "probably"
    assert view.diagnosis.posterior == model.diagnose({**START, "limping": "probably"}).posterior


def test_unknown_takes_the_answer_back(view, model) -> None:  # type: ignore[no-untyped-def]
    view.answers["locking_or_catching"].value = UNKNOWN
    assert view.evidence == {}
    assert view.diagnosis.posterior == model.diagnose({}).posterior


def test_answers_keep_the_moved_numbers(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.2
    view.answers["swelling_behind_knee"].value = "yes"
    direct = model.with_parameters({"bakers_cyst.leak": 0.2}).diagnose({**START, "swelling_behind_knee": "yes"})
    assert view.diagnosis.posterior == direct.posterior


def test_a_soft_starting_answer_of_a_graded_word_shows_as_that_word(model) -> None:  # type: ignore[no-untyped-def]
    view = kneebayes.explore(model, {"limping": model.graded_answers["probably_not"]})
    assert view.answers["limping"].value == "probably_not"


def test_a_starting_answer_on_a_cause_gets_a_toggle(model) -> None:  # type: ignore[no-untyped-def]
    view = kneebayes.explore(model, {"bakers_cyst": "yes"})
    assert view.answers["bakers_cyst"].value == "yes"


# -- claims on demand -------------------------------------------------------------------------
def test_with_live_claims_off_a_move_marks_the_claims_stale(view) -> None:  # type: ignore[no-untyped-def]
    view.live_claims.value = False
    view.sliders["bakers_cyst.weight[meniscal_injury]"].value = 0.0
    assert view.claims_stale and view.claims.all_held
    assert "checked before the last change" in view.output.value


def test_check_claims_button_checks_the_current_numbers(view) -> None:  # type: ignore[no-untyped-def]
    view.live_claims.value = False
    view.sliders["bakers_cyst.weight[meniscal_injury]"].value = 0.0
    view.check_button.click()
    assert not view.claims_stale
    assert view.claims == view.model.check_claims()


# -- rebuilding only what changed ---------------------------------------------------------------
def _rebuilds(view) -> list[str]:  # type: ignore[no-untyped-def]
    """Every value the output widget is given from now on."""
    shown: list[str] = []
    view.output.observe(lambda change: shown.append(change["new"]), names="value")
    return shown


def test_a_move_without_live_claims_rebuilds_the_output_once(view) -> None:  # type: ignore[no-untyped-def]
    view.live_claims.value = False
    shown = _rebuilds(view)
    view.sliders["bakers_cyst.leak"].value = 0.2
    assert len(shown) == 1


def test_a_move_with_live_claims_shows_the_diagnosis_before_the_claims(view, model) -> None:  # type: ignore[no-untyped-def]
    shown = _rebuilds(view)
    view.sliders["bakers_cyst.weight[meniscal_injury]"].value = 0.0
    direct = model.with_parameters({"bakers_cyst.weight[meniscal_injury]": (0.0, (0.0, 0.0))}).diagnose(START)
    assert len(shown) == 2
    assert f"{direct.posterior['bakers_cyst'] * 100:.1f}%" in shown[0]
    assert "meniscal_tear_raises_bakers_cyst" not in shown[0] and "meniscal_tear_raises_bakers_cyst" in shown[1]


def test_checking_the_claims_keeps_the_diagnosis_html(view, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    built = []
    monkeypatch.setattr(knobs, "diagnosis_part", lambda dx: built.append(dx) or "")
    view.check_button.click()
    assert built == []


def test_the_output_is_the_page_explorer_html_builds(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.2
    view.live_claims.value = False
    view.sliders["tendonitis.leak"].value = 0.1
    view.answers["limping"].value = "probably"
    page = knobs.explorer_html(view.diagnosis, view.claims, original=model.parameters,
                               claims_stale=view.claims_stale, error=view.error)
    assert view.output.value == page == view.snapshot_html()


def test_a_move_changes_only_the_sliders_of_its_column(small) -> None:  # type: ignore[no-untyped-def]
    view = kneebayes.explore(small, {"Light": "off"}, nodes=["Fault", "Light"])
    moved: list[str] = []
    for address, slider in view.sliders.items():
        slider.observe(lambda change, a=address: moved.append(a), names="value")
    view.sliders["Light.table[Fault=yes][on]"].value = 0.3
    assert sorted(moved) == ["Light.table[Fault=yes][off]", "Light.table[Fault=yes][on]"]


# -- reset and save ---------------------------------------------------------------------------
def test_reset_returns_to_the_files_numbers_and_the_starting_answers(view, model) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.3
    view.answers["limping"].value = "yes"
    view.reset_button.click()
    assert view.model.content_hash == model.content_hash
    assert view.sliders["bakers_cyst.leak"].value == model.parameters["bakers_cyst.leak"].value
    assert view.evidence == START
    assert view.diagnosis.posterior == model.diagnose(START).posterior


def test_save_writes_a_file_that_loads_back_to_the_changed_model(view, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view.sliders["bakers_cyst.leak"].value = 0.3
    view.sliders["tendonitis.leak"].value = 0.1
    view.save_path.value = str(tmp_path / "tweaked.yaml")
    view.save_button.click()
    assert kneebayes.load_model(tmp_path / "tweaked.yaml").content_hash == view.model.content_hash
    assert "saved to" in view.status.value


def test_a_failed_save_is_shown_and_leaves_the_folder_as_it_was(view, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view.save_path.value = str(tmp_path)   # a folder: never replaced
    view.save_button.click()
    assert "not saved" in view.status.value
    assert tmp_path.is_dir() and list(tmp_path.iterdir()) == []


# -- display ----------------------------------------------------------------------------------
def test_display_offers_the_widget_and_a_static_snapshot(view) -> None:  # type: ignore[no-untyped-def]
    from IPython.core.formatters import DisplayFormatter  # what a notebook's display() uses

    bundle, _ = DisplayFormatter().format(view)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == view.snapshot_html()


def test_snapshot_holds_the_diagnosis_html_without_care_advice(view) -> None:  # type: ignore[no-untyped-def]
    from kneebayes.display.html import diagnosis_html

    assert diagnosis_html(view.diagnosis, care=0) in view.snapshot_html()


# -- errors -----------------------------------------------------------------------------------
def test_unknown_node_id_raises_unknown_node_error(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownNodeError) as caught:
        kneebayes.explore(model, nodes=["bakers_cist"])
    assert str(caught.value) == "unknown node 'bakers_cist' in nodes; did you mean 'bakers_cyst'?"


def test_unknown_evidence_node_raises_unknown_node_error(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownNodeError, match="limpng"):
        kneebayes.explore(model, {"limpng": "yes"})


def test_missing_ipywidgets_raises_missing_extra_error(model, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)   # import ipywidgets now fails as if not installed
    with pytest.raises(MissingExtraError) as caught:
        kneebayes.explore(model)
    assert str(caught.value) == ("explore needs ipywidgets, which is not installed; "
                                 "install it with: pip install 'kneebayes[notebook]'")


def test_import_kneebayes_and_its_explore_name_load_no_ipywidgets() -> None:
    code = "import sys, kneebayes; kneebayes.explore; print('ipywidgets' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
