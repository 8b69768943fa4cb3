"""Objects that travel: pickle, copy and deepcopy, other processes, and a stable token for Dask.

A model pickles as its validated spec (plus the targets, joint limit and
import report) and compiles once on load; a Diagnosis as its model, evidence,
skipped questions and settings; an Interview without its lock. Every frozen
value the public API returns pickles to an equal value.
"""

from __future__ import annotations

import concurrent.futures
import copy
import dataclasses
import multiprocessing
import os
import pickle
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pgmpy
import pytest

import kneebayes
from kneebayes import errors
from kneebayes.display import words
from kneebayes.modelfile.schema import InterviewSettings
from kneebayes.research.sensitivity import sensitivity_function

EXAMPLES = Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models"

# Evidence sets for the knee model: empty, one answer, several, and a red flag.
KNEE_CASES: list[dict[str, str]] = [
    {},
    {"tingling_or_numbness": "yes"},
    {"locking_or_catching": "yes", "swelling_behind_knee": "yes", "limping": "no"},
    {"tingling_or_numbness": "yes", "limping": "no"},
]


def _round_trip(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))


def _observable(model: kneebayes.Model) -> dict[str, Any]:
    """Everything a caller can read off a model without evidence."""
    return {
        "name": model.name, "version": model.version, "content_hash": model.content_hash, "info": model.info,
        "causes": model.causes, "nodes": model.nodes, "normal_states": dict(model.normal_states),
        "red_flag_nodes": model.red_flag_nodes, "settings": model.settings,
        "costs": {n.id: model.cost(n.id) for n in model.nodes}, "askable": [n.id for n in model.nodes if n.askable],
        "import_report": model.import_report, "spec": model.spec, "path": model.spec.path,
        "parameters": dict(model.parameters), "enumerated": model.network.enumerated,
        "targets": model.network.targets, "repr": repr(model), "token": model.__dask_tokenize__(),
    }


