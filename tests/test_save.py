"""Saving a model: the file loads back to the same model, sources and rationales included."""

from __future__ import annotations

import dataclasses
import os
import textwrap
import warnings
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import kneebayes
from kneebayes import ModelFileError, ParameterError
from kneebayes.modelfile.schema import ModelSpec, NoisyOr, Parameter, RedFlag
from kneebayes.modelfile.format import complement
from kneebayes.modelfile.load import parse_spec
from kneebayes.modelfile.save import dump, save
from kneebayes.modelfile.yamlsafe import parse_yaml

KNEE_EVIDENCE = [
    {},
    {"limping": "yes"},
    {"locking_or_catching": "yes", "swelling_behind_knee": "yes", "poor_warmup": "no"},
    {"tingling_or_numbness": "yes", "limping": "no"},
]


def _param(v: object, lo: float, hi: float) -> str:
    return f"{{value: {v}, range: [{lo}, {hi}], source: S, rationale: R}}"


# Every part of the format the knee model does not use: multi-state nodes,
# tables (with ranges, and bare cells under the table's provenance), terms
# in tables, costs as numbers, askable false, a numeric-looking state,
# a normal state written out, optional claim fields, escalations, care ``when`` and
# a care ``applies_when`` with a list of states and two nodes.
MULTI = textwrap.dedent(f"""\
    format: kneebayes-model/1
    name: multi
    version: "0.10"
    title: "A multi-state test model: every corner"
    description: |
      Two lines,
      kept as written.
    source_document: none.txt
    scale: {{likely: 0.7, unlikely: 0.2, certain: 1}}
    costs: {{question: 1, exam: 5}}
    interview: {{confidence: 0.95, cost_weight: 0, min_gain: 0.001}}
    nodes:
      - id: activity
        label: Activity
        kind: risk_factor
        question: How much do you run?
        description: "Weekly distance."
        states: [low, mid, "10"]
        prior:
          low: {_param(0.5, 0.2, 0.7)}
          mid: {_param(0.3, 0.1, 0.6)}
          "10": {_param(0.2, 0.05, 0.4)}
      - id: overuse
        label: Overuse
        kind: risk_factor
        question: Overused?
        cost: 2.5
        prior: {_param("unlikely", 0.1, 0.3)}
      - id: strain
        label: Strain
        kind: cause
        question: Strained?
        normal_state: "no"
        table:
          parents: [activity]
          columns:
            - given: {{activity: low}}
              probabilities: {{"yes": {_param(0.1, 0.05, 0.3)}, "no": {_param(0.9, 0.7, 0.95)}}}
            - given: {{activity: mid}}
              probabilities: {{"yes": {_param(0.2, 0.1, 0.3)}, "no": {_param(0.8, 0.7, 0.9)}}}
            - given: {{activity: "10"}}
              probabilities: {{"yes": {_param("likely", 0.5, 0.9)}, "no": {_param(0.3, 0.1, 0.5)}}}
      - id: tear
        label: Tear
        kind: cause
        question: Torn?
        noisy_or:
          leak: {_param(0.05, 0.01, 0.1)}
          weights:
            overuse: {_param("certain", 1.0, 1.0)}
      - id: pain
        label: Pain
        kind: finding
        question: How bad is the pain?
        cost: exam
        states: [none, mild, severe]
        table:
          parents: [strain, tear]
          source: Table heading
          rationale: Whole table from one statement.
          columns:
            - given: {{strain: "yes", tear: "yes"}}
              probabilities: {{none: 0.05, mild: 0.25, severe: 0.7}}
            - given: {{strain: "yes", tear: "no"}}
              probabilities: {{none: {_param(0.2, 0.1, 0.3)}, mild: 0.6, severe: 0.2}}
            - given: {{strain: "no", tear: "yes"}}
              probabilities: {{none: 0.1, mild: 0.3, severe: 0.6}}
            - given: {{strain: "no", tear: "no"}}
              probabilities: {{none: 0.8, mild: 0.15, severe: 0.05}}
      - id: scan
        label: Scan
        kind: finding
        question: What does the scan show?
        askable: false
        table:
          parents: [tear]
          columns:
            - given: {{tear: "yes"}}
              probabilities: {{"no": {_param(0.1, 0.05, 0.2)}, "yes": {_param(0.9, 0.8, 0.95)}}}
            - given: {{tear: "no"}}
              probabilities: {{"yes": {_param(0.05, 0.01, 0.1)}, "no": {_param(0.95, 0.9, 0.99)}}}
    claims:
      - id: strain_beats_tear
        statement: Strain is the likelier cause.
        source: Somewhere
        check: more_probable
        cause: strain
        than: tear
      - id: edges
        statement: Every cause raises its findings.
        source: Somewhere
        check: edges_raise
        parent_kind: cause
        child_kind: finding
      - id: severe_pain_raises_tear
        statement: Severe pain raises a tear.
        source: Somewhere
        check: raises
        cause: tear
        given: {{pain: severe}}
        versus: {{}}
    red_flags:
      - id: severe
        node: pain
        state: severe
        text: "Severe pain: see a doctor."
        source: Somewhere
    escalations:
      - id: tear_likely
        cause: tear
        threshold: 0.5
        text: A tear is likely.
        source: Somewhere
        rationale: Half or more.
    care:
      - id: rest
        title: Rest
        advice: "Rest: it helps."
        source: Somewhere
        applies_when: {{pain: [mild, severe], overuse: "yes"}}
      - id: doctor
        title: Doctor
        advice: See one.
        source: Somewhere
        causes: [tear, strain]
        when: see_doctor
    """)


