"""What a pruned pattern's plan is built from (src/kneebayes/network/pruned_plan.py): the components' factors with
the targets' axes last, one label per variable, and the one order chooser both pruned paths share.

Components are taken from small random networks with pruning switched on
for all of them (targets enumerated, so they lie on the components' axes).
"""

from __future__ import annotations

import math
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import networks

import kneebayes
from kneebayes.modelfile.schema import ModelSpec
from kneebayes.network import compiled, pruned_plan
from kneebayes.network.pruned_plan import ALPHABET, choose_buckets, einsum_subscripts, labels, targets_last


def _components(spec: ModelSpec) -> list[compiled.Component]:
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        model = kneebayes.Model(spec)
    return [comp for comp in model.network.components if comp.pruning is not None]


def _apart_components(spec: ModelSpec) -> list[compiled.Component]:
    """Components with pruning switched on and no target on their axes (the targets not enumerated): the
    ones a bucket pass serves."""
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        model = kneebayes.Model(spec, joint_limit=1)
    return [comp for comp in model.network.components if comp.pruning is not None and not comp.pruning.targets]


@given(spec=networks())
def test_targets_last_holds_each_factor_with_the_targets_axes_moved_last(spec: ModelSpec) -> None:
    for comp in _components(spec):
        pr = comp.pruning
        assert pr is not None
        tables, scopes = targets_last(pr)
        for table, scope, original, original_scope in zip(tables, scopes, pr.tables, pr.scopes):
            kept = [v for v in original_scope if v not in pr.targets]
            assert list(scope) == kept + [t for t in pr.targets if t in original_scope]
            np.testing.assert_array_equal(table, original.transpose([original_scope.index(v) for v in scope]))


@given(spec=networks())
def test_labels_follow_the_axis_order_with_the_targets_last(spec: ModelSpec) -> None:
    for comp in _components(spec):
        pr = comp.pruning
        assert pr is not None
        lab = labels(pr, comp.cards)
        named = sorted(zip(pr.node_ids, lab.node))
        assert [u for _, u in named] == sorted(lab.node)            # nodes: by id
        assert all(u < t for u in lab.node for t in lab.targets)     # targets: after every node
        assert list(lab.targets) == sorted(lab.targets)
        _, scopes = targets_last(pr)
        for scope, text in zip(scopes, lab.factor):
            assert [lab.card[u] for u in text] == [_card(comp, v) for v in scope]


def _card(comp: compiled.Component, v: int) -> int:
    """A variable's cardinality as the component's pruning knows it: a node, a split noisy-OR's hidden
    variable, or a target."""
    pr = comp.pruning
    assert pr is not None
    if v in pr.position:
        return comp.cards[pr.position[v]]
    if v in pr.hidden_cards:
        return pr.hidden_cards[v]
    return pr.target_cards[pr.targets.index(v)]


def _replay(order: tuple[str, ...], scopes: list[str]) -> list[str]:
    """The cliques an order really builds, by plain bucket elimination on the scopes (each message over the
    sorted labels of its inputs)."""
    live = [set(s) for s in scopes]
    cliques = []
    for v in order:
        joined = set().union(*[s for s in live if v in s])
        live = [s for s in live if v not in s] + [joined - {v}]
        cliques.append(v + "".join(sorted(joined - {v})))
    return cliques


@pytest.mark.parametrize("scan_work", [pruned_plan.SCAN_WORK, -1], ids=["scan", "index"])
@given(spec=networks(), data=st.data())
def test_choose_buckets_builds_the_cliques_its_order_builds(scan_work: int, spec: ModelSpec,
                                                            data: st.DataObject) -> None:
    for comp in _components(spec):
        pr = comp.pruning
        assert pr is not None
        lab = labels(pr, comp.cards)
        observed = set(data.draw(st.sets(st.sampled_from(lab.node))))
        scopes = ["".join(u for u in scope if u not in observed) for scope in lab.factor]
        variables = sorted(set(lab.node) - observed)
        enough = data.draw(st.sampled_from([0.0, math.inf]))    # the greedy search, or the component's own order
        with mock.patch.object(pruned_plan, "SCAN_WORK", scan_work):   # each bucket found by a scan, or the index
            buckets = choose_buckets(pr, comp.cards, variables, scopes, enough)
        assert sorted(buckets.order) == variables
        assert list(buckets.cliques) == _replay(buckets.order, scopes)
        sizes = [float(math.prod(lab.card[u] for u in clique)) for clique in buckets.cliques]
        assert buckets.total == sum(sizes) and buckets.largest == max(sizes, default=0.0)
        assert buckets.sizes == tuple(sizes)
        assert all(not set(vs) & set(variables) for _, vs in buckets.left)   # what is left is over targets only
        for n, up in enumerate(buckets.parents):   # each step's parent is the step that takes its message, if any
            taken = [m for m, (slots, _) in enumerate(buckets.steps) if len(scopes) + n in slots]
            assert taken == ([up] if up >= 0 else [])