def _answers(model: kneebayes.Model, cases: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Every case's full result, as plain data."""
    return [model.diagnose(ev).to_dict(full=True) for ev in cases]


def _answers_in_worker(model: kneebayes.Model, cases: list[dict[str, str]]) -> tuple[Any, list[dict[str, Any]]]:
    """Run in another process on the unpickled model: its token and its answers."""
    return model.__dask_tokenize__(), _answers(model, cases)


@pytest.fixture(scope="module")
def asia() -> kneebayes.Model:
    # targets not in file order, and an askable subset: both must survive the trip
    return kneebayes.load_bif(str(EXAMPLES / "asia.bif.gz"), targets=["lung", "tub"],
                              askable=["smoke", "xray", "dysp", "asia"])


@pytest.fixture(scope="module")
def child() -> kneebayes.Model:
    return kneebayes.load_bif(str(EXAMPLES / "child.bif.gz"), targets=["Disease"])


@pytest.fixture(scope="module")
def alarm() -> kneebayes.Model:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        return kneebayes.load_bif(str(EXAMPLES / "alarm.bif.gz"), targets=["LVFAILURE", "HYPOVOLEMIA"])


# -- Model ------------------------------------------------------------------------------
def test_knee_model_round_trips_with_every_observable_attribute(knee_model: kneebayes.Model) -> None:
    assert _observable(_round_trip(knee_model)) == _observable(knee_model)


def test_knee_model_round_trip_gives_the_same_answers(knee_model: kneebayes.Model) -> None:
    assert _answers(_round_trip(knee_model), KNEE_CASES) == _answers(knee_model, KNEE_CASES)


def test_imported_network_round_trips_with_its_targets_order_and_askable_nodes(asia: kneebayes.Model) -> None:
    back = _round_trip(asia)
    assert back.causes == ("lung", "tub")
    assert _observable(back) == _observable(asia)


def test_imported_network_round_trip_gives_the_same_answers(asia: kneebayes.Model) -> None:
    cases = [{}, {"xray": "yes"}, {"xray": "yes", "smoke": "no", "dysp": "yes"}]
    assert _answers(_round_trip(asia), cases) == _answers(asia, cases)


def test_multi_state_network_round_trips(child: kneebayes.Model) -> None:
    back = _round_trip(child)
    assert _observable(back) == _observable(child)
    ev = {"LowerBodyO2": "<5", "CO2Report": ">=7.5"}
    assert back.diagnose(ev).to_dict(full=True) == child.diagnose(ev).to_dict(full=True)


def test_imported_network_keeps_its_import_report(alarm: kneebayes.Model) -> None:
    assert len(alarm.import_report) > 0   # ALARM's tables do not all sum to 1 within 1e-9
    assert _round_trip(alarm).import_report == alarm.import_report


def test_model_with_changed_parameters_round_trips(knee_model: kneebayes.Model) -> None:
    changed = knee_model.with_parameters({"bakers_cyst.leak": 0.02, "poor_warmup.prior": "fifty-fifty"})
    back = _round_trip(changed)
    assert _observable(back) == _observable(changed)
    assert back.diff(knee_model) == changed.diff(knee_model)


def test_with_parameters_keeps_an_imported_networks_targets_in_their_order(asia: kneebayes.Model) -> None:
    changed = asia.with_parameters({"smoke.prior[yes]": 0.4})
    assert changed.causes == asia.causes == ("lung", "tub")
    assert _round_trip(changed).causes == ("lung", "tub")


def test_model_keeps_its_joint_limit(knee_model: kneebayes.Model) -> None:
    small = kneebayes.Model(knee_model.spec, joint_limit=4)   # too small to enumerate the causes' joint
    back = _round_trip(small)
    assert back.network.enumerated == small.network.enumerated == ()
    with pytest.raises(kneebayes.KneeBayesError, match="joint limit of 4"):
        back.diagnose({}).most_probable_combinations()


def test_model_keeps_its_work_limit(knee_model: kneebayes.Model) -> None:
    limited = kneebayes.Model(knee_model.spec, work_limit=1e6)
    assert _round_trip(limited).work_limit == 1e6 == _round_trip(limited).network.work_limit


def test_with_parameters_keeps_the_work_limit(knee_model: kneebayes.Model) -> None:
    limited = kneebayes.Model(knee_model.spec, work_limit=1e6)
    assert limited.with_parameters({"poor_warmup.prior": 0.3}).work_limit == 1e6


def test_model_pickles_its_spec_not_its_compiled_arrays(knee_model: kneebayes.Model) -> None:
    assert len(pickle.dumps(knee_model)) < len(pickle.dumps(knee_model.spec)) + 1_000


def test_copy_of_a_model_is_the_model_itself(knee_model: kneebayes.Model) -> None:
    assert copy.copy(knee_model) is knee_model


def test_deepcopy_of_a_model_is_the_model_itself(knee_model: kneebayes.Model) -> None:
    assert copy.deepcopy(knee_model) is knee_model


# -- the Dask token ------------------------------------------------------------------------
def test_token_is_built_from_the_content_hash(knee_model: kneebayes.Model) -> None:
    assert knee_model.__dask_tokenize__()[1] == knee_model.content_hash


def test_token_is_equal_for_a_saved_and_reloaded_model(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    reloaded = kneebayes.load_model(knee_model.save(tmp_path / "knee.yaml"))
    assert reloaded.spec.path != knee_model.spec.path
    assert reloaded.__dask_tokenize__() == knee_model.__dask_tokenize__()


def test_token_is_equal_for_a_model_rebuilt_by_pickle(knee_model: kneebayes.Model) -> None:
    assert _round_trip(knee_model).__dask_tokenize__() == knee_model.__dask_tokenize__()


def test_token_changes_when_one_number_changes(knee_model: kneebayes.Model) -> None:
    value = knee_model.parameters["bakers_cyst.leak"].value
    changed = knee_model.with_parameters({"bakers_cyst.leak": value + 0.001})
    assert changed.__dask_tokenize__() != knee_model.__dask_tokenize__()


def test_token_changes_when_a_setting_changes(knee_model: kneebayes.Model) -> None:
    spec = dataclasses.replace(knee_model.spec, interview=InterviewSettings(confidence=0.8))
    assert kneebayes.Model(spec).__dask_tokenize__() != knee_model.__dask_tokenize__()


def test_token_changes_when_a_question_text_changes(knee_model: kneebayes.Model) -> None:
    first = dataclasses.replace(knee_model.spec.nodes[-1], question="Reworded?")
    spec = dataclasses.replace(knee_model.spec, nodes=(*knee_model.spec.nodes[:-1], first))
    assert kneebayes.Model(spec).content_hash == knee_model.content_hash   # wording is not in the hash...
    assert kneebayes.Model(spec).__dask_tokenize__() != knee_model.__dask_tokenize__()   # ...but it is in the token


def test_token_changes_with_the_order_of_the_targets(asia: kneebayes.Model) -> None:
    other = kneebayes.load_bif(str(EXAMPLES / "asia.bif.gz"), targets=["tub", "lung"],
                               askable=["smoke", "xray", "dysp", "asia"])
    assert other.content_hash == asia.content_hash
    assert other.__dask_tokenize__() != asia.__dask_tokenize__()


def test_token_changes_with_the_joint_limit(knee_model: kneebayes.Model) -> None:
    small = kneebayes.Model(knee_model.spec, joint_limit=4)
    assert small.__dask_tokenize__() != knee_model.__dask_tokenize__()


# -- other processes -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pool() -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    # spawn: each worker starts a fresh interpreter, so everything it gets has truly been pickled
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=spawn) as executor:
        yield executor


def test_pickled_model_gives_the_same_answers_in_worker_processes(
        knee_model: kneebayes.Model, pool: concurrent.futures.ProcessPoolExecutor) -> None:
    parts = [KNEE_CASES[:2], KNEE_CASES[2:]]
    results = list(pool.map(_answers_in_worker, [knee_model] * len(parts), parts))
    assert [token for token, _ in results] == [knee_model.__dask_tokenize__()] * len(parts)
    assert [a for _, answers in results for a in answers] == _answers(knee_model, KNEE_CASES)


def test_error_raised_in_a_worker_process_reaches_the_caller_whole(
        knee_model: kneebayes.Model, pool: concurrent.futures.ProcessPoolExecutor) -> None:
    future = pool.submit(_answers, knee_model, [{"limpin": "yes"}])
    with pytest.raises(kneebayes.UnknownNodeError, match="unknown node 'limpin'; did you mean 'limping'"):
        future.result()


# -- Diagnosis -----------------------------------------------------------------------------
@pytest.mark.parametrize("evidence", KNEE_CASES)
def test_diagnosis_round_trips_with_equal_results(knee_model: kneebayes.Model, evidence: dict[str, str]) -> None:
    dx = knee_model.diagnose(evidence)
    back = _round_trip(dx)
    assert back.to_dict(full=True) == dx.to_dict(full=True)
    assert (back.posterior, back.bayes_factor, back.lift, back.triage, back.care_plan, back.next_question,
            back.ranked_questions, back.stop_reason, back.most_probable_combinations(5)) == (
        dx.posterior, dx.bayes_factor, dx.lift, dx.triage, dx.care_plan, dx.next_question,
        dx.ranked_questions, dx.stop_reason, dx.most_probable_combinations(5))


def test_diagnosis_keeps_its_skipped_questions_and_settings(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"limping": "no"}, skipped=["tingling_or_numbness"], confidence=0.8,
                             cost_weight=0.05, screen_red_flags=False)
    back = _round_trip(dx)
    assert (back.skipped, back.settings, back.evidence) == (dx.skipped, dx.settings, dx.evidence)
    assert back.ranked_questions == dx.ranked_questions


