"""Soft evidence (a Likelihood as an evidence value): exact against brute force, pgmpy and pyAgrum,
hard evidence as its 0/1 special case, and every feature downstream taking it or saying it cannot."""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networks import pyagrum_of
from strategies import cpt_by_definition, networks, scaled

import kneebayes
from kneebayes import Likelihood
from kneebayes.errors import EvidenceError, ImpossibleEvidenceError
from kneebayes.evidence import normalize, to_indices
from kneebayes.inference.gain import marginal_gains
from kneebayes.inference.posterior import encode
from kneebayes.modelfile.schema import ModelSpec

TOL = 1e-9


# -- the references ----------------------------------------------------------------------

def brute_posteriors(spec: ModelSpec, evidence: Mapping[str, object]) -> tuple[dict[str, dict[str, float]], float]:
    """Every node's posterior and P(evidence) from the full joint, a soft answer multiplied in as a factor
    on its node (scaled to a largest weight of 1, as the engine takes it)."""
    names = [n.id for n in spec.nodes]
    states = {n.id: n.states for n in spec.nodes}
    letters = {name: string.ascii_letters[i] for i, name in enumerate(names)}
    operands: list[object] = []
    for node in spec.nodes:
        operands += [cpt_by_definition(node, states), "".join(letters[p] for p in node.parents) + letters[node.id]]
    for node, value in evidence.items():
        if isinstance(value, Likelihood):
            factor = np.array(value.vector(states[node]))
        else:
            factor = np.array([float(s == value) for s in states[node]])
        operands += [factor, letters[node]]
    subs = ",".join(operands[1::2]) + "->" + "".join(letters[n] for n in names)  # type: ignore[arg-type]
    joint = np.einsum(subs, *operands[0::2])
    total = float(joint.sum())
    out = {}
    for i, name in enumerate(names):
        axes = tuple(a for a in range(len(names)) if a != i)
        out[name] = dict(zip(states[name], (joint.sum(axis=axes) / total).tolist())) if total > 0 else {}
    return out, total


@st.composite
def soft_cases(draw: st.DrawFn) -> tuple[ModelSpec, dict[str, object]]:
    """A random network with evidence, some answers hard, some soft (random likelihoods, some with zeros)."""
    spec = draw(networks(max_nodes=7, allow_zero=False))
    chosen = draw(st.lists(st.sampled_from([n.id for n in spec.nodes]), unique=True, max_size=4))
    evidence: dict[str, object] = {}
    weight = st.one_of(st.just(0.0), st.floats(0.01, 10.0))
    for node in chosen:
        states = spec.node(node).states
        if draw(st.booleans()):
            evidence[node] = draw(st.sampled_from(states))
        else:
            weights = [draw(weight) for _ in states]
            if max(weights) == 0.0:
                weights[0] = 1.0
            evidence[node] = Likelihood(dict(zip(states, weights)))
    return spec, evidence


def _possible(total: float) -> bool:
    return total > 1e-12   # a case the references cannot tell from impossible is left to the impossible tests


# -- exact --------------------------------------------------------------------------------

@settings(max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soft_cases())
def test_soft_evidence_matches_brute_force_posteriors_and_evidence_probability(case: tuple) -> None:
    spec, evidence = case
    expected, total = brute_posteriors(spec, evidence)
    model = kneebayes.Model(spec)
    if not _possible(total):
        return
    got = model.marginals(evidence)
    for node, dist in expected.items():
        for state, p in dist.items():
            assert got[node][state] == pytest.approx(p, abs=TOL)
    targets = [n.id for n in spec.nodes if n.kind == "cause"]
    if targets:
        dx = model.diagnose(evidence)
        assert dx.log_evidence_probability == pytest.approx(math.log(total), abs=1e-9)
        for t in targets:
            for state, p in expected[t].items():
                assert dx.distributions[t][state] == pytest.approx(p, abs=TOL)


