"""Read XDSL text (the XML format of GeNIe and SMILE, as pgmpy's ``XDSLReader`` reads it) into parsed variables.

Read: a root ``<smile>`` with a non-empty ``id``, holding one ``<nodes>``
whose children are the nodes, in any order. A ``<cpt>`` node has its states
(``<state id="..."/>``), at most one ``<parents>`` (blank-separated node
ids, in the table's order) and one ``<probabilities>`` (blank-separated
numbers, the node's own states fastest, then the last parent, as GeNIe and
pgmpy write them). A ``<deterministic>`` node has a ``<resultingstates>``
instead, one of its own states per parent combination: it is read as the
exact 0/1 table it stands for. In GeNIe's ``<extensions>``, a node's title
(``<name>``) becomes its label, where it says more than the id, and its
``<comment>`` its description, submodels included.

Not read and not warned about: what describes the file (the root's
``version``, ``id``, GeNIe's ``<extensions><genie>`` attributes, comments)
or GeNIe's own algorithms (``numsamples``, ``discsamples``,
``<algparams>``), and each node's looks in GeNIe's window (``interior``,
``outline``, ``font``, ``position``, ``barchart``). Skipped and named in
one :class:`~.skipped.SkippedContentWarning`: GeNIe's diagnosis attributes
(``diagtype``, ``ranked``, ``mandatory``; give ``targets`` and
``normal_states`` instead), attributes of a state (``fault``, ``label``,
...), ``<property>`` elements, text boxes, the network's comment, and any
other element or attribute outside the nodes' tables.

Refused, naming line and node where known (one
:class:`~kneebayes.errors.ModelFileError` listing every problem found):
``<!ENTITY`` and ``<!DOCTYPE`` declarations, before parsing, so entity
expansion ("billion laughs") and external entities cannot happen; XML that
is not well-formed; elements nested deeper than :data:`MAX_XDSL_DEPTH`; a
root other than ``<smile>``, without an ``id``, or without exactly one
``<nodes>``; a dynamic (temporal) network, or a node of a temporal plate
(``dynamic="plate"``); a node of any type kneebayes cannot turn into an
exact table (noisy-MAX, noisy-adder, equation, decision, utility, ...),
named with its type; inside a ``<cpt>`` or ``<deterministic>`` node, an
element it does not hold, an attribute of its ``<parents>`` or table, or
text outside its elements (each could change the table); a node without an
``id``, declared twice, or without states; a file pyAgrum wrote
(``<genie app="aGrUM ...">``) with a node of two or more parents, whose
table pyAgrum lists in another order; a state without an ``id``; an unknown, repeated
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

from ..errors import ModelFileError, Problem, quote
from .parsed import ParsedVariable, Problems, check_parents, counted, listing, needed, read_table, short, stream_xml
from .skipped import Skipped

#: How deep the elements of an XDSL file may nest. The nodes need 4 (smile > nodes > cpt > state); GeNIe's
#: layout in ``<extensions>`` nests submodels, rarely more than a few deep. Deeper is refused as it opens.
MAX_XDSL_DEPTH = 32

#: The largest 0/1 table a deterministic node may expand to (states x parent combinations): its text names one
#: state per column, so a short file could otherwise ask for a table of billions of cells.
MAX_DETERMINISTIC_CELLS = 1 << 22

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
    """One node element as read: its type, id, line, the children kneebayes uses, and what else it holds."""

    kind: str
    name: str | None
    line: int
    states: list[str | None] = field(default_factory=list)
    texts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)   # tag -> (text, line) of each
    odd: list[tuple[str, int]] = field(default_factory=list)       # what could change its table, and where: refused
    skipped: list[str] = field(default_factory=list)               # what it holds that is not read, named


@dataclass
class _Stream:
    """What one pass over the text found."""

    nodes: list[_Node] = field(default_factory=list)
    root: str = ""
    root_id: str | None = None
    node_lists: int = 0
    dynamic: int = 0                                                # the line of a <dynamic> element, if any
    titles: dict[str, tuple[str, str]] = field(default_factory=dict)   # node id -> GeNIe's title and comment
    app: str = ""                                                   # the program that wrote the file, as it says


#: What the elements of a node hold, by node kind: anything else is refused (it could change the table).
_NODE_PARTS = {"cpt": frozenset({"state", "parents", "probabilities", "property"}),
               "deterministic": frozenset({"state", "parents", "resultingstates", "property"})}

#: Attributes that describe the file or GeNIe's own algorithms, never read and never warned about.
_ROOT_ATTRIBUTES = frozenset({"version", "id", "numsamples", "discsamples"})
_GENIE_ATTRIBUTES = frozenset({"version", "app", "name", "faultnameformat"})

#: GeNIe's diagnosis attributes of a node (its role in GeNIe's diagnosis mode), named as such when skipped.
_DIAGNOSIS_ATTRIBUTES = frozenset({"diagtype", "ranked", "mandatory", "setasdefault"})

#: How pyAgrum names itself in ``<genie app="...">``: its tables of two or more parents are in another order.
_PYAGRUM = "aGrUM"

#: Elements of a node's (or submodel's) place in GeNIe's window: its looks, never read and never warned about.
_LAYOUT = frozenset({"interior", "outline", "font", "position", "barchart"})


def read_xdsl(text: str, source: str) -> list[ParsedVariable]:
    """The variables of an XDSL text: declarations refused, then streamed through expat and checked."""
    problems = Problems(source)
    for declaration, why in _DECLARATIONS:
        at = text.find(declaration)
        if at >= 0:
            problems.add(why, line=text.count("\n", 0, at) + 1)
            problems.raise_if_any()
    skipped = Skipped(source)
    found = _stream(text, source, skipped)
    if found.root != "smile":
        problems.add(f"the root element is <{short(found.root)}>; an XDSL file (GeNIe) has the root <smile>")
        problems.raise_if_any()
    if not found.root_id:
        problems.add("the <smile> root has no id; XDSL names the network with <smile id=\"...\">")
    if found.dynamic:
        problems.add(f"is a dynamic (temporal) network (<dynamic> at line {found.dynamic}); only static networks "
                     f"can be imported")
    if found.node_lists != 1:
        problems.add(f"the <smile> root holds {found.node_lists} <nodes> elements; an XDSL file has exactly one")
    problems.raise_if_any()
    out = _resolve(found.nodes, problems, skipped)
    if found.app.startswith(_PYAGRUM):
        # pyAgrum lists a table's parents first one fastest, where GeNIe and pgmpy list the last one fastest: read as
        # XDSL, such a table would come out transposed
        wide = [v.name for v in out if len(v.parents) >= 2]
        if wide:
            problems.add(f"was written by pyAgrum (app={quote(found.app)}), whose XDSL tables of two or more parents "
                         f"list the first parent fastest, not the last as GeNIe does; {counted(len(wide), 'node')} "
                         f"({', '.join(quote(n) for n in wide[:3])}{', ...' if len(wide) > 3 else ''}) would be "
                         f"read transposed: save it from pyAgrum as BIF or XMLBIF "
                         f"(.bifxml) instead")
            problems.raise_if_any()
    by_name = {v.name: v for v in out}
    for node_id, (title, comment) in found.titles.items():
        variable = by_name.get(node_id)
        if variable is None:
            skipped.add("a title in GeNIe's <extensions> for no node of the network", node_id)
            continue
        if title.strip() and title.strip() != node_id:
            variable.label = title.strip()
        if comment.strip():
            variable.description = comment.strip()
    skipped.warn()
    return out


def _stream(text: str, source: str, skipped: Skipped) -> _Stream:
    """The nodes of the text, what its root and GeNIe's extensions say, and what it holds besides (in ``skipped``
    or, where it could change a table, with its node, to be refused)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    found = _Stream()
    # The context of each open element: "root", "nodes", "node", "part" (a node's child that is read), "extensions",
    # "genie" (or a submodel in it), "title" (a node in GeNIe's extensions), "text" (a title's name or comment),
    # "skip" (not read, its content neither).
    stack: list[str] = []
    tags: list[str] = []                  # the open elements' tags
    collecting: list[str] | None = None   # the text pieces of the element being read
    title: list[str] = ["", "", ""]       # the node id, name and comment of GeNIe's node being read

    def refuse(why: str) -> None:
        raise ModelFileError([Problem(source, why, line=parser.CurrentLineNumber)])

    def context(tag: str, attrs: dict[str, str], parent: str | None, line: int) -> str:
        """What the element opened is, and what is noted about it."""
        depth = len(stack) + 1
        if parent is None:
            found.root, found.root_id = tag, attrs.get("id")
            unknown = [a for a in attrs if a not in _ROOT_ATTRIBUTES]
            skipped_on(unknown, tag)
            return "root"
        if parent == "root":
            if tag == "nodes":
                found.node_lists += 1
                return "nodes"
            if tag == "extensions":
                return "extensions"
            if tag == "dynamic" and not found.dynamic:
                found.dynamic = line
            elif tag != "algparams":   # GeNIe's settings of its own algorithms: kneebayes computes exactly
                skipped.add(f"<{short(tag)}> in <smile>")
            return "skip"
        if parent == "nodes":
            node = _Node(tag, attrs.get("id"), line)
            found.nodes.append(node)
            for a, value in attrs.items():
                if a == "dynamic":   # a node of a temporal plate: unrolled over time, it is no static table
                    node.odd.append((f"is a temporal node (dynamic={quote(value)}); only static networks can be "
                                     f"imported", line))
                elif a in _DIAGNOSIS_ATTRIBUTES:
                    node.skipped.append(f"GeNIe's diagnosis attribute {quote(a)}")
                elif a != "id":
                    node.skipped.append(f"attribute {quote(a)} of <{short(tag)}>")
            return "node"
        if parent == "node":
            node = found.nodes[-1]
            parts = _NODE_PARTS.get(node.kind)
            if parts is None:   # a kind refused as a whole: its parts are not looked at
                return "skip"
            if tag not in parts:
                node.odd.append((f"holds <{short(tag)}>, which kneebayes does not read and which could change its "
                                 f"table; a <{node.kind}> holds {', '.join(f'<{p}>' for p in sorted(parts))}", line))
                return "skip"
            if tag == "property":
                node.skipped.append(f"<property id={quote(attrs.get('id', ''))}>")
                return "skip"
            if tag == "state":
                node.states.append(attrs.get("id"))
                node.skipped.extend(f"attribute {quote(a)} of <state>" for a in attrs if a != "id")
                return "state"
            if attrs:
                node.odd.append((f"gives its <{tag}> the attribute {quote(next(iter(attrs)))}, which kneebayes "
                                 f"does not read and which could change its table", line))
            node.texts.setdefault(tag, []).append(("", line))
            return "part"
        if parent in ("part", "state"):
            node = found.nodes[-1]
            if parent == "part":
                node.odd.append((f"holds <{short(tag)}> inside its <{tags[-1]}>, which holds only text", line))
            else:
                node.skipped.append(f"<{short(tag)}> in a <state>")
            return "skip"
        if parent == "extensions":
            if tag == "genie":
                skipped_on([a for a in attrs if a not in _GENIE_ATTRIBUTES], tag)
                found.app = found.app or attrs.get("app", "")
                return "genie"
            skipped.add(f"<{short(tag)}> in <extensions>")
            return "skip"
        if parent == "genie":
            if tag == "node":
                title[:] = [attrs.get("id", ""), "", ""]
                return "title"
            if tag == "submodel":   # a group of nodes in GeNIe's window; its nodes have titles too
                return "genie"
            if tag in _LAYOUT or tag == "name" and depth > 4:   # a submodel's looks and name
                return "skip"
            skipped.add(f"GeNIe's <{short(tag)}>")
            return "skip"
        if parent == "title":
            if tag in ("name", "comment"):
                return tag
            if tag not in _LAYOUT:
                skipped.add(f"GeNIe's <{short(tag)}> of a node", title[0] or None)
            return "skip"
        return "skip"

    def skipped_on(attributes: list[str], tag: str) -> None:
        for a in attributes:
            skipped.add(f"attribute {quote(a)} of <{short(tag)}>")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal collecting
        if len(stack) >= MAX_XDSL_DEPTH:
            refuse(f"<{short(tag)}> inside an element {MAX_XDSL_DEPTH} deep: XDSL elements nest at most "
                   f"{MAX_XDSL_DEPTH} deep")
        parent = stack[-1] if stack else None
        kind = "skip" if parent == "skip" else context(tag, attrs, parent, parser.CurrentLineNumber)
        stack.append(kind)
        tags.append(tag)
        if kind in ("part", "name", "comment"):
            collecting = []

    def end(tag: str) -> None:
        nonlocal collecting
        kind = stack.pop()
        tags.pop()
        if kind == "part" and collecting is not None:
            pieces = found.nodes[-1].texts[tag]
            pieces[-1] = ("".join(collecting), pieces[-1][1])
        elif kind == "name" and collecting is not None:
            title[1] = "".join(collecting)
        elif kind == "comment" and collecting is not None:
            title[2] = "".join(collecting)
        elif kind == "title" and title[0]:
            if title[0] in found.titles:
                skipped.add("a second title in GeNIe's <extensions>", title[0])
            else:
                found.titles[title[0]] = (title[1], title[2])
        if kind in ("part", "name", "comment"):
            collecting = None

    def characters(data: str) -> None:
        if collecting is not None:
            collecting.append(data)
        elif stack and stack[-1] in ("node", "state") and data.strip():
            found.nodes[-1].odd.append((f"holds the text {quote(data.strip())} outside its elements",
                                        parser.CurrentLineNumber))
        elif stack and stack[-1] not in ("skip",) and data.strip():
            skipped.add(f"the text {quote(data.strip())}")

    def declaration(*_: Any) -> None:   # never reached after the text check; kept so that no DTD can act
        refuse("has a document type or entity declaration; XDSL needs none")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = declaration
    parser.EntityDeclHandler = declaration
    stream_xml(parser, text, source)
    return found


def _resolve(nodes: list[_Node], problems: Problems, skipped: Skipped) -> list[ParsedVariable]:
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
        if node.odd:
            why, line = node.odd[0]
            problems.add(why, node=node.name, field=node.kind, line=line)
            continue
        for what in node.skipped:
            skipped.add(what, node.name)
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
