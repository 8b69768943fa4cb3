"""Properties of the conditional tables (src/kneebayes/network/tables.py).

Noisy-OR is only a way to build a table; these tests hold the built tables
to the definition in docs/model-file-format.md, cell by cell:
P(no | pa) = (1 - leak) * prod over parents that are yes of (1 - w_i).
"""

from __future__ import annotations

import dataclasses

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import cpt_by_definition, networks, param, probabilities

from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Parameter, Prior, Table, TableColumn
from kneebayes.network import tables
from kneebayes.network.tables import NodeTables, node_table, noisy_or_table


@st.composite
def noisy_or_cases(draw: st.DrawFn) -> tuple[float, list[float], list[int], int]:
    k = draw(st.integers(min_value=0, max_value=6))
    leak = draw(probabilities())
    weights = draw(st.lists(probabilities(), min_size=k, max_size=k))
    parent_yes = draw(st.lists(st.integers(0, 1), min_size=k, max_size=k))
    yes_index = draw(st.integers(0, 1))
    return leak, weights, parent_yes, yes_index


@given(noisy_or_cases())
def test_noisy_or_table_equals_its_definition(case: tuple[float, list[float], list[int], int]) -> None:
    leak, weights, parent_yes, yes_index = case
    table = noisy_or_table(leak, weights, parent_yes, yes_index)
    assert table.shape == (2,) * len(weights) + (2,)
    for idx in itertools.product(range(2), repeat=len(weights)):
        present = [w for w, x, yes in zip(weights, idx, parent_yes) if x == yes]
        p_no = (1.0 - leak) * math.prod(1.0 - w for w in present)
        assert math.isclose(table[idx + (1 - yes_index,)], p_no, rel_tol=1e-12, abs_tol=1e-15), idx
        assert math.isclose(table[idx + (yes_index,)], 1.0 - p_no, rel_tol=1e-12, abs_tol=1e-15), idx


@given(noisy_or_cases())
def test_every_noisy_or_column_sums_to_one(case: tuple[float, list[float], list[int], int]) -> None:
    table = noisy_or_table(*case)
    assert np.all(table >= 0.0) and np.all(table <= 1.0)
    assert np.all(np.abs(table.sum(axis=-1) - 1.0) <= 1e-15)


def test_noisy_or_with_no_parent_present_is_the_leak_and_one_parent_adds_its_weight() -> None:
    # leak 0.1, weight 0.5: P(yes | parent yes) = 1 - 0.9 * 0.5 = 0.55; P(yes | parent no) = leak.
    table = noisy_or_table(0.1, [0.5], parent_yes=[0], yes_index=0)
    assert np.allclose(table, [[0.55, 0.45], [0.1, 0.9]], rtol=0, atol=1e-15)
    flipped = noisy_or_table(0.1, [0.5], parent_yes=[1], yes_index=1)   # states ordered (no, yes)
    assert np.allclose(flipped, [[0.9, 0.1], [0.45, 0.55]], rtol=0, atol=1e-15)


@given(st.floats(1e-300, 1e-3), st.lists(st.floats(0.0, 1e-3), min_size=1, max_size=4), st.integers(0, 1))
def test_a_tiny_noisy_or_yes_keeps_its_digits(leak: float, weights: list[float], yes_index: int) -> None:
    # 1 - (1 - leak) * ... would keep about 16 + log10(leak) digits; every entry here keeps 13 or more.
    from fractions import Fraction   # exact rational arithmetic on the very floats given

    table = noisy_or_table(leak, weights, [0] * len(weights), yes_index)
    for idx in itertools.product(range(2), repeat=len(weights)):
        p_no = (1 - Fraction(leak)) * math.prod((1 - Fraction(w) for w, x in zip(weights, idx) if x == 0), start=Fraction(1))
        exact = float(1 - p_no)
        assert math.isclose(table[idx + (yes_index,)], exact, rel_tol=1e-13), idx


@given(st.lists(noisy_or_cases(), min_size=1, max_size=4))
def test_a_noisy_or_table_of_draws_is_each_draw_s_table(cases: list[tuple[float, list[float], list[int], int]]) -> None:
    _, weights, parent_yes, yes_index = cases[0]
    k = len(weights)
    leaks = np.array([c[0] for c in cases])
    draws = np.array([(c[1] + weights)[:k] for c in cases]).reshape(len(cases), k)
    table = noisy_or_table(leaks, draws, parent_yes, yes_index)
    assert table.shape == (len(cases),) + (2,) * k + (2,)
    for d in range(len(cases)):
        assert np.array_equal(table[d], noisy_or_table(leaks[d], draws[d], parent_yes, yes_index))


