"""``model.diagnose_frame``: the batch path equals ``model.diagnose`` row by row.

The reference is always the single-case public call: posteriors to 1e-12,
and triage and the next question exactly as the Diagnosis gives them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from graded import write_graded
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
import kneebayes.research.batch as batch
from kneebayes import EvidenceError, ImpossibleEvidenceError, InvalidStateError, UnknownNodeError

TOL = 1e-12
EXTRA = ["evidence_probability", "log_evidence_probability", "impossible"]

KNEE = kneebayes.load_model()
NODE_IDS = [n.id for n in KNEE.nodes]            # askable findings and risk factors, and the causes themselves
VALUES = ["yes", "no", None, float("nan"), "", True, False]


def is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v))


def row_evidence(row: pd.Series) -> dict[str, object]:
    return {k: v for k, v in row.items() if not is_missing(v)}


def check_against_diagnose(model: kneebayes.Model, frame: pd.DataFrame, out: pd.DataFrame, *,
                           triage: bool = False, next_question: bool = False, explain: bool = False) -> None:
    """Every row of ``out`` equals model.diagnose on that row's answers."""
    assert list(out.index) == list(frame.index)
    binary = model._yes_positions is not None
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
def knee_frames(draw: st.DrawFn) -> pd.DataFrame:
    columns = draw(st.lists(st.sampled_from(NODE_IDS), unique=True, max_size=8))
    n = draw(st.integers(0, 6))
    data = {c: draw(st.lists(st.sampled_from(VALUES), min_size=n, max_size=n)) for c in columns}
    frame = pd.DataFrame(data, columns=columns, index=pd.RangeIndex(n) if n == 0 else None)
    if draw(st.booleans()) and n:
        frame.index = draw(st.lists(st.integers(-5, 5) | st.text("abc", max_size=2), min_size=n, max_size=n))
    return frame


# -- the core property ------------------------------------------------------------------------

@given(knee_frames())
def test_diagnose_frame_equals_diagnose_row_by_row(frame: pd.DataFrame) -> None:
    out = KNEE.diagnose_frame(frame, triage=True, next_question=True)
    assert list(out.columns) == list(KNEE.causes) + EXTRA + ["triage", "reasons", "next_question"]
    check_against_diagnose(KNEE, frame, out, triage=True, next_question=True)


def test_many_rows_across_chunks_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    askable = [n.id for n in KNEE.nodes if n.askable]
    n = 2_500
    data = {a: np.where(rng.random(n) < 0.25, rng.choice(["yes", "no"], n), None) for a in askable}
    frame = pd.DataFrame(data)
    out = KNEE.diagnose_frame(frame)
    check_against_diagnose(KNEE, frame.iloc[::5], out.iloc[::5])
    # small chunks, one and two threads: the same numbers, bit for bit, and the same extras
    monkeypatch.setattr(batch, "CHUNK", 7)
    head = frame.iloc[:80]
    results = []
    for workers in (1, 2):
        monkeypatch.setattr(batch, "WORKERS", workers)
        results.append(KNEE.diagnose_frame(head, triage=True, next_question=True))
    pd.testing.assert_frame_equal(results[0], results[1])
    pd.testing.assert_frame_equal(results[0][list(KNEE.causes)], out.iloc[:80][list(KNEE.causes)], rtol=0, atol=TOL)
    check_against_diagnose(KNEE, head, results[0], triage=True, next_question=True)


# -- input rules ------------------------------------------------------------------------------

def test_missing_values_mean_not_asked() -> None:
    frame = pd.DataFrame({"locking_or_catching": ["yes", "yes", "yes", "yes", "yes"],
                          "limping": [None, float("nan"), pd.NA, "", "no"]})
    out = KNEE.diagnose_frame(frame)
    alone = KNEE.diagnose({"locking_or_catching": "yes"}).posterior
    for r in range(4):
        for c in KNEE.causes:
            assert out.iloc[r][c] == pytest.approx(alone[c], abs=TOL)
    assert out.iloc[4]["meniscal_injury"] != pytest.approx(alone["meniscal_injury"], abs=1e-6)
    # a column with nothing in it at all is no evidence
    empty = KNEE.diagnose_frame(pd.DataFrame({"limping": [np.nan, np.nan]}))
    prior = KNEE.diagnose({}).posterior
    assert all(empty.iloc[1][c] == pytest.approx(prior[c], abs=TOL) for c in KNEE.causes)


