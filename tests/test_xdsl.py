"""XDSL (GeNIe): kneebayes's reader and writer, against each other and against pgmpy's XDSLReader / XDSLWriter.

Round trips run on networks bundled with pgmpy (read from its
``utils/example_models/*.bif.gz``): the same node names, states, parent
order and numbers must come back. The hostile XDSL files live in the shared
corpus (``tests/test_boundary_import.py``).
"""

from __future__ import annotations

import gzip
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kneebayes
from kneebayes import ModelFileError, RenormalisedWarning, SkippedContentWarning
from kneebayes.interop.exported import exported_variables
from kneebayes.interop.files import xdsl_text
from kneebayes.interop.xdsl_reader import read_xdsl

NETWORKS = {"asia": "asia", "child": "Disease", "alarm": "HYPOVOLEMIA", "win95pts": "PrtCbl"}

RAIN = """<?xml version="1.0" encoding="UTF-8"?>
<smile version="1.0" id="rain" numsamples="10000" discsamples="10000">
  <nodes>
    <cpt id="Rain" diagtype="target" ranked="true">
      <state id="yes" fault="true" />
      <state id="no" />
      <probabilities>0.2 0.8</probabilities>
      <property id="source">a made-up number</property>
    </cpt>
    <cpt id="Sprinkler" diagtype="target">
      <state id="on" />
      <state id="off" />
      <probabilities>0.4 0.6</probabilities>
    </cpt>
    <deterministic id="Wet" diagtype="observation">
      <state id="yes" />
      <state id="no" />
      <parents>Rain Sprinkler</parents>
      <resultingstates>yes yes yes no</resultingstates>
    </deterministic>
  </nodes>
  <extensions>
    <genie version="1.0" app="GeNIe 4.0" name="Rain">
      <node id="Rain"><name>Is it raining?</name><position>10 10 80 40</position></node>
      <textbox><caption>a note</caption></textbox>
    </genie>
  </extensions>
</smile>
"""


def example_path(name: str) -> Path:
    import pgmpy

    return Path(os.path.dirname(pgmpy.__file__)) / "utils" / "example_models" / f"{name}.bif.gz"


def _load(path: Path, target: str) -> kneebayes.Model:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenormalisedWarning)   # ALARM's published columns are rounded
        return kneebayes.load_network(path, targets=[target])


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _same_network(theirs: Any, model: kneebayes.Model, *, atol: float = 0.0) -> None:
    """pgmpy's network has the model's node names, states, parent order and (within ``atol``) tables."""
    assert {str(n) for n in theirs.nodes()} == set(model.network.names)
    for v in exported_variables(model):
        cpd = theirs.get_cpds(v.name)
        assert tuple(str(s) for s in cpd.state_names[v.name]) == v.states, v.name
        assert tuple(str(p) for p in cpd.variables[1:]) == v.parents, v.name
        values = np.asarray(cpd.get_values(), dtype=float)
        if atol == 0.0:
            assert np.array_equal(values, v.values), v.name
        else:
            np.testing.assert_allclose(values, v.values, rtol=0, atol=atol, err_msg=v.name)


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def bundled(request: pytest.FixtureRequest) -> tuple[str, kneebayes.Model]:
    name = request.param
    return name, _load(example_path(name), NETWORKS[name])


# -- reading -----------------------------------------------------------------------------------

def test_a_deterministic_node_is_read_as_its_exact_zero_one_table(tmp_path: Path) -> None:
    model = kneebayes.load_network(_write(tmp_path, "rain.xdsl", RAIN), targets=["Rain", "Sprinkler"])
    wet = model.network.index["Wet"]
    # axes (Rain, Sprinkler, Wet): wet unless both are "no"
    assert model.network.tables[wet].tolist() == [[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]]
    dry = model.diagnose({"Wet": "no"}).distributions
    assert dry["Rain"]["no"] == 1.0 and dry["Sprinkler"]["off"] == 1.0


def test_genies_diagnosis_attributes_properties_and_text_boxes_are_named_in_one_warning(tmp_path: Path) -> None:
    with pytest.warns(SkippedContentWarning) as caught:
        model = kneebayes.load_network(_write(tmp_path, "rain.xdsl", RAIN), targets=["Rain"])
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "rain.xdsl: not read, as a kneebayes model has no place for them: GeNIe's <textbox>, GeNIe's diagnosis "
        "attribute 'diagtype' (3 nodes: 'Rain', 'Sprinkler', 'Wet'), GeNIe's diagnosis attribute 'ranked' (node "
        "'Rain'), attribute 'fault' of <state> (node 'Rain'), <property id='source'> (node 'Rain'); the nodes, "
        "states, parents and numbers are read in full")
    assert model.diagnose({}).distributions["Rain"]["yes"] == pytest.approx(0.2, abs=1e-15)