@given(networks())
def test_node_table_has_axes_parents_then_node_and_the_spec_values(spec) -> None:  # type: ignore[no-untyped-def]
    states = {n.id: n.states for n in spec.nodes}
    for node in spec.nodes:
        table = node_table(node, states)
        assert table.shape == tuple(len(states[p]) for p in node.parents) + (len(node.states),), node.id
        expected = cpt_by_definition(node, states)
        if isinstance(node.parameters, NoisyOr):
            assert np.allclose(table, expected, rtol=1e-12, atol=1e-15), node.id
        else:
            assert np.array_equal(table, expected), node.id
        assert np.all(np.abs(table.sum(axis=-1) - 1.0) <= 1e-12), node.id


def _node(node_id: str, states: tuple[str, ...], parameters: Prior | Table | NoisyOr) -> NodeSpec:
    return NodeSpec(node_id, node_id, "finding", f"{node_id}?", states, parameters, True)


def test_node_table_of_a_prior_is_its_vector_in_state_order() -> None:
    node = _node("a", ("s0", "s1", "s2"), Prior((param(0.2), param(0.3), param(0.5))))
    table = node_table(node, {"a": node.states})
    assert table.shape == (3,)
    assert table.tolist() == [0.2, 0.3, 0.5]


def test_table_columns_follow_itertools_product_of_the_parents_states() -> None:
    """Column c (in file order) lands at the c-th index of itertools.product, i.e. C order."""
    states = {"p": ("yes", "no"), "q": ("q0", "q1", "q2"), "x": ("x0", "x1", "x2", "x3")}
    columns = []
    for c, (p, q) in enumerate(itertools.product(states["p"], states["q"])):
        # distinct numbers per column: column c is (c, c+1, c+2, c+3) / (4c + 6)
        raw = [c + j for j in range(4)]
        probs = [v / math.fsum(raw) for v in raw[:-1]]
        probs.append(1.0 - math.fsum(probs))
        columns.append(TableColumn((("p", p), ("q", q)), tuple(param(v) for v in probs)))
    node = _node("x", states["x"], Table(("p", "q"), tuple(columns)))
    table = node_table(node, states)
    assert table.shape == (2, 3, 4)
    for c, idx in enumerate(itertools.product(range(2), range(3))):
        given = dict(columns[c].given)
        assert (given["p"], given["q"]) == (states["p"][idx[0]], states["q"][idx[1]])
        assert table[idx].tolist() == [v.value for v in columns[c].probabilities]
    # the order is not symmetric in the parents: swapping them would be caught
    assert table[0, 1].tolist() != table[1, 0].tolist()


class _CountedRange(tuple):   # a range that counts how often something hashes it
    hashed = 0

    def __hash__(self) -> int:
        type(self).hashed += 1
        return super().__hash__()


def _table_node(cells: int) -> tuple[NodeSpec, dict[str, tuple[str, ...]]]:
    """A two-state node under a parent of ``cells // 2`` states, one cell's range counting its hashes."""
    parent_states = tuple(f"s{k}" for k in range(cells // 2))
    counted = Parameter(0.3, "test", "for the test", _CountedRange((0.2, 0.4)))
    columns = tuple(TableColumn((("p", s),), (counted if k == 0 else param(0.3), param(0.7)))
                    for k, s in enumerate(parent_states))
    node = NodeSpec("x", "x", "finding", "x?", ("yes", "no"), Table(("p",), columns), askable=True)
    return node, {"p": parent_states, "x": ("yes", "no")}


def test_a_table_too_large_to_keep_is_built_anew_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "TABLE_KEPT_ENTRIES", 8)
    small, small_states = _table_node(8)
    large, large_states = _table_node(10)
    first = NodeTables([large], large_states, 2.0**30, "test")[0]
    assert first is not NodeTables([large], large_states, 2.0**30, "test")[0]
    kept = NodeTables([small], small_states, 2.0**30, "test")[0]
    assert kept is NodeTables([small], small_states, 2.0**30, "test")[0]
    np.testing.assert_array_equal(first[:4], kept)


def test_a_kept_table_is_found_without_hashing_its_numbers() -> None:
    node, states = _table_node(8)
    _CountedRange.hashed = 0
    kept = NodeTables([node], states, 2.0**30, "test")[0]
    assert kept is NodeTables([node], states, 2.0**30, "test")[0]
    assert _CountedRange.hashed == 0    # by the parameters' identity: hashing walked every number (DIABETES: 0.5 s)


def test_equal_parameters_in_another_object_get_a_table_of_their_own_with_the_same_numbers() -> None:
    node, states = _table_node(8)
    twin = dataclasses.replace(node, parameters=dataclasses.replace(node.parameters))
    assert twin.parameters == node.parameters and twin.parameters is not node.parameters
    first, second = NodeTables([node], states, 2.0**30, "test")[0], NodeTables([twin], states, 2.0**30, "test")[0]
    assert first is not second
    np.testing.assert_array_equal(first, second)