@settings(max_examples=scaled(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soft_cases())
def test_soft_evidence_matches_pgmpy_virtual_evidence(case: tuple) -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination

    spec, evidence = case
    _, total = brute_posteriors(spec, evidence)
    if not _possible(total):
        return
    model = kneebayes.Model(spec)
    hard = {k: v for k, v in evidence.items() if isinstance(v, str)}
    virtual = [TabularCPD(node, len(value), [[w] for w in value.vector(spec.node(node).states)],
                          state_names={node: list(spec.node(node).states)})
               for node, value in evidence.items() if isinstance(value, Likelihood)]
    ve = VariableElimination(model.to_pgmpy())
    got = model.marginals(evidence)
    for node in (n.id for n in spec.nodes if n.id not in hard):
        ref = ve.query([node], evidence=hard or None, virtual_evidence=virtual or None, show_progress=False)
        for state in spec.node(node).states:
            assert got[node][state] == pytest.approx(float(ref.get_value(**{node: state})), abs=TOL)


@settings(max_examples=scaled(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soft_cases())
def test_soft_evidence_matches_pyagrum_soft_evidence(case: tuple) -> None:
    import pyagrum as gum

    spec, evidence = case
    _, total = brute_posteriors(spec, evidence)
    if not _possible(total):
        return
    model = kneebayes.Model(spec)
    bn = pyagrum_of(model)
    ie = gum.LazyPropagation(bn)
    for node, value in evidence.items():
        labels = list(bn.variable(node).labels())
        if isinstance(value, Likelihood):
            ie.addEvidence(node, [value[s] for s in labels])
        else:
            ie.addEvidence(node, value)
    ie.makeInference()
    got = model.marginals(evidence)
    for node in (n.id for n in spec.nodes):
        labels = list(bn.variable(node).labels())
        # pyAgrum hands back a node's evidence vector itself, unnormalised, when one state alone has weight
        posterior = np.array(ie.posterior(node).tolist())
        for state, p in zip(labels, (posterior / posterior.sum()).tolist()):
            assert got[node][state] == pytest.approx(float(p), abs=TOL)


@settings(max_examples=scaled(40), deadline=None)
@given(st.data())
def test_hard_evidence_is_a_likelihood_of_zeros_and_one_with_identical_results(data: st.DataObject) -> None:
    model = kneebayes.load_model()
    askable = sorted(n.id for n in model.nodes if n.askable)
    chosen = data.draw(st.lists(st.sampled_from(askable), unique=True, max_size=6))
    hard = {n: data.draw(st.sampled_from(["yes", "no"])) for n in chosen}
    scale = data.draw(st.floats(0.01, 100.0))
    as_soft = {n: Likelihood({s: scale * float(s == v) for s in ("yes", "no")}) for n, v in hard.items()}
    a, b = model.diagnose(hard), model.diagnose(as_soft)
    assert dict(b.evidence) == hard
    assert a.posterior == b.posterior and a.log_evidence_probability == b.log_evidence_probability
    assert a.ranked_questions == b.ranked_questions


def test_only_the_ratios_of_a_likelihood_matter(knee_model: kneebayes.Model) -> None:
    a = knee_model.diagnose({"swelling_behind_knee": Likelihood(yes=0.8, no=0.2)})
    b = knee_model.diagnose({"swelling_behind_knee": Likelihood(yes=40, no=10)})
    for cause, p in a.posterior.items():
        assert b.posterior[cause] == pytest.approx(p, abs=1e-15)


def test_a_uniform_likelihood_changes_nothing(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"swelling_behind_knee": Likelihood(yes=1, no=1), "limping": "yes"})
    plain = knee_model.diagnose({"limping": "yes"})
    for cause, p in plain.posterior.items():
        assert dx.posterior[cause] == pytest.approx(p, abs=1e-12)
    assert dx.log_evidence_probability == pytest.approx(plain.log_evidence_probability, abs=1e-12)


def test_a_likelihood_is_not_a_posterior(knee_model: kneebayes.Model) -> None:
    """Likelihood(yes=0.8, no=0.2) multiplies the odds by 4; it does not set P(yes) to 0.8."""
    node = "locking_or_catching"
    before = knee_model.marginals({}, nodes=[node])[node]["yes"]
    after = knee_model.marginals({node: Likelihood(yes=0.8, no=0.2)}, nodes=[node])[node]["yes"]
    assert after / (1 - after) == pytest.approx(4 * before / (1 - before), rel=1e-12)
    assert after < 0.8


def test_a_soft_answer_made_impossible_by_hard_ones_raises(knee_model: kneebayes.Model) -> None:
    never = knee_model.with_parameters({"poor_warmup.prior": (0.0, (0.0, 0.0))})
    with pytest.raises(ImpossibleEvidenceError, match="poor_warmup"):
        never.diagnose({"poor_warmup": Likelihood(yes=1, no=0)})
    dx = never.diagnose({"poor_warmup": Likelihood(yes=1, no=0.5)})   # possible: the weight on "no" carries it
    assert dx.evidence_probability == pytest.approx(0.5, abs=1e-12)


# -- at the boundary ------------------------------------------------------------------------

def test_a_likelihood_that_misses_a_state_names_it(knee_model: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="gives no weight for 'no'; name every state: 'yes', 'no'"):
        knee_model.diagnose({"limping": Likelihood(yes=2)})


def test_a_likelihood_that_names_an_unknown_state_names_the_valid_ones(knee_model: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="names 'maybe', which is not a state of it; valid states are 'yes', 'no'"):
        knee_model.diagnose({"limping": Likelihood(yes=2, no=1, maybe=1)})


def test_a_graded_word_answers_a_yes_no_node_softly(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"swelling_behind_knee": "probably"})
    assert dx.evidence["swelling_behind_knee"] == knee_model.graded_answers["probably"]
    same = knee_model.diagnose({"swelling_behind_knee": Likelihood(yes=4, no=1)})
    assert dx.posterior == same.posterior


