"""Write a model as a BIF or XMLBIF file through pgmpy's writers, losing no digit and no name.

What pgmpy's writers (1.1.x) do, and what this module does about it:

* **Numbers.** Both writers print each probability with ``str()`` of a
  numpy float64, which is the shortest text that reads back to the same
  float (``BIFWriter`` rounds only when given ``round_values``; we never pass
  it). So no number is rounded. To keep it that way whatever a future
  writer does, the text is read back with pgmpy's own reader before the file
  is written and every number must come back bit-identical; otherwise
  nothing is written and an error says which node differs.
* **State names.** ``BIFWriter`` writes them as they are. ``XMLBIFWriter``
  replaces every character other than a letter, digit or ``_`` by ``_``
  (``Asy/Patch`` becomes ``Asy_Patch``) and logs a warning, so the network
  would come back with other state names, and evidence written with the
  model's names would fail. We put the model's own names back into the
  XML's ``OUTCOME`` elements (ElementTree escapes ``<``, ``&`` and friends)
  and keep pgmpy's logger quiet about the renaming we undo.
* **What BIF cannot carry.** In BIF a node or state name with a comma,
  parenthesis, brace, semicolon, ``|``, a blank inside a node name, or
  blanks at either end cannot be read back; such names raise
  ``ModelFileError`` naming the node, before anything is written. (The
  read-back check catches anything else, such as two node names that differ
  only in case, which pgmpy's BIF reader merges.)

The exported tables are the model's full tables (noisy-OR nodes expanded),
exactly as :func:`kneebayes.interop.pgmpy.to_pgmpy` builds them.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from ..errors import KneeBayesError, ModelFileError, Problem
from ..files import write_atomic

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["to_bif", "to_xmlbif", "bif_text", "xmlbif_text"]

_BIF_BAD_STATE = re.compile(r"[,(){};|\n\r]")
_BIF_BAD_NODE = re.compile(r"[,(){};|\s]")
_NETWORK_NAME = re.compile(r"[\w-]+")


def to_bif(model: Model, path: str | Path) -> Path:
    """Write ``model`` as a BIF file at ``path`` (via pgmpy's BIFWriter); returns the path.

    pgmpy's BIFReader (and :func:`kneebayes.load_bif`) reads it back to the
    same tables, bit for bit, and the same state names.
    """
    return _write(Path(path), bif_text(model))


def to_xmlbif(model: Model, path: str | Path) -> Path:
    """Write ``model`` as an XMLBIF 0.3 file at ``path`` (via pgmpy's XMLBIFWriter); returns the path.

    The model's own state names are kept (pgmpy's writer would replace
    characters such as ``/`` by ``_``); every number reads back bit for bit.
    """
    return _write(Path(path), xmlbif_text(model))


def bif_text(model: Model) -> str:
    """The BIF text :func:`to_bif` writes (checked by reading it back)."""
    from pgmpy.readwrite import BIFReader, BIFWriter

    _check_bif_names(model)
    text = str(BIFWriter(_network(model), round_values=None))
    _verify(model, BIFReader(string=text).get_model(), "BIF")
    return text


def xmlbif_text(model: Model) -> str:
    """The XMLBIF text :func:`to_xmlbif` writes (checked by reading it back)."""
    from pgmpy.readwrite import XMLBIFReader, XMLBIFWriter

    net = model.network
    with _quiet("pgmpy"):
        writer = XMLBIFWriter(_network(model), encoding="utf-8", prettyprint=True)
    # Undo the writer's renaming of states (see the module docstring).
    for name, outcomes in writer.states.items():
        for element, state in zip(outcomes, net.states[net.index[name]]):
            element.text = state
    text = str(writer)
    _verify(model, XMLBIFReader(string=text).get_model(), "XMLBIF")
    return text


def _network(model: Model) -> Any:
    """``model.to_pgmpy()`` named after the model (BIF's ``network <name>``; "unknown" if not a plain word)."""
    bn = model.to_pgmpy()
    bn.name = model.name if _NETWORK_NAME.fullmatch(model.name) else "unknown"
    return bn


def _write(path: Path, text: str) -> Path:
    return write_atomic(path, text)  # the earlier file stays whole if the write fails


def _check_bif_names(model: Model) -> None:
    net = model.network
    problems = []
    for i, name in enumerate(net.names):
        if not name or _BIF_BAD_NODE.search(name):
            problems.append(Problem("BIF export", f"the node name {name!r} cannot be written in BIF (no blanks or "
                                                  f"any of , ( ) {{ }} ; |)", node=name, field="id"))
        for state in net.states[i]:
            if not state or state != state.strip() or _BIF_BAD_STATE.search(state):
                problems.append(Problem("BIF export", f"the state name {state!r} cannot be written in BIF (no "
                                                      f"blanks at either end or any of , ( ) {{ }} ; |); XMLBIF can "
                                                      f"carry it", node=name, field="states"))
    if problems:
        raise ModelFileError(problems)


def _verify(model: Model, back: Any, fmt: str) -> None:
    """The read-back network must have the model's nodes, states, parents and bit-identical tables."""
    net = model.network
    names = {str(n) for n in back.nodes()}
    if names != set(net.names):
        raise KneeBayesError(f"pgmpy's {fmt} round trip changed the node names: "
                             f"missing {sorted(set(net.names) - names)}, extra {sorted(names - set(net.names))}")
    for i, name in enumerate(net.names):
        cpd = back.get_cpds(name)
        parents = tuple(str(p) for p in cpd.variables[1:])
        expected_parents = tuple(net.names[p] for p in net.parents[i])
        states = tuple(str(s) for s in cpd.state_names[name])
        if parents != expected_parents or states != net.states[i]:
            raise KneeBayesError(f"pgmpy's {fmt} round trip changed node {name!r}: states {states} parents "
                                 f"{parents}, expected {net.states[i]} and {expected_parents}")
        values = np.asarray(cpd.get_values(), dtype=float)
        expected = np.moveaxis(net.tables[i], -1, 0).reshape(net.cards[i], -1)
        if values.shape != expected.shape or not np.array_equal(values, expected):
            worst = float(np.max(np.abs(values - expected))) if values.shape == expected.shape else float("nan")
            raise KneeBayesError(f"pgmpy's {fmt} writer did not keep the numbers of node {name!r} "
                                 f"(largest change {worst:.3g}); nothing was written")


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