def _alarm_component() -> compiled.Component:
    """ALARM's largest component, pruned, from a compile of its own (planning keeps its state per component)."""
    pytest.importorskip("pgmpy")
    from networks import bif_path, structure

    roots = [n for n, ps in structure(bif_path("alarm")).items() if not ps][:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        spec = kneebayes.load_bif(bif_path("alarm"), targets=roots).spec
    return max(_apart_components(spec), key=lambda comp: len(comp.nodes))


def test_choose_buckets_orders_a_pattern_alike_whatever_patterns_it_ordered_before() -> None:
    # A count of patterns in a row that the component's order had not served skipped that order for the next
    # ones, which took the greedy order instead: the order, and the last bits of a posterior, depended on the
    # patterns planned before (BARLEY: four evidence sets moved a fifth's posterior by 5.6e-17).
    fresh, used = _alarm_component(), _alarm_component()
    assert fresh.pruning is not None and used.pruning is not None
    lab = labels(fresh.pruning, fresh.cards)
    variables, scopes = sorted(lab.node), list(lab.factor)
    expected = choose_buckets(fresh.pruning, fresh.cards, variables, scopes, math.inf)   # the component's own order
    for _ in range(pruned_plan.QUICK_MISSES + 1):
        choose_buckets(used.pruning, used.cards, variables, scopes, 0.0)   # nothing is quick enough: not served
    assert choose_buckets(used.pruning, used.cards, variables, scopes, math.inf) == expected


def test_einsum_subscripts_rename_labels_past_the_alphabet_by_their_place() -> None:
    wide = chr(0x10000 + 60)
    assert einsum_subscripts([ALPHABET[3] + wide, wide], ALPHABET[3], ALPHABET[3] + wide) == "bc,c->b"
    assert einsum_subscripts(["AB", "B"], "A", "AB") == "AB,B->A"



@given(spec=networks(), data=st.data())
def test_bucket_plan_weighs_the_components_order_before_declining(spec: ModelSpec, data: st.DataObject) -> None:
    # After QUICK_MISSES patterns the component's order did not serve, choose_buckets skips it; a pattern that
    # order serves must still not be declined, or whether it is would depend on the patterns planned before
    # (MUNIN3, a target clamped: declined, then a 54 s fallback).
    for comp, fresh in zip(_apart_components(spec), _apart_components(spec)):
        pr, pr_fresh = comp.pruning, fresh.pruning
        assert pr is not None and pr_fresh is not None
        if pr.hidden_cards:
            continue     # a split noisy-OR's pieces subtract: never planned by buckets
        hard = np.array(data.draw(st.lists(st.booleans(), min_size=len(comp.cards), max_size=len(comp.cards))))
        none = np.zeros(len(comp.cards), dtype=bool)
        with mock.patch.object(pruned_plan.Pruning, "worth_it", lambda self, n, work=None, than=None: True):
            first = pruned_plan.bucket_plan(pr_fresh, fresh.cards, hard, none, none, math.inf)   # its order, quick
        assert first is not None
        lab = labels(pr, comp.cards)
        for _ in range(pruned_plan.QUICK_MISSES):     # nothing is quick enough: each a miss
            choose_buckets(pr, comp.cards, sorted(lab.node), list(lab.factor), 0.0)
        # Only a plan as cheap as the first is accepted.
        with mock.patch.object(pruned_plan.Pruning, "worth_it", lambda self, n, work=None, than=None: work is None or work <= first.work):
            after_misses = pruned_plan.bucket_plan(pr, comp.cards, hard, none, none, math.inf)
        assert after_misses is not None and after_misses.work <= first.work


@given(spec=networks(), data=st.data())
def test_bucket_plan_is_weighed_against_the_callers_alternative(spec: ModelSpec, data: st.DataObject) -> None:
    # A bucket pass for every node's marginal replaces a sweep or a pass per clamp, not one fixed pass (MUNIN,
    # a target clamped: declined against one fixed pass, then 5,500 pruned clamps took 100 s).
    for comp in _apart_components(spec):
        pr = comp.pruning
        assert pr is not None
        if pr.hidden_cards:
            continue     # a split noisy-OR's pieces subtract: never planned by buckets
        hard = np.array(data.draw(st.lists(st.booleans(), min_size=len(comp.cards), max_size=len(comp.cards))))
        none, every = np.zeros(len(comp.cards), dtype=bool), np.ones(len(comp.cards), dtype=bool)
        against_fixed = pruned_plan.bucket_plan(pr, comp.cards, hard, none, every, math.inf)
        against_more = pruned_plan.bucket_plan(pr, comp.cards, hard, none, every, math.inf, than=math.inf)
        assert against_more is not None
        assert against_fixed is None or against_fixed.work == against_more.work
        assert pruned_plan.bucket_plan(pr, comp.cards, hard, none, every, math.inf, than=0.0) is None
