"""The public Model and Diagnosis objects (kneebayes.model / kneebayes.diagnosis)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import textwrap
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from kneebayes import Diagnosis, Model, ModelInfo, Node, UnknownNodeError, load_model
from kneebayes.errors import InputFileError, SettingError, WrongTypeError
from kneebayes.modelfile.load import default_model_path
from kneebayes.modelfile.schema import NoisyOr

# The knee model's public node ids (its contract with users), kept beside the tests.
VOCABULARY = Path(__file__).parent / "data" / "public_vocabulary.txt"
CAUSE_IDS = {"hamstring_strain", "popliteus_overload", "tendonitis", "bakers_cyst", "meniscal_injury", "nerve_irritation"}
EXAMPLE = {"locking_or_catching": "yes", "swelling_behind_knee": "yes"}

TINY = textwrap.dedent(
    """\
    format: kneebayes-model/1
    name: tiny
    version: "0.3.1"
    title: "A tiny model for tests"
    nodes:
      - id: overuse
        label: Overuse
        kind: risk_factor
        question: "Do you run a lot?"
        prior: {value: 0.4, range: [0.2, 0.6], source: "s", rationale: "r"}
      - id: strain
        label: Strain
        kind: cause
        question: "Did you strain it?"
        noisy_or:
          leak: {value: 0.1, range: [0.05, 0.2], source: "s", rationale: "r"}
          weights:
            overuse: {value: 0.5, range: [0.3, 0.7], source: "s", rationale: "r"}
      - id: pain
        label: Pain
        kind: finding
        question: "Does it hurt?"
        noisy_or:
          leak: {value: 0.05, range: [0.01, 0.1], source: "s", rationale: "r"}
          weights:
            strain: {value: 0.8, range: [0.6, 0.95], source: "s", rationale: "r"}
    """
)


def _vocabulary_ids() -> list[str]:
    lines = (line.strip() for line in VOCABULARY.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _edit_after(tmp_path: Path, anchor: str, pattern: str, replace) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the knee model file with the first match of pattern after anchor replaced, textually."""
    text = default_model_path().read_text(encoding="utf-8")
    start = text.index(anchor)
    m = re.compile(pattern, re.MULTILINE).search(text, start)
    assert m is not None, f"{pattern!r} not found after {anchor!r}"
    path = tmp_path / "knee.yaml"
    path.write_text(text[: m.start()] + replace(m) + text[m.end():], encoding="utf-8")
    return path


# -- loading -------------------------------------------------------------------------------


def test_load_model_without_a_path_loads_the_packaged_knee_model() -> None:
    model = load_model()
    assert isinstance(model, Model)
    assert model.name == "knee"
    assert len(model.nodes) >= 31


def test_load_model_with_a_path_loads_that_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    model = load_model(path)
    assert model.name == "tiny"
    assert model.version == "0.3.1"
    assert [n.id for n in model.nodes] == ["overuse", "strain", "pain"]
    assert model.causes == ("strain",)


