"""Loading and validating model files (kneebayes.modelfile.load / yamlsafe), with each YAML reader.

The heart of it is one table over tests/models/broken/: each file there has
exactly one defect, and the table says where the loader must find it (node,
field, line) and what the message must say.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

import kneebayes
from kneebayes import ModelFileError, Problem, check_model_file, load_model
from kneebayes.modelfile import yamlsafe
from kneebayes.modelfile.load import default_model_path, load_spec
from kneebayes.modelfile.yamlsafe import parse_yaml

REPO = Path(__file__).resolve().parents[1]
BROKEN = Path(__file__).resolve().parent / "models" / "broken"


@pytest.fixture(autouse=True, params=["libyaml", "pure"])
def yaml_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with libyaml's parser (where PyYAML has it) and with the pure-Python one."""
    if request.param == "libyaml" and not yamlsafe.HAS_LIBYAML:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(yamlsafe, "HAS_LIBYAML", request.param == "libyaml")
    return str(request.param)


class Defect(NamedTuple):
    file: str  # stem of the file in tests/models/broken/
    node: str | None
    field: str | None
    message: str  # a substring of the problem's message
    line: int | None


# fmt: off
DEFECTS = [
    # graph
    Defect("unknown_parent_noisy_or", "pain", "noisy_or.weights.strian", "unknown parent 'strian'; did you mean 'strain'?", 19),
    Defect("unknown_parent_table", "pain", "table.parents", "unknown parent 'sprain'; did you mean 'strain'?", 17),
    Defect("cycle", "swelling", "noisy_or.weights.pain", "cycle: pain -> swelling -> pain", 28),
    Defect("duplicate_id", "pain", "id", "duplicate id 'pain'", 12),
    Defect("invalid_node_id", None, "nodes[0].id", "id must be printable text without spaces", 7),
    # numbers
    Defect("probability_above_one", "strain", "prior.value", "probability 1.2 is outside [0, 1]", 11),
    Defect("negative_probability", "pain", "noisy_or.leak.value", "probability -0.1 is outside [0, 1]", 17),
    Defect("unknown_verbal_term", "strain", "prior.value",
           "unknown verbal term 'likely'; the scale has: probable (0.85), uncertain (0.25)", 12),
    Defect("scale_term_not_probability", None, "scale.probable", "scale term 'probable' must be a number in [0, 1], got 85", 6),
    # ranges
    Defect("range_excludes_value", "strain", "prior.range", "range [0.4, 0.6] does not contain the value 0.3", 11),
    Defect("range_outside_open_unit", "strain", "prior.range", "range [0, 0.5] must lie inside (0, 1)", 11),
    Defect("range_low_above_high", "strain", "prior.range", "range [0.5, 0.1] has low above high", 11),
    Defect("certain_range_not_single", "pain", "noisy_or.weights.strain.range",
           "a value of 1 is certain, so its range must be [1, 1], got [0.9, 1]", 20),
    # provenance and required keys
    Defect("missing_source", "strain", "prior.source", "missing source", 11),
    Defect("missing_rationale", "strain", "prior.rationale", "missing rationale", 11),
    Defect("missing_range", "strain", "prior.range", "missing range", 11),
    Defect("missing_question", "strain", "question", "missing question", 7),
    Defect("missing_title", None, "title", "missing title", 2),
    Defect("missing_parameters", "strain", "prior/noisy_or/table", "missing parameters: give one of prior, noisy_or, table", 7),
    Defect("two_parameter_blocks", "pain", "prior/noisy_or", "give only one of prior, noisy_or, table; got prior, noisy_or", 17),
    # unknown keys and types
    Defect("unknown_node_key", "strain", "descripton", "unknown key 'descripton'; did you mean 'description'?", 11),
    Defect("unknown_parameter_key", "strain", "prior.confidence", "unknown key 'confidence' (valid keys: data, range, rationale, source, value)", 11),
    Defect("askable_not_boolean", "strain", "askable", "askable must be true or false, got 'yes'", 11),
    Defect("wrong_format", None, "format", "format must be 'kneebayes-model/1', got 'kneebayes-model/2'", 2),
    # states
    Defect("duplicate_state", "severity", "states", "duplicate state(s) mild", 11),
    Defect("prior_state_count", "weekly_distance", "prior",
           "wrong number of states: expected 3 (short, medium, long), got 2 (short, long)", 13),
    Defect("noisy_or_non_binary_node", "severity", "noisy_or", "noisy_or needs a yes/no node, but its states are mild, moderate, severe", 17),
    Defect("noisy_or_parent_not_binary", "strain", "noisy_or.weights.weekly_distance",
           "noisy_or parent 'weekly_distance' must be a yes/no node", 23),
    Defect("normal_state_not_a_state", "severity", "normal_state",
           "normal_state must be one of this node's states (none, mild, severe), got 'absent'", 12),
    # tables
    Defect("table_column_sum", "severity", "table.columns[0].probabilities", "column {strain=yes} sums to 0.9, not 1 (tolerance 1e-09)", 22),
    Defect("table_column_state_count", "severity", "table.columns[1].probabilities",
           "expected 3 (mild, moderate, severe), got 2 (mild, moderate)", 27),
    Defect("table_missing_column", "severity", "table.columns", "missing column for {strain=no}", 19),
    Defect("table_duplicate_column", "severity", "table.columns[2]", "duplicate column for {strain=yes}", 30),
    Defect("table_given_invalid_state", "pain", "table.columns[1].given.strain", "'maybe' is not a state of parent 'strain' (valid: yes, no)", 23),
    Defect("table_given_missing_parent", "pain", "table.columns[3].given", "given must name every parent (strain, cyst) once", 32),
    # claims
    Defect("claim_unknown_node", None, "claims.pain_points_to_strain.cause", "unknown node 'strian'; did you mean 'strain'?", 25),
    Defect("claim_unknown_check", None, "claims.no_pain_speaks_against_strain.check", "unknown check 'lowers'; valid checks: raises,", 24),
    Defect("claim_missing_field", None, "claims.pain_points_to_strain.versus", "check raises needs versus", 21),
    Defect("claim_invalid_state", None, "claims.pain_points_to_strain.given.pain", "'sometimes' is not a state of 'pain'", 26),
    Defect("duplicate_claim_id", None, "claims.pain_points_to_strain.id", "duplicate claim id 'pain_points_to_strain'", 28),
    Defect("claim_screened_not_boolean", None, "claims.pain_points_to_strain_after_the_screen.screened", "screened must be true or false, got 'yes'", 27),
    Defect("claim_lift_not_above_one", None, "claims.pain_lifts_strain.by", "by must be a number above 1 (how many times the prior), got 1", 27),
    # costs and interview settings
    Defect("cost_level_not_positive", None, "costs.imaging", "cost level 'imaging' must be a positive number, got 0", 8),
    Defect("unknown_cost_level", "pain", "cost", "unknown cost level 'self_chek'; did you mean 'self_check'?", 19),
    Defect("node_cost_not_positive", "pain", "cost", "cost must be a level from costs or a positive number, got -2", 19),
    Defect("interview_confidence_out_of_range", None, "interview.confidence",
           "interview.confidence must be a probability in (0, 1], got 1.5", 7),
    Defect("interview_negative_setting", None, "interview.cost_weight", "interview.cost_weight must be a finite number >= 0, got -0.1", 8),
    # red flags
    Defect("red_flag_unknown_node", None, "red_flags.pain_flag.node", "unknown node 'pian'; did you mean 'pain'?", 22),
    Defect("red_flag_invalid_state", None, "red_flags.pain_flag.state", "'often' is not a state of 'pain' (valid: yes, no)", 23),
    Defect("red_flag_not_askable", None, "red_flags.strain_flag.node", "red flag on 'strain', which is not askable", 22),
    Defect("duplicate_red_flag_id", None, "red_flags.pain_flag.id", "duplicate red flag id 'pain_flag'", 26),
    # escalations
    Defect("escalation_unknown_cause", None, "escalations.likely_strain.cause", "unknown cause 'strian'; did you mean 'strain'?", 22),
    Defect("escalation_not_a_cause", None, "escalations.likely_strain.cause", "'pain' is a finding, not a cause (valid: strain)", 22),
    Defect("escalation_cause_not_binary", None, "escalations.likely_severe.cause",
           "cause 'severity' must be a yes/no node, but its states are mild, moderate, severe", 18),
    Defect("escalation_threshold_out_of_range", None, "escalations.likely_strain.threshold",
           "threshold must be a posterior probability in (0, 1], got 1.5", 23),
    Defect("duplicate_escalation_id", None, "escalations.likely_strain.id", "duplicate escalation id 'likely_strain'", 27),
    # care
    Defect("care_invalid_when", None, "care.rest.when", "when must be one of always, self_care, see_doctor, got 'sometimes'", 26),
    Defect("care_cause_listed_twice", None, "care.rest.causes", "cause 'strain' listed twice", 25),
    Defect("duplicate_care_id", None, "care.rest.id", "duplicate care item id 'rest'", 26),
    # YAML itself
    Defect("duplicate_yaml_key", "strain", "prior.value", "duplicate key 'value'", 14),
    Defect("yaml_syntax_error", None, None, "not valid YAML: expected ',' or ']'", 14),
    Defect("python_object_tag", "strain", "label", "tag '!!python/object/apply:os.system' refused", 8),
    # hostile input: refused before it costs time or memory
    Defect("alias_bomb", None, None, "aliases (*name) expand the document past 100,000 extra values", 11),
    Defect("deep_nesting", None, None, "nested more than 64 levels deep", 6),
    Defect("lone_surrogate", None, None, "the text contains '\\ud800', half of a surrogate pair", 5),
    Defect("sequence_as_key", None, None, "a key must be a plain name or number, not a list or mapping", 6),
    Defect("huge_integer", "strain", "prior.value", "expected a probability (a number in [0, 1] or a scale word), got 1000", 12),
    Defect("tagged_value_unreadable", None, None, "this value cannot be read as written (invalid literal for int()", 12),
    Defect("same_key_as_number_and_text", None, "scale.1", "duplicate key '1'", 8),
    # what the model is for
    Defect("kind_case_typo", "strain", "kind", "kind 'Cause' differs from 'cause' only in its writing", 9),
    Defect("no_cause", None, "nodes", "no node has kind 'cause', so the model has nothing to diagnose", 6),
]
# fmt: on


