"""Quickscore over one group of positive findings (``inference.quickscore``), against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from kneebayes.inference.bipartite_evidence import prepare
from kneebayes.inference.quickscore import quickscore
from kneebayes.network.bipartite import BipartiteNoisyOr

BUDGET = 1 << 20


@pytest.fixture
def net() -> BipartiteNoisyOr:
    return BipartiteNoisyOr.from_parents(priors=[0.1, 0.2, 0.3], leaks=[0.01, 0.02, 0.05, 0.0],
                                         parents=[[0], [0, 1], [1, 2], [2]],
                                         weights=[[0.8], [0.5, 0.6], [0.4, 0.7], [0.9]])


def brute(net: BipartiteNoisyOr, pos: list[int], neg: list[int]) -> tuple[float, np.ndarray]:
    """P(evidence) and each cause's posterior, over every assignment of the causes."""
    total, per_cause = 0.0, np.zeros(net.n_causes)
    for states in itertools.product((0, 1), repeat=net.n_causes):
        w = math.prod(p if x else 1 - p for p, x in zip(net.priors, states))
        for f in pos + neg:
            idx, ws = net.parents(f)
            off = (1 - net.leaks[f]) * math.prod(1 - wd for d, wd in zip(idx, ws) if states[d])
            w *= off if f in neg else 1 - off
        total += w
        per_cause += w * np.array(states)
    return total, per_cause / total


def test_quickscore_gives_the_probability_of_the_evidence_and_the_posteriors(net: BipartiteNoisyOr) -> None:
    q = prepare(net, [1, 2], [0])
    log_pos, present, absent, _, bound = quickscore(q, None, BUDGET)
    total, posterior = brute(net, [1, 2], [0])
    assert math.exp(log_pos + q.log_negatives) == pytest.approx(total, rel=1e-12)
    assert present == pytest.approx(posterior[q.dplus], rel=1e-12)
    assert present + absent == pytest.approx(np.ones(q.r), abs=1e-12)
    assert bound < 1e-12


def test_a_sum_that_cannot_meet_the_tolerance_is_given_up_with_its_error(net: BipartiteNoisyOr) -> None:
    q = prepare(net, [0, 1, 2, 3], [])
    *_, bound = quickscore(q, None, BUDGET, tolerance=0.0)
    assert 0.0 < bound < math.inf



def test_its_absolute_error_is_the_relative_one_times_the_sum(net: BipartiteNoisyOr) -> None:
    q = prepare(net, [1, 2], [0])
    log_pos, *_, relative = quickscore(q, None, BUDGET)
    same, *_, absolute = quickscore(q, None, BUDGET, absolute=True)
    assert same == log_pos
    assert absolute == pytest.approx(relative * math.exp(log_pos), rel=1e-12)
