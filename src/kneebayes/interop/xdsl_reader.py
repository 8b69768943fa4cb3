"""Read XDSL text (the XML format of GeNIe and SMILE, as pgmpy's ``XDSLReader`` reads it) into parsed variables.

Read: a root ``<smile>`` with a non-empty ``id``, holding one ``<nodes>``
whose children are the nodes, in any order. A ``<cpt>`` node has its states
(``<state id="..."/>``), at most one ``<parents>`` (blank-separated node
ids, in the table's order) and one ``<probabilities>`` (blank-separated
numbers, the node's own states fastest, then the last parent, as GeNIe and
pgmpy write them). A ``<deterministic>`` node has a ``<resultingstates>``
instead, one of its own states per parent combination: it is read as the
exact 0/1 table it stands for. Everything else is ignored: attributes such as
``diagtype``, ``<property>`` elements, and the ``<extensions>`` (GeNIe's
layout and node titles).

Refused, naming line and node where known (one
:class:`~kneebayes.errors.ModelFileError` listing every problem found):
``<!ENTITY`` and ``<!DOCTYPE`` declarations, before parsing, so entity
expansion ("billion laughs") and external entities cannot happen; XML that
is not well-formed; elements nested deeper than :data:`MAX_XDSL_DEPTH`; a
root other than ``<smile>``, without an ``id``, or without exactly one
``<nodes>``; a dynamic (temporal) network; a node of any type kneebayes
cannot turn into an exact table (noisy-MAX, noisy-adder, equation, decision,
utility, ...), named with its type; a node without an ``id``, declared
twice, or without states; a state without an ``id``; an unknown, repeated
or self parent; a table that is missing, repeated, not made of numbers or of
the wrong length; a resulting state the node does not have.

The text is streamed through the standard library's expat parser, in
pieces, keeping only the few texts each node needs: memory stays in
proportion to the largest node, time to the length of the text. Whether the
numbers are probabilities (no NaN, infinite or negative value, columns
summing to 1), the names usable as node ids and the graph acyclic is checked
later, for every source alike (:mod:`.build`).

>>> text = '''<smile version="1.0" id="tiny"><nodes>
... <cpt id="Rain"><state id="yes"/><state id="no"/><probabilities>0.2 0.8</probabilities></cpt>
... <deterministic id="Wet"><state id="yes"/><state id="no"/><parents>Rain</parents>
...   <resultingstates>yes no</resultingstates></deterministic>
... </nodes></smile>'''
>>> [(v.name, v.parents, v.values.tolist()) for v in read_xdsl(text, "tiny.xdsl")]
[('Rain', (), [[0.2], [0.8]]), ('Wet', ('Rain',), [[1.0, 0.0], [0.0, 1.0]])]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import QUOTE_LIMIT, ModelFileError, Problem, quote
from .parsed import ParsedVariable, Problems, check_parents, counted, listing, needed, read_table, short

#: How deep the elements of an XDSL file may nest. The nodes need 4 (smile > nodes > cpt > state); GeNIe's
#: layout in ``<extensions>`` nests submodels, rarely more than a few deep. Deeper is refused as it opens.
MAX_XDSL_DEPTH = 32

#: The largest 0/1 table a deterministic node may expand to (states x parent combinations): its text names one
#: state per column, so a short file could otherwise ask for a table of billions of cells.
MAX_DETERMINISTIC_CELLS = 1 << 22

#: The text is fed to the parser in pieces of this many characters.
_CHUNK = 1 << 16

#: The node types GeNIe writes that kneebayes cannot turn into an exact table, and what each is.
_UNSUPPORTED = {
    "noisymax": "a noisy-MAX node",
    "noisyadder": "a noisy-adder node",
    "equation": "an equation node (continuous)",
    "decision": "a decision node",
    "utility": "a utility node",
    "mau": "a multi-attribute utility node",
    "cast": "a cast node",
    "tdcpt": "a temporal node",
}

#: What the file may hold before the root element that kneebayes refuses, and why.
_DECLARATIONS = (
    ("<!ENTITY", "declares an XML entity (<!ENTITY ...); XDSL needs none, and entities are refused because they "
                 "can expand without bound"),
    ("<!DOCTYPE", "has a document type declaration (<!DOCTYPE ...); XDSL needs none, and it is refused because it "
                  "can declare entities"),
)


@dataclass
class _Node:
    """One node element as read: its type, id, line, and the children kneebayes uses."""

    kind: str
    name: str | None
    line: int
    states: list[str | None] = field(default_factory=list)
    texts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)   # tag -> (text, line) of each


def read_xdsl(text: str, source: str) -> list[ParsedVariable]:
    """The variables of an XDSL text: declarations refused, then streamed through expat and checked."""
    problems = Problems(source)
    for declaration, why in _DECLARATIONS:
        at = text.find(declaration)
        if at >= 0:
            problems.add(why, line=text.count("\n", 0, at) + 1)
            problems.raise_if_any()
    nodes, root, root_id, node_lists, dynamic = _stream(text, source)
    if root != "smile":
        problems.add(f"the root element is <{short(root)}>; an XDSL file (GeNIe) has the root <smile>")
        problems.raise_if_any()
    if not root_id:
        problems.add("the <smile> root has no id; XDSL names the network with <smile id=\"...\">")
    if dynamic:
        problems.add(f"is a dynamic (temporal) network (<dynamic> at line {dynamic}); only static networks can be "
                     f"imported")
    if node_lists != 1:
        problems.add(f"the <smile> root holds {node_lists} <nodes> elements; an XDSL file has exactly one")
    problems.raise_if_any()
    return _resolve(nodes, problems)


def _stream(text: str, source: str) -> tuple[list[_Node], str, str | None, int, int]:
    """The nodes of the text, the root's tag and id, the number of ``<nodes>`` and the line of any ``<dynamic>``."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    nodes: list[_Node] = []
    stack: list[str] = []
    found: dict[str, Any] = {"root": "", "id": None, "lists": 0, "dynamic": 0}
    collecting: list[str] | None = None   # the text pieces of the node child being read

    def refuse(why: str) -> None:
        raise ModelFileError([Problem(source, why, line=parser.CurrentLineNumber)])

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal collecting
        stack.append(tag)
        depth = len(stack)
        if depth > MAX_XDSL_DEPTH:
            refuse(f"<{short(tag)}> inside <{short(stack[-2])}>: XDSL elements nest at most {MAX_XDSL_DEPTH} deep")
        if depth == 1:
            found["root"], found["id"] = tag, attrs.get("id")
        elif depth == 2:
            if tag == "nodes":
                found["lists"] += 1
            elif tag == "dynamic" and not found["dynamic"]:
                found["dynamic"] = parser.CurrentLineNumber
        elif depth == 3 and stack[1] == "nodes":
            nodes.append(_Node(tag, attrs.get("id"), parser.CurrentLineNumber))
        elif depth == 4 and stack[1] == "nodes":
            node = nodes[-1]
            if tag == "state":
                node.states.append(attrs.get("id"))
            elif tag in ("parents", "probabilities", "resultingstates"):
                collecting = []
                node.texts.setdefault(tag, []).append(("", parser.CurrentLineNumber))

    def end(tag: str) -> None:
        nonlocal collecting
        if len(stack) == 4 and collecting is not None:
            pieces = nodes[-1].texts[tag]
            pieces[-1] = ("".join(collecting), pieces[-1][1])
            collecting = None
        stack.pop()

    def characters(data: str) -> None:
        if collecting is not None and len(stack) == 4:
            collecting.append(data)

    def declaration(*_: Any) -> None:   # never reached after the text check; kept so that no DTD can act
        refuse("has a document type or entity declaration; XDSL needs none")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = declaration
    parser.EntityDeclHandler = declaration
    try:
        for i in range(0, len(text), _CHUNK):
            parser.Parse(text[i:i + _CHUNK], False)
        parser.Parse("", True)
    except expat.ExpatError as exc:
        raise ModelFileError([Problem(source, f"is not well-formed XML ({short(str(exc), 2 * QUOTE_LIMIT)})",
                                      line=exc.lineno)]) from None
    return nodes, found["root"], found["id"], found["lists"], found["dynamic"]


