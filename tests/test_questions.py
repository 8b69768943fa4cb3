"""Ranking, stopping and rationale (src/kneebayes/questions.py, through Diagnosis)."""

from __future__ import annotations

import html
import math

import pytest
from graded import write_graded
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
import numpy as np

from kneebayes.questions import Question, Settings, StopReason, decide, rank, stop_reason

YES_NO = ("yes", "no")


@st.composite
def questions(draw: st.DrawFn, max_size: int = 12) -> list[Question]:
    """Candidate questions with unique ids, gains and costs from a small pool (so ties happen)."""
    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=3), unique=True, max_size=max_size))
    weight = draw(st.sampled_from((0.0, 0.01, 0.5)))
    out = []
    for i in ids:
        gain = draw(st.sampled_from((0.0, 0.1, 0.25, 0.5, 1.0)))
        cost = draw(st.sampled_from((1.0, 2.0, 5.0)))
        out.append(Question(i, f"{i}?", gain, cost, gain - weight * cost, draw(st.booleans())))
    return out


@st.composite
def knee_answers(draw: st.DrawFn, model: kneebayes.Model, max_size: int | None = None) -> dict[str, str]:
    """Random yes/no answers to a random subset of the knee's askable questions."""
    ids = [n.id for n in model.nodes if n.askable]
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=max_size or len(ids)))
    return {node: draw(st.sampled_from(YES_NO)) for node in chosen}


def _askable(model: kneebayes.Model) -> list[str]:
    return [n.id for n in model.nodes if n.askable]


def _confident_evidence(model: kneebayes.Model) -> dict[str, str]:
    """Answers that make meniscal injury the leading cause with P > 0.5 (most red flags left open)."""
    evidence = {"knee_trauma": "yes", "locking_or_catching": "yes"}
    dx = model.diagnose(evidence)
    assert dx.ranked_causes[0][0] == "meniscal_injury" and dx.ranked_causes[0][1] > 0.5, dx.ranked_causes
    return evidence


@pytest.fixture(scope="module")
def red_flags(knee_model: kneebayes.Model) -> tuple[str, ...]:
    if not knee_model.red_flag_nodes:
        pytest.skip("models/knee.yaml lists no red flags yet (model.red_flag_nodes is empty)")
    return knee_model.red_flag_nodes


# ---------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------
@given(st.data())
def test_decide_on_one_row_matches_the_rules_on_a_batch(data: st.DataObject) -> None:
    # one row takes a plain-Python path; the same row inside a batch of two takes the array rules
    n = data.draw(st.integers(0, 8))
    pool = st.sampled_from((0.0, 0.005, 0.1, 0.25, 0.5))
    gains = np.array([data.draw(st.lists(pool, min_size=n, max_size=n)) for _ in range(2)])
    costs = np.array(data.draw(st.lists(st.sampled_from((1.0, 2.0, 30.0)), min_size=n, max_size=n)))
    red = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    open_ = np.array([data.draw(st.lists(st.booleans(), min_size=n, max_size=n)) for _ in range(2)], dtype=bool)
    leading = np.array(data.draw(st.lists(st.sampled_from((0.3, 0.9, 0.95)), min_size=2, max_size=2)))
    settings = Settings(cost_weight=data.draw(st.sampled_from((0.0, 0.01))),
                        screen_red_flags=data.draw(st.booleans()))
    one = decide(gains[:1], costs, red, open_[:1], leading[:1], settings)
    both = decide(gains, costs, red, open_, leading, settings)
    assert one.order.tolist() == both.order[:1].tolist()
    assert one.n_open.tolist() == both.n_open[:1].tolist()
    assert one.stop.tolist() == both.stop[:1].tolist()
    assert one.score.tolist() == both.score[:1].tolist()


@given(questions())
def test_rank_orders_by_score_descending_then_by_id(qs: list[Question]) -> None:
    ranked = rank(qs, promote_red_flags=False)
    assert sorted(ranked, key=id) == sorted(qs, key=id)
    keys = [(-q.score, q.id) for q in ranked]
    assert keys == sorted(keys)


@given(questions(), st.randoms(use_true_random=False))
def test_rank_does_not_depend_on_the_input_order(qs: list[Question], rng) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(qs)
    rng.shuffle(shuffled)
    assert rank(shuffled, promote_red_flags=False) == rank(qs, promote_red_flags=False)
    assert rank(shuffled, promote_red_flags=True) == rank(qs, promote_red_flags=True)


