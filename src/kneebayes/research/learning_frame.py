"""Cases as a pandas DataFrame, in and out: checked and coded for learning, or simulated from a model.

A frame of cases has one row a case and one column a node id; a value is
a state name, True/False for a yes/no node, or missing (None, NaN,
``pd.NA``, ""). A node without a column is missing in every row. The
checks happen here, once, with the bad thing named: a column that is no
node id (with the nearest ids), a column given twice, a value that is no
state of its node (with the row, the column and the valid states), a frame
without rows or without a single value. Cells are read by
:mod:`kneebayes.cells`, as ``diagnose_frame`` reads them (a number is its
text: ``1`` is the state ``"1"``), except that learning takes firm answers
only: a soft answer (a Likelihood, "probably") is an invalid value here.

:func:`code_frame` codes the frame as state indices (-1 where missing)
and keeps each distinct row once with its count, in bounded memory
(one small integer per value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..cells import MISSING, column_codes, distinct_rows, invalid_cell
from ..errors import EvidenceError, UnknownNodeError, WrongTypeError, quote
from ..extras import require
from .sampling import sample_states

if TYPE_CHECKING:
    import pandas

    from ..model import Model
    from ..network.compiled import CompiledNetwork

__all__ = ["CodedCases", "code_frame", "sample"]

_FEATURE = "learning from cases"


@dataclass(frozen=True)
class CodedCases:
    """A frame's distinct rows as state codes (rows, nodes; -1 missing), how often each occurs, and its first row.

    ``first`` holds, per distinct row, the frame's index label of its first
    occurrence (for messages); ``cases`` is the frame's number of rows.
    """

    codes: np.ndarray
    weights: np.ndarray
    first: tuple[Any, ...]
    cases: int


def code_frame(net: CompiledNetwork, frame: object) -> CodedCases:
    """Check ``frame`` and code it as distinct rows over every node of ``net`` (see the module docstring).

    >>> import pandas as pd, kneebayes
    >>> net = kneebayes.load_model().network
    >>> coded = code_frame(net, pd.DataFrame({"limping": ["yes", True, None], "instability": ["no", "no", "no"]}))
    >>> sorted(coded.weights.tolist()), coded.cases    # two distinct rows: "yes" and True are one answer
    ([1.0, 2.0], 3)
    >>> code_frame(net, pd.DataFrame({"limpng": ["yes"]}))
    Traceback (most recent call last):
    ...
    kneebayes.errors.UnknownNodeError: unknown column 'limpng' of the cases; did you mean 'limping'?
    """
    pd = require("pandas", feature=_FEATURE)
    if not isinstance(frame, pd.DataFrame):
        raise WrongTypeError(f"the cases must be a pandas DataFrame (one row a case, one column a node id), "
                        f"got {type(frame).__name__}")
    columns = list(frame.columns)
    seen: set[Any] = set()
    nodes = []
    for col in columns:
        i = net.index.get(col) if isinstance(col, str) else None
        if i is None:
            raise UnknownNodeError(col, net.names, what="column", context=" of the cases")
        if col in seen:
            raise EvidenceError(f"column {quote(col)} appears more than once in the cases; give each node one column")
        seen.add(col)
        nodes.append(i)
    if len(frame) == 0:
        raise EvidenceError("the cases have no rows: there is nothing to learn from")
    dtype = np.int8 if max(net.cards, default=0) < 127 else np.int32
    codes = np.full((len(frame), len(net.names)), MISSING, dtype=dtype)
    for k, (col, i) in enumerate(zip(columns, nodes)):
        column, _ = column_codes(frame.iloc[:, k], net, i, soft=False)   # learning takes firm answers
        err = invalid_cell(frame, k, column, net.states[i])
        if err is not None:
            raise err
        codes[:, i] = column
    if not (codes >= 0).any():
        raise EvidenceError(f"every value of the {len(frame):,} cases is missing: there is nothing to learn from")
    unique, inverse = distinct_rows(codes, net.cards)
    counts = np.bincount(inverse, minlength=unique.shape[0])
    first = np.full(unique.shape[0], len(frame), dtype=np.intp)
    np.minimum.at(first, inverse, np.arange(len(frame)))
    labels = tuple(_label(frame.index[r]) for r in first)
    return CodedCases(unique, counts.astype(float), labels, len(frame))


def _label(label: Any) -> Any:
    return label.item() if isinstance(label, np.generic) else label


def sample(model: Model, n: int, *, seed: int | np.random.Generator | None = 0) -> pandas.DataFrame:
    """``n`` cases simulated from the model: one column per node (categorical, its states), in node order.

    Ancestral sampling from the model's own tables
    (:func:`kneebayes.research.sampling.sample_states`); the same seed gives
    the same cases.

    >>> import kneebayes
    >>> cases = sample(kneebayes.load_model(), 3, seed=1)
    >>> cases.shape, list(cases["limping"].cat.categories)
    ((3, 32), ['yes', 'no'])
    """
    pd = require("pandas", feature="simulating cases")
    net = model.network
    x = sample_states(model, n, seed)
    return pd.DataFrame({name: pd.Categorical.from_codes(x[:, i], categories=list(net.states[i]))
                         for i, name in enumerate(net.names)})
