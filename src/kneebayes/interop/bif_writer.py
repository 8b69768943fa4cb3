"""Write networks as BIF text, the format of the bnlearn repository, laid out as pgmpy's ``BIFWriter`` lays it out.

One ``variable`` block per node (``type discrete [ n ] { s1, s2 };``), then
one ``probability`` block per node: a ``table`` line for a node without
parents, one ``( parent states ) values;`` row per parent combination
otherwise. Numbers are the shortest text that reads back to the same float.
What BIF cannot carry is refused by :func:`bif_problems` before any text is
made.

>>> import numpy as np
>>> from kneebayes.interop.parsed import ParsedVariable
>>> rain = ParsedVariable("Rain", ("yes", "no"), (), np.array([[0.2], [0.8]]))
>>> wet = ParsedVariable("Wet", ("yes", "no"), ("Rain",), np.array([[0.9, 0.1], [0.1, 0.9]]))
>>> print(write_bif([rain, wet], "tiny"), end="")
network tiny {
}
variable Rain {
    type discrete [ 2 ] { yes, no };
}
variable Wet {
    type discrete [ 2 ] { yes, no };
}
probability ( Rain ) {
    table 0.2, 0.8;
}
probability ( Wet | Rain ) {
    ( yes ) 0.9, 0.1;
    ( no ) 0.1, 0.9;
}
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from ..errors import Problem
from .exported import number
from .parsed import ParsedVariable, short

#: What a BIF state name cannot hold: separators and brackets of the format, quotes and comment marks.
_BAD_STATE = re.compile(r'[,(){};|"\n\r]|//|/\*|\*/')
#: A node name cannot hold those, nor any blank.
_BAD_NODE = re.compile(r'[,(){};|"\s]|//|/\*|\*/')
#: A network name BIF readers take as one word.
_NETWORK_NAME = re.compile(r"[\w-]+")


def bif_problems(variables: Sequence[ParsedVariable], source: str = "BIF export") -> list[Problem]:
    """Every node or state name BIF cannot carry so that it reads back the same (empty if none).

    >>> import numpy as np
    >>> rain = ParsedVariable("Rain (mm)", ("yes", "no"), values=np.array([[0.2], [0.8]]))
    >>> [problem.message for problem in bif_problems([rain])]
    ["the node name 'Rain (mm)' cannot be written in BIF (no blanks, quotes, comment marks or any of , ( ) { } ; |)"]
    """
    problems = []
    seen: dict[str, str] = {}
    for v in variables:
        if not v.name or _BAD_NODE.search(v.name):
            problems.append(Problem(source, f"the node name {short(repr(v.name))} cannot be written in BIF (no "
                                            f"blanks, quotes, comment marks or any of , ( ) {{ }} ; |)",
                                    node=short(v.name), field="id"))
        other = seen.setdefault(v.name.lower(), v.name)
        if other != v.name:
            problems.append(Problem(source, f"the node name differs from {short(repr(other))} only in case; BIF "
                                            f"readers take them as one node (XMLBIF and XDSL can carry both)",
                                    node=short(v.name), field="id"))
        for state in v.states:
            if not state or state != state.strip() or _BAD_STATE.search(state):
                problems.append(Problem(source, f"the state name {short(repr(state))} cannot be written in BIF "
                                                f"(no blanks at either end, quotes, comment marks or any of "
                                                f", ( ) {{ }} ; |); XMLBIF and XDSL can carry it",
                                        node=short(v.name), field="states"))
    return problems


def write_bif(variables: Sequence[ParsedVariable], name: str) -> str:
    """The BIF text of ``variables`` (names already checked by :func:`bif_problems`), network ``name``."""
    states = {v.name: v.states for v in variables}
    out = [f"network {name if _NETWORK_NAME.fullmatch(name) else 'unknown'} {{\n}}\n"]
    for v in variables:
        out.append(f"variable {v.name} {{\n    type discrete [ {len(v.states)} ] {{ {', '.join(v.states)} }};\n}}\n")
    for v in variables:
        assert v.values is not None
        if not v.parents:
            out.append(f"probability ( {v.name} ) {{\n    table {', '.join(number(x) for x in v.values[:, 0])};\n}}\n")
            continue
        out.append(f"probability ( {v.name} | {', '.join(v.parents)} ) {{\n")
        for j, combo in enumerate(itertools.product(*(states[p] for p in v.parents))):
            out.append(f"    ( {', '.join(combo)} ) {', '.join(number(x) for x in v.values[:, j])};\n")
        out.append("}\n")
    return "".join(out)