def test_a_genie_title_becomes_the_nodes_label_and_question(tmp_path: Path) -> None:
    model = kneebayes.load_network(_write(tmp_path, "rain.xdsl", RAIN), targets=["Sprinkler"])
    assert (model.node("Rain").label, model.node("Rain").question) == ("Is it raining?", "Is it raining?")
    assert model.node("Wet").label == "Wet"   # no title: its id


def test_a_genie_comment_becomes_the_nodes_description_inside_a_submodel_too(tmp_path: Path) -> None:
    submodel = ('<submodel id="Weather"><name>Weather</name><position>0 0 9 9</position>'
                '<node id="Sprinkler"><name>Sprinkler</name><comment>Set by a timer</comment></node></submodel>')
    text = RAIN.replace("<textbox>", submodel + "<textbox>")
    with pytest.warns(SkippedContentWarning):   # RAIN's own diagnosis attributes
        model = kneebayes.load_network(_write(tmp_path, "rain.xdsl", text), targets=["Rain"])
    assert model.node("Sprinkler").description == "Set by a timer"


def test_a_title_holding_a_control_character_is_refused(tmp_path: Path) -> None:
    text = RAIN.replace("Is it raining?", "Is it \x9b2Jraining?")   # CSI: XML carries it, a terminal acts on it
    with pytest.raises(ModelFileError, match=r"node 'Rain'.*has a title holding the control character '\\x9b'"):
        kneebayes.load_network(_write(tmp_path, "rain.xdsl", text), targets=["Rain"])


def test_labels_come_back_from_the_xdsl_kneebayes_writes(knee_model: kneebayes.Model) -> None:
    back = read_xdsl(xdsl_text(knee_model), "knee.xdsl")
    assert {v.name: v.label for v in back} == {n.id: n.label for n in knee_model.nodes}


@pytest.mark.parametrize(("inside", "message"), [
    ("<strengths>0.9 0.1</strengths>", "holds <strengths>, which kneebayes does not read and which could change "
                                       "its table; a <cpt> holds <parents>, <probabilities>, <property>, <state>"),
    ("0.9 0.1", "holds the text '0.9 0.1' outside its elements"),
], ids=["element", "text"])
def test_what_a_cpt_holds_besides_its_parts_is_refused(tmp_path: Path, inside: str, message: str) -> None:
    text = RAIN.replace("<probabilities>0.4 0.6</probabilities>", "<probabilities>0.4 0.6</probabilities>" + inside)
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_network(_write(tmp_path, "rain.xdsl", text), targets=["Rain"])
    (problem,) = info.value.problems
    assert problem.node == "Sprinkler" and problem.message == message


def test_an_attribute_of_a_table_is_refused(tmp_path: Path) -> None:
    text = RAIN.replace("<probabilities>0.4 0.6", '<probabilities order="parents-first">0.4 0.6')
    with pytest.raises(ModelFileError, match=r"node 'Sprinkler'.*gives its <probabilities> the attribute 'order'"):
        kneebayes.load_network(_write(tmp_path, "rain.xdsl", text), targets=["Rain"])


def test_a_node_of_a_temporal_plate_is_refused(tmp_path: Path) -> None:
    text = RAIN.replace('<cpt id="Sprinkler" diagtype="target">', '<cpt id="Sprinkler" dynamic="plate">')
    with pytest.raises(ModelFileError, match=r"node 'Sprinkler'.*is a temporal node \(dynamic='plate'\); only "
                                             r"static networks can be imported"):
        kneebayes.load_network(_write(tmp_path, "rain.xdsl", text), targets=["Rain"])


def test_looks_sampling_settings_and_the_writing_program_are_not_named(tmp_path: Path) -> None:
    looks = ('<node id="Wet"><name>Wet</name><interior color="e5f6f7"/><outline color="000080"/>'
             '<font color="000000" name="Arial" size="8"/><position>1 2 3 4</position>'
             '<barchart active="true" width="128" height="64"/></node>')
    text = (RAIN.replace("<textbox><caption>a note</caption></textbox>", looks)
            .replace('<genie version="1.0" app="GeNIe 4.0" name="Rain">',
                     '<genie version="1.0" app="GeNIe 4.0" name="Rain" faultnameformat="nodestate">')
            .replace("  <extensions>", "  <algparams><epis proplen=\"2\"/></algparams>\n  <extensions>"))
    with pytest.warns(SkippedContentWarning) as caught:
        kneebayes.load_network(_write(tmp_path, "rain.xdsl", text), targets=["Rain"])
    assert "GeNIe's <textbox>" not in str(caught[0].message)   # the one thing removed; the rest is RAIN's own
    assert str(caught[0].message).startswith("rain.xdsl: not read, as a kneebayes model has no place for them: "
                                             "GeNIe's diagnosis attribute 'diagtype'")


