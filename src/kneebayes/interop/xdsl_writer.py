"""Write networks as XDSL text, the XML format of GeNIe and SMILE.

Every node is a ``<cpt>``: its ``<state>`` elements, its ``<parents>``
(blank-separated, in the table's order) and its ``<probabilities>`` (the
node's own states fastest, then the last parent), nodes listed parents
first as GeNIe requires. Numbers are the shortest text that reads back to
the same float (pgmpy's ``XDSLWriter`` prints 16 decimals, which rounds
and turns a probability below 1e-16 into 0). GeNIe's ``<extensions>`` give
each node its label as title and a place on a grid, one row per generation
(roots on top), so that the file opens laid out.

GeNIe itself wants node and state ids that are identifiers (a letter, then
letters, digits or ``_``); kneebayes and pgmpy read any name, so names are
written as they are.

>>> import numpy as np
>>> from kneebayes.interop.parsed import ParsedVariable
>>> rain = ParsedVariable("Rain", ("yes", "no"), (), np.array([[0.2], [0.8]]))
>>> wet = ParsedVariable("Wet", ("yes", "no"), ("Rain",), np.array([[0.9, 0.1], [0.1, 0.9]]))
>>> text = write_xdsl([rain, wet], "tiny", {"Wet": "Is the grass wet?"})
>>> print(text[:text.index("  <extensions>")], end="")
<?xml version="1.0" encoding="UTF-8"?>
<smile version="1.0" id="tiny" numsamples="10000" discsamples="10000">
  <nodes>
    <cpt id="Rain">
      <state id="yes" />
      <state id="no" />
      <probabilities>0.2 0.8</probabilities>
    </cpt>
    <cpt id="Wet">
      <state id="yes" />
      <state id="no" />
      <parents>Rain</parents>
      <probabilities>0.9 0.1 0.1 0.9</probabilities>
    </cpt>
  </nodes>
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .exported import number
from .parsed import ParsedVariable

#: A network id GeNIe accepts; any other model name is written as "network".
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Node size and spacing on GeNIe's canvas, in its pixels.
_WIDTH, _HEIGHT, _GAP_X, _GAP_Y = 120, 48, 40, 60


def write_xdsl(variables: Sequence[ParsedVariable], name: str, labels: Mapping[str, str] | None = None) -> str:
    """The XDSL text of ``variables`` (parents first), network ``name``; ``labels`` gives nodes titles."""
    import xml.etree.ElementTree as ET

    net_id = name if _IDENTIFIER.fullmatch(name) else "network"
    root = ET.Element("smile", {"version": "1.0", "id": net_id, "numsamples": "10000", "discsamples": "10000"})
    nodes = ET.SubElement(root, "nodes")
    for v in variables:
        assert v.values is not None
        cpt = ET.SubElement(nodes, "cpt", {"id": v.name})
        for state in v.states:
            ET.SubElement(cpt, "state", {"id": state})
        if v.parents:
            ET.SubElement(cpt, "parents").text = " ".join(v.parents)
        ET.SubElement(cpt, "probabilities").text = " ".join(number(x) for x in v.values.ravel(order="F"))
    genie = ET.SubElement(ET.SubElement(root, "extensions"), "genie",
                          {"version": "1.0", "app": "kneebayes", "name": name or net_id})
    for v, (x, y) in zip(variables, _grid(variables)):
        node = ET.SubElement(genie, "node", {"id": v.name})
        ET.SubElement(node, "name").text = (labels or {}).get(v.name, v.name)
        ET.SubElement(node, "interior", {"color": "e5f6f7"})
        ET.SubElement(node, "outline", {"color": "000080"})
        ET.SubElement(node, "font", {"color": "000000", "name": "Arial", "size": "8"})
        ET.SubElement(node, "position").text = f"{x} {y} {x + _WIDTH} {y + _HEIGHT}"
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _grid(variables: Sequence[ParsedVariable]) -> list[tuple[int, int]]:
    """Each node's top-left corner: one row per generation (a node one row below its lowest parent)."""
    row: dict[str, int] = {}
    used: dict[int, int] = {}
    out = []
    for v in variables:   # parents first, so every parent's row is known
        r = max((row[p] + 1 for p in v.parents), default=0)
        row[v.name] = r
        column = used.get(r, 0)
        used[r] = column + 1
        out.append((20 + column * (_WIDTH + _GAP_X), 20 + r * (_HEIGHT + _GAP_Y)))
    return out