def _resolve(nodes: list[_Node], problems: Problems) -> list[ParsedVariable]:
    """Check each node on its own, then its parents and table against the others."""
    declared: dict[str, tuple[tuple[str, ...], int]] = {}
    kept: list[_Node] = []
    for i, node in enumerate(nodes):
        if not node.name:
            problems.add(f"node number {i + 1} (<{short(node.kind)}>) has no id", line=node.line)
            continue
        if node.kind not in ("cpt", "deterministic"):
            what = _UNSUPPORTED.get(node.kind, f"a <{short(node.kind)}> node")
            problems.add(f"is {what}; only <cpt> nodes (and <deterministic> ones, read as 0/1 tables) can be "
                         f"imported: convert it to a probability table in GeNIe", node=node.name,
                         field=node.kind, line=node.line)
            continue
        if node.name in declared:
            problems.add(f"is declared twice (lines {declared[node.name][1]} and {node.line}); declare each node "
                         f"once", node=node.name, field=node.kind, line=node.line)
            continue
        if not node.states:
            problems.add("has no <state>; a node needs its states", node=node.name, field="state", line=node.line)
            continue
        if any(s is None for s in node.states):
            problems.add("has a <state> without an id; write <state id=\"...\"/>", node=node.name, field="state",
                         line=node.line)
            continue
        declared[node.name] = (tuple(s for s in node.states if s is not None), node.line)
        kept.append(node)
    if not nodes and not problems:
        problems.add("the <nodes> element holds no node; an XDSL network needs at least one <cpt>")
    problems.raise_if_any()

    out: list[ParsedVariable] = []
    for node in kept:
        name = node.name
        assert name is not None   # nodes without an id were refused above
        states = declared[name][0]
        listed = node.texts.get("parents", [])
        if len(listed) > 1:
            problems.add(f"has {len(listed)} <parents> elements; list every parent in one", node=name,
                         field="parents", line=listed[1][1])
            continue
        parents = listed[0][0].split() if listed else []
        if not check_parents(name, parents, declared, problems, field="parents",
                             line=listed[0][1] if listed else node.line):
            continue
        cols = math.prod(len(declared[p][0]) for p in parents)
        tag = "probabilities" if node.kind == "cpt" else "resultingstates"
        tables = node.texts.get(tag, [])
        if len(tables) != 1:
            problems.add(f"has {len(tables)} <{tag}> elements; a <{node.kind}> node needs exactly one", node=name,
                         field=tag, line=tables[1][1] if tables else node.line)
            continue
        table_text, table_line = tables[0]
        if node.kind == "cpt":
            values = _probabilities(name, table_text, len(states), cols, problems, table_line)
        else:
            values = _resulting(name, table_text, states, cols, problems, table_line)
        if values is not None:
            out.append(ParsedVariable(name, states, tuple(parents), values, node.line, table_line))
    problems.raise_if_any()
    return out


