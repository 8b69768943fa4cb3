"""One-way sensitivity and sensitivity functions: exact rows, order, barren numbers, errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import kneebayes
from kneebayes.errors import InvalidStateError, ParameterError, SettingError, UnknownNodeError
from kneebayes.research.parameters import with_parameters
from kneebayes.research.sensitivity import sensitivity, sensitivity_function
from ranged import small_spec

LOCKING = {"locking_or_catching": "yes", "swelling_behind_knee": "yes", "poor_warmup": "no"}


def _direct(model: kneebayes.Model, evidence: dict[str, str], cause: str, address: str, value: float) -> float:
    return model.with_parameters({address: value}).diagnose(evidence).posterior[cause]


@pytest.fixture(scope="module")
def table(knee_model: kneebayes.Model):  # type: ignore[no-untyped-def]
    return sensitivity(knee_model, LOCKING, "bakers_cyst")


def test_columns_and_attrs(knee_model: kneebayes.Model, table) -> None:  # type: ignore[no-untyped-def]
    assert list(table.columns) == ["address", "value", "low", "high", "posterior_at_low", "posterior_at_high", "swing"]
    assert len(table) == len(knee_model.parameters)          # every knee number has a range
    assert table.attrs["skipped"] == [] and table.attrs["unreachable"] == {}
    assert table.attrs["posterior"] == pytest.approx(knee_model.diagnose(LOCKING).posterior["bakers_cyst"], abs=1e-15)
    assert table.attrs["cause"] == "bakers_cyst" and table.attrs["state"] == "yes"
    assert np.allclose(table["swing"], table["posterior_at_high"] - table["posterior_at_low"], atol=0)


def test_sorted_by_absolute_swing(table) -> None:  # type: ignore[no-untyped-def]
    swings = table["swing"].abs().to_numpy()
    assert np.all(swings[:-1] >= swings[1:])
    assert table["address"].iloc[0] == "bakers_cyst.weight[meniscal_injury]"


@pytest.mark.parametrize("address", ["bakers_cyst.weight[meniscal_injury]", "bakers_cyst.leak", "knee_arthritis.prior",
                                     "locking_or_catching.leak", "swelling_behind_knee.weight[tendonitis]",
                                     "previous_injury.prior", "meniscal_injury.weight[worn_footwear]"])
def test_rows_equal_a_rebuilt_model(knee_model: kneebayes.Model, table, address: str) -> None:  # type: ignore[no-untyped-def]
    row = table.set_index("address").loc[address]
    assert row["posterior_at_low"] == pytest.approx(_direct(knee_model, LOCKING, "bakers_cyst", address, row["low"]), abs=1e-12)
    assert row["posterior_at_high"] == pytest.approx(_direct(knee_model, LOCKING, "bakers_cyst", address, row["high"]), abs=1e-12)


def test_every_row_exact_for_another_case(knee_model: kneebayes.Model) -> None:
    ev = {"tingling_or_numbness": "yes", "sharp_pain": "no", "limping": "yes"}
    frame = sensitivity(knee_model, ev, "nerve_irritation")
    spec = knee_model.spec
    for row in frame.itertuples():
        for value, got in ((row.low, row.posterior_at_low), (row.high, row.posterior_at_high)):
            expected = kneebayes.Model(with_parameters(spec, {row.address: value})).diagnose(ev).posterior["nerve_irritation"]
            assert got == pytest.approx(expected, abs=1e-12)


def test_barren_number_has_no_swing(table) -> None:  # type: ignore[no-untyped-def]
    # tingling_or_numbness is not observed: its weights cannot move any posterior
    row = table.set_index("address").loc["tingling_or_numbness.weight[bakers_cyst]"]
    assert row["swing"] == 0.0
    assert row["posterior_at_low"] == row["posterior_at_high"]
    assert row["posterior_at_low"] == pytest.approx(table.attrs["posterior"], abs=1e-12)


def test_sensitivity_function_monotone_and_exact(knee_model: kneebayes.Model) -> None:
    address = "locking_or_catching.weight[bakers_cyst]"
    curve = sensitivity_function(knee_model, LOCKING, "bakers_cyst", address)
    low, high = knee_model.parameters[address].range
    assert len(curve) == 21 and curve["value"].iloc[0] == low and curve["value"].iloc[-1] == pytest.approx(high)
    assert np.all(np.diff(curve["posterior"].to_numpy()) > 0)
    for value, got in zip(curve["value"].iloc[::5], curve["posterior"].iloc[::5]):
        assert got == pytest.approx(_direct(knee_model, LOCKING, "bakers_cyst", address, value), abs=1e-12)
    # the curve's ends are the table's row
    row = sensitivity(knee_model, LOCKING, "bakers_cyst").set_index("address").loc[address]
    assert curve["posterior"].iloc[0] == pytest.approx(row["posterior_at_low"], abs=1e-15)
    assert curve["posterior"].iloc[-1] == pytest.approx(row["posterior_at_high"], abs=1e-15)


def test_sensitivity_function_custom_grid_beyond_the_range(knee_model: kneebayes.Model) -> None:
    address = "bakers_cyst.leak"
    curve = sensitivity_function(knee_model, LOCKING, "bakers_cyst", address, grid=[0.0, 0.5, 1.0])
    assert curve["posterior"].iloc[-1] == pytest.approx(1.0)
    spec = with_parameters(knee_model.spec, {address: (0.5, (0.01, 0.6))})
    assert curve["posterior"].iloc[1] == pytest.approx(kneebayes.Model(spec).diagnose(LOCKING).posterior["bakers_cyst"], abs=1e-12)


def test_table_cells_and_multi_state_nodes() -> None:
    model = kneebayes.Model(small_spec(True))
    ev = {"f2": "severe"}
    frame = sensitivity(model, ev, "c1")
    for row in frame.itertuples():
        for value, got in ((row.low, row.posterior_at_low), (row.high, row.posterior_at_high)):
            if np.isnan(got):
                assert row.address in frame.attrs["unreachable"]
                continue
            expected = model.with_parameters({row.address: value}).diagnose(ev).posterior["c1"]
            assert got == pytest.approx(expected, abs=1e-12)
    # a non-cause node and a chosen state
    curve = sensitivity_function(model, {"f1": "yes"}, "load", "load.prior[high]", state="high", points=5)
    assert curve["posterior"].is_monotonic_increasing


def test_numbers_without_a_range_are_skipped() -> None:
    model = kneebayes.Model(small_spec(False))
    frame = sensitivity(model, {"f1": "yes"}, "c1")
    assert len(frame) == 0
    assert frame.attrs["skipped"] == list(model.parameters)
    with pytest.raises(ParameterError, match="f1.leak has no range; pass grid="):
        sensitivity_function(model, {"f1": "yes"}, "c1", "f1.leak")
    curve = sensitivity_function(model, {"f1": "yes"}, "c1", "f1.leak", grid=np.linspace(0.0, 0.5, 6))
    assert len(curve) == 6


def test_observed_cause_has_no_swing(knee_model: kneebayes.Model) -> None:
    frame = sensitivity(knee_model, {"bakers_cyst": "no", "limping": "yes"}, "bakers_cyst")
    assert (frame["swing"] == 0).all() and (frame["posterior_at_low"] == 0).all()


def test_an_unknown_cause_is_named_with_suggestions(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError, match="unknown cause 'bakers_cist'; did you mean 'bakers_cyst'") as info:
        sensitivity(knee_model, LOCKING, "bakers_cist")
    assert "bakers_cyst" in info.value.suggestions


def test_an_unknown_evidence_node_is_named(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError, match="unknown node 'lockng_or_catching'; did you mean 'locking_or_catching'"):
        sensitivity(knee_model, {"lockng_or_catching": "yes"}, "bakers_cyst")


def test_an_invalid_state_of_the_cause_is_named(knee_model: kneebayes.Model) -> None:
    with pytest.raises(InvalidStateError, match="invalid state 'maybe' for node 'bakers_cyst'"):
        sensitivity(knee_model, LOCKING, "bakers_cyst", state="maybe")


def test_a_cause_without_a_yes_state_asks_for_state_by_name() -> None:
    model = kneebayes.Model(small_spec())
    with pytest.raises(SettingError, match="cause 'load' has no 'yes' state: pass state=, one of 'low', 'mid', 'high'"):
        sensitivity(model, {}, "load")
    assert sensitivity(model, {}, "load", state="high").attrs["state"] == "high"


def test_an_unknown_address_suggests_the_nearest(knee_model: kneebayes.Model) -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter address 'bakers_cyst\.leek'.*'bakers_cyst\.leak'"):
        sensitivity_function(knee_model, LOCKING, "bakers_cyst", "bakers_cyst.leek")


def test_sensitivity_needs_a_cause(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"sensitivity\(\) needs cause="):
        sensitivity(knee_model, LOCKING)


def test_model_is_untouched(knee_model: kneebayes.Model) -> None:
    before = knee_model.content_hash
    sensitivity(knee_model, LOCKING, "meniscal_injury")
    assert knee_model.content_hash == before
    assert replace(knee_model.spec) == knee_model.spec


def test_the_sensitivity_table_shows_itself_as_html_and_draws_its_tornado() -> None:
    import pandas as pd
    from matplotlib.figure import Figure

    from kneebayes.display.html import sensitivity_html

    model = kneebayes.load_model()
    frame = kneebayes.sensitivity(model, {"limping": "yes"}, cause="meniscal_injury")
    assert isinstance(frame, pd.DataFrame)
    assert frame._repr_html_() == sensitivity_html(frame)
    assert frame.iloc[0]["address"] in frame._repr_html_()
    assert isinstance(frame.tornado(top=5), Figure)


def test_sensitivity_of_something_that_is_no_model_is_a_type_error_saying_what_it_takes() -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"the first argument must be a kneebayes Model .* not NoneType"):
        kneebayes.sensitivity(None, {}, "meniscal_injury")   # type: ignore[arg-type]
