"""Cases as a pandas DataFrame, in and out: checked and coded for learning, or simulated from a model.

A frame of cases has one row a case and one column a node id; a value is
a state name, True/False for a yes/no node, or missing (None, NaN,
``pd.NA``, ""). A node without a column is missing in every row. The
checks happen here, once, with the bad thing named: a column that is no
node id (with the nearest ids), a column given twice, a value that is no
state of its node (with the row, the column and the valid states), a frame
without rows or without a single value. A value that is a number is read
as its text (``1`` is the state ``"1"``), as ``diagnose_frame`` does.

:func:`distinct_rows` codes the frame as state indices (-1 where missing)
and keeps each distinct row once with its count, in bounded memory
(one small integer per value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EvidenceError, InvalidStateError, UnknownNodeError, quote
from ..extras import require
from .sampling import sample_states

if TYPE_CHECKING:
    import pandas

    from ..model import Model
    from ..network.compiled import CompiledNetwork

__all__ = ["CodedCases", "code_frame", "sample"]

_MISSING = -1
_INVALID = -2
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
        raise TypeError(f"the cases must be a pandas DataFrame (one row a case, one column a node id), "
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
    codes = np.full((len(frame), len(net.names)), _MISSING, dtype=dtype)
    for k, (col, i) in enumerate(zip(columns, nodes)):
        series = frame.iloc[:, k]
        column = _column_codes(pd, series, net, i)
        bad = np.flatnonzero(column == _INVALID)
        if bad.size:
            label = _label(frame.index[bad[0]])
            err = InvalidStateError(col, series.iloc[bad[0]], net.states[i])
            more = f" ({bad.size:,} rows of this column are invalid)" if bad.size > 1 else ""
            err.args = (f"row {quote(label)}, column {quote(col)}: {err}{more}",)
            raise err
        codes[:, i] = column
    if not (codes >= 0).any():
        raise EvidenceError(f"every value of the {len(frame):,} cases is missing: there is nothing to learn from")
    unique, inverse, counts = _distinct(codes, net.cards)
    first = np.full(unique.shape[0], len(frame), dtype=np.intp)
    np.minimum.at(first, inverse, np.arange(len(frame)))
    labels = tuple(_label(frame.index[r]) for r in first)
    return CodedCases(unique, counts.astype(float), labels, len(frame))


def _label(label: Any) -> Any:
    return label.item() if isinstance(label, np.generic) else label


def _distinct(codes: np.ndarray, cards: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows, each row's distinct row, and the counts; one int64 key per row when the states fit."""
    radix = [c + 1 for c in cards]
    if sum(math.log2(r) for r in radix) < 62:
        key = np.zeros(codes.shape[0], dtype=np.int64)
        weight = 1
        for k, r in enumerate(radix):
            key += (codes[:, k].astype(np.int64) + 1) * weight
            weight *= r
        _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        return codes[first], inverse.reshape(-1), counts
    unique, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    return unique, inverse.reshape(-1), counts


def _column_codes(pd: Any, series: pandas.Series, net: CompiledNetwork, i: int) -> np.ndarray:
    """State codes of one column: the distinct values are coded, not every row."""
    code_of = _coder(pd, net, i)
    if isinstance(series.dtype, pd.CategoricalDtype):
        lut = np.array([code_of(c) for c in series.cat.categories] + [_MISSING], dtype=np.int32)
        return lut[series.cat.codes.to_numpy()]
    values: Any = series.to_numpy() if series.dtype == object else series
    if series.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "boolean", "empty"):
        # Mixed types (True beside 1, "yes" beside 1.5) hash alike: code them one by one, exactly.
        return np.array([code_of(v) for v in values], dtype=np.int32)
    keys, uniques = pd.factorize(values, use_na_sentinel=True)
    lut = np.array([code_of(u) for u in uniques] + [_MISSING], dtype=np.int32)
    return lut[np.asarray(keys)]


def _coder(pd: Any, net: CompiledNetwork, i: int) -> Callable[[Any], int]:
    lookup = net.state_index[i]
    binary = set(net.states[i]) == {"yes", "no"} and len(net.states[i]) == 2

    def code_of(v: Any) -> int:
        if v is None or v is pd.NA or v is pd.NaT:
            return _MISSING
        if isinstance(v, (bool, np.bool_)):
            return lookup["yes" if v else "no"] if binary else _INVALID
        if isinstance(v, str):
            return _MISSING if v == "" else lookup.get(v, _INVALID)
        if isinstance(v, (int, np.integer)):
            return lookup.get(str(int(v)), _INVALID)
        if isinstance(v, (float, np.floating)):
            f = float(v)
            if math.isnan(f):
                return _MISSING
            return lookup.get(str(int(f)) if f.is_integer() else repr(f), _INVALID)
        return _INVALID

    return code_of


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