def _probabilities(name: str, text: str, card: int, cols: int, problems: Problems, line: int) -> np.ndarray | None:
    """A ``<probabilities>`` text as a (states, columns) table; the node's own states are listed fastest."""
    values = read_table(text)
    if isinstance(values, str):
        problems.add(f"{quote(values)} in its <probabilities> is not a number", node=name, field="probabilities",
                     line=line)
        return None
    if len(values) != card * cols:
        problems.add(f"its <probabilities> has {counted(len(values), 'value')}; {needed(card, cols)}", node=name,
                     field="probabilities", line=line)
        return None
    return np.array(values, dtype=float).reshape((card, cols), order="F")


def _resulting(name: str, text: str, states: tuple[str, ...], cols: int, problems: Problems,
               line: int) -> np.ndarray | None:
    """A deterministic node's ``<resultingstates>`` as its exact 0/1 table."""
    chosen = text.split()
    if len(chosen) != cols:
        problems.add(f"its <resultingstates> names {counted(len(chosen), 'state')}; it needs one per parent "
                     f"combination ({cols})", node=name, field="resultingstates", line=line)
        return None
    if len(states) * cols > MAX_DETERMINISTIC_CELLS:
        problems.add(f"its table would have {len(states) * cols:,} cells, over the limit of "
                     f"{MAX_DETERMINISTIC_CELLS:,}", node=name, field="resultingstates", line=line)
        return None
    index = {s: i for i, s in enumerate(states)}
    rows = []
    for s in chosen:
        i = index.get(s)
        if i is None:
            problems.add(f"its <resultingstates> names {quote(s)}, which is not one of its states "
                         f"({listing(states)})", node=name, field="resultingstates", line=line)
            return None
        rows.append(i)
    table = np.zeros((len(states), cols))
    table[rows, np.arange(cols)] = 1.0
    return table