def _unlocated(spec: ModelSpec) -> ModelSpec:
    """The spec without file positions (path is not compared; node lines are)."""
    return dataclasses.replace(spec, nodes=tuple(dataclasses.replace(n, line=None) for n in spec.nodes))


def _round_trip(model: kneebayes.Model, tmp_path: Path, name: str = "saved.yaml") -> kneebayes.Model:
    path = model.save(tmp_path / name)
    assert path == tmp_path / name
    return kneebayes.load_model(path)


def _max_difference(a: kneebayes.Model, b: kneebayes.Model, evidence: dict[str, str]) -> float:
    da, db = a.diagnose(evidence).distributions, b.diagnose(evidence).distributions
    assert da.keys() == db.keys()
    return max(abs(da[t][s] - db[t][s]) for t in da for s in da[t])


@pytest.fixture(scope="module")
def knee() -> kneebayes.Model:
    return kneebayes.load_model()


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> kneebayes.Model:
    path = tmp_path_factory.mktemp("multi") / "multi.yaml"
    path.write_text(MULTI, encoding="utf-8")
    return kneebayes.load_model(path)


@pytest.fixture(scope="module")
def child() -> kneebayes.Model:
    import pgmpy

    path = Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models" / "child.bif.gz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        return kneebayes.load_bif(path, targets=["Disease"])


# -- the knee model ---------------------------------------------------------------------------
def test_the_knee_model_round_trips_to_an_equal_spec(knee: kneebayes.Model, tmp_path: Path) -> None:
    assert _unlocated(_round_trip(knee, tmp_path).spec) == _unlocated(knee.spec)


def test_the_knee_model_keeps_its_content_hash(knee: kneebayes.Model, tmp_path: Path) -> None:
    assert _round_trip(knee, tmp_path).content_hash == knee.content_hash


@pytest.mark.parametrize("evidence", KNEE_EVIDENCE)
def test_the_saved_knee_model_gives_the_same_posteriors(knee: kneebayes.Model, tmp_path: Path, evidence: dict[str, str]) -> None:
    assert _max_difference(knee, _round_trip(knee, tmp_path), evidence) <= 1e-12


def test_verbal_terms_are_written_as_words(knee: kneebayes.Model) -> None:
    terms = {p.term for p in knee.parameters.values() if p.term is not None}
    assert terms, "the knee model writes some numbers as words"
    text = dump(knee.spec)
    for term in terms:
        assert f"value: {term}\n" in text


def test_sources_and_rationales_are_written(knee: kneebayes.Model, tmp_path: Path) -> None:
    saved = _round_trip(knee, tmp_path).parameters
    for address, p in knee.parameters.items():
        assert (saved[address].source, saved[address].rationale, saved[address].range) == (p.source, p.rationale, p.range)


