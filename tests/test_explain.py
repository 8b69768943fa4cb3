"""Explanations: each answer's contribution to a cause (src/kneebayes/explain.py, via Diagnosis.explain)."""

from __future__ import annotations

import html
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@given(data=st.data())
def test_posterior_without_an_answer_equals_diagnosing_without_it(knee_model: kneebayes.Model,
                                                                  data: st.DataObject) -> None:
    evidence = data.draw(knee_answers(knee_model, with_causes=True), label="evidence")
    cause = data.draw(st.sampled_from(knee_model.causes), label="cause")
    ex = knee_model.diagnose(evidence).explain(cause)
    for c in ex.supporting + ex.conflicting:
        assert evidence[c.node] == c.state
        expected = knee_model.diagnose(_without(evidence, c.node)).posterior[cause]
        assert abs(c.posterior_without - expected) <= 1e-12, (c, expected)


@given(data=st.data())
def test_log_odds_is_the_change_in_the_causes_log_odds_and_its_sign_splits_the_lists(
    knee_model: kneebayes.Model, data: st.DataObject,
) -> None:
    evidence = data.draw(knee_answers(knee_model), label="evidence")
    cause = data.draw(st.sampled_from(knee_model.causes), label="cause")
    dx = knee_model.diagnose(evidence)
    ex = dx.explain(cause)
    assert ex.cause == cause
    assert abs(ex.posterior - dx.posterior[cause]) <= 1e-12
    assert all(c.log_odds > 0 for c in ex.supporting)
    assert all(c.log_odds < 0 for c in ex.conflicting)
    listed = [c.node for c in ex.supporting + ex.conflicting]
    assert len(listed) == len(set(listed))
    assert set(listed) <= set(evidence)
    for node in set(evidence) - set(listed):   # left out only when it changes nothing at all
        without = knee_model.diagnose(_without(evidence, node)).posterior[cause]
        assert abs(_logit(dx.posterior[cause]) - _logit(without)) <= 1e-9, node
    for c in ex.supporting + ex.conflicting:
        expected = _logit(dx.posterior[cause]) - _logit(c.posterior_without)
        assert abs(c.log_odds - expected) <= 1e-9, (c, expected)


@given(data=st.data())
def test_contributions_are_sorted_largest_first(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    evidence = data.draw(knee_answers(knee_model, with_causes=True), label="evidence")
    cause = data.draw(st.sampled_from(knee_model.causes), label="cause")
    ex = knee_model.diagnose(evidence).explain(cause)
    for part in (ex.supporting, ex.conflicting):
        sizes = [abs(c.log_odds) for c in part]
        assert sizes == sorted(sizes, reverse=True)


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
    with pytest.raises(AttributeError):
        ex.posterior = 0.0  # type: ignore[misc]


def test_a_multi_state_target_is_explained_for_its_most_probable_state_or_a_chosen_one() -> None:
    import os
    import warnings

    import pgmpy

    path = os.path.join(os.path.dirname(pgmpy.__file__), "utils", "example_models", "child.bif.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        child = kneebayes.load_bif(path, targets=["Disease"])
    evidence = {"LungParench": "Abnormal", "Grunting": "yes", "Age": "0-3_days"}
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
