"""Explanations: each answer's contribution to a cause (src/kneebayes/explain.py, via Diagnosis.explain)."""

from __future__ import annotations

import html
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import param

import kneebayes

YES_NO = ("yes", "no")


@st.composite
def knee_answers(draw: st.DrawFn, model: kneebayes.Model, with_causes: bool = False) -> dict[str, str]:
    """Random yes/no answers on a random subset of the knee's askable nodes (and causes, if asked)."""
    ids = [n.id for n in model.nodes if n.askable or with_causes]
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=12))
    return {node: draw(st.sampled_from(YES_NO)) for node in chosen}


def _without(evidence: dict[str, str], node: str) -> dict[str, str]:
    return {k: v for k, v in evidence.items() if k != node}


def _decibans_between(after: dict[str, float], before: dict[str, float], state: str = "yes") -> float:
    """10 log10 of the odds of ``state`` in ``after`` over its odds in ``before`` (odds from separate states)."""
    def odds(dist: dict[str, float]) -> float:
        return dist[state] / math.fsum(p for s, p in dist.items() if s != state)
    return 10.0 * math.log10(odds(after) / odds(before))


@given(data=st.data())
def test_each_contribution_is_the_answers_weight_of_evidence_given_the_others_and_its_sign_splits_the_lists(
    knee_model: kneebayes.Model, data: st.DataObject,
) -> None:
    evidence = data.draw(knee_answers(knee_model), label="evidence")
    cause = data.draw(st.sampled_from(knee_model.causes), label="cause")
    dx = knee_model.diagnose(evidence)
    ex = dx.explain(cause)
    assert ex.cause == cause
    assert abs(ex.posterior - dx.posterior[cause]) <= 1e-12
    assert all(c.weight_of_evidence > 0 for c in ex.supporting)
    assert all(c.weight_of_evidence < 0 for c in ex.conflicting)
    listed = [c.node for c in ex.supporting + ex.conflicting]
    assert len(listed) == len(set(listed))
    assert set(listed) <= set(evidence)
    full = dict(dx.distributions[cause])
    for node in set(evidence) - set(listed):   # left out only when it changes nothing at all
        without = dict(knee_model.diagnose(_without(evidence, node)).distributions[cause])
        assert abs(_decibans_between(full, without)) <= 1e-9, node
    for c in ex.supporting + ex.conflicting:
        without = dict(knee_model.diagnose(_without(evidence, c.node)).distributions[cause])
        expected = _decibans_between(full, without)
        assert abs(c.weight_of_evidence - expected) <= 1e-8, (c, expected)


@given(data=st.data())
def test_total_is_the_causes_weight_of_evidence_from_all_the_answers(knee_model: kneebayes.Model,
                                                                    data: st.DataObject) -> None:
    evidence = data.draw(knee_answers(knee_model, with_causes=True), label="evidence")
    cause = data.draw(st.sampled_from(knee_model.causes), label="cause")
    dx = knee_model.diagnose(evidence)
    ex = dx.explain(cause)
    assert ex.total == dx.weight_of_evidence[cause]
    assert ex.total == pytest.approx(10.0 * math.log10(dx.bayes_factor[cause]), abs=1e-12)
    assert ex.additive == (abs(ex.sum_of_contributions - ex.total) <= 0.1)
    assert all(math.isfinite(c.weight_of_evidence) for c in ex.supporting + ex.conflicting)


