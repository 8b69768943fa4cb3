"""Triage (kneebayes.triage): red flags and escalations from the model file.

Red flags are rules: each one, on its own, must send the runner to a doctor.
The tests run over the model's own list, so a flag added to the file is
tested without touching this file; a second list, written out here, pins
the article's warning signs so that removing one from the file fails.
"""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
from kneebayes import Likelihood
from kneebayes.modelfile.load import default_model_path, load_spec
from kneebayes.triage import (
    INCOMPLETE,
    LEVELS,
    NO_TRIAGE_RULES,
    NO_WARNING_SIGN,
    NOT_ASSESSED,
    SCREEN_INCOMPLETE,
    SEE_DOCTOR,
    SELF_CARE,
    CodedAnswers,
    Reason,
    Triage,
    level_of,
    triage,
    unanswered_red_flags,
    warning_signs,
)

SPEC = load_spec(default_model_path())
RED_FLAGS = SPEC.red_flags
ESCALATIONS = SPEC.escalations
# The article's section headings, kept beside the tests: model files cite them as `source`.
HEADINGS = Path(__file__).parent / "data" / "article_headings.txt"

# The article's "signs warranting medical attention", the two weeks before
# them, and its FAQ's reasons to see a doctor, as vocabulary nodes.
ARTICLE_WARNING_SIGNS = (
    "swelling_behind_knee",      # persistent swelling (and the FAQ's swelling)
    "pain_at_night_or_rest",     # pain worsening at night or at rest
    "locking_or_catching",       # knee locking/catching sensations
    "tingling_or_numbness",      # numbness/tingling radiating down the leg
    "limping",                   # limping altering gait
    "knee_trauma",               # a history of trauma preceding symptoms
    "symptoms_over_two_weeks",   # beyond two weeks despite conservative care
    "sharp_pain",                # FAQ: sharp pain
    "instability",               # FAQ: instability
)


def all_clear(**answers: str) -> dict[str, str]:
    """Every red-flag question answered with its all-clear state, then ``answers`` on top."""
    clear = {f.node: next(s for s in SPEC.node(f.node).states if s != f.state) for f in RED_FLAGS}
    return {**clear, **answers}


def no_cause(value: float = 0.0) -> dict[str, float]:
    return {n.id: value for n in SPEC.nodes if n.kind == "cause"}


