"""Compiling within the memory budget: targets off the joint axis when enumerating them would not fit,
wide noisy-ORs kept in pieces, and full tables built only on demand; a change of numbers reuses the
structure's plans and gives exactly what a full compile gives."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import tracemalloc
import warnings
from collections.abc import Mapping
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import tiny_noisy_or_file

import kneebayes
from kneebayes import IntractableError
from kneebayes.inference.posterior import encode, target_joint
from kneebayes.modelfile.schema import NoisyOr
from kneebayes.network import compiled
from kneebayes.network.compiled import (
    STRUCTURES_KEPT,
    CompiledNetwork,
    clear_structure_cache,
    compile_network,
    structure_cache_info,
)
from kneebayes.network.tables import NodeTables
from kneebayes.research.draws import flat_values, spec_with_numbers

LEAK, WEIGHT, PRIOR = 0.01, 0.2, 0.3


def _number(value: float) -> str:
    return f"{{value: {value!r}, range: [0.0001, 0.9999], source: synthetic, rationale: drawn}}"


def _wide(path: Path, parents: int) -> Path:
    """``parents`` risk factors, all parents of one cause (a noisy-OR), which one finding reports."""
    lines = ["format: kneebayes-model/1", "name: wide", 'version: "1"', 'title: "wide"', "source_document: s", "nodes:"]
    for i in range(parents):
        lines += [f"  - id: r{i}", f"    label: r{i}", "    kind: risk_factor", f'    question: "r{i}?"', "    prior:",
                  f"      yes: {_number(PRIOR)}", f"      no: {_number(1 - PRIOR)}"]
    lines += ["  - id: c", "    label: c", "    kind: cause", '    question: "c?"', "    noisy_or:",
              f"      leak: {_number(LEAK)}", "      weights:", *(f"        r{i}: {_number(WEIGHT)}" for i in range(parents))]
    lines += ["  - id: f", "    label: f", "    kind: finding", '    question: "f?"', "    noisy_or:",
              f"      leak: {_number(0.05)}", "      weights:", f"        c: {_number(0.8)}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_noisy_or_with_28_parents_loads_without_its_full_table(tmp_path: Path) -> None:
    path = _wide(tmp_path / "wide.yaml", 28)
    tracemalloc.start()
    try:
        model = kneebayes.load_model(path)
        marginal = model.marginals({}, nodes=["c"])["c"]["yes"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20            # the full table alone would take 4 GiB
    # Independent parents: P(c = no) = (1 - leak) * (1 - prior * weight) ** 28, exactly.
    assert marginal == pytest.approx(1 - (1 - LEAK) * (1 - PRIOR * WEIGHT) ** 28, abs=1e-12)


def test_a_wide_noisy_or_answers_evidence_on_its_parents_exactly(tmp_path: Path) -> None:
    model = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 28))
    evidence = {"r0": "yes", "r1": "yes", "r5": "no"}
    got = model.marginals(evidence, nodes=["c"])["c"]["yes"]
    assert got == pytest.approx(1 - (1 - LEAK) * (1 - WEIGHT) ** 2 * (1 - PRIOR * WEIGHT) ** 25, abs=1e-12)


def _tiny_leak(path: Path, leak: float) -> Path:
    """A cause with leak ``leak`` over three risk factors (prior PRIOR, weight 1e-3 each)."""
    return tiny_noisy_or_file(path, leak, 1e-3, PRIOR)


@pytest.mark.parametrize("leak", [1e-6, 1e-12, 1e-300])
def test_a_noisy_or_with_a_tiny_leak_keeps_every_digit_of_its_yes(tmp_path: Path, leak: float) -> None:
    # Split into pieces, P(yes) would be a difference of two numbers near 1: 1e-12 came back off by 1e-5 of itself.
    model = kneebayes.load_model(_tiny_leak(tmp_path / "tiny.yaml", leak))
    none = {"r0": "no", "r1": "no", "r2": "no"}
    assert model.marginals(none, nodes=["c"])["c"]["yes"] == pytest.approx(leak, rel=1e-13, abs=0.0)
    assert model.diagnose(none).posterior["c"] == pytest.approx(leak, rel=1e-13, abs=0.0)
    one_open = {"r0": "no", "r1": "no"}      # P(yes) = 1 - (1 - leak) * (1 - PRIOR * 1e-3)
    expected = -math.expm1(math.log1p(-leak) + math.log1p(-PRIOR * 1e-3))
    assert model.marginals(one_open, nodes=["c"])["c"]["yes"] == pytest.approx(expected, rel=1e-13, abs=0.0)


def test_a_leak_changed_to_a_tiny_one_is_answered_to_every_digit_too(tmp_path: Path) -> None:
    # The plans of the ordinary leak are kept for reuse; the tiny one must not run on them.
    clear_structure_cache()
    model = kneebayes.load_model(_tiny_leak(tmp_path / "tiny.yaml", 0.01))
    changed = model.with_parameters({"c.leak": (1e-12, (1e-13, 1e-11))})
    none = {"r0": "no", "r1": "no", "r2": "no"}
    assert changed.marginals(none, nodes=["c"])["c"]["yes"] == pytest.approx(1e-12, rel=1e-13, abs=0.0)
    assert model.marginals(none, nodes=["c"])["c"]["yes"] == pytest.approx(0.01, rel=1e-13, abs=0.0)


def test_exporting_a_table_past_the_budget_is_refused_naming_the_node(tmp_path: Path) -> None:
    model = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 28))
    with pytest.raises(IntractableError, match=r"node 'c''s full table is only needed to export"):
        model.to_bif(tmp_path / "wide.bif")
    assert not (tmp_path / "wide.bif").exists()


def test_targets_leave_the_joint_axis_when_enumerating_them_passes_the_budget() -> None:
    import pgmpy

    path = Path(pgmpy.__file__).parent / "utils" / "example_models" / "alarm.bif.gz"
    targets = ["HYPOVOLEMIA", "LVFAILURE", "ANAPHYLAXIS", "INSUFFANESTH", "PULMEMBOLUS", "INTUBATION",
               "KINKEDTUBE", "DISCONNECT"]
    evidence = {"HRBP": "HIGH", "BP": "LOW", "SAO2": "LOW"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        roomy = kneebayes.load_bif(path, targets=targets)
        tight = kneebayes.load_bif(path, targets=targets, memory_budget=16 * 2**10)   # its largest enumerated table: 27 KiB
    assert roomy.network.enumerated and not tight.network.enumerated
    a, b = roomy.diagnose(evidence).distributions, tight.diagnose(evidence).distributions
    for target in targets:
        for state, p in a[target].items():
            assert abs(p - b[target][state]) <= 1e-12, (target, state)


def test_a_model_with_a_wide_noisy_or_diagnoses_and_ranks_questions(tmp_path: Path) -> None:
    model = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 28))
    dx = model.diagnose({"r0": "yes", "r1": "yes", "r5": "no"})
    assert dx.posterior["c"] == pytest.approx(1 - (1 - LEAK) * (1 - WEIGHT) ** 2 * (1 - PRIOR * WEIGHT) ** 25, abs=1e-12)
    assert dx.next_question is not None and dx.next_question.id.startswith(("r", "f"))


# -- a change of numbers reuses the structure's plans -----------------------------------------
# A chain under the target: Fault -> A -> (B, C), so A, B and C form one component with tables of their own.
CHAIN_BIF = """\
network chain { }
variable Fault { type discrete [ 2 ] { yes, no }; }
variable A { type discrete [ 3 ] { low, mid, high }; }
variable B { type discrete [ 2 ] { on, off }; }
variable C { type discrete [ 2 ] { on, off }; }
probability ( Fault ) { table 0.2, 0.8; }
probability ( A | Fault ) { (yes) 0.1, 0.3, 0.6; (no) 0.7, 0.2, 0.1; }
probability ( B | A ) { (low) 0.1, 0.9; (mid) 0.5, 0.5; (high) 0.8, 0.2; }
probability ( C | A ) { (low) 0.3, 0.7; (mid) 0.4, 0.6; (high) 0.9, 0.1; }
"""


KNEE = kneebayes.load_model()


@pytest.fixture(scope="module")
def knee() -> kneebayes.Model:
    return KNEE


@pytest.fixture
def chain(tmp_path: Path) -> kneebayes.Model:
    path = tmp_path / "chain.bif"
    path.write_text(CHAIN_BIF)
    return kneebayes.load_bif(path, targets=["Fault"])


def _same_arrays(a: object, b: object, where: str = "network") -> None:
    """Every array in two compiled networks equal to the last bit (plans compared field by field)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), where
    elif isinstance(a, NodeTables):
        assert isinstance(b, NodeTables) and len(a) == len(b), where
        for i in range(len(a)):
            _same_arrays(a[i], b[i], f"{where}[{i}]")
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same_arrays(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same_arrays(x, y, f"{where}[{i}]")
    elif isinstance(a, Mapping):
        assert isinstance(b, Mapping) and set(a) == set(b), where
        for key in a:
            _same_arrays(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, functools.partial):   # a step bound to its einsum call: the same call, arguments and keywords
        assert isinstance(b, functools.partial) and a.func is b.func, where
        _same_arrays((a.args, a.keywords), (b.args, b.keywords), where)
    else:
        assert a == b, where


def _reloaded(model: kneebayes.Model, path: Path) -> kneebayes.Model:
    """The model saved and loaded back, compiled from scratch (no structure kept)."""
    model.save(path)
    clear_structure_cache()
    fresh = kneebayes.load_model(path)
    assert structure_cache_info().hits == 0
    return fresh


def _assert_same_answers(a: kneebayes.Model, b: kneebayes.Model, evidence: dict[str, str]) -> None:
    da, db = a.diagnose(evidence), b.diagnose(evidence)
    assert da.distributions == db.distributions
    assert da.evidence_probability == db.evidence_probability
    assert a.marginals(evidence) == b.marginals(evidence)
    assert [q.expected_information_gain for q in da.ranked_questions] == [
        q.expected_information_gain for q in db.ranked_questions]


def test_with_parameters_reuses_the_plans_of_the_unchanged_structure(knee: kneebayes.Model) -> None:
    clear_structure_cache()
    first = compile_network(knee.spec)
    changed = knee.with_parameters({"bakers_cyst.leak": 0.2})
    assert structure_cache_info().hits == 1
    assert changed.network.components[0].steps is first.components[0].steps


def test_a_noisy_or_change_answers_exactly_as_the_saved_file(knee: kneebayes.Model, tmp_path: Path) -> None:
    changed = knee.with_parameters({"bakers_cyst.leak": 0.2, "meniscal_injury.weight[previous_injury]": 0.3})
    fresh = _reloaded(changed, tmp_path / "changed.yaml")
    _assert_same_answers(changed, fresh, {"locking_or_catching": "yes", "limping": "no"})


def test_a_prior_change_answers_exactly_as_the_saved_file(knee: kneebayes.Model, tmp_path: Path) -> None:
    changed = knee.with_parameters({"poor_warmup.prior": (0.7, (0.3, 0.8))})
    fresh = _reloaded(changed, tmp_path / "changed.yaml")
    _assert_same_answers(changed, fresh, {"swelling_behind_knee": "yes"})


def test_a_weight_set_to_zero_answers_exactly_as_the_saved_file(knee: kneebayes.Model, tmp_path: Path) -> None:
    changed = knee.with_parameters({"bakers_cyst.weight[meniscal_injury]": (0.0, (0.0, 0.0))})
    fresh = _reloaded(changed, tmp_path / "changed.yaml")
    _assert_same_answers(changed, fresh, {"swelling_behind_knee": "yes"})


def test_a_table_change_answers_exactly_as_the_saved_file(chain: kneebayes.Model, tmp_path: Path) -> None:
    compile_network(chain.spec)
    changed = chain.with_parameters({"A.table[Fault=yes][low]": 0.5, "B.table[A=mid][on]": 0.05})
    assert structure_cache_info().hits >= 1
    fresh = _reloaded(changed, tmp_path / "changed.yaml")
    _assert_same_answers(changed, fresh, {"B": "on"})


def test_a_split_noisy_or_change_answers_exactly_as_the_saved_file(tmp_path: Path) -> None:
    wide = kneebayes.load_model(_wide(tmp_path / "wide.yaml", 12))
    changed = wide.with_parameters({"c.weight[r3]": 0.6, "c.leak": 0.2})
    fresh = _reloaded(changed, tmp_path / "changed.yaml")
    _assert_same_answers(changed, fresh, {"r0": "yes", "f": "yes"})


def _numbers(net: CompiledNetwork) -> list[np.ndarray]:
    """Every array a compiled network computes from its numbers (the plans hold none)."""
    out = [net.base, *(group.tables for group in net.singletons), *(net.tables[i] for i in range(len(net.tables)))]
    for comp in net.components:
        out += [s for s in comp.slots if s is not None]
        out += [g.matrices for g in comp.leaf_groups] + [s.matrices for s in comp.leaf_stacks]
        if comp.gradient is not None:
            out += [s for s in comp.gradient.slots if s is not None]
        if comp.pruning is not None:
            out += list(comp.pruning.tables)
    return out


def test_a_reused_structure_gives_the_whole_network_of_a_full_compile(knee: kneebayes.Model) -> None:
    compile_network(knee.spec)
    changed = knee.with_parameters({"bakers_cyst.leak": 0.2, "poor_warmup.prior": 0.5})
    clear_structure_cache()
    _same_arrays(changed.network, compile_network(changed.spec))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(KNEE.parameters)), st.floats(0.001, 0.999))
