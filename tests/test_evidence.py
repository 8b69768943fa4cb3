"""``evidence``: answers read once, the same way for a diagnosis and a frame's cells."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kneebayes
from kneebayes.evidence import number_text

NUMBERED = ("network numbered {}\n"
            "variable A { type discrete [ 2 ] { yes, no }; }\n"
            "variable B { type discrete [ 3 ] { 1, 2, 2.5 }; }\n"
            "probability ( A ) { table 0.3, 0.7; }\n"
            "probability ( B | A ) { (yes) 0.7, 0.2, 0.1; (no) 0.2, 0.5, 0.3; }\n")


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory) -> kneebayes.Model:
    path = Path(tmp_path_factory.mktemp("numbered")) / "numbered.bif"
    path.write_text(NUMBERED)
    return kneebayes.load_bif(path, targets=["A"])


@pytest.mark.parametrize(("number", "state"), [(1, "1"), (1.0, "1"), (np.int64(2), "2"), (2.5, "2.5")])
def test_a_number_answers_the_state_written_as_that_number(numbered: kneebayes.Model, number: object,
                                                            state: str) -> None:
    assert numbered.diagnose({"B": number}).posterior == numbered.diagnose({"B": state}).posterior


def test_a_diagnosis_reads_a_number_as_a_frame_cell_does(numbered: kneebayes.Model) -> None:
    frame = numbered.diagnose_frame(pd.DataFrame({"B": [1, 2, 2.5]}))
    singles = [numbered.diagnose({"B": v}).posterior["A"] for v in (1, 2, 2.5)]
    assert frame["A"].tolist() == singles


def test_a_number_is_no_yes_no_answer(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.InvalidStateError, match="invalid state 1 for node 'limping': .*; a number stands "
                                                          "only for a state written as that number"):
        knee_model.diagnose({"limping": 1})


def test_a_number_naming_no_state_is_refused(numbered: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.InvalidStateError, match="invalid state 3 for node 'B': valid states are '1', '2', '2.5'"):
        numbered.diagnose({"B": 3})


def test_number_text_leaves_out_truth_values_text_and_nan() -> None:
    assert [number_text(v) for v in (True, np.bool_(False), "1", float("nan"), None)] == [None] * 5


def test_an_answers_file_reads_a_number_as_a_diagnosis_does(numbered: kneebayes.Model, tmp_path: Path) -> None:
    from kneebayes.cli.answers import read_answers_file

    path = tmp_path / "answers.json"
    path.write_text('{"B": 1}', encoding="utf-8")
    session = read_answers_file(numbered, str(path), None, None)
    assert session.diagnosis.posterior == numbered.diagnose({"B": "1"}).posterior


def test_a_soft_answer_weighing_a_state_below_1e_100_of_its_strongest_warns_at_the_callers_line(
        knee_model: kneebayes.Model) -> None:
    with pytest.warns(kneebayes.PrecisionWarning, match=r"the soft answer to 'limping' weighs a state 1e-150 times") as caught:
        knee_model.diagnose({"limping": kneebayes.Likelihood(yes=1e-150, no=1.0)})
    assert caught[0].filename == __file__      # the user's line, not one inside the library


def test_a_soft_answer_within_1e_100_and_a_firm_zero_do_not_warn(knee_model: kneebayes.Model) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", kneebayes.PrecisionWarning)
        knee_model.diagnose({"limping": kneebayes.Likelihood(yes=1e-99, no=1.0)})
        knee_model.diagnose({"limping": kneebayes.Likelihood(yes=0.0, no=1.0)})    # a firm no: nothing small


def test_a_frame_cell_with_a_faint_soft_answer_warns_as_a_diagnosis_does(knee_model: kneebayes.Model) -> None:
    frame = pd.DataFrame({"limping": [kneebayes.Likelihood(yes=1.0, no=1e-200)]})
    with pytest.warns(kneebayes.PrecisionWarning, match=r"the soft answer to 'limping' weighs a state 1e-200 times"):
        knee_model.diagnose_frame(frame)
