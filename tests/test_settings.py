"""The one check of interview settings (kneebayes.settings)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kneebayes.errors import SettingError
from kneebayes.questions import Settings
from kneebayes.settings import check_setting, check_work_limit, setting_problem, with_overrides


@pytest.mark.parametrize(("name", "value"), [
    ("confidence", 1.0), ("confidence", 0.5), ("confidence", np.float32(0.9)), ("cost_weight", 0),
    ("cost_weight", np.int64(2)), ("min_gain", 0.0), ("screen_red_flags", False), ("screen_red_flags", np.bool_(True)),
])
def test_a_valid_setting_has_no_problem(name: str, value: object) -> None:
    assert setting_problem(name, value) is None


@pytest.mark.parametrize(("name", "value", "message"), [
    ("confidence", 0.0, "confidence must be a probability in (0, 1], got 0.0"),
    ("confidence", 1.5, "confidence must be a probability in (0, 1], got 1.5"),
    ("confidence", True, "confidence must be a probability in (0, 1], got True"),
    ("cost_weight", -0.01, "cost_weight must be a finite number >= 0, got -0.01"),
    ("min_gain", float("inf"), "min_gain must be a finite number >= 0 (bits), got inf"),
    ("screen_red_flags", "no", "screen_red_flags must be true or false, got 'no'"),
    ("screen_red_flags", None, "screen_red_flags must be true or false, got None"),
])
def test_an_invalid_setting_names_itself_the_rule_and_the_value(name: str, value: object, message: str) -> None:
    assert setting_problem(name, value) == message


def test_an_unknown_setting_lists_the_valid_ones() -> None:
    assert setting_problem("confidance", 0.9) == (
        "unknown setting 'confidance' (valid settings: confidence, cost_weight, min_gain, screen_red_flags)")


def test_a_huge_value_is_quoted_short() -> None:
    problem = setting_problem("cost_weight", "x" * 1_000_000)
    assert problem is not None and len(problem) < 200


def test_check_setting_raises_setting_error() -> None:
    with pytest.raises(SettingError, match=r"^confidence must be a probability in \(0, 1\], got 2$"):
        check_setting("confidence", 2)


def test_with_overrides_and_nothing_given_returns_the_base_itself() -> None:
    base = Settings(0.8, 0.02, 0.05, True)
    assert with_overrides(base) is base


def test_with_overrides_replaces_only_what_is_given_as_plain_floats() -> None:
    out = with_overrides(Settings(0.8, 0.02, 0.05, True), min_gain=np.float64(0.1), screen_red_flags=False)
    assert out == Settings(0.8, 0.02, 0.1, False) and type(out.min_gain) is float


def test_screen_red_flags_none_keeps_the_safety_screen_on() -> None:
    assert with_overrides(Settings(0.8, 0.02, 0.05, True), screen_red_flags=None).screen_red_flags is True


def test_an_infinite_work_limit_lifts_it_and_an_int_past_any_float_too() -> None:
    assert check_work_limit(math.inf) == check_work_limit(10**400) == math.inf
    assert check_work_limit(3 * 10**9) == 3e9
