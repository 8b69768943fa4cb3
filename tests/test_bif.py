"""BIF: what kneebayes's reader does with ``property`` lines and the network block (``tests/test_every_bif.py``
reads every bnlearn file; the hostile ones are in ``tests/test_boundary_import.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import kneebayes
from kneebayes import ModelFileError, SkippedContentWarning

TEMPLATE = """network rain {{ {network} }}
variable Rain {{
  type discrete [ 2 ] {{ yes, no }};{variable}
}}
variable Wet {{
  type discrete [ 2 ] {{ yes, no }};
}}
probability ( Rain ) {{
  table 0.2, 0.8;{probability}
}}
probability ( Wet | Rain ) {{
  ( yes ) 0.9, 0.1;
  ( no ) 0.1, 0.9;
}}
"""


def rain(tmp_path: Path, network: str = "", variable: str = "", probability: str = "") -> Path:
    path = tmp_path / "rain.bif"
    path.write_text(TEMPLATE.format(network=network, variable=variable, probability=probability), encoding="utf-8")
    return path


def skipped_message(path: Path) -> str:
    with pytest.warns(SkippedContentWarning) as caught:
        kneebayes.load_network(path, targets=["Rain"])
    assert len(caught) == 1
    return str(caught[0].message)


def test_a_block_written_inside_the_network_block_is_refused_not_lost(tmp_path: Path) -> None:
    nested = "variable Hail { type discrete [ 2 ] { yes, no }; } probability ( Hail ) { table 0.1, 0.9; }"
    with pytest.raises(ModelFileError, match=r"rain.bif:1: unexpected '\{' inside the network block starting here; "
                                             r"it holds only 'property \.\.\.;' lines"):
        kneebayes.load_network(rain(tmp_path, network=nested), targets=["Rain"])


def test_text_in_the_network_block_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"unexpected text 'Hail yes no' in the network block, which holds only "
                                             r"'property \.\.\.;' lines"):
        kneebayes.load_network(rain(tmp_path, network="Hail yes no;"), targets=["Rain"])


def test_a_variables_property_is_named_with_its_node(tmp_path: Path) -> None:
    message = skipped_message(rain(tmp_path, variable=" property colour = blue;"))
    assert message.startswith("rain.bif: not read, as a kneebayes model has no place for it: property 'colour' "
                              "(node 'Rain'); the nodes")


def test_a_property_of_a_probability_block_is_named(tmp_path: Path) -> None:
    message = skipped_message(rain(tmp_path, probability=" property source = a survey;"))
    assert "property 'source' of a probability block (node 'Rain')" in message


def test_of_the_network_properties_all_but_the_writing_program_are_named(tmp_path: Path) -> None:
    message = skipped_message(rain(tmp_path, network='property "software JavaBayes"; property author = me;'))
    assert ": property 'author' of the network; the nodes" in message


def test_a_description_property_becomes_the_nodes_description_and_a_position_is_layout(tmp_path: Path) -> None:
    said = ' property "description = Did it rain last night?"; property "position = (10, 20)";'
    with pytest.warns(SkippedContentWarning, match="property 'colour'"):   # the position is not named
        model = kneebayes.load_network(rain(tmp_path, variable=said + " property colour = blue;"), targets=["Rain"])
    assert model.node("Rain").description == "Did it rain last night?"


def test_a_description_pgmpys_bif_writer_keeps_is_read(tmp_path: Path) -> None:
    pytest.importorskip("pgmpy")
    from pgmpy.readwrite import BIFReader, BIFWriter

    network = BIFReader(string=TEMPLATE.format(network="", variable="", probability="")).get_model()
    network.nodes["Rain"]["description"] = "Did it rain last night?"
    path = tmp_path / "pgmpy.bif"
    BIFWriter(network).write(str(path))
    assert kneebayes.load_network(path, targets=["Rain"]).node("Rain").description == "Did it rain last night?"
