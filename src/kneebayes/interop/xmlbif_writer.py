"""Write networks as XMLBIF 0.3 text (the XML format of pgmpy's ``XMLBIFWriter`` and Weka).

One ``<VARIABLE TYPE="nature">`` per node (its ``<NAME>`` and an
``<OUTCOME>`` per state), then one ``<DEFINITION>`` per node (``<FOR>``,
a ``<GIVEN>`` per parent in order, and a ``<TABLE>`` listing the node's own
states fastest). State names are written as they are, escaped as XML needs
(pgmpy's writer would replace ``/`` or ``<`` by ``_``); numbers are the
shortest text that reads back to the same float.

>>> import numpy as np
>>> from kneebayes.interop.parsed import ParsedVariable
>>> wet = ParsedVariable("Wet", ("<5", "5+"), (), np.array([[0.25], [0.75]]))
>>> print(write_xmlbif([wet], "tiny"), end="")
<?xml version="1.0" encoding="UTF-8"?>
<BIF VERSION="0.3">
  <NETWORK>
    <NAME>tiny</NAME>
    <VARIABLE TYPE="nature">
      <NAME>Wet</NAME>
      <OUTCOME>&lt;5</OUTCOME>
      <OUTCOME>5+</OUTCOME>
    </VARIABLE>
    <DEFINITION>
      <FOR>Wet</FOR>
      <TABLE>0.25 0.75</TABLE>
    </DEFINITION>
  </NETWORK>
</BIF>
"""

from __future__ import annotations

from collections.abc import Sequence

from .exported import number
from .parsed import ParsedVariable


def write_xmlbif(variables: Sequence[ParsedVariable], name: str) -> str:
    """The XMLBIF text of ``variables``, network ``name`` ("unknown" if empty)."""
    import xml.etree.ElementTree as ET

    root = ET.Element("BIF", {"VERSION": "0.3"})
    network = ET.SubElement(root, "NETWORK")
    ET.SubElement(network, "NAME").text = name or "unknown"
    for v in variables:
        variable = ET.SubElement(network, "VARIABLE", {"TYPE": "nature"})
        ET.SubElement(variable, "NAME").text = v.name
        for state in v.states:
            ET.SubElement(variable, "OUTCOME").text = state
    for v in variables:
        assert v.values is not None
        definition = ET.SubElement(network, "DEFINITION")
        ET.SubElement(definition, "FOR").text = v.name
        for p in v.parents:
            ET.SubElement(definition, "GIVEN").text = p
        ET.SubElement(definition, "TABLE").text = " ".join(number(x) for x in v.values.ravel(order="F"))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
