"""What a network reader did not read: gathered while reading, then named in one warning per source.

Every reader (:mod:`.bif_reader`, :mod:`.xmlbif_reader`, :mod:`.xdsl_reader`,
:mod:`.pgmpy_reader`) sorts what it meets four ways
(``docs/your-own-network.md``, section 7, has the table per format):

* **read** into the model: nodes, states, parents and tables, and the few
  extras a model has a place for (a GeNIe node title becomes the node's
  label, a description or GeNIe comment its description, a pgmpy latent
  node is not asked about);
* **refused** with a :class:`~kneebayes.errors.ModelFileError`: anything
  whose omission could change the numbers or the structure (an unknown
  element inside a table's definition, a decision node, a temporal node);
* **never read, by design, and not warned about**: what describes the file
  or its looks rather than the network (the XML declaration, comments, the
  format's version, the name of the program that wrote it, node positions,
  colours and fonts, GeNIe's sampling settings);
* **skipped and named**: everything else, extensions a kneebayes model has
  no place for (GeNIe's diagnosis attributes, user properties, text boxes,
  unknown elements outside the tables). One :class:`SkippedContentWarning`
  per source lists each kind and where it was found.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from ..errors import QUOTE_LIMIT, quote, stacklevel_outside
from .parsed import ParsedVariable, listing, short

#: Property keys that describe a node's looks, never read and never warned about.
LAYOUT_PROPERTIES = frozenset({"position"})

#: At most this many kinds of skipped content are listed in the warning (the rest are counted).
MAX_KINDS = 12

#: At most this many nodes are named for each kind.
MAX_NODES = 3

#: pyAgrum's ``fast`` property for a labelled variable: ``name{state1|state2|...}``.
_FAST_LABELLED = re.compile(r"[^{}\[\]]*\{(.*)\}", re.DOTALL)


class SkippedContentWarning(UserWarning):
    """A network file (or pgmpy model) held content a kneebayes model has no place for, which was not read.

    The structure and numbers are read in full; what was skipped is an
    extension of another tool (GeNIe's diagnosis attributes, a user
    property, a text box, an unknown element outside the tables), named in
    the message with the nodes it was found on. Anything whose omission
    could change the numbers or the structure is refused instead, and what
    only describes the file or its looks (comments, versions, positions,
    colours) is neither read nor warned about (``docs/your-own-network.md``,
    section 7). Turn it into an error with
    ``warnings.simplefilter("error", kneebayes.SkippedContentWarning)``:

    >>> import os, tempfile, warnings
    >>> import kneebayes
    >>> path = os.path.join(tempfile.mkdtemp(), "rain.bif")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("network rain {}\\n"
    ...                 "variable Rain { type discrete [ 2 ] { yes, no }; property author = me; }\\n"
    ...                 "probability ( Rain ) { table 0.2, 0.8; }\\n")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = kneebayes.load_network(path, targets=["Rain"])
    >>> print(caught[0].message)
    rain.bif: not read, as a kneebayes model has no place for it: property 'author' (node 'Rain'); the nodes, states, parents and numbers are read in full
    """


class Skipped:
    """The kinds of content one source held that were not read, each with the nodes it was found on (bounded)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: dict[str, list[str]] = {}   # kind -> the first MAX_NODES nodes it was found on
        self.counts: dict[str, int] = {}        # kind -> how many times it was found
        self.more = 0                           # finds of kinds past MAX_KINDS

    def add(self, what: str, node: str | None = None) -> None:
        """Note one piece of content not read: ``what`` it is (bounded by the caller), and its node if any."""
        if what not in self.counts:
            if len(self.counts) >= MAX_KINDS:
                self.more += 1
                return
            self.counts[what] = 0
            self.nodes[what] = []
        self.counts[what] += 1
        found = self.nodes[what]
        if node is not None and len(found) < MAX_NODES and node not in found:
            found.append(short(node))

    def __bool__(self) -> bool:
        return bool(self.counts)

    def message(self) -> str:
        """The warning's text: each kind with where it was found.

        >>> skipped = Skipped("rain.xdsl")
        >>> for node in ("Rain", "Sprinkler", "Wet", "Hail"):
        ...     skipped.add("attribute 'diagtype'", node)
        >>> skipped.add("<textbox>")
        >>> print(skipped.message())
        rain.xdsl: not read, as a kneebayes model has no place for them: attribute 'diagtype' (4 nodes: 'Rain', 'Sprinkler', 'Wet', ...), <textbox>; the nodes, states, parents and numbers are read in full
        """
        parts = []
        for what, count in self.counts.items():
            nodes = self.nodes[what]
            if nodes:
                where = f"node {quote(nodes[0])}" if count == 1 else (
                    f"{count} nodes: {listing(nodes, MAX_NODES)}" if count == len(nodes) else
                    f"{count} nodes: {', '.join(quote(n) for n in nodes)}, ...")
                parts.append(f"{what} ({where})")
            else:
                parts.append(what if count == 1 else f"{what} ({count} times)")
        if self.more:
            parts.append(f"... and {self.more} more of other kinds")
        it = "it" if len(parts) == 1 and sum(self.counts.values()) == 1 else "them"
        return (f"{short(self.source, 4 * QUOTE_LIMIT)}: not read, as a kneebayes model has no place for {it}: "
                f"{', '.join(parts)}; the nodes, states, parents and numbers are read in full")

    def warn(self) -> None:
        """Give the one :class:`SkippedContentWarning` for this source, if anything was skipped."""
        if self:
            warnings.warn(self.message(), SkippedContentWarning, stacklevel=stacklevel_outside())


