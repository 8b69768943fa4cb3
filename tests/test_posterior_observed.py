"""One evidence row's passes told which nodes are observed (src/kneebayes/inference/posterior.py).

A step that no evidence reaches gives what it gives without evidence, so
a one-row pass takes those steps' values from the component's pass
without evidence. Told the observed nodes, the plain plan's value must be
the full pass's, on random networks with hard and soft evidence. Likewise a
pruned component with one answered node takes its value from its joints
without evidence, swept once on load.
"""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from networks import bif_path
from strategies import networks_with_evidence, scaled

import kneebayes
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference import posterior
from kneebayes.inference.posterior import encode, run_component
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network import compiled


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


@settings(max_examples=scaled(100))
@given(case=networks_with_evidence(), soft=st.floats(0.05, 1.0), which=st.integers(0, 1000))
def test_a_pruned_component_with_one_answer_takes_its_value_without_a_plan(case: tuple[ModelSpec, dict[str, str]],
                                                                         soft: float, which: int) -> None:
    # One node of a component answered (hard or soft): the component's value is that node's joint with the
    # targets without evidence, weighed by its likelihood; a closed component plans nothing for it.
    spec, evidence = case
    plain = kneebayes.Model(spec)
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        pruned = kneebayes.Model(spec)
    net = pruned.network
    in_components = sorted(n for n in evidence if any(net.index[n] in comp.nodes for comp in net.components))
    assume(in_components)
    node = in_components[which % len(in_components)]
    states = net.states[net.index[node]]
    answer: str | kneebayes.Likelihood = evidence[node]
    if soft < 1.0:
        answer = kneebayes.Likelihood({s: 1.0 if s == evidence[node] else soft for s in states})
    comp = next(comp for comp in net.components if net.index[node] in comp.nodes)
    try:
        expected = plain.diagnose({node: answer})
    except kneebayes.ImpossibleEvidenceError:   # a state the tables never give
        with pytest.raises(kneebayes.ImpossibleEvidenceError):
            pruned.diagnose({node: answer})
        return
    spy = mock.Mock(wraps=posterior.pruned_value)
    with mock.patch.object(posterior, "pruned_value", spy):
        got = pruned.diagnose({node: answer})
    if comp.closed:   # (else its value may come from a bucket pass or a pruned plan; other components may plan)
        assert all(call.args[0] is not comp for call in spy.call_args_list)
    assert abs(got.log_evidence_probability - expected.log_evidence_probability) <= 1e-12
    for target, dist in expected.distributions.items():
        for state, p in dist.items():
            assert abs(got.distributions[target][state] - p) <= 1e-12, (target, state)


def test_a_models_load_sweeps_its_pruned_components_so_a_first_call_with_one_answer_sweeps_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        spy = mock.Mock(wraps=posterior.component_joints)
        with mock.patch.object(posterior, "component_joints", spy):
            model = kneebayes.load_bif(bif_path("pathfinder"), targets=["Fault"])
    assert spy.called       # on load: the closed pruned components' sweeps without evidence
    net = model.network
    comp = next(c for c in net.components if c.pruning is not None and c.closed)
    node = net.names[comp.nodes[-1]]
    spy.reset_mock()
    with mock.patch.object(posterior, "component_joints", spy), mock.patch.object(posterior, "pruned_value") as planned:
        dx = model.diagnose({node: net.states[net.index[node]][0]})
        dx.distributions
    assert not spy.called and not planned.called