def test_booleans_are_yes_and_no() -> None:
    words = pd.DataFrame({"limping": ["yes", "no"], "instability": ["no", "yes"]})
    plain = pd.DataFrame({"limping": [True, False], "instability": [False, True]})             # numpy bool dtype
    nullable = pd.DataFrame({"limping": pd.array([True, False], dtype="boolean"),
                             "instability": pd.array([False, True], dtype="boolean")})
    objects = pd.DataFrame({"limping": [True, "no"], "instability": [np.False_, True]})      # mixed object column
    expected = KNEE.diagnose_frame(words)
    for frame in (plain, nullable, objects):
        pd.testing.assert_frame_equal(KNEE.diagnose_frame(frame), expected, rtol=0, atol=TOL)
    with_na = KNEE.diagnose_frame(pd.DataFrame({"limping": pd.array([True, None], dtype="boolean")}))
    assert with_na.iloc[1]["hamstring_strain"] == pytest.approx(KNEE.diagnose({}).posterior["hamstring_strain"], abs=TOL)


def test_categorical_and_string_dtypes() -> None:
    words = pd.DataFrame({"limping": ["yes", None, "no"], "sharp_pain": ["no", "yes", None]})
    expected = KNEE.diagnose_frame(words)
    for dtype in ("category", "string"):
        pd.testing.assert_frame_equal(KNEE.diagnose_frame(words.astype(dtype)), expected, rtol=0, atol=TOL)


def test_a_list_of_dicts_is_accepted() -> None:
    cases = [{"limping": "yes"}, {"sharp_pain": "no", "limping": "no"}, {}]
    out = KNEE.diagnose_frame(cases)
    check_against_diagnose(KNEE, pd.DataFrame(cases), out)


def test_unknown_column_names_the_nearest_node() -> None:
    with pytest.raises(UnknownNodeError) as info:
        KNEE.diagnose_frame(pd.DataFrame({"limping": ["yes"], "limpng": ["no"]}))
    assert "limping" in info.value.suggestions
    assert "column" in str(info.value) and "'limpng'" in str(info.value)
    with pytest.raises(UnknownNodeError):
        KNEE.diagnose_frame(pd.DataFrame({0: ["yes"]}))


def test_duplicate_column_is_an_error() -> None:
    frame = pd.DataFrame([["yes", "no"]], columns=["limping", "limping"])
    with pytest.raises(EvidenceError, match="more than once"):
        KNEE.diagnose_frame(frame)


def test_invalid_value_names_row_column_and_value() -> None:
    frame = pd.DataFrame({"sharp_pain": ["no"] * 4, "limping": ["yes", "maybe", "no", "Yes"]}, index=[10, 11, 12, 13])
    with pytest.raises(InvalidStateError) as info:
        KNEE.diagnose_frame(frame)
    text = str(info.value)
    assert "row 11" in text and "column 'limping'" in text and "'maybe'" in text and "2 rows" in text
    assert "'yes', 'no'" in text
    assert info.value.row == 11 and info.value.node == "limping" and info.value.value == "maybe"


@pytest.mark.parametrize("values", [[1, 0], [1.0, np.nan], ["yes", 1], [True, 1]])
def test_numbers_are_not_yes_or_no(values: list[object]) -> None:
    # 1/0 could mean yes/no or state codes (state 0 is "yes" here): refused, never guessed.
    dtype = object if isinstance(values[0], str | bool) else None
    frame = pd.DataFrame({"limping": pd.Series(values, index=["a", "b"], dtype=dtype)})
    with pytest.raises(InvalidStateError) as info:
        KNEE.diagnose_frame(frame)
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
    with pytest.raises(ImpossibleEvidenceError):
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


def test_large_target_joints_use_marginals_and_agree() -> None:
    model = kneebayes.Model(KNEE.spec, joint_limit=1)      # targets not enumerated: no target matrix
    assert model._target_matrix is None
    frame = pd.DataFrame({"limping": ["yes", None, "no"], "tingling_or_numbness": [None, "yes", "no"],
                          "knee_trauma": ["no", "yes", None]})
    out = model.diagnose_frame(frame, triage=True, next_question=True)
    check_against_diagnose(model, frame, out, triage=True, next_question=True)
    pd.testing.assert_frame_equal(out[list(KNEE.causes)], KNEE.diagnose_frame(frame)[list(KNEE.causes)], rtol=0, atol=TOL)


def test_next_question_follows_the_normal_state_stop_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
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

def test_triage_and_next_question_columns() -> None:
    askable = [n.id for n in KNEE.nodes if n.askable]
    frame = pd.DataFrame([
        {"locking_or_catching": "yes"},
        {"worse_with_activity": "no"},
        {"knee_trauma": "yes", "instability": "yes", "locking_or_catching": "yes", "limping": "yes"},
        {a: "no" for a in askable},                                      # nothing left to ask
    ])
    out = KNEE.diagnose_frame(frame, triage=True, next_question=True)
    assert out.loc[0, "triage"] == "see_doctor" and out.loc[0, "reasons"][0] == "locking_or_catching"
    assert out.loc[1, "triage"] == "self_care" and out.loc[1, "reasons"] == ("no_warning_sign",)
    assert out.loc[3, "next_question"] is None
    check_against_diagnose(KNEE, frame, out, triage=True, next_question=True)
    plain = KNEE.diagnose_frame(frame)
    assert list(plain.columns) == list(KNEE.causes) + EXTRA
    only_triage = KNEE.diagnose_frame(frame, triage=True)
    assert list(only_triage.columns) == list(KNEE.causes) + EXTRA + ["triage", "reasons"]