# -- modified models --------------------------------------------------------------------------
def test_a_modified_model_round_trips(knee: kneebayes.Model, tmp_path: Path) -> None:
    modified = knee.with_parameters({
        "bakers_cyst.leak": (0.1 + 0.2, (0.2, 0.4)),   # 0.30000000000000004: must come back bit for bit
        "poor_warmup.prior": "fifty-fifty",
        "bakers_cyst.weight[meniscal_injury]": (0.95, (0.9, 0.99)),
    })
    loaded = _round_trip(modified, tmp_path)
    assert _unlocated(loaded.spec) == _unlocated(modified.spec)
    assert loaded.content_hash == modified.content_hash != knee.content_hash
    assert loaded.parameters["bakers_cyst.leak"].value == 0.1 + 0.2
    assert loaded.diff(modified) == []


def test_the_saved_file_is_checked_clean_and_written_deterministically(knee: kneebayes.Model, tmp_path: Path) -> None:
    path = knee.save(tmp_path / "knee.yaml")
    assert kneebayes.check_model_file(path) == []
    assert dump(knee.spec) == dump(knee.spec) == path.read_text(encoding="utf-8")


def test_saving_a_loaded_save_gives_the_same_text(knee: kneebayes.Model, tmp_path: Path) -> None:
    first = knee.save(tmp_path / "first.yaml").read_text(encoding="utf-8")
    assert dump(kneebayes.load_model(tmp_path / "first.yaml").spec) == first


def test_yes_and_no_are_strings_for_any_yaml_reader(knee: kneebayes.Model) -> None:
    """A YAML 1.1 reader (PyYAML's own safe_load) turns plain yes/no into booleans: they are quoted."""
    data = yaml.safe_load(dump(knee.spec))
    assert {f["state"] for f in data["red_flags"]} == {"yes"}
    claim = data["claims"][0]
    assert set(claim["given"].values()) | set(claim["versus"].values()) <= {"yes", "no"}


# -- other models -----------------------------------------------------------------------------
def test_a_multi_state_model_with_tables_round_trips(multi: kneebayes.Model, tmp_path: Path) -> None:
    loaded = _round_trip(multi, tmp_path)
    assert _unlocated(loaded.spec) == _unlocated(multi.spec)
    assert loaded.content_hash == multi.content_hash


def test_a_care_condition_is_written_as_an_author_writes_it(knee: kneebayes.Model, multi: kneebayes.Model) -> None:
    assert "    applies_when: {instability: 'yes'}\n" in dump(knee.spec)
    assert "    applies_when: {pain: [mild, severe], overuse: 'yes'}\n" in dump(multi.spec)


def test_a_modified_table_model_round_trips(multi: kneebayes.Model, tmp_path: Path) -> None:
    modified = multi.with_parameters({"activity.prior[low]": 0.3, "strain.table[activity=10][no]": "unlikely",
                                      "pain.table[strain=yes,tear=no][mild]": 0.5})
    loaded = _round_trip(modified, tmp_path)
    assert _unlocated(loaded.spec) == _unlocated(modified.spec)
    assert loaded.content_hash == modified.content_hash


def test_an_imported_network_round_trips_to_the_same_posteriors(child: kneebayes.Model, tmp_path: Path) -> None:
    path = child.save(tmp_path / "child.yaml")
    assert kneebayes.check_model_file(path) == []
    loaded = kneebayes.load_model(path)
    assert loaded.causes == ("Disease",)
    for evidence in ({}, {"LowerBodyO2": "<5"}, {"Grunting": "yes", "Age": "0-3_days"}, {"XrayReport": "Oligaemic", "CO2": "High"}):
        assert _max_difference(child, loaded, evidence) <= 1e-12


def test_an_imported_network_saves_its_cells_as_bare_numbers(child: kneebayes.Model) -> None:
    text = dump(child.spec)
    assert "range:" not in text
    assert "source: imported from child.bif.gz" in text
    assert dump(child.spec) == text


def test_a_saved_import_saves_again_to_the_same_text(child: kneebayes.Model, tmp_path: Path) -> None:
    first = child.save(tmp_path / "child.yaml").read_text(encoding="utf-8")
    assert dump(kneebayes.load_model(tmp_path / "child.yaml").spec) == first


# -- what cannot be written -------------------------------------------------------------------
def test_a_hand_set_number_without_a_range_is_refused(knee: kneebayes.Model) -> None:
    node = knee.spec.node("bakers_cyst")
    params = node.parameters
    assert isinstance(params, NoisyOr)
    bare = dataclasses.replace(params, leak=Parameter(params.leak.value, "S", "R", None))
    spec = dataclasses.replace(knee.spec, nodes=tuple(
        dataclasses.replace(n, parameters=bare) if n.id == "bakers_cyst" else n for n in knee.spec.nodes))
    with pytest.raises(ParameterError, match=r"bakers_cyst\.leak has no range"):
        dump(spec)


