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
from kneebayes import ModelFileError, RenormalisedWarning
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


def test_attributes_properties_and_genie_extensions_are_ignored(tmp_path: Path) -> None:
    model = kneebayes.load_network(_write(tmp_path, "rain.xdsl", RAIN), targets=["Rain"])
    assert [n.id for n in model.nodes] == ["Rain", "Sprinkler", "Wet"]
    assert model.node("Rain").states == ("yes", "no")
    assert model.diagnose({}).distributions["Rain"]["yes"] == pytest.approx(0.2, abs=1e-15)


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
