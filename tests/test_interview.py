"""The interview session (src/kneebayes/interview.py): answers, skips, undo, errors, save and resume."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import cpt_by_definition, param

import kneebayes
from kneebayes import AlreadyAnsweredError
from kneebayes.modelfile.schema import ModelSpec, NodeSpec, Prior, Table, TableColumn

YES_NO = ("yes", "no")


def _state(session: kneebayes.Interview) -> tuple[Any, ...]:
    """Everything a caller can see of a session."""
    dx = session.diagnosis
    return (
        session.answers,
        session.skipped,
        [(s.action, s.node, s.value, dict(s.posterior)) for s in session.history],
        dict(dx.evidence),
        dx.skipped,
        dict(dx.posterior),
        [q.id for q in dx.ranked_questions],
        session.to_json(),
    )


def _askable(model: kneebayes.Model) -> list[str]:
    return [n.id for n in model.nodes if n.askable]


def _copy_model() -> kneebayes.Model:
    """A two-node model in which the finding copies its cause exactly (a deterministic table)."""
    yes_no = ("yes", "no")
    copy = Table(("cause",), (
        TableColumn((("cause", "yes"),), (param(1.0), param(0.0))),
        TableColumn((("cause", "no"),), (param(0.0), param(1.0))),
    ))
    return kneebayes.Model(ModelSpec("copy", "1", "a finding that copies its cause", (
        NodeSpec(id="cause", label="cause", kind="cause", question="cause?", states=yes_no,
                 parameters=Prior((param(0.3), param(0.7))), askable=False),
        NodeSpec(id="first", label="first", kind="finding", question="first?", states=yes_no,
                 parameters=copy, askable=True),
        NodeSpec(id="second", label="second", kind="finding", question="second?", states=yes_no,
                 parameters=copy, askable=True),
    )))


def _changed_knee(model: kneebayes.Model) -> kneebayes.Model:
    """The knee model with one prior moved: same name and version, different content hash."""
    nodes = list(model.spec.nodes)
    i = next(i for i, n in enumerate(nodes) if isinstance(n.parameters, Prior))
    old = nodes[i].parameters
    assert isinstance(old, Prior)
    p = old.probabilities[0].value
    moved = Prior((dataclasses.replace(old.probabilities[0], value=p / 2),
                   dataclasses.replace(old.probabilities[1], value=1 - p / 2)))
    nodes[i] = dataclasses.replace(nodes[i], parameters=moved)
    return kneebayes.Model(dataclasses.replace(model.spec, nodes=tuple(nodes)))


def _sample_case(model: kneebayes.Model, seed: int) -> dict[str, str]:
    """One complete case drawn forward from the model's own tables (parents before children)."""
    spec = model.spec
    states = {n.id: n.states for n in spec.nodes}
    rng = np.random.default_rng(seed)
    case: dict[str, str] = {}
    pending = list(spec.nodes)
    while pending:
        for node in list(pending):
            if all(p in case for p in node.parents):
                table = cpt_by_definition(node, states)
                probs = table[tuple(states[p].index(case[p]) for p in node.parents)]
                case[node.id] = states[node.id][rng.choice(len(probs), p=probs / probs.sum())]
                pending.remove(node)
    return case


# ---------------------------------------------------------------------------------
# Answer, skip, undo
# ---------------------------------------------------------------------------------
def test_answer_then_undo_restores_the_session(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "yes")
    before = _state(session)
    session.answer("tingling_or_numbness", "no")
    session.undo()
    assert _state(session) == before


def test_skip_then_undo_restores_the_session(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "yes")
    before = _state(session)
    session.skip("sharp_pain")
    session.undo()
    assert _state(session) == before


