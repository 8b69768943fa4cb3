"""The research functions' boundary: every bad argument is a short error of its own, quickly and in bounded memory.

``with_parameters`` with many bad addresses, the sampling settings (``draws``, ``seed``, ``mass``,
``progress``) of :mod:`kneebayes.research.intervals` and :mod:`kneebayes.research.sampling`,
``sensitivity_function``'s ``grid`` and ``points``, and ``diagnose_frame``'s input and flags. Time
and memory limits are generous: they catch an input that makes the library allocate terabytes or
search for minutes, not ordinary slowness.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bounds import bounded
import kneebayes
from kneebayes import EvidenceError, ParameterError, SettingError
from kneebayes.research import intervals
from kneebayes.research.intervals import posterior_intervals, posterior_samples, top_question_stability
from kneebayes.research.sampling import sample_cases, sample_states
from kneebayes.research.sensitivity import MAX_POINTS, sensitivity, sensitivity_function

SHORT = 600   # characters: a message names the thing and what is valid, never a copy of the input




def refused(kind: type[BaseException], call: Callable[[], object], *words: str, limit: int = SHORT) -> str:
    """``call()`` raises exactly ``kind`` (not a bare builtin) with a short message naming ``words``."""
    with pytest.raises(kind) as info:
        call()
    assert isinstance(info.value, kneebayes.KneeBayesError), type(info.value)   # a wrong type's too
    message = str(info.value)
    assert len(message) < limit, f"{len(message)} characters: {message[:200]}..."
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


@pytest.fixture(scope="module")
def warm(knee_model: kneebayes.Model) -> kneebayes.Model:
    """The knee model with its interval sampler built (the Beta fits take a second, once)."""
    posterior_intervals(knee_model, draws=10, progress=False)
    return knee_model


# -- 1. with_parameters: many unknown addresses -------------------------------------------------

@pytest.mark.parametrize("count", [100, 2000])
def test_many_unknown_addresses_give_a_short_message_quickly(knee_model: kneebayes.Model, count: int) -> None:
    changes = {f"nope_{i}.prior": 0.5 for i in range(count)}
    with bounded(megabytes=50.0):
        message = refused(ParameterError, lambda: knee_model.with_parameters(changes),
                          f"{count} problems", "unknown parameter address 'nope_0.prior'",
                          f"and {count - 10} more", limit=1500)
    assert message.count("\n  - ") == 10            # at most ten listed
    assert message.count("did you mean") <= 3       # and only the first few searched


def test_many_problems_keep_the_first_ones_with_suggestions(knee_model: kneebayes.Model) -> None:
    changes: dict[Any, Any] = {"bakers_cyst.lek": 0.1, **{f"zz{i}": 0.1 for i in range(500)}, "bakers_cyst.leak": 7}
    message = refused(ParameterError, lambda: knee_model.with_parameters(changes),
                      "502 problems", "did you mean 'bakers_cyst.leak'", "and 492 more", limit=1500)
    assert message.startswith("502 problems with the changes:\n")


def test_a_non_string_address_is_named(knee_model: kneebayes.Model) -> None:
    refused(ParameterError, lambda: knee_model.with_parameters({("a", "b"): 0.1}), "address", "string", "tuple")


# -- 2. draws, seed, mass, progress -------------------------------------------------------------

DRAWING = [
    pytest.param(lambda m, **kw: posterior_intervals(m, **kw), id="posterior_intervals"),
    pytest.param(lambda m, **kw: m.posterior_intervals(**kw), id="Model.posterior_intervals"),
    pytest.param(lambda m, **kw: posterior_samples(m, **kw), id="posterior_samples"),
    pytest.param(lambda m, **kw: top_question_stability(m, **kw), id="top_question_stability"),
]


@pytest.mark.parametrize("run", DRAWING)
@pytest.mark.parametrize("draws", [10**12, 10**30, pytest.param(10**5000, id="10**5000"), 0, -3])
def test_draws_out_of_range_is_a_setting_error(warm: kneebayes.Model, run: Any, draws: int) -> None:
    with bounded(megabytes=50.0):
        message = refused(SettingError, lambda: run(warm, draws=draws, progress=False), "draws must be from 1 to")
    assert "MAX_" in message


@pytest.mark.parametrize("run", DRAWING)
@pytest.mark.parametrize("draws", [2.0, 1e4, True, "100", None, math.inf])
def test_draws_of_a_wrong_type_is_a_type_error(warm: kneebayes.Model, run: Any, draws: object) -> None:
    refused(TypeError, lambda: run(warm, draws=draws, progress=False), "draws", "int", type(draws).__name__)


def test_draws_that_would_not_fit_in_memory_say_how_much(warm: kneebayes.Model) -> None:
    draws = intervals.MAX_DRAWS   # allowed by the count, about 14 GB for the knee model
    with bounded(megabytes=50.0):
        refused(SettingError, lambda: warm.posterior_intervals(draws=draws, progress=False),
                "draws=10,000,000", "GiB of memory", "DRAW_MEMORY", "at most")


def test_the_memory_limit_is_read_at_each_call(warm: kneebayes.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intervals, "DRAW_MEMORY", 1 << 20)
    refused(SettingError, lambda: posterior_samples(warm, draws=5_000, progress=False), "MiB of memory", "at most")
    assert len(posterior_samples(warm, draws=100, progress=False)) == 100


@pytest.mark.parametrize("run", DRAWING)
@pytest.mark.parametrize("seed", [-1, 2**128, pytest.param(10**5000, id="10**5000")])
def test_a_negative_or_huge_seed_is_a_setting_error(warm: kneebayes.Model, run: Any, seed: int) -> None:
    with bounded(megabytes=50.0):
        refused(SettingError, lambda: run(warm, draws=5, seed=seed, progress=False), "seed", "2**128")


@pytest.mark.parametrize("run", DRAWING)
@pytest.mark.parametrize("seed", [1.5, "1", True, [1, 2], np.random.default_rng(1)])
def test_a_seed_of_a_wrong_type_is_a_type_error(warm: kneebayes.Model, run: Any, seed: object) -> None:
    refused(TypeError, lambda: run(warm, draws=5, seed=seed, progress=False), "seed", type(seed).__name__)


def test_valid_seeds_still_work(warm: kneebayes.Model) -> None:
    for seed in (None, 0, np.int64(3), 2**128 - 1):
        assert len(posterior_samples(warm, draws=5, seed=seed, progress=False)) == 5


@pytest.mark.parametrize("mass", ["0.5", True, None, [0.9], 1 + 0j])
def test_a_mass_of_a_wrong_type_is_a_type_error(warm: kneebayes.Model, mass: object) -> None:
    refused(TypeError, lambda: warm.posterior_intervals(draws=5, mass=mass, progress=False), "mass", "(0, 1)")


@pytest.mark.parametrize("mass", [0, 1, 1.5, -0.1, math.nan, math.inf, pytest.param(10**400, id="10**400")])
def test_a_mass_outside_0_1_is_a_setting_error(warm: kneebayes.Model, mass: float) -> None:
    refused(SettingError, lambda: warm.posterior_intervals(draws=5, mass=mass, progress=False), "mass", "between 0 and 1")


def test_numpy_numbers_are_accepted(warm: kneebayes.Model) -> None:
    table = warm.posterior_intervals(draws=np.int32(20), seed=np.uint8(2), mass=np.float32(0.8), progress=False)
    assert table.attrs["draws"] == 20 and table.attrs["mass"] == pytest.approx(0.8)


@pytest.mark.parametrize("run", DRAWING)
def test_progress_must_be_none_or_a_bool(warm: kneebayes.Model, run: Any) -> None:
    refused(TypeError, lambda: run(warm, draws=5, progress="yes"), "progress", "True or False")


def test_top_question_stability_has_its_own_smaller_cap(warm: kneebayes.Model) -> None:
    draws = intervals.MAX_STABILITY_DRAWS + 1
    refused(SettingError, lambda: top_question_stability(warm, draws=draws), "MAX_STABILITY_DRAWS")


@pytest.mark.parametrize("sample", [sample_states, sample_cases])
def test_sampling_cases_checks_n_and_seed(knee_model: kneebayes.Model, sample: Any) -> None:
    with bounded(megabytes=50.0):
        refused(SettingError, lambda: sample(knee_model, 10**12), "n must be from 0 to", "MAX_CASES")
        refused(SettingError, lambda: sample(knee_model, 50_000_000), "n=50,000,000", "GiB of memory", "at most")
    refused(SettingError, lambda: sample(knee_model, -1), "n must be from 0 to")
    refused(TypeError, lambda: sample(knee_model, 2.0), "n must be", "float")
    refused(SettingError, lambda: sample(knee_model, 3, seed=-1), "seed", "Generator")
    refused(TypeError, lambda: sample(knee_model, 3, seed="x"), "seed", "str")
    assert len(sample(knee_model, 3, seed=np.random.default_rng(1))) == 3
    assert len(sample(knee_model, 0)) == 0


# -- 3. sensitivity_function: grid and points ---------------------------------------------------

ARGS = ({"locking_or_catching": "yes"}, "meniscal_injury", "bakers_cyst.leak")


@pytest.mark.parametrize("grid", [[], (), np.zeros(0)])
def test_an_empty_grid_is_a_setting_error(knee_model: kneebayes.Model, grid: Any) -> None:
    refused(SettingError, lambda: sensitivity_function(knee_model, *ARGS, grid=grid), "grid", "empty", "[0, 1]")


@pytest.mark.parametrize("grid", [["a"], [0.2, None], [[0.1]], "0.5", 0.5, {0.1, 0.2}, np.array([True]), [True]])
def test_a_grid_of_the_wrong_type_is_a_type_error(knee_model: kneebayes.Model, grid: Any) -> None:
    refused(TypeError, lambda: sensitivity_function(knee_model, *ARGS, grid=grid), "grid", "probabilities")


@pytest.mark.parametrize("grid", [[1.5], [0.1, -0.2], [math.nan], [math.inf], pytest.param([10**400], id="10**400"), np.array([2.0])])
def test_a_grid_value_outside_0_1_is_a_setting_error(knee_model: kneebayes.Model, grid: Any) -> None:
    refused(SettingError, lambda: sensitivity_function(knee_model, *ARGS, grid=grid), "grid[", "[0, 1]")


def test_a_huge_grid_is_refused_before_any_work(knee_model: kneebayes.Model) -> None:
    big = np.full(10**6, 0.5)
    with bounded(megabytes=20.0):
        refused(SettingError, lambda: sensitivity_function(knee_model, *ARGS, grid=big), "grid", f"{MAX_POINTS:,}")
        refused(SettingError, lambda: sensitivity_function(knee_model, *ARGS, grid=[0.5] * (MAX_POINTS + 1)), "grid")


@pytest.mark.parametrize("points", ["x", math.nan, math.inf, 2.7, 3.0, True, None])
def test_points_of_a_wrong_type_is_a_type_error(knee_model: kneebayes.Model, points: object) -> None:
    refused(TypeError, lambda: sensitivity_function(knee_model, *ARGS, points=points), "points", "int")


@pytest.mark.parametrize("points", [0, -1, MAX_POINTS + 1, 10**30])
def test_points_out_of_range_is_a_setting_error(knee_model: kneebayes.Model, points: int) -> None:
    with bounded(megabytes=20.0):
        refused(SettingError, lambda: sensitivity_function(knee_model, *ARGS, points=points), "points must be from 1 to")


def test_valid_grids_and_points_still_work(knee_model: kneebayes.Model) -> None:
    assert len(sensitivity_function(knee_model, *ARGS, points=np.int64(3))) == 3
    assert len(sensitivity_function(knee_model, *ARGS, grid=pd.Series([0.1, 0.2]))) == 2
    assert len(sensitivity_function(knee_model, *ARGS, grid=(0, 1))) == 2
    assert len(sensitivity_function(knee_model, *ARGS, grid=np.array([[0.1, 0.2]]))) == 2


def test_a_non_string_address_is_a_type_error(knee_model: kneebayes.Model) -> None:
    refused(TypeError, lambda: sensitivity_function(knee_model, None, "meniscal_injury", ["bakers_cyst.leak"]),
            "address", "list")


def test_sensitivity_refuses_a_bad_cause_or_state_shortly(knee_model: kneebayes.Model) -> None:
    refused(kneebayes.UnknownNodeError, lambda: sensitivity(knee_model, None, "x" * 10**6), "unknown cause")
    refused(kneebayes.InvalidStateError, lambda: sensitivity(knee_model, None, "meniscal_injury", state=["x"]),
            "meniscal_injury", "'yes', 'no'")


# -- 4. diagnose_frame: the frame and the flags -------------------------------------------------

@pytest.mark.parametrize("frame", ["abc", 5, 3.5, None, {"limping": "yes"}, pd.Series(["yes"]), np.zeros((2, 2)),
                                   ["yes", "no"], [{"limping": "yes"}, 7], {"limping": np.zeros((2, 2))}])
def test_a_frame_that_is_no_table_of_cases_is_a_type_error(knee_model: kneebayes.Model, frame: Any) -> None:
    refused(TypeError, lambda: knee_model.diagnose_frame(frame), "pandas DataFrame")


def test_a_dict_of_unequal_columns_is_an_evidence_error(knee_model: kneebayes.Model) -> None:
    refused(EvidenceError, lambda: knee_model.diagnose_frame({"limping": ["yes", "no"], "knee_trauma": ["no"]}),
            "equally long", "'limping'", "'knee_trauma'")


def test_lists_of_dicts_and_dicts_of_columns_still_work(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"limping": ["yes", None]})
    expected = knee_model.diagnose_frame(frame)
    for other in ([{"limping": "yes"}, {}], {"limping": ["yes", None]}, {"limping": ("yes", None)}):
        pd.testing.assert_frame_equal(knee_model.diagnose_frame(other), expected)


@pytest.mark.parametrize("flag", ["triage", "next_question", "explain"])
@pytest.mark.parametrize("value", ["no", None, ..., 1, 0.0])
def test_flags_must_be_bools(knee_model: kneebayes.Model, flag: str, value: object) -> None:
    frame = pd.DataFrame({"limping": ["yes"]})
    refused(TypeError, lambda: knee_model.diagnose_frame(frame, **{flag: value}), flag, "True or False")


def test_numpy_bool_flags_are_accepted(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose_frame(pd.DataFrame({"limping": ["yes"]}), triage=np.bool_(True), explain=np.bool_(False))
    assert "triage" in out.columns and "explaining_cause" not in out.columns