def broken(stem: str) -> Path:
    return BROKEN / f"{stem}.yaml"


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.file for d in DEFECTS])
def test_check_model_file_reports_the_one_defect_where_it_is(defect: Defect) -> None:
    problems = check_model_file(broken(defect.file))
    assert len(problems) == 1, "\n".join(map(str, problems))
    (p,) = problems
    assert (p.node, p.field, p.line) == (defect.node, defect.field, defect.line), str(p)
    assert defect.message in p.message


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.file for d in DEFECTS])
def test_problem_text_names_file_line_node_and_field(defect: Defect) -> None:
    (p,) = check_model_file(broken(defect.file))
    text = str(p)
    assert f"{defect.file}.yaml" in text
    if defect.line is not None:
        assert f"{defect.file}.yaml:{defect.line}:" in text
    if defect.node is not None:
        assert f"node '{defect.node}'" in text
    if defect.field is not None:
        assert f"field '{defect.field}'" in text
    assert text.endswith(p.message)


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.file for d in DEFECTS])
def test_load_model_raises_model_file_error_carrying_the_problem(defect: Defect) -> None:
    with pytest.raises(ModelFileError) as info:
        load_model(broken(defect.file))
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, kneebayes.KneeBayesError)
    assert err.problems == tuple(check_model_file(broken(defect.file)))
    assert defect.message in str(err)


