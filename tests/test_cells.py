"""Reading a table's cells as state codes (src/kneebayes/cells.py): the codes, the first invalid cell, the distinct rows."""

from __future__ import annotations

from types import SimpleNamespace

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


@pytest.mark.parametrize("columns, width", [(12, 1), (30, 2), (70, 1)], ids=["counted", "hashed", "sorted"])
def test_distinct_rows_of_every_key_size_are_each_row_once_in_order_of_first_occurrence(columns: int, width: int) -> None:
    codes = np.random.default_rng(columns).integers(-1, width, size=(3000, columns)).astype(np.int8)
    codes[1500:] = codes[:1500][::-1]   # every row twice
    unique, inverse = distinct_rows(codes, [width] * columns)
    assert [tuple(r) for r in unique.tolist()] == list(dict.fromkeys(map(tuple, codes.tolist())))
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


@given(values=st.lists(st.sampled_from(["yes", "no", None, "", "probably", "yesterday", "no\x00", "nо", "Yes", "1"]),
                       max_size=40),
       cuts=st.lists(st.integers(0, 40), max_size=3), skip=st.integers(0, 3))
def test_a_chunked_sliced_column_of_arrow_strings_codes_as_its_object_column(
        net: kneebayes.network.compiled.CompiledNetwork, values: list[str | None], cuts: list[int], skip: int) -> None:
    import pyarrow as pa

    graded = kneebayes.load_model().graded_answers
    i = net.index["limping"]
    bounds = [0, *sorted(min(c, len(values)) for c in cuts), len(values)]
    pieces = [values[a:b] for a, b in zip(bounds, bounds[1:])]
    first = pa.array(["no"] * skip + pieces[0], type=pa.large_string()).slice(skip)   # starts inside its buffers
    chunks = [first] + [pa.array(p, type=pa.large_string()) for p in pieces[1:]]
    series = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=pa.large_string())))
    assert series.array.__arrow_array__().num_chunks == len(chunks)
    expected = column_codes(pd.Series(values, dtype=object), net, i, graded)
    got = column_codes(series, net, i, graded)
    assert got[0].tolist() == expected[0].tolist() and got[1] == expected[1]


def one_node(states: list[str]) -> SimpleNamespace:
    """What column_codes reads of a network, for one node with these states."""
    return SimpleNamespace(states=[tuple(states)], state_index=[{s: j for j, s in enumerate(states)}],
                           cards=[len(states)], names=["X"])


@given(states=st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=5, unique=True),
       cells=st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30), data=st.data())
def test_arrow_strings_of_any_states_code_as_the_same_values_in_an_object_column(
        states: list[str], cells: list[str | None], data: st.DataObject) -> None:
    import pyarrow as pa

    # states of up to 16 bytes (unicode): 8 bytes or fewer are read from the arrow buffers, longer by a hash lookup
    cells = cells + data.draw(st.lists(st.sampled_from(states), max_size=10))
    skip = data.draw(st.integers(0, len(cells)))
    chunk = pa.array(cells, type=pa.large_string()).slice(skip)   # starts inside its buffers
    arrow = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([chunk])))
    net = one_node(states)
    expected, _ = column_codes(pd.Series(cells[skip:], dtype=object), net, 0)
    got, _ = column_codes(arrow, net, 0)
    assert got.tolist() == expected.tolist()


def test_a_null_arrow_string_cell_is_missing_even_where_its_offsets_span_bytes(
        net: kneebayes.network.compiled.CompiledNetwork) -> None:
    import pyarrow as pa

    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    offsets = pa.py_buffer(np.array([0, 3, 6, 8], dtype=np.int64).tobytes())   # the null cell spans "yes"
    chunk = pa.Array.from_buffers(pa.large_string(), 3, [validity, offsets, pa.py_buffer(b"yesyesno")], null_count=1)
    series = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([chunk])))
    codes, _ = column_codes(series, net, net.index["limping"])
    assert codes.tolist() == [0, MISSING, 1]


MIXED = ["yes", "no", None, float("nan"), "", True, False, 1, 1.0, 0, "1", "probably", "maybe", [1], pd.NA]


def answers(codes: np.ndarray, soft: tuple, states: tuple[str, ...]) -> list[object]:
    """Codes read back: the state name, the soft answer, or the MISSING / INVALID code."""
    return [c if c < 0 else states[c] if c < len(states) else soft[c - len(states)] for c in codes.tolist()]


def read_alone(cells: np.ndarray, net: kneebayes.network.compiled.CompiledNetwork, i: int, graded: dict) -> list[object]:
    """Each cell read from a column of its own."""
    out = []
    for v in cells:
        one = np.empty(1, dtype=object)
        one[0] = v
        out += answers(*column_codes(pd.Series(one, dtype=object), net, i, graded), net.states[i])
    return out


