"""XMLBIF: what kneebayes's reader reads, skips with a warning and refuses, and what other tools' writers emit.

pgmpy's and pyAgrum's XMLBIF writers are run on small networks and their
files read back: nothing they write may warn unless it is really dropped.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import kneebayes
from kneebayes import ModelFileError, SkippedContentWarning

#: Rain and Wet; each test puts something into one of the slots.
TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<BIF VERSION="0.3">{root}
<NETWORK>
<NAME>rain</NAME>{network}
<VARIABLE TYPE="nature">
  <NAME>Rain</NAME>
  <OUTCOME>yes</OUTCOME>
  <OUTCOME>no</OUTCOME>{variable}
</VARIABLE>
<VARIABLE TYPE="nature">
  <NAME>Wet</NAME>
  <OUTCOME>yes</OUTCOME>
  <OUTCOME>no</OUTCOME>
</VARIABLE>
<DEFINITION>
  <FOR>Rain</FOR>
  <TABLE>0.2 0.8</TABLE>
</DEFINITION>
<DEFINITION>
  <FOR>Wet</FOR>
  <GIVEN>Rain</GIVEN>
  <TABLE{table_attribute}>0.9 0.1 0.1 0.9</TABLE>{definition}
</DEFINITION>
</NETWORK>
</BIF>
"""


def rain(tmp_path: Path, **slots: str) -> Path:
    text = TEMPLATE.format(**{"root": "", "network": "", "variable": "", "table_attribute": "", "definition": "",
                              **slots})
    path = tmp_path / "rain.xml"
    path.write_text(text, encoding="utf-8")
    return path


