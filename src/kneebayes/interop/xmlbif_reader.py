"""Read XMLBIF text (the XML format pgmpy's ``XMLBIFReader`` and Weka read) into parsed variables.

Read: a root element holding one ``<NETWORK>`` with one ``<NAME>``, its
``<VARIABLE>`` elements (a ``<NAME>`` and the states as ``<OUTCOME>``
elements) and its ``<DEFINITION>`` elements (``<FOR>`` the variable,
``<GIVEN>`` each parent in order, one ``<TABLE>`` of blank-separated numbers
listing the variable's own states fastest, as pgmpy reads it). Other
elements and attributes, such as ``<PROPERTY>``, are ignored, but for a
variable's ``TYPE``.

Refused, naming node and element where known (one
:class:`~kneebayes.errors.ModelFileError` listing every problem found): any
``<!ENTITY`` declaration, before parsing, so entity expansion ("billion
laughs") cannot happen; XML that is not well-formed; elements nested deeper
than XMLBIF nests; no ``<NETWORK>`` or several, and a network without one
non-empty ``<NAME>``; a variable without a name, without states, with an
empty state, declared twice, or whose ``TYPE`` is not ``nature`` (a decision
or utility node); a network without variables; a definition
without ``<FOR>``, for an undeclared variable, or a second one for a
variable; an unknown, repeated or self parent; a definition without exactly
one ``<TABLE>``, a value that is not a number, a table with the wrong number
of values; a variable without a definition.

The text is streamed through the standard library's expat parser, each
element dropped once read: memory stays in proportion to the largest single
element, time to the length of the text. Whether the numbers are
probabilities, the names usable as node ids and the graph acyclic is
checked later, for every source alike (:mod:`.build`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import QUOTE_LIMIT, ModelFileError, Problem, quote
from .parsed import ParsedVariable, Problems, check_parents, counted, needed, read_table, short

#: How deep XMLBIF nests (BIF > NETWORK > VARIABLE > NAME); anything deeper is refused as it opens.
_MAX_XML_DEPTH = 4

#: The text is fed to the XML parser in pieces of this many characters, so its events never pile up.
_XML_CHUNK = 1 << 16


def read_xmlbif(text: str, source: str) -> list[ParsedVariable]:
    """The variables of an XMLBIF text: entity declarations refused, then streamed through expat and checked.

    Each element is dropped from the tree as soon as it has been read, so memory stays in proportion to
    the largest single element, not to the number of elements (ElementTree would keep them all).

    >>> import kneebayes
    >>> from kneebayes.interop.files import xmlbif_text
    >>> variables = read_xmlbif(xmlbif_text(kneebayes.load_model()), "knee.xml")
    >>> len(variables), variables[0].name, variables[0].states
    (32, 'poor_warmup', ('yes', 'no'))
    """
    import xml.etree.ElementTree as ET

    problems = Problems(source)
    at = text.find("<!ENTITY")
    if at >= 0:
        # Entities are never needed in XMLBIF, and nested ones expand exponentially ("billion laughs").
        problems.add("declares an XML entity (<!ENTITY ...); XMLBIF needs none, and entities are refused because "
                     "they can expand without bound", line=text.count("\n", 0, at) + 1)
        problems.raise_if_any()
    parser = ET.XMLPullParser(events=("start", "end"))   # fed a str: the characters read_text decoded
    stack: list[Any] = []
    leaves: list[tuple[str, str | None]] = []   # (tag, text) of the children of the NETWORK child being read
    variables: list[list[tuple[str, str | None]]] = []
    kinds: list[str | None] = []   # each VARIABLE's TYPE attribute (nature, decision, utility), if any
    definitions: list[list[tuple[str, str | None]]] = []
    network_names: list[str | None] = []
    networks = 0
    root_tag = ""

    def consume() -> None:
        nonlocal networks, root_tag
        for event, elem in parser.read_events():
            if event == "start":
                if not stack:
                    root_tag = str(elem.tag)
                stack.append(elem)
                if len(stack) > _MAX_XML_DEPTH:
                    raise ModelFileError([Problem(source, f"<{short(str(elem.tag))}> inside "
                                                          f"<{short(str(stack[-2].tag))}>: XMLBIF elements nest at "
                                                          f"most {_MAX_XML_DEPTH} deep and leaves hold only text")])
                if len(stack) == 3:
                    leaves.clear()
                continue
            stack.pop()
            depth = len(stack) + 1
            in_network = len(stack) >= 2 and stack[1].tag == "NETWORK"
            if depth == 4 and in_network:
                leaves.append((str(elem.tag), elem.text))
            elif depth == 3 and in_network:
                if elem.tag == "VARIABLE":
                    variables.append(list(leaves))
                    kinds.append(elem.get("TYPE"))
                elif elem.tag == "DEFINITION":
                    definitions.append(list(leaves))
                elif elem.tag == "NAME":
                    network_names.append(elem.text)
            elif depth == 2 and elem.tag == "NETWORK":
                networks += 1
            if stack:
                stack[-1].remove(elem)   # read: drop it, so the tree never grows

    try:
        for i in range(0, len(text), _XML_CHUNK):
            parser.feed(text[i:i + _XML_CHUNK])
            consume()
        parser.close()
        consume()
    except ET.ParseError as exc:
        where = getattr(exc, "position", (None, None))[0]
        raise ModelFileError([Problem(source, f"is not well-formed XML ({short(str(exc), 2 * QUOTE_LIMIT)})",
                                      line=where)]) from None
    if networks != 1:
        problems.add(f"the root element <{short(root_tag)}> holds {networks} <NETWORK> elements; an XMLBIF file "
                     f"has exactly one")
        problems.raise_if_any()
    if len(network_names) != 1 or not network_names[0]:
        problems.add("the <NETWORK> has no <NAME> (or several, or an empty one); XMLBIF requires one")

    declared: dict[str, tuple[str, ...]] = {}
    for i, children in enumerate(variables):
        name = _text(children, "NAME")
        if name is None:
            problems.add(f"VARIABLE number {i + 1} has no <NAME> (or several, or an empty one)", field="VARIABLE")
            continue
        kind = kinds[i]
        if kind is not None and kind.strip().lower() != "nature":
            problems.add(f"is a {short(kind.strip())} node (TYPE={quote(kind)}); kneebayes reads chance nodes "
                         f"(TYPE=\"nature\") only", node=name, field="VARIABLE")   # declared all the same below
        outcomes = [t for tag, t in children if tag == "OUTCOME"]
        if not outcomes:
            problems.add("has no <OUTCOME> (state)", node=name, field="OUTCOME")
            continue
        if any(not o for o in outcomes):
            problems.add("has an empty <OUTCOME>; every state needs a name", node=name, field="OUTCOME")
            continue
        if name in declared:
            problems.add("is declared by two VARIABLE elements; declare each variable once", node=name,
                         field="VARIABLE")
            continue
        declared[name] = tuple(o for o in outcomes if o)
    if not declared and not problems:
        problems.add("the <NETWORK> declares no <VARIABLE>; an XMLBIF network needs at least one")
    problems.raise_if_any()

    tables: dict[str, tuple[list[str], list[float]]] = {}
    for i, children in enumerate(definitions):
        var = _text(children, "FOR")
        if var is None:
            problems.add(f"DEFINITION number {i + 1} has no <FOR> (or several, or an empty one)", field="DEFINITION")
            continue
        if var not in declared:
            problems.add("has a DEFINITION but no VARIABLE declares it" + problems.hint(var, declared), node=var,
                         field="DEFINITION")
            continue
        if var in tables:
            problems.add("has two DEFINITION elements; keep one (a reader would silently use one of them)",
                         node=var, field="DEFINITION")
            continue
        tables[var] = ([], [])   # marks it defined, even when the definition below is refused
        parents = [t or "" for tag, t in children if tag == "GIVEN"]
        if not check_parents(var, parents, declared, problems, field="GIVEN"):
            continue
        texts = [t for tag, t in children if tag == "TABLE"]
        if len(texts) != 1:
            problems.add(f"its DEFINITION has {len(texts)} <TABLE> elements; it needs exactly one", node=var,
                         field="TABLE")
            continue
        values = read_table(texts[0] or "")
        if isinstance(values, str):
            problems.add(f"{quote(values)} in its <TABLE> is not a number", node=var, field="TABLE")
            continue
        card, cols = len(declared[var]), math.prod(len(declared[p]) for p in parents)
        if len(values) != card * cols:
            problems.add(f"its <TABLE> has {counted(len(values), 'value')}; {needed(card, cols)}", node=var,
                         field="TABLE")
            continue
        tables[var] = (parents, values)
    for var in declared:
        if var not in tables:
            problems.add("has no DEFINITION; every VARIABLE needs one with its <TABLE>", node=var,
                         field="DEFINITION")
    problems.raise_if_any()
    out: list[ParsedVariable] = []
    for var, states in declared.items():
        parents, values = tables[var]
        cols = math.prod(len(declared[p]) for p in parents)
        # XMLBIF lists the variable's own states fastest (pgmpy reads it the same way: order "F")
        table = np.array(values, dtype=float).reshape((len(states), cols), order="F")
        out.append(ParsedVariable(var, states, tuple(parents), table))
    return out


def _text(children: Sequence[tuple[str, str | None]], tag: str) -> str | None:
    """The text of the one ``tag`` child; None if there is none, several, or it is empty."""
    found = [t for name, t in children if name == tag]
    return found[0] if len(found) == 1 and found[0] else None
