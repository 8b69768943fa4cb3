"""The care plan (kneebayes.care): the article's advice, filtered by triage level and ordered by the posterior."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from kneebayes import check_model_file
from kneebayes.care import GENERAL_RELEVANCE, LEVEL_ITEMS, CareAdvice, care_plan
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
    with pytest.raises(ValueError, match="level must be one of see_doctor, self_care, incomplete, not_assessed, got 'urgent'"):
        care_plan(SPEC, posterior(), "urgent")


def test_advice_is_frozen_and_its_dict_is_json() -> None:
    (first, *_) = care_plan(SPEC, posterior(tendonitis=0.8), "self_care")
    assert isinstance(first, CareAdvice)
    with pytest.raises(FrozenInstanceError):
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
