"""Graded answers ("probably", "not sure", "probably not"): the model file's section, the interview and the CLI's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kneebayes
from kneebayes import Likelihood
from kneebayes.cli.answers import graded_for, parse_pairs, read_answers_file
from kneebayes.errors import ModelFileError
from kneebayes.modelfile.load import check_model_file, default_model_path

KNEE = default_model_path().read_text(encoding="utf-8")
SECTION_START = KNEE.index("graded_answers:")
SECTION_END = KNEE.index("\nnodes:")


def with_section(tmp_path: Path, section: str) -> Path:
    """The knee model file with its graded_answers section replaced by ``section``."""
    path = tmp_path / "knee.yaml"
    path.write_text(KNEE[:SECTION_START] + section + KNEE[SECTION_END:], encoding="utf-8")
    return path


# -- the model file -----------------------------------------------------------------------

def test_the_knee_model_reads_its_graded_answers_in_file_order(knee_model: kneebayes.Model) -> None:
    words = [(a.word, a.ratio, a.text) for a in knee_model.spec.graded_answers]
    assert words == [("probably", 4.0, "probably"), ("not_sure", 1.0, "not sure"), ("probably_not", 0.25, "probably not")]
    assert all(a.source and a.rationale for a in knee_model.spec.graded_answers)


def test_graded_answers_are_likelihoods_of_yes_against_no(knee_model: kneebayes.Model) -> None:
    assert knee_model.graded_answers["probably_not"] == Likelihood(yes=0.25, no=1.0, label="probably_not")


def test_a_model_without_the_section_takes_no_graded_words(tmp_path: Path) -> None:
    model = kneebayes.load_model(with_section(tmp_path, ""))
    assert model.graded_answers == {}
    with pytest.raises(kneebayes.InvalidStateError, match=r"valid states are 'yes', 'no' \(or True/False\)$"):
        model.diagnose({"limping": "probably"})


def test_changing_a_ratio_in_the_file_changes_the_answer_and_the_content_hash(tmp_path: Path,
                                                                              knee_model: kneebayes.Model) -> None:
    section = KNEE[SECTION_START:SECTION_END].replace("ratio: 4\n", "ratio: 9\n")
    changed = kneebayes.load_model(with_section(tmp_path, section))
    assert changed.graded_answers["probably"].ratio("yes", "no") == 9.0
    assert changed.content_hash != knee_model.content_hash
    assert changed.diagnose({"limping": "probably"}).posterior != knee_model.diagnose({"limping": "probably"}).posterior


def test_save_writes_the_graded_answers_back(tmp_path: Path, knee_model: kneebayes.Model) -> None:
    back = kneebayes.load_model(knee_model.save(tmp_path / "saved.yaml"))
    assert back.spec.graded_answers == knee_model.spec.graded_answers
    assert back.content_hash == knee_model.content_hash


@pytest.mark.parametrize("section, field, message", [
    ("graded_answers:\n  probably:\n    ratio: 0\n    text: p\n    source: s\n    rationale: r\n",
     "graded_answers.probably.ratio", "ratio must be a finite number above 0"),
    ("graded_answers:\n  probably:\n    ratio: many\n    text: p\n    source: s\n    rationale: r\n",
     "graded_answers.probably.ratio", "got 'many'"),
    ("graded_answers:\n  probably:\n    ratio: 4\n    text: p\n    source: s\n",
     "graded_answers.probably.rationale", "missing rationale"),
    ("graded_answers:\n  probably:\n    ratio: 4\n    text: p\n    source: s\n    rationale: r\n    weight: 2\n",
     "graded_answers.probably.weight", "unknown key 'weight'"),
    ("graded_answers:\n  probably maybe:\n    ratio: 4\n    text: p\n    source: s\n    rationale: r\n",
     "graded_answers.probably maybe", "must be a name without spaces other than 'yes' and 'no'"),
    ("graded_answers:\n  'yes':\n    ratio: 4\n    text: p\n    source: s\n    rationale: r\n",
     "graded_answers.yes", "those are the firm answers"),
    ("graded_answers: [probably]\n", "graded_answers", "must map each answer word"),
    ("graded_answers:\n  probably:\n    ratio: 1.0e-320\n    text: p\n    source: s\n    rationale: r\n",
     "graded_answers.probably.ratio", "differ by more than a float can hold"),
    ("graded_answers:\n  'true':\n    ratio: 4\n    text: p\n    source: s\n    rationale: r\n",
     "graded_answers.true", "'true' is a word the command line reads itself"),
    ("graded_answers:\n  probably:\n    ratio: 4\n    text: Y\n    source: s\n    rationale: r\n",
     "graded_answers.probably", "'y' is a word the command line reads itself"),
    ("graded_answers:\n  probably:\n    ratio: 4\n    text: maybe\n    source: s\n    rationale: r\n"
     "  likely:\n    ratio: 3\n    text: Maybe\n    source: s\n    rationale: r\n",
     "graded_answers.likely", "graded answers 'probably' and 'likely' share a word or text"),
])
def test_a_bad_graded_answer_is_located_and_named(tmp_path: Path, section: str, field: str, message: str) -> None:
    problems = check_model_file(with_section(tmp_path, section))
    assert len(problems) == 1
    assert problems[0].field == field and message in problems[0].message
    assert problems[0].line is not None
    with pytest.raises(ModelFileError, match=message.replace("(", r"\(")):
        kneebayes.load_model(with_section(tmp_path, section))


# -- the interview ------------------------------------------------------------------------

def test_a_graded_answer_is_recorded_as_its_likelihood_and_closes_the_question(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    dx = session.answer("localized_tenderness", "probably")
    assert session.answers == {"localized_tenderness": knee_model.graded_answers["probably"]}
    assert "localized_tenderness" not in [q.id for q in dx.ranked_questions]
    assert session.skipped == ()
    assert session.history[-1].value == knee_model.graded_answers["probably"]


def test_a_graded_answer_moves_the_posterior_less_than_a_firm_one(knee_model: kneebayes.Model) -> None:
    def tendonitis(value: str) -> float:
        return kneebayes.Interview(knee_model).answer("localized_tenderness", value).posterior["tendonitis"]

    assert tendonitis("no") < tendonitis("probably_not") < tendonitis("not_sure") < tendonitis("probably") < tendonitis("yes")


def test_a_graded_answer_can_be_undone_and_answered_firmly(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "probably")
    with pytest.raises(kneebayes.AlreadyAnsweredError, match="already answered"):
        session.answer("limping", "yes")
    session.undo()
    assert session.answer("limping", "yes").posterior == knee_model.diagnose({"limping": "yes"}).posterior


def test_a_saved_interview_with_soft_answers_resumes_exactly(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "probably_not")
    session.answer("swelling_behind_knee", Likelihood(yes=2, no=1))
    session.answer("sharp_pain", "no")
    text = session.to_json()
    step = json.loads(text)["steps"][0]
    assert step["value"] == {"likelihood": {"yes": 0.25, "no": 1.0}, "label": "probably_not"}
    back = kneebayes.Interview.from_json(knee_model, text)
    assert back.answers == session.answers and back.diagnosis.posterior == session.diagnosis.posterior


def test_a_damaged_soft_answer_in_a_saved_interview_names_the_step(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "probably")
    data = json.loads(session.to_json())
    data["steps"][0]["value"] = {"likelihood": {"yes": -1, "no": 1}}
    with pytest.raises(kneebayes.SavedInterviewError, match="step 1: the weight of state 'yes' must be a finite number"):
        kneebayes.Interview.from_json(knee_model, json.dumps(data))


def test_an_unknown_graded_word_lists_the_valid_ones(knee_model: kneebayes.Model) -> None:
    with pytest.raises(kneebayes.InvalidStateError, match="or a graded answer: 'probably', 'not_sure', 'probably_not'"):
        kneebayes.Interview(knee_model).answer("limping", "perhaps")


# -- the CLI's words ------------------------------------------------------------------------

@pytest.mark.parametrize("typed, word", [("probably", "probably"), ("Not Sure", "not_sure"), ("not_sure", "not_sure"),
                                         ("probably  not", "probably_not"), ("maybe", None)])
def test_typed_words_name_graded_answers(knee_model: kneebayes.Model, typed: str, word: str | None) -> None:
    assert graded_for(knee_model, ("yes", "no"), typed) == word


def test_a_question_with_other_states_takes_no_graded_words(knee_model: kneebayes.Model) -> None:
    assert graded_for(knee_model, ("low", "high"), "probably") is None


def test_diagnose_pairs_take_graded_words(knee_model: kneebayes.Model) -> None:
    assert parse_pairs(knee_model, ["limping=probably not", "sharp_pain=no"]) == {"limping": "probably_not",
                                                                                   "sharp_pain": "no"}


def test_an_answers_file_takes_graded_words_and_written_likelihoods(tmp_path: Path, knee_model: kneebayes.Model) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"limping": "probably", "sharp_pain": {"likelihood": {"yes": 1, "no": 3}}}))
    session = read_answers_file(knee_model, str(path), None, None)
    assert session.answers == {"limping": knee_model.graded_answers["probably"],
                               "sharp_pain": Likelihood(yes=1, no=3)}


def test_the_cli_interview_offers_and_takes_graded_answers(tmp_path: Path, knee_model: kneebayes.Model) -> None:
    from cli_run import run

    saved = tmp_path / "session.json"
    result = run("interview", "--save", str(saved), stdin="probably\nprobably not\nnot sure\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "[yes/no/probably/not sure/probably not/skip/undo/quit] probably" in result.stdout
    session = kneebayes.Interview.from_json(knee_model, saved.read_text(encoding="utf-8"))
    assert [v.label for v in session.answers.values()] == ["probably", "probably_not", "not_sure"]
    expected = knee_model.diagnose(session.answers).posterior
    assert session.diagnosis.posterior == expected


def test_the_cli_diagnose_command_takes_graded_words() -> None:
    from cli_run import run

    result = run("diagnose", "limping=probably", "sharp_pain=no")
    assert result.returncode == 0, result.stderr
    assert "limping=probably (yes:no = 4:1)" in result.stdout
