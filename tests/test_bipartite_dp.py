"""The dynamic programme over switched-on sets (``inference.bipartite_dp``): its order and its answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kneebayes.inference.bipartite_dp import dp, schedule_within
from kneebayes.inference.bipartite_evidence import prepare
from kneebayes.inference.quickscore import quickscore
from kneebayes.network.bipartite import BipartiteNoisyOr

BUDGET = 1 << 20


def chain(n: int) -> BipartiteNoisyOr:
    """Finding i over causes i and i + 1: in a good order only two positives are ever open at once."""
    return BipartiteNoisyOr.from_parents(priors=[0.2] * (n + 1), leaks=[0.01] * n,
                                         parents=[[i, i + 1] for i in range(n)], weights=[[0.6, 0.7]] * n)


def test_on_a_chain_the_order_keeps_at_most_two_positives_open() -> None:
    q = prepare(chain(12), list(range(12)), [])
    plan = schedule_within(q, BUDGET)
    assert not plan.floor
    assert max(len(live) for live in plan.live) <= 2
    assert sorted(plan.order) == list(range(q.r))


def test_the_dp_agrees_with_quickscore_on_the_same_group() -> None:
    q = prepare(chain(5), list(range(5)), [])
    log_dp, present_dp, absent_dp, _, _ = dp(q, None, schedule_within(q, BUDGET), BUDGET)
    log_qs, present_qs, absent_qs, _, bound = quickscore(q, None, BUDGET)
    assert bound < 1e-10
    assert log_dp == pytest.approx(log_qs, abs=1e-10)
    assert present_dp == pytest.approx(present_qs, abs=1e-10)
    assert absent_dp == pytest.approx(absent_qs, abs=1e-10)


def test_the_dp_keeps_its_digits_where_the_evidence_is_tiny() -> None:
    # 400 positives each switched on only by its leak of 1e-3: P(evidence) = 1e-1200, far below any float
    net = BipartiteNoisyOr.from_parents(priors=[0.5], leaks=[1e-3] * 400, parents=[[0]] * 400, weights=[[0.0]] * 400)
    q = prepare(net, list(range(400)), [])
    log_pos, *_ = dp(q, None, schedule_within(q, BUDGET), BUDGET)
    assert log_pos == pytest.approx(400 * math.log(1e-3), rel=1e-12)


def test_where_one_cause_alone_passes_the_budget_no_order_is_planned() -> None:
    # 20 positives under one cause are all open at its step, whatever the order: 2^20 states
    net = BipartiteNoisyOr.from_parents(priors=[0.3], leaks=[0.01] * 20, parents=[[0]] * 20, weights=[[0.5]] * 20)
    plan = schedule_within(prepare(net, list(range(20)), []), BUDGET)
    assert plan.floor
    assert len(plan.widest) == 20
    assert np.max(plan.sizes) == 2.0 ** 20