@given(questions())
def test_rank_with_red_flags_promoted_puts_every_red_flag_first_each_part_in_score_order(qs: list[Question]) -> None:
    ranked = rank(qs, promote_red_flags=True)
    flags = [q.red_flag for q in ranked]
    assert flags == sorted(flags, reverse=True)
    for part in (True, False):
        keys = [(-q.score, q.id) for q in ranked if q.red_flag is part]
        assert keys == sorted(keys)


def test_a_costlier_question_of_equal_gain_ranks_lower() -> None:
    weight = 0.01
    cheap = Question("zz_cheap", "cheap?", 0.3, 1.0, 0.3 - weight * 1.0)
    dear = Question("aa_dear", "dear?", 0.3, 2.0, 0.3 - weight * 2.0)   # wins the id tie-break, loses on cost
    assert rank([dear, cheap], promote_red_flags=False) == (cheap, dear)


def test_equal_scores_are_ordered_by_id() -> None:
    a, b, c = (Question(i, f"{i}?", 0.2, 1.0, 0.19) for i in ("b", "a", "c"))
    assert [q.id for q in rank([a, b, c], promote_red_flags=False)] == ["a", "b", "c"]


@given(data=st.data(), weight=st.sampled_from((0.0, 0.01, 0.1, 2.5)))
def test_score_is_gain_minus_cost_weight_times_the_models_cost(knee_model: kneebayes.Model, data: st.DataObject,
                                                               weight: float) -> None:
    evidence = data.draw(knee_answers(knee_model), label="evidence")
    dx = knee_model.diagnose(evidence, cost_weight=weight)
    for q in dx.ranked_questions:
        assert q.cost == knee_model.cost(q.id)
        assert q.score == q.expected_information_gain - weight * q.cost, q
        assert q.text == knee_model.node(q.id).question


@given(data=st.data())
def test_diagnosis_ranking_is_score_order_without_the_red_flag_screen(knee_model: kneebayes.Model,
                                                                      data: st.DataObject) -> None:
    evidence = data.draw(knee_answers(knee_model), label="evidence")
    weight = data.draw(st.sampled_from((0.0, 0.01, 1e6)), label="cost_weight")
    dx = knee_model.diagnose(evidence, cost_weight=weight, screen_red_flags=False)
    keys = [(-q.score, q.id) for q in dx.ranked_questions]
    assert keys == sorted(keys)
    assert dx.next_question == (dx.ranked_questions[0] if dx.ranked_questions else None)


def test_the_knee_model_has_questions_of_different_costs(knee_model: kneebayes.Model) -> None:
    """Otherwise the cost-aware ranking would never be exercised on the real model."""
    assert len({knee_model.cost(n) for n in _askable(knee_model)}) > 1


# ---------------------------------------------------------------------------------
# Stopping
# ---------------------------------------------------------------------------------
def test_stop_reason_is_nothing_left_when_every_question_is_answered_or_skipped(knee_model: kneebayes.Model) -> None:
    askable = _askable(knee_model)
    half = len(askable) // 2
    dx = knee_model.diagnose({n: "no" for n in askable[:half]}, skipped=askable[half:])
    assert dx.ranked_questions == ()
    assert dx.stop_reason is StopReason.NOTHING_LEFT
    assert str(dx.stop_reason) == "nothing_left"
    assert dx.should_stop is True
    assert dx.next_question is None


def test_with_every_question_answered_or_skipped_no_gain_is_computed(knee_model: kneebayes.Model) -> None:
    from unittest import mock

    askable = _askable(knee_model)
    half = len(askable) // 2
    dx = knee_model.diagnose({n: "no" for n in askable[:half]}, skipped=askable[half:])
    with mock.patch("kneebayes.diagnosis.expected_information_gains", side_effect=AssertionError("gains computed")):
        assert dx.ranked_questions == ()
        assert dx.gain_measure == "joint"
        assert dx.stop_reason is StopReason.NOTHING_LEFT


