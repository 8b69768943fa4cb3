"""The rules a model's numbers obey (kneebayes.modelfile.checks), shared by the loader and with_parameters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import kneebayes
from kneebayes.modelfile.checks import (
    RANGE_TOLERANCE,
    NotAProbability,
    contains,
    is_positive,
    is_probability,
    probability,
    range_problem,
    sums_to_one,
    two_numbers,
)


def test_a_number_in_the_unit_interval_is_a_probability() -> None:
    assert probability(0.25, {}) == (0.25, None)
    assert probability(1, {}) == (1.0, None)


def test_a_word_of_the_scale_is_a_probability_that_keeps_the_word() -> None:
    assert probability("likely", {"likely": 0.7}) == (0.7, "likely")


@pytest.mark.parametrize(("raw", "why"), [
    ("often", NotAProbability.UNKNOWN_TERM),
    (True, NotAProbability.NOT_A_NUMBER),
    (None, NotAProbability.NOT_A_NUMBER),
    (float("nan"), NotAProbability.NOT_A_NUMBER),
    (-0.1, NotAProbability.OUTSIDE),
    (1.5, NotAProbability.OUTSIDE),
])
def test_what_is_not_a_probability_says_why(raw: object, why: NotAProbability) -> None:
    assert probability(raw, {"likely": 0.7}) is why


def test_is_probability_refuses_a_bool_and_numbers_outside_the_unit_interval() -> None:
    assert [is_probability(x) for x in (0, 0.5, 1, True, 1.01, "0.5")] == [True, True, True, False, False, False]


def test_is_positive_refuses_zero_infinity_and_a_bool() -> None:
    assert [is_positive(x) for x in (0.1, 3, 0, -1, float("inf"), True)] == [True, True, False, False, False, False]


def test_two_numbers_reads_a_pair_in_either_order_and_nothing_else() -> None:
    assert two_numbers([0.1, 0.3]) == (0.1, 0.3)
    assert two_numbers((0.3, 0.1)) == (0.3, 0.1)
    assert [two_numbers(x) for x in ([0.1], [0.1, 0.2, 0.3], [0.1, "x"], "0.1,0.3", None)] == [None] * 5


@pytest.mark.parametrize(("value", "low", "high", "message"), [
    (0.2, 0.3, 0.1, "range [0.3, 0.1] has low above high"),
    (None, 0.3, 0.1, "range [0.3, 0.1] has low above high"),
    (0.2, 0.0, 0.5, "range [0, 0.5] must lie inside (0, 1)"),
    (0.2, 0.3, 0.5, "range [0.3, 0.5] does not contain the value 0.2"),
    (1.0, 0.9, 1.0, "a value of 1 is certain, so its range must be [1, 1], got [0.9, 1]"),
    (0.0, 0.0, 0.1, "a value of 0 is impossible, so its range must be [0, 0], got [0, 0.1]"),
])
def test_a_bad_range_is_named_with_what_would_be_valid(value: float | None, low: float, high: float, message: str) -> None:
    assert range_problem(value, low, high) == message


@pytest.mark.parametrize(("value", "low", "high"), [(0.2, 0.1, 0.3), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (None, 0.0, 1.0)])
def test_a_sound_range_has_no_problem(value: float | None, low: float, high: float) -> None:
    assert range_problem(value, low, high) is None


def test_a_range_contains_its_bounds_up_to_rounding() -> None:
    assert contains((0.1, 0.3), 0.3 + RANGE_TOLERANCE / 2)
    assert not contains((0.1, 0.3), 0.3 + 10 * RANGE_TOLERANCE)
    assert contains(None, 0.99)


def test_a_column_sums_to_one_up_to_the_format_tolerance() -> None:
    assert sums_to_one(0.1 + 0.2 + 0.7)
    assert not sums_to_one(0.999)


def test_the_loader_and_with_parameters_word_a_bad_range_alike(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent("""\
        format: kneebayes-model/1
        name: m
        version: "1"
        title: M
        nodes:
          - id: strain
            label: Strain
            kind: cause
            question: "Strained?"
            prior: {value: 0.2, range: [0.3, 0.5], source: s, rationale: r}
        """), encoding="utf-8")
    (file_problem,) = kneebayes.check_model_file(path)
    model = kneebayes.load_model()
    with pytest.raises(kneebayes.ParameterError) as info:
        model.with_parameters({"poor_warmup.prior": (0.2, (0.3, 0.5))})
    assert file_problem.message == "range [0.3, 0.5] does not contain the value 0.2"
    assert str(info.value) == "poor_warmup.prior: range [0.3, 0.5] does not contain the value 0.2"
