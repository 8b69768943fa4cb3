"""A table's cells as state codes: the one reading of an answer in a DataFrame, for ``diagnose_frame`` and learning.

A cell is a state name; True/False for a yes/no node; a number, matched
against a state whose name is that number written out (``1`` and ``1.0``
match a state ``"1"``); missing (None, NaN, ``pd.NA``, ``""``); or, where
soft answers are taken, a :class:`~kneebayes.Likelihood` or a graded word
of a yes/no node. Its code is the state's index, :data:`MISSING` (-1),
:data:`INVALID` (-2), or, for the column's ``j``-th distinct soft answer,
the node's number of states plus ``j``. Each column is coded through its
distinct values (``pandas.factorize``), not its rows; a column of arrow
strings is matched against the node's states in arrow.

>>> import pandas as pd, kneebayes
>>> net = kneebayes.load_model().network
>>> codes, soft = column_codes(pd.Series(["yes", None, True, "probably"]), net, net.index["limping"],
...                            kneebayes.load_model().graded_answers)
>>> codes.tolist(), soft
([0, -1, 0, 2], (Likelihood(yes=4.0, no=1.0, label='probably'),))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidStateError, quote
from .evidence import normalize
from .extras import require
from .likelihood import Likelihood

if TYPE_CHECKING:
    import pandas as pd

    from .network.compiled import CompiledNetwork

__all__ = ["MISSING", "INVALID", "column_codes", "invalid_cell", "distinct_rows"]

#: The code of a missing cell (not asked).
MISSING = -1
#: The code of a cell that is no answer of its node.
INVALID = -2
# pandas.factorize merges True with 1 and 1.0 (equal hashes): use it only where no such mix can occur.
_SAFE_KINDS = frozenset({"string", "boolean", "empty", "integer", "floating", "mixed-integer-float"})
_ARROW_STORAGE = ("pyarrow", "pyarrow_numpy")   # pandas' string dtypes kept in pyarrow (the latter: pandas 2.1-2.3)


def _pandas() -> Any:
    return require("pandas", feature="reading answers from a DataFrame")


def column_codes(series: pd.Series, net: CompiledNetwork, i: int, graded: Mapping[str, Likelihood] | None = None, *,
                 soft: bool = True) -> tuple[np.ndarray, tuple[Likelihood, ...]]:
    """Codes of one column for node ``i``, and the column's distinct soft answers (in code order).

    ``graded``: the model's graded answers; ``soft=False`` codes every soft
    answer as :data:`INVALID` (for uses that take firm answers only). A bad
    Likelihood raises EvidenceError, as ``model.diagnose`` would.
    """
    pd = _pandas()
    found: dict[Likelihood, int] = {}
    code_of = _coder(net, i, graded or {}, found, soft)
    if isinstance(series.dtype, pd.CategoricalDtype):   # the dtype's and the array's own attributes: no Series built
        lut = np.array([code_of(c) for c in series.dtype.categories] + [MISSING], dtype=np.int32)
        keys = series.array.codes
        if np.array_equal(lut[:-1], np.arange(len(lut) - 1)):   # the categories are the states, in order
            return keys, tuple(found)                           # (a table the model sampled): no lookup
        return lut[keys], tuple(found)
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage in _ARROW_STORAGE:
        return _arrow_codes(series, net.states[i], code_of), tuple(found)
    if series.dtype == object:
        values: Any = series.to_numpy()
        if pd.api.types.infer_dtype(values, skipna=True) not in _SAFE_KINDS:
            return _one_by_one(values, code_of), tuple(found)
    else:
        values = series   # numpy numbers or bools, or an extension array (strings, nullable booleans): one type
    if len(values) == 0:
        return np.zeros(0, dtype=np.int32), ()
    keys, uniques = pd.factorize(values, use_na_sentinel=True)
    lut = np.array([code_of(u) for u in uniques] + [MISSING], dtype=np.int32)
    return lut[np.asarray(keys)], tuple(found)   # key -1 (missing) picks the last entry


def _arrow_codes(series: pd.Series, states: Sequence[str], code_of: Callable[[Any], int]) -> np.ndarray:
    """A column of pyarrow-backed strings (pandas 3's default for text): its states matched in arrow, a hash
    lookup in C++ (faster than factorizing the column); only cells that are neither a state nor missing (an empty
    string, a graded answer, an invalid value) are read one distinct value at a time."""
    import pyarrow as pa  # loaded already: the column is stored in it
    import pyarrow.compute as pc

    strings = series.array.__arrow_array__()
    found = pc.index_in(strings, value_set=pa.array(list(states), type=pa.string()))
    codes = np.array(pc.fill_null(found, MISSING).to_numpy(), dtype=np.int32)   # a writable copy
    if found.null_count > strings.null_count:   # some cell is neither missing nor a state
        other = np.flatnonzero(np.asarray(pc.and_(pc.is_null(found), pc.is_valid(strings))))
        cells = strings.take(pa.array(other)).to_pylist()
        code = {value: code_of(value) for value in dict.fromkeys(cells)}   # in order of first occurrence
        codes[other] = [code[value] for value in cells]
    return codes


def _one_by_one(values: np.ndarray, code_of: Callable[[Any], int]) -> np.ndarray:
    """Columns that mix types (True and 1, "yes" and 1): exact, element by element."""
    cache: dict[tuple[type, Any], int] = {}
    out = np.empty(len(values), dtype=np.int32)
    for r, v in enumerate(values):
        try:
            key = (type(v), v)
            code = cache.get(key)
            if code is None:
                code = cache[key] = code_of(v)
        except TypeError:   # unhashable
            code = code_of(v)
        out[r] = code
    return out


def _coder(net: CompiledNetwork, i: int, graded: Mapping[str, Likelihood], found: dict[Likelihood, int],
           soft: bool) -> Callable[[Any], int]:
    """A cell's code; a soft answer is entered in ``found`` (or INVALID without ``soft``)."""
    pd = _pandas()
    lookup = net.state_index[i]
    card = net.cards[i]
    binary = len(net.states[i]) == 2 and set(net.states[i]) == {"yes", "no"}

    def soft_code(v: Likelihood | str) -> int:
        if not soft:
            return INVALID
        # the one reading of a soft answer (evidence.normalize): a bad one raises, a 0/1 one is its state
        (value,) = normalize(net, {net.names[i]: v}, graded).values()
        if isinstance(value, str):
            return lookup[value]
        return card + found.setdefault(value, len(found))

    def code_of(v: Any) -> int:
        if v is None or v is pd.NA or v is pd.NaT:
            return MISSING
        if isinstance(v, (bool, np.bool_)):
            return lookup["yes" if v else "no"] if binary else INVALID
        if isinstance(v, Likelihood):
            return soft_code(v)
        if isinstance(v, str):
            if v in lookup or v == "":
                return lookup[v] if v else MISSING
            return soft_code(v) if binary and v in graded else INVALID
        if isinstance(v, (int, np.integer)):
            text = str(int(v))
        elif isinstance(v, (float, np.floating)):
            f = float(v)
            if math.isnan(f):
                return MISSING
            text = str(int(f)) if f.is_integer() else repr(f)
        else:
            return INVALID
        return lookup.get(text, INVALID)

    return code_of


def invalid_cell(frame: pd.DataFrame, k: int, codes: np.ndarray, states: Sequence[str],
                 graded: Sequence[str] = ()) -> InvalidStateError | None:
    """The error for column ``k``'s first invalid cell (None when it has none): row label, column, value,
    the valid states, and how many rows of the column are invalid.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"limping": ["yes", "maybe"]}, index=[7, 8])
    >>> print(invalid_cell(frame, 0, np.array([0, INVALID]), ("yes", "no")))
    row 8, column 'limping': invalid state 'maybe' for node 'limping': valid states are 'yes', 'no' (or True/False)
    """
    if not codes.size or codes.min() > INVALID:   # one pass where every cell is valid
        return None
    bad = np.flatnonzero(codes == INVALID)
    col = frame.columns[k]
    label, value = frame.index[bad[0]], frame.iloc[bad[0], k]
    label = label.item() if isinstance(label, np.generic) else label
    err = InvalidStateError(col, value, tuple(states), tuple(graded))
    more = f" ({bad.size:,} rows of this column are invalid)" if bad.size > 1 else ""
    err.args = (f"row {quote(label)}, column {quote(col)}: {err}{more}",)
    err.row = label  # type: ignore[attr-defined]
    return err


def distinct_rows(codes: np.ndarray, widths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows, in order of first occurrence, and, per row, which one it is.

    ``widths[k]``: how many codes besides -1 column ``k`` uses. Rows become
    one int64 key where the codes fit (hashing: faster than sorting, measured).

    >>> unique, inverse = distinct_rows(np.array([[0, -1], [1, 0], [0, -1]]), [2, 2])
    >>> unique.tolist(), inverse.tolist()
    ([[0, -1], [1, 0]], [0, 1, 0])
    """
    pd = _pandas()
    n = codes.shape[0]
    if n == 0 or codes.shape[1] == 0:
        return codes[:1], np.zeros(n, dtype=np.intp)
    radix = [w + 1 for w in widths]
    if sum(math.log2(r) for r in radix) < 62:
        key = np.zeros(n, dtype=np.int64)
        term = np.empty(n, dtype=np.int64)
        weight = 1
        for k, r in enumerate(radix):   # codes read in mixed radix (offset by a constant: -1 is a digit)
            key += np.multiply(codes[:, k], np.int64(weight), out=term)
            weight *= r
        inverse, uniques = pd.factorize(key)
        first = np.empty(len(uniques), dtype=np.intp)
        first[inverse[::-1]] = np.arange(n - 1, -1, -1)   # the first row of each distinct key
        return codes[first], inverse.astype(np.intp, copy=False)
    unique, inverse = np.unique(codes, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)
