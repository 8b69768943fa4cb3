"""What the answers point to, on the Diagnosis (src/kneebayes/diagnosis.py).

``prior``, ``lift``, ``explaining_causes`` / ``explaining_states``,
``most_probable_combinations`` and ``to_dict``. The factors themselves are
checked against brute force and pgmpy in tests/test_evidence_weight.py;
here the references are the definitions of the orderings and brute-force
enumeration of the targets' joint.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from graded import write_graded
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import brute_force, networks, networks_with_evidence, param

import kneebayes
from kneebayes.inference.evidence_weight import FACTOR_MAX, TIE_GRID
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Prior

TOL = 1e-9


def _state_factors(dx: kneebayes.Diagnosis, target: str) -> dict[str, float]:
    """Every state's factor of one target; a yes/no target's "no" is "yes" turned round (odds inverted)."""
    value = dx.bayes_factor[target]
    if isinstance(value, float):
        return {"yes": value, "no": min(max(1.0 / value, 1e-100), 1e100)}
    return dict(value)


def _expected_explaining(model: kneebayes.Model, dx: kneebayes.Diagnosis) -> list[tuple[str, str, float]]:
    """The documented rule, from the public numbers: (target, leading state, factor), best first."""
    rows = []
    for target in model.causes:
        states = model.node(target).states
        normal = model.normal_states[target]
        factors = _state_factors(dx, target)
        dist = dx.distributions[target]
        candidates = [s for s in states if s != normal]
        keys = dict(zip(candidates, np.rint(np.log([factors[s] for s in candidates]) / TIE_GRID).tolist()))
        lead = max(candidates, key=lambda s: (keys[s], dist[s], -states.index(s)))
        rows.append((keys[lead], dist[lead], target, lead, factors[lead]))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return [(t, s, f) for _, _, t, s, f in rows]


def _graded(tmp_path: Path) -> kneebayes.Model:
    path = write_graded(tmp_path / "graded.yaml", title="A three-state fault and a kind with no normal state",
                        damage=(0.9, 0.07, 0.03), kind=(0.5, 0.3, 0.2),
                        findings={"swelling": (0.05, 0.6, 0.9), "limping": (0.1, 0.3, 0.95)})
    return kneebayes.load_model(path)


def _child() -> kneebayes.Model:
    import pgmpy

    path = os.path.join(os.path.dirname(pgmpy.__file__), "utils", "example_models", "child.bif.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kneebayes.load_bif(path, targets=["Disease"])


# -- prior and lift ------------------------------------------------------------------------------

def test_prior_is_the_no_evidence_posterior_with_a_float_per_yes_no_cause(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"limping": "yes", "tingling_or_numbness": "no"})
    assert dict(dx.prior) == dict(knee_model.diagnose({}).posterior)
    assert all(isinstance(v, float) for v in dx.prior.values())


def test_prior_of_a_multi_state_target_maps_every_state(tmp_path: Path) -> None:
    model = _graded(tmp_path)
    dx = model.diagnose({"swelling": "yes"})
    for target, dist in model.diagnose({}).distributions.items():
        assert dict(dx.prior[target]) == dict(dist)


def test_prior_numbers_are_shared_by_every_diagnosis_of_a_model(knee_model: kneebayes.Model) -> None:
    first, second = knee_model.diagnose({"limping": "yes"}), knee_model.diagnose({"limping": "no"})
    assert knee_model.weight_layout is knee_model.weight_layout
    assert dict(first.prior) == dict(second.prior)


def test_lift_is_posterior_over_prior(tmp_path: Path, knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "yes"})
    for cause, p in dx.posterior.items():
        assert dx.lift[cause] == pytest.approx(p / dx.prior[cause], rel=1e-12)
    graded = _graded(tmp_path).diagnose({"limping": "yes"})
    for state, p in graded.distributions["damage"].items():
        assert graded.lift["damage"][state] == pytest.approx(p / graded.prior["damage"][state], rel=1e-12)


def test_weight_of_evidence_is_ten_log10_of_the_bayes_factor(tmp_path: Path, knee_model: kneebayes.Model) -> None:
    for dx in (knee_model.diagnose({"sharp_pain": "yes", "limping": "no"}), _graded(tmp_path).diagnose({"swelling": "no"})):
        for target, factor in dx.bayes_factor.items():
            woe = dx.weight_of_evidence[target]
            if isinstance(factor, float):
                assert woe == pytest.approx(10.0 * math.log10(factor), abs=1e-12)
            else:
                for state, f in factor.items():
                    assert woe[state] == pytest.approx(10.0 * math.log10(f), abs=1e-12)


# -- explaining causes ---------------------------------------------------------------------------

@given(networks_with_evidence(min_causes=1))
def test_explaining_causes_lists_every_cause_once_by_factor_then_posterior(
    case: tuple[ModelSpec, dict[str, str]],
) -> None:
    spec, evidence = case
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    model = kneebayes.Model(spec)
    dx = model.diagnose(evidence)
    listed = [c for c, _ in dx.explaining_causes]
    assert sorted(listed) == sorted(model.causes)
    expected = _expected_explaining(model, dx)
    assert listed == [t for t, _, _ in expected]
    assert list(dx.explaining_states.items()) == [(t, s) for t, s, _ in expected]
    for (cause, factor), (_, _, f) in zip(dx.explaining_causes, expected):
        assert factor == pytest.approx(f, rel=1e-12), cause


def test_explaining_causes_put_the_cause_the_answers_fit_best_first(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"tingling_or_numbness": "yes"})
    best, factor = dx.explaining_causes[0]
    assert factor == max(dx.bayes_factor.values())
    assert best == max(dx.bayes_factor, key=dx.bayes_factor.get)
    factors = [f for _, f in dx.explaining_causes]
    assert factors == sorted(factors, reverse=True)


@given(networks(min_causes=1, max_card=2))
def test_with_no_evidence_explaining_causes_is_the_ranked_causes_order(spec: ModelSpec) -> None:
    model = kneebayes.Model(spec)
    assume(model.targets.binary)        # ranked_causes needs yes/no targets
    dx = model.diagnose({})
    assert [c for c, _ in dx.explaining_causes] == [c for c, _ in dx.ranked_causes]
    assert {f for _, f in dx.explaining_causes} == {1.0}


def test_with_no_evidence_the_knees_explaining_causes_is_the_ranked_causes_order(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({})
    assert [c for c, _ in dx.explaining_causes] == [c for c, _ in dx.ranked_causes]


def test_causes_the_answers_do_not_bear_on_keep_their_posterior_order(knee_model: kneebayes.Model) -> None:
    # A risk factor of one cause only: the other causes' factors are 1 up to rounding noise.
    dx = knee_model.diagnose({"knee_trauma": "no"})
    untouched = [(c, f) for c, f in dx.explaining_causes if abs(f - 1.0) < 1e-12]
    assert len(untouched) >= 2
    posteriors = [dx.posterior[c] for c, _ in untouched]
    assert posteriors == sorted(posteriors, reverse=True)


def test_a_multi_state_target_is_represented_by_its_leading_abnormal_state(tmp_path: Path) -> None:
    model = _graded(tmp_path)
    dx = model.diagnose({"swelling": "yes", "limping": "yes"})
    damage = dx.bayes_factor["damage"]
    assert set(damage) == {"intact", "torn", "ruptured"}
    assert dx.explaining_states["damage"] == max(("torn", "ruptured"), key=lambda s: damage[s])
    assert dict(dx.explaining_causes)["damage"] == damage[dx.explaining_states["damage"]]
    # "kind" has no normal state: every state may represent it (the answers do not bear on it: ties, by posterior)
    assert dx.explaining_states["kind"] == "a"


def test_an_imported_disease_without_a_normal_state_is_represented_by_its_best_supported_state() -> None:
    child = _child()
    dx = child.diagnose({"LungParench": "Abnormal", "Grunting": "yes", "Age": "0-3_days"})
    factors = dx.bayes_factor["Disease"]
    assert dx.explaining_causes == (("Disease", max(factors.values())),)
    assert dx.explaining_states["Disease"] == max(factors, key=factors.get)


def test_explaining_causes_are_computed_once_and_cached(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"limping": "yes"})
    assert dx.explaining_causes is dx.explaining_causes
    assert dx.bayes_factor is dx.bayes_factor
    with pytest.raises(AttributeError, match="immutable"):
        dx.explaining_causes = ()  # type: ignore[misc]


def test_explanation_measure_names_the_rule(knee_model: kneebayes.Model) -> None:
    assert knee_model.diagnose({}).explanation_measure == "bayes_factor"


def test_a_rare_cause_the_answers_fit_can_lead_the_explaining_causes_but_not_the_posterior(
    knee_model: kneebayes.Model,
) -> None:
    # Search the knee's single answers for one where the two rankings disagree: the point of having both.
    for node in (n.id for n in knee_model.nodes if n.askable):
        for answer in ("yes", "no"):
            dx = knee_model.diagnose({node: answer})
            if dx.explaining_causes[0][0] != dx.ranked_causes[0][0]:
                top = dx.explaining_causes[0][0]
                assert dx.bayes_factor[top] > dx.bayes_factor[dx.ranked_causes[0][0]]
                return
    pytest.skip("every single answer ranks the same cause first both ways")


# -- most probable combinations ----------------------------------------------------------------

def _brute_joint(spec: ModelSpec, evidence: dict[str, str]) -> dict[tuple[str, ...], float]:
    """P(targets jointly | evidence) by brute force, keyed by the targets' states in model order."""
    reference = brute_force(spec, evidence)
    assert reference.conditioned is not None
    causes = [n.id for n in spec.nodes if n.kind == "cause"]
    axes = tuple(i for i, n in enumerate(reference.names) if n not in causes)
    joint = reference.conditioned.sum(axis=axes)
    kept = [n for n in reference.names if n in causes]
    order = [kept.index(c) for c in causes]
    joint = np.transpose(joint, order) if causes else joint
    states = [spec.node(c).states for c in causes]
    return {combo: float(joint[idx]) for combo, idx in zip(itertools.product(*states),
                                                            itertools.product(*(range(len(s)) for s in states)))}


