"""One evidence set answered by bucket elimination over the evidence's ancestors (network/pruned_plan.bucket_plan,
inference/pruned.bucket_value and bucket_marginals).

On the packaged networks this path only switches on for large components
that touch no enumerated target, so these tests switch it on for every
component of small random networks (targets not enumerated) and compare
with brute-force enumeration: the targets' posteriors, P(evidence), every
node's marginal, and soft answers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import brute_force, networks_with_evidence

import kneebayes
from kneebayes.inference import node_joints, posterior
from kneebayes.inference.pruned import BucketRun, bucket_value
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network import compiled, pruned_plan
from kneebayes.network.pruned_plan import BucketPlan, Pruning, bucket_plan

TOL = 1e-9


def _pruned_model(spec: ModelSpec) -> kneebayes.Model:
    """Every component pruned, no target enumerated: the bucket pass's ground."""
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        model = kneebayes.Model(spec, joint_limit=1)
    assert all(comp.pruning is not None for comp in model.network.components)
    return model


@contextmanager
def _buckets_always(runs: list[object]) -> Iterator[None]:
    """Pruning always taken (however small the component, and however little its plans paid before), and each
    bucket pass that answered counted."""
    def counted(*args: object, **kwargs: object) -> object:
        run = bucket_value(*args, **kwargs)  # type: ignore[arg-type]
        if run is not None:
            runs.append(run)
        return run

    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch("kneebayes.inference.pruned.planning_pays", lambda *_: True), \
            mock.patch.object(posterior, "bucket_value", counted), \
            mock.patch.object(node_joints, "bucket_value", counted):
        yield


@given(case=networks_with_evidence())
def test_bucket_pass_target_posteriors_and_evidence_probability_equal_brute_force(
    case: tuple[ModelSpec, dict[str, str]]
) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)
    model = _pruned_model(spec)
    runs: list[object] = []
    with _buckets_always(runs):
        dx = model.diagnose(evidence)
        got = dx.distributions
    assert abs(dx.log_evidence_probability - math.log(reference.p_evidence)) <= TOL
    for target, dist in got.items():
        expected = reference.marginal(target)
        for state, p in dist.items():
            assert abs(p - expected[state]) <= TOL, (target, state)


@given(case=networks_with_evidence())
def test_bucket_pass_marginals_of_every_node_equal_brute_force(case: tuple[ModelSpec, dict[str, str]]) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)
    model = _pruned_model(spec)
    runs: list[object] = []
    with _buckets_always(runs):
        got = model.marginals(evidence)
    net = model.network
    # The path ran wherever evidence falls in a component it plans (with none there, nothing needs a pass).
    # It never plans a component holding a noisy-OR split into pieces that subtract (``bucket_plan``): the
    # way back divides by messages such pieces may bring to zero.
    planned = [net.where[net.index[node]][0] == "component"
               and not net.components[net.where[net.index[node]][1]].pruning.hidden_cards for node in evidence]
    assert runs or not any(planned)
    for node, dist in got.items():
        expected = reference.marginal(node)
        for state, p in dist.items():
            assert abs(p - expected[state]) <= TOL, (node, state)


@given(case=networks_with_evidence())
def test_bucket_pass_run_as_pair_chains_after_an_order_search_equals_brute_force(
    case: tuple[ModelSpec, dict[str, str]]
) -> None:
    """Every bucket of two or more slots run as a chain of two-operand steps, both ways, on an order found by
    the randomised search (on the packaged networks only MUNIN1-sized cliques take either)."""
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)
    model = _pruned_model(spec)
    runs: list[object] = []
    with _buckets_always(runs), mock.patch.object(pruned_plan, "PAIRWISE_ENTRIES", 0.0), \
            mock.patch.object(pruned_plan, "QUICK_ENOUGH", -1.0), \
            mock.patch.object(pruned_plan, "SEARCH_ENTRIES_PER_VARIABLE", 1e-9):
        dx = model.diagnose(evidence)
        got = model.marginals(evidence)
    assert abs(dx.log_evidence_probability - math.log(reference.p_evidence)) <= TOL
    for node, dist in got.items():
        expected = reference.marginal(node)
        for state, p in dist.items():
            assert abs(p - expected[state]) <= TOL, (node, state)