def test_a_reused_structure_computes_the_numbers_of_a_full_compile(address: str, value: float) -> None:
    compile_network(KNEE.spec)                      # the structure is kept ...
    changed = KNEE.with_parameters({address: (value, (min(value, 0.5), max(value, 0.5)))})   # ... and reused here
    clear_structure_cache()
    fresh = _numbers(compile_network(changed.spec))
    reused = _numbers(changed.network)
    assert len(reused) == len(fresh)
    assert all(a.shape == b.shape and a.tobytes() == b.tobytes() for a, b in zip(reused, fresh))


def test_a_pruned_component_gets_the_pruning_of_a_full_compile(knee: kneebayes.Model, tmp_path: Path) -> None:
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):   # every component prunes
        compile_network(knee.spec)
        changed = knee.with_parameters({"bakers_cyst.leak": 0.2, "poor_warmup.prior": 0.5})
        assert structure_cache_info().hits >= 1
        clear_structure_cache()
        fresh = compile_network(changed.spec)
    assert all(comp.pruning is not None for comp in changed.network.components)
    _same_arrays(changed.network, fresh)


def test_other_planning_constants_are_planned_again(knee: kneebayes.Model) -> None:
    clear_structure_cache()
    compile_network(knee.spec)
    with mock.patch.object(compiled, "PRUNE_WORK", -1.0):
        pruned = compile_network(knee.spec)
    assert structure_cache_info().misses == 2
    assert all(comp.pruning is not None for comp in pruned.components)