def test_diagnosis_explanations_and_rationales_survive_the_trip(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose({"tingling_or_numbness": "yes", "limping": "no"})
    dx.explain("nerve_irritation")   # fills a cache, which is not pickled
    back = _round_trip(dx)
    assert back.explain("nerve_irritation") == dx.explain("nerve_irritation")
    assert back.rationale(dx.next_question.id) == dx.rationale(dx.next_question.id)


def test_diagnosis_of_a_multi_state_network_round_trips(child: kneebayes.Model) -> None:
    dx = child.diagnose({"LowerBodyO2": "<5"})
    back = _round_trip(dx)
    assert back.distributions == dx.distributions
    assert back.to_dict(full=True) == dx.to_dict(full=True)


def test_diagnosis_pickle_adds_little_to_its_models(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose(KNEE_CASES[2])
    dx.to_dict(full=True)   # every cache filled: none of them travels
    assert len(pickle.dumps(dx)) - len(pickle.dumps(knee_model)) < 1_000


def test_deepcopy_of_a_diagnosis_is_the_diagnosis_itself(knee_model: kneebayes.Model) -> None:
    dx = knee_model.diagnose(KNEE_CASES[1])
    assert copy.deepcopy(dx) is dx and copy.copy(dx) is dx


# -- Interview -----------------------------------------------------------------------------
def _continue(session: kneebayes.Interview, steps: int) -> list[tuple[Any, Any]]:
    """Answer "no" to the next ``steps`` questions: each question and the posterior after it."""
    out = []
    for _ in range(steps):
        q = session.next_question()
        if q is None:
            break
        out.append((q, dict(session.answer(q.id, "no").posterior)))
    return out


def test_interview_pickled_mid_session_continues_as_the_original(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model, confidence=0.85)
    session.answer("tingling_or_numbness", "yes")
    session.skip(session.next_question().id)
    back = _round_trip(session)
    assert (back.answers, back.skipped, back.history, back.options) == (
        session.answers, session.skipped, session.history, session.options)
    assert _continue(back, 3) == _continue(session, 3)


def test_interview_round_trip_can_undo_what_was_answered_before(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "no")
    back = _round_trip(session)
    assert back.undo().posterior == knee_model.diagnose({}).posterior
    assert back.answers == {} and session.answers == {"limping": "no"}


def test_deepcopy_of_an_interview_is_a_session_of_its_own(knee_model: kneebayes.Model) -> None:
    session = kneebayes.Interview(knee_model)
    session.answer("limping", "no")
    other = copy.deepcopy(session)
    other.answer("tingling_or_numbness", "yes")
    assert session.answers == {"limping": "no"}
    assert other.answers == {"limping": "no", "tingling_or_numbness": "yes"}


# -- every public value --------------------------------------------------------------------
def _dx(model: kneebayes.Model) -> kneebayes.Diagnosis:
    return model.diagnose({"tingling_or_numbness": "yes", "limping": "no"})


VALUES: dict[str, Callable[[kneebayes.Model], Any]] = {
    "ModelInfo": lambda m: _dx(m).model_info,
    "Node": lambda m: m.nodes[0],
    "Settings": lambda m: _dx(m).settings,
    "StopReason": lambda m: kneebayes.StopReason.CONFIDENT,
    "Question": lambda m: _dx(m).next_question,
    "Rationale": lambda m: _dx(m).rationale(_dx(m).next_question.id),
    "AnswerEffect": lambda m: _dx(m).rationale(_dx(m).next_question.id).answers[0],
    "Triage": lambda m: _dx(m).triage,
    "Reason": lambda m: _dx(m).triage.reasons[0],
    "CareAdvice": lambda m: _dx(m).care_plan[0],
    "Combination": lambda m: _dx(m).most_probable_combinations(k=1)[0],
    "Explanation": lambda m: _dx(m).explain("nerve_irritation"),
    "Contribution": lambda m: _dx(m).explain("nerve_irritation").supporting[0],
    "explaining_causes": lambda m: _dx(m).explaining_causes,
    "ClaimReport": lambda m: m.check_claims(),
    "ClaimResult": lambda m: m.check_claims().results[0],
    "Parameter": lambda m: m.parameters["bakers_cyst.leak"],
    "ParameterChange": lambda m: m.diff(m.with_parameters({"bakers_cyst.leak": 0.02}))[0],
    "ModelSpec": lambda m: m.spec,
    "Step": lambda m: _step(m),
    "FactorWords": lambda m: words.factor_words(_dx(m).bayes_factor["nerve_irritation"]),
    "Explaining": lambda m: words.explaining(_dx(m))[0],
}


def _step(model: kneebayes.Model) -> Any:
    session = kneebayes.Interview(model)
    session.answer("limping", "no")
    return session.history[0]


@pytest.mark.parametrize("name", sorted(VALUES))
def test_public_value_round_trips_to_an_equal_value(knee_model: kneebayes.Model, name: str) -> None:
    value = VALUES[name](knee_model)
    back = _round_trip(value)
    assert type(back) is type(value)
    assert back == value


@pytest.mark.parametrize("name", sorted(VALUES))
def test_public_value_deepcopies_to_an_equal_value(knee_model: kneebayes.Model, name: str) -> None:
    value = VALUES[name](knee_model)
    assert copy.deepcopy(value) == value


def test_read_only_mappings_stay_read_only_after_the_trip(knee_model: kneebayes.Model) -> None:
    back = _round_trip(VALUES["Combination"](knee_model))
    with pytest.raises(TypeError, match="does not support item assignment"):
        back.states["meniscal_injury"] = "no"   # type: ignore[index]


def test_sensitivity_table_round_trips_with_its_type_and_attrs(knee_model: kneebayes.Model) -> None:
    table = kneebayes.sensitivity(knee_model, {"locking_or_catching": "yes"}, cause="meniscal_injury")
    back = _round_trip(table)
    assert type(back) is type(table)
    assert back.equals(table) and back.attrs == table.attrs


def test_sensitivity_function_table_round_trips(knee_model: kneebayes.Model) -> None:
    table = sensitivity_function(knee_model, {"locking_or_catching": "yes"}, "meniscal_injury",
                                 "bakers_cyst.leak", points=3)
    back = _round_trip(table)
    assert back.equals(table) and back.attrs == table.attrs


def test_posterior_intervals_table_round_trips(knee_model: kneebayes.Model) -> None:
    table = knee_model.posterior_intervals({"limping": "yes"}, draws=200, seed=1)
    back = _round_trip(table)
    assert back.equals(table) and back.attrs == table.attrs


# -- errors raised in a worker come back whole ----------------------------------------------
def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as exc:   # noqa: BLE001 - the error under test, whatever it is
        return exc
    raise AssertionError("no error raised")


ERRORS: dict[str, Callable[[kneebayes.Model], BaseException]] = {
    "UnknownNodeError": lambda m: _raised(lambda: m.diagnose({"limpin": "yes"})),
    "InvalidStateError": lambda m: _raised(lambda: m.diagnose({"limping": "maybe"})),
    "ImpossibleEvidenceError": lambda m: _raised(lambda: kneebayes.load_bif(
        str(EXAMPLES / "asia.bif.gz"), targets=["lung"]).diagnose({"tub": "yes", "either": "no"})),
    "ModelFileError": lambda m: _raised(lambda: kneebayes.load_model(
        Path(__file__).parent / "models" / "broken" / "care_invalid_when.yaml")),
    "InputFileError": lambda m: _raised(lambda: kneebayes.load_bif("no/such/network.bif", targets=["x"])),
    "ParameterError": lambda m: _raised(lambda: m.with_parameters({"bakers_cyst.leek": 0.1})),
    "SettingError": lambda m: _raised(lambda: m.diagnose({}, confidence=5)),
    "MissingExtraError": lambda m: errors.MissingExtraError("pandas", "research", "plotting"),
    "SavedInterviewError": lambda m: _raised(lambda: kneebayes.Interview.from_json(m, "{")),
    "AlreadyAnsweredError": lambda m: _raised(lambda: _answered_twice(m)),
}


def _answered_twice(model: kneebayes.Model) -> None:
    session = kneebayes.Interview(model)
    session.answer("limping", "no")
    session.answer("limping", "yes")


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_round_trips_with_its_message_and_attributes(knee_model: kneebayes.Model, name: str) -> None:
    error = ERRORS[name](knee_model)
    assert type(error).__name__ == name
    back = _round_trip(error)
    assert type(back) is type(error)
    assert (str(back), back.args, vars(back)) == (str(error), error.args, vars(error))