def _soft_reference(spec: ModelSpec, weights: Mapping[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """P(soft evidence) and every node's posterior: the prior joint weighted by each likelihood vector."""
    prior = brute_force(spec, {})
    assert prior.conditioned is not None
    joint = prior.conditioned.copy()
    for node, w in weights.items():
        shape = [1] * joint.ndim
        shape[prior.names.index(node)] = len(w)
        joint = joint * w.reshape(shape)
    total = float(joint.sum())
    if total == 0.0:
        return 0.0, {}
    post = {n: (joint / total).sum(axis=tuple(a for a in range(joint.ndim) if a != i)) for i, n in enumerate(prior.names)}
    return total, post


@given(case=networks_with_evidence(), data=st.data())
def test_bucket_pass_with_soft_answers_equals_brute_force(case: tuple[ModelSpec, dict[str, str]],
                                                          data: st.DataObject) -> None:
    spec, evidence = case
    assume(evidence)
    soft = data.draw(st.sampled_from(sorted(evidence)))
    states = spec.node(soft).states
    raw = data.draw(st.lists(st.floats(0.05, 1.0), min_size=len(states), max_size=len(states)))
    weights = np.array(raw) / max(raw)
    ev: dict[str, object] = dict(evidence)
    ev[soft] = kneebayes.Likelihood(dict(zip(states, weights.tolist())))
    onehots = {node: np.array([s == value for s in spec.node(node).states], dtype=float)
               for node, value in evidence.items() if node != soft}
    p_e, expected = _soft_reference(spec, {**onehots, soft: weights})
    assume(p_e > 1e-200)
    model = _pruned_model(spec)
    with _buckets_always([]):
        dx = model.diagnose(ev)
        got = dx.distributions
    assert abs(dx.log_evidence_probability - math.log(p_e)) <= TOL
    for target, dist in got.items():
        for j, p in enumerate(dist.values()):
            assert abs(p - expected[target][j]) <= TOL, (target, j)


def test_bucket_plan_leaves_out_the_barren_nodes() -> None:
    comp, _, _, _ = _alarm_component()
    pr = comp.pruning
    assert pr is not None
    n = len(comp.nodes)
    leaf = next(j for j in range(n) if pr.ancestors[:, j].sum() == 1)      # nobody's ancestor but itself
    hard = np.zeros(n, dtype=bool)
    hard[leaf] = True
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        plan = bucket_plan(pr, comp.cards, hard, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), math.inf)
    assert plan is not None
    relevant = set(np.flatnonzero(pr.ancestors[leaf]).tolist())
    assert {f for f, _ in plan.factors} == {f for i in relevant for f in pr.owned[i]}
    assert len(relevant) < n


def test_bucket_plan_declines_a_table_past_max_entries() -> None:
    comp, _, _, _ = _alarm_component()
    assert comp.pruning is not None
    n = len(comp.nodes)
    wanted = np.ones(n, dtype=bool)
    none = np.zeros(n, dtype=bool)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        assert bucket_plan(comp.pruning, comp.cards, none, none, wanted, math.inf) is not None
        assert bucket_plan(comp.pruning, comp.cards, none, none, wanted, 1.0) is None


@pytest.mark.parametrize("name", ["alarm", "child", "win95pts"])   # Win95pts: more variables than einsum has letters
def test_bucket_pass_agrees_with_the_fixed_plan_on_a_classic_network(name: str) -> None:
    pytest.importorskip("pgmpy")
    from networks import bif_path, leaves, structure

    parents = structure(bif_path(name))
    roots = [n for n, ps in parents.items() if not ps][:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        with mock.patch.object(compiled, "PRUNE_WORK", float("inf")):
            fixed = kneebayes.load_bif(bif_path(name), targets=roots)
    pruned = _pruned_model(fixed.spec)
    net = fixed.network
    evidence = {leaf: net.states[net.index[leaf]][0] for leaf in leaves(parents)[:4]}
    runs: list[object] = []
    with _buckets_always(runs):
        got = pruned.marginals(evidence)
    assert runs
    expected = fixed.marginals(evidence)
    for node, dist in expected.items():
        for s, p in dist.items():
            assert abs(got[node][s] - p) <= TOL, (node, s)


def _alarm_component(make: Callable[[ModelSpec], kneebayes.Model] | None = None
                     ) -> tuple[compiled.Component, np.ndarray, np.ndarray, np.ndarray]:
    """ALARM's component, pruned (by ``make``, default ``_pruned_model``), with the evidence of three of its
    leaves: (component, own rows, template, wanted positions: the targets)."""
    pytest.importorskip("pgmpy")
    from networks import bif_path, leaves, structure

    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.posterior import encode

    parents = structure(bif_path("alarm"))
    roots = [n for n, ps in parents.items() if not ps][:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        spec = kneebayes.load_bif(bif_path("alarm"), targets=roots).spec
    net = (make or _pruned_model)(spec).network
    evidence = {leaf: net.states[net.index[leaf]][0] for leaf in leaves(parents)[:3]}
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    comp = max(net.components, key=lambda c: len(c.nodes))
    return comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes], np.isin(comp.nodes, net.targets)


def test_a_small_bucket_pass_is_kept_for_the_next_question_on_the_same_evidence() -> None:
    from kneebayes.inference.pruned import bucket_marginals, release

    comp, own, template, wanted = _alarm_component()
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        run = bucket_value(comp, own, template, wanted)
        assert run is not None
        bucket_marginals(run, np.flatnonzero(wanted).tolist(), comp.cards)
        release(comp, run)
        assert bucket_value(comp, own, template, wanted) is run


def test_a_large_bucket_pass_is_let_go_once_its_marginals_are_taken() -> None:
    from kneebayes.inference import pruned

    comp, own, template, wanted = _alarm_component()
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), mock.patch.object(pruned, "KEEP_ENTRIES", -1.0):
        run = bucket_value(comp, own, template, wanted)
        assert run is not None
        pruned.bucket_marginals(run, np.flatnonzero(wanted).tolist(), comp.cards)
        pruned.release(comp, run)
        again = bucket_value(comp, own, template, wanted)
    assert again is not run and again is not None
    assert again.value == run.value


def test_a_bucket_pass_whose_value_is_not_small_multiplies_plainly_and_equals_the_rescaled_pass() -> None:
    from kneebayes.inference import pruned

    comp, own, template, wanted = _alarm_component()
    positions = np.flatnonzero(wanted).tolist()
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        plain = bucket_value(comp, own, template, wanted)
        assert plain is not None
        plain_marginals = pruned.bucket_marginals(plain, positions, comp.cards)
        with mock.patch.object(pruned, "KEEP_ENTRIES", -1.0):   # let the kept pass go, so the next one runs
            pruned.release(comp, plain)
        with mock.patch.object(pruned, "HIDDEN_UNDERFLOW", math.inf):   # no value is large enough to trust plainly
            rescaled = bucket_value(comp, own, template, wanted)
            assert rescaled is not None
            rescaled_marginals = pruned.bucket_marginals(rescaled, positions, comp.cards)
    assert plain.value >= pruned.HIDDEN_UNDERFLOW and not plain.rescaled
    assert rescaled.rescaled
    assert plain.value == pytest.approx(rescaled.value * math.exp(rescaled.log_scale), rel=1e-12, abs=0)
    for j in positions:
        np.testing.assert_allclose(plain_marginals[j], rescaled_marginals[j], rtol=1e-12, atol=0.0)


CHAIN = 40
FLIP = 1e-12        # P(X_i+1 differs from X_i)
RULED_OUT = 1e-20   # P(F_i = yes) in the state each finding rules out: X_i = yes for even i, no for odd


def _chain_bif() -> str:
    lines = ["network chain {}"]
    lines += [f"variable {v} {{ type discrete [ 2 ] {{ yes, no }}; }}" for i in range(CHAIN) for v in (f"X{i}", f"F{i}")]
    lines.append("probability ( X0 ) { table 0.7, 0.3; }")
    lines += [f"probability ( X{i} | X{i - 1} ) {{ (yes) {1 - FLIP!r}, {FLIP!r}; (no) {FLIP!r}, {1 - FLIP!r}; }}"
              for i in range(1, CHAIN)]
    for i in range(CHAIN):
        p_yes = (RULED_OUT, 1.0) if i % 2 == 0 else (1.0, RULED_OUT)    # P(F_i = yes | X_i = yes), (... | no)
        lines.append(f"probability ( F{i} | X{i} ) {{ (yes) {p_yes[0]!r}, {1 - p_yes[0]!r}; "
                     f"(no) {p_yes[1]!r}, {1 - p_yes[1]!r}; }}")
    return "\n".join(lines) + "\n"


def _chain_reference() -> list[np.ndarray]:
    """P(X_i | every F = yes) by forward-backward in log space."""
    log_step = np.log(np.array([[1 - FLIP, FLIP], [FLIP, 1 - FLIP]]))
    log_f = [np.log(np.array((RULED_OUT, 1.0) if i % 2 == 0 else (1.0, RULED_OUT))) for i in range(CHAIN)]
    forward = [np.log(np.array([0.7, 0.3])) + log_f[0]]
    for i in range(1, CHAIN):
        forward.append(np.logaddexp.reduce(forward[-1][:, None] + log_step, axis=0) + log_f[i])
    backward = [np.zeros(2) for _ in range(CHAIN)]
    for i in range(CHAIN - 2, -1, -1):
        backward[i] = np.logaddexp.reduce(log_step + (log_f[i + 1] + backward[i + 1])[None, :], axis=1)
    out = []
    for f, b in zip(forward, backward):
        s = f + b
        out.append(np.exp(s - np.logaddexp.reduce(s)))
    return out


def test_the_way_back_after_a_rescaled_pass_rescales_every_message(tmp_path: Path) -> None:
    """Forty findings, each ruling out one state of its X_i in turn: P(evidence) is about 1e-391, and the collect
    pass rescales. Each message on the way back multiplies in more findings that rule out one state or the
    other and shrinks by orders of magnitude a step: forty steps would take it past the smallest double (a
    marginal of 0/0, seen with the way back's rescaling taken out) unless each message is rescaled too."""
    path = tmp_path / "chain.bif"
    path.write_text(_chain_bif(), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        spec = kneebayes.load_bif(path, targets=["X0"]).spec
    model = _pruned_model(spec)
    runs: list[object] = []
    with _buckets_always(runs):
        got = model.marginals({f"F{i}": "yes" for i in range(CHAIN)}, nodes=[f"X{i}" for i in range(CHAIN)])
    assert runs and all(isinstance(run, BucketRun) and run.rescaled for run in runs)
    for i, expected in enumerate(_chain_reference()):
        assert [got[f"X{i}"]["yes"], got[f"X{i}"]["no"]] == pytest.approx(expected.tolist(), rel=1e-9, abs=0.0), i


def test_a_component_with_a_split_noisy_or_takes_no_bucket_pass_and_stays_exact() -> None:
    """A noisy-OR with two parents outside the targets is split into pieces that subtract (over a hidden
    variable); a message may then be zero or negative, which rescaling by its largest entry cannot take. With a
    zero leak and zero weights P(v5 = yes) is exactly 0 (the bucket pass once made it 1)."""
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Parameter, Prior

    def number(v: float) -> Parameter:
        return Parameter(value=v, source="test", rationale="test", range=None, term=None, data=())

    def node(name: str, params: Prior | NoisyOr) -> NodeSpec:
        return NodeSpec(id=name, label=name, kind="cause", question=f"{name}?", states=("yes", "no"),
                        parameters=params, askable=False)

    half = Prior((number(0.5), number(0.5)))
    spec = ModelSpec(name="split", version="0", title="split", nodes=(
        node("v0", half), node("v1", half), node("v5", NoisyOr(number(0.0), (("v0", number(0.0)), ("v1", number(0.0)))))))
    model = _pruned_model(spec)
    assert any(comp.pruning is not None and comp.pruning.hidden_cards for comp in model.network.components)
    runs: list[object] = []
    with _buckets_always(runs):
        got = model.diagnose({}).distributions["v5"]
    assert not runs
    assert dict(got) == {"yes": 0.0, "no": 1.0}


def _asked_while_nothing_pays(comp: compiled.Component, own: np.ndarray, template: np.ndarray, wanted: np.ndarray,
                              calls: int) -> list[bool]:
    """``planning_pays`` on each of ``calls`` patterns, each planned where it says so, while no plan pays."""
    pr = comp.pruning
    assert pr is not None
    hard = (own[0] != template).any(axis=1)
    none = np.zeros(len(comp.cards), dtype=bool)
    asked = []
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(pruned_plan, "PLAN_PAYS_FROM", math.inf):
        for _ in range(calls):
            asked.append(pruned_plan.planning_pays(pr, comp.cards))
            if asked[-1]:
                assert bucket_plan(pr, comp.cards, hard, none, wanted, math.inf) is not None
    return asked


def _pay_once(comp: compiled.Component, own: np.ndarray, template: np.ndarray, wanted: np.ndarray) -> None:
    pr = comp.pruning
    assert pr is not None
    hard = (own[0] != template).any(axis=1)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(pruned_plan, "PLAN_PAYS_FROM", 0.0):
        assert bucket_plan(pr, comp.cards, hard, np.zeros(len(comp.cards), dtype=bool), wanted, math.inf) is not None


def test_planning_stops_after_planned_patterns_that_do_not_pay_but_for_one_in_quick_retry() -> None:
    # DIABETES planned each pattern in 16 ms, where its fixed plan takes 14 and the pruned pass as long.
    comp, own, template, wanted = _alarm_component()
    _pay_once(comp, own, template, wanted)
    misses, retry = pruned_plan.QUICK_MISSES, pruned_plan.QUICK_RETRY
    asked = _asked_while_nothing_pays(comp, own, template, wanted, misses + 2 * retry)
    assert asked[:misses] == [True] * misses
    retried = [k for k, yes in enumerate(asked[misses:]) if yes]
    assert len(retried) == 2 and retried[1] - retried[0] == retry


def test_a_planned_pattern_that_pays_resumes_planning() -> None:
    comp, own, template, wanted = _alarm_component()
    assert comp.pruning is not None
    _pay_once(comp, own, template, wanted)
    _asked_while_nothing_pays(comp, own, template, wanted, pruned_plan.QUICK_MISSES)
    assert _asked_while_nothing_pays(comp, own, template, wanted, pruned_plan.QUICK_RETRY).count(True) == 1
    _pay_once(comp, own, template, wanted)
    assert all(pruned_plan.planning_pays(comp.pruning, comp.cards) for _ in range(pruned_plan.QUICK_MISSES))


def test_a_plan_weighed_against_another_alternative_does_not_count_against_planning() -> None:
    # A last resort's bucket pass (than=) is weighed against many passes, not the fixed plan's one.
    comp, own, template, wanted = _alarm_component()
    pr = comp.pruning
    assert pr is not None
    _pay_once(comp, own, template, wanted)
    hard = (own[0] != template).any(axis=1)
    with mock.patch.object(pruned_plan, "PLAN_PAYS_FROM", math.inf):
        for _ in range(2 * pruned_plan.QUICK_MISSES):
            bucket_plan(pr, comp.cards, hard, np.zeros(len(comp.cards), dtype=bool), wanted, math.inf, than=math.inf)
    assert all(pruned_plan.planning_pays(pr, comp.cards) for _ in range(pruned_plan.QUICK_MISSES))


def test_a_pattern_left_unplanned_takes_the_fixed_plan_once_and_is_planned_when_it_comes_again() -> None:
    comp, own, template, wanted = _alarm_component()
    assert comp.pruning is not None
    _pay_once(comp, own, template, wanted)
    comp.pruning.plans.clear()
    answered = int(np.flatnonzero((own[0] != template).any(axis=1))[0])
    other = own.copy()          # the same pattern, another answer
    card = comp.cards[answered]
    other[0, answered, :card] = np.roll(own[0, answered, :card], 1)
    assert not np.array_equal(other, own)
    with mock.patch("kneebayes.inference.pruned.planning_pays", lambda *_: False), \
            mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        assert bucket_value(comp, own, template, wanted) is None
        again = bucket_value(comp, other, template, wanted)
    assert again is not None
    assert len(comp.pruning.plans) == 1


def test_a_pattern_declined_against_one_alternative_is_weighed_again_against_a_dearer_one() -> None:
    # Whether a last resort's bucket pass is taken depends on what it is weighed against (``than``): a decline
    # against a cheap alternative, kept for the pattern, made the answer depend on the calls before.
    comp, own, template, wanted = _alarm_component()
    assert bucket_value(comp, own, template, wanted, than=0.0) is None     # nothing beats a free alternative
    assert bucket_value(comp, own, template, wanted, than=math.inf) is not None


def test_a_kept_target_pattern_declined_against_one_alternative_is_weighed_again_against_a_dearer_one() -> None:
    from kneebayes.inference.pruned import bucket_joints

    comp, own, template, _ = _alarm_component(_enumerated_pruned_model)   # its own model: plans are kept per component
    wanted = (own[0] == template).all(axis=1)                      # every open node
    assert bucket_joints(comp, own, template, wanted, math.inf, 0.0) is None
    assert bucket_joints(comp, own, template, wanted, math.inf, math.inf) is not None


def test_a_component_whose_fixed_plan_is_costly_plans_every_pattern() -> None:
    # There a pass even a few times cheaper repays its planning (MUNIN1's fixed plan: about a second).
    comp, own, template, wanted = _alarm_component()
    _pay_once(comp, own, template, wanted)
    with mock.patch.object(pruned_plan, "UNPLANNED_UP_TO", -1.0):
        asked = _asked_while_nothing_pays(comp, own, template, wanted, pruned_plan.QUICK_MISSES + pruned_plan.QUICK_RETRY)
    assert all(asked)


def test_a_bucket_of_more_tables_than_one_einsum_takes_runs_in_chunks() -> None:
    # A cause with seventy answered findings: seventy tables over the cause in its bucket, past numpy's 32 operands
    # (this raised numpy's "too many operands" before).
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Prior
    from strategies import param

    yes_no = ("yes", "no")
    nodes = [NodeSpec(id="r", label="r", kind="risk_factor", question="r?", states=yes_no,
                      parameters=Prior((param(0.3), param(0.7))), askable=True),
             NodeSpec(id="c", label="c", kind="cause", question="c?", states=yes_no,
                      parameters=NoisyOr(param(0.1), (("r", param(0.6)),)), askable=False)]
    nodes += [NodeSpec(id=f"f{i}", label=f"f{i}", kind="finding", question=f"f{i}?", states=yes_no,
                       parameters=NoisyOr(param(0.2), (("c", param(0.3 + 0.005 * i)),)), askable=True) for i in range(70)]
    spec = ModelSpec(name="star", version="0", title="star", nodes=tuple(nodes))
    evidence = {f"f{i}": ("yes", "no")[i % 3 == 0] for i in range(70)}
    expected = kneebayes.Model(spec, joint_limit=1).diagnose(evidence)
    runs: list[object] = []
    with _buckets_always(runs):
        dx = _pruned_model(spec).diagnose(evidence)
        got = dx.distributions["c"]["yes"]
    assert runs
    assert got == pytest.approx(expected.distributions["c"]["yes"], rel=1e-12)
    assert dx.log_evidence_probability == pytest.approx(expected.log_evidence_probability, rel=1e-12)


# ---------------------------------------------------------------------------------
# With the targets kept: every node's joint with the targets, as a ranking needs
# ---------------------------------------------------------------------------------
@contextmanager
def _target_buckets_always(runs: list[object]) -> Iterator[None]:
    """The bucket pass with the targets kept taken wherever it can be (however cheap the sweep or clamps it
    replaces, and however small the component: a small one would take its plain sweep first), and each that
    answered counted."""
    from kneebayes.inference.pruned import bucket_joints

    def counted(*args: object, **kwargs: object) -> object:
        found = bucket_joints(*args, **kwargs)  # type: ignore[arg-type]
        if found is not None:
            runs.append(found)
        return found

    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(node_joints, "TARGET_BUCKETS_FROM", -1.0), \
            mock.patch.object(posterior, "ROW_PRUNE_WORK", -1.0), \
            mock.patch.object(node_joints, "ROW_PRUNE_WORK", -1.0), \
            mock.patch.object(pruned_plan, "TARGETS_KEPT_FACTOR", -1.0), \
            mock.patch.object(node_joints, "bucket_joints", counted):
        yield


def _enumerated_pruned_model(spec: ModelSpec) -> kneebayes.Model:
    """Every component pruned, the targets enumerated: the components touch them."""
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        return kneebayes.Model(spec)


def _brute_joint_with_targets(reference: object, net: compiled.CompiledNetwork, node: int) -> np.ndarray:
    """P(node = x, targets = k | evidence), (card, K), from the conditioned full joint."""
    names, conditioned = reference.names, reference.conditioned   # type: ignore[attr-defined]
    kept = [names.index(net.names[node])] + [names.index(net.names[t]) for t in net.enumerated]
    table = conditioned.sum(axis=tuple(a for a in range(len(names)) if a not in kept))
    table = np.transpose(table, np.argsort(np.argsort(kept)))   # the summed array's axes come in increasing order
    return np.stack([table[(slice(None), *k)] for k in net.joint_states.tolist()], axis=1)


def _target_bucket_case(model: kneebayes.Model, evidence: Mapping[str, object]) -> tuple[np.ndarray, list[int]]:
    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.node_joints import joint_with_targets
    from kneebayes.inference.posterior import encode, target_joint

    net = model.network
    nodes = [v for v in range(len(net.names)) if v not in net.enumerated]
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    return joint_with_targets(net, lam, target_joint(net, lam), nodes)[0], nodes


def _kept_pass_applies(model: kneebayes.Model, evidence: Mapping[str, object]) -> bool:
    """Whether some component the targets touch has an unanswered node and no noisy-OR split into pieces."""
    net = model.network
    return any(comp.pruning is not None and not comp.pruning.hidden_cards and math.prod(comp.expand_shape) > 1
               and any(net.names[v] not in evidence for v in comp.nodes.tolist()) for comp in net.components)


@given(case=networks_with_evidence(min_causes=1))
def test_a_bucket_pass_with_the_targets_kept_gives_each_nodes_joint_with_the_targets_as_brute_force(
    case: tuple[ModelSpec, dict[str, str]]
) -> None:
    spec, evidence = case
    reference = brute_force(spec, evidence)
    assume(reference.p_evidence > 1e-200)
    model = _enumerated_pruned_model(spec)
    runs: list[object] = []
    with _target_buckets_always(runs):
        stack, nodes = _target_bucket_case(model, evidence)
    net = model.network
    assert runs or not _kept_pass_applies(model, evidence)
    for n, v in enumerate(nodes):
        expected = _brute_joint_with_targets(reference, net, v)
        np.testing.assert_allclose(stack[n, : net.cards[v]], expected, rtol=0.0, atol=TOL, err_msg=net.names[v])


@given(case=networks_with_evidence(min_causes=1), data=st.data())
def test_a_bucket_pass_with_the_targets_kept_and_a_soft_answer_equals_clamping(
    case: tuple[ModelSpec, dict[str, str]], data: st.DataObject
) -> None:
    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.node_joints import joint_with_targets
    from kneebayes.inference.posterior import encode, target_joint

    spec, evidence = case
    assume(evidence)
    soft = data.draw(st.sampled_from(sorted(evidence)))
    states = spec.node(soft).states
    raw = data.draw(st.lists(st.floats(0.05, 1.0), min_size=len(states), max_size=len(states)))
    ev: dict[str, object] = dict(evidence)
    ev[soft] = kneebayes.Likelihood(dict(zip(states, (np.array(raw) / max(raw)).tolist())))
    model = _enumerated_pruned_model(spec)
    net = model.network
    lam = encode(net, [to_indices(net, normalize(net, ev))])
    try:
        tj = target_joint(net, lam)
    except kneebayes.ImpossibleEvidenceError:
        assume(False)
    assume(tj.log_evidence[0] > math.log(1e-200))
    nodes = [v for v in range(len(net.names)) if v not in net.enumerated]
    clamped = joint_with_targets(net, lam, tj, nodes, method="clamp")
    with _target_buckets_always([]):
        kept = joint_with_targets(net, lam, tj, nodes)
    np.testing.assert_allclose(kept, clamped, rtol=0.0, atol=TOL)


def test_a_bucket_pass_with_the_targets_kept_is_weighed_against_the_callers_alternative() -> None:
    comp, _, _, _ = _alarm_component_touching_targets()
    pr = comp.pruning
    assert pr is not None
    n = len(comp.nodes)
    none, every = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True):
        assert bucket_plan(pr, comp.cards, none, none, every, math.inf) is None   # without targets: never
        plan = bucket_plan(pr, comp.cards, none, none, every, math.inf, than=math.inf, targets=True)
        assert plan is not None and set(plan.kept) == set(range(n))
        assert bucket_plan(pr, comp.cards, none, none, every, math.inf, than=plan.work, targets=True) is None
        assert bucket_plan(pr, comp.cards, none, none, every, 1.0, than=math.inf, targets=True) is None   # too large


def test_after_a_few_kept_target_passes_declined_in_a_row_only_one_pattern_in_so_many_is_weighed() -> None:
    pytest.importorskip("pgmpy")
    from networks import bif_path, structure

    roots = [n for n, ps in structure(bif_path("alarm")).items() if not ps][:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        spec = kneebayes.load_bif(bif_path("alarm"), targets=roots).spec
    net = _enumerated_pruned_model(spec).network   # its own: the streak is kept per component
    comp = max(net.components, key=lambda c: len(c.nodes))
    pr = comp.pruning
    assert pr is not None
    n = len(comp.nodes)
    none, every = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    searched: list[object] = []
    choose_buckets = pruned_plan.choose_buckets

    def counted(*args: object, **kwargs: object) -> object:
        searched.append(args)
        return choose_buckets(*args, **kwargs)  # type: ignore[arg-type]

    def weigh(than: float) -> BucketPlan | None:
        return bucket_plan(pr, comp.cards, none, none, every, math.inf, than=than, targets=True)

    with mock.patch.object(Pruning, "worth_it", lambda self, *_: True), \
            mock.patch.object(pruned_plan, "choose_buckets", counted):
        for _ in range(pruned_plan.QUICK_MISSES):
            assert weigh(0.0) is None                  # declined: nothing beats a free alternative
        assert len(searched) == pruned_plan.QUICK_MISSES
        answers = [weigh(math.inf) for _ in range(pruned_plan.QUICK_RETRY - pruned_plan.QUICK_MISSES)]
        skipped = sum(plan is None for plan in answers)  # unweighed, however cheap the pass would be
        assert answers[-1] is not None
        assert len(searched) == pruned_plan.QUICK_MISSES + 1   # only the pattern that answered was weighed
        assert weigh(math.inf) is not None             # taken: the streak is over, every pattern weighed again
    assert skipped == pruned_plan.QUICK_RETRY - pruned_plan.QUICK_MISSES - 1


def _taken(answers: list[bool]) -> object:
    """``node_joints._by_target_buckets``, each answer (whether the kept-target pass wrote the joints) recorded."""
    by_target_buckets = node_joints._by_target_buckets

    def spied(*args: object) -> bool:
        answers.append(by_target_buckets(*args))  # type: ignore[arg-type]
        return answers[-1]

    return spied


def test_a_kept_target_pass_whose_targets_value_may_have_underflowed_gives_way_to_another_path() -> None:
    from kneebayes.inference.node_joints import joint_with_targets
    from kneebayes.inference.posterior import target_joint

    comp, _, _, lam = _alarm_component_touching_targets()
    net = _ALARM_TOUCHING[0].network
    nodes = [int(v) for v in comp.nodes]
    tj = target_joint(net, lam)
    answers: list[bool] = []
    with _target_buckets_always([]), mock.patch.object(node_joints, "_by_target_buckets", _taken(answers)):
        kept = joint_with_targets(net, lam, tj, nodes)
        assert answers == [True]
        with mock.patch.object(node_joints, "HIDDEN_UNDERFLOW", math.inf):   # every value counts as too small
            declined = joint_with_targets(net, lam, tj, nodes)
    assert answers == [True, False]
    np.testing.assert_allclose(declined, kept, rtol=0.0, atol=1e-12)


# WATER, four targets mid-network and six answers (a set of benchmarks/bench_any_targets.py).
WATER_TARGETS = ["CNON_12_00", "CBODD_12_15", "CKND_12_15", "CNON_12_30"]
WATER_ANSWERS = {"CNON_12_15": "4_MG_L", "CNOD_12_30": "0_5_MG_L", "CKNI_12_45": "20_MG_L", "CKND_12_00": "4_MG_L",
                 "CKND_12_45": "4_MG_L", "CNOD_12_45": "0_5_MG_L"}


def test_a_ranking_on_water_takes_the_kept_target_pass_and_equals_clamping() -> None:
    """With the default thresholds: the sweep of WATER's component costs 4e8 units, this pass about 2e7 entries
    both ways. The targets' values, 1e-9 and below, are small but not against their posteriors: no state of
    the targets can have lost a joint above 1e-300, so the pass answers."""
    pytest.importorskip("pgmpy")
    from networks import bif_path

    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.node_joints import joint_with_targets
    from kneebayes.inference.posterior import encode, target_joint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        model = kneebayes.load_bif(bif_path("water"), targets=WATER_TARGETS)
    net = model.network
    lam = encode(net, [to_indices(net, normalize(net, WATER_ANSWERS))])
    tj = target_joint(net, lam)
    nodes = [v for v in range(len(net.names)) if v not in net.enumerated and net.names[v] not in WATER_ANSWERS]
    answers: list[bool] = []
    with mock.patch.object(node_joints, "_by_target_buckets", _taken(answers)):
        kept = joint_with_targets(net, lam, tj, nodes)
    assert answers == [True]
    np.testing.assert_allclose(kept, joint_with_targets(net, lam, tj, nodes, method="clamp"), rtol=0.0, atol=TOL)


_ALARM_TOUCHING: list[kneebayes.Model] = []


def _alarm_component_touching_targets() -> tuple[compiled.Component, np.ndarray, np.ndarray, np.ndarray]:
    """ALARM with three roots enumerated, every component pruned, and three leaves answered: (its largest
    component, its own rows, its template, the whole lam)."""
    pytest.importorskip("pgmpy")
    from networks import bif_path, leaves, structure

    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.posterior import encode

    parents = structure(bif_path("alarm"))
    roots = [n for n, ps in parents.items() if not ps][:3]
    if not _ALARM_TOUCHING:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
            spec = kneebayes.load_bif(bif_path("alarm"), targets=roots).spec
        _ALARM_TOUCHING.append(_enumerated_pruned_model(spec))
    net = _ALARM_TOUCHING[0].network
    evidence = {leaf: net.states[net.index[leaf]][0] for leaf in leaves(parents)[:3]}
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    comp = max(net.components, key=lambda c: len(c.nodes))
    assert math.prod(comp.expand_shape) > 1
    return comp, lam[:, comp.nodes, :], net.lam_template[comp.nodes], lam


def test_a_way_back_that_underflows_hands_over_to_a_path_that_rescales() -> None:
    """Ten nodes with entries down to 1e-300 (tests/data/bucket_underflow_net.json, found by fuzzing), five
    answers (P(e) = 1.1e-221), a 20 KiB budget: a message on the bucket pass's way back came out all zeros, and
    0 / 0 made N6's gain NaN, with numpy's warnings. 0.4290570693952631 bits is the gain enumerated over the
    whole joint in extended precision."""
    import json

    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    data = json.loads((Path(__file__).parent / "data" / "bucket_underflow_net.json").read_text())
    states = dict(zip(data["names"], data["states"]))
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(data["names"])   # in this order: another one takes another path, where nothing underflows
    bn.add_edges_from([(p, child) for child, ps in data["parents"].items() for p in ps])
    bn.add_cpds(*[TabularCPD(n, len(states[n]), data["tables"][n], evidence=data["parents"][n] or None,
                             evidence_card=[len(states[p]) for p in data["parents"][n]] or None,
                             state_names={n: states[n], **{p: states[p] for p in data["parents"][n]}})
                  for n in data["names"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.PrecisionWarning)
        base = kneebayes.from_pgmpy(bn, targets=data["targets"])
        small = kneebayes.Model(base.spec, targets=data["targets"], joint_limit=1, memory_budget=20480)
    evidence = {"N9": "s0", "N1": "s1", "N0": "s3", "N3": "s0", "N2": "s2"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        gains = {q.id: q.expected_information_gain for q in small.diagnose(evidence).ranked_questions}
    assert gains["N6"] == pytest.approx(0.4290570693952631, abs=1e-12)