def test_every_broken_file_is_in_the_table_and_starts_with_its_defect() -> None:
    on_disk = {p.stem for p in BROKEN.glob("*.yaml")}
    assert on_disk == {d.file for d in DEFECTS}
    for stem in on_disk:
        assert broken(stem).read_text(encoding="utf-8").startswith("# Defect: "), stem


def test_every_broken_file_has_a_distinct_defect() -> None:
    assert len(DEFECTS) >= 22
    for a, b in itertools.combinations(DEFECTS, 2):
        assert a.message != b.message, (a.file, b.file)
        assert a.message not in b.message and b.message not in a.message, (a.file, b.file)
    # and no two files fail at the same place the same way
    assert len({(d.field, d.message) for d in DEFECTS}) == len(DEFECTS)


# -- several defects at once --------------------------------------------------------

SEVERAL = """\
format: kneebayes-model/1
name: several
version: "0.1"
title: several defects
nodes:
  - id: strain
    label: Strain
    kind: cause
    question: "Strained?"
    prior: {value: 1.3, range: [0.1, 0.5], source: s, rationale: r}
  - id: pain
    label: Pain
    kind: finding
    question: "Pain?"
    noisy_or:
      leak: {value: 0.1, range: [0.05, 0.2], rationale: r}
      weights:
        strian: {value: 0.8, range: [0.6, 0.95], source: s, rationale: r}
  - id: swelling
    label: Swelling
    kind: finding
    qustion: "Swollen?"
    prior: {value: 0.2, range: [0.3, 0.5], source: s, rationale: r}
claims:
  - id: c
    statement: x
    source: s
    check: ranks_first
    cause: strain
    given: {swollen: yes}
"""