@given(networks_with_evidence(min_causes=1), st.integers(1, 6))
def test_most_probable_combinations_equal_brute_force_enumeration(
    case: tuple[ModelSpec, dict[str, str]], k: int,
) -> None:
    spec, evidence = case
    assume(brute_force(spec, evidence).p_evidence > 0.0)
    model = kneebayes.Model(spec)
    got = model.diagnose(evidence).most_probable_combinations(k)
    expected = _brute_joint(spec, evidence)
    assert 1 <= len(got) <= k
    keys = [tuple(c.states[t] for t in model.causes) for c in got]
    assert len(set(keys)) == len(keys)
    probabilities = [c.probability for c in got]
    assert probabilities == sorted(probabilities, reverse=True)
    for key, combination in zip(keys, got):
        assert list(combination.states) == list(model.causes)
        assert combination.probability == pytest.approx(expected[key], abs=TOL), key
        assert combination.probability > 0.0
    left_out = [p for key, p in expected.items() if key not in set(keys)]
    bar = probabilities[-1] if len(got) == k else 0.0
    assert all(p <= bar + TOL for p in left_out)


def test_most_probable_combinations_name_the_present_causes(knee_model: kneebayes.Model) -> None:
    combos = knee_model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"}).most_probable_combinations()
    assert len(combos) == 3
    for c in combos:
        assert c.present == tuple(t for t in knee_model.causes if c.states[t] == "yes")
        text = str(c)
        assert text.endswith(f"{c.probability:.1%}")
        assert all(t in text for t in c.present) and ("all normal" in text) == (not c.present)


