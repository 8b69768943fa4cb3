"""The evidence of a bipartite noisy-OR query, checked and folded (``inference.bipartite_evidence``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kneebayes.errors import EvidenceError
from kneebayes.inference.bipartite_evidence import check_ids, positive_groups, possible, prepare
from kneebayes.network.bipartite import BipartiteNoisyOr


@pytest.fixture
def net() -> BipartiteNoisyOr:
    # three causes; finding 0 over cause 0, finding 1 over causes 0 and 1, finding 2 over cause 2
    return BipartiteNoisyOr.from_parents(priors=[0.1, 0.2, 0.3], leaks=[0.01, 0.02, 0.0],
                                         parents=[[0], [0, 1], [2]], weights=[[0.8], [0.5, 0.6], [0.9]])


def test_a_negative_finding_multiplies_its_parents_odds_by_one_less_their_weights(net: BipartiteNoisyOr) -> None:
    q = prepare(net, [], [1])
    odds = np.exp(q.log_p - q.log_q)
    assert odds[0] == pytest.approx(0.1 / 0.9 * (1 - 0.5), rel=1e-14)
    assert odds[1] == pytest.approx(0.2 / 0.8 * (1 - 0.6), rel=1e-14)
    assert odds[2] == pytest.approx(0.3 / 0.7, rel=1e-14)


def test_the_negatives_probability_is_a_product_over_their_causes(net: BipartiteNoisyOr) -> None:
    # P(finding 1 = no) = (1 - leak) * E[(1 - 0.5)^c0] * E[(1 - 0.6)^c1], the causes independent a priori
    expected = (1 - 0.02) * (0.9 + 0.1 * 0.5) * (0.8 + 0.2 * 0.4)
    assert math.exp(prepare(net, [], [1]).log_negatives) == pytest.approx(expected, rel=1e-14)


def test_positives_that_share_no_parent_form_groups_of_their_own(net: BipartiteNoisyOr) -> None:
    groups = positive_groups(prepare(net, [0, 1, 2], []))
    assert sorted((g.positive.tolist(), g.dplus.tolist()) for g in groups) == [([0, 1], [0, 1]), ([2], [2])]


def test_a_positive_that_nothing_can_switch_on_is_impossible() -> None:
    # no leak, and its one parent ruled out by a negative sibling with weight 1
    net = BipartiteNoisyOr.from_parents(priors=[0.5], leaks=[0.0, 0.0], parents=[[0], [0]], weights=[[0.7], [1.0]])
    assert not possible(prepare(net, [0], [1]))
    assert possible(prepare(net, [0], []))


def test_a_soft_answer_is_never_impossible() -> None:
    net = BipartiteNoisyOr.from_parents(priors=[0.5], leaks=[0.0, 0.0], parents=[[0], [0]], weights=[[0.7], [1.0]])
    assert possible(prepare(net, [], [1], soft={0: (0.9, 0.1)}))


def test_a_finding_listed_twice_is_refused_by_name(net: BipartiteNoisyOr) -> None:
    with pytest.raises(EvidenceError, match="positive finding 1 is listed twice"):
        check_ids(net, [1, 0, 1], "positive")