def test_a_graded_word_on_a_node_with_other_states_is_refused() -> None:
    from kneebayes.modelfile.schema import GradedAnswer, NodeSpec, Parameter, Prior

    three = NodeSpec("pace", "Pace", "risk_factor", "How fast?", ("slow", "steady", "fast"),
                     Prior(tuple(Parameter(v, "s", "r", (0.1, 0.5)) for v in (0.3, 0.4, 0.3))), askable=True)
    tiny = ModelSpec("t", "1", "t", (three,), graded_answers=(GradedAnswer("probably", 4.0, "probably", "s", "r"),))
    with pytest.raises(EvidenceError, match="the graded answer 'probably' is for yes/no questions; 'pace' has the states"):
        kneebayes.Model(tiny).marginals({"pace": "probably"})


def test_skipping_a_softly_answered_question_closes_it_but_a_hard_answer_cannot_be_skipped(
        knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"swelling_behind_knee": "probably"}, skipped=["swelling_behind_knee"])
    assert "swelling_behind_knee" not in [q.id for q in dx.ranked_questions]
    with pytest.raises(EvidenceError, match="both answered"):
        knee_model.diagnose({"swelling_behind_knee": "yes"}, skipped=["swelling_behind_knee"])


def test_a_bipartite_noisy_or_network_weighs_soft_answers_as_a_mix_of_its_answers() -> None:
    from kneebayes.modelfile.schema import NodeSpec, NoisyOr, Parameter, Prior

    def number(v: float) -> Parameter:
        return Parameter(v, "s", "r", (0.01, 0.99))

    causes = 17   # past BIPARTITE_CAUSES: the network takes the bipartite engine
    nodes = [NodeSpec(f"c{i}", f"c{i}", "cause", "?", ("yes", "no"), Prior((number(0.1), number(0.9)), True), False)
             for i in range(causes)]
    nodes += [NodeSpec(f"f{j}", f"f{j}", "finding", "?", ("yes", "no"),
                       NoisyOr(number(0.01), tuple((f"c{i}", number(0.5)) for i in range(j, j + 3))), True)
              for j in range(causes - 3)]
    model = kneebayes.Model(ModelSpec("qmr", "1", "qmr", tuple(nodes)))
    assert model.network.bipartite is not None
    soft = model.diagnose({"f0": Likelihood(yes=2, no=1), "f1": "yes"})
    answered = {s: model.diagnose({"f0": s, "f1": "yes"}) for s in ("yes", "no")}
    mass = {s: w * np.exp(answered[s].log_evidence_probability) for s, w in (("yes", 2.0), ("no", 1.0))}
    total = sum(mass.values())
    assert abs(soft.log_evidence_probability - np.log(total / 2.0)) <= 1e-12    # weights scaled to a largest of 1
    for cause in model.causes:
        expected = sum(mass[s] * answered[s].posterior[cause] for s in mass) / total
        assert abs(soft.posterior[cause] - expected) <= 1e-12, cause


# -- downstream ------------------------------------------------------------------------------

def _joint(dx: kneebayes.Diagnosis) -> np.ndarray:
    return np.array([c.probability for c in dx.most_probable_combinations(64)])


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def test_a_softly_answered_question_stays_open_and_its_gain_is_exact(knee_model: kneebayes.Model) -> None:
    evidence = {"swelling_behind_knee": Likelihood(yes=3, no=1), "limping": "yes"}
    dx = knee_model.diagnose(evidence)
    q = next(q for q in dx.ranked_questions if q.id == "swelling_behind_knee")
    p_yes = knee_model.marginals(evidence, nodes=["swelling_behind_knee"])["swelling_behind_knee"]
    after = {s: knee_model.diagnose({**evidence, "swelling_behind_knee": s}) for s in ("yes", "no")}
    expected = _entropy(_joint(dx)) - sum(p_yes[s] * _entropy(_joint(after[s])) for s in ("yes", "no"))
    assert q.expected_information_gain == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("clamp", ["targets", "candidates"])