def test_a_target_without_a_normal_state_is_always_present(tmp_path: Path) -> None:
    model = _graded(tmp_path)
    for c in model.diagnose({"swelling": "no"}).most_probable_combinations(k=9):
        assert "kind" in c.present
        assert ("damage" in c.present) == (c.states["damage"] != "intact")
        assert f"kind={c.states['kind']}" in str(c)


def test_combinations_of_probability_zero_are_not_listed(knee_model: kneebayes.Model) -> None:
    combos = knee_model.diagnose({"meniscal_injury": "yes", "bakers_cyst": "no"}).most_probable_combinations(k=64)
    assert len(combos) == 16                             # the other four causes' 2**4 combinations
    assert all(c.states["meniscal_injury"] == "yes" and c.states["bakers_cyst"] == "no" for c in combos)
    assert math.fsum(c.probability for c in combos) == pytest.approx(1.0, abs=1e-12)


def _independent_causes(*priors: float) -> ModelSpec:
    """Unconnected yes/no causes c0, c1, ... with the given priors, and nothing else."""
    nodes = tuple(NodeSpec(f"c{i}", f"c{i}", "cause", "?", ("yes", "no"), Prior((param(p), param(1.0 - p))), False)
                  for i, p in enumerate(priors))
    return ModelSpec(name="independent", version="0", title="independent causes", nodes=nodes)


def test_equal_probabilities_keep_the_joints_enumeration_order() -> None:
    combos = kneebayes.Model(_independent_causes(0.5, 0.5)).diagnose({}).most_probable_combinations(k=4)
    assert [c.probability for c in combos] == [0.25] * 4
    assert [tuple(c.states.values()) for c in combos] == [("yes", "yes"), ("yes", "no"), ("no", "yes"), ("no", "no")]


