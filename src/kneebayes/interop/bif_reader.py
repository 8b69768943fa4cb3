"""Read BIF text (the format of the bnlearn repository, as pgmpy's ``BIFReader`` reads it) into parsed variables.

The dialect is pgmpy's: ``network``, ``variable`` and ``probability``
blocks; ``//`` and ``/* */`` comments; double quotes read as blanks (a
quoted string is skipped whole, so ``//`` inside one is no comment);
``type discrete [ n ] { ... };`` with the states comma-separated when there
is a comma, else blank-separated; a table given
either as one ``table`` line (the variable's states slowest, the last parent
fastest) or as one ``( parent states ) values;`` row per parent combination,
under a header ``( X | parents )`` or the old ``( X parents )`` (where the whole
header names one declared variable, a quoted name with blanks, it is that variable); a name in a
header matched to its variable ignoring case, as pgmpy matches it.

``property`` lines (``property key = value;``, as JavaBayes and pgmpy write
them) are read as :func:`~.skipped.node_property` reads them in a variable
block: ``description`` becomes the node's description, ``position`` is
layout; a network block's ``property software ...`` names the program that
wrote the file. Any other property, and any property of a probability
block, is skipped and named in one :class:`~.skipped.SkippedContentWarning`.

Refused, naming line and node where known (one
:class:`~kneebayes.errors.ModelFileError` listing every problem found): an
unclosed quote, comment or block; unexpected text, in the network block too
(which holds ``property`` lines only: a block nested there would be lost); a
``{`` nested deeper than the block allows; a variable with no ``type`` line or two, a type other
than ``discrete``, a state count that disagrees with the states listed,
duplicate states, or a second declaration; two variables differing only in
case (pgmpy would merge them); ``default`` rows; a block mixing a ``table``
line and rows; a value that is not a number; a probability block for an
undeclared variable, or a second one for a variable; an unknown, repeated or
self parent; a variable with no probability block; a table or row with an
empty entry (``0.2,, 0.8``; a comma after the last number is taken, as pgmpy
takes it); a table with the wrong number of values; a row naming an unknown parent state or a combination
already given, or with the wrong number of states or values; a missing row.
Each text is scanned once: linear time, however hostile.

Whether the numbers are probabilities, the names usable as node ids and the
graph acyclic is checked later, for every source alike (:mod:`.build`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import quote
from .parsed import ParsedVariable, Problems, check_parents, counted, listing, needed, read_table, short
from .skipped import LAYOUT_PROPERTIES, Skipped, node_property, split_property

# Where a string or a comment starts; a string is skipped whole, so "//" inside one is no comment
# (pgmpy's lexical rule). Each is scanned once from where it starts: linear time.
_SPECIAL = re.compile(r'"|/\*|//')
_KEYWORD = re.compile(r"(network|variable|probability)(?![\w.-])")
_BLANKS = re.compile(r"\s*")
_BRACES = re.compile(r"[{}]")
_TYPE = re.compile(r"type\s+(\w+)\s*\[\s*(\d+)\s*\]\s*\{([^{}]*)\}", re.ASCII)
_STATEMENT = re.compile(r"(table|default|property)(?![\w.-])")
_SEPARATORS = re.compile(r"[\s,]+")
# An entry left empty: two commas with only blanks between, or a comma first. pgmpy fails on both; a comma
# after the last number, which it accepts, loses nothing and is taken.
_EMPTY_ENTRY = re.compile(r"^\s*,|,\s*,")


def _string_end(text: str, start: int) -> int | None:
    """Just past the quote that closes a string opened before ``start``; None if none does.

    A quote preceded by an odd number of backslashes is escaped. A plain scan,
    not a regular expression: the regex engine keeps a frame per escape, which
    made a megabyte of ``\\"`` cost 60 MB.
    """
    pos = start
    while True:
        quote_at = text.find('"', pos)
        if quote_at < 0:
            return None
        before = quote_at
        while before > start and text[before - 1] == "\\":
            before -= 1
        if (quote_at - before) % 2 == 0:
            return quote_at + 1
        pos = quote_at + 1


class _Lines:
    """Line numbers of positions in a text, counted on from the last one asked (positions mostly increase)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def __call__(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


@dataclass
class _Block:
    """One BIF probability block as written."""

    var: str
    parents: list[str]
    line: int
    table: np.ndarray | list[float] | None = None
    whole: str = ""    # an old-form header ( X parent1 parent2 ) as written: a quoted name may hold blanks
    rows: list[tuple[tuple[str, ...], np.ndarray | list[float], int]] = field(default_factory=list)


def _clean_bif(text: str, problems: Problems) -> str:
    """The text with newlines made ``\\n``, comments blanked (lines kept) and quotes made blanks, as pgmpy does."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if '"' not in text and "/" not in text:   # the usual case (bnlearn's files): nothing to do
        return text
    pieces: list[str] = []
    pos = 0
    while True:
        m = _SPECIAL.search(text, pos)
        if m is None:
            pieces.append(text[pos:])
            break
        token = m.group()
        if token == '"':
            end = _string_end(text, m.end())
            if end is None:
                problems.add('a quote (") opened here is never closed (is the file truncated?)',
                             line=text.count("\n", 0, m.start()) + 1)
                return ""
            pieces.append(text[pos:end])
            pos = end
        elif token == "/*":
            end = text.find("*/", m.end())
            if end < 0:
                problems.add("a comment opened with /* is never closed with */ (is the file truncated?)",
                             line=text.count("\n", 0, m.start()) + 1)
                return ""
            pieces.append(text[pos:m.start()])
            pieces.append(" " + "\n" * text.count("\n", m.start(), end))   # a blank, keeping the line count
            pos = end + 2
        else:   # "//" to the end of the line
            stop = text.find("\n", m.end())
            pieces.append(text[pos:m.start()] + " ")
            pos = len(text) if stop < 0 else stop
    return "".join(pieces).replace('"', " ")


def _numbers(text: str) -> np.ndarray | list[float] | str:
    """The numbers in ``text`` (blank- or comma-separated), or the first word that is not one ("" for an empty
    entry: a number may be missing there, and the count alone would not always show it)."""
    if "," not in text:
        return read_table(text)
    if _EMPTY_ENTRY.search(text):
        return ""
    return read_table(text.replace(",", " "))


def read_bif(raw: str, source: str) -> list[ParsedVariable]:
    """The variables of a BIF text, in linear time; every problem found is a ModelFileError naming ``source``.

    >>> rain = read_bif("variable Rain { type discrete [ 2 ] { yes, no }; }\\n"
    ...                 "probability ( Rain ) { table 0.2, 0.8; }\\n", "rain.bif")
    >>> [(v.name, v.states, v.values.ravel().tolist()) for v in rain]
    [('Rain', ('yes', 'no'), [0.2, 0.8])]
    >>> read_bif("variable Rain { type discrete [ 2 ] { yes, no }; }", "rain.bif")
    Traceback (most recent call last):
    ...
    kneebayes.errors.ModelFileError: rain.bif:1: node 'Rain': field 'probability': has no probability block; every variable needs one
    """
    problems = Problems(source)
    skipped = Skipped(source)
    text = _clean_bif(raw, problems)
    problems.raise_if_any()
    line = _Lines(text)
    declared: dict[str, tuple[tuple[str, ...], int]] = {}
    properties: dict[str, list[tuple[str, int]]] = {}   # each variable's property lines, read once it is declared
    blocks: list[_Block] = []
    pos = 0
    end = len(text)
    while True:
        pos = _BLANKS.match(text, pos).end()   # type: ignore[union-attr]  # r"\s*" always matches
        if pos >= end:
            break
        m = _KEYWORD.match(text, pos)
        if m is None:
            problems.add(f"unexpected text {quote(text[pos:pos + 40])}; expected a 'network', 'variable' or "
                         f"'probability' block", line=line(pos))
            break
        keyword, start = m.group(1), line(pos)
        if keyword == "probability":
            after = _BLANKS.match(text, m.end()).end()   # type: ignore[union-attr]
            close = text.find(")", after)
            if text[after:after + 1] != "(" or close < 0 or any(c in text[after:close] for c in "{};"):
                problems.add("a probability block must start 'probability ( X | parents ) {'", line=start)
                break
            header = text[after + 1:close]
            brace = _BLANKS.match(text, close + 1).end()   # type: ignore[union-attr]
            if text[brace:brace + 1] != "{":
                problems.add(f"expected '{{' after the header of the probability block for "
                             f"{quote(header.strip())}", line=start)
                break
        else:
            brace = text.find("{", m.end())
            header = text[m.end():brace].strip() if brace >= 0 else text[m.end():m.end() + 40].strip()
            if brace < 0 or any(c in header for c in "};()\n"):
                problems.add(f"expected '{{' after {keyword} {quote(header[:40])}", line=start)
                break
        depth = 2 if keyword == "variable" else 1
        close = _block_end(text, brace, depth)
        if close == -1:
            problems.add(f"the {keyword} block starting here never closes with '}}' (is the file truncated?)",
                         line=start)
            break
        if close == -2:
            problems.add(f"unexpected '{{' inside the {keyword} block starting here" + (
                "; it holds only 'property ...;' lines, and a block written inside it would not be read"
                if keyword == "network" else ""), line=start)
            break
        body = text[brace + 1:close]
        pos = close + 1
        if keyword == "variable":
            _variable(header, body, brace + 1, start, declared, properties, problems, line)
        elif keyword == "probability":
            block = _probability(header, body, brace + 1, start, problems, line, skipped)
            if block is not None:
                blocks.append(block)
        else:
            _network(body, brace + 1, problems, line, skipped)
    if not declared and not problems:
        problems.add("declares no variables; a BIF network has 'variable X { type discrete [ n ] { ... }; }' "
                     "blocks (is the file empty?)")
    problems.raise_if_any()
    variables = _resolve_bif(declared, blocks, problems)
    by_name = {v.name: v for v in variables}
    for name, said in properties.items():
        for statement, at in said:
            problem = node_property(by_name[name], *split_property(statement), skipped, "property")
            if problem is not None:
                problems.add(problem, node=name, field="property", line=at)
    problems.raise_if_any()
    skipped.warn()
    return variables


def _block_end(text: str, brace: int, max_depth: int) -> int:
    """Where the block opened at ``brace`` closes; -1 if it never does, -2 if it nests deeper than ``max_depth``."""
    depth = 0
    for m in _BRACES.finditer(text, brace):
        depth += 1 if m.group() == "{" else -1
        if depth == 0:
            return m.start()
        if depth > max_depth:
            return -2
    return -1


def _statements(body: str, offset: int) -> Iterable[tuple[str, int]]:
    """The ``;``-separated statements of a block body, stripped, with the position where each starts."""
    pos = 0
    while pos <= len(body):
        stop = body.find(";", pos)
        if stop < 0:
            stop = len(body)
        piece = body[pos:stop]
        stripped = piece.strip()
        if stripped:
            yield stripped, offset + pos + (len(piece) - len(piece.lstrip()))
        pos = stop + 1


def _network(body: str, offset: int, problems: Problems, line: _Lines, skipped: Skipped) -> None:
    """The network block's ``property`` lines: the writing program's name is about the file; others are skipped."""
    for statement, at in _statements(body, offset):
        keyword = _STATEMENT.match(statement)
        if keyword is None or keyword.group(1) != "property":
            problems.add(f"unexpected text {quote(statement[:40])} in the network block, which holds only "
                         f"'property ...;' lines; a block written inside it would not be read", field="network",
                         line=line(at))
            return
        key, value = split_property(statement[keyword.end():])
        if (key or value) and not key.startswith("software"):
            skipped.add(f"property {quote(key)} of the network")


def _variable(name: str, body: str, offset: int, start: int, declared: dict[str, tuple[tuple[str, ...], int]],
              properties: dict[str, list[tuple[str, int]]], problems: Problems, line: _Lines) -> None:
    if not name:
        problems.add("a variable block has no name", line=start)
        return
    states: tuple[str, ...] | None = None
    said: list[tuple[str, int]] = []
    for statement, at in _statements(body, offset):
        keyword = _STATEMENT.match(statement) if statement.startswith("property") else None
        if keyword is not None:
            said.append((statement[keyword.end():], line(at)))
            continue
        m = _TYPE.fullmatch(statement)
        if m is None:
            problems.add(f"unexpected text {quote(statement[:40])}; a variable block holds "
                         f"'type discrete [ n ] {{ state, ... }};' and 'property ...;' lines",
                         node=name, field="type", line=line(at))
            return
        if states is not None:
            problems.add("has two 'type' lines; keep one", node=name, field="type", line=line(at))
            return
        kind, count, listed = m.group(1), int(m.group(2)), m.group(3)
        if kind != "discrete":
            problems.add(f"has type {quote(kind)}; only 'discrete' variables can be imported", node=name,
                         field="type", line=line(at))
            return
        # pgmpy's rule: comma-separated when there is a comma (names may hold blanks), else blank-separated
        names = [s.strip() for s in listed.split(",")] if "," in listed else listed.split()
        names = [s for s in names if s]
        if len(names) != count:
            problems.add(f"declares {count} states but lists {len(names)} ({listing(names)})", node=name,
                         field="states", line=line(at))
            return
        dupes = sorted(s for s, n in Counter(names).items() if n > 1)
        if dupes:
            problems.add(f"has duplicate states {listing(dupes)}; each state must be named once", node=name,
                         field="states", line=line(at))
            return
        states = tuple(names)
    if states is None:
        problems.add("has no 'type discrete [ n ] { state, ... };' line", node=name, field="type", line=start)
        return
    if name in declared:
        problems.add(f"is declared twice (lines {declared[name][1]} and {start}); declare each variable once",
                     node=name, field="variable", line=start)
        return
    declared[name] = (states, start)
    if said:
        properties[name] = said


def _probability(header: str, body: str, offset: int, start: int, problems: Problems, line: _Lines,
                 skipped: Skipped) -> _Block | None:
    if "|" in header:
        left, right = header.split("|", 1)
        var, parents = left.strip(), [p.strip() for p in right.split(",")]
        if "|" in right or not all(parents):
            problems.add(f"cannot read the probability header ( {short(header.strip())} ); write "
                         f"( X | parent1, parent2 )", line=start)
            return None
    else:
        words = [w for w in _SEPARATORS.split(header) if w]   # the old form ( X parent1 parent2 )
        var, parents = (words[0], words[1:]) if words else ("", [])
    if not var:
        problems.add("a probability block names no variable: write 'probability ( X | parents ) {'", line=start)
        return None
    block = _Block(var, parents, start, whole="" if "|" in header else header.strip())
    for statement, at in _statements(body, offset):
        keyword = _STATEMENT.match(statement)
        if keyword is not None and keyword.group(1) == "property":
            key, value = split_property(statement[keyword.end():])
            if (key or value) and key not in LAYOUT_PROPERTIES:
                skipped.add(f"property {quote(key)} of a probability block", var)
            continue
        if keyword is not None and keyword.group(1) == "default":
            problems.add("'default' rows are not supported; write a row for every combination of parent states",
                         node=var, field="probability", line=line(at))
            return None
        if keyword is not None:   # table
            values, what = _numbers(statement[keyword.end():]), "table"
            if block.table is not None or block.rows:
                problems.add("has a 'table' line besides other rows; give either one 'table' line or rows",
                             node=var, field="probability", line=line(at))
                return None
        elif statement.startswith("("):
            close = statement.find(")")
            if close < 0:
                problems.add(f"the row {quote(statement[:40])} has no closing ')'", node=var, field="probability",
                             line=line(at))
                return None
            given = tuple(s.strip() for s in statement[1:close].split(",")) if statement[1:close].strip() else ()
            values, what = _numbers(statement[close + 1:]), f"row ({short(', '.join(given))})"
            if block.table is not None:
                problems.add("has rows besides a 'table' line; give either one 'table' line or rows", node=var,
                             field="probability", line=line(at))
                return None
        else:
            problems.add(f"unexpected text {quote(statement[:40])}; a probability block holds 'table v, ...;' or "
                         f"'(parent states) v, ...;' lines", node=var, field="probability", line=line(at))
            return None
        if isinstance(values, str):
            problems.add(f"{quote(values)} in its {what} is not a number" if values else
                         f"its {what} has an empty entry (two commas with no number between, or a comma "
                         f"first); write every number", node=var, field="probability", line=line(at))
            return None
        if keyword is not None:
            block.table = values
        else:
            block.rows.append((given, values, line(at)))
    if block.table is None and not block.rows:
        problems.add("its probability block has no 'table' line and no rows", node=var, field="probability",
                     line=start)
        return None
    return block


def _resolve_bif(declared: dict[str, tuple[tuple[str, ...], int]], blocks: list[_Block],
                 problems: Problems) -> list[ParsedVariable]:
    """Match probability blocks to variables and build each table, refusing anything ambiguous or missing."""
    by_lower: dict[str, str] = {}
    for name in declared:
        other = by_lower.setdefault(name.lower(), name)
        if other != name:   # pgmpy's reader matches names ignoring case, so these would be merged
            problems.add(f"differs from variable {quote(other)} only in case; BIF readers treat them as one "
                         f"variable: rename one", node=name, field="variable", line=declared[name][1])
    problems.raise_if_any()

    def resolve(name: str) -> str | None:
        return name if name in declared else by_lower.get(name.lower())

    found: dict[str, _Block] = {}
    for b in blocks:
        var = resolve(b.var)
        if var is None and b.parents and resolve(b.whole) is not None:
            # ( "Rain fall" ): one quoted name with a blank, not Rain given fall
            var, b.parents = resolve(b.whole), []
        if var is None:
            problems.add("has a probability block but no variable block declares it" + problems.hint(b.var, declared),
                         node=b.var, field="probability", line=b.line)
            continue
        if var in found:
            problems.add(f"has two probability blocks (lines {found[var].line} and {b.line}); keep one", node=var,
                         field="probability", line=b.line)
            continue
        parents = [resolve(p) or p for p in b.parents]
        check_parents(var, parents, declared, problems, field="parents", line=b.line)
        b.var, b.parents = var, parents
        found[var] = b
    for name, (_, at) in declared.items():
        if name not in found:
            problems.add("has no probability block; every variable needs one", node=name, field="probability",
                         line=at)
    problems.raise_if_any()

    variables: list[ParsedVariable] = []
    for name, (states, at) in declared.items():
        b = found[name]
        parent_states = [declared[p][0] for p in b.parents]
        cols = math.prod(len(s) for s in parent_states)
        card = len(states)
        if b.table is not None:
            if len(b.table) != card * cols:
                problems.add(f"its table has {counted(len(b.table), 'value')}; {needed(card, cols)}", node=name,
                             field="probability", line=b.line)
                continue
            values = np.array(b.table, dtype=float).reshape(card, cols)
        else:
            values = _rows(name, b, states, parent_states, cols, problems)
            if values is None:
                continue
        variables.append(ParsedVariable(name, states, tuple(b.parents), values, at, b.line))
    problems.raise_if_any()
    return variables


def _rows(name: str, b: _Block, states: tuple[str, ...], parent_states: list[tuple[str, ...]], cols: int,
          problems: Problems) -> np.ndarray | None:
    """The table of a block written as one row per parent combination: each once, each complete."""
    index = [{s: i for i, s in enumerate(ps)} for ps in parent_states]
    strides = [1] * len(parent_states)   # the last parent fastest
    for k in range(len(parent_states) - 2, -1, -1):
        strides[k] = strides[k + 1] * len(parent_states[k + 1])
    columns: dict[int, list[float]] = {}
    for given, values, at in b.rows:
        shown = f"({short(', '.join(given))})"
        if len(given) != len(b.parents):
            problems.add(f"row {shown} names {counted(len(given), 'parent state')}; the variable has "
                         f"{counted(len(b.parents), 'parent')} ({listing(b.parents)})", node=name, field="probability",
                         line=at)
            return None
        col = 0
        for k, s in enumerate(given):
            i = index[k].get(s)
            if i is None:
                problems.add(f"row {shown}: {quote(s)} is not a state of parent {quote(b.parents[k])} "
                             f"(its states are {listing(parent_states[k])})", node=name, field="probability",
                             line=at)
                return None
            col += i * strides[k]
        if col in columns:
            problems.add(f"row {shown} is given twice; give each combination of parent states once", node=name,
                         field="probability", line=at)
            return None
        if len(values) != len(states):
            problems.add(f"row {shown} has {counted(len(values), 'value')}; the variable has "
                         f"{counted(len(states), 'state')} ({listing(states)})", node=name, field="probability",
                         line=at)
            return None
        columns[col] = values
    if len(columns) < cols:
        # the first combination without a row (at most len(rows) + 1 steps, however large the table)
        for j, combo in enumerate(itertools.product(*parent_states)):
            if j not in columns:
                problems.add(f"has no row for ({short(', '.join(combo))}); every combination of parent states "
                             f"needs one ({cols} in all)", node=name, field="probability", line=b.line)
                return None
    values_array = np.empty((len(states), cols))
    for j, col_values in columns.items():
        values_array[:, j] = col_values
    return values_array