def test_load_model_accepts_a_str_path(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    assert load_model(str(path)).name == "tiny"


# -- immutability --------------------------------------------------------------------------


def test_setting_an_attribute_on_the_model_raises(knee_model: Model) -> None:
    with pytest.raises(AttributeError, match="immutable"):
        knee_model.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        knee_model.anything_new = 1  # type: ignore[attr-defined]
    assert knee_model.name == "knee"


def test_deleting_an_attribute_of_the_model_raises(knee_model: Model) -> None:
    model = load_model()  # not the shared fixture: a failure here would damage it
    with pytest.raises(AttributeError, match="Model is immutable; cannot delete 'network'"):
        del model.network   # without the model's own refusal, Python would say the property has no deleter
    assert model.diagnose({}).posterior == knee_model.diagnose({}).posterior


def test_assigning_to_a_diagnosis_attribute_raises(knee_model: Model) -> None:
    dx = knee_model.diagnose(EXAMPLE)
    with pytest.raises(AttributeError, match="a Diagnosis is immutable; cannot set 'posterior'"):
        dx.posterior = {"meniscal_injury": 0.0}  # type: ignore[misc]
    assert dx.ranked_causes[0][0] == "meniscal_injury"


def test_nodes_are_frozen(knee_model: Model) -> None:
    node = knee_model.nodes[0]
    assert isinstance(node, Node)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'label'"):
        node.label = "changed"  # type: ignore[misc]
    assert isinstance(knee_model.nodes, tuple)


def test_mutating_the_returned_graph_leaves_the_model_unchanged(knee_model: Model) -> None:
    g = knee_model.graph
    n_nodes, n_edges = g.number_of_nodes(), g.number_of_edges()
    g.remove_node("meniscal_injury")
    g.add_edge("limping", "poor_warmup")
    again = knee_model.graph
    assert again.number_of_nodes() == n_nodes
    assert again.number_of_edges() == n_edges
    assert "meniscal_injury" in again
    assert not again.has_edge("limping", "poor_warmup")


# -- structure -----------------------------------------------------------------------------


def test_graph_is_a_digraph_with_every_node_and_the_edges_parent_to_child(knee_model: Model) -> None:
    import networkx as nx
    import yaml

    g = knee_model.graph
    assert isinstance(g, nx.DiGraph)
    # read the structure straight from the file, independently of the loader
    raw = yaml.safe_load(default_model_path().read_text(encoding="utf-8"))
    expected_edges = set()
    for node in raw["nodes"]:
        if "noisy_or" in node:
            parents = list(node["noisy_or"]["weights"])
        elif "table" in node:
            parents = list(node["table"]["parents"])
        else:
            parents = []
        expected_edges |= {(p, node["id"]) for p in parents}
    assert set(g.nodes) == {n["id"] for n in raw["nodes"]}
    assert set(g.edges) == expected_edges
    assert nx.is_directed_acyclic_graph(g)


def test_model_nodes_list_every_node_with_its_parents(knee_model: Model) -> None:
    g = knee_model.graph
    assert [n.id for n in knee_model.nodes] == list(g.nodes)
    for n in knee_model.nodes:
        assert set(n.parents) == set(g.predecessors(n.id)), n.id


def test_causes_are_the_six_causes_of_the_vocabulary(knee_model: Model) -> None:
    assert isinstance(knee_model.causes, tuple)
    assert len(knee_model.causes) == 6
    assert set(knee_model.causes) == CAUSE_IDS
    assert knee_model.causes == tuple(n.id for n in knee_model.nodes if n.kind == "cause")


def test_every_vocabulary_id_exists_with_states_yes_and_no(knee_model: Model) -> None:
    ids = _vocabulary_ids()
    assert len(ids) == 31  # 6 causes, 13 risk factors, 12 findings
    assert CAUSE_IDS <= set(ids)
    for node_id in ids:
        assert knee_model.node(node_id).states == ("yes", "no"), node_id


# -- pgmpy export --------------------------------------------------------------------------


def test_to_pgmpy_gives_a_valid_discrete_bayesian_network(knee_model: Model) -> None:
    from pgmpy.models import DiscreteBayesianNetwork

    bn = knee_model.to_pgmpy()
    assert isinstance(bn, DiscreteBayesianNetwork)
    assert bn.check_model() is True
    assert set(bn.nodes()) == {n.id for n in knee_model.nodes}
    assert set(bn.edges()) == set(knee_model.graph.edges)


def test_to_pgmpy_tables_hold_the_same_numbers_as_the_model(knee_model: Model) -> None:
    net = knee_model.network
    bn = knee_model.to_pgmpy()
    for i, name in enumerate(net.names):
        cpd = bn.get_cpds(name)
        parents = [net.names[p] for p in net.parents[i]]
        table = net.tables[i]  # axes (parents..., node)
        assert table.shape == tuple(net.cards[net.index[p]] for p in parents) + (net.cards[i],)
        for idx in np.ndindex(table.shape):
            assignment = {p: net.states[net.index[p]][k] for p, k in zip(parents, idx[:-1])}
            assignment[name] = net.states[i][idx[-1]]
            where = tuple(cpd.state_names[v].index(assignment[v]) for v in cpd.variables)
            assert cpd.values[where] == pytest.approx(table[idx], abs=1e-12), (name, assignment)


def test_exported_noisy_or_tables_equal_the_noisy_or_definition(knee_model: Model) -> None:
    bn = knee_model.to_pgmpy()
    checked = 0
    for spec_node in knee_model.spec.nodes:
        params = spec_node.parameters
        if not isinstance(params, NoisyOr):
            continue
        checked += 1
        cpd = bn.get_cpds(spec_node.id)
        weights = dict((p, w.value) for p, w in params.weights)
        for present in itertools.product(("yes", "no"), repeat=len(weights)):
            assignment = dict(zip(weights, present))
            p_no = 1.0 - params.leak.value
            for parent, state in assignment.items():
                if state == "yes":
                    p_no *= 1.0 - weights[parent]
            for state, expected in (("no", p_no), ("yes", 1.0 - p_no)):
                full = {**assignment, spec_node.id: state}
                where = tuple(cpd.state_names[v].index(full[v]) for v in cpd.variables)
                assert cpd.values[where] == pytest.approx(expected, abs=1e-12), (spec_node.id, full)
    assert checked >= 18  # the six causes and twelve findings are noisy-ORs


# -- model identity ------------------------------------------------------------------------


def test_diagnosis_records_the_model_name_version_and_hash(knee_model: Model) -> None:
    import yaml

    dx = knee_model.diagnose(EXAMPLE)
    assert isinstance(dx, Diagnosis)
    assert isinstance(dx.model_info, ModelInfo)
    assert dx.model is knee_model   # the Model itself, as Interview.model
    file_version = str(yaml.safe_load(default_model_path().read_text(encoding="utf-8"))["version"])
    assert dx.model_info.name == "knee"
    assert dx.model_info.version == file_version
    assert re.fullmatch(r"[0-9a-f]{64}", dx.model_info.content_hash)
    assert dx.model_info == knee_model.info
    assert (dx.model_info.name, dx.model_info.version, dx.model_info.content_hash) == (
        knee_model.name, knee_model.version, knee_model.content_hash)


def test_content_hash_is_stable_across_loads() -> None:
    assert load_model().content_hash == load_model().content_hash


def test_content_hash_changes_when_a_number_changes(tmp_path: Path, knee_model: Model) -> None:
    before = knee_model.spec.node("poor_warmup").parameters.probabilities[0].value  # type: ignore[union-attr]
    after = round(before + 0.01, 4)  # a small step stays inside the value's range
    path = _edit_after(tmp_path, "- id: poor_warmup", r"(?<=value: )\S+$", lambda m: str(after))
    edited = load_model(path)
    assert edited.spec.node("poor_warmup").parameters.probabilities[0].value == after  # type: ignore[union-attr]
    assert edited.content_hash != knee_model.content_hash


def test_content_hash_ignores_a_changed_rationale(tmp_path: Path, knee_model: Model) -> None:
    path = _edit_after(tmp_path, "- id: poor_warmup", r"(?<=rationale: ).+$", lambda m: '"Reworded for the test."')
    edited = load_model(path)
    assert edited.spec.node("poor_warmup").parameters.probabilities[0].rationale == "Reworded for the test."  # type: ignore[union-attr]
    assert edited.content_hash == knee_model.content_hash


def test_content_hash_ignores_comments_and_blank_lines(tmp_path: Path, knee_model: Model) -> None:
    path = _edit_after(tmp_path, "format:", r"^nodes:\n", lambda m: "# an added comment\n\nnodes:\n  # and another\n")
    assert load_model(path).content_hash == knee_model.content_hash


def _with_normal_state(tmp_path: Path, state: str) -> Model:
    """TINY with ``normal_state`` written on its yes/no cause."""
    path = tmp_path / "normal.yaml"
    path.write_text(TINY.replace('    question: "Did you strain it?"\n',
                                 f'    question: "Did you strain it?"\n    normal_state: "{state}"\n'), encoding="utf-8")
    model = load_model(path)
    assert model.spec.node("strain").normal_state == state
    return model


def test_content_hash_ignores_a_normal_state_that_restates_the_yes_no_default(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    assert _with_normal_state(tmp_path, "no").content_hash == load_model(tmp_path / "tiny.yaml").content_hash


def test_content_hash_changes_with_a_normal_state_other_than_the_default(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    assert _with_normal_state(tmp_path, "yes").content_hash != load_model(tmp_path / "tiny.yaml").content_hash


# -- normal states ---------------------------------------------------------------------------


def test_every_knee_cause_has_the_normal_state_no(knee_model: Model) -> None:
    assert dict(knee_model.normal_states) == {c: "no" for c in knee_model.causes}
    assert all(n.normal_state is None for n in knee_model.spec.nodes)      # implicit: the file writes none


def test_a_normal_state_set_in_the_file_is_the_models(tmp_path: Path) -> None:
    assert _with_normal_state(tmp_path, "yes").normal_states == {"strain": "yes"}


# -- inference -----------------------------------------------------------------------------


def test_marginals_of_chosen_nodes_sum_to_one(knee_model: Model) -> None:
    chosen = ["meniscal_injury", "poor_warmup", "limping"]
    out = knee_model.marginals(EXAMPLE, nodes=chosen)
    assert list(out) == chosen
    for node, dist in out.items():
        assert set(dist) == {"yes", "no"}
        assert all(0.0 <= p <= 1.0 for p in dist.values())
        assert sum(dist.values()) == pytest.approx(1.0, abs=1e-12), node


def test_marginals_of_a_cause_agree_with_the_diagnosis(knee_model: Model) -> None:
    dx = knee_model.diagnose(EXAMPLE)
    out = knee_model.marginals(EXAMPLE, nodes=list(knee_model.causes))
    for cause in knee_model.causes:
        assert out[cause]["yes"] == pytest.approx(dx.posterior[cause], abs=1e-12)


def test_marginals_of_an_unknown_node_raises_naming_it(knee_model: Model) -> None:
    with pytest.raises(UnknownNodeError, match=r"unknown node 'meniscal'.*did you mean.*'meniscal_injury'"):
        knee_model.marginals(EXAMPLE, nodes=["limping", "meniscal"])


def test_diagnose_none_equals_diagnose_empty(knee_model: Model) -> None:
    a, b = knee_model.diagnose(None), knee_model.diagnose({})
    assert dict(a.posterior) == dict(b.posterior)
    assert a.evidence_probability == b.evidence_probability == pytest.approx(1.0)
    assert dict(a.evidence) == {}


def test_diagnosis_posterior_has_every_cause_in_unit_interval(knee_model: Model) -> None:
    post = knee_model.diagnose(EXAMPLE).posterior
    assert set(post) == CAUSE_IDS
    assert all(0.0 <= p <= 1.0 for p in post.values())


# -- the Diagnosis value -------------------------------------------------------------------


def test_diagnosis_to_json_round_trips_to_dict(knee_model: Model) -> None:
    dx = knee_model.diagnose(EXAMPLE)
    as_dict = dx.to_dict()
    assert json.loads(dx.to_json()) == as_dict
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["posterior"] == dict(dx.posterior)
    assert as_dict["evidence"] == EXAMPLE
    assert as_dict["model"] == {"name": "knee", "version": knee_model.version, "content_hash": knee_model.content_hash}
    assert as_dict["evidence_probability"] == pytest.approx(dx.evidence_probability)


def test_str_of_a_diagnosis_lists_all_six_cause_labels(knee_model: Model) -> None:
    text = str(knee_model.diagnose(EXAMPLE))
    for cause in knee_model.causes:
        assert knee_model.node(cause).label in text, cause
    assert text.count("%") == 6


def test_diagnosis_posterior_is_read_only(knee_model: Model) -> None:
    dx = knee_model.diagnose(EXAMPLE)
    assert isinstance(dx.posterior, MappingProxyType)
    with pytest.raises(TypeError, match="does not support item assignment"):
        dx.posterior["meniscal_injury"] = 0.0  # type: ignore[index]
    assert dx.posterior["meniscal_injury"] > 0.5
    with pytest.raises(TypeError, match="does not support item assignment"):
        dx.evidence["limping"] = "yes"  # type: ignore[index]


def test_ranked_causes_are_sorted_most_probable_first(knee_model: Model) -> None:
    dx = knee_model.diagnose(EXAMPLE)
    ranked = dx.ranked_causes
    assert [c for c, _ in ranked] and set(c for c, _ in ranked) == CAUSE_IDS
    values = [p for _, p in ranked]
    assert values == sorted(values, reverse=True)
    assert ranked[0][0] == "meniscal_injury"
    assert dict(ranked) == dict(dx.posterior)



def test_diagnose_without_overrides_uses_the_model_settings_and_overrides_still_apply() -> None:
    model = load_model()
    assert model.diagnose({"limping": "yes"}).settings is model.settings
    changed = model.diagnose({"limping": "yes"}, confidence=0.5, screen_red_flags=False).settings
    assert (changed.confidence, changed.screen_red_flags) == (0.5, False)


def test_the_content_hash_is_worked_out_on_first_use_and_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from kneebayes import model as model_module

    calls = []
    real = model_module.content_hash

    def counted(spec: object) -> str:
        calls.append(spec)
        return real(spec)   # type: ignore[arg-type]

    monkeypatch.setattr(model_module, "content_hash", counted)
    model = Model(load_model().spec)
    assert calls == []                                # loading does not serialise the spec
    info = model.info
    assert len(calls) == 1 and model.content_hash == info.content_hash == real(model.spec)
    assert model.diagnose({}).model_info is info and len(calls) == 1


# -- the constructor's arguments --------------------------------------------------------------------------
def test_a_target_that_is_no_node_is_named_as_an_unknown_target(knee_model: Model) -> None:
    with pytest.raises(UnknownNodeError, match=r"unknown target 'meniscal_injuri'.*meniscal_injury"):
        Model(knee_model.spec, targets=["meniscal_injuri"])


def test_targets_as_one_string_is_a_type_error_asking_for_a_list(knee_model: Model) -> None:
    with pytest.raises(WrongTypeError, match=r"targets must be a list of node ids, not str \(for one target: targets=\['limping'\]\)"):
        Model(knee_model.spec, targets="limping")


def test_a_target_listed_twice_is_refused(knee_model: Model) -> None:
    with pytest.raises(SettingError, match="'limping' is listed twice"):
        Model(knee_model.spec, targets=["limping", "limping"])


@pytest.mark.parametrize("limit", [0, -1, float("nan"), 2.5])
def test_a_joint_limit_that_is_no_positive_whole_number_is_refused(knee_model: Model, limit: float) -> None:
    with pytest.raises(SettingError, match="joint_limit must be"):
        Model(knee_model.spec, joint_limit=limit)   # type: ignore[arg-type]


@pytest.mark.parametrize("limit", ["64", True, None])
def test_a_joint_limit_that_is_no_number_is_a_type_error(knee_model: Model, limit: object) -> None:
    with pytest.raises(WrongTypeError, match="joint_limit must be a whole number of joint states, not"):
        Model(knee_model.spec, joint_limit=limit)   # type: ignore[arg-type]


def test_a_model_needs_a_spec_and_says_where_one_comes_from() -> None:
    with pytest.raises(WrongTypeError, match=r"Model needs a ModelSpec .* not NoneType"):
        Model(None)   # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["network.bif", "network.xml.gz", "network.xdsl"])
def test_saving_a_model_file_under_a_network_files_name_is_refused_and_the_file_kept(
        knee_model: Model, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"a network the user had")
    with pytest.raises(InputFileError, match=r"suffix of an? (BIF|XMLBIF|XDSL) network file, but a model "
                                                             r"file is YAML: name it \.yaml, or write the network with to_"):
        knee_model.save(path)
    assert path.read_bytes() == b"a network the user had"


def test_a_kind_no_node_has_is_empty_when_standard_and_refused_with_the_kinds_otherwise(knee_model: Model,
                                                                                       tmp_path: Path) -> None:
    with pytest.raises(SettingError, match=r"no node is of kind 'causes'; this model's kinds are 'cause', 'finding', "
                                           r"'risk_factor'"):
        knee_model.nodes_of_kind("causes")
    path = tmp_path / "rain.bif"
    path.write_text("network rain {}\nvariable Rain { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( Rain ) { table 0.2, 0.8; }\n", encoding="utf-8")
    import kneebayes

    assert kneebayes.load_bif(path, targets=["Rain"]).nodes_of_kind("risk_factor") == ()


def test_diff_with_something_that_is_no_model_is_a_type_error_saying_what_it_compares(knee_model: Model) -> None:
    with pytest.raises(WrongTypeError, match="diff compares this model with another Model, not int"):
        knee_model.diff(5)   # type: ignore[arg-type]


def test_changing_a_number_keeps_the_import_report(tmp_path: Path) -> None:
    import warnings

    import kneebayes

    path = tmp_path / "rain.bif"    # a column summing to 1 within the import tolerance, not within 1e-9: renormalised
    path.write_text("network rain {}\nvariable Rain { type discrete [ 2 ] { yes, no }; }\n"
                    "probability ( Rain ) { table 0.2, 0.8000001; }\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        model = kneebayes.load_bif(path, targets=["Rain"])
    assert len(model.import_report) == 1
    assert model.with_parameters({"Rain.prior[yes]": 0.3}).import_report == model.import_report
