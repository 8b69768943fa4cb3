"""What your answers point to, in words: the phrases, the strength scale, the extremes and the rows shown."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from graded import write_graded

import kneebayes
from kneebayes.display.words import (
    NO_CAUSE,
    ODDS_NOTE,
    combinations,
    explaining,
    factor_words,
    percent,
)

# -- the phrase ------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1.5, 2.0, 28.4, 1e6])
def test_a_factor_of_at_least_one_and_a_half_multiplies_the_odds(factor: float) -> None:
    words = factor_words(factor)
    assert words.phrase.startswith("your answers multiply its odds by ")
    assert words.direction == "for"


@pytest.mark.parametrize("factor", [1 / 1.5, 0.5, 1 / 28.4])
def test_a_factor_of_at_most_one_over_one_and_a_half_divides_the_odds(factor: float) -> None:
    words = factor_words(factor)
    assert words.phrase.startswith("your answers divide its odds by ")
    assert words.direction == "against"


@pytest.mark.parametrize("factor", [1.0, 1.49, 1 / 1.49, 1.0000001])
def test_between_the_thresholds_the_answers_say_little(factor: float) -> None:
    words = factor_words(factor)
    assert words.phrase == "your answers say little about it"
    assert words.direction == "neither"
    assert str(words) == "your answers say little about it"   # no strength word beside "little"


@pytest.mark.parametrize(("factor", "times"), [
    (1.5, "1.5"), (2.0, "2"), (3.16, "3.2"), (9.94, "9.9"), (9.96, "10"), (28.4, "28"), (1234.4, "1,234"),
    (999_999.4, "999,999"), (999_999.6, "1 million"), (2.46e6, "2.5 million"), (3.4e10, "34 billion"),
    (5e12, "5 trillion"), (1e15, "more than a thousand trillion"),
])
def test_the_count_is_rounded_for_reading(factor: float, times: str) -> None:
    assert factor_words(factor).phrase == f"your answers multiply its odds by {times}"


def test_less_likely_counts_one_over_the_factor() -> None:
    assert factor_words(1 / 3.2).phrase == "your answers divide its odds by 3.2"
    assert factor_words(1 / 40_000).phrase == "your answers divide its odds by 40,000"


# -- the strength (Kass and Raftery, 1995) ------------------------------------------------------


@pytest.mark.parametrize(("factor", "strength"), [
    (1.0, "barely worth a mention"), (2.0, "barely worth a mention"), (3.1, "barely worth a mention"),
    (3.2, "substantial"), (9.9, "substantial"), (10.0, "strong"), (100.0, "strong"), (101.0, "decisive"),
    (1e50, "decisive"),
])
def test_the_strength_follows_kass_and_raftery(factor: float, strength: str) -> None:
    assert factor_words(factor).strength == strength


@pytest.mark.parametrize(("factor", "strength"), [(1 / 2.0, "barely worth a mention"), (1 / 5.0, "substantial"),
                                                  (1 / 40.0, "strong"), (1 / 500.0, "decisive")])
def test_the_strength_against_is_the_same_scale_on_one_over_the_factor(factor: float, strength: str) -> None:
    words = factor_words(factor)
    assert words.strength == strength
    assert words.evidence == (strength if strength == "barely worth a mention" else f"{strength} evidence against it")


def test_the_strength_agrees_with_the_count_shown() -> None:
    # 9.96 reads "10 times", and 10 is strong on the scale, so it is called strong
    assert factor_words(9.96).strength == "strong"
    assert factor_words(9.94).strength == "substantial"


# -- the extremes --------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1e100, math.inf])
def test_the_upper_clip_reads_certain_from_your_answers(factor: float) -> None:
    words = factor_words(factor)
    assert words.phrase == "certain from your answers"
    assert (words.strength, words.direction) == ("decisive", "for")


@pytest.mark.parametrize("factor", [1e-100, 0.0])
def test_the_lower_clip_reads_ruled_out_by_your_answers(factor: float) -> None:
    words = factor_words(factor)
    assert words.phrase == "ruled out by your answers"
    assert (words.strength, words.direction) == ("decisive", "against")


def test_just_inside_the_clip_still_counts_times() -> None:
    assert factor_words(1e99).phrase == "your answers multiply its odds by more than a thousand trillion"


def test_a_cause_answered_yes_is_certain_from_your_answers(knee_model: kneebayes.Model) -> None:
    first = explaining(knee_model.diagnose({"meniscal_injury": "yes"}))[0]
    assert first.cause == "meniscal_injury"
    assert first.words.phrase == "certain from your answers"
    assert percent(first.now) == "100%"


def test_a_cause_answered_no_is_ruled_out_by_your_answers(knee_model: kneebayes.Model) -> None:
    rows = {row.cause: row for row in explaining(knee_model.diagnose({"meniscal_injury": "no"}))}
    assert rows["meniscal_injury"].words.phrase == "ruled out by your answers"


@pytest.mark.parametrize("bad", [math.nan, -1.0, "3", None, True])
def test_a_factor_that_is_no_factor_raises_a_parameter_error_naming_it(bad: object) -> None:
    with pytest.raises(kneebayes.errors.ParameterError, match="a Bayes factor must be a number at or above 0"):
        factor_words(bad)  # type: ignore[arg-type]


# -- the note and percentages ----------------------------------------------------------------------


def test_the_note_reads_a_probability_as_odds_the_way_percent_and_the_phrase_do() -> None:
    # the note's worked example must be what the library's own arithmetic says
    assert f"{percent(0.1)} is odds of 1 to {round((1 - 0.1) / 0.1)}" in ODDS_NOTE


@pytest.mark.parametrize(("p", "text"), [
    (0.0, "0%"), (0.0004, "under 0.1%"), (0.0031, "0.3%"), (0.0094, "0.9%"), (0.0096, "1%"), (0.4321, "43%"),
    (0.9949, "99%"), (0.996, "99.6%"), (0.99996, "over 99.9%"), (1.0 - 1e-9, "over 99.9%"),
    (0.9999999999999998, "100%"), (1.0, "100%"), (1e-20, "under 0.1%"),
])
def test_a_percentage_is_whole_except_near_0_and_100(p: float, text: str) -> None:
    assert percent(p) == text


# -- the rows a surface shows ----------------------------------------------------------------------


def test_explaining_rows_follow_explaining_causes_with_probability_now_and_before(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"})
    rows = explaining(dx)
    assert [(r.cause, r.words.factor) for r in rows] == list(dx.explaining_causes)
    assert rows[0].name == knee_model.node("meniscal_injury").label
    assert [r.now for r in rows] == [dx.posterior[r.cause] for r in rows]
    assert [r.before for r in rows] == [dx.prior[r.cause] for r in rows]


def test_explaining_names_a_multi_state_target_by_its_state(tmp_path: Path) -> None:
    path = write_graded(tmp_path / "graded.yaml", title="Graded", damage=(0.9, 0.08, 0.02),
                        findings={"swelling": (0.02, 0.9, 0.95)}, kind=(0.5, 0.3, 0.2))
    dx = kneebayes.load_model(path).diagnose({"swelling": "yes"})
    first = explaining(dx)[0]
    assert (first.cause, first.state) == ("damage", dx.explaining_states["damage"])
    assert first.name == f"Damage = {first.state}"
    assert first.now == dx.distributions["damage"][first.state]
    assert first.before == dx.prior["damage"][first.state]  # type: ignore[index]


def test_an_all_normal_combination_is_none_of_the_causes(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({})
    found = combinations(dx, k=3)
    assert found is not None
    expected = [(c.present, c.probability) for c in dx.most_probable_combinations(3)]
    assert [p for _, p in found] == [p for _, p in expected]
    named = {name for name, _ in found}
    assert NO_CAUSE in named
    assert any(" + " in name for name in named)


def test_combinations_are_none_when_the_joint_is_not_enumerated(knee_model: kneebayes.Model) -> None:
    small = kneebayes.Model(knee_model.spec, joint_limit=8)
    assert combinations(small.diagnose({"tingling_or_numbness": "yes"})) is None
