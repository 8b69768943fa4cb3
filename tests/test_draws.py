"""Parameter draws from a spec: which numbers vary, how they are drawn, and the spec with drawn numbers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import kneebayes
from kneebayes.modelfile.schema import Prior, Table
from kneebayes.research.draws import build_sampler, flat_values, spec_with_numbers
from ranged import param, small_spec

LOAD, C1, C2, F1, F2 = range(5)


@pytest.fixture(scope="module")
def drawn() -> dict[int, np.ndarray]:
    return build_sampler(small_spec(True)).draw(np.random.default_rng(3), 4000)


def test_flat_values_lay_out_prior_noisy_or_and_table() -> None:
    spec = small_spec(True)
    assert flat_values(spec.nodes[LOAD]).tolist() == [0.5, 0.3, 0.2]
    assert flat_values(spec.nodes[F1]).tolist() == [0.05, 0.7, 0.4]                 # leak, then weights
    assert flat_values(spec.nodes[C1]).tolist() == pytest.approx([0.1, 0.9, 0.3, 0.7, 0.6, 0.4])   # column by column


def test_a_multi_state_prior_is_drawn_from_a_dirichlet(drawn: dict[int, np.ndarray]) -> None:
    assert np.allclose(drawn[LOAD].sum(axis=1), 1.0)
    assert drawn[LOAD].std(axis=0).min() > 0


def test_table_columns_still_sum_to_one(drawn: dict[int, np.ndarray]) -> None:
    assert np.allclose(drawn[C1].reshape(-1, 3, 2).sum(axis=2), 1.0)
    assert np.allclose(drawn[F2].reshape(-1, 4, 3).sum(axis=2), 1.0)


def test_a_yes_no_prior_draws_p_yes_and_its_complement(drawn: dict[int, np.ndarray]) -> None:
    assert np.allclose(drawn[C2][:, 0] + drawn[C2][:, 1], 1.0)


def test_a_range_is_the_central_ninety_percent_of_the_draws(drawn: dict[int, np.ndarray]) -> None:
    # P(yes) of c2 has the range [0.1, 0.35]: about 5% of draws below it, 5% above
    assert 0.03 < (drawn[C2][:, 0] < 0.1).mean() < 0.07
    assert 0.03 < (drawn[C2][:, 0] > 0.35).mean() < 0.07


def test_a_noisy_or_weight_is_drawn_from_its_range(drawn: dict[int, np.ndarray]) -> None:
    assert 0.03 < (drawn[F1][:, 1] > 0.9).mean() < 0.07       # weight[c1], range [0.5, 0.9]


def test_without_ranges_nothing_varies() -> None:
    sampler = build_sampler(small_spec(False))
    assert not sampler.sampled and not sampler.groups
    assert sampler.draw(np.random.default_rng(0), 5) == {}


def test_numbers_without_a_range_stay_fixed() -> None:
    spec = small_spec(True)
    nodes = list(spec.nodes)
    nodes[F1] = replace(nodes[F1], parameters=replace(nodes[F1].parameters, leak=param(0.05)))
    numbers = build_sampler(replace(spec, nodes=tuple(nodes))).draw(np.random.default_rng(0), 100)
    assert np.all(numbers[F1][:, 0] == 0.05)
    assert numbers[F1][:, 1].std() > 0


def test_an_impossible_cell_stays_zero() -> None:
    spec = small_spec(True)
    nodes = list(spec.nodes)
    cells = (param(0.0, 0.0, 0.0), param(0.6, 0.4, 0.8), param(0.4, 0.2, 0.6))
    nodes[LOAD] = replace(nodes[LOAD], parameters=Prior(cells))
    numbers = build_sampler(replace(spec, nodes=tuple(nodes))).draw(np.random.default_rng(0), 200)
    assert np.all(numbers[LOAD][:, 0] == 0.0)
    assert np.allclose(numbers[LOAD][:, 1:].sum(axis=1), 1.0) and numbers[LOAD][:, 1].std() > 0


def test_a_column_with_a_certain_cell_stays_fixed() -> None:
    spec = small_spec(True)
    nodes = list(spec.nodes)
    table = nodes[C1].parameters
    assert isinstance(table, Table)
    certain = replace(table.columns[0], probabilities=(param(1.0, 1.0, 1.0), param(0.0, 0.0, 0.0)))
    nodes[C1] = replace(nodes[C1], parameters=replace(table, columns=(certain,) + table.columns[1:]))
    numbers = build_sampler(replace(spec, nodes=tuple(nodes))).draw(np.random.default_rng(0), 200)
    assert np.all(numbers[C1][:, :2] == [1.0, 0.0])
    assert numbers[C1][:, 2].std() > 0                          # the other columns still vary


def test_the_same_generator_state_gives_the_same_draws() -> None:
    sampler = build_sampler(small_spec(True))
    a = sampler.draw(np.random.default_rng(11), 50)
    b = sampler.draw(np.random.default_rng(11), 50)
    assert all(np.array_equal(a[i], b[i]) for i in a)


def test_the_written_numbers_are_read_only() -> None:
    sampler = build_sampler(small_spec(True))
    with pytest.raises(ValueError, match="read-only"):
        sampler.base[LOAD][0] = 0.9


def test_spec_with_the_written_numbers_is_the_same_model(knee_model: kneebayes.Model) -> None:
    sampler = build_sampler(knee_model.spec)
    spec = spec_with_numbers(knee_model.spec, {i: sampler.base[i] for i in sampler.sampled})
    assert kneebayes.Model(spec).content_hash == knee_model.content_hash


def test_spec_with_numbers_sets_every_kind_of_number() -> None:
    spec = small_spec(True)
    numbers = build_sampler(spec).draw(np.random.default_rng(5), 1)
    changed = spec_with_numbers(spec, {i: a[0] for i, a in numbers.items()})
    for i, node in enumerate(changed.nodes):
        assert flat_values(node) == pytest.approx(numbers[i][0], abs=0)
        assert node.parameters != spec.nodes[i].parameters


def test_spec_with_numbers_keeps_ranges_and_sources() -> None:
    spec = small_spec(True)
    changed = spec_with_numbers(spec, {F1: np.array([0.1, 0.6, 0.5])})
    leak = changed.nodes[F1].parameters.leak   # type: ignore[union-attr]
    assert (leak.value, leak.range, leak.source) == (0.1, (0.01, 0.2), "test")
    assert changed.nodes[:F1] == spec.nodes[:F1]
