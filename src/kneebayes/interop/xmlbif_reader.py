"""Read XMLBIF text (the XML format pgmpy's ``XMLBIFReader`` and Weka read) into parsed variables.

Read: a root element holding one ``<NETWORK>`` with one ``<NAME>``, its
``<VARIABLE>`` elements (a ``<NAME>`` and the states as ``<OUTCOME>``
elements) and its ``<DEFINITION>`` elements (``<FOR>`` the variable,
``<GIVEN>`` each parent in order, one ``<TABLE>`` of blank-separated numbers
listing the variable's own states fastest, as pgmpy reads it). A variable's
``<PROPERTY>`` elements (``key = value``) are read as
:func:`~.skipped.node_property` reads them: pyAgrum's ``description``
becomes the node's description, its ``fast`` must list the node's states,
``position`` is layout; empty ones (pgmpy writes ``<PROPERTY />``) say
nothing.

Not read and not warned about: the root's ``VERSION``, comments, the
writing program's name (a network ``<PROPERTY>software ...``, as pyAgrum
writes it), node positions. Skipped and named in one
:class:`~.skipped.SkippedContentWarning`: any other ``<PROPERTY>``, and
unknown elements, attributes or text outside the definitions (beside the
``<NETWORK>``, in it, or in a ``<VARIABLE>``).

Refused, naming node and element where known (one
:class:`~kneebayes.errors.ModelFileError` listing every problem found): any
``<!ENTITY`` declaration, before parsing, so entity expansion ("billion
laughs") cannot happen; XML that is not well-formed; elements nested deeper
than XMLBIF nests; no ``<NETWORK>`` or several, and a network without one
non-empty ``<NAME>``; a variable without a name, without states, with an
empty state, declared twice, or whose ``TYPE`` is not ``nature`` (a decision
or utility node); text in a ``<VARIABLE>`` outside its elements; a network
without variables; a definition without ``<FOR>``, for an undeclared
variable, or a second one for a variable; inside a definition, any element
but ``<FOR>``, ``<GIVEN>``, ``<TABLE>`` and ``<PROPERTY>``, any attribute
or stray text (each could change the table); an unknown, repeated or self
parent; a definition without exactly one ``<TABLE>``, a value that is not a
number, a table with the wrong number of values; a variable without a
definition; a ``fast`` property that lists other states.

The text is streamed through the standard library's expat parser, keeping
only the texts each variable and definition needs: memory stays in
proportion to the largest single element, time to the length of the text.
Whether the numbers are probabilities, the names usable as node ids and the
graph acyclic is checked later, for every source alike (:mod:`.build`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import QUOTE_LIMIT, ModelFileError, Problem, quote
from .parsed import ParsedVariable, Problems, check_parents, counted, needed, read_table, short, stream_xml
from .skipped import Skipped, node_property, split_property

#: How deep XMLBIF nests (BIF > NETWORK > VARIABLE > NAME); anything deeper is refused as it opens.
_MAX_XML_DEPTH = 4

#: The elements a ``<VARIABLE>`` and a ``<DEFINITION>`` hold; in a definition, anything else is refused.
_VARIABLE_PARTS = frozenset({"NAME", "OUTCOME", "PROPERTY"})
_DEFINITION_PARTS = frozenset({"FOR", "GIVEN", "TABLE", "PROPERTY"})

#: Elements of the older XML BIF (states as ``<VALUE>``, tables as ``<PROBABILITY>``): refused, never skipped,
#: since skipping them would lose states or tables.
_OLDER_BIF = frozenset({"VALUE", "TYPE", "PROBABILITY", "PRIOR", "LIKELIHOOD", "ENTRY", "DEFAULT"})
_OLDER_HINT = ("; it is an element of the older XML BIF, and kneebayes reads XMLBIF 0.3 (states as <OUTCOME>, "
               "tables as <DEFINITION>)")


@dataclass
class _Element:
    """A ``<VARIABLE>`` or ``<DEFINITION>`` as read: its leaves' texts, attributes, and what was amiss in it."""

    line: int
    attributes: dict[str, str]
    leaves: list[tuple[str, str]] = field(default_factory=list)        # (tag, text) of each leaf, in order
    properties: list[tuple[str, int]] = field(default_factory=list)   # (text, line) of each PROPERTY
    odd: list[tuple[str, int]] = field(default_factory=list)          # what the element holds besides, and where