def test_tied_factors_are_ordered_by_posterior_then_id() -> None:
    dx = kneebayes.Model(_independent_causes(0.2, 0.6, 0.6, 0.1)).diagnose({})
    assert dx.explaining_causes == (("c1", 1.0), ("c2", 1.0), ("c0", 1.0), ("c3", 1.0))


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3", None])
def test_k_must_be_a_positive_whole_number(knee_model: kneebayes.Model, k: object) -> None:
    dx = knee_model.diagnose({})
    with pytest.raises(kneebayes.ParameterError, match=r"k must be a positive whole number .* got ") as err:
        dx.most_probable_combinations(k)  # type: ignore[arg-type]
    assert isinstance(err.value, ValueError) and isinstance(err.value, kneebayes.KneeBayesError)
    assert repr(k) in str(err.value)


def test_a_joint_too_large_to_enumerate_names_its_size_and_the_limit(knee_model: kneebayes.Model) -> None:
    model = kneebayes.Model(knee_model.spec, joint_limit=10)
    dx = model.diagnose({"limping": "yes"})
    with pytest.raises(kneebayes.KneeBayesError, match=r"6 targets have 64 joint states, more than its joint limit of 10"):
        dx.most_probable_combinations()
    assert [c for c, _ in dx.explaining_causes] == [c for c, _ in knee_model.diagnose({"limping": "yes"}).explaining_causes]


def _uniform_bif(cards: dict[str, int], parents: dict[str, list[str]]) -> str:
    """A BIF network whose every column is uniform."""
    text = ["network m {}\n"]
    text += [f"variable {v} {{ type discrete [ {c} ] {{ {', '.join(f's{j}' for j in range(c))} }}; }}\n"
             for v, c in cards.items()]
    for v, c in cards.items():
        column = ", ".join([str(1 / c)] * c)
        rows = " ".join(f"({', '.join(f's{x}' for x in u)}) {column};"
                        for u in itertools.product(*[range(cards[p]) for p in parents[v]]))
        text.append(f"probability ( {v} | {', '.join(parents[v])} ) {{ {rows} }}\n" if parents[v]
                    else f"probability ( {v} ) {{ table {column}; }}\n")
    return "".join(text)


def test_a_joint_left_out_for_the_memory_budget_names_the_budget_not_the_limit(tmp_path: Path) -> None:
    # 15 joint states, well within the joint limit; planning with the targets kept passes a budget of 1 KiB
    cards = {"n0": 2, "n1": 3, "n2": 2, "n3": 2, "n4": 5, "n5": 5, "n6": 4, "n7": 2}
    parents = {"n0": [], "n1": [], "n2": ["n0", "n1"], "n3": ["n0", "n1"], "n4": ["n0", "n1", "n2"],
               "n5": ["n2", "n4"], "n6": ["n3"], "n7": ["n0", "n5"]}
    path = tmp_path / "m.bif"
    path.write_text(_uniform_bif(cards, parents), encoding="utf-8")
    model = kneebayes.load_bif(str(path), targets=["n1", "n5"], memory_budget=1024)
    with pytest.raises(kneebayes.KneeBayesError, match=r"2 targets have 15 joint states, and a plan over them passes "
                                                        r"its memory budget of 1,024 bytes \(build the model with a "
                                                        r"larger memory_budget"):
        model.diagnose({}).most_probable_combinations()


def test_combinations_are_frozen(knee_model: kneebayes.Model) -> None:
    combo = knee_model.diagnose({}).most_probable_combinations(1)[0]
    with pytest.raises(AttributeError, match="cannot assign to field 'probability'"):
        combo.probability = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="does not support item assignment"):
        combo.states["hamstring_strain"] = "yes"  # type: ignore[index]


# -- output ------------------------------------------------------------------------------------

def test_to_dict_carries_prior_factors_and_explaining_causes(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"tingling_or_numbness": "yes", "limping": "no"})
    out = dx.to_dict()
    assert out["prior"] == dict(dx.prior)
    assert out["bayes_factor"] == dict(dx.bayes_factor)
    assert [e["cause"] for e in out["explaining_causes"]] == [c for c, _ in dx.explaining_causes]
    for entry, (cause, factor) in zip(out["explaining_causes"], dx.explaining_causes):
        assert entry == {"cause": cause, "state": "yes", "bayes_factor": factor,
                         "weight_of_evidence": dx.weight_of_evidence[cause], "probability": dx.posterior[cause]}
    assert "most_probable_combinations" not in out
    assert json.loads(dx.to_json()) == out