def load_quietly(path: Path) -> kneebayes.Model:
    """The model, with any SkippedContentWarning an error (so a test sees that none was given)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedContentWarning)
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)   # pyAgrum writes six digits
        return kneebayes.load_network(path, targets=["Rain"])


def skipped_message(path: Path) -> str:
    with pytest.warns(SkippedContentWarning) as caught:
        kneebayes.load_network(path, targets=["Rain"])
    assert len(caught) == 1
    return str(caught[0].message)


# -- refused: what could change a table or the states -------------------------------------------

def test_an_unknown_element_inside_a_definition_is_refused_naming_it_and_the_node(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"node 'Wet'.*its DEFINITION holds <ORDER>, which kneebayes does "
                                             r"not read and which could change the table"):
        kneebayes.load_network(rain(tmp_path, definition="<ORDER>parents fastest</ORDER>"), targets=["Rain"])


def test_an_attribute_of_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"node 'Wet'.*the attribute 'scale' of <TABLE>"):
        kneebayes.load_network(rain(tmp_path, table_attribute=' scale="percent"'), targets=["Rain"])


def test_numbers_outside_the_table_of_a_definition_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"node 'Wet'.*its DEFINITION holds text '0.5 0.5'"):
        kneebayes.load_network(rain(tmp_path, definition="0.5 0.5"), targets=["Rain"])


def test_text_outside_the_elements_of_a_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"node 'Rain'.*has text 'maybe' in its <VARIABLE>"):
        kneebayes.load_network(rain(tmp_path, variable="maybe"), targets=["Rain"])


def test_states_written_as_the_older_xml_bif_values_are_refused_saying_so(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"node 'Rain'.*<VALUE>.*older XML BIF.*XMLBIF 0.3"):
        kneebayes.load_network(rain(tmp_path, variable="<VALUE>maybe</VALUE>"), targets=["Rain"])


def test_a_table_written_as_the_older_xml_bif_probability_is_refused_saying_so(tmp_path: Path) -> None:
    older = "<PROBABILITY><FOR>Rain</FOR><TABLE>0.5 0.5</TABLE></PROBABILITY>"
    with pytest.raises(ModelFileError, match=r"<PROBABILITY> in the <NETWORK>; it is an element of the older XML BIF"):
        kneebayes.load_network(rain(tmp_path, network=older), targets=["Rain"])


def test_a_fast_property_listing_other_states_than_the_outcomes_is_refused(tmp_path: Path) -> None:
    fast = "<PROPERTY>fast = Rain{no|yes}</PROPERTY>"
    with pytest.raises(ModelFileError, match=r"node 'Rain'.*'fast' lists the states 'no', 'yes', but the node's "
                                             r"states are 'yes', 'no'"):
        kneebayes.load_network(rain(tmp_path, variable=fast), targets=["Rain"])


# -- skipped, with one warning naming what and where ----------------------------------------------

def test_a_property_kneebayes_has_no_place_for_is_named_with_its_node(tmp_path: Path) -> None:
    message = skipped_message(rain(tmp_path, variable="<PROPERTY>colour = blue</PROPERTY>"))
    assert message.startswith("rain.xml: not read, as a kneebayes model has no place for it: PROPERTY 'colour' "
                              "(node 'Rain')")


def test_an_unknown_element_in_a_variable_is_named_with_its_node(tmp_path: Path) -> None:
    message = skipped_message(rain(tmp_path, variable="<NOTE>checked</NOTE>"))
    assert "<NOTE> in a <VARIABLE> (node 'Rain')" in message


def test_an_unknown_element_beside_the_network_is_named(tmp_path: Path) -> None:
    assert "<EXTRA> beside the <NETWORK>" in skipped_message(rain(tmp_path, root="<EXTRA/>"))


def test_a_network_property_other_than_the_writing_program_is_named(tmp_path: Path) -> None:
    message = skipped_message(rain(tmp_path, network="<PROPERTY>author = me</PROPERTY>"))
    assert "PROPERTY 'author' of the <NETWORK>" in message


def test_the_numbers_are_read_in_full_when_something_is_skipped(tmp_path: Path) -> None:
    with pytest.warns(SkippedContentWarning):
        model = kneebayes.load_network(rain(tmp_path, variable="<NOTE>x</NOTE>"), targets=["Rain"])
    assert model.diagnose({}).distributions["Rain"]["yes"] == pytest.approx(0.2, abs=1e-15)


# -- read, or about the file and not warned about -------------------------------------------------

def test_a_description_property_becomes_the_nodes_description(tmp_path: Path) -> None:
    model = load_quietly(rain(tmp_path, variable="<PROPERTY>description = Is it raining?</PROPERTY>"))
    assert model.node("Rain").description == "Is it raining?"


def test_of_the_properties_only_those_a_model_would_lose_are_named(tmp_path: Path) -> None:
    said = ("<PROPERTY />", "<PROPERTY>position = (10, 20)</PROPERTY>", "<PROPERTY>description = Rain</PROPERTY>",
            "<PROPERTY>fast = Rain{yes|no}</PROPERTY>", "<PROPERTY>colour = blue</PROPERTY>")
    message = skipped_message(rain(tmp_path, variable="".join(said)))
    assert ": PROPERTY 'colour' (node 'Rain'); the nodes" in message   # empty, layout, restating: not named


def test_a_weka_files_document_type_and_comments_are_not_named(tmp_path: Path) -> None:
    dtd = ('<!DOCTYPE BIF [\n<!ELEMENT BIF ( NETWORK )*>\n<!ATTLIST BIF VERSION CDATA #REQUIRED>\n'
           '<!ELEMENT VARIABLE ( NAME, ( OUTCOME | PROPERTY )* ) >\n'
           '<!ATTLIST VARIABLE TYPE (nature|decision|utility) "nature">\n]>\n<!-- written by Weka -->\n')
    path = rain(tmp_path, root="<EXTRA/>")
    path.write_text(path.read_text(encoding="utf-8").replace('<BIF VERSION', dtd + '<BIF VERSION'), encoding="utf-8")
    assert ": <EXTRA> beside the <NETWORK>; the nodes" in skipped_message(path)


# -- other tools' writers -------------------------------------------------------------------------

def _small_pgmpy_network():  # type: ignore[no-untyped-def]
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    network = DiscreteBayesianNetwork([("Rain", "Wet"), ("Sprinkler", "Wet")])
    network.add_cpds(
        TabularCPD("Rain", 2, [[0.2], [0.8]], state_names={"Rain": ["yes", "no"]}),
        TabularCPD("Sprinkler", 3, [[0.1], [0.3], [0.6]], state_names={"Sprinkler": ["on", "off", "broken"]}),
        TabularCPD("Wet", 2, [[0.99, 0.9, 0.8, 0.8, 0.2, 0.1], [0.01, 0.1, 0.2, 0.2, 0.8, 0.9]],
                   evidence=["Rain", "Sprinkler"], evidence_card=[2, 3],
                   state_names={"Wet": ["yes", "no"], "Rain": ["yes", "no"], "Sprinkler": ["on", "off", "broken"]}))
    return network


def test_of_what_pgmpys_xmlbif_writer_emits_only_a_node_attribute_a_model_would_lose_is_named(
        tmp_path: Path) -> None:
    pytest.importorskip("pgmpy")
    from pgmpy.readwrite import XMLBIFWriter

    network = _small_pgmpy_network()
    network.nodes["Wet"]["colour"] = "blue"   # pgmpy writes a node's attributes as PROPERTY, the rest as <PROPERTY />
    path = tmp_path / "pgmpy.xml"
    XMLBIFWriter(network).write(str(path))
    assert path.read_text(encoding="utf-8").count("<PROPERTY />") == 2
    assert ": PROPERTY 'colour' (node 'Wet'); the nodes" in skipped_message(path)


def test_pyagrums_xmlbif_writer_is_read_without_a_warning_and_its_descriptions_kept(tmp_path: Path) -> None:
    gum = pytest.importorskip("pyagrum")
    bn = gum.fastBN("Rain{yes|no}->Wet{yes|no}<-Sprinkler{on|off|broken}")
    bn.variable("Rain").setDescription("Did it rain last night?")
    path = tmp_path / "pyagrum.xml"
    gum.saveBN(bn, str(tmp_path / "pyagrum.bifxml"))   # pyAgrum chooses its writer by the suffix
    path.write_text((tmp_path / "pyagrum.bifxml").read_text(encoding="utf-8"), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert "software aGrUM" in text and "fast = " in text   # what pyAgrum writes beside the network
    model = load_quietly(path)
    assert model.node("Rain").description == "Did it rain last night?"
    assert model.node("Wet").description is None   # pyAgrum's default description is the name: nothing to keep