def test_an_xdsl_file_pyagrum_wrote_with_a_table_of_two_parents_is_refused_not_read_transposed(
        tmp_path: Path) -> None:
    gum = pytest.importorskip("pyagrum")
    bn = gum.fastBN("Rain{yes|no}->Wet{yes|no}<-Sprinkler{on|off}")
    gum.saveBN(bn, str(tmp_path / "pyagrum.xdsl"))
    with pytest.raises(ModelFileError, match=r"was written by pyAgrum \(app='aGrUM [^']*'\), whose XDSL tables of two "
                                             r"or more parents list the first parent fastest.*1 node \('Wet'\)"):
        kneebayes.load_network(tmp_path / "pyagrum.xdsl", targets=["Rain"], tolerance=1e-5)


def test_of_what_pyagrums_xdsl_writer_emits_nothing_is_named(tmp_path: Path) -> None:
    gum = pytest.importorskip("pyagrum")
    bn = gum.fastBN("Rain{yes|no}->Wet{yes|no}")
    gum.saveBN(bn, str(tmp_path / "pyagrum.xdsl"))
    text = (tmp_path / "pyagrum.xdsl").read_text(encoding="utf-8")
    text = text.replace('<cpt id="Wet"', '<cpt id="Wet" ranked="true"')   # the one thing named
    with pytest.warns(SkippedContentWarning) as caught:
        kneebayes.load_network(_write(tmp_path, "pyagrum.xdsl", text), targets=["Rain"], tolerance=1e-5)
    assert ": GeNIe's diagnosis attribute 'ranked' (node 'Wet'); the nodes" in str(caught[0].message)


def test_nodes_may_come_before_their_parents() -> None:
    start, end = RAIN.index('    <deterministic'), RAIN.index("  </nodes>")
    wet_first = RAIN[:RAIN.index("    <cpt")] + RAIN[start:end] + RAIN[RAIN.index("    <cpt"):start] + RAIN[end:]
    assert [v.name for v in read_xdsl(wet_first, "x.xdsl")] == ["Wet", "Rain", "Sprinkler"]


def test_a_file_declared_iso_8859_1_is_read_with_its_own_encoding(tmp_path: Path) -> None:
    text = RAIN.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace('<state id="on" />',
                                                                         '<state id="arrosé" />')
    path = _write(tmp_path, "latin.xdsl", text, encoding="latin-1")
    assert kneebayes.load_network(path, targets=["Rain"]).node("Sprinkler").states == ("arrosé", "off")


def test_an_xml_file_with_a_smile_root_is_read_as_xdsl(tmp_path: Path) -> None:
    model = kneebayes.load_network(_write(tmp_path, "rain.xml", RAIN), targets=["Rain"])
    assert model.node("Wet").states == ("yes", "no")


@pytest.mark.parametrize(("tag", "what"), [("decision", "a decision node"), ("equation", "an equation node"),
                                           ("utility", "a utility node"), ("noisyadder", "a noisy-adder node"),
                                           ("mystery", "a <mystery> node")])
def test_a_node_type_that_is_no_table_is_refused_naming_its_type(tmp_path: Path, tag: str, what: str) -> None:
    text = RAIN.replace("<deterministic id", f"<{tag} id").replace("</deterministic>", f"</{tag}>")
    with pytest.raises(ModelFileError) as info:
        kneebayes.load_network(_write(tmp_path, "x.xdsl", text), targets=["Rain"])
    (problem,) = info.value.problems
    assert (problem.node, problem.line) == ("Wet", 15) and what in problem.message


