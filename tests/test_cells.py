"""Reading a table's cells as state codes (src/kneebayes/cells.py): the codes, the first invalid cell, the distinct rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
from kneebayes.cells import INVALID, MISSING, column_codes, distinct_rows, invalid_cell

CELLS = ["yes", "no", None, "maybe"]


@pytest.fixture(scope="module")
def net() -> kneebayes.network.compiled.CompiledNetwork:
    return kneebayes.load_model().network


@given(values=st.lists(st.sampled_from(CELLS), max_size=12), order=st.permutations(["yes", "no", "maybe", "spare"]))
def test_a_categorical_column_codes_as_its_values_do_whatever_its_categories_order(
        net: kneebayes.network.compiled.CompiledNetwork, values: list[str | None], order: list[str]) -> None:
    i = net.index["limping"]
    expected, _ = column_codes(pd.Series(values, dtype=object), net, i)
    got, _ = column_codes(pd.Series(pd.Categorical(values, categories=order)), net, i)
    assert got.tolist() == expected.tolist()


def test_a_categorical_column_whose_categories_are_the_states_in_order_keeps_its_codes(
        net: kneebayes.network.compiled.CompiledNetwork) -> None:
    series = pd.Series(pd.Categorical(["no", None, "yes"], categories=["yes", "no"]))
    codes, soft = column_codes(series, net, net.index["limping"])
    assert codes.tolist() == [1, MISSING, 0] and soft == ()


def test_invalid_cell_names_the_first_invalid_row_and_counts_the_rest() -> None:
    frame = pd.DataFrame({"limping": ["yes", "maybe", "no", "perhaps"]}, index=[5, 6, 7, 8])
    err = invalid_cell(frame, 0, np.array([0, INVALID, 1, INVALID], dtype=np.int8), ("yes", "no"))
    assert err is not None
    assert str(err) == ("row 6, column 'limping': invalid state 'maybe' for node 'limping': valid states are 'yes', "
                        "'no' (or True/False) (2 rows of this column are invalid)")


def test_invalid_cell_is_none_where_every_cell_is_valid_or_missing() -> None:
    frame = pd.DataFrame({"limping": ["yes", None]})
    assert invalid_cell(frame, 0, np.array([0, MISSING], dtype=np.int8), ("yes", "no")) is None
    assert invalid_cell(frame.iloc[:0], 0, np.zeros(0, dtype=np.int8), ("yes", "no")) is None


@given(rows=st.lists(st.lists(st.integers(-1, 2), min_size=3, max_size=3), max_size=30),
       fortran=st.booleans())
def test_distinct_rows_are_each_row_once_in_order_of_first_occurrence(rows: list[list[int]], fortran: bool) -> None:
    codes = np.array(rows, dtype=np.int8, order="F" if fortran else "C").reshape(len(rows), 3)
    unique, inverse = distinct_rows(codes, [3, 3, 3])
    assert [tuple(r) for r in unique.tolist()] == list(dict.fromkeys(map(tuple, rows)))
    assert np.array_equal(unique[inverse], codes)


def test_distinct_rows_too_wide_for_one_key_are_still_each_row_once() -> None:
    codes = np.array([[0] * 70, [1] * 70, [0] * 70], dtype=np.int8)   # 3**70 keys pass 62 bits: a sort decides
    unique, inverse = distinct_rows(codes, [2] * 70)
    assert len(unique) == 2 and np.array_equal(unique[inverse], codes)


@given(values=st.lists(st.sampled_from(["yes", "no", None, "", "probably", "not_sure", "maybe", "1"]), max_size=12))
def test_a_column_of_arrow_strings_codes_as_the_same_values_in_an_object_column(
        net: kneebayes.network.compiled.CompiledNetwork, values: list[str | None]) -> None:
    graded = kneebayes.load_model().graded_answers
    i = net.index["limping"]
    expected = column_codes(pd.Series(values, dtype=object), net, i, graded)
    got = column_codes(pd.Series(values, dtype="string[pyarrow]"), net, i, graded)
    assert got[0].tolist() == expected[0].tolist() and got[1] == expected[1]