def test_check_model_file_lists_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "several.yaml"
    path.write_text(SEVERAL, encoding="utf-8")
    found = {(p.node, p.field, p.line) for p in check_model_file(path)}
    assert found == {
        ("strain", "prior.value", 10),
        ("pain", "noisy_or.leak.source", 16),
        ("pain", "noisy_or.weights.strian", 18),
        ("swelling", "qustion", 22),
        ("swelling", "question", 19),
        ("swelling", "prior.range", 23),
        (None, "claims.c.given", 30),
    }


def test_model_file_error_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "several.yaml"
    path.write_text(SEVERAL, encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    problems = info.value.problems
    assert len(problems) == 7
    text = str(info.value)
    assert text.startswith(f"7 problems in '{path}':")
    for p in problems:
        assert str(p) in text


def test_check_model_file_reports_a_missing_file_without_raising(tmp_path: Path) -> None:
    (p,) = check_model_file(tmp_path / "nowhere.yaml")
    assert p.message == "the model file does not exist" and "nowhere.yaml" in str(p)


def test_a_broken_node_is_not_reported_again_as_an_unknown_parent(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(model_text("""\
        - id: size
          label: Size
          kind: finding
          question: "Size?"
          states: [small, small]
          prior: {small: {value: 1.0, range: [1, 1], source: s, rationale: r}}
        - id: pain
          label: Pain
          kind: finding
          question: "Pain?"
          table:
            parents: [size]
            source: s
            rationale: r
            columns:
              - given: {size: small}
                probabilities: {"yes": 0.5, "no": 0.5}
        """), encoding="utf-8")
    assert [(p.node, p.field) for p in check_model_file(path)] == [("size", "states")]


# -- valid files ----------------------------------------------------------------------

SCALE = """\
scale:
  certain: 1.0
  probable: 0.85
  expected: 0.75
  fifty-fifty: 0.5
  uncertain: 0.25
  improbable: 0.15
  impossible: 0.0
"""


def model_text(nodes: str, *, scale: str = SCALE, extra: str = "") -> str:
    """A whole model file around a YAML list of nodes (indented or not)."""
    return (
        "format: kneebayes-model/1\nname: t\nversion: '0.1'\ntitle: t\n"
        + scale
        + "nodes:\n"
        + textwrap.indent(textwrap.dedent(nodes), "  ")
        + extra
    )


def write(tmp_path: Path, nodes: str, **kw: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(model_text(nodes, **kw), encoding="utf-8")
    return path


STRAIN = """\
- id: strain
  label: Strain
  kind: cause
  question: "Strained?"
  prior: {value: 0.3, range: [0.1, 0.5], source: s, rationale: r}
"""


def test_the_packaged_model_checks_clean() -> None:
    assert check_model_file(default_model_path()) == []


@pytest.mark.parametrize("path", sorted((REPO / "models").glob("*.yaml")), ids=lambda p: p.name)
def test_every_model_in_models_dir_checks_clean(path: Path) -> None:
    assert check_model_file(path) == []


def test_models_dir_is_not_empty() -> None:
    assert (REPO / "models" / "knee.yaml").is_file()


def test_unquoted_yes_and_no_stay_strings() -> None:
    data = parse_yaml("states: [yes, no, on, off, Yes, NO]\ngiven: {a: yes}\nflag: true\nother: false\n")
    assert data["states"] == ["yes", "no", "on", "off", "Yes", "NO"]
    assert data["given"] == {"a": "yes"}
    assert data["flag"] is True and data["other"] is False


def test_unquoted_yes_no_work_as_states_keys_and_given(tmp_path: Path) -> None:
    path = write(tmp_path, STRAIN + """\
- id: pain
  label: Pain
  kind: finding
  question: "Pain?"
  states: [yes, no]
  table:
    parents: [strain]
    source: s
    rationale: r
    columns:
      - given: {strain: yes}
        probabilities: {yes: 0.9, no: 0.1}
      - given: {strain: no}
        probabilities: {yes: 0.2, no: 0.8}
""")
    pain = load_spec(path).node("pain")
    assert pain.states == ("yes", "no")
    assert [c.given for c in pain.parameters.columns] == [(("strain", "yes"),), (("strain", "no"),)]
    assert [p.value for p in pain.parameters.columns[0].probabilities] == [0.9, 0.1]


def test_verbal_term_resolves_to_its_number_and_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, """\
- id: strain
  label: Strain
  kind: cause
  question: "Strained?"
  prior: {value: expected, range: [0.6, 0.9], source: s, rationale: r}
""")
    yes, no = load_spec(path).node("strain").parameters.probabilities
    assert (yes.value, yes.term) == (0.75, "expected")
    assert no.value == pytest.approx(0.25) and no.term is None


def test_verbal_scale_is_read_from_the_file_not_from_code(tmp_path: Path) -> None:
    path = write(tmp_path, STRAIN.replace("0.3", "expected"), scale="scale: {expected: 0.4}\n")
    (yes, _no) = load_spec(path).node("strain").parameters.probabilities
    assert (yes.value, yes.term) == (0.4, "expected")


def test_certain_value_loads_with_range_one_one(tmp_path: Path) -> None:
    path = write(tmp_path, STRAIN + """\
- id: pain
  label: Pain
  kind: finding
  question: "Pain?"
  noisy_or:
    leak: {value: 0.1, range: [0.05, 0.2], source: s, rationale: r}
    weights:
      strain: {value: certain, range: [1, 1], source: s, rationale: r}
""")
    (_, weight), = load_spec(path).node("pain").parameters.weights
    assert (weight.value, weight.range, weight.term) == (1.0, (1.0, 1.0), "certain")


@pytest.mark.parametrize("rng", ["[0.9, 1.0]", "[1, 0.99]", "[0.5, 0.9]", "[0, 1]"])
def test_certain_value_with_any_other_range_is_refused(tmp_path: Path, rng: str) -> None:
    path = write(tmp_path, STRAIN.replace("value: 0.3, range: [0.1, 0.5]", f"value: certain, range: {rng}"))
    (p,) = check_model_file(path)
    assert (p.node, p.field) == ("strain", "prior.range")
    assert "range must be [1, 1]" in p.message or "low above high" in p.message


def test_impossible_value_loads_with_range_zero_zero(tmp_path: Path) -> None:
    path = write(tmp_path, STRAIN.replace("value: 0.3, range: [0.1, 0.5]", "value: impossible, range: [0, 0]"))
    yes, no = load_spec(path).node("strain").parameters.probabilities
    assert (yes.value, yes.range, no.value) == (0.0, (0.0, 0.0), 1.0)


MULTI = STRAIN + """\
- id: distance
  label: Weekly distance
  kind: risk_factor
  question: "How far a week?"
  states: [short, medium, long]
  prior:
    short: {value: 0.5, range: [0.3, 0.7], source: s, rationale: r}
    medium: {value: 0.3, range: [0.1, 0.5], source: s, rationale: r}
    long: {value: 0.2, range: [0.1, 0.4], source: s, rationale: r}
- id: severity
  label: Severity
  kind: finding
  question: "How bad?"
  states: [mild, moderate, severe]
  table:
    parents: [strain, distance]
    source: s
    rationale: r
    columns:
"""
for _combo in itertools.product(["yes", "no"], ["short", "medium", "long"]):
    MULTI += f"      - given: {{strain: {_combo[0]}, distance: {_combo[1]}}}\n"
    MULTI += "        probabilities: {mild: 0.5, moderate: 0.3, severe: 0.2}\n"


def test_multi_state_prior_and_table_load(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MULTI))
    distance = spec.node("distance")
    assert distance.states == ("short", "medium", "long")
    assert [p.value for p in distance.parameters.probabilities] == [0.5, 0.3, 0.2]
    severity = spec.node("severity")
    assert severity.parents == ("strain", "distance")
    assert len(severity.parameters.columns) == 6
    assert severity.parameters.columns[-1].given == (("strain", "no"), ("distance", "long"))


def test_multi_state_model_loads_as_a_model(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, MULTI))
    assert [n.states for n in model.nodes if n.id == "severity"] == [("mild", "moderate", "severe")]