def split_property(text: str) -> tuple[str, str]:
    """A property's ``key = value`` text as ``(key, value)``, both stripped; a text without ``=`` is all key.

    >>> split_property(" position = (10, 20) "), split_property("software aGrUM")
    (('position', '(10, 20)'), ('software aGrUM', ''))
    """
    key, sep, value = text.partition("=")
    return (key.strip(), value.strip()) if sep else (text.strip(), "")


def node_property(variable: ParsedVariable, key: str, value: Any, skipped: Skipped, what: str) -> str | None:
    """Read one property of ``variable`` (an XMLBIF ``PROPERTY``, a BIF ``property`` line, a pgmpy node
    attribute), or skip it; a problem's message if it contradicts what the file says elsewhere.

    ``description`` (pyAgrum writes one per node) becomes the node's
    description where it says more than the node's name; ``position`` is
    layout; pyAgrum's ``fast`` restates the states, and ``name{a|b}`` must
    list the node's own; any other key is skipped and named (``what`` says
    what it is: ``"PROPERTY"``, ``"property"``, ``"node attribute"``).

    >>> from kneebayes.interop.parsed import ParsedVariable
    >>> lung, skipped = ParsedVariable("lung", ("yes", "no")), Skipped("net.xml")
    >>> node_property(lung, "description", "lung cancer", skipped, "PROPERTY"), lung.description
    (None, 'lung cancer')
    >>> node_property(lung, "fast", "lung{no|yes}", skipped, "PROPERTY")
    "its pyAgrum property 'fast' lists the states 'no', 'yes', but the node's states are 'yes', 'no'"
    >>> node_property(lung, "colour", "red", skipped, "PROPERTY"), skipped.counts
    (None, {"PROPERTY 'colour'": 1})
    """
    text = "" if value is None else str(value)
    if key in LAYOUT_PROPERTIES or (not key and not text.strip()):
        return None
    if key == "description":
        described = text.strip()
        if not described or described == variable.name:   # pyAgrum's default description is the name
            return None
        if variable.description is None:
            variable.description = described
        elif described != variable.description:
            skipped.add(f"a second {what} 'description'", variable.name)
        return None
    if key == "fast":
        labelled = _FAST_LABELLED.fullmatch(text.strip())
        if labelled is not None:
            states = tuple(s.strip() for s in labelled.group(1).split("|"))
            if states != variable.states:
                return (f"its pyAgrum property 'fast' lists the states {listing(states)}, but the node's states are "
                        f"{listing(variable.states)}")
        return None   # other forms (a range, a discretisation) restate the states in pyAgrum's notation
    skipped.add(f"{what} {quote(key)}", variable.name)
    return None