def read_xmlbif(text: str, source: str) -> list[ParsedVariable]:
    """The variables of an XMLBIF text: entity declarations refused, then streamed through expat and checked.

    Only the texts each variable and definition needs are kept, so memory stays in proportion to the largest
    single element, not to the number of elements.

    >>> import kneebayes
    >>> from kneebayes.interop.files import xmlbif_text
    >>> variables = read_xmlbif(xmlbif_text(kneebayes.load_model()), "knee.xml")
    >>> len(variables), variables[0].name, variables[0].states
    (32, 'poor_warmup', ('yes', 'no'))
    """
    problems = Problems(source)
    at = text.find("<!ENTITY")
    if at >= 0:
        # Entities are never needed in XMLBIF, and nested ones expand exponentially ("billion laughs").
        problems.add("declares an XML entity (<!ENTITY ...); XMLBIF needs none, and entities are refused because "
                     "they can expand without bound", line=text.count("\n", 0, at) + 1)
        problems.raise_if_any()
    skipped = Skipped(source)
    variables, definitions, network_names, networks, root_tag = _stream(text, source, skipped)
    if networks != 1:
        problems.add(f"the root element <{short(root_tag)}> holds {networks} <NETWORK> elements; an XMLBIF file "
                     f"has exactly one")
        problems.raise_if_any()
    if len(network_names) != 1 or not network_names[0]:
        problems.add("the <NETWORK> has no <NAME> (or several, or an empty one); XMLBIF requires one")

    declared: dict[str, tuple[str, ...]] = {}
    described: dict[str, ParsedVariable] = {}   # each declared variable, carrying what its PROPERTYs say
    for i, variable in enumerate(variables):
        children = variable.leaves
        name = _text(children, "NAME")
        if name is None:
            problems.add(f"VARIABLE number {i + 1} has no <NAME> (or several, or an empty one)", field="VARIABLE",
                         line=variable.line)
            continue
        kind = variable.attributes.get("TYPE")
        if kind is not None and kind.strip().lower() != "nature":
            problems.add(f"is a {short(kind.strip())} node (TYPE={quote(kind)}); kneebayes reads chance nodes "
                         f"(TYPE=\"nature\") only", node=name, field="VARIABLE",
                         line=variable.line)   # declared all the same below
        for what, line in variable.odd:
            if what.startswith(("text ", "<VALUE>", "<TYPE>")):   # states outside <OUTCOME>? which were meant?
                problems.add(f"has {what} in its <VARIABLE>, which holds <NAME>, <OUTCOME> and <PROPERTY> "
                             f"elements{_OLDER_HINT if not what.startswith('text ') else ''}", node=name,
                             field="VARIABLE", line=line)
            else:
                skipped.add(what if what.startswith("attribute") else f"{what} in a <VARIABLE>", name)
        outcomes = [t for tag, t in children if tag == "OUTCOME"]
        if not outcomes:
            problems.add("has no <OUTCOME> (state)", node=name, field="OUTCOME", line=variable.line)
            continue
        if any(not o for o in outcomes):
            problems.add("has an empty <OUTCOME>; every state needs a name", node=name, field="OUTCOME",
                         line=variable.line)
            continue
        if name in declared:
            problems.add("is declared by two VARIABLE elements; declare each variable once", node=name,
                         field="VARIABLE", line=variable.line)
            continue
        declared[name] = tuple(outcomes)
        parsed = described[name] = ParsedVariable(name, declared[name], line=variable.line)
        for prop, line in variable.properties:
            problem = node_property(parsed, *split_property(prop), skipped, "PROPERTY")
            if problem is not None:
                problems.add(problem, node=name, field="PROPERTY", line=line)
    if not declared and not problems:
        problems.add("the <NETWORK> declares no <VARIABLE>; an XMLBIF network needs at least one")
    problems.raise_if_any()

    tables: dict[str, tuple[list[str], list[float], int]] = {}
    for i, definition in enumerate(definitions):
        children = definition.leaves
        var = _text(children, "FOR")
        if var is None:
            problems.add(f"DEFINITION number {i + 1} has no <FOR> (or several, or an empty one)", field="DEFINITION",
                         line=definition.line)
            continue
        if var not in declared:
            problems.add("has a DEFINITION but no VARIABLE declares it" + problems.hint(var, declared), node=var,
                         field="DEFINITION", line=definition.line)
            continue
        if var in tables:
            problems.add("has two DEFINITION elements; keep one (a reader would silently use one of them)",
                         node=var, field="DEFINITION", line=definition.line)
            continue
        tables[var] = ([], [], definition.line)   # marks it defined, even when the definition below is refused
        if definition.odd:
            what, line = definition.odd[0]
            problems.add(f"its DEFINITION holds {what}, which kneebayes does not read and which could change the "
                         f"table; a <DEFINITION> holds only <FOR>, <GIVEN>, <TABLE> and <PROPERTY> elements, "
                         f"without attributes", node=var, field="DEFINITION", line=line)
            continue
        for prop, _ in definition.properties:
            key, value = split_property(prop)
            if key or value:
                skipped.add(f"PROPERTY {quote(key)} of a DEFINITION", var)
        parents = [t for tag, t in children if tag == "GIVEN"]
        if not check_parents(var, parents, declared, problems, field="GIVEN", line=definition.line):
            continue
        texts = [t for tag, t in children if tag == "TABLE"]
        if len(texts) != 1:
            problems.add(f"its DEFINITION has {len(texts)} <TABLE> elements; it needs exactly one", node=var,
                         field="TABLE", line=definition.line)
            continue
        values = read_table(texts[0])
        if isinstance(values, str):
            problems.add(f"{quote(values)} in its <TABLE> is not a number", node=var, field="TABLE",
                         line=definition.line)
            continue
        card, cols = len(declared[var]), math.prod(len(declared[p]) for p in parents)
        if len(values) != card * cols:
            problems.add(f"its <TABLE> has {counted(len(values), 'value')}; {needed(card, cols)}", node=var,
                         field="TABLE", line=definition.line)
            continue
        tables[var] = (parents, values, definition.line)
    for var in declared:
        if var not in tables:
            problems.add("has no DEFINITION; every VARIABLE needs one with its <TABLE>", node=var,
                         field="DEFINITION", line=described[var].line)
    problems.raise_if_any()
    out: list[ParsedVariable] = []
    for var, states in declared.items():
        parents, values, line = tables[var]
        cols = math.prod(len(declared[p]) for p in parents)
        # XMLBIF lists the variable's own states fastest (pgmpy reads it the same way: order "F")
        parsed = described[var]
        parsed.parents = tuple(parents)
        parsed.values = np.array(values, dtype=float).reshape((len(states), cols), order="F")
        parsed.table_line = line
        out.append(parsed)
    skipped.warn()
    return out