def test_table_columns_may_be_written_in_any_order(tmp_path: Path) -> None:
    reordered = MULTI.replace("given: {strain: yes, distance: short}", "given: {distance: short, strain: yes}")
    spec = load_spec(write(tmp_path, reordered))
    assert spec.node("severity").parameters.columns[0].given == (("strain", "yes"), ("distance", "short"))


@pytest.mark.parametrize("mild", ["0.5000000001", "0.4999999999"])
def test_column_sum_within_1e_9_loads(tmp_path: Path, mild: str) -> None:
    assert check_model_file(write(tmp_path, MULTI.replace("mild: 0.5,", f"mild: {mild},", 1))) == []


def test_column_sum_beyond_1e_9_is_refused_showing_the_sum(tmp_path: Path) -> None:
    (p,) = check_model_file(write(tmp_path, MULTI.replace("mild: 0.5,", "mild: 0.50000001,", 1)))
    assert p.field == "table.columns[0].probabilities"
    assert "column {strain=yes, distance=short} sums to 1.00000001" in p.message


def test_multi_state_prior_must_sum_to_one(tmp_path: Path) -> None:
    (p,) = check_model_file(write(tmp_path, MULTI.replace("long: {value: 0.2, range: [0.1, 0.4]", "long: {value: 0.3, range: [0.1, 0.4]")))
    assert (p.node, p.field) == ("distance", "prior")
    assert "prior sums to 1.1" in p.message