def test_other_targets_are_planned_again(knee: kneebayes.Model) -> None:
    clear_structure_cache()
    whole = compile_network(knee.spec)
    one = compile_network(knee.spec, targets=["meniscal_injury"])
    assert structure_cache_info().misses == 2
    assert one.components[0].steps is not whole.components[0].steps


def test_another_joint_limit_or_budget_is_planned_again(knee: kneebayes.Model) -> None:
    clear_structure_cache()
    compile_network(knee.spec)
    compile_network(knee.spec, joint_limit=32)
    compile_network(knee.spec, memory_budget=2**20)
    assert structure_cache_info().misses == 3


def test_a_moved_edge_is_planned_again(chain: kneebayes.Model, tmp_path: Path) -> None:
    path = tmp_path / "moved.bif"   # C hangs under Fault instead of A: the same nodes, states and numbers
    path.write_text(CHAIN_BIF.replace("probability ( C | A ) { (low) 0.3, 0.7; (mid) 0.4, 0.6; (high) 0.9, 0.1; }",
                                      "probability ( C | Fault ) { (yes) 0.3, 0.7; (no) 0.4, 0.6; }"))
    moved = kneebayes.load_bif(path, targets=["Fault"])
    clear_structure_cache()
    compile_network(chain.spec)
    again = compile_network(moved.spec)
    assert structure_cache_info().misses == 2
    assert again.where[again.index["C"]][0] == "singleton"