def _stream(text: str, source: str, skipped: Skipped) -> tuple[list[_Element], list[_Element], list[str], int, str]:
    """The variables, definitions, network names and number of networks of the text, and the root's tag.

    Unknown content outside the definitions is noted in ``skipped`` (a variable's is kept with the variable,
    whose name comes later); what a definition holds besides its elements is kept with it, to be refused.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate()
    stack: list[str] = []
    variables: list[_Element] = []
    definitions: list[_Element] = []
    network_names: list[str] = []
    found: dict[str, Any] = {"root": "", "networks": 0}
    collecting: list[str] | None = None   # the text pieces of the leaf being read
    ignoring = 0                          # the depth of an unknown element whose content is not read (0: none)

    def refuse(why: str) -> None:
        raise ModelFileError([Problem(source, why, line=parser.CurrentLineNumber)])

    def current() -> _Element | None:
        """The VARIABLE or DEFINITION being read, if any."""
        if len(stack) >= 3 and stack[1] == "NETWORK":
            if stack[2] == "VARIABLE":
                return variables[-1]
            if stack[2] == "DEFINITION":
                return definitions[-1]
        return None

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal collecting, ignoring
        stack.append(tag)
        depth = len(stack)
        if depth > _MAX_XML_DEPTH:
            refuse(f"<{short(tag)}> inside <{short(stack[-2])}>: XMLBIF elements nest at most {_MAX_XML_DEPTH} "
                   f"deep and leaves hold only text")
        line = parser.CurrentLineNumber
        if ignoring:
            return
        if depth == 1:
            found["root"] = tag
            unknown = [a for a in attrs if a != "VERSION"]   # the format's version: about the file, not read
        elif depth == 2:
            if tag != "NETWORK":
                skipped.add(f"<{short(tag)}> beside the <NETWORK>")
                ignoring = depth
                return
            found["networks"] += 1
            unknown = list(attrs)
        elif stack[1] != "NETWORK":
            return
        elif depth == 3:
            if tag == "VARIABLE":
                variables.append(_Element(line, dict(attrs)))
                unknown = [a for a in attrs if a != "TYPE"]
            elif tag == "DEFINITION":
                definitions.append(_Element(line, {}))
                definitions[-1].odd.extend((f"the attribute {quote(a)}", line) for a in attrs)
                return
            elif tag in ("NAME", "PROPERTY"):
                collecting = []
                unknown = list(attrs)
            elif tag in _OLDER_BIF:
                refuse(f"<{tag}> in the <NETWORK>{_OLDER_HINT}")
            else:
                skipped.add(f"<{short(tag)}> in the <NETWORK>")
                ignoring = depth
                return
        else:   # depth 4: a leaf of a VARIABLE or DEFINITION (or inside an unknown NETWORK child)
            element = current()
            if element is None:   # inside the network's NAME or PROPERTY
                skipped.add(f"<{short(tag)}> in the network's <{stack[2]}>")
                ignoring = depth
                return
            parts = _VARIABLE_PARTS if stack[2] == "VARIABLE" else _DEFINITION_PARTS
            if tag not in parts:
                element.odd.append((f"<{short(tag)}>", line))
                ignoring = depth
                return
            collecting = []
            if attrs and stack[2] == "DEFINITION" and tag != "PROPERTY":   # it could change the table: refused
                element.odd.append((f"the attribute {quote(next(iter(attrs)))} of <{tag}>", line))
            elif attrs and stack[2] == "DEFINITION":
                for a in attrs:
                    skipped.add(f"attribute {quote(a)} of <PROPERTY> in a <DEFINITION>")
            elif attrs:
                element.odd.extend((f"attribute {quote(a)} of <{tag}> in a <VARIABLE>", line) for a in attrs)
            return
        for a in unknown:
            where = variables[-1].odd if depth == 3 and tag == "VARIABLE" else None
            what = f"attribute {quote(a)} of <{short(tag)}>"
            if where is not None:
                where.append((what, line))
            else:
                skipped.add(what)

    def end(tag: str) -> None:
        nonlocal collecting, ignoring
        depth = len(stack)
        if ignoring == depth:
            ignoring = 0
        elif collecting is not None:
            value = "".join(collecting)
            collecting = None
            if depth == 3:   # the network's NAME or PROPERTY
                if tag == "NAME":
                    network_names.append(value)
                else:
                    key, said = split_property(value)
                    if (key or said) and not key.startswith("software"):   # the program that wrote the file
                        skipped.add(f"PROPERTY {quote(key)} of the <NETWORK>")
            else:
                element = current()
                assert element is not None   # a leaf is collected only inside a VARIABLE or DEFINITION
                if tag == "PROPERTY":
                    element.properties.append((value, parser.CurrentLineNumber))
                else:
                    element.leaves.append((tag, value))
        stack.pop()

    def characters(data: str) -> None:
        if ignoring:
            return
        if collecting is not None:
            collecting.append(data)
        elif stack and data.strip():
            element = current()
            said = f"text {quote(data.strip(), QUOTE_LIMIT)}"
            if element is not None:
                element.odd.append((said, parser.CurrentLineNumber))
            else:
                skipped.add(f"the {said} in <{short(stack[-1])}>")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    stream_xml(parser, text, source)
    return variables, definitions, network_names, found["networks"], found["root"]


def _text(children: Sequence[tuple[str, str]], tag: str) -> str | None:
    """The text of the one ``tag`` child; None if there is none, several, or it is empty."""
    found = [t for name, t in children if name == tag]
    return found[0] if len(found) == 1 and found[0] else None