def test_a_softly_answered_question_keeps_its_gain_on_the_sum_of_marginals_path(
        knee_model: kneebayes.Model, clamp: str) -> None:
    """Without the causes' joint the gain is the sum of each cause's own: a soft answer leaves its question open,
    so it gains what the definition says, not nothing, whichever side the ranking clamps."""
    model = kneebayes.Model(knee_model.spec, joint_limit=1)
    evidence = {"swelling_behind_knee": Likelihood(yes=3, no=1), "limping": "yes"}
    net = model.network
    node = net.index["swelling_behind_knee"]
    lam = encode(net, [to_indices(net, normalize(net, evidence))])
    (gain,), _ = marginal_gains(net, lam, (node,), clamp)
    p = model.marginals(evidence, nodes=["swelling_behind_knee"])["swelling_behind_knee"]
    after = {s: model.diagnose({**evidence, "swelling_behind_knee": s}).posterior for s in ("yes", "no")}
    before = model.diagnose(evidence).posterior

    def h(q: float) -> float:
        return _entropy(np.array([q, 1.0 - q]))

    expected = sum(h(before[c]) - sum(p[s] * h(after[s][c]) for s in ("yes", "no")) for c in model.causes)
    assert expected > 0.01
    assert gain == pytest.approx(expected, abs=1e-9)
    ranked = {q.id: q.expected_information_gain for q in model.diagnose(evidence).ranked_questions}
    assert ranked["swelling_behind_knee"] == pytest.approx(expected, abs=1e-9)


def test_the_rationale_of_a_softly_answered_question_gives_each_answer_its_probability(
        knee_model: kneebayes.Model) -> None:
    evidence = {"swelling_behind_knee": Likelihood(yes=3, no=1), "limping": "yes"}
    rationale = knee_model.diagnose(evidence).rationale("swelling_behind_knee")
    p = knee_model.marginals(evidence, nodes=["swelling_behind_knee"])["swelling_behind_knee"]
    got = {e.state: e.probability for e in rationale.answers}
    assert got == pytest.approx(p, abs=1e-12)


def test_explanations_weigh_a_soft_answer_like_any_other(knee_model: kneebayes.Model) -> None:
    soft = Likelihood(yes=4, no=1, label="probably")
    dx = knee_model.diagnose({"swelling_behind_knee": soft, "limping": "yes"})
    ex = dx.explain("bakers_cyst")
    contribution = next(c for c in (*ex.supporting, *ex.conflicting) if c.node == "swelling_behind_knee")
    without = knee_model.diagnose({"limping": "yes"}).posterior["bakers_cyst"]
    now = dx.posterior["bakers_cyst"]
    expected = 10 * math.log10((now / (1 - now)) / (without / (1 - without)))
    assert contribution.state == soft and contribution.weight_of_evidence == pytest.approx(expected, abs=1e-9)
    assert "probably (yes:no = 4:1)" in str(ex)


def test_what_the_answers_point_to_counts_a_soft_answer(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "probably"})
    prior = dx.prior["meniscal_injury"]
    now = dx.posterior["meniscal_injury"]
    assert dx.bayes_factor["meniscal_injury"] == pytest.approx((now / (1 - now)) / (prior / (1 - prior)), rel=1e-9)
    assert dx.bayes_factor["meniscal_injury"] > 1


