"""display.knobs: the explorer's pure parts (slider spans, the changes a move makes, answers, the output)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
from kneebayes.display import knobs
from kneebayes.modelfile.schema import Parameter

MODEL = kneebayes.load_model()


@given(st.floats(0.001, 0.998), st.floats(0.0, 0.5))
def test_slider_span_holds_the_range_inside_zero_and_one(low: float, width: float) -> None:
    high = min(0.999, low + width)
    span = knobs.slider_bounds(Parameter((low + high) / 2, "s", "r", range=(low, high)))
    assert 0.0 <= span[0] <= low + 1e-12 and high - 1e-12 <= span[1] <= 1.0


def test_slider_span_of_a_certain_number_is_that_number() -> None:
    assert knobs.slider_bounds(Parameter(1.0, "s", "r", range=(1.0, 1.0))) == (1.0, 1.0)


def test_slider_span_without_a_range_is_zero_to_one() -> None:
    assert knobs.slider_bounds(Parameter(0.3, "s", "r")) == (0.0, 1.0)


@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=5).filter(lambda xs: sum(xs) > 0), st.floats(0.0, 1.0))
def test_column_move_keeps_the_column_summing_to_one(weights: list[float], value: float) -> None:
    column = [f"x.prior[s{i}]" for i in range(len(weights))]
    values = {a: w / math.fsum(weights) for a, w in zip(column, weights)}
    moved = knobs.column_move(values, column[0], value, column)
    if math.fsum(values[a] for a in column[1:]) > 0:
        assert math.fsum(moved.values()) == pytest.approx(1.0, abs=1e-12)
    assert moved[column[0]] == value and all(v >= 0 for v in moved.values())


def test_a_lone_number_moves_alone() -> None:
    assert knobs.column_move({"a.leak": 0.1}, "a.leak", 0.3, ["a.leak"]) == {"a.leak": 0.3}


def test_changes_leave_out_unchanged_numbers_and_stretch_ranges() -> None:
    changes = knobs.changes_from(MODEL.parameters, {"bakers_cyst.leak": 0.005, "tendonitis.leak": 0.06,
                                                    "poor_warmup.prior": 0.5})
    assert changes == {"bakers_cyst.leak": (0.005, (0.005, 0.25)), "poor_warmup.prior": 0.5}


def test_changes_to_zero_give_the_range_of_zero() -> None:
    assert knobs.changes_from(MODEL.parameters, {"bakers_cyst.leak": 0.0}) == {"bakers_cyst.leak": (0.0, (0.0, 0.0))}


def test_knee_causes_have_no_columns() -> None:
    columns = knobs.column_of(MODEL, MODEL.causes)
    assert all(len(members) == 1 for members in columns.values())


def test_unknown_is_not_evidence() -> None:
    assert knobs.evidence_of({"limping": knobs.UNKNOWN}) == {}


def test_answer_given_as_an_odd_likelihood_gets_its_own_option() -> None:
    soft = kneebayes.Likelihood(yes=3.0, no=1.0)
    assert knobs.answer_for(MODEL, "limping", soft) == (soft, ("given", soft))


def test_chosen_nodes_default_to_the_causes() -> None:
    assert knobs.chosen_nodes(MODEL, None) == MODEL.causes


def test_chosen_nodes_reject_a_non_string_id() -> None:
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown node 3 in nodes"):
        knobs.chosen_nodes(MODEL, [3])  # type: ignore[list-item]


def test_claims_html_escapes_and_counts() -> None:
    text = knobs.claims_html(MODEL.check_claims(), stale=True)
    assert "38 of 38 claims hold" in text and "checked before the last change" in text


def test_claims_html_before_any_check_says_so() -> None:
    assert "not checked yet" in knobs.claims_html(None)
