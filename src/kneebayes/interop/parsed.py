"""What every reader of an outside network hands on: the parsed variables, and the problems found.

Each reader (:mod:`.bif_reader`, :mod:`.xmlbif_reader`, :mod:`.pgmpy_reader`)
turns its source into a list of :class:`ParsedVariable` and collects what is
wrong in a :class:`Problems`, so that one
:class:`~kneebayes.errors.ModelFileError` lists every problem found (at most
:data:`MAX_PROBLEMS`). The helpers below keep the readers' messages alike and
short: a hostile file's names may be megabytes long.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import QUOTE_LIMIT, ModelFileError, Problem, did_you_mean, quote
from ..errors import listing as bounded_listing

#: The most problems one error lists; the rest are counted (a hostile file can have millions).
MAX_PROBLEMS = 20

#: A number in a table: decimal, or NaN / infinity, which are refused by name later (``float`` alone
#: would also take ``1_000`` and surrounding blanks).
_NUMBER = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|infinity)", re.IGNORECASE)
#: A character no blank-separated list of plain decimals holds: such a table is read word by word.
_NOT_DECIMAL = re.compile(r"[^0-9.eE+\-\s]")


@dataclass
class ParsedVariable:
    """One variable as read: its table has one row per state and one column per parent combination
    (``itertools.product`` order of the parents' states, the last parent fastest). ``label`` and
    ``description`` are what the source says of the node beside its name (a GeNIe title, a pyAgrum
    description), if anything; ``latent`` marks a node the source says is never observed (pgmpy's latents)."""

    name: str
    states: tuple[str, ...]
    parents: tuple[str, ...] = ()
    values: np.ndarray | None = None
    line: int | None = None         # where the variable is declared
    table_line: int | None = None   # where its table is written
    label: str | None = None
    description: str | None = None
    latent: bool = False


class Problems:
    """Collects problems for one error, keeping at most MAX_PROBLEMS (the rest are counted)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Problem] = []
        self.more = 0

    def add(self, message: str, *, node: str | None = None, field: str | None = None, line: int | None = None) -> None:
        """Note one problem (``node`` is cut short for the message)."""
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.file, message, node=None if node is None else short(node),
                                      field=field, line=line))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def full(self) -> bool:
        """No more problems will be listed: skip costly work (such as suggestions) for them."""
        return len(self.items) >= MAX_PROBLEMS

    def hint(self, word: str, valid: Iterable[str]) -> str:
        """"; did you mean ...?" for a problem about ``word``, while problems are still being listed."""
        return "" if self.full else did_you_mean(word, valid)

    def raise_if_any(self) -> None:
        """Raise a ModelFileError listing the problems noted so far, if there are any."""
        if self.items:
            items = list(self.items)
            if self.more:
                items.append(Problem(self.file, f"... and {self.more} more problem(s), not listed"))
            raise ModelFileError(items)


def short(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters for a message (a node name may be megabytes long).

    >>> short("Sprinkler", 6)
    'Sprink...'
    """
    return text if len(text) <= limit else text[:limit] + "..."


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    >>> counted(1, "state"), counted(3, "state")
    ('1 state', '3 states')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def needed(card: int, cols: int) -> str:
    """How many values a table needs, and why.

    >>> needed(2, 4)
    '2 states x 4 parent combinations need 8'
    """
    return (f"{counted(card, 'state')} x {counted(cols, 'parent combination')} need {card * cols}" if cols != 1
            else f"{counted(card, 'state')} need {card}")


def listing(names: Sequence[str], limit: int = 6) -> str:
    """Up to ``limit`` names for a message, quoted and bounded.

    >>> listing(["a", "b", "c"], limit=2)
    "'a', 'b', ... (3 in all)"
    """
    return bounded_listing((quote(n) for n in names), most=limit)


#: Characters handed to expat at a time: a large file is parsed as it is read through, never copied whole.
XML_CHUNK = 1 << 16


def stream_xml(parser: Any, text: str, source: str) -> None:
    """Run an expat ``parser`` (its handlers set) over ``text`` in ``XML_CHUNK`` pieces; text that is not
    well-formed XML is a ModelFileError naming ``source`` and the line.

    >>> from xml.parsers import expat
    >>> stream_xml(expat.ParserCreate(), "<a><b></a>", "x.xml")
    Traceback (most recent call last):
    ...
    kneebayes.errors.ModelFileError: x.xml:1: is not well-formed XML (mismatched tag: line 1, column 8)
    """
    from xml.parsers import expat   # only for XML files: not part of the import's cost

    try:
        for i in range(0, len(text), XML_CHUNK):
            parser.Parse(text[i:i + XML_CHUNK], False)
        parser.Parse("", True)
    except expat.ExpatError as exc:
        raise ModelFileError([Problem(source, f"is not well-formed XML ({short(str(exc), 2 * QUOTE_LIMIT)})",
                                      line=exc.lineno)]) from None


def read_table(text: str) -> np.ndarray | list[float] | str:
    """The blank-separated numbers of a table's text, or the first word that is not a number.

    Plain decimals go straight into an array (numpy's parser, correctly rounded as ``float`` is): a word
    and a float object per number made a 20 MB BIF table take 1.1 GB and 14 s before its size could be
    refused. Anything else (NaN, infinity, a word, a malformed decimal such as ``1.2.3``) is read word by
    word (:func:`read_numbers`), which names what is wrong.

    >>> read_table("0.25 7e-1  1").tolist(), read_table("0.5 nan"), read_table("0.5 1.2.3")
    ([0.25, 0.7, 1.0], [0.5, nan], '1.2.3')
    """
    if _NOT_DECIMAL.search(text) is None:
        try:
            return np.fromstring(text, sep=" ")
        except ValueError:   # a malformed decimal: the words say which
            pass
    return read_numbers(text.split())


def read_numbers(tokens: Iterable[str]) -> list[float] | str:
    """The tokens as numbers (empty ones skipped), or the first token that is not a number.

    >>> read_numbers(["0.25", "", "7e-1", "nan"])
    [0.25, 0.7, nan]
    >>> read_numbers(["0.5", "1_000"])
    '1_000'
    """
    out: list[float] = []
    for token in tokens:
        if not token:
            continue
        if not _NUMBER.fullmatch(token):
            return token
        out.append(float(token))
    return out


def check_parents(var: str, parents: Sequence[str], declared: Mapping[str, Any], problems: Problems, *,
                  field: str, line: int | None = None) -> bool:
    """Whether every parent is a declared variable, named once and not ``var`` itself (the first problem if not)."""
    named: set[str] = set()
    for p in parents:
        if p not in declared:
            where = " in <GIVEN>" if field == "GIVEN" else ""
            problems.add(f"names the unknown parent {quote(p)}{where}" + problems.hint(p, declared), node=var,
                         field=field, line=line)
        elif p == var:
            problems.add("is named as its own parent; a Bayesian network has no cycles", node=var, field=field,
                         line=line)
        elif p in named:
            problems.add(f"names parent {quote(p)} twice", node=var, field=field, line=line)
        else:
            named.add(p)
            continue
        return False
    return True


def parents_first_order(variables: Sequence[ParsedVariable]) -> list[int]:
    """Indices of ``variables`` with every parent before its children, otherwise in the order given.

    Every parent must name one of ``variables``. With a cycle the list is
    shorter: the variables on or below the cycle are left out.

    >>> a, b = ParsedVariable("a", ("y", "n"), ("b",), None), ParsedVariable("b", ("y", "n"), (), None)
    >>> parents_first_order([a, b])
    [1, 0]
    """
    index = {v.name: i for i, v in enumerate(variables)}
    waiting = [len(v.parents) for v in variables]
    children: list[list[int]] = [[] for _ in variables]
    for i, v in enumerate(variables):
        for p in v.parents:
            children[index[p]].append(i)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for c in children[i]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, c)
    return order
