"""Forward sampling reproduces the model's own marginals."""

from __future__ import annotations

import numpy as np

import kneebayes
from kneebayes.research.sampling import sample_cases, sample_states


def test_sampled_frequencies_match_the_marginals(knee_model: kneebayes.Model) -> None:
    model = knee_model
    states = sample_states(model, 20_000, seed=7)
    marginals = model.marginals({})
    for i, node in enumerate(model.network.names):
        freq = np.bincount(states[:, i], minlength=model.network.cards[i]) / len(states)
        expected = np.array([marginals[node][s] for s in model.network.states[i]])
        assert np.abs(freq - expected).max() < 0.02, node   # ~6 standard errors at n = 20,000


def test_the_same_seed_gives_the_same_cases(knee_model: kneebayes.Model) -> None:
    model = knee_model
    assert sample_cases(model, 50, seed=3) == sample_cases(model, 50, seed=3)
    assert sample_cases(model, 50, seed=3) != sample_cases(model, 50, seed=4)


def test_every_sampled_case_is_possible(knee_model: kneebayes.Model) -> None:
    model = knee_model
    for case in sample_cases(model, 20, seed=5):
        assert model.diagnose(case).evidence_probability > 0