@given(values=st.lists(st.sampled_from(MIXED), max_size=20))
def test_an_object_column_of_shared_objects_codes_each_cell_as_read_alone(
        net: kneebayes.network.compiled.CompiledNetwork, values: list[object]) -> None:
    graded = kneebayes.load_model().graded_answers
    i = net.index["limping"]
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    codes, soft = column_codes(pd.Series(cells, dtype=object), net, i, graded)
    assert answers(codes, soft, net.states[i]) == read_alone(cells, net, i, graded)
    assert len(set(soft)) == len(soft)


def assert_coded_as_each_object_alone(cells: np.ndarray, net: kneebayes.network.compiled.CompiledNetwork, i: int,
                                      graded: dict) -> None:
    """A long column codes every cell as its object reads alone, its soft answers listed in order of first sight
    (each distinct object read alone once: a long column repeats a few)."""
    codes, soft = column_codes(pd.Series(cells, dtype=object), net, i, graded)
    alone = {id(v): read_alone([v], net, i, graded)[0] for v in {id(v): v for v in cells}.values()}
    expected = [alone[id(v)] for v in cells]
    assert answers(codes, soft, net.states[i]) == expected
    assert list(soft) == list(dict.fromkeys(v for v in expected if isinstance(v, kneebayes.Likelihood)))


@given(rare=st.lists(st.sampled_from([*MIXED, "not_sure", kneebayes.Likelihood(yes=1.0, no=3.0)]), min_size=1,
                     max_size=12, unique_by=id), spots=st.lists(st.integers(0, 2047), min_size=12, max_size=12))
def test_a_long_object_column_codes_objects_its_sample_misses_as_read_alone_in_order_of_first_sight(
        net: kneebayes.network.compiled.CompiledNetwork, rare: list[object], spots: list[int]) -> None:
    graded = kneebayes.load_model().graded_answers
    i = net.index["limping"]
    cells = np.empty(4096, dtype=object)
    cells[:] = ["yes", "no", None, "yes"] * 1024   # shared objects
    for k, spot in enumerate(spots):   # rare objects in odd rows only, which the sample (every 4th row) never holds
        cells[2 * spot + 1] = rare[k % len(rare)]
    assert_coded_as_each_object_alone(cells, net, i, graded)


@given(rare=st.lists(st.sampled_from([*MIXED, "not_sure", kneebayes.Likelihood(yes=1.0, no=3.0)]), min_size=1,
                     max_size=8, unique_by=id), spots=st.lists(st.integers(0, 69_999), max_size=16))
def test_a_long_object_column_codes_objects_first_seen_late_as_read_alone_in_order_of_first_sight(
        net: kneebayes.network.compiled.CompiledNetwork, rare: list[object], spots: list[int]) -> None:
    graded = kneebayes.load_model().graded_answers
    i = net.index["limping"]
    cells = np.empty(70_000, dtype=object)
    cells[:] = "yes"
    for k, spot in enumerate(spots):   # anywhere: first seen in the first 1,024 rows, the first 65,536, or later
        cells[spot] = rare[k % len(rare)]
    step = len(cells) // 1024   # every step-th row is sampled: each object in one of them, after row 65,536
    for k, v in enumerate(rare):
        cells[step * (1000 + k)] = v
    assert_coded_as_each_object_alone(cells, net, i, graded)


def test_an_object_column_of_a_string_per_cell_codes_as_one_of_shared_strings(
        net: kneebayes.network.compiled.CompiledNetwork) -> None:
    i = net.index["limping"]
    shared = ["yes", "no", None] * 2000
    own = ["".join(v) if v else v for v in shared]   # a new string object per cell: too many objects to read each
    assert len({id(v) for v in own}) > 1000
    expected, _ = column_codes(pd.Series(shared, dtype=object), net, i)
    got, _ = column_codes(pd.Series(own, dtype=object), net, i)
    assert got.tolist() == expected.tolist() == [0, 1, MISSING] * 2000


@given(values=st.lists(st.sampled_from(MIXED), min_size=1, max_size=20))
def test_an_object_column_of_a_string_per_cell_mixed_with_other_types_codes_each_cell_as_read_alone(
        net: kneebayes.network.compiled.CompiledNetwork, values: list[object]) -> None:
    graded = kneebayes.load_model().graded_answers
    i = net.index["limping"]
    texts = ["".join(v) if isinstance(v, str) else v for v in ["yes", "no", "maybe"] * 400]   # too many objects to
    cells = np.empty(len(texts) + len(values), dtype=object)                                    # read one by one
    cells[: len(texts)] = texts
    cells[len(texts) :] = values   # True next to 1 and 1.0: values pandas.factorize would merge
    codes, soft = column_codes(pd.Series(cells, dtype=object), net, i, graded)
    assert answers(codes, soft, net.states[i]) == read_alone(cells, net, i, graded)