def test_state_with_a_wrong_name_is_named_as_unknown(tmp_path: Path) -> None:
    (p,) = check_model_file(write(tmp_path, MULTI.replace("medium: {value", "middle: {value")))
    assert (p.node, p.field) == ("distance", "prior")
    assert "unknown state(s) 'middle'; this node's states are short, medium, long" in p.message


def test_misspelt_value_key_in_a_yes_no_prior_is_an_unknown_key(tmp_path: Path) -> None:
    problems = check_model_file(write(tmp_path, STRAIN.replace("value:", "valeu:")))
    assert {(p.field, p.message.split(";")[0]) for p in problems} == {
        ("prior.valeu", "unknown key 'valeu'"),
        ("prior.value", "missing value"),
    }


# -- normal states ----------------------------------------------------------------------

GRADED = """\
- id: damage
  label: Damage
  kind: cause
  question: "How damaged?"
  states: [intact, torn, ruptured]
  normal_state: intact
  prior:
    intact: {value: 0.8, range: [0.6, 0.9], source: s, rationale: r}
    torn: {value: 0.15, range: [0.05, 0.3], source: s, rationale: r}
    ruptured: {value: 0.05, range: [0.01, 0.1], source: s, rationale: r}
"""


def test_a_causes_normal_state_is_read(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, STRAIN + GRADED))
    assert spec.node("damage").normal_state == "intact"
    assert spec.node("strain").normal_state is None      # not written: the yes/no default applies later


def test_normal_state_on_a_node_that_is_not_a_cause_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, STRAIN + MULTI[len(STRAIN):].replace("  states: [short, medium, long]\n",
                                                                "  states: [short, medium, long]\n  normal_state: short\n"))
    (p,) = check_model_file(path)
    assert (p.node, p.field, p.line) == ("distance", "normal_state", 24)
    assert p.message == "normal_state is only for nodes of kind cause (the targets); this node's kind is 'risk_factor'"


