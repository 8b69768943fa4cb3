"""The argument checks the research calls share: wrong types are TypeErrors, values out of range SettingErrors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kneebayes.errors import SettingError, WrongTypeError
from kneebayes.research.checks import SEED_BITS, check_count, check_mass, check_memory, check_progress, check_seed, show


def test_show_describes_a_huge_int_by_its_size() -> None:
    assert show(10**5000) == "an integer of about 5,001 digits"
    assert show(-(10**40)) == "-an integer of about 41 digits"


def test_show_groups_the_digits_of_a_large_int() -> None:
    assert (show(12), show(123_456)) == ("12", "123,456")


def test_a_count_in_range_comes_back_as_an_int() -> None:
    assert check_count(np.int32(7), "draws", 10) == 7 and type(check_count(np.int32(7), "draws", 10)) is int


@pytest.mark.parametrize("value", [2.0, True, "3", None])
def test_a_count_that_is_no_int_is_a_type_error(value: object) -> None:
    with pytest.raises(WrongTypeError, match=f"draws must be a whole number \\(an int\\) from 1 to 10, got {type(value).__name__}"):
        check_count(value, "draws", 10)


def test_a_count_out_of_range_names_its_limit() -> None:
    with pytest.raises(SettingError, match=r"points must be from 1 to 10 \(MAX_POINTS\), got 0"):
        check_count(0, "points", 10, limit_name="MAX_POINTS")


def test_a_count_may_start_at_zero() -> None:
    assert check_count(0, "n", 5, minimum=0) == 0


def test_seeds_from_zero_to_the_largest_are_accepted() -> None:
    assert check_seed(0) == 0 and check_seed(2**SEED_BITS - 1) == 2**SEED_BITS - 1 and check_seed(None) is None


def test_a_seed_past_the_largest_is_a_setting_error() -> None:
    with pytest.raises(SettingError, match=r"seed must be None or an int from 0 to 2\*\*128 - 1, got an integer of about"):
        check_seed(10**50)


def test_a_float_seed_is_a_type_error() -> None:
    with pytest.raises(WrongTypeError, match="seed must be None or a non-negative int, got float 1.5"):
        check_seed(1.5)


def test_a_generator_is_a_seed_only_when_allowed() -> None:
    rng = np.random.default_rng(0)
    assert check_seed(rng, generator=True) is rng
    with pytest.raises(WrongTypeError, match="seed must be None or a non-negative int, got Generator"):
        check_seed(rng)


@pytest.mark.parametrize("mass", [0.0, 1.0, math.nan, math.inf])
def test_a_mass_outside_0_1_is_a_setting_error(mass: float) -> None:
    with pytest.raises(SettingError, match="mass must lie strictly between 0 and 1"):
        check_mass(mass)


def test_a_bool_mass_is_a_type_error() -> None:
    with pytest.raises(WrongTypeError, match=r"mass must be a number in \(0, 1\), such as 0.9, got bool"):
        check_mass(True)


def test_progress_is_none_or_a_bool() -> None:
    assert (check_progress(None), check_progress(np.bool_(True))) == (None, True)
    with pytest.raises(WrongTypeError, match="progress must be None \\(automatic\\), True or False, got str 'yes'"):
        check_progress("yes")


def test_memory_within_the_limit_passes() -> None:
    check_memory(128, 8, limit=1024, limit_name="LIMIT")


def test_memory_past_the_limit_says_how_much_and_how_many_fit() -> None:
    with pytest.raises(SettingError, match=r"n=1,000,000 would need about 7.6 MiB of memory for this model \(about 8 bytes "
                                           r"a case\); the limit is 1.0 MiB \(LIMIT\), so use at most 131,072 cases"):
        check_memory(1_000_000, 8, limit=1 << 20, limit_name="LIMIT", name="n", what="case")
