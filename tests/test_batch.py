"""``model.diagnose_frame``: the batch path equals ``model.diagnose`` row by row.

The reference is always the single-case public call: posteriors to 1e-12,
and triage and the next question exactly as the Diagnosis gives them.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pandas as pd
import pytest
from graded import write_graded
from hypothesis import given, settings
from hypothesis import strategies as st
from networks import bif_path
from strategies import scaled

import kneebayes
import kneebayes.batch as batch
from kneebayes import EvidenceError, ImpossibleEvidenceError, InvalidStateError, MissingExtraError, UnknownNodeError

TOL = 1e-12
EXTRA = ["evidence_probability", "log_evidence_probability", "impossible"]

VALUES = ["yes", "no", None, float("nan"), "", True, False]


def is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v))


def row_evidence(row: pd.Series) -> dict[str, object]:
    return {k: v for k, v in row.items() if not is_missing(v)}


def check_against_diagnose(model: kneebayes.Model, frame: pd.DataFrame, out: pd.DataFrame, *,
                           triage: bool = False, next_question: bool = False, explain: bool = False) -> None:
    """Every row of ``out`` equals model.diagnose on that row's answers."""
    assert list(out.index) == list(frame.index)
    binary = model.targets.binary
    for pos in range(len(frame)):
        got = out.iloc[pos]
        ev = row_evidence(frame.iloc[pos])
        try:
            dx = model.diagnose(ev)
        except ImpossibleEvidenceError:
            assert got["impossible"]
            if explain:
                assert got["explaining_cause"] is None and math.isnan(got["bayes_factor"])
                assert binary or got["explaining_state"] is None
            continue
        assert not got["impossible"]
        if binary:
            for cause, p in dx.posterior.items():
                assert got[cause] == pytest.approx(p, abs=TOL), (ev, cause)
        else:
            for t, dist in dx.distributions.items():
                for s, p in dist.items():
                    assert got[f"{t}={s}"] == pytest.approx(p, abs=TOL), (ev, t, s)
        assert got["evidence_probability"] == pytest.approx(dx.evidence_probability, rel=TOL, abs=0)
        assert got["log_evidence_probability"] == pytest.approx(dx.log_evidence_probability, abs=TOL)
        if triage:
            assert got["triage"] == dx.triage.level, ev
            assert got["reasons"] == tuple(r.trigger for r in dx.triage.reasons), ev
        if next_question:
            expected = dx.next_question
            assert got["next_question"] == (None if expected is None else expected.id), ev
        if explain:
            cause, factor = dx.explaining_causes[0]
            assert got["explaining_cause"] == cause, ev
            assert got["bayes_factor"] == pytest.approx(factor, rel=1e-9), ev
            assert binary or got["explaining_state"] == dx.explaining_states[cause], ev


@st.composite
def knee_frames(draw: st.DrawFn, model: kneebayes.Model) -> pd.DataFrame:
    node_ids = [n.id for n in model.nodes]            # askable findings and risk factors, and the causes themselves
    columns = draw(st.lists(st.sampled_from(node_ids), unique=True, max_size=8))
    n = draw(st.integers(0, 6))
    data = {c: draw(st.lists(st.sampled_from(VALUES), min_size=n, max_size=n)) for c in columns}
    frame = pd.DataFrame(data, columns=columns, index=pd.RangeIndex(n) if n == 0 else None)
    if draw(st.booleans()) and n:
        frame.index = draw(st.lists(st.integers(-5, 5) | st.text("abc", max_size=2), min_size=n, max_size=n))
    return frame


# -- the core property ------------------------------------------------------------------------

