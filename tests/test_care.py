"""The care plan (kneebayes.care): the article's advice, filtered by triage level and answers, ordered by the posterior, split short."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

import kneebayes
from kneebayes import check_model_file
from kneebayes.care import GENERAL_RELEVANCE, LEVEL_ITEMS, SHORT_PLAN, CareAdvice, care_plan, condition_status, split_care
from kneebayes.errors import SettingError
from kneebayes.modelfile.load import default_model_path, load_spec

SPEC = load_spec(default_model_path())
CAUSES = tuple(n.id for n in SPEC.nodes if n.kind == "cause")
# The article's section headings, kept beside the tests: model files cite them as `source`.
HEADINGS = Path(__file__).parent / "data" / "article_headings.txt"
LEVELS = ("self_care", "see_doctor")   # the levels with items of their own


def posterior(**values: float) -> dict[str, float]:
    return {c: values.get(c, 0.0) for c in CAUSES}


def headings() -> set[str]:
    """The article's section headings, one a line after the file's '#' header."""
    lines = (line.strip() for line in HEADINGS.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


@pytest.mark.parametrize("level", LEVELS)
def test_items_are_those_for_always_or_this_level(level: str) -> None:
    ids = {a.id for a in care_plan(SPEC, posterior(), level)}
    assert ids == {c.id for c in SPEC.care if c.when in ("always", level)}


def test_incomplete_gets_the_self_care_items() -> None:
    p = posterior(hamstring_strain=0.7, tendonitis=0.4)
    assert care_plan(SPEC, p, "incomplete") == care_plan(SPEC, p, "self_care")


def test_not_assessed_gets_only_the_items_for_every_level() -> None:
    ids = {a.id for a in care_plan(SPEC, posterior(), "not_assessed")}
    assert ids == {c.id for c in SPEC.care if c.when == "always"}


def test_every_triage_level_is_accepted() -> None:
    from kneebayes.triage import LEVELS as TRIAGE_LEVELS

    assert set(LEVEL_ITEMS) == set(TRIAGE_LEVELS)
    assert all(care_plan(SPEC, posterior(), level) for level in TRIAGE_LEVELS)


def test_each_level_has_advice_of_its_own() -> None:
    only = {level: {c.id for c in SPEC.care if c.when == level} for level in LEVELS}
    assert only["self_care"] and only["see_doctor"]
    assert not only["see_doctor"] & {a.id for a in care_plan(SPEC, posterior(), "self_care")}
    assert not only["self_care"] & {a.id for a in care_plan(SPEC, posterior(), "see_doctor")}


@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("level", LEVELS)
def test_the_items_of_a_certain_cause_come_first(cause: str, level: str) -> None:
    plan = [a for a in care_plan(SPEC, posterior(**{cause: 0.9}), level) if not _doctor_advice(a)]
    serving = [cause in a.causes for a in plan]
    assert serving == sorted(serving, reverse=True)  # every serving item before every other one
    assert all(a.relevance == 0.9 for a in plan if cause in a.causes)


def _doctor_advice(a: CareAdvice) -> bool:
    """General advice written for the see_doctor level alone ("have it evaluated")."""
    return not a.causes and a.when == "see_doctor"


def test_relevance_is_the_largest_posterior_of_the_causes_served() -> None:
    p = {c: 0.1 * (i + 1) for i, c in enumerate(CAUSES)}
    for a in care_plan(SPEC, p, "see_doctor"):
        expected = max(p[c] for c in a.causes) if a.causes else (1.0 if _doctor_advice(a) else GENERAL_RELEVANCE)
        assert a.relevance == expected


@pytest.mark.parametrize("cause", CAUSES)
def test_at_see_doctor_the_advice_to_get_evaluated_comes_first(cause: str) -> None:
    plan = care_plan(SPEC, posterior(**{cause: 0.95}), "see_doctor")
    assert _doctor_advice(plan[0]) and plan[0].relevance == 1.0


def test_plan_is_ordered_by_relevance_then_deterministically() -> None:
    p = posterior(hamstring_strain=0.6, tendonitis=0.6, popliteus_overload=0.3)
    plan = care_plan(SPEC, p, "self_care")
    assert [a.relevance for a in plan] == sorted((a.relevance for a in plan), reverse=True)
    assert plan == care_plan(SPEC, dict(reversed(list(p.items()))), "self_care")


def test_general_advice_outranks_advice_for_unlikely_causes() -> None:
    plan = care_plan(SPEC, posterior(meniscal_injury=0.2), "self_care")
    assert plan[0].id == "rest_and_cross_training" and plan[0].relevance == GENERAL_RELEVANCE


def test_every_care_source_is_an_article_heading() -> None:
    known = headings()
    for item in SPEC.care:
        assert item.source in known, (item.id, item.source)


def test_every_cause_has_care_advice() -> None:
    served = {c for item in SPEC.care for c in item.causes}
    assert set(CAUSES) <= served, set(CAUSES) - served


@pytest.mark.parametrize("heading", [
    "Rest and Activity Modification", "Ice Therapy", "Stretching Exercises", "Strengthening Exercises",
    "Myo-fascial Release and Massage", "Taping and Bracing Options",
    "The Role of Biomechanics in Back Of Knee Tight After Running",
    "The Importance of Proper Footwear in Preventing Back Of Knee Tight After Running",
    "Treating Persistent Back Of Knee Tight After Running: When To See A Specialist?",
    "Avoiding Recurrence: Tips To Prevent Back Of Knee Tight After Running",
])
def test_every_treatment_and_prevention_section_gives_advice(heading: str) -> None:
    assert any(item.source == heading for item in SPEC.care)


def test_the_articles_numbers_are_kept_in_the_advice() -> None:
    advice = " ".join(item.advice for item in SPEC.care)
    assert "15-20 minutes" in advice and "300-500 miles" in advice


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(SettingError, match="level must be one of see_doctor, self_care, incomplete, not_assessed, got 'urgent'"):
        care_plan(SPEC, posterior(), "urgent")


def test_advice_is_frozen_and_its_dict_is_json() -> None:
    (first, *_) = care_plan(SPEC, posterior(tendonitis=0.8), "self_care")
    assert isinstance(first, CareAdvice)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'relevance'"):
        first.relevance = 1.0  # type: ignore[misc]
    data = json.loads(json.dumps(first.to_dict()))
    assert data["id"] == first.id and data["causes"] == list(first.causes) and data["relevance"] == 0.8
    assert first.title in str(first) and first.source in str(first)


def test_a_care_item_naming_a_finding_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).parent / "models" / "broken" / "care_invalid_when.yaml").read_text(encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(text.replace("when: sometimes", "when: always").replace("causes: [strain]", "causes: [pain]"),
                    encoding="utf-8")
    (p,) = check_model_file(path)
    assert (p.field, p.message) == ("care.rest.causes", "'pain' is a finding, not a cause (valid: strain)")


# -- advice tied to answers (applies_when) ----------------------------------------------------
BRACE = "bracing_for_instability"


def ids(plan: tuple[CareAdvice, ...]) -> list[str]:
    return [a.id for a in plan]


def brace(plan: tuple[CareAdvice, ...]) -> CareAdvice:
    return next(a for a in plan if a.id == BRACE)


def test_the_knee_ties_only_the_brace_to_an_answer_as_the_article_does() -> None:
    tied = {c.id: c.applies_when for c in SPEC.care if c.applies_when}
    assert tied == {BRACE: (("instability", ("yes",)),)}
    assert next(c for c in SPEC.care if c.id == BRACE).source == "Taping and Bracing Options"


@pytest.mark.parametrize("level", LEVEL_ITEMS)
def test_an_answer_that_contradicts_the_condition_drops_the_item(level: str) -> None:
    assert BRACE not in ids(care_plan(SPEC, posterior(), level, evidence={"instability": "no"}))


def test_false_reads_as_no_against_a_condition() -> None:
    assert BRACE not in ids(care_plan(SPEC, posterior(), "self_care", evidence={"instability": False}))


def test_an_unanswered_condition_keeps_the_item_ranked_by_its_causes_without_fitting() -> None:
    kept = brace(care_plan(SPEC, posterior(meniscal_injury=0.3), "self_care", evidence={"limping": "no"}))
    assert (kept.relevance, kept.fits) == (0.3, False)


def test_no_evidence_counts_as_nothing_answered() -> None:
    assert care_plan(SPEC, posterior(), "self_care") == care_plan(SPEC, posterior(), "self_care", evidence={})


def test_an_open_condition_does_not_fit_even_for_the_likeliest_cause() -> None:
    plan = care_plan(SPEC, posterior(popliteus_overload=0.9), "self_care")
    assert not brace(plan).fits
    assert all(a.fits for a in plan if "popliteus_overload" in a.causes and not a.applies_when)


def test_a_met_condition_fits_and_comes_right_after_the_key_item() -> None:
    plan = care_plan(SPEC, posterior(hamstring_strain=0.9), "see_doctor", evidence={"instability": "yes"})
    assert ids(plan)[:2] == ["professional_evaluation", BRACE]
    assert (brace(plan).fits, brace(plan).relevance) == (True, 1.0)


def test_true_reads_as_yes_against_a_condition() -> None:
    assert brace(care_plan(SPEC, posterior(), "see_doctor", evidence={"instability": True})).fits


@pytest.mark.parametrize(("evidence", "status"), [
    ({}, "open"),
    ({"swelling": "some"}, "open"),
    ({"swelling": "some", "limping": "yes"}, "met"),
    ({"swelling": "lots", "limping": "no"}, "contradicted"),
    ({"swelling": "none"}, "contradicted"),
])
def test_every_node_of_a_condition_must_hold(evidence: dict[str, str], status: str) -> None:
    condition = (("swelling", ("some", "lots")), ("limping", ("yes",)))
    assert condition_status(condition, evidence) == status


def test_an_empty_condition_is_met() -> None:
    assert condition_status((), {}) == "met"


# -- what fits, and the key item --------------------------------------------------------------
def test_items_for_the_likeliest_cause_and_general_advice_fit_the_rest_do_not() -> None:
    plan = care_plan(SPEC, posterior(tendonitis=0.7, hamstring_strain=0.6), "self_care")
    for a in plan:
        expected = a.key or (not a.applies_when and (not a.causes or "tendonitis" in a.causes))
        assert a.fits == expected, a.id


def test_causes_tied_for_likeliest_both_count() -> None:
    plan = care_plan(SPEC, posterior(hamstring_strain=0.4, meniscal_injury=0.4), "self_care")
    assert next(a for a in plan if a.id == "hamstring_stretches").fits   # serves hamstring strain alone
    assert next(a for a in plan if a.id == "footwear").fits              # serves meniscal injury, not hamstring


def test_a_likely_hamstring_strain_is_told_the_hamstring_stretches_first() -> None:
    # The article's own treatment for hamstring tension; beside advice shared with the runner-up causes
    # it must not fall out of the short plan.
    for runner_up in ("tendonitis", "popliteus_overload"):
        plan = care_plan(SPEC, posterior(hamstring_strain=0.8, **{runner_up: 0.35}), "self_care")
        first, _ = split_care(plan)
        assert first[0].id == "hamstring_stretches", [a.id for a in first]


def test_nerve_irritation_is_not_advised_the_hamstring_stretches() -> None:
    # The article gives no stretch for nerve irritation; the lying band stretch is a straight-leg raise.
    plan = care_plan(SPEC, posterior(nerve_irritation=0.9), "self_care")
    assert not next(a for a in plan if a.id == "hamstring_stretches").fits


def test_without_a_posterior_no_item_fits_by_its_causes() -> None:
    plan = care_plan(SPEC, {}, "self_care")
    assert {a.id for a in plan if a.fits} == {c.id for c in SPEC.care if not c.causes and c.when != "see_doctor"}


@pytest.mark.parametrize(("level", "key"), [
    ("see_doctor", ["professional_evaluation"]),
    ("self_care", ["when_to_get_checked"]),
    ("incomplete", ["when_to_get_checked"]),
    ("not_assessed", []),
])
def test_the_key_item_of_each_level(level: str, key: list[str]) -> None:
    plan = care_plan(SPEC, posterior(hamstring_strain=0.9), level)
    assert [a.id for a in plan if a.key] == key
    assert all(a.fits for a in plan if a.key)


# -- the short plan (split_care) --------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 2, 4, 20])
@pytest.mark.parametrize("cause", CAUSES)
@pytest.mark.parametrize("level", LEVEL_ITEMS)
def test_the_key_item_is_always_in_the_first_part(level: str, cause: str, limit: int) -> None:
    plan = care_plan(SPEC, posterior(**{cause: 0.95}), level)
    first, _ = split_care(plan, limit=limit)
    assert {a.id for a in plan if a.key} <= set(ids(first))


@pytest.mark.parametrize("limit", [1, 3, 4, 6])
@pytest.mark.parametrize("level", LEVEL_ITEMS)
def test_the_parts_keep_plan_order_and_together_are_the_plan(level: str, limit: int) -> None:
    plan = care_plan(SPEC, posterior(hamstring_strain=0.5, tendonitis=0.45), level,
                     evidence={"instability": "yes"})
    first, rest = split_care(plan, limit=limit)
    position = {a.id: i for i, a in enumerate(plan)}
    assert [position[a.id] for a in first] == sorted(position[a.id] for a in first)
    assert [position[a.id] for a in rest] == sorted(position[a.id] for a in rest)
    assert sorted(ids(first) + ids(rest)) == sorted(ids(plan))


def test_the_first_part_is_the_first_fitting_items_up_to_the_limit() -> None:
    plan = care_plan(SPEC, posterior(tendonitis=0.66, hamstring_strain=0.54), "self_care")
    first, rest = split_care(plan, limit=4)
    fitting = [a.id for a in plan if a.fits and not a.key]
    assert ids(first) == [a.id for a in plan if a.id in fitting[:3] or a.key]
    assert len(first) == 4 and all(a.fits for a in first)


def test_only_fitting_items_go_first_even_below_the_limit() -> None:
    plan = care_plan(SPEC, {}, "not_assessed")
    first, rest = split_care(plan, limit=10)
    assert ids(first) == ["rest_and_cross_training"] and len(rest) == len(plan) - 1


def test_nothing_fitting_leaves_the_first_part_empty() -> None:
    plan = tuple(a for a in care_plan(SPEC, posterior(tendonitis=0.5), "self_care") if not a.fits)
    assert split_care(plan) == ((), plan)


def test_the_default_short_plan_holds_four_items() -> None:
    first, _ = split_care(care_plan(SPEC, posterior(hamstring_strain=0.7), "see_doctor"))
    assert len(first) == SHORT_PLAN == 4


def test_split_is_stable_for_the_same_answers() -> None:
    p = posterior(hamstring_strain=0.6, tendonitis=0.6)
    assert split_care(care_plan(SPEC, p, "incomplete")) == split_care(care_plan(SPEC, dict(reversed(list(p.items()))),
                                                                              "incomplete"))


@pytest.mark.parametrize("limit", [0, -1, 2.5, True, "4"])
def test_a_limit_that_is_not_a_whole_number_of_items_is_refused(limit: object) -> None:
    with pytest.raises(SettingError, match=r"^limit must be a whole number of items, at least 1, got "):
        split_care(care_plan(SPEC, posterior(), "self_care"), limit=limit)  # type: ignore[arg-type]


# -- through a Diagnosis ----------------------------------------------------------------------
def test_a_diagnosis_drops_the_brace_for_a_stable_knee_and_fits_it_for_an_unstable_one(knee_model: kneebayes.Model) -> None:
    model = knee_model
    assert BRACE not in ids(model.diagnose({"instability": "no"}).care_plan)
    unstable = model.diagnose({"instability": "yes"})
    assert BRACE in ids(split_care(unstable.care_plan)[0])


def test_the_dict_of_advice_carries_its_condition_fit_and_key() -> None:
    plan = care_plan(SPEC, posterior(), "see_doctor", evidence={"instability": "yes"})
    data = json.loads(json.dumps(brace(plan).to_dict()))
    assert (data["applies_when"], data["fits"], data["key"]) == ({"instability": ["yes"]}, True, False)
    assert json.loads(json.dumps(plan[0].to_dict()))["key"] is True