def test_full_to_dict_lists_three_combinations(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "yes"})
    out = dx.to_dict(full=True)
    assert out["most_probable_combinations"] == [c.to_dict() for c in dx.most_probable_combinations(3)]
    assert "note" not in out
    assert json.loads(json.dumps(out)) == out


def test_full_to_dict_leaves_combinations_out_with_a_note_when_the_joint_is_not_enumerated(
    knee_model: kneebayes.Model,
) -> None:
    out = kneebayes.Model(knee_model.spec, joint_limit=1).diagnose({"limping": "yes"}).to_dict(full=True)
    assert "most_probable_combinations" not in out
    assert "most_probable_combinations left out" in out["note"] and "joint limit of 1" in out["note"]


def test_to_dict_of_a_multi_state_model_maps_every_state_and_survives_json(tmp_path: Path) -> None:
    dx = _graded(tmp_path).diagnose({"swelling": "yes"})
    out = dx.to_dict(full=True)
    assert out["bayes_factor"]["damage"] == dict(dx.bayes_factor["damage"])
    assert out["explaining_causes"][0]["state"] == dx.explaining_states[out["explaining_causes"][0]["cause"]]
    assert json.loads(json.dumps(out)) == out


def test_an_observed_cause_serialises_its_limit_factor(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose({"meniscal_injury": "yes"}).to_dict()
    assert out["bayes_factor"]["meniscal_injury"] == FACTOR_MAX
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_the_public_value_types_are_exported() -> None:
    assert kneebayes.Combination.__module__ == "kneebayes.diagnosis"
    assert "Combination" in kneebayes.__all__



def test_a_diagnosis_costs_its_posterior_and_ranks_questions_only_when_asked(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "yes", "limping": "no"})
    dx.posterior   # noqa: B018
    assert not {"_tj", "_lam", "_questions", "triage"} & dx.__dict__.keys()
    fresh = knee_model.diagnose({"locking_or_catching": "yes", "limping": "no"})
    assert dx.next_question == fresh.next_question
    assert "_tj" in dx.__dict__


def test_the_same_evidence_gives_the_same_diagnosis_to_the_last_bit(knee_model: kneebayes.Model) -> None:
    import pickle

    evidence = {"swelling_behind_knee": "yes", "poor_warmup": "no", "sharp_pain": "yes"}
    first = knee_model.diagnose(evidence)
    again = pickle.loads(pickle.dumps(first))
    shuffled = knee_model.diagnose(dict(reversed(list(evidence.items()))))
    assert dict(first.posterior) == dict(again.posterior) == dict(shuffled.posterior)
    assert first.log_evidence_probability == again.log_evidence_probability


def test_posterior_of_two_state_targets_not_named_yes_and_no_names_the_target_and_its_states(tmp_path: Path) -> None:
    path = tmp_path / "plug.bif"
    path.write_text("network plug {}\n"
                    "variable Plug { type discrete [ 2 ] { Connected, Loose }; }\n"
                    "variable Light { type discrete [ 2 ] { on, off }; }\n"
                    "probability ( Plug ) { table 0.9, 0.1; }\n"
                    "probability ( Light | Plug ) { (Connected) 0.95, 0.05; (Loose) 0.02, 0.98; }\n", encoding="utf-8")
    dx = kneebayes.load_bif(path, targets=["Plug"], normal_states={"Plug": "Connected"}).diagnose({"Light": "off"})
    with pytest.raises(kneebayes.KneeBayesError, match=r"target 'Plug' has the states 'Connected', 'Loose', not yes "
                                                       r"and no: use Diagnosis.distributions"):
        _ = dx.posterior
    assert dx.distributions["Plug"]["Loose"] > 0.5


def test_a_rationale_whose_answer_passes_the_work_limit_raises_rather_than_calling_it_impossible() -> None:
    from test_bipartite_queries import planned_work, shared_cause_model

    # the ranking (the chances of the 21 open findings given s0..s14) is within the limit, but answering s15 yes
    # adds a sixteenth positive under c0, past it
    unlimited = shared_cause_model(math.inf, others_on_c0=False, shared=16)
    shared = [f"s{j}" for j in range(15)]
    ranking, answered = planned_work(unlimited, shared, findings=True), planned_work(unlimited, [*shared, "s15"])
    assert ranking < answered
    dx = shared_cause_model((ranking + answered) / 2, others_on_c0=False, shared=16).diagnose(
        dict.fromkeys(shared, "yes"))
    assert dx.next_question is not None
    with pytest.raises(kneebayes.IntractableError, match="past the work limit of"):
        dx.rationale("s15")
