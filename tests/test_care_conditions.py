"""A care item's ``applies_when`` in a model file: what loads, and every wrong form refused where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from kneebayes import check_model_file
from kneebayes.errors import ModelFileError, Problem
from kneebayes.modelfile.load import load_spec

HEAD = """\
format: kneebayes-model/1
name: tiny
version: "0.1"
title: "Care conditions"
nodes:
  - id: strain
    label: Strain
    kind: cause
    question: "Did you strain the hamstring?"
    prior: {value: 0.3, range: [0.1, 0.5], source: "s", rationale: "r"}
  - id: unstable
    label: Unstable
    kind: finding
    question: "Does the knee give way?"
    noisy_or:
      leak: {value: 0.1, range: [0.05, 0.2], source: "s", rationale: "r"}
      weights:
        strain: {value: 0.3, range: [0.1, 0.5], source: "s", rationale: "r"}
  - id: swelling
    label: Swelling
    kind: finding
    question: "How swollen is it?"
    states: [none, some, lots]
    table:
      parents: [strain]
      columns:
        - given: {strain: "yes"}
          probabilities: {none: 0.2, some: 0.5, lots: 0.3}
        - given: {strain: "no"}
          probabilities: {none: 0.8, some: 0.15, lots: 0.05}
      source: "s"
      rationale: "r"
care:
  - id: brace
    title: "Brace"
    advice: "Wear a brace."
    source: "s"
    causes: [strain]
"""
CONDITION_LINE = HEAD.count("\n") + 1   # the line the condition is written on


def write(tmp_path: Path, condition: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(HEAD + f"    applies_when: {condition}\n", encoding="utf-8")
    return path


def only_problem(tmp_path: Path, condition: str) -> Problem:
    (problem,) = check_model_file(write(tmp_path, condition))
    return problem


def test_one_state_loads_as_a_condition_of_one_node(tmp_path: Path) -> None:
    (item,) = load_spec(write(tmp_path, '{unstable: "yes"}')).care
    assert item.applies_when == (("unstable", ("yes",)),)


def test_a_list_of_states_and_several_nodes_load_in_file_order(tmp_path: Path) -> None:
    (item,) = load_spec(write(tmp_path, '{swelling: [some, lots], unstable: "yes"}')).care
    assert item.applies_when == (("swelling", ("some", "lots")), ("unstable", ("yes",)))


def test_an_item_without_a_condition_has_none(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(HEAD, encoding="utf-8")
    assert load_spec(path).care[0].applies_when == ()


@pytest.mark.parametrize(("condition", "field", "message"), [
    pytest.param('{unstabel: "yes"}', "care.brace.applies_when", "unknown node 'unstabel'; did you mean 'unstable'?",
                 id="unknown_node_with_a_near_name"),
    pytest.param("{unstable: maybe}", "care.brace.applies_when.unstable",
                 "'maybe' is not a state of 'unstable' (valid: yes, no)", id="unknown_state"),
    pytest.param("{swelling: [some, huge]}", "care.brace.applies_when.swelling",
                 "'huge' is not a state of 'swelling' (valid: none, some, lots)", id="unknown_state_in_a_list"),
    pytest.param("{unstable: true}", "care.brace.applies_when.unstable",
                 "True is not a state of 'unstable' (valid: yes, no)", id="boolean"),
    pytest.param("[unstable]", "care.brace.applies_when",
                 "applies_when must map node ids to the states under which the advice applies, "
                 "e.g. {instability: \"yes\"}, got ['unstable']", id="not_a_mapping"),
    pytest.param("{}", "care.brace.applies_when",
                 "applies_when names no node (leave it out for advice that applies whatever the answers)", id="empty"),
])
def test_a_bad_condition_is_one_located_problem_saying_what_is_valid(tmp_path: Path, condition: str, field: str,
                                                                      message: str) -> None:
    p = only_problem(tmp_path, condition)
    assert (p.field, p.line, p.message) == (field, CONDITION_LINE, message)


def test_a_node_with_no_state_listed_is_refused(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "{swelling: []}")
    assert (p.field, p.message) == ("care.brace.applies_when.swelling",
                                    "no state listed for 'swelling' (valid: none, some, lots)")


def test_a_state_listed_twice_is_refused(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "{swelling: [some, some]}")
    assert (p.field, p.message) == ("care.brace.applies_when.swelling", "state 'some' listed twice")


def test_a_condition_on_a_cause_points_to_causes(tmp_path: Path) -> None:
    p = only_problem(tmp_path, '{strain: "yes"}')
    assert p.field == "care.brace.applies_when"
    assert p.message == ("'strain' is a cause, which no answer settles: tie the advice to it with causes, "
                         "which rank it by the cause's posterior")


def test_every_wrong_node_of_one_condition_is_reported_at_once(tmp_path: Path) -> None:
    problems = check_model_file(write(tmp_path, '{unstabel: "yes", swelling: huge}'))
    assert [p.field for p in problems] == ["care.brace.applies_when", "care.brace.applies_when.swelling"]


def test_load_raises_with_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=rf"model.yaml:{CONDITION_LINE}.*'maybe' is not a state of 'unstable'"):
        load_spec(write(tmp_path, "{unstable: maybe}"))


def test_a_misspelt_key_suggests_applies_when(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(HEAD + '    applies_if: {unstable: "yes"}\n', encoding="utf-8")
    (p,) = check_model_file(path)
    assert p.field == "care.brace.applies_if" and "did you mean 'applies_when'?" in p.message