def test_another_network_is_planned_again(knee: kneebayes.Model, chain: kneebayes.Model) -> None:
    clear_structure_cache()
    compile_network(knee.spec)
    compile_network(chain.spec)
    assert structure_cache_info().misses == 2


def test_the_kept_structures_are_bounded(knee: kneebayes.Model) -> None:
    clear_structure_cache()
    causes = list(knee.causes)
    subsets = [list(c) for r in (1, 2) for c in itertools.combinations(causes, r)][: STRUCTURES_KEPT + 3]
    for targets in subsets:
        compile_network(knee.spec, targets=targets)
    assert structure_cache_info().size == STRUCTURES_KEPT
    compile_network(knee.spec, targets=subsets[0])   # the oldest was dropped: planned again
    assert structure_cache_info().hits == 0


def test_a_large_component_plan_runs_in_the_cheaper_order_an_order_search_finds() -> None:
    """BARLEY's component: min-fill and min-weight total 2.8e7 entries; the compile-time search finds a cheaper
    order, and that order is the one the plan is built in."""
    pytest.importorskip("pgmpy")
    from networks import bif_path, roots_by_descendants, structure

    searched: list[tuple[object, object]] = []
    planned: list[tuple[int, ...]] = []
    real_search, real_plan = compiled.search, compiled._plan

    def spy_search(*args: object, **kwargs: object) -> object:
        found = real_search(*args, **kwargs)  # type: ignore[arg-type]
        searched.append((args[4], found))
        return found

    def spy_plan(*args: object, **kwargs: object) -> object:
        planned.append(args[6])  # type: ignore[arg-type]
        return real_plan(*args, **kwargs)  # type: ignore[arg-type]

    path = bif_path("barley")
    with mock.patch.object(compiled, "search", spy_search), mock.patch.object(compiled, "_plan", spy_plan), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        kneebayes.load_bif(path, targets=roots_by_descendants(structure(path)))
    assert searched
    start, found = searched[0]
    assert found.total_size < start.total_size  # type: ignore[attr-defined]
    assert found.order in planned  # type: ignore[attr-defined]