@given(data=st.data())
def test_diagnose_frame_equals_diagnose_row_by_row(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    frame = data.draw(knee_frames(knee_model), label="frame")
    out = knee_model.diagnose_frame(frame, triage=True, next_question=True)
    assert list(out.columns) == list(knee_model.causes) + EXTRA + ["triage", "reasons", "next_question"]
    check_against_diagnose(knee_model, frame, out, triage=True, next_question=True)


@given(data=st.data())
def test_posteriors_alone_equal_diagnose_row_by_row(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    frame = data.draw(knee_frames(knee_model), label="frame")
    # Without next_question the posteriors come from the fast path (inference.fast), as in model.diagnose.
    check_against_diagnose(knee_model, frame, knee_model.diagnose_frame(frame, explain=True), explain=True)


def test_rows_the_fast_path_leaves_to_the_general_engine_equal_diagnose(knee_model: kneebayes.Model) -> None:
    from kneebayes.inference.fast import batch_rows, compile_fast, fast_joint

    rng = np.random.default_rng(5)
    n = 400
    # many answers, causes among them: where inclusion-exclusion loses digits, the general engine decides
    data = {c: np.where(rng.random(n) < 0.7, rng.choice(["yes", "no"], n), None) for c in [node.id for node in knee_model.nodes]}
    frame = pd.DataFrame(data)
    plan = compile_fast(knee_model.network)
    assert plan is not None
    net = knee_model.network
    codes = np.full((n, len(net.names)), -1)
    for c in frame.columns:
        codes[:, net.index[c]] = [net.state_index[net.index[c]][v] if isinstance(v, str) else -1 for v in frame[c]]
    left = ~fast_joint(plan, batch_rows(plan, codes)).ok
    assert left.any() and not left.all()
    check_against_diagnose(knee_model, frame, knee_model.diagnose_frame(frame))


def test_many_rows_across_chunks_and_threads(knee_model: kneebayes.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    askable = [n.id for n in knee_model.nodes if n.askable]
    n = 2_500
    data = {a: np.where(rng.random(n) < 0.25, rng.choice(["yes", "no"], n), None) for a in askable}
    frame = pd.DataFrame(data)
    out = knee_model.diagnose_frame(frame)
    check_against_diagnose(knee_model, frame.iloc[::5], out.iloc[::5])
    # small chunks, one and two threads: the same numbers, bit for bit, and the same extras
    monkeypatch.setattr(batch, "CHUNK", 7)
    head = frame.iloc[:80]
    results = []
    for workers in (1, 2):
        monkeypatch.setattr(batch, "WORKERS", workers)
        results.append(knee_model.diagnose_frame(head, triage=True, next_question=True))
    pd.testing.assert_frame_equal(results[0], results[1])
    pd.testing.assert_frame_equal(results[0][list(knee_model.causes)], out.iloc[:80][list(knee_model.causes)], rtol=0, atol=TOL)
    check_against_diagnose(knee_model, head, results[0], triage=True, next_question=True)


@pytest.mark.parametrize("repeats", [1, 5])
def test_identical_rows_searched_for_or_not_give_the_same_result(knee_model: kneebayes.Model,
                                                                 monkeypatch: pytest.MonkeyPatch, repeats: int) -> None:
    rng = np.random.default_rng(12)
    askable = [n.id for n in knee_model.nodes if n.askable]
    n = 600 // repeats
    data = {a: np.where(rng.random(n) < 0.4, rng.choice(["yes", "no"], n), None) for a in askable}
    frame = pd.concat([pd.DataFrame(data)] * repeats, ignore_index=True)
    monkeypatch.setattr(batch, "DISTINCT_SAMPLE", 64)   # the sample's judgement, on a frame this small
    results = []
    for pays in (0.0, 1.0):   # always search for identical rows; never
        monkeypatch.setattr(batch, "DISTINCT_PAYS", pays)
        results.append(knee_model.diagnose_frame(frame, explain=True))   # (triage would always search)
    pd.testing.assert_frame_equal(results[0], results[1], rtol=0, atol=TOL)
    check_against_diagnose(knee_model, frame.iloc[::7], results[1].iloc[::7], explain=True)


# -- input rules ------------------------------------------------------------------------------

def test_missing_values_mean_not_asked(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"locking_or_catching": ["yes", "yes", "yes", "yes", "yes"],
                          "limping": [None, float("nan"), pd.NA, "", "no"]})
    out = knee_model.diagnose_frame(frame)
    alone = knee_model.diagnose({"locking_or_catching": "yes"}).posterior
    for r in range(4):
        for c in knee_model.causes:
            assert out.iloc[r][c] == pytest.approx(alone[c], abs=TOL)
    assert out.iloc[4]["meniscal_injury"] != pytest.approx(alone["meniscal_injury"], abs=1e-6)
    # a column with nothing in it at all is no evidence
    empty = knee_model.diagnose_frame(pd.DataFrame({"limping": [np.nan, np.nan]}))
    prior = knee_model.diagnose({}).posterior
    assert all(empty.iloc[1][c] == pytest.approx(prior[c], abs=TOL) for c in knee_model.causes)


def test_booleans_are_yes_and_no(knee_model: kneebayes.Model) -> None:
    words = pd.DataFrame({"limping": ["yes", "no"], "instability": ["no", "yes"]})
    plain = pd.DataFrame({"limping": [True, False], "instability": [False, True]})             # numpy bool dtype
    nullable = pd.DataFrame({"limping": pd.array([True, False], dtype="boolean"),
                             "instability": pd.array([False, True], dtype="boolean")})
    objects = pd.DataFrame({"limping": [True, "no"], "instability": [np.False_, True]})      # mixed object column
    expected = knee_model.diagnose_frame(words)
    for frame in (plain, nullable, objects):
        pd.testing.assert_frame_equal(knee_model.diagnose_frame(frame), expected, rtol=0, atol=TOL)
    with_na = knee_model.diagnose_frame(pd.DataFrame({"limping": pd.array([True, None], dtype="boolean")}))
    assert with_na.iloc[1]["hamstring_strain"] == pytest.approx(knee_model.diagnose({}).posterior["hamstring_strain"], abs=TOL)


def test_categorical_and_string_dtypes(knee_model: kneebayes.Model) -> None:
    words = pd.DataFrame({"limping": ["yes", None, "no"], "sharp_pain": ["no", "yes", None]})
    expected = knee_model.diagnose_frame(words)
    for dtype in ("category", "string"):
        pd.testing.assert_frame_equal(knee_model.diagnose_frame(words.astype(dtype)), expected, rtol=0, atol=TOL)


def test_a_list_of_dicts_is_accepted(knee_model: kneebayes.Model) -> None:
    cases = [{"limping": "yes"}, {"sharp_pain": "no", "limping": "no"}, {}]
    out = knee_model.diagnose_frame(cases)
    check_against_diagnose(knee_model, pd.DataFrame(cases), out)


def test_unknown_column_names_the_nearest_node(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError) as info:
        knee_model.diagnose_frame(pd.DataFrame({"limping": ["yes"], "limpng": ["no"]}))
    assert "limping" in info.value.suggestions
    assert "column" in str(info.value) and "'limpng'" in str(info.value)
    with pytest.raises(UnknownNodeError, match=r"unknown column 0; to carry it through to the result, pass keep=\[0\]"):
        knee_model.diagnose_frame(pd.DataFrame({0: ["yes"]}))


def test_duplicate_column_is_an_error(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame([["yes", "no"]], columns=["limping", "limping"])
    with pytest.raises(EvidenceError, match="more than once"):
        knee_model.diagnose_frame(frame)


def test_invalid_value_names_row_column_and_value(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"sharp_pain": ["no"] * 4, "limping": ["yes", "maybe", "no", "Yes"]}, index=[10, 11, 12, 13])
    with pytest.raises(InvalidStateError) as info:
        knee_model.diagnose_frame(frame)
    text = str(info.value)
    assert "row 11" in text and "column 'limping'" in text and "'maybe'" in text and "2 rows" in text
    assert "'yes', 'no'" in text
    assert info.value.row == 11 and info.value.node == "limping" and info.value.value == "maybe"


@pytest.mark.parametrize("values", [[1, 0], [1.0, np.nan], ["yes", 1], [True, 1]])
def test_numbers_are_not_yes_or_no(knee_model: kneebayes.Model, values: list[object]) -> None:
    # 1/0 could mean yes/no or state codes (state 0 is "yes" here): refused, never guessed.
    dtype = object if isinstance(values[0], str | bool) else None
    frame = pd.DataFrame({"limping": pd.Series(values, index=["a", "b"], dtype=dtype)})
    with pytest.raises(InvalidStateError) as info:
        knee_model.diagnose_frame(frame)
    first_number = next(i for i, v in enumerate(values) if not isinstance(v, str | bool))
    assert f"row {['a', 'b'][first_number]!r}" in str(info.value)


# -- imported networks: numeric and multi-state states, impossible rows ------------------------

def tiny(states_x: list[str], table_y: list[list[float]], table_z: list[list[float]], prior: list[float]) -> kneebayes.Model:
    """X (target) -> Y (yes/no) and X -> Z (states "0", "1", "2"), built through pgmpy."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("X", "Y"), ("X", "Z")])
    k = len(states_x)
    bn.add_cpds(
        TabularCPD("X", k, [[p] for p in prior], state_names={"X": states_x}),
        TabularCPD("Y", 2, table_y, evidence=["X"], evidence_card=[k], state_names={"Y": ["yes", "no"], "X": states_x}),
        TabularCPD("Z", 3, table_z, evidence=["X"], evidence_card=[k], state_names={"Z": ["0", "1", "2"], "X": states_x}),
    )
    return kneebayes.from_pgmpy(bn, targets=["X"])


def test_multi_state_targets_and_numeric_states() -> None:
    model = tiny(["none", "minor", "major"], [[0.1, 0.5, 0.9], [0.9, 0.5, 0.1]],
                 [[0.7, 0.2, 0.1], [0.2, 0.6, 0.3], [0.1, 0.2, 0.6]], [0.6, 0.3, 0.1])
    words = pd.DataFrame({"Y": ["yes", None, "no", "yes"], "Z": ["2", "0", None, "1"]})
    out = model.diagnose_frame(words, triage=True, next_question=True)
    assert list(out.columns) == ["X=none", "X=minor", "X=major"] + EXTRA + ["triage", "reasons", "next_question"]
    check_against_diagnose(model, words, out, triage=True, next_question=True)
    # numbers match a state whose name is the number written out (a CSV reads "2" back as 2)
    numbers = pd.DataFrame({"Y": ["yes", None, "no", "yes"], "Z": [2, 0, np.nan, 1.0]})
    pd.testing.assert_frame_equal(model.diagnose_frame(numbers), model.diagnose_frame(words), rtol=0, atol=0)
    with pytest.raises(InvalidStateError, match="column 'Z'"):
        model.diagnose_frame(pd.DataFrame({"Z": [0, 3]}))
    with pytest.raises(InvalidStateError, match="column 'Z'"):
        model.diagnose_frame(pd.DataFrame({"Z": [True]}))      # True is yes/no, and Z is not a yes/no node


def test_impossible_rows_are_flagged_with_nan_posteriors() -> None:
    # Y = yes only under X = a; Z = "2" only under X = b: the two together cannot happen.
    model = tiny(["a", "b"], [[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.5, 0.4], [0.0, 0.6]], [0.3, 0.7])
    frame = pd.DataFrame({"Y": ["yes", "yes", None], "Z": ["2", "1", "2"]}, index=["bad", "ok", "ok2"])
    with pytest.raises(ImpossibleEvidenceError, match=r"the evidence \{Y=yes, Z=2\} has probability zero"):
        model.diagnose({"Y": "yes", "Z": "2"})
    out = model.diagnose_frame(frame, triage=True, next_question=True)
    assert out["impossible"].tolist() == [True, False, False]
    assert out.loc["bad", ["X=a", "X=b"]].isna().all()
    assert out.loc["bad", "evidence_probability"] == 0.0
    assert out.loc["bad", "log_evidence_probability"] == -np.inf
    assert out.loc["bad", "triage"] is None and out.loc["bad", "reasons"] is None
    assert out.loc["bad", "next_question"] is None
    check_against_diagnose(model, frame, out, triage=True, next_question=True)
    assert out.loc["ok", "X=a"] == pytest.approx(1.0, abs=TOL)


def test_large_target_joints_use_marginals_and_agree(knee_model: kneebayes.Model) -> None:
    model = kneebayes.Model(knee_model.spec, joint_limit=1)      # targets not enumerated: no target matrix
    assert model.targets.matrix is None
    frame = pd.DataFrame({"limping": ["yes", None, "no"], "tingling_or_numbness": [None, "yes", "no"],
                          "knee_trauma": ["no", "yes", None]})
    out = model.diagnose_frame(frame, triage=True, next_question=True)
    check_against_diagnose(model, frame, out, triage=True, next_question=True)
    pd.testing.assert_frame_equal(out[list(knee_model.causes)], knee_model.diagnose_frame(frame)[list(knee_model.causes)], rtol=0, atol=TOL)


def test_next_question_follows_the_normal_state_stop_rule(knee_model: kneebayes.Model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_graded(tmp_path / "graded.yaml",
                        title="A three-state fault whose normal state is likely, and a red flag",
                        damage=(0.95, 0.04, 0.01),
                        findings={"swelling": (0.01, 0.5, 0.9), "limping": (0.25, 0.5, 0.9)},
                        red_flags={"limping": "Limping: see a doctor."})
    model = kneebayes.load_model(path)
    frame = pd.DataFrame({"swelling": [None, "yes", "no"]})
    out = model.diagnose_frame(frame, next_question=True)
    check_against_diagnose(model, frame, out, next_question=True)
    # P(intact) = 0.95 is no confidence: nothing is settled, so the red flag is not pulled forward
    assert model.diagnose({}).leading_probability == pytest.approx(0.05)
    assert out.loc[0, "next_question"] == "swelling"


# -- triage and next question -----------------------------------------------------------------

def test_triage_and_next_question_columns(knee_model: kneebayes.Model) -> None:
    askable = [n.id for n in knee_model.nodes if n.askable]
    frame = pd.DataFrame([
        {"locking_or_catching": "yes"},
        {"worse_with_activity": "no"},
        {"knee_trauma": "yes", "instability": "yes", "locking_or_catching": "yes", "limping": "yes"},
        {a: "no" for a in askable},                                      # nothing left to ask
    ])
    out = knee_model.diagnose_frame(frame, triage=True, next_question=True)
    assert out.loc[0, "triage"] == "see_doctor" and out.loc[0, "reasons"][0] == "locking_or_catching"
    assert out.loc[1, "triage"] == "incomplete" and out.loc[1, "reasons"] == ("screen_incomplete",)
    assert out.loc[3, "triage"] == "self_care" and out.loc[3, "reasons"] == ("no_warning_sign",)
    assert out.loc[3, "next_question"] is None
    check_against_diagnose(knee_model, frame, out, triage=True, next_question=True)
    plain = knee_model.diagnose_frame(frame)
    assert list(plain.columns) == list(knee_model.causes) + EXTRA
    only_triage = knee_model.diagnose_frame(frame, triage=True)
    assert list(only_triage.columns) == list(knee_model.causes) + EXTRA + ["triage", "reasons"]


# -- shape of the result ------------------------------------------------------------------------

def test_index_row_order_and_column_order_are_kept(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"limping": ["yes", None, "no", "yes"], "sharp_pain": ["no", "yes", None, "no"],
                          "knee_trauma": [None, "no", "yes", None]}, index=["r3", "r1", "r2", "r3"])
    out = knee_model.diagnose_frame(frame)
    assert list(out.index) == ["r3", "r1", "r2", "r3"]
    assert list(out.columns) == list(knee_model.causes) + EXTRA
    assert out.dtypes[list(knee_model.causes)].eq(float).all() and out["impossible"].dtype == bool
    pd.testing.assert_frame_equal(knee_model.diagnose_frame(frame[["knee_trauma", "limping", "sharp_pain"]]), out)
    reversed_ = knee_model.diagnose_frame(frame.iloc[::-1])
    pd.testing.assert_frame_equal(reversed_, out.iloc[::-1])
    check_against_diagnose(knee_model, frame, out)


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame(columns=["limping", "sharp_pain"]),
                                   pd.DataFrame({"limping": pd.Series([], dtype=bool)}, index=pd.Index([], name="case"))])
def test_empty_frame_gives_an_empty_result_with_the_right_columns(knee_model: kneebayes.Model, frame: pd.DataFrame) -> None:
    out = knee_model.diagnose_frame(frame, triage=True, next_question=True)
    assert len(out) == 0
    assert list(out.columns) == list(knee_model.causes) + EXTRA + ["triage", "reasons", "next_question"]
    assert out.index.equals(frame.index)
    assert all(out[c].dtype == float for c in knee_model.causes) and out["impossible"].dtype == bool


def test_rows_without_columns_are_the_prior(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose_frame(pd.DataFrame(index=range(3)), triage=True, next_question=True)
    assert len(out) == 3
    check_against_diagnose(knee_model, pd.DataFrame(index=range(3)), out, triage=True, next_question=True)


# -- what the answers point to (explain=True) ----------------------------------------------------

EXPLAIN = ["explaining_cause", "bayes_factor"]


@given(data=st.data())
def test_explain_columns_equal_each_rows_diagnosis(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    frame = data.draw(knee_frames(knee_model), label="frame")
    out = knee_model.diagnose_frame(frame, explain=True)
    assert list(out.columns) == list(knee_model.causes) + EXTRA + EXPLAIN
    check_against_diagnose(knee_model, frame, out, explain=True)


def test_explain_comes_after_the_other_optional_columns(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"limping": ["yes", None]})
    out = knee_model.diagnose_frame(frame, triage=True, next_question=True, explain=True)
    assert list(out.columns) == list(knee_model.causes) + EXTRA + ["triage", "reasons", "next_question"] + EXPLAIN
    assert out["explaining_cause"].dtype == object and out["bayes_factor"].dtype == float
    check_against_diagnose(knee_model, frame, out, triage=True, next_question=True, explain=True)


def test_explain_is_vectorised_and_redoes_only_near_ties(knee_model: kneebayes.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    findings = list(knee_model.nodes_of_kind("finding"))
    n = 400
    frame = pd.DataFrame({f: rng.choice(["yes", "no"], n) for f in findings[:6]})
    frame = frame.drop_duplicates().reset_index(drop=True)
    knee_model.diagnose_frame(frame.head(1), explain=True)   # the model's prior, computed once, comes first
    redone = []
    original = kneebayes.Model.diagnose

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        redone.append(1)   # the batch asks model.diagnose only for the rows it redoes
        return original(self, *args, **kwargs)

    monkeypatch.setattr(kneebayes.Model, "diagnose", counting)
    out = knee_model.diagnose_frame(frame, explain=True)
    monkeypatch.undo()
    near = 0
    for r in range(len(frame)):
        factors = sorted((math.log(f) for _, f in knee_model.diagnose(row_evidence(frame.iloc[r])).explaining_causes),
                         reverse=True)
        near += factors[0] - factors[1] < batch.NEAR
    assert len(redone) == near
    check_against_diagnose(knee_model, frame, out, explain=True)


def test_explain_on_a_multi_state_target_names_the_state_too() -> None:
    model = tiny(["none", "minor", "major"], [[0.1, 0.5, 0.9], [0.9, 0.5, 0.1]],
                 [[0.7, 0.2, 0.1], [0.2, 0.6, 0.3], [0.1, 0.2, 0.6]], [0.6, 0.3, 0.1])
    frame = pd.DataFrame({"Y": ["yes", None, "no", "yes"], "Z": ["2", "0", None, "1"]})
    out = model.diagnose_frame(frame, explain=True)
    assert list(out.columns) == ["X=none", "X=minor", "X=major"] + EXTRA + ["explaining_cause", "explaining_state",
                                                                           "bayes_factor"]
    check_against_diagnose(model, frame, out, explain=True)


def test_explain_leaves_impossible_rows_empty() -> None:
    model = tiny(["a", "b"], [[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.5, 0.4], [0.0, 0.6]], [0.3, 0.7])
    frame = pd.DataFrame({"Y": ["yes", "yes", None], "Z": ["2", "1", "2"]}, index=["bad", "ok", "ok2"])
    out = model.diagnose_frame(frame, explain=True)
    assert out.loc["bad", "explaining_cause"] is None and out.loc["bad", "explaining_state"] is None
    assert math.isnan(out.loc["bad", "bayes_factor"])
    check_against_diagnose(model, frame, out, explain=True)


def test_explain_on_a_joint_too_large_to_enumerate_agrees(knee_model: kneebayes.Model) -> None:
    model = kneebayes.Model(knee_model.spec, joint_limit=1)
    frame = pd.DataFrame({"limping": ["yes", None, "no"], "meniscal_injury": [None, "yes", "no"],
                          "knee_trauma": ["no", "yes", None]})
    out = model.diagnose_frame(frame, explain=True)
    check_against_diagnose(model, frame, out, explain=True)


def test_explain_on_an_empty_frame_gives_the_columns(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose_frame(pd.DataFrame(columns=["limping"]), explain=True)
    assert len(out) == 0 and list(out.columns) == list(knee_model.causes) + EXTRA + EXPLAIN


# -- triage: the Diagnosis's four levels, row by row ----------------------------------------------

def red_flags(model: kneebayes.Model) -> list[str]:
    return list(dict.fromkeys(model.red_flag_nodes))


CLEAR = ["no", False]
CHANGED = [None, float("nan"), "", "yes", True]


@st.composite
def screening_frames(draw: st.DrawFn, model: kneebayes.Model) -> pd.DataFrame:
    """Frames whose rows answer the warning-sign questions all-clear but for a few: every triage level turns up."""
    all_flags = red_flags(model)
    not_flags = [n.id for n in model.nodes if n.id not in all_flags]   # askable findings, risk factors and the causes
    absent = draw(st.lists(st.sampled_from(all_flags), unique=True, max_size=1))
    flags = [f for f in all_flags if f not in absent]
    others = draw(st.lists(st.sampled_from(not_flags), unique=True, max_size=3))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row = {f: draw(st.sampled_from(CLEAR)) for f in flags}
        for f in draw(st.lists(st.sampled_from(flags), unique=True, max_size=2)):
            row[f] = draw(st.sampled_from(CHANGED))
        row.update({o: draw(st.sampled_from(["yes", "no", None])) for o in others})
        rows.append(row)
    return pd.DataFrame(rows, columns=flags + others)


@settings(max_examples=scaled(40))
@given(data=st.data())
def test_triage_level_and_reasons_equal_each_rows_diagnosis(knee_model: kneebayes.Model, data: st.DataObject) -> None:
    frame = data.draw(screening_frames(knee_model), label="frame")
    out = knee_model.diagnose_frame(frame, triage=True)
    check_against_diagnose(knee_model, frame, out, triage=True)


def test_every_triage_level_of_the_knee_model_comes_out_as_the_diagnosis_gives_it(knee_model: kneebayes.Model) -> None:
    all_clear = {f: "no" for f in red_flags(knee_model)}
    frame = pd.DataFrame([
        all_clear,                                                    # self_care
        {**all_clear, "instability": None},                           # one question open: incomplete
        {**all_clear, "instability": "yes"},                          # a red flag: see_doctor
        {**all_clear, "meniscal_injury": "yes"},                      # an escalation alone: see_doctor
        {"worse_with_activity": "no"},                                # nothing screened: incomplete
    ])
    out = knee_model.diagnose_frame(frame, triage=True)
    assert out["triage"].tolist() == ["self_care", "incomplete", "see_doctor", "see_doctor", "incomplete"]
    assert out["reasons"].tolist() == [("no_warning_sign",), ("screen_incomplete",), ("instability",),
                                       ("meniscal_injury",), ("screen_incomplete",)]
    check_against_diagnose(knee_model, frame, out, triage=True)


def test_triage_equals_the_diagnosis_for_every_answer_of_every_red_flag_with_each_escalation(
        knee_model: kneebayes.Model) -> None:
    from kneebayes import Likelihood

    flags = red_flags(knee_model)
    answers = ["yes", "no", None, True, False, "", "probably", "not_sure", "probably_not",
               Likelihood(yes=3, no=1), Likelihood(yes=1, no=3)]
    causes = [{}] + [{e.cause: "yes"} for e in knee_model.spec.escalations] + \
        [{e.cause: "yes" for e in knee_model.spec.escalations}]
    rows = [{**{f: "no" for f in flags}, flag: answer, **cause}
            for cause in causes for flag in flags for answer in answers]
    rows += [{**{f: "no" for f in flags}, first: "yes", second: "yes"} for first in flags for second in flags]
    frame = pd.DataFrame(rows, columns=flags + [e.cause for e in knee_model.spec.escalations])
    out = knee_model.diagnose_frame(frame, triage=True)
    assert set(out["triage"]) == {"see_doctor", "incomplete", "self_care"}
    check_against_diagnose(knee_model, frame, out, triage=True)


def test_a_missing_red_flag_column_leaves_the_screen_open(knee_model: kneebayes.Model) -> None:
    all_but_one = {f: "no" for f in red_flags(knee_model)[1:]}
    out = knee_model.diagnose_frame(pd.DataFrame([all_but_one]), triage=True)
    assert out.loc[0, "triage"] == "incomplete"
    assert knee_model.diagnose(all_but_one).triage.level == "incomplete"


def asia_path() -> str:
    import pgmpy

    return os.path.join(os.path.dirname(pgmpy.__file__), "utils", "example_models", "asia.bif.gz")


@pytest.fixture(scope="module")
def asia() -> kneebayes.Model:
    return kneebayes.load_bif(asia_path(), targets=["tub", "lung", "bronc"])


@st.composite
def asia_frames(draw: st.DrawFn, model: kneebayes.Model) -> pd.DataFrame:
    columns = draw(st.lists(st.sampled_from([n.id for n in model.nodes]), unique=True, max_size=5))
    n = draw(st.integers(1, 5))
    data = {c: draw(st.lists(st.sampled_from(["yes", "no", None]), min_size=n, max_size=n)) for c in columns}
    return pd.DataFrame(data, columns=columns, index=range(n))


@settings(max_examples=scaled(30))
@given(data=st.data())
def test_a_model_without_triage_rules_is_not_assessed_on_every_row(asia: kneebayes.Model, data: st.DataObject) -> None:
    frame = data.draw(asia_frames(asia), label="frame")
    assert not asia.spec.red_flags and not asia.spec.escalations
    out = asia.diagnose_frame(frame, triage=True)
    possible = ~out["impossible"]
    assert (out.loc[possible, "triage"] == "not_assessed").all()
    assert all(r == ("no_triage_rules",) for r in out.loc[possible, "reasons"])
    check_against_diagnose(asia, frame, out, triage=True)


# -- keep: columns that are not answers, carried through ----------------------------------------------

VISITS = pd.DataFrame({
    "patient_id": pd.array(["p1", "p2", "p3", "p4"], dtype="string"),
    "limping": ["yes", None, "yes", "no"],
    "visit": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03", None]),
    "cohort": pd.Categorical(["a", "b", "a", "b"]),
    "age": pd.array([34, None, 51, 28], dtype="Int64"),
    "sharp_pain": ["no", "yes", "no", None],
}, index=["x", "y", "x", "z"])
KEPT = ["patient_id", "visit", "cohort", "age"]
ANSWERS = ["limping", "sharp_pain"]


def test_kept_columns_come_first_unchanged_in_keeps_order(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose_frame(VISITS, keep=["age", "patient_id", "visit", "cohort"])
    assert list(out.columns[:4]) == ["age", "patient_id", "visit", "cohort"]
    assert list(out.columns[4:]) == list(knee_model.causes) + EXTRA
    for name in KEPT:
        pd.testing.assert_series_equal(out[name], VISITS[name])       # values, dtype, index and name


def test_keeping_columns_changes_nothing_computed(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose_frame(VISITS, keep=KEPT, triage=True, next_question=True, explain=True)
    plain = knee_model.diagnose_frame(VISITS[ANSWERS], triage=True, next_question=True, explain=True)
    pd.testing.assert_frame_equal(out.drop(columns=KEPT), plain)
    check_against_diagnose(knee_model, VISITS[ANSWERS], out, triage=True, next_question=True, explain=True)


def test_one_column_name_is_a_keep_of_one(knee_model: kneebayes.Model) -> None:
    out = knee_model.diagnose_frame(VISITS[["patient_id"] + ANSWERS], keep="patient_id")
    assert list(out.columns) == ["patient_id"] + list(knee_model.causes) + EXTRA
    assert out["patient_id"].tolist() == ["p1", "p2", "p3", "p4"]


def test_identical_answers_keep_each_rows_own_id(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"patient_id": [f"p{k}" for k in range(6)], "limping": ["yes", "no"] * 3})
    out = knee_model.diagnose_frame(frame, keep="patient_id")
    assert out["patient_id"].tolist() == frame["patient_id"].tolist()
    assert out["hamstring_strain"].nunique() == 2


def test_keep_works_for_records_and_columns(knee_model: kneebayes.Model) -> None:
    records = [{"patient_id": "p1", "limping": "yes"}, {"patient_id": "p2"}]
    columns = {"patient_id": ["p1", "p2"], "limping": ["yes", None]}
    expected = knee_model.diagnose_frame(pd.DataFrame(records), keep="patient_id")
    for frame in (records, columns):
        out = knee_model.diagnose_frame(frame, keep=["patient_id"])
        pd.testing.assert_frame_equal(out, expected)
    assert expected["patient_id"].tolist() == ["p1", "p2"]


def test_keep_accepts_an_index_of_column_names_and_non_string_labels(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({0: ["a", "b"], "limping": ["yes", "no"]})
    out = knee_model.diagnose_frame(frame, keep=pd.Index([0]))
    assert list(out.columns[:2]) == [0, "hamstring_strain"] and out[0].tolist() == ["a", "b"]


def test_a_wide_frame_of_kept_columns_is_carried_in_keeps_order(knee_model: kneebayes.Model) -> None:
    names = [f"extra_{k}" for k in range(2_000)]
    frame = pd.DataFrame({name: [k, -k] for k, name in enumerate(names)} | {"limping": ["yes", "no"]})
    out = knee_model.diagnose_frame(frame, keep=names[::-1])
    assert list(out.columns[:2_000]) == names[::-1]
    pd.testing.assert_frame_equal(out[names], frame[names])


def test_keep_on_an_empty_frame_gives_the_empty_columns(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"patient_id": pd.Series([], dtype="string"), "limping": pd.Series([], dtype=object)})
    out = knee_model.diagnose_frame(frame, keep="patient_id", triage=True)
    assert len(out) == 0 and out["patient_id"].dtype == "string"
    assert list(out.columns) == ["patient_id"] + list(knee_model.causes) + EXTRA + ["triage", "reasons"]


def test_an_unkept_id_column_says_how_to_keep_it(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError) as info:
        knee_model.diagnose_frame(VISITS[["patient_id"] + ANSWERS])
    assert str(info.value) == "unknown column 'patient_id'; to carry it through to the result, pass keep=['patient_id']"


def test_the_keep_hint_lists_every_column_to_keep_but_not_a_misspelt_id(knee_model: kneebayes.Model) -> None:
    frame = VISITS.rename(columns={"sharp_pain": "sharp_pian"})
    with pytest.raises(UnknownNodeError) as info:
        knee_model.diagnose_frame(frame, keep="visit")
    assert str(info.value) == ("unknown column 'patient_id'; to carry such columns through to the result, pass "
                               "keep=['visit', 'patient_id', 'cohort', 'age']")


def test_a_misspelt_id_is_suggested_before_keeping_it(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError) as info:
        knee_model.diagnose_frame(pd.DataFrame({"limpng": ["yes"]}))
    assert str(info.value) == ("unknown column 'limpng'; did you mean 'limping'? Or, to carry it through to the "
                               "result, pass keep=['limpng']")


def test_a_kept_node_id_is_an_error_saying_so(knee_model: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="kept column 'limping' is a node id of the model") as info:
        knee_model.diagnose_frame(VISITS, keep=KEPT + ["limping"])
    assert "copy it under another name" in str(info.value)


def test_a_kept_name_the_frame_lacks_is_unknown_with_suggestions(knee_model: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError) as info:
        knee_model.diagnose_frame(VISITS, keep=["patient_ID", "visit", "cohort", "age"])
    assert str(info.value) == ("unknown column 'patient_ID' in keep: the frame has no such column; "
                               "did you mean 'patient_id'?")
    assert info.value.suggestions == ("patient_id",)


@pytest.mark.parametrize(("name", "flags"), [("triage", {"triage": True}), ("reasons", {"triage": True}),
                                             ("next_question", {"next_question": True}),
                                             ("bayes_factor", {"explain": True}), ("impossible", {}),
                                             ("evidence_probability", {})])
def test_a_kept_column_named_like_an_output_column_is_refused(knee_model: kneebayes.Model, name: str, flags: dict[str, bool]) -> None:
    frame = pd.DataFrame({name: ["mine"], "limping": ["yes"]})
    with pytest.raises(EvidenceError) as info:
        knee_model.diagnose_frame(frame, keep=name, **flags)
    assert str(info.value) == (f"kept column {name!r} has the name of a column diagnose_frame adds; rename it before "
                               f"keeping it (for example frame.rename(columns={{{name!r}: ...}}))")


def test_a_kept_column_named_like_an_unrequested_output_is_carried(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"triage": ["urgent"], "limping": ["yes"]})
    assert knee_model.diagnose_frame(frame, keep="triage")["triage"].tolist() == ["urgent"]


def test_a_kept_column_named_like_a_target_state_column_is_refused() -> None:
    model = tiny(["none", "major"], [[0.1, 0.9], [0.9, 0.1]], [[0.7, 0.1], [0.2, 0.3], [0.1, 0.6]], [0.6, 0.4])
    frame = pd.DataFrame({"X=none": ["mine"], "Y": ["yes"]})
    with pytest.raises(EvidenceError, match="kept column 'X=none' has the name of a column diagnose_frame adds"):
        model.diagnose_frame(frame, keep="X=none")


@pytest.mark.parametrize(("keep", "shown"), [(5, "int 5"), ({"patient_id": 1}, "dict {'patient_id': 1}"),
                                             (pd.Series(["patient_id"]), "Series")])
def test_keep_of_a_wrong_type_is_a_type_error(knee_model: kneebayes.Model, keep: object, shown: str) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=f"keep must be a column name or a list of column names, got {shown}"):
        knee_model.diagnose_frame(VISITS, keep=keep)


def test_an_unhashable_keep_item_is_a_type_error(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"item 1 of keep is list \['age'\]"):
        knee_model.diagnose_frame(VISITS, keep=["patient_id", ["age"]])


def test_keep_naming_a_column_twice_is_an_error(knee_model: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="keep names column 'age' twice"):
        knee_model.diagnose_frame(VISITS, keep=["age", "patient_id", "age"])


def test_a_kept_column_that_appears_twice_in_the_frame_is_an_error(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame([["p1", "p1", "yes"]], columns=["patient_id", "patient_id", "limping"])
    with pytest.raises(EvidenceError, match="kept column 'patient_id' appears more than once in the frame"):
        knee_model.diagnose_frame(frame, keep="patient_id")


def test_without_pandas_the_batch_names_the_research_extra(knee_model: kneebayes.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)      # as if not installed
    with pytest.raises(MissingExtraError) as info:
        batch.diagnose_frame(knee_model, [{"limping": "yes"}])
    assert str(info.value) == ("diagnose_frame needs pandas, which is not installed; install it with: "
                               "pip install 'kneebayes[research]'")


# -- soft answers -------------------------------------------------------------------------------

def test_soft_answers_in_cells_equal_model_diagnose_row_by_row(knee_model: kneebayes.Model) -> None:
    from kneebayes import Likelihood

    frame = pd.DataFrame({
        "swelling_behind_knee": ["probably", Likelihood(yes=1, no=3), "yes", None, Likelihood(yes=1, no=0)],
        "limping": ["no", "probably_not", None, "not_sure", "yes"],
        "locking_or_catching": [Likelihood(yes=2, no=1), None, "no", "probably", None],
    })
    out = knee_model.diagnose_frame(frame, triage=True, next_question=True, explain=True)
    check_against_diagnose(knee_model, frame, out, triage=True, next_question=True, explain=True)


def test_a_soft_answer_leaves_its_question_open_for_the_next_question(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"localized_tenderness": ["probably", "yes"]})
    out = knee_model.diagnose_frame(frame, next_question=True)
    dx = knee_model.diagnose({"localized_tenderness": "probably"})
    assert out["next_question"].tolist()[0] == dx.next_question.id
    assert "localized_tenderness" in [q.id for q in dx.ranked_questions]


def test_many_distinct_soft_answers_in_one_column_are_all_kept(knee_model: kneebayes.Model) -> None:
    from kneebayes import Likelihood

    weights = np.linspace(0.01, 3.0, 300)
    frame = pd.DataFrame({"limping": [Likelihood(yes=float(w), no=1.0) for w in weights]})
    out = knee_model.diagnose_frame(frame)
    expected = [knee_model.diagnose({"limping": Likelihood(yes=float(w), no=1.0)}).posterior["meniscal_injury"]
                for w in weights[::37]]
    assert out["meniscal_injury"].tolist()[::37] == pytest.approx(expected, abs=1e-12)
    assert out["meniscal_injury"].is_monotonic_increasing


def test_a_bad_soft_answer_in_a_cell_names_the_column(knee_model: kneebayes.Model) -> None:
    from kneebayes import Likelihood

    with pytest.raises(EvidenceError, match="column 'limping': the Likelihood for 'limping' gives no weight for 'no'"):
        knee_model.diagnose_frame(pd.DataFrame({"limping": [Likelihood(yes=1)]}))


def test_a_graded_word_in_a_column_of_other_states_is_an_invalid_state() -> None:
    child = kneebayes.load_network(bif_path("child"), targets=["Disease"])
    with pytest.raises(InvalidStateError, match="row 0, column 'LVH'"):
        child.diagnose_frame(pd.DataFrame({"LVH": ["probably"]}))


def test_a_graded_word_in_a_column_of_other_states_is_refused_as_diagnose_refuses_it(
        knee_model: kneebayes.Model) -> None:
    import dataclasses

    child = kneebayes.load_network(bif_path("child"), targets=["Disease"])
    graded = kneebayes.Model(dataclasses.replace(child.spec, graded_answers=knee_model.spec.graded_answers),
                             targets=["Disease"])
    with pytest.raises(EvidenceError) as single:
        graded.diagnose({"CO2": "probably"})
    with pytest.raises(EvidenceError) as batched:
        graded.diagnose_frame(pd.DataFrame({"CO2": ["probably"]}))
    assert str(batched.value) == f"column 'CO2': {single.value}"
    assert "the graded answer 'probably' is for yes/no questions" in str(single.value)


def test_next_questions_of_wide_joints_go_in_fewer_rows_a_pass_and_agree(knee_model: kneebayes.Model,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    per_row = len(knee_model.askable_nodes) * 2 * knee_model.network.n_joint   # yes/no candidates
    monkeypatch.setattr(batch, "NEXT_ROW_ENTRIES", 2 * per_row)      # as if each row's joints were this wide
    passes = []
    original = batch.expected_information_gains
    monkeypatch.setattr(batch, "expected_information_gains", lambda net, lam, *rest: passes.append(len(lam))
                        or original(net, lam, *rest))
    frame = pd.DataFrame({"limping": ["yes", None, "no", "yes", None], "knee_trauma": ["no", "yes", None, "yes", "no"],
                          "tingling_or_numbness": [None, "yes", "no", "no", None]})
    out = knee_model.diagnose_frame(frame, next_question=True)
    assert passes == [2, 2, 1]
    check_against_diagnose(knee_model, frame, out, next_question=True)