def headings() -> set[str]:
    """The article's section headings, one a line after the file's '#' header."""
    lines = (line.strip() for line in HEADINGS.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


# -- red flags ----------------------------------------------------------------------------

@pytest.mark.parametrize("flag", RED_FLAGS, ids=[f.id for f in RED_FLAGS])
def test_each_red_flag_alone_sends_the_runner_to_a_doctor_naming_its_trigger(flag) -> None:
    t = triage(SPEC, {flag.node: flag.state}, None)
    assert t.level == "see_doctor"
    assert [(r.trigger, r.kind, r.text) for r in t.reasons] == [(flag.node, "red_flag", flag.text)]


@pytest.mark.parametrize("flag", RED_FLAGS, ids=[f.id for f in RED_FLAGS])
def test_each_red_flag_wins_over_every_other_reassuring_answer_and_posterior(knee_model: kneebayes.Model, flag) -> None:
    model = knee_model
    evidence = {n.id: "no" for n in model.nodes if n.askable}
    evidence[flag.node] = flag.state
    t = triage(SPEC, evidence, model.diagnose(evidence).posterior)
    assert t.level == SEE_DOCTOR
    assert flag.node in [r.trigger for r in t.reasons if r.kind == "red_flag"]


@pytest.mark.parametrize("node", ARTICLE_WARNING_SIGNS)
def test_every_warning_sign_of_the_article_is_a_red_flag_on_yes(node: str) -> None:
    assert (node, "yes") in {(f.node, f.state) for f in RED_FLAGS}


@pytest.mark.parametrize("flag", RED_FLAGS, ids=[f.id for f in RED_FLAGS])
def test_answering_no_to_a_red_flag_does_not_trigger_it(flag) -> None:
    other = next(s for s in SPEC.node(flag.node).states if s != flag.state)
    t = triage(SPEC, {flag.node: other}, None)
    assert t.level == "incomplete"          # the other warning-sign questions are still open
    assert flag.node not in t.unanswered_red_flags
    assert triage(SPEC, all_clear(**{flag.node: other}), None).level == "self_care"


def test_true_counts_as_yes_for_a_red_flag() -> None:
    assert triage(SPEC, {"locking_or_catching": True}, None).level == "see_doctor"
    assert triage(SPEC, all_clear(locking_or_catching=False), None).level == "self_care"


def test_every_red_flag_and_escalation_source_is_an_article_heading() -> None:
    known = headings()
    for item in (*RED_FLAGS, *ESCALATIONS):
        assert item.source in known, (item.id, item.source)


# -- self-care, incomplete, not assessed ---------------------------------------------------------

def test_no_evidence_is_an_incomplete_screen_listing_every_unanswered_red_flag() -> None:
    t = triage(SPEC, {}, None)
    assert t.level == INCOMPLETE and not t.screen_complete
    assert t.unanswered_red_flags == tuple(dict.fromkeys(f.node for f in RED_FLAGS))
    (reason,) = t.reasons
    assert (reason.kind, reason.trigger) == ("incomplete", SCREEN_INCOMPLETE)
    assert "safety screen is not complete" in reason.text
    for node in t.unanswered_red_flags:
        assert SPEC.node(node).label in reason.text


def test_one_open_warning_sign_question_keeps_the_screen_incomplete() -> None:
    last = RED_FLAGS[-1].node
    evidence = {k: v for k, v in all_clear().items() if k != last}
    t = triage(SPEC, evidence, no_cause())
    assert (t.level, t.unanswered_red_flags) == (INCOMPLETE, (last,))
    assert "this warning-sign question is still unanswered" in t.reasons[0].text


def test_the_knee_models_own_posterior_with_nothing_answered_escalates_nothing(knee_model: kneebayes.Model) -> None:
    model = knee_model
    assert triage(SPEC, {}, model.diagnose({}).posterior).level == INCOMPLETE


def test_every_red_flag_answered_no_completes_the_screen_and_is_self_care() -> None:
    t = triage(SPEC, all_clear(), None)
    assert t.level == SELF_CARE and t.screen_complete and t.unanswered_red_flags == ()
    assert (t.reasons[0].kind, t.reasons[0].trigger) == ("self_care", NO_WARNING_SIGN)
    assert "unanswered" not in t.reasons[0].text


def test_self_care_never_comes_with_an_unanswered_warning_sign_question() -> None:
    for evidence in ({}, {RED_FLAGS[0].node: "no"}, all_clear()):
        t = triage(SPEC, evidence, no_cause())
        assert (t.level == SELF_CARE) == (not t.unanswered_red_flags)


def test_level_of_is_the_one_rule_for_every_combination() -> None:
    table = {(f, r, o): level_of(f, r, o) for f in (True, False) for r in (True, False) for o in (True, False)}
    assert {k for k, v in table.items() if v == SEE_DOCTOR} == {k for k in table if k[0]}
    assert table[(False, True, True)] == INCOMPLETE
    assert table[(False, True, False)] == SELF_CARE
    assert table[(False, False, True)] == table[(False, False, False)] == NOT_ASSESSED
    assert set(table.values()) == set(LEVELS)


def test_unanswered_red_flags_drops_the_answered_ones_in_file_order() -> None:
    first, second, *rest = RED_FLAGS
    assert unanswered_red_flags(SPEC, {first.node: "no"}) == tuple(dict.fromkeys(f.node for f in (second, *rest)))


# -- escalations ------------------------------------------------------------------------------

@pytest.mark.parametrize("esc", ESCALATIONS, ids=[e.id for e in ESCALATIONS])
@pytest.mark.parametrize("delta", [0.0, 0.01])
def test_escalation_fires_at_and_above_its_threshold(esc, delta: float) -> None:
    p = min(1.0, esc.threshold + delta)
    t = triage(SPEC, {}, {**no_cause(), esc.cause: p})
    assert t.level == "see_doctor"
    (reason,) = t.reasons
    assert (reason.trigger, reason.kind, reason.probability) == (esc.cause, "escalation", p)
    assert f"(estimated {p:.0%})" in reason.text


@pytest.mark.parametrize("esc", ESCALATIONS, ids=[e.id for e in ESCALATIONS])
def test_escalation_does_not_fire_below_its_threshold(esc) -> None:
    t = triage(SPEC, all_clear(), {**no_cause(), esc.cause: esc.threshold - 1e-9})
    assert t.level == "self_care"


def test_the_article_sends_meniscal_injury_and_bakers_cyst_to_imaging() -> None:
    assert {"meniscal_injury", "bakers_cyst"} <= {e.cause for e in ESCALATIONS}


def test_without_a_posterior_escalations_are_not_evaluated() -> None:
    assert triage(SPEC, all_clear(), None).level == "self_care"


# -- order and values -------------------------------------------------------------------------

def test_reasons_are_red_flags_in_file_order_then_escalations() -> None:
    flags = RED_FLAGS[:3]
    evidence = {f.node: f.state for f in reversed(flags)}
    t = triage(SPEC, evidence, no_cause(1.0))
    assert [r.trigger for r in t.reasons] == [f.node for f in flags] + [e.cause for e in ESCALATIONS]
    assert [r.kind for r in t.reasons] == ["red_flag"] * len(flags) + ["escalation"] * len(ESCALATIONS)


def test_triage_is_frozen_and_its_dict_is_json() -> None:
    t = triage(SPEC, {"limping": "yes"}, no_cause(1.0))
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'level'"):
        t.level = SELF_CARE  # type: ignore[misc]
    data = json.loads(json.dumps(t.to_dict()))
    assert (data["level"], data["title"]) == ("see_doctor", "See a doctor")
    assert data["reasons"][0] == {"trigger": "limping", "kind": "red_flag", "text": t.reasons[0].text,
                                  "source": t.reasons[0].source, "probability": None}


def test_str_leads_with_the_level_and_lists_every_reason() -> None:
    t = triage(SPEC, {"limping": "yes", "sharp_pain": "yes"}, None)
    text = str(t)
    assert text.startswith("See a doctor:")
    assert all(r.text in text for r in t.reasons)
    assert str(triage(SPEC, all_clear(), None)).startswith("Self-care:")
    assert str(triage(SPEC, {}, None)).startswith("Safety screen not complete:")


def test_a_model_without_triage_rules_is_not_assessed_never_self_care() -> None:
    t = triage(replace(SPEC, red_flags=(), escalations=()), {}, {c: 0.9 for c in no_cause()})
    assert t == Triage(NOT_ASSESSED, (Reason(NO_TRIAGE_RULES, t.reasons[0].text, "", "not_assessed"),), ())
    assert "no triage rules" in t.reasons[0].text and t.title == "Not assessed"


def test_a_model_with_escalations_only_is_self_care_when_none_fires() -> None:
    spec = replace(SPEC, red_flags=())
    assert triage(spec, {}, no_cause()).level == SELF_CARE
    assert triage(spec, {}, no_cause(1.0)).level == SEE_DOCTOR


answers = st.dictionaries(st.sampled_from([n.id for n in SPEC.nodes if n.askable]), st.sampled_from(["yes", "no"]))


@given(answers, st.dictionaries(st.sampled_from([n.id for n in SPEC.nodes if n.kind == "cause"]), st.floats(0, 1)))
def test_see_doctor_exactly_when_a_red_flag_or_escalation_fires(evidence: dict[str, str], posterior: dict[str, float]) -> None:
    fired = any(evidence.get(f.node) == f.state for f in RED_FLAGS) or any(
        posterior.get(e.cause, 0.0) >= e.threshold for e in ESCALATIONS)
    assert (triage(SPEC, evidence, posterior).level == "see_doctor") == fired


# -- models whose targets are not all yes/no -------------------------------------------------------

MIXED = Path(__file__).parent / "models" / "mixed_targets.yaml"   # a yes/no cause beside a three-state one


def test_an_escalation_fires_in_a_model_that_mixes_yes_no_and_multi_state_causes() -> None:
    model = kneebayes.load_model(MIXED)
    assert any(set(model.node(c).states) != {"yes", "no"} for c in model.causes)
    dx = model.diagnose({"first_step_pain": "yes", "heel_numbness": "no"})
    (esc,) = model.spec.escalations
    assert dx.distributions[esc.cause]["yes"] >= esc.threshold
    assert (dx.triage.level, [r.trigger for r in dx.triage.reasons]) == ("see_doctor", [esc.cause])


def test_care_relevance_in_a_mixed_model_is_the_cause_probability() -> None:
    dx = kneebayes.load_model(MIXED).diagnose({"first_step_pain": "yes", "heel_numbness": "no"})
    served = [a for a in dx.care_plan if "plantar_fasciitis" in a.causes]
    assert served and all(a.relevance == dx.distributions["plantar_fasciitis"]["yes"] for a in served)


def test_the_batch_escalates_a_mixed_model_row_as_its_diagnosis_does() -> None:
    pd = pytest.importorskip("pandas")
    model = kneebayes.load_model(MIXED)
    rows = [{"first_step_pain": "yes", "heel_numbness": "no"}, {"first_step_pain": "no", "heel_numbness": "no"}, {}]
    out = model.diagnose_frame(pd.DataFrame(rows), triage=True)
    for i, row in enumerate(rows):
        t = model.diagnose({k: v for k, v in row.items()}).triage
        assert (out.loc[i, "triage"], out.loc[i, "reasons"]) == (t.level, tuple(r.trigger for r in t.reasons))


def test_the_screen_sentences_count_their_questions_in_words() -> None:
    one = triage(SPEC, {k: v for k, v in all_clear().items() if k != RED_FLAGS[0].node}, None).reasons[0].text
    many = triage(SPEC, {}, None).reasons[0].text
    assert "this warning-sign question is still unanswered" in one
    assert f"these {len(dict.fromkeys(f.node for f in RED_FLAGS))} warning-sign questions are still unanswered" in many
    single = triage(kneebayes.load_model(MIXED).spec, {"heel_numbness": "no"}, {"plantar_fasciitis": 0.0}).reasons[0]
    assert "(the one warning-sign question answered)" in single.text


def test_coded_answers_give_the_same_signs_as_the_answers_themselves() -> None:
    spec = kneebayes.load_model().spec
    values = np.empty(6, dtype=object)
    for j, v in enumerate(["yes", "no", Likelihood(yes=3, no=1), Likelihood(yes=1, no=3), Likelihood(yes=1, no=1), None]):
        values[j] = v
    codes = np.array([0, 1, 2, 3, 4, -1, 5, 0, 2])
    nodes = {f.node for f in spec.red_flags}
    coded = warning_signs(spec, {n: CodedAnswers(values, codes) for n in nodes}, len(codes))
    plain = warning_signs(spec, {n: values[codes] for n in nodes}, len(codes))
    assert coded.rules == plain.rules
    np.testing.assert_array_equal(coded.fired, plain.fired)
    np.testing.assert_array_equal(coded.screen_open, plain.screen_open)
    assert coded.levels(spec).tolist() == ["see_doctor", "self_care", "see_doctor", "incomplete", "incomplete",
                                           "incomplete", "incomplete", "see_doctor", "see_doctor"]