def test_noisy_ors_kept_whole_give_the_split_networks_posteriors() -> None:
    from kneebayes.evidence import normalize, to_indices
    from kneebayes.inference.posterior import encode, target_joint

    spec = kneebayes.load_model().spec
    split, whole = compile_network(spec), compile_network(spec, split_noisy_or=False)
    assert len(split.components[0].table_nodes) > len(whole.components[0].table_nodes)   # pieces in the split one
    assert all(v >= 0 for c in whole.components for v in c.table_nodes)                   # every factor one table
    answers = [{}, {"locking_or_catching": "yes", "poor_warmup": "no"},
               {"swelling_behind_knee": "yes", "worn_footwear": "yes", "knee_trauma": "no"}]
    lam = np.concatenate([encode(split, [to_indices(split, normalize(split, a))]) for a in answers])
    apart, kept = target_joint(split, lam), target_joint(whole, lam)    # same nodes, same order: same lam
    np.testing.assert_allclose(kept.joint, apart.joint, rtol=0, atol=1e-12)
    np.testing.assert_allclose(kept.log_evidence, apart.log_evidence, rtol=0, atol=1e-12)


def test_tables_given_to_compile_stand_in_for_the_specs_numbers() -> None:
    spec = kneebayes.load_model().spec
    base = compile_network(spec)
    rng = np.random.default_rng(5)
    chosen = [i for i, n in enumerate(spec.nodes) if not isinstance(n.parameters, NoisyOr)][:6]
    numbers = {i: rng.dirichlet(np.ones(base.cards[i]), size=np.asarray(base.tables[i]).shape[:-1]) for i in chosen}
    given = {i: t.copy() for i, t in numbers.items()}
    for t in given.values():
        t.setflags(write=False)
    net = compile_network(spec, tables=given)
    want = compile_network(spec_with_numbers(spec, {i: t.reshape(-1) for i, t in numbers.items()}))
    assert all(flat_values(spec.nodes[i]).size == numbers[i].size for i in numbers)
    for i, t in numbers.items():
        np.testing.assert_array_equal(net.tables[i], t)
    evidence = [{}, {net.index["locking_or_catching"]: 0, net.index["poor_warmup"]: 1}]
    got, expected = target_joint(net, encode(net, evidence)), target_joint(want, encode(want, evidence))
    np.testing.assert_allclose(got.joint, expected.joint, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got.log_evidence, expected.log_evidence, rtol=1e-13, atol=0)
    assert not np.allclose(got.joint, target_joint(base, encode(base, evidence)).joint)   # the numbers did change


# -- numbers too small for one product ------------------------------------------------------------------------
def _two_node_bif(tmp_path: Path, p_yes: float) -> Path:
    path = tmp_path / "rare.bif"
    path.write_text("network rare {}\n"
                    "variable A { type discrete [ 2 ] { yes, no }; }\n"
                    "variable B { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( A ) { table 0.5, 0.5; }\n"
                    f"probability ( B | A ) {{ (yes) {p_yes!r}, {1 - p_yes!r}; (no) 0.5, 0.5; }}\n", encoding="utf-8")
    return path


def test_a_network_with_a_probability_below_1e_100_warns_naming_its_node_at_the_callers_line(tmp_path: Path) -> None:
    path = _two_node_bif(tmp_path, 1e-170)
    with pytest.warns(kneebayes.PrecisionWarning, match=r"node 'B' has a probability of 1e-170") as caught:
        kneebayes.load_bif(path, targets=["A"])
    assert caught[0].filename == __file__      # the user's line, not one inside the library


def test_a_network_whose_probabilities_stay_above_1e_100_does_not_warn(tmp_path: Path) -> None:
    path = _two_node_bif(tmp_path, 1e-99)
    with warnings.catch_warnings():
        warnings.simplefilter("error", kneebayes.PrecisionWarning)
        kneebayes.load_bif(path, targets=["A"])
        kneebayes.load_model()


def test_a_network_says_why_its_targets_joint_is_not_enumerated() -> None:
    knee = kneebayes.load_model()
    assert compile_network(knee.spec).unenumerated == ""
    assert compile_network(knee.spec, joint_limit=32).unenumerated == "joint_limit"   # 64 joint states
    assert compile_network(knee.spec, targets=[]).unenumerated == ""                 # nothing to enumerate
