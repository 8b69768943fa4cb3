"""The exceptions (kneebayes.errors): hierarchy, messages, suggestions.

Error tests check the message, not only the type.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import pytest

import kneebayes
from kneebayes import errors
from kneebayes.errors import (
    EvidenceError,
    ImpossibleEvidenceError,
    InputFileError,
    IntractableError,
    InvalidStateError,
    QUOTE_LIMIT,
    KneeBayesError,
    MissingExtraError,
    ModelFileError,
    ParameterError,
    SettingError,
    Problem,
    UnknownNodeError,
    WrongTypeError,
    listing,
    nearest,
)


@pytest.fixture(scope="module")
def knee() -> kneebayes.Model:
    return kneebayes.load_model()


# -- hierarchy ------------------------------------------------------------------------

@pytest.mark.parametrize(("cls", "bases"), [
    (ModelFileError, (KneeBayesError, ValueError)),
    (ParameterError, (KneeBayesError, ValueError)),
    (EvidenceError, (KneeBayesError, ValueError)),
    (UnknownNodeError, (KneeBayesError, EvidenceError, KeyError, LookupError)),
    (InvalidStateError, (KneeBayesError, EvidenceError, ValueError)),
    (ImpossibleEvidenceError, (KneeBayesError, EvidenceError, ValueError)),
    (SettingError, (KneeBayesError, ValueError)),
    (InputFileError, (KneeBayesError, ValueError)),
    (MissingExtraError, (KneeBayesError, ImportError)),
    (WrongTypeError, (KneeBayesError, TypeError)),
    (IntractableError, (KneeBayesError, MemoryError)),
], ids=lambda x: x.__name__ if isinstance(x, type) else "")
def test_error_derives_from_the_base_and_the_builtin_it_resembles(cls: type, bases: tuple[type, ...]) -> None:
    assert all(issubclass(cls, b) for b in bases)


def test_every_public_exception_derives_from_kneebayes_error() -> None:
    public = [getattr(errors, n) for n in errors.__all__]
    classes = [c for c in public if inspect.isclass(c) and issubclass(c, BaseException)]
    assert len(classes) == 12
    assert all(issubclass(c, KneeBayesError) for c in classes)


def test_module_docstring_draws_every_exception() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert name in (errors.__doc__ or ""), name


def test_top_level_package_exports_the_errors() -> None:
    for name in ("KneeBayesError", "ModelFileError", "ParameterError", "EvidenceError",
                 "UnknownNodeError", "InvalidStateError", "ImpossibleEvidenceError", "Problem", "WrongTypeError",
                 "IntractableError"):
        assert getattr(kneebayes, name) is getattr(errors, name)


def test_unknown_node_error_is_caught_by_except_key_error() -> None:
    with pytest.raises(KeyError, match="unknown node 'x'"):
        raise UnknownNodeError("x", ["y"])


# -- nearest --------------------------------------------------------------------------

IDS = ["tingling_or_numbness", "limping", "instability", "swelling_behind_knee", "fullness_behind_knee"]


def test_nearest_finds_a_misspelling() -> None:
    assert nearest("limpin", IDS) == ["limping"]


def test_nearest_finds_an_id_by_a_shared_word() -> None:
    assert nearest("tingling", IDS) == ["tingling_or_numbness"]
    assert nearest("behind", IDS) == ["swelling_behind_knee", "fullness_behind_knee"]


def test_nearest_returns_nothing_for_an_unrelated_word() -> None:
    assert nearest("xyz", IDS) == []


def test_nearest_returns_at_most_n() -> None:
    assert len(nearest("knee", ["a_knee", "b_knee", "c_knee", "d_knee"], n=2)) == 2
    assert len(nearest("knee", ["knee_a", "knee_b", "knee_c", "knee_d", "knee_e"])) == 3


# -- messages of the exception classes ----------------------------------------------

def test_unknown_node_error_message_is_not_quoted_like_a_key_error() -> None:
    err = UnknownNodeError("tinglng", IDS)
    assert str(err) == "unknown node 'tinglng'; did you mean 'tingling_or_numbness'?"
    assert str(KeyError("x")) == "'x'"  # what plain KeyError would have done


def test_unknown_node_error_keeps_node_and_suggestions() -> None:
    err = UnknownNodeError("tinglng", IDS)
    assert err.node == "tinglng"
    assert err.suggestions == ("tingling_or_numbness",)


def test_unknown_node_error_without_a_near_id_gives_no_hint() -> None:
    err = UnknownNodeError("xyz", IDS)
    assert str(err) == "unknown node 'xyz'"
    assert err.suggestions == ()


def test_unknown_node_error_names_what_was_unknown() -> None:
    assert str(UnknownNodeError("meniscus", ["meniscal_injury"], what="cause")).startswith("unknown cause 'meniscus'")


def test_invalid_state_error_lists_the_valid_states() -> None:
    err = InvalidStateError("severity", "awful", ("mild", "moderate", "severe"))
    assert str(err) == "invalid state 'awful' for node 'severity': valid states are 'mild', 'moderate', 'severe'"
    assert (err.node, err.value, err.states) == ("severity", "awful", ("mild", "moderate", "severe"))


def test_invalid_state_error_shows_a_numpy_number_as_the_number_and_what_numbers_stand_for() -> None:
    import numpy as np

    err = InvalidStateError("pain", np.int64(1), ("yes", "no"))
    assert str(err) == ("invalid state 1 for node 'pain': valid states are 'yes', 'no' (or True/False); "
                        "a number stands only for a state written as that number")
    assert type(err.value) is np.int64     # the value itself is kept as given


def test_invalid_state_error_on_a_yes_no_node_mentions_true_false() -> None:
    assert str(InvalidStateError("pain", "maybe", ("yes", "no"))).endswith("valid states are 'yes', 'no' (or True/False)")


def test_impossible_evidence_error_shows_the_evidence() -> None:
    err = ImpossibleEvidenceError([("a", "yes"), ("b", "no")])
    assert err.evidence == {"a": "yes", "b": "no"}
    assert str(err).startswith("the evidence {a=yes, b=no} has probability zero under this model")


def test_model_file_error_with_one_problem_reads_as_that_problem() -> None:
    p = Problem("m.yaml", "missing source", node="strain", field="prior.source", line=4)
    err = ModelFileError([p])
    assert str(err) == "m.yaml:4: node 'strain': field 'prior.source': missing source"
    assert err.problems == (p,)


def test_model_file_error_with_several_problems_lists_them_all() -> None:
    ps = [Problem("m.yaml", "missing source", node="a", field="prior.source", line=4),
          Problem("m.yaml", "missing title", field="title", line=1)]
    assert str(ModelFileError(ps)) == (
        "2 problems in 'm.yaml':\n"
        "  - m.yaml:4: node 'a': field 'prior.source': missing source\n"
        "  - m.yaml:1: field 'title': missing title"
    )


def test_model_file_error_with_problems_of_several_files_is_headed_generically() -> None:
    ps = [Problem("a.yaml", "missing title", field="title", line=1), Problem("b.yaml", "missing title", field="title", line=1)]
    assert str(ModelFileError(ps)).startswith("2 problems in the model file:\n  - a.yaml:1:")


# -- evidence errors from the real model -------------------------------------------------

def test_unknown_evidence_node_names_it_and_suggests_the_real_id(knee: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError) as info:
        knee.diagnose({"tingling": "yes"})
    assert info.value.node == "tingling"
    assert "tingling_or_numbness" in info.value.suggestions
    assert str(info.value) == "unknown node 'tingling'; did you mean 'tingling_or_numbness'?"


def test_invalid_evidence_state_lists_yes_and_no(knee: kneebayes.Model) -> None:
    with pytest.raises(InvalidStateError) as info:
        knee.diagnose({"tingling_or_numbness": "maybe"})
    msg = str(info.value)
    assert "'maybe'" in msg and "'tingling_or_numbness'" in msg
    assert "'yes', 'no'" in msg


def test_unknown_node_lookup_on_the_model_suggests_ids(knee: kneebayes.Model) -> None:
    with pytest.raises(UnknownNodeError, match=r"unknown node 'limpng'; did you mean 'limping'\?"):
        knee.node("limpng")


def test_evidence_that_is_not_a_mapping_is_an_evidence_error(knee: kneebayes.Model) -> None:
    with pytest.raises(EvidenceError, match="evidence must be a mapping of node id to state, got list"):
        knee.diagnose(["tingling_or_numbness"])  # type: ignore[arg-type]


IMPOSSIBLE = """\
format: kneebayes-model/1
name: impossible
version: "0.1"
title: a node that can never be yes
scale: {impossible: 0.0}
nodes:
  - id: dislocation
    label: Dislocation
    kind: cause
    question: "Is the kneecap dislocated?"
    prior: {value: impossible, range: [0, 0], source: s, rationale: "never, in this population"}
  - id: strain
    label: Strain
    kind: cause
    question: "Strained?"
    prior: {value: 0.3, range: [0.1, 0.5], source: s, rationale: r}
  - id: deformity
    label: Deformity
    kind: finding
    question: "Does the knee look deformed?"
    noisy_or:
      leak: {value: 0, range: [0, 0], source: s, rationale: "only a dislocation deforms it"}
      weights:
        dislocation: {value: 0.9, range: [0.8, 0.95], source: s, rationale: r}