def test_a_deterministic_node_too_large_to_expand_is_refused() -> None:
    from kneebayes.interop.xdsl_reader import MAX_DETERMINISTIC_CELLS

    states = "".join(f'<state id="s{i}"/>' for i in range(MAX_DETERMINISTIC_CELLS // 4 + 1))
    text = (f'<smile id="x"><nodes><cpt id="P"><state id="a"/><state id="b"/><state id="c"/><state id="d"/>'
            f'<probabilities>0.25 0.25 0.25 0.25</probabilities></cpt><deterministic id="D">{states}'
            f'<parents>P</parents><resultingstates>s0 s0 s0 s0</resultingstates></deterministic></nodes></smile>')
    with pytest.raises(ModelFileError) as info:
        read_xdsl(text, "big.xdsl")
    assert "node 'D'" in str(info.value) and "over the limit" in str(info.value)


# -- writing -----------------------------------------------------------------------------------

def test_to_xdsl_reads_back_to_the_very_same_tables(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    from kneebayes.interop.files import to_xdsl

    back = kneebayes.load_network(to_xdsl(knee_model, tmp_path / "knee.xdsl"), targets=knee_model.causes)
    assert back.import_report == ()
    for i, name in enumerate(knee_model.network.names):
        j = back.network.index[name]
        assert back.network.states[j] == knee_model.network.states[i]
        assert np.array_equal(back.network.tables[j], knee_model.network.tables[i]), name


def test_to_xdsl_lists_parents_first_and_titles_nodes_with_their_labels(knee_model: kneebayes.Model) -> None:
    text = xdsl_text(knee_model)
    order = [v.name for v in read_xdsl(text, "knee.xdsl")]
    for v in exported_variables(knee_model):
        assert all(order.index(p) < order.index(v.name) for p in v.parents), v.name
    assert f"<name>{knee_model.node('poor_warmup').label}</name>" in text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<smile version="1.0" id="knee"')


def test_to_xdsl_gzips_a_file_ending_in_gz(knee_model: kneebayes.Model, tmp_path: Path) -> None:
    from kneebayes.interop.files import to_xdsl

    path = to_xdsl(knee_model, tmp_path / "knee.xdsl.gz")
    assert gzip.decompress(path.read_bytes()).decode("utf-8") == xdsl_text(knee_model)
    assert kneebayes.load_network(path, targets=knee_model.causes).network.names == knee_model.network.names


def test_to_xdsl_keeps_state_names_with_xml_characters(tmp_path: Path) -> None:
    child = _load(example_path("child"), "Disease")
    text = xdsl_text(child)
    assert '<state id="&lt;5" />' in text and '<state id="Asy/Patch" />' in text
    back = kneebayes.load_network(_write(tmp_path, "child.xdsl", text), targets=["Disease"])
    assert back.node("LowerBodyO2").states == ("<5", "5-12", "12+")


def test_a_state_name_xml_cannot_carry_is_refused_when_the_network_is_read() -> None:
    """A control character (which XML cannot carry either) never gets into a model to be written out."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork()
    bn.add_node("A")
    bn.add_cpds(TabularCPD("A", 2, [[0.5], [0.5]], state_names={"A": ["ok", "bell\x07"]}))
    with pytest.raises(ModelFileError) as info:
        kneebayes.from_pgmpy(bn, targets=["A"])
    assert "node 'A'" in str(info.value) and "control character '\\x07'" in str(info.value)


# -- against pgmpy -----------------------------------------------------------------------------

def test_pgmpys_xdsl_reader_reads_our_file_to_the_same_network(bundled: tuple[str, kneebayes.Model]) -> None:
    from pgmpy.readwrite import XDSLReader

    name, model = bundled
    theirs = XDSLReader(string=xdsl_text(model)).get_model()
    assert theirs.check_model()
    _same_network(theirs, model)   # names, states, parent order, bit-identical numbers


def test_our_reader_reads_pgmpys_xdsl_to_the_same_network(bundled: tuple[str, kneebayes.Model],
                                                          tmp_path: Path) -> None:
    from pgmpy.readwrite import BIFReader, XDSLWriter

    name, model = bundled
    source = BIFReader(string=gzip.open(example_path(name), "rt", encoding="utf-8").read()).get_model()
    path = tmp_path / f"{name}.xdsl"
    XDSLWriter(source, network_id=name).write(str(path))
    ours = _load(path, NETWORKS[name])
    # pgmpy writes 16 decimals, so its numbers come back within 1e-16 of the BIF's, then renormalised like them
    _same_network(source, ours, atol=1e-6 if name == "alarm" else 1e-15)
    for v, w in zip(exported_variables(ours), exported_variables(model)):
        assert (v.name, v.states, v.parents) == (w.name, w.states, w.parents)
        np.testing.assert_allclose(v.values, w.values, rtol=0, atol=1e-15, err_msg=v.name)