# -- shape of the result ------------------------------------------------------------------------

def test_index_row_order_and_column_order_are_kept() -> None:
    frame = pd.DataFrame({"limping": ["yes", None, "no", "yes"], "sharp_pain": ["no", "yes", None, "no"],
                          "knee_trauma": [None, "no", "yes", None]}, index=["r3", "r1", "r2", "r3"])
    out = KNEE.diagnose_frame(frame)
    assert list(out.index) == ["r3", "r1", "r2", "r3"]
    assert list(out.columns) == list(KNEE.causes) + EXTRA
    assert out.dtypes[list(KNEE.causes)].eq(float).all() and out["impossible"].dtype == bool
    pd.testing.assert_frame_equal(KNEE.diagnose_frame(frame[["knee_trauma", "limping", "sharp_pain"]]), out)
    reversed_ = KNEE.diagnose_frame(frame.iloc[::-1])
    pd.testing.assert_frame_equal(reversed_, out.iloc[::-1])
    check_against_diagnose(KNEE, frame, out)


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame(columns=["limping", "sharp_pain"]),
                                   pd.DataFrame({"limping": pd.Series([], dtype=bool)}, index=pd.Index([], name="case"))])
def test_empty_frame_gives_an_empty_result_with_the_right_columns(frame: pd.DataFrame) -> None:
    out = KNEE.diagnose_frame(frame, triage=True, next_question=True)
    assert len(out) == 0
    assert list(out.columns) == list(KNEE.causes) + EXTRA + ["triage", "reasons", "next_question"]
    assert out.index.equals(frame.index)
    assert all(out[c].dtype == float for c in KNEE.causes) and out["impossible"].dtype == bool


def test_rows_without_columns_are_the_prior() -> None:
    out = KNEE.diagnose_frame(pd.DataFrame(index=range(3)), triage=True, next_question=True)
    assert len(out) == 3
    check_against_diagnose(KNEE, pd.DataFrame(index=range(3)), out, triage=True, next_question=True)


# -- what the answers point to (explain=True) ----------------------------------------------------

EXPLAIN = ["explaining_cause", "bayes_factor"]


@given(knee_frames())
def test_explain_columns_equal_each_rows_diagnosis(frame: pd.DataFrame) -> None:
    out = KNEE.diagnose_frame(frame, explain=True)
    assert list(out.columns) == list(KNEE.causes) + EXTRA + EXPLAIN
    check_against_diagnose(KNEE, frame, out, explain=True)


def test_explain_comes_after_the_other_optional_columns() -> None:
    frame = pd.DataFrame({"limping": ["yes", None]})
    out = KNEE.diagnose_frame(frame, triage=True, next_question=True, explain=True)
    assert list(out.columns) == list(KNEE.causes) + EXTRA + ["triage", "reasons", "next_question"] + EXPLAIN
    assert out["explaining_cause"].dtype == object and out["bayes_factor"].dtype == float
    check_against_diagnose(KNEE, frame, out, triage=True, next_question=True, explain=True)


def test_explain_is_vectorised_and_redoes_only_near_ties(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    findings = list(KNEE.nodes_of_kind("finding"))
    n = 400
    frame = pd.DataFrame({f: rng.choice(["yes", "no"], n) for f in findings[:6]})
    frame = frame.drop_duplicates().reset_index(drop=True)
    redone = []
    original = batch._evidence

    def counting(*args):  # type: ignore[no-untyped-def]
        redone.append(1)
        return original(*args)

    monkeypatch.setattr(batch, "_evidence", counting)
    out = KNEE.diagnose_frame(frame, explain=True)
    near = 0
    for r in range(len(frame)):
        factors = sorted((math.log(f) for _, f in KNEE.diagnose(row_evidence(frame.iloc[r])).explaining_causes),
                         reverse=True)
        near += factors[0] - factors[1] < batch._NEAR
    assert len(redone) == near
    check_against_diagnose(KNEE, frame, out, explain=True)


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


def test_explain_on_a_joint_too_large_to_enumerate_agrees() -> None:
    model = kneebayes.Model(KNEE.spec, joint_limit=1)
    frame = pd.DataFrame({"limping": ["yes", None, "no"], "meniscal_injury": [None, "yes", "no"],
                          "knee_trauma": ["no", "yes", None]})
    out = model.diagnose_frame(frame, explain=True)
    check_against_diagnose(model, frame, out, explain=True)


def test_explain_on_an_empty_frame_gives_the_columns() -> None:
    out = KNEE.diagnose_frame(pd.DataFrame(columns=["limping"]), explain=True)
    assert len(out) == 0 and list(out.columns) == list(KNEE.causes) + EXTRA + EXPLAIN