@given(data=st.data())
def test_contributions_are_sorted_largest_first(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    evidence = data.draw(knee_answers(knee_model, with_causes=True), label="evidence")
    cause = data.draw(st.sampled_from(knee_model.causes), label="cause")
    ex = knee_model.diagnose(evidence).explain(cause)
    for part in (ex.supporting, ex.conflicting):
        sizes = [abs(c.weight_of_evidence) for c in part]
        assert sizes == sorted(sizes, reverse=True)



@pytest.fixture(scope="module")
def child() -> kneebayes.Model:
    """CHILD, whose one target Disease has six states."""
    import os
    import warnings

    import pgmpy

    path = os.path.join(os.path.dirname(pgmpy.__file__), "utils", "example_models", "child.bif.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kneebayes.load_bif(path, targets=["Disease"])


CHILD_EVIDENCE = {"LungParench": "Abnormal", "Grunting": "yes", "Age": "0-3_days"}

def test_tingling_supports_nerve_irritation(knee_model: kneebayes.Model) -> None:
    ex = knee_model.diagnose({"tingling_or_numbness": "yes", "limping": "no"}).explain("nerve_irritation")
    assert ("tingling_or_numbness", "yes") in [(c.node, c.state) for c in ex.supporting]
    assert ex.supporting[0].node == "tingling_or_numbness"   # the largest contribution


def test_no_locking_conflicts_with_meniscal_injury(knee_model: kneebayes.Model) -> None:
    ex = knee_model.diagnose({"locking_or_catching": "no", "tingling_or_numbness": "yes"}).explain("meniscal_injury")
    assert ("locking_or_catching", "no") in [(c.node, c.state) for c in ex.conflicting]
    assert "locking_or_catching" not in [c.node for c in ex.supporting]


def test_explaining_an_unknown_cause_suggests_the_nearest(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "yes"})
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown cause 'menisc_injury'; did you mean 'meniscal_injury'") as err:
        dx.explain("menisc_injury")
    assert err.value.suggestions[0] == "meniscal_injury"


def test_explaining_a_node_that_is_not_a_cause_raises_unknown_node_error(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown cause 'limping'"):
        knee_model.diagnose({}).explain("limping")


def test_prior_is_the_posterior_with_no_evidence(knee_model: kneebayes.Model) -> None:
    prior = knee_model.diagnose({}).posterior
    dx = knee_model.diagnose({"tingling_or_numbness": "yes", "knee_trauma": "no"})
    for cause in knee_model.causes:
        assert abs(dx.explain(cause).prior - prior[cause]) <= 1e-12, cause


def test_explanation_with_no_evidence_has_no_contributions(knee_model: kneebayes.Model) -> None:
    ex = knee_model.diagnose({}).explain("tendonitis")
    assert ex.supporting == () and ex.conflicting == ()
    assert abs(ex.posterior - ex.prior) <= 1e-12


def test_explanations_are_cached_on_the_diagnosis(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"tingling_or_numbness": "yes"})
    first = dx.explain("nerve_irritation")
    assert dx.explain("nerve_irritation") is first
    assert dx.explain("tendonitis") is not first


def test_explanation_text_and_html_name_the_cause_and_the_answers(knee_model: kneebayes.Model) -> None:
    ex = knee_model.diagnose({"tingling_or_numbness": "yes", "locking_or_catching": "no"}).explain("nerve_irritation")
    text, page = str(ex), ex.to_html()
    assert "nerve_irritation" in text and "nerve_irritation" in page
    for c in ex.supporting + ex.conflicting:
        assert f"{c.node}={c.state}" in text
        assert html.escape(f"{c.node}={c.state}") in page
    assert ex._repr_html_() == page


def test_explanation_is_frozen(knee_model: kneebayes.Model) -> None:
    ex = knee_model.diagnose({"tingling_or_numbness": "yes"}).explain("nerve_irritation")
    with pytest.raises(AttributeError, match="cannot assign to field 'posterior'"):
        ex.posterior = 0.0  # type: ignore[misc]


def test_a_multi_state_target_is_explained_for_its_most_probable_state_or_a_chosen_one(child: kneebayes.Model) -> None:
    evidence = CHILD_EVIDENCE
    dx = child.diagnose(evidence)
    top = max(dx.distributions["Disease"], key=dx.distributions["Disease"].get)
    assert dx.explain("Disease").state == top
    chosen = dx.explain("Disease", "Lung")
    assert chosen.posterior == pytest.approx(dx.distributions["Disease"]["Lung"], abs=1e-12)
    for c in chosen.supporting + chosen.conflicting:
        rest = {k: v for k, v in evidence.items() if k != c.node}
        assert c.posterior_without == pytest.approx(child.diagnose(rest).distributions["Disease"]["Lung"], abs=1e-12)
    with pytest.raises(kneebayes.InvalidStateError, match="Lung"):
        dx.explain("Disease", "Lungs")


# -- additivity: when the answers' weights add up to the total ------------------------------------

def _finding(node_id: str, parent: str, p_yes: float, p_no: float, parent_states: tuple[str, str] = YES_NO):
    from kneebayes.modelfile.schema import NodeSpec, Table, TableColumn

    columns = (TableColumn(((parent, parent_states[0]),), (param(p_yes), param(1.0 - p_yes))),
               TableColumn(((parent, parent_states[1]),), (param(p_no), param(1.0 - p_no))))
    return NodeSpec(node_id, node_id, "finding", f"{node_id}?", YES_NO, Table((parent,), columns), True)


def _naive_bayes() -> kneebayes.Model:
    """One cause with three findings that depend on it alone: independent given the cause and its absence."""
    from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Prior

    nodes = (NodeSpec("c", "c", "cause", "c?", YES_NO, Prior((param(0.1), param(0.9))), False),
             _finding("f1", "c", 0.8, 0.1), _finding("f2", "c", 0.3, 0.6), _finding("f3", "c", 0.9, 0.5))
    return kneebayes.Model(ModelSpec(name="naive", version="0", title="naive Bayes", nodes=nodes))


def _echo() -> kneebayes.Model:
    """A cause, a finding f1 of it, and a finding f2 that echoes f1: the two are not independent given the cause."""
    from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Prior

    nodes = (NodeSpec("c", "c", "cause", "c?", YES_NO, Prior((param(0.1), param(0.9))), False),
             _finding("f1", "c", 0.8, 0.1), _finding("f2", "f1", 0.99, 0.01))
    return kneebayes.Model(ModelSpec(name="echo", version="0", title="an echoed finding", nodes=nodes))


@given(st.dictionaries(st.sampled_from(["f1", "f2", "f3"]), st.sampled_from(YES_NO), min_size=1))
def test_contributions_add_up_to_the_total_when_the_answers_are_independent_given_the_cause(
    evidence: dict[str, str],
) -> None:
    dx = _naive_bayes().diagnose(evidence)
    ex = dx.explain("c")
    assert ex.additive
    assert ex.sum_of_contributions == pytest.approx(ex.total, abs=1e-9)
    # each contribution is that answer's own likelihood ratio, whatever the other answers
    ratios = {"f1": (0.8, 0.1), "f2": (0.3, 0.6), "f3": (0.9, 0.5)}
    for c in ex.supporting + ex.conflicting:
        p_yes, p_no = ratios[c.node]
        lr = p_yes / p_no if c.state == "yes" else (1 - p_yes) / (1 - p_no)
        assert c.weight_of_evidence == pytest.approx(10.0 * math.log10(lr), abs=1e-9)


def test_contributions_do_not_add_up_when_the_answers_are_not_independent_given_the_cause() -> None:
    ex = _echo().diagnose({"f1": "yes", "f2": "yes"}).explain("c")
    assert not ex.additive
    assert ex.total > ex.sum_of_contributions + 0.1      # each answer is nearly redundant given the other
    text = str(ex)
    assert (f"the answers are not independent given the cause: they add up to {ex.sum_of_contributions:+.1f} dB "
            f"of the total {ex.total:+.1f} dB") in text
    assert html.escape("the answers are not independent given the cause") in ex.to_html()


def test_explanation_says_when_the_contributions_add_up(knee_model: kneebayes.Model) -> None:
    ex = _naive_bayes().diagnose({"f1": "yes", "f2": "no"}).explain("c")
    assert str(ex).splitlines()[-1] == "  these add up to the total"
    assert "these add up to the total" in ex.to_html()
    assert f"{ex.total:+.1f} dB" in str(ex).splitlines()[0]


def test_an_observed_cause_has_a_finite_contribution_of_a_thousand_decibans(knee_model: kneebayes.Model) -> None:
    ex = knee_model.diagnose({"meniscal_injury": "yes", "limping": "yes"}).explain("meniscal_injury")
    assert [(c.node, c.weight_of_evidence) for c in ex.supporting] == [("meniscal_injury", 1000.0)]
    assert ex.total == 1000.0 and ex.additive


def test_contributions_to_a_multi_state_state_are_its_weight_of_evidence_against_the_rest(child: kneebayes.Model) -> None:
    evidence = CHILD_EVIDENCE
    dx = child.diagnose(evidence)
    ex = dx.explain("Disease", "Lung")
    assert ex.total == pytest.approx(10.0 * math.log10(dx.bayes_factor["Disease"]["Lung"]), abs=1e-12)
    full = dict(dx.distributions["Disease"])
    for c in ex.supporting + ex.conflicting:
        without = dict(child.diagnose(_without(evidence, c.node)).distributions["Disease"])
        assert c.weight_of_evidence == pytest.approx(_decibans_between(full, without, "Lung"), abs=1e-8)


def test_a_multi_state_target_does_not_blame_dependence_when_its_weights_do_not_add_up(tmp_path) -> None:
    from graded import write_graded

    # two findings that depend on damage alone (independent given it), yet 'not torn' mixes intact and ruptured
    path = write_graded(tmp_path / "graded.yaml", title="naive three states", damage=(0.6, 0.3, 0.1),
                        findings={"f1": (0.1, 0.7, 0.9), "f2": (0.2, 0.6, 0.3)})
    ex = kneebayes.load_model(path).diagnose({"f1": "yes", "f2": "yes"}).explain("damage", "torn")
    assert not ex.additive and not ex.two_states
    assert "mixes the other states" in ex.summary()
    assert "not independent" not in ex.summary()


def test_a_total_at_the_clip_limit_is_not_read_as_dependence(knee_model) -> None:
    ex = knee_model.diagnose({"nerve_irritation": "yes", "tingling_or_numbness": "yes"}).explain("nerve_irritation")
    assert ex.total == pytest.approx(1000.0)
    assert "not independent" not in ex.summary()
    assert ex.additive or "at its limit" in ex.summary()