@given(data=st.data())
def test_any_sequence_of_answers_and_skips_undone_in_full_restores_the_start(knee_model: kneebayes.Model,
                                                                            data: st.DataObject) -> None:
    session = kneebayes.Interview(knee_model)
    start = _state(session)
    nodes = data.draw(st.lists(st.sampled_from(_askable(knee_model)), unique=True, max_size=8), label="nodes")
    for node in nodes:
        value = data.draw(st.sampled_from(YES_NO + (None,)), label=node)
        if value is None:
            session.skip(node)
        else:
            session.answer(node, value)
    for _ in nodes:
        session.undo()
    assert _state(session) == start


def test_answer_accepts_true_and_false(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", True)
    session.answer("sharp_pain", False)
    assert session.answers == {"limping": "yes", "sharp_pain": "no"}


def test_answering_an_unknown_id_raises_and_changes_nothing(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "no")
    before = _state(session)
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown node 'tinglng'; did you mean 'tingling_or_numbness'"):
        session.answer("tinglng", "yes")
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown node 'nowhere'"):
        session.skip("nowhere")
    assert _state(session) == before


def test_an_invalid_value_raises_and_changes_nothing(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "no")
    before = _state(session)
    with pytest.raises(kneebayes.InvalidStateError, match="invalid state 'maybe' for node 'sharp_pain'.*'yes', 'no'"):
        session.answer("sharp_pain", "maybe")
    assert _state(session) == before


def test_re_answering_raises_already_answered_saying_undo_and_changes_nothing(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "no")
    session.skip("sharp_pain")
    before = _state(session)
    with pytest.raises(AlreadyAnsweredError, match="'limping' is already answered.*undo"):
        session.answer("limping", "yes")
    with pytest.raises(AlreadyAnsweredError, match="'limping'.*undo"):
        session.skip("limping")
    with pytest.raises(AlreadyAnsweredError, match="'sharp_pain' was skipped.*undo"):
        session.answer("sharp_pain", "yes")
    assert issubclass(AlreadyAnsweredError, kneebayes.KneeBayesError)
    assert _state(session) == before


def test_impossible_evidence_raises_and_changes_nothing() -> None:
    session = kneebayes.Interview(_copy_model())
    session.answer("first", "yes")
    before = _state(session)
    with pytest.raises(kneebayes.ImpossibleEvidenceError, match="probability zero") as err:
        session.answer("second", "no")
    assert "first=yes" in str(err.value) and "second=no" in str(err.value)
    assert _state(session) == before
    session.answer("second", "yes")   # the possible answer still goes through
    assert session.answers == {"first": "yes", "second": "yes"}


def test_undo_with_nothing_to_undo_raises(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    before = _state(session)
    with pytest.raises(kneebayes.KneeBayesError, match="nothing to undo"):
        session.undo()
    assert _state(session) == before


def test_skip_removes_the_question_for_good(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    first = session.next_question()
    assert first is not None
    session.skip(first.id)
    assert session.skipped == (first.id,)
    assert first.id not in [q.id for q in session.diagnosis.ranked_questions]
    assert first.id not in session.answers
    assert session.next_question() is None or session.next_question().id != first.id  # type: ignore[union-attr]
    session.answer("limping", "yes")
    assert first.id not in [q.id for q in session.diagnosis.ranked_questions]


@given(data=st.data())
def test_history_records_the_posterior_after_each_step(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    session = kneebayes.Interview(knee_model)
    nodes = data.draw(st.lists(st.sampled_from(_askable(knee_model)), unique=True, min_size=1, max_size=8), label="nodes")
    answers: dict[str, str] = {}
    skipped: list[str] = []
    for node in nodes:
        value = data.draw(st.sampled_from(YES_NO + (None,)), label=node)
        if value is None:
            session.skip(node)
            skipped.append(node)
        else:
            session.answer(node, value)
            answers[node] = value
        step = session.history[-1]
        assert (step.action, step.node, step.value) == (("skip", node, None) if value is None else ("answer", node, value))
        assert dict(step.posterior) == dict(knee_model.diagnose(answers, skipped=skipped).posterior)
        assert dict(step.posterior) == dict(session.diagnosis.posterior)
    assert [s.node for s in session.history] == nodes


# ---------------------------------------------------------------------------------
# Saving and resuming
# ---------------------------------------------------------------------------------
def test_to_json_and_from_json_round_trip(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model, confidence=0.8, cost_weight=0.05)
    session.answer("limping", "yes")
    session.skip("sharp_pain")
    session.answer("tingling_or_numbness", "no")
    text = session.to_json()
    json.loads(text)   # plain JSON
    resumed = kneebayes.Interview.from_json(knee_model, text)
    assert resumed.answers == session.answers
    assert resumed.skipped == session.skipped
    assert [(s.action, s.node, s.value, dict(s.posterior)) for s in resumed.history] == \
        [(s.action, s.node, s.value, dict(s.posterior)) for s in session.history]
    assert resumed.diagnosis.settings == session.diagnosis.settings
    assert resumed.to_json() == text
    assert _state(resumed) == _state(session)


def test_from_json_with_a_different_model_raises_naming_both(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "yes")
    other = _changed_knee(knee_model)
    assert other.content_hash != knee_model.content_hash
    with pytest.raises(kneebayes.SavedInterviewError, match="its answers may not mean the same here") as err:
        kneebayes.Interview.from_json(other, session.to_json())
    message = str(err.value)
    assert knee_model.content_hash[:12] in message and other.content_hash[:12] in message
    assert f"{knee_model.name} {knee_model.version}" in message


def test_from_json_rejects_text_that_is_not_a_saved_interview(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.SavedInterviewError, match="not a saved interview"):
        kneebayes.Interview.from_json(knee_model, "{not json")
    with pytest.raises(kneebayes.SavedInterviewError, match="not a saved interview"):
        kneebayes.Interview.from_json(knee_model, json.dumps({"format": "something-else"}))


# ---------------------------------------------------------------------------------
# Stopping and a whole interview
# ---------------------------------------------------------------------------------
def test_next_question_is_none_once_the_diagnosis_says_stop(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model, confidence=0.9, screen_red_flags=False)
    assert session.next_question() is not None
    session.answer("knee_trauma", "yes")
    session.answer("locking_or_catching", "yes")
    dx = session.diagnosis
    assert dx.should_stop and dx.stop_reason is kneebayes.StopReason.CONFIDENT
    assert dx.next_question is not None          # the diagnosis still offers one ...
    assert session.next_question() is None       # ... but the session says stop


def test_next_question_is_none_when_nothing_is_left(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    for node in _askable(knee_model):
        session.skip(node)
    assert session.diagnosis.stop_reason is kneebayes.StopReason.NOTHING_LEFT
    assert session.next_question() is None


@given(seed=st.integers(min_value=0, max_value=2**32 - 1), screen=st.booleans())
def test_a_simulated_interview_from_a_complete_case_terminates_with_a_stop_reason(
    knee_model: kneebayes.Model, seed: int, screen: bool,
) -> None:
    case = _sample_case(knee_model, seed)
    session = kneebayes.Interview(knee_model, screen_red_flags=screen)
    limit = len(_askable(knee_model))
    for asked in itertools.count():
        q = session.next_question()
        if q is None:
            break
        assert asked < limit, "asked more questions than there are"
        assert q.id not in session.answers
        session.answer(q.id, case[q.id])
    dx = session.diagnosis
    assert dx.should_stop and dx.stop_reason is not None
    assert session.answers == {node: case[node] for node in session.answers}
    if screen:
        for flag in knee_model.red_flag_nodes:
            assert flag in session.answers, f"stopped without asking red flag {flag}"


def test_from_json_given_a_path_says_it_takes_the_text(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.SavedInterviewError, match="from_json takes the saved text, not a file's path"):
        kneebayes.Interview.from_json(knee_model, "session.json")