"""


@pytest.fixture
def impossible_model(tmp_path: Path) -> kneebayes.Model:
    path = tmp_path / "impossible.yaml"
    path.write_text(IMPOSSIBLE, encoding="utf-8")
    return kneebayes.load_model(path)


def test_observing_a_zero_probability_state_raises_impossible_evidence(impossible_model: kneebayes.Model) -> None:
    with pytest.raises(ImpossibleEvidenceError) as info:
        impossible_model.diagnose({"dislocation": "yes"})
    assert info.value.evidence == {"dislocation": "yes"}
    assert "{dislocation=yes} has probability zero" in str(info.value)


def test_evidence_impossible_through_the_network_raises_too(impossible_model: kneebayes.Model) -> None:
    with pytest.raises(ImpossibleEvidenceError, match=r"\{deformity=yes\} has probability zero"):
        impossible_model.diagnose({"deformity": "yes"})


def test_possible_evidence_on_the_same_model_gives_a_posterior(impossible_model: kneebayes.Model) -> None:
    dx = impossible_model.diagnose({"dislocation": "no"})
    assert dx.posterior["dislocation"] == 0.0
    assert dx.posterior["strain"] == pytest.approx(0.3)


def test_quote_describes_an_integer_too_long_to_print() -> None:
    # repr() itself raises ValueError past 4,300 digits
    assert errors.quote(10**5000) == "<an integer of about 5,001 digits>"


def test_a_missing_extra_names_the_package_the_feature_and_the_pip_command() -> None:
    exc = MissingExtraError("matplotlib", "research", "plotting")
    assert str(exc) == ("plotting needs matplotlib, which is not installed; install it with: "
                        "pip install 'kneebayes[research]'")
    assert (exc.package, exc.extra, exc.name) == ("matplotlib", "research", "matplotlib")


def test_an_intractable_error_just_past_the_budget_shows_the_bytes_that_differ() -> None:
    err = IntractableError("net", ["a", "b"], 2**30 + 4096, 2**30)
    assert "of 1,073,745,920 bytes, past the memory budget of 1,073,741,824 bytes" in str(err)


def test_an_intractable_error_well_past_the_budget_shows_binary_units() -> None:
    err = IntractableError("net", ["a", "b"], 3 * 2**30, 2**30)
    assert "of 3.0 GiB, past the memory budget of 1.0 GiB" in str(err)


def test_an_intractable_error_past_any_float_says_so() -> None:
    err = IntractableError("net", ["a"], (1 << 1100) * 8, 2**30)     # 2^1103 bytes: an int no float holds
    assert err.size == math.inf and "of more than 1e308 bytes, past the memory budget of 1.0 GiB" in str(err)


def test_listing_shows_at_most_its_count_each_cut_short_and_says_how_many_in_all() -> None:
    text = listing([f"{'w' * 1000}{k}" for k in range(50)], most=5)
    assert text.endswith(", ... (50 in all)") and text.count(", ") == 5
    assert len(text) < 5 * (QUOTE_LIMIT + 5) + 20
