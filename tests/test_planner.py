"""The elimination planner: orders, clique sizes from shapes alone, the budget check."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kneebayes import IntractableError, SettingError
from kneebayes.network.planner import Elimination, check_budget, eliminate, search


def _replay(order: tuple[int, ...], scopes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The cliques an order really builds, by plain bucket elimination on the scopes."""
    live = [set(s) for s in scopes]
    cliques = []
    for v in order:
        bucket = [s for s in live if v in s]
        joined = set().union(*bucket) if bucket else {v}
        live = [s for s in live if v not in s] + [joined - {v}]
        cliques.append((v, *sorted(joined - {v})))
    return cliques


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, ...]], list[int]]:
    n = draw(st.integers(1, 9))
    scopes = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True).map(tuple),
                           min_size=1, max_size=12))
    cards = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    return n, scopes, cards


@given(graphs(), st.sampled_from(["min_fill", "min_weight", "weighted_fill", "best"]))
def test_cliques_and_sizes_are_those_the_order_builds(graph: tuple[int, list[tuple[int, ...]], list[int]],
                                                      heuristic: str) -> None:
    n, scopes, cards = graph
    plan = eliminate(range(n), scopes, cards, heuristic)
    assert sorted(plan.order) == list(range(n))
    replayed = _replay(plan.order, scopes)
    assert [set(c) for c in plan.cliques] == [set(c) for c in replayed]
    assert list(plan.sizes) == [float(math.prod(cards[u] for u in c)) for c in replayed]


@given(graphs())
def test_best_keeps_the_cheaper_of_both_heuristics(graph: tuple[int, list[tuple[int, ...]], list[int]]) -> None:
    n, scopes, cards = graph
    best = eliminate(range(n), scopes, cards, "best").total_size
    assert best <= min(eliminate(range(n), scopes, cards, h).total_size for h in ("min_fill", "min_weight"))


@given(graphs(), st.sampled_from(["min_fill", "min_weight", "weighted_fill"]), st.integers(0, 5))
def test_a_noisy_run_is_still_an_order_whose_cliques_are_those_it_builds(
        graph: tuple[int, list[tuple[int, ...]], list[int]], heuristic: str, seed: int) -> None:
    n, scopes, cards = graph
    plan = eliminate(range(n), scopes, cards, heuristic, noise=0.5, seed=seed)
    assert sorted(plan.order) == list(range(n))
    assert [set(c) for c in plan.cliques] == [set(c) for c in _replay(plan.order, scopes)]


@given(graphs(), st.integers(0, 6))
def test_search_keeps_an_order_no_costlier_than_its_start_and_the_weighted_fill_one(
        graph: tuple[int, list[tuple[int, ...]], list[int]], tries: int) -> None:
    n, scopes, cards = graph
    start = eliminate(range(n), scopes, cards, "min_weight")
    found = search(range(n), scopes, cards, tries, start)
    assert found.total_size <= min(start.total_size, eliminate(range(n), scopes, cards, "weighted_fill").total_size)
    assert [set(c) for c in found.cliques] == [set(c) for c in _replay(found.order, scopes)]


def test_search_is_deterministic() -> None:
    rng = random.Random(3)
    scopes = [tuple(rng.sample(range(30), 3)) for _ in range(45)]
    cards = [rng.randint(2, 6) for _ in range(30)]
    assert search(range(30), scopes, cards, 8).order == search(range(30), scopes, cards, 8).order


def test_search_finds_a_cheaper_order_where_both_greedy_heuristics_go_wrong() -> None:
    """Random triples of many-state variables (a fixed draw): min-fill and min-weight, each breaking its
    near-ties one way, both leave cliques totalling about three times what some noisy run finds."""
    rng = random.Random(11)
    scopes = [tuple(rng.sample(range(30), 3)) for _ in range(40)]
    cards = [rng.randint(2, 7) for _ in range(30)]
    start = eliminate(range(30), scopes, cards, "best")
    assert search(range(30), scopes, cards, 12, start).total_size < start.total_size / 2


def test_kept_variables_count_in_cliques_but_are_never_eliminated() -> None:
    plan = eliminate([0, 1], [(0, 9), (1, 9)], {0: 2, 1: 3, 9: 5})
    assert 9 not in plan.order
    assert sorted(plan.sizes) == [10.0, 15.0]


def test_a_chain_keeps_every_clique_to_two_variables() -> None:
    n = 20_000
    plan = eliminate(range(n), [(i, i + 1) for i in range(n - 1)], [2] * n)
    assert len(plan.order) == n and plan.largest_size == 4.0


def test_min_fill_eliminates_the_leaves_of_a_star_before_its_centre() -> None:
    plan = eliminate(range(6), [(0, i) for i in range(1, 6)], [2] * 6, "min_fill")
    assert plan.largest_size == 4.0    # the centre first would join all six


def test_planning_gives_up_at_a_clique_past_the_limit_and_too_wide_to_name_its_largest() -> None:
    n = 45   # a complete graph: the first elimination joins all 45
    plan = eliminate(range(n), [tuple(p) for p in itertools.combinations(range(n), 2)], [2] * n, limit=1000)
    assert not plan.complete and len(plan.order) == 1 and plan.largest_size == 2.0**n


def test_past_the_limit_planning_goes_on_to_name_the_largest_clique() -> None:
    n = 12
    plan = eliminate(range(n), [tuple(p) for p in itertools.combinations(range(n), 2)], [2] * n, limit=1000)
    assert plan.complete and len(plan.order) == n and plan.largest_size == 2.0**n


def test_a_plan_that_gave_up_says_at_least_in_its_refusal() -> None:
    plan = Elimination(order=(0,), cliques=((0, 1),), sizes=(2.0**50,), complete=False)
    with pytest.raises(IntractableError, match=r"of at least 9\.0e\+15 bytes"):
        check_budget(plan, ["a", "b"], 2**30, "net")


def test_check_budget_names_the_clique_and_its_size() -> None:
    plan = Elimination(order=(0,), cliques=((0, 1, 7),), sizes=(1024.0,))
    with pytest.raises(IntractableError, match=r"'net'.*3 variables \(a, b, \(hidden 7\)\) of 8.0 KiB.*1.0 KiB") as err:
        check_budget(plan, ["a", "b"], 1024, "net")
    assert err.value.clique == ("a", "b", "(hidden 7)") and err.value.size == 8192.0


def test_check_budget_passes_a_plan_that_fits() -> None:
    check_budget(Elimination((0,), ((0, 1),), (4.0,)), ["a", "b"], 32, "net")


def test_an_unknown_heuristic_is_refused() -> None:
    with pytest.raises(SettingError, match="'min_fill', 'min_weight', 'weighted_fill' or 'best', not 'fastest'"):
        eliminate([0], [(0,)], [2], "fastest")
