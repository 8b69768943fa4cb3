"""What every writer of a network file starts from, and the check that its text reads back to the same network.

A model is handed to the writers (:mod:`.bif_writer`, :mod:`.xmlbif_writer`,
:mod:`.xdsl_writer`) in the form the readers produce
(:class:`~.parsed.ParsedVariable`): names, states, parents and a table of
one row per state and one column per parent combination, the last parent
fastest. The full tables are written (noisy-OR nodes expanded), exactly the
numbers :meth:`kneebayes.Model.to_pgmpy` would hold. Parents come before
their children (GeNIe needs that order; the other formats do not mind).

Numbers are written with :func:`number`, the shortest text that reads back
to the same float, so nothing is rounded; :func:`verify` reads the text
back with kneebayes's own reader of the format and insists on the same
names, states, parents and bit-identical tables before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import KneeBayesError, ModelFileError, Problem
from .parsed import ParsedVariable, parents_first_order, short

if TYPE_CHECKING:
    from ..model import Model

#: Characters XML 1.0 cannot carry at all, not even escaped (control characters but tab, newline and return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def exported_variables(model: Model) -> list[ParsedVariable]:
    """The model's nodes with their full tables, parents before children (otherwise in the model's order).

    Each table has one row per state and one column per combination of the parents' states.

    >>> import kneebayes
    >>> variables = exported_variables(kneebayes.load_model())
    >>> locking = next(v for v in variables if v.name == "locking_or_catching")
    >>> locking.parents, locking.values.shape
    (('meniscal_injury', 'bakers_cyst'), (2, 4))
    """
    net = model.network
    variables = []
    for i, name in enumerate(net.names):
        values = np.moveaxis(net.tables[i], -1, 0).reshape(net.cards[i], -1)   # (states, parent combinations)
        variables.append(ParsedVariable(name, tuple(net.states[i]), tuple(net.names[p] for p in net.parents[i]),
                                        values))
    return parents_first(variables)


def parents_first(variables: Sequence[ParsedVariable]) -> list[ParsedVariable]:
    """``variables`` with every parent before its children, otherwise in the order given (they form no cycle).

    >>> from kneebayes.interop.parsed import ParsedVariable
    >>> wet, rain = ParsedVariable("Wet", ("yes", "no"), ("Rain",)), ParsedVariable("Rain", ("yes", "no"))
    >>> [v.name for v in parents_first([wet, rain])]
    ['Rain', 'Wet']
    """
    return [variables[i] for i in parents_first_order(variables)]


def number(value: float) -> str:
    """The shortest text that reads back to exactly ``value`` (Python's ``repr`` of a float).

    >>> number(0.1), number(1.0), number(1e-05), number(0.30000000000000004)
    ('0.1', '1.0', '1e-05', '0.30000000000000004')
    """
    return repr(float(value))


def check_xml_names(variables: Sequence[ParsedVariable], fmt: str) -> None:
    """Refuse node or state names with characters XML cannot carry (a ModelFileError naming each node)."""
    problems = []
    for v in variables:
        for what, name in [("node name", v.name), *(("state name", s) for s in v.states)]:
            if _NOT_XML.search(name):
                problems.append(Problem(f"{fmt} export", f"the {what} {short(repr(name))} holds a control character "
                                                         f"that XML cannot carry", node=short(v.name),
                                        field="id" if what == "node name" else "states"))
    if problems:
        raise ModelFileError(problems)


def verify(written: Sequence[ParsedVariable], text: str, read: Callable[[str, str], list[ParsedVariable]],
           fmt: str) -> None:
    """``text`` must read back (with ``read``) to the nodes, states, parents and bit-identical tables written."""
    try:
        back = {v.name: v for v in read(text, f"{fmt} export")}
    except ModelFileError as exc:
        first = exc.problems[0] if exc.problems else None
        raise KneeBayesError(f"the {fmt} text would not read back ({short(str(first), 200)}); nothing was "
                             f"written") from None
    names = {v.name for v in written}
    if set(back) != names:
        raise KneeBayesError(f"the {fmt} text reads back with other nodes: missing "
                             f"{short(str(sorted(names - set(back))))}, extra {short(str(sorted(set(back) - names)))}; "
                             f"nothing was written")
    for v in written:
        b = back[v.name]
        if (b.states, b.parents) != (v.states, v.parents):
            raise KneeBayesError(f"the {fmt} text reads node {short(repr(v.name))} back with states "
                                 f"{short(str(b.states))} and parents {short(str(b.parents))}, not "
                                 f"{short(str(v.states))} and {short(str(v.parents))}; nothing was written")
        assert v.values is not None and b.values is not None
        if b.values.shape != v.values.shape or not np.array_equal(b.values, v.values):
            raise KneeBayesError(f"the {fmt} text does not keep the numbers of node {short(repr(v.name))}; nothing "
                                 f"was written")