def test_normal_state_must_be_a_state_name_not_a_boolean(tmp_path: Path) -> None:
    (p,) = check_model_file(write(tmp_path, STRAIN.replace("  prior:", "  normal_state: false\n  prior:")))
    assert (p.node, p.field) == ("strain", "normal_state")
    assert p.message == "normal_state must be one of this node's states (yes, no), got False"


# -- safe parsing ---------------------------------------------------------------------

# Each payload does create the marker under yaml.unsafe_load (checked by hand,
# not in the suite: the suite never runs an unsafe loader).
@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.check_call [['touch', '{marker}']]",
    "!!python/object/apply:subprocess.Popen [['touch', '{marker}']]",
])
def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "executed"
    label = tag.format(marker=marker)
    path = write(tmp_path, STRAIN.replace("label: Strain", f"label: {label}"))
    problems = check_model_file(path)
    with pytest.raises(ModelFileError, match=rf"node 'strain': field 'label': tag '{re.escape(label.split(' ')[0])}' refused"):
        load_model(path)
    assert not marker.exists()
    (p,) = problems
    assert (p.node, p.field) == ("strain", "label")
    assert "refused" in p.message and label.split(" ")[0] in p.message


def test_python_name_tag_is_refused(tmp_path: Path) -> None:
    (p,) = check_model_file(write(tmp_path, STRAIN.replace("label: Strain", "label: !!python/name:os.system")))
    assert "tag '!!python/name:os.system' refused" in p.message


def test_duplicate_key_at_top_level_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(model_text(STRAIN) + "name: again\n", encoding="utf-8")
    (p,) = check_model_file(path)
    assert (p.node, p.field) == (None, "name")
    assert "duplicate key 'name'" in p.message


def test_problem_without_location_prints_only_file_and_message() -> None:
    assert str(Problem("m.yaml", "bad")) == "m.yaml: bad"
    assert str(Problem("m.yaml", "bad", node="n", field="f", line=3)) == "m.yaml:3: node 'n': field 'f': bad"


@pytest.mark.parametrize("path", [None, 5])
def test_a_path_that_is_no_path_is_a_type_error_naming_what_it_must_be(path: object) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match=r"path must be a model file's path \(str or Path\), not "):
        kneebayes.check_model_file(path)   # type: ignore[arg-type]
    if path is not None:   # load_model(None) is the packaged model
        with pytest.raises(kneebayes.WrongTypeError, match=r"path must be a model file's path \(str or Path\), not int"):
            kneebayes.load_model(path)   # type: ignore[arg-type]


def test_a_number_yaml_reads_as_text_is_named_with_how_to_write_it(tmp_path: Path) -> None:
    text = default_model_path().read_text(encoding="utf-8")
    written = re.search(r"value: (0\.\d+)\n", text)
    assert written is not None
    path = tmp_path / "knee.yaml"
    path.write_text(text.replace(written.group(0), "value: 1e-3\n", 1), encoding="utf-8")
    (problem,) = check_model_file(path)
    assert problem.message.startswith("unknown verbal term '1e-3'; the scale has: certain (1)")
    assert problem.message.endswith("; as a number, write 0.001 (YAML reads 1e-3 as text)")


@pytest.mark.parametrize("old, new, written", [
    ("    ratio: 4\n", "    ratio: 4e0\n", "write 4.0 for the number"),
    ("      range: [0.25, 0.65]", "      range: [25e-2, 0.65]", "write 0.25 for the number"),
])
def test_any_number_field_holding_text_yaml_1_1_reads_so_says_how_to_write_it(tmp_path: Path, old: str, new: str,
                                                                              written: str) -> None:
    text = default_model_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "knee.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    (problem,) = check_model_file(path)
    assert problem.message.endswith(f" as text: {written})")


def test_an_empty_path_says_it_is_empty_not_a_folder() -> None:
    (problem,) = check_model_file("")
    assert str(problem) == "(no path): the model file's path is empty; give a file's path, or none for the packaged model"
