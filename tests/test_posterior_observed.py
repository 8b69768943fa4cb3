"""One evidence row's passes told which nodes are observed (src/kneebayes/inference/posterior.py).

A step that no evidence reaches gives what it gives without evidence, so
a one-row pass takes those steps' values from the component's pass
without evidence. Told the observed nodes, the plain plan's value must be
the full pass's, on random networks with hard and soft evidence.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import networks_with_evidence, scaled

import kneebayes
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference.posterior import encode, run_component
from kneebayes.modelfile.schema import ModelSpec


@settings(max_examples=scaled(100))
@given(case=networks_with_evidence(), soft=st.floats(0.05, 1.0))
def test_a_component_told_its_observed_nodes_has_the_full_passs_value(case: tuple[ModelSpec, dict[str, str]],
                                                                      soft: float) -> None:
    spec, evidence = case
    net = kneebayes.Model(spec).network
    found = to_indices(net, normalize(net, evidence))
    if found:   # one answer soft: a likelihood vector, not one state
        node = min(found)
        found[node] = np.where(np.arange(net.cards[node]) == found[node], 1.0, soft)
    lam = encode(net, [found])
    observed = (lam[0] != net.lam_template).any(axis=1)
    for comp in net.components:
        bits = sum(1 << int(p) for p in np.flatnonzero(observed[comp.nodes]))
        told, full = run_component(comp, lam, observed=bits), run_component(comp, lam)
        np.testing.assert_allclose(told[0], full[0], rtol=1e-13, atol=0)
        np.testing.assert_array_equal(told[1], full[1])