def test_to_dict_writes_a_soft_answer_as_its_weights_and_label(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose({"limping": "probably_not"}).to_dict()
    assert out["evidence"] == {"limping": {"likelihood": {"yes": 0.25, "no": 1.0}, "label": "probably_not"}}


def test_a_pickled_diagnosis_keeps_its_soft_answers(knee_model: kneebayes.Model) -> None:
    import pickle

    dx = knee_model.diagnose({"limping": "probably", "sharp_pain": "no"})
    back = pickle.loads(pickle.dumps(dx))
    assert back.evidence == dx.evidence and back.posterior == dx.posterior


def test_intervals_and_sensitivity_take_soft_answers_at_the_written_numbers(knee_model: kneebayes.Model) -> None:
    evidence = {"swelling_behind_knee": Likelihood(yes=3, no=1), "limping": "yes", "meniscal_injury": Likelihood(yes=1, no=2)}
    dx = knee_model.diagnose(evidence)
    table = kneebayes.sensitivity(knee_model, evidence, cause="bakers_cyst")
    assert table.attrs["posterior"] == pytest.approx(dx.posterior["bakers_cyst"], abs=1e-12)
    intervals = knee_model.posterior_intervals(evidence, draws=100, seed=3)
    assert intervals.attrs["posterior"]["bakers_cyst"] == pytest.approx(dx.posterior["bakers_cyst"], abs=1e-12)


def test_the_draw_engine_at_the_written_numbers_equals_the_engine_with_soft_answers(knee_model: kneebayes.Model) -> None:
    from kneebayes.evidence import to_indices
    from kneebayes.research.draw_engine import TargetDraws
    from kneebayes.research.draws import build_sampler

    evidence = {"swelling_behind_knee": Likelihood(yes=3, no=1), "tendonitis": Likelihood(yes=1, no=5)}
    dx = knee_model.diagnose(evidence)
    sampler = build_sampler(knee_model.spec)
    draws = TargetDraws.build(knee_model.spec, knee_model.network, to_indices(knee_model.network, dx.evidence),
                              sampler.sampled, sampler.base)
    got = draws.posteriors({i: sampler.base[i][None, :] for i in sampler.sampled}, 1)[0]
    assert got == pytest.approx(dx.columns, abs=1e-12)


@pytest.mark.parametrize("answer, level", [
    ("probably", "see_doctor"), (Likelihood(yes=1.5, no=1), "see_doctor"),
    ("not_sure", "incomplete"), ("probably_not", "incomplete"),
])
def test_a_soft_answer_to_a_warning_sign_is_read_safety_first(knee_model: kneebayes.Model, answer: object,
                                                               level: str) -> None:
    from kneebayes.triage import screened

    flags = {f.node for f in knee_model.spec.red_flags}
    evidence = {node: "no" for node in flags}
    evidence["locking_or_catching"] = answer   # type: ignore[assignment]
    dx = knee_model.diagnose(evidence)
    assert dx.triage.level == level
    assert "locking_or_catching" in dx.triage.unanswered_red_flags   # not answered firmly, whatever it fired
    assert screened(knee_model.spec, dx.evidence)["locking_or_catching"] == dx.evidence["locking_or_catching"]


def test_every_combination_of_graded_answers_gives_posteriors_between_the_firm_ones(knee_model: kneebayes.Model) -> None:
    node = "tingling_or_numbness"
    by = {w: knee_model.diagnose({node: w}).posterior["nerve_irritation"]
          for w in ("no", "probably_not", "not_sure", "probably", "yes")}
    values = list(by.values())
    assert values == sorted(values) and by["not_sure"] == pytest.approx(knee_model.diagnose({}).posterior["nerve_irritation"])
    for a, b in itertools.pairwise(values):
        assert a < b


def test_a_soft_answer_leaves_a_care_condition_open(knee_model: kneebayes.Model) -> None:
    from kneebayes.care import condition_status

    condition = (("instability", ("yes",)),)
    assert condition_status(condition, {"instability": Likelihood(yes=4, no=1)}) == "open"
    assert condition_status(condition, {"instability": Likelihood(yes=1, no=4)}) == "open"
    ids = {a.id for a in knee_model.diagnose({"instability": "probably_not"}).care_plan}
    assert "bracing_for_instability" in ids    # open: kept, as with no answer
    assert "bracing_for_instability" not in {a.id for a in knee_model.diagnose({"instability": "no"}).care_plan}


def test_a_soft_answer_labelled_as_one_of_its_states_is_refused(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.EvidenceError, match="a soft answer to 'limping' may not be labelled 'no', one of "
                                                      "its states"):
        knee_model.diagnose({"limping": kneebayes.Likelihood(yes=1000, no=1, label="no")})
    firm = knee_model.diagnose({"limping": kneebayes.Likelihood(yes=1, no=0, label="yes")})   # true to its label
    assert firm.posterior == knee_model.diagnose({"limping": "yes"}).posterior


def test_a_soft_answer_labelled_as_a_graded_answer_carries_its_weights(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.EvidenceError, match="labelled 'probably', this model's graded answer"):
        knee_model.diagnose({"limping": kneebayes.Likelihood(yes=1000, no=1, label="probably")})
    scaled = knee_model.diagnose({"limping": kneebayes.Likelihood(yes=8, no=2, label="probably")})   # 4:1, scaled
    assert scaled.posterior == pytest.approx(knee_model.diagnose({"limping": "probably"}).posterior, abs=1e-15)