def test_a_spec_that_would_not_load_is_not_written(knee: kneebayes.Model, tmp_path: Path) -> None:
    broken = dataclasses.replace(knee.spec, red_flags=(RedFlag("x", "no_such_node", "yes", "text", "source"),))
    target = tmp_path / "broken.yaml"
    with pytest.raises(ModelFileError, match="unknown node 'no_such_node'"):
        save(broken, target)
    assert list(tmp_path.iterdir()) == []


TEXT = st.one_of(   # any text a model file takes: no control characters but line breaks and tabs
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t"), min_size=1),
    st.text(" -#:|>'\"\n\t\u2028ab", min_size=1),   # what YAML reads as structure
).filter(lambda s: bool(s.strip()))


@given(top=TEXT, node=TEXT, rationale=TEXT)
def test_any_text_comes_back_exactly(multi: kneebayes.Model, top: str, node: str, rationale: str) -> None:
    """Descriptions and rationales of any text (several lines, quotes, '- ' or '#' at a line start) survive."""
    spec = multi.spec
    nodes = list(spec.nodes)
    overuse = nodes[1]
    yes = dataclasses.replace(overuse.parameters.probabilities[0], rationale=rationale)  # type: ignore[union-attr]
    nodes[1] = dataclasses.replace(overuse, description=node, parameters=dataclasses.replace(
        overuse.parameters, probabilities=(yes, complement(yes))))
    spec = dataclasses.replace(spec, description=top, nodes=tuple(nodes))
    loaded, problems = parse_spec(parse_yaml(dump(spec)), "text.yaml")
    assert problems == []
    assert loaded is not None and _unlocated(loaded) == _unlocated(spec)


def test_an_imported_network_keeps_its_content_hash_and_addresses(child: kneebayes.Model, tmp_path: Path) -> None:
    loaded = kneebayes.load_model(child.save(tmp_path / "child.yaml"))
    assert loaded.content_hash == child.content_hash
    assert list(loaded.parameters) == list(child.parameters)


def test_an_imported_networks_normal_states_survive_a_save(tmp_path: Path) -> None:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("Cable", "Light"), ("Toner", "Light")])
    bn.add_cpds(
        TabularCPD("Cable", 2, [[0.9], [0.1]], state_names={"Cable": ["Connected", "Loose"]}),
        TabularCPD("Toner", 2, [[0.95], [0.05]], state_names={"Toner": ["OK", "Low"]}),
        TabularCPD("Light", 2, [[0.9, 0.3, 0.2, 0.1], [0.1, 0.7, 0.8, 0.9]], evidence=["Cable", "Toner"],
                   evidence_card=[2, 2], state_names={"Light": ["on", "off"], "Cable": ["Connected", "Loose"],
                                                      "Toner": ["OK", "Low"]}),
    )
    model = kneebayes.from_pgmpy(bn, targets=["Cable", "Toner"], normal_states={"Cable": "Connected"})
    assert model.normal_states == {"Cable": "Connected", "Toner": "OK"}     # Toner's by name
    path = model.save(tmp_path / "printer.yaml")
    assert 'normal_state: Connected' in path.read_text(encoding="utf-8")
    loaded = kneebayes.load_model(path)
    assert loaded.normal_states == model.normal_states
    assert loaded.content_hash == model.content_hash


@pytest.mark.parametrize("write", ["save", "to_bif", "to_xmlbif", "to_xdsl"])
def test_every_writer_refuses_a_missing_folder_with_its_own_error(tmp_path: Path, write: str) -> None:
    model = kneebayes.load_model()
    suffix = {"save": ".yaml", "to_bif": ".bif", "to_xmlbif": ".xml", "to_xdsl": ".xdsl"}[write]
    with pytest.raises(kneebayes.OutputFileError, match="its folder '.*missing' does not exist"):
        getattr(model, write)(tmp_path / "missing" / f"knee{suffix}")


@pytest.mark.parametrize("write", ["save", "to_bif", "to_xmlbif", "to_xdsl"])
def test_every_writer_refuses_a_path_that_is_none(write: str) -> None:
    with pytest.raises(kneebayes.WrongTypeError, match="a file to write must be named by text or a path, got NoneType"):
        getattr(kneebayes.load_model(), write)(None)