def test_stop_reason_is_confident_when_the_leading_cause_reaches_the_threshold(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose(_confident_evidence(knee_model), confidence=0.5, screen_red_flags=False)
    assert dx.leading_probability >= 0.5
    assert dx.stop_reason is StopReason.CONFIDENT
    assert dx.should_stop is True


def test_not_confident_below_the_threshold(knee_model: kneebayes.Model) -> None:
    evidence = _confident_evidence(knee_model)
    leading = knee_model.diagnose(evidence).leading_probability
    dx = knee_model.diagnose(evidence, confidence=min(1.0, leading + 0.01), cost_weight=0.0, min_gain=0.0,
                             screen_red_flags=False)
    assert dx.stop_reason is not StopReason.CONFIDENT


def test_stop_reason_is_nothing_worth_asking_when_cost_outweighs_every_gain(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({}, cost_weight=1e6, screen_red_flags=False)
    assert dx.leading_probability < dx.settings.confidence
    assert dx.stop_reason is StopReason.NOTHING_WORTH_ASKING
    assert dx.should_stop is True


def test_nothing_worth_asking_once_every_red_flag_is_answered(knee_model: kneebayes.Model,
                                                              red_flags: tuple[str, ...]) -> None:
    dx = knee_model.diagnose({n: "no" for n in red_flags}, cost_weight=1e6)
    assert dx.settings.screen_red_flags is True
    assert dx.stop_reason is StopReason.NOTHING_WORTH_ASKING


def test_stop_reason_matches_the_pure_function(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({}, cost_weight=1e6, screen_red_flags=False)
    assert stop_reason(dx.ranked_questions, dx.leading_probability, dx.settings) is dx.stop_reason
    assert stop_reason((), 0.0, Settings()) is StopReason.NOTHING_LEFT


@pytest.mark.parametrize("how", ["confident", "nothing_worth_asking"])
def test_next_question_stays_available_when_should_stop(knee_model: kneebayes.Model, how: str) -> None:
    if how == "confident":
        dx = knee_model.diagnose(_confident_evidence(knee_model), confidence=0.5, screen_red_flags=False)
    else:
        dx = knee_model.diagnose({}, cost_weight=1e6, screen_red_flags=False)
    assert dx.should_stop is True
    assert dx.next_question is not None
    assert dx.next_question == dx.ranked_questions[0]


@pytest.mark.parametrize("how", ["confident", "nothing_worth_asking"])
def test_unanswered_red_flags_keep_the_interview_going_and_come_first(knee_model: kneebayes.Model,
                                                                      red_flags: tuple[str, ...], how: str) -> None:
    if how == "confident":
        evidence = _confident_evidence(knee_model)
        dx = knee_model.diagnose(evidence, confidence=0.5)
        assert dx.leading_probability >= 0.5
    else:
        evidence = {}
        dx = knee_model.diagnose(evidence, cost_weight=1e6)
    assert set(red_flags) - set(evidence)
    assert dx.should_stop is False
    assert dx.stop_reason is None
    assert dx.next_question is not None and dx.next_question.red_flag
    assert dx.next_question.id in red_flags
    pending = [q.id for q in dx.ranked_questions if q.id in red_flags]
    assert [q.id for q in dx.ranked_questions[: len(pending)]] == pending


@given(data=st.data())
def test_should_stop_is_false_while_a_red_flag_is_unanswered(knee_model: kneebayes.Model,
                                                             red_flags: tuple[str, ...], data: st.DataObject) -> None:
    askable = _askable(knee_model)
    evidence = data.draw(knee_answers(knee_model), label="evidence")
    open_ids = [n for n in askable if n not in evidence]
    skipped = data.draw(st.lists(st.sampled_from(open_ids), unique=True), label="skipped") if open_ids else []
    confidence = data.draw(st.sampled_from((0.3, 0.5, 0.9)), label="confidence")
    weight = data.draw(st.sampled_from((0.01, 1.0, 1e6)), label="cost_weight")
    dx = knee_model.diagnose(evidence, skipped=skipped, confidence=confidence, cost_weight=weight)
    unscreened = knee_model.diagnose(evidence, skipped=skipped, confidence=confidence, cost_weight=weight,
                                     screen_red_flags=False)
    pending = set(red_flags) - set(evidence) - set(skipped)
    if pending:
        assert dx.should_stop is False
        if unscreened.should_stop:   # would have stopped but for the screen: a red flag comes next
            assert dx.next_question is not None and dx.next_question.id in pending
    else:
        assert dx.stop_reason is unscreened.stop_reason


# ---------------------------------------------------------------------------------
# Rationale
# ---------------------------------------------------------------------------------
@given(data=st.data())
def test_rationale_answer_probabilities_sum_to_one_and_posteriors_follow_the_law_of_total_probability(
    knee_model: kneebayes.Model, data: st.DataObject,
) -> None:
    evidence = data.draw(knee_answers(knee_model, max_size=10), label="evidence")
    dx = knee_model.diagnose(evidence)
    for q in dx.ranked_questions:
        why = dx.rationale(q.id)
        assert why.question == q
        assert dict(why.before) == dict(dx.posterior)
        assert [a.state for a in why.answers] == list(knee_model.node(q.id).states)
        assert abs(math.fsum(a.probability for a in why.answers) - 1.0) <= 1e-12
        for a in why.answers:
            after = knee_model.diagnose({**evidence, q.id: a.state}).posterior
            for cause in knee_model.causes:
                assert abs(a.posterior[cause] - after[cause]) <= 1e-12, (q.id, a.state, cause)
        for cause in knee_model.causes:
            mixed = math.fsum(a.probability * a.posterior[cause] for a in why.answers)
            assert abs(mixed - why.before[cause]) <= 1e-12, (q.id, cause, mixed, why.before[cause])


def test_rationale_of_an_answered_question_raises_unknown_node_error(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"locking_or_catching": "yes"})
    with pytest.raises(kneebayes.UnknownNodeError, match="open question 'locking_or_catching': it is answered, and "
                                                         "rationale explains a question still to ask"):
        dx.rationale("locking_or_catching")


def test_rationale_of_a_skipped_question_raises_unknown_node_error(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({}, skipped=["limping"])
    with pytest.raises(kneebayes.UnknownNodeError, match="'limping': it is skipped"):
        dx.rationale("limping")


def test_rationale_of_a_misspelt_question_suggests_the_nearest(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.UnknownNodeError, match="did you mean 'limping'"):
        knee_model.diagnose({}).rationale("limpng")


def test_rationale_text_and_html_show_the_question(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"tingling_or_numbness": "yes"})
    q = dx.next_question
    assert q is not None
    why = dx.rationale(q.id)
    assert q.text in str(why)
    assert html.escape(q.text) in why.to_html()
    assert why._repr_html_() == why.to_html()
    for cause in knee_model.causes:
        assert cause in str(why) and cause in why.to_html()


# ---------------------------------------------------------------------------------
# Normal states: what "confident" measures
# ---------------------------------------------------------------------------------
def _graded(tmp_path, kind_a: float = 0.5) -> kneebayes.Model:  # type: ignore[no-untyped-def]
    path = write_graded(
        tmp_path / "graded.yaml", title="A graded fault and a target without a normal state",
        interview={"confidence": 0.9, "cost_weight": 0.01, "min_gain": 0.01},
        damage=(0.95, 0.04, 0.01), kind=(kind_a, round(0.8 - kind_a, 10), 0.2),
        findings={"swelling": (0.01, 0.9, 0.99), "bruising": (0.02, 0.7, 0.95),
                  "limping": (0.05, 0.5, 0.9)})
    return kneebayes.load_model(path)


def test_a_target_with_a_normal_state_counts_the_probability_of_not_being_normal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dx = _graded(tmp_path).diagnose({"swelling": "yes"})
    damage = dx.distributions["damage"]
    assert damage["torn"] > dx.distributions["kind"]["a"]       # the abnormal states lead, not "kind"
    assert dx.leading_probability == pytest.approx(1.0 - damage["intact"], abs=1e-12)


def test_a_likely_normal_state_is_not_confidence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dx = _graded(tmp_path).diagnose({})
    assert dx.distributions["damage"]["intact"] == pytest.approx(0.95)
    assert dx.leading_probability == pytest.approx(0.5)          # "kind" = a; damage counts only 0.05
    assert dx.stop_reason is None


def test_strong_evidence_of_a_fault_stops_confident(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dx = _graded(tmp_path).diagnose({"swelling": "yes", "bruising": "yes"})
    assert 1.0 - dx.distributions["damage"]["intact"] >= 0.9
    assert dx.stop_reason is StopReason.CONFIDENT


def test_a_target_without_a_normal_state_counts_its_largest_state(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = _graded(tmp_path, kind_a=0.75)
    assert model.normal_states == {"damage": "intact", "kind": None}
    dx = model.diagnose({})
    assert dx.leading_probability == pytest.approx(0.75)
    assert model.diagnose({}, confidence=0.7).stop_reason is StopReason.CONFIDENT


@given(data=st.data())
def test_on_yes_no_causes_the_leading_probability_is_the_top_posterior(knee_model: kneebayes.Model,
                                                                       data: st.DataObject) -> None:
    dx = knee_model.diagnose(data.draw(knee_answers(knee_model)))
    assert dx.leading_probability == dx.ranked_causes[0][1]


@pytest.mark.parametrize(("field", "value", "words"), [
    ("confidence", 2, r"confidence must be a probability in \(0, 1\], got 2"),
    ("min_gain", "x", r"min_gain must be a finite number >= 0 \(bits\), got 'x'"),
    ("screen_red_flags", "yes", r"screen_red_flags must be true or false, got 'yes'"),
])
def test_settings_made_by_hand_are_checked_as_diagnoses_overrides_are(field: str, value: object, words: str) -> None:
    with pytest.raises(kneebayes.SettingError, match=words):
        kneebayes.Settings(**{field: value})   # type: ignore[arg-type]
