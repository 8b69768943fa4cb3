"""A table's cells as state codes: the one reading of an answer in a DataFrame, for ``diagnose_frame`` and learning.

A cell is a state name; True/False for a yes/no node; a number, matched
against a state whose name is that number written out (``1`` and ``1.0``
match a state ``"1"``); missing (None, NaN, ``pd.NA``, ``""``); or, where
soft answers are taken, a :class:`~kneebayes.Likelihood` or a graded word
of a yes/no node. Its code is the state's index, :data:`MISSING` (-1),
:data:`INVALID` (-2), or, for the column's ``j``-th distinct soft answer,
the node's number of states plus ``j``. Each column is coded through its
distinct values (``pandas.factorize``), not its rows; an object column whose
cells are a few shared objects, through its distinct objects; a column of
arrow strings is matched against the node's states on its arrow buffers.

>>> import pandas as pd, kneebayes
>>> net = kneebayes.load_model().network
>>> codes, soft = column_codes(pd.Series(["yes", None, True, "probably"]), net, net.index["limping"],
...                            kneebayes.load_model().graded_answers)
>>> codes.tolist(), soft
([0, -1, 0, 2], (Likelihood(yes=4.0, no=1.0, label='probably'),))
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidStateError, quote
from .evidence import normalize, number_text
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
        by_identity = _identity_codes(values, code_of)
        if by_identity is not None:
            return by_identity, tuple(found)
    else:
        values = series   # numpy numbers or bools, or an extension array (strings, nullable booleans): one type
    if len(values) == 0:
        return np.zeros(0, dtype=np.int32), ()
    try:
        keys, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:   # an unhashable cell (a list): no hashing at all
        return _one_by_one(values, code_of), tuple(found)
    # Distinct values that are all text merged nothing (a string equals no bool or number): no type scan needed.
    if series.dtype == object and not all(type(u) is str for u in uniques) and \
            pd.api.types.infer_dtype(values, skipna=True) not in _SAFE_KINDS:
        return _one_by_one(values, code_of), tuple(found)
    lut = np.array([code_of(u) for u in uniques] + [MISSING], dtype=np.int32)
    return lut[np.asarray(keys)], tuple(found)   # key -1 (missing) picks the last entry


#: Cells sampled from an object column to judge whether its cells share a few objects (see ``_identity_codes``).
_IDENTITY_SAMPLE = 1024
#: Most distinct objects in that sample, and in the whole column, for the column to be read object by object.
_IDENTITY_MOST = 64


def _identity_codes(values: np.ndarray, code_of: Callable[[Any], int]) -> np.ndarray | None:
    """An object column whose cells are a few shared objects (a CSV read by pandas 2, a list of literals,
    ``None``): each distinct *object* read once, found by the cells' addresses, not their values: looked up in
    a table of the sampled objects (``_sampled_codes``), else hashed (``pandas.factorize``).

    Exact for any mix of types (each object is read as itself, as ``_one_by_one`` reads it), and about a
    tenth of the cost of ``infer_dtype`` and ``factorize`` over the values. None where a sample of the cells
    holds more than ``_IDENTITY_MOST`` distinct objects (strings made one per cell), or the whole column does.
    """
    n = len(values)
    if n == 0 or not values.flags.c_contiguous:
        return None
    try:
        ids = np.frombuffer(values, dtype=np.uintp)   # each cell's object, by address (values keeps them alive)
    except (BufferError, TypeError, ValueError):   # a numpy that will not lend an object array's buffer
        return None
    step = max(1, n // _IDENTITY_SAMPLE)
    sampled = dict(zip(ids[::step].tolist(), values[::step].tolist()))   # address -> the object there
    if len(sampled) > _IDENTITY_MOST:
        return None
    codes = _sampled_codes(ids, sampled, code_of)
    if codes is not None:
        return codes
    keys, uniques = _pandas().factorize(ids)   # uniques: the addresses in order of first sight
    if len(uniques) > _IDENTITY_MOST:
        return None
    addresses = uniques.tolist()
    missed = np.array([a not in sampled for a in addresses], dtype=bool)
    if missed.any():   # a cell of each object the sample missed, found among those objects' cells only
        rows = np.flatnonzero(missed.take(keys))   # (a scatter over every row took as long as the factorize)
        row = np.empty(len(addresses), dtype=np.intp)
        row[keys[rows]] = rows
        sampled.update((addresses[k], values[row[k]]) for k in np.flatnonzero(missed).tolist())
    lut = np.array([code_of(sampled[a]) for a in addresses], dtype=np.int32)   # each object once, first seen first
    return lut.take(keys)


#: Slots of the table of a column's sampled objects in ``_sampled_codes``: a few addresses rarely collide in it.
_SLOTS = 1 << 12


def _sampled_codes(ids: np.ndarray, sampled: dict[int, Any], code_of: Callable[[Any], int]) -> np.ndarray | None:
    """The codes of cells at addresses ``ids`` where every cell is one of the objects ``sampled`` (address ->
    object), else None (nothing read): each cell looked up in a table of those objects by a few bits of its
    address where no two of them share those bits, and the address there checked against the cell's own.
    Half the cost of hashing every address (``pandas.factorize``) on 200,000 cells of 3 objects (measured).
    """
    addresses = list(sampled)
    for shift in range(3, 20):   # objects lie at multiples of 8 or 16: the lowest bits tell them apart least
        slots = [(a >> shift) & (_SLOTS - 1) for a in addresses]
        if len(set(slots)) == len(slots):
            break
    else:
        return None
    slot = ids.view(np.intp) >> shift
    slot &= _SLOTS - 1
    table = np.zeros(_SLOTS, dtype=np.uintp)
    table[slots] = addresses
    if not np.array_equal(table.take(slot), ids):   # a cell holds an object the sample missed
        return None
    for head in (slot[:_IDENTITY_SAMPLE], slot[: 64 * _IDENTITY_SAMPLE], slot):   # the first rows that hold them all
        first = np.full(_SLOTS, len(head), dtype=np.intp)
        first[head[::-1]] = np.arange(len(head) - 1, -1, -1)   # each slot's first row in head
        if first[slots].max() < len(head):
            break
    lut = np.zeros(_SLOTS, dtype=np.int32)
    for k in np.argsort(first[slots], kind="stable").tolist():   # each object read once, in order of first sight
        lut[slots[k]] = code_of(sampled[addresses[k]])
    return lut.take(slot)


def _arrow_codes(series: pd.Series, states: Sequence[str], code_of: Callable[[Any], int]) -> np.ndarray:
    """A column of pyarrow-backed strings (pandas 3's default for text), chunk by chunk: each cell matched
    against the node's states on the arrow buffers (``_short_codes``; ``pyarrow.compute.index_in`` where a state
    is long); the cells that are neither a state nor missing (an empty string, a graded answer, an invalid value)
    are read one distinct value at a time."""
    import pyarrow as pa  # loaded already: the column is stored in it
    import pyarrow.compute as pc

    strings = series.array.__arrow_array__()
    chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
    out = np.empty(len(series), dtype=np.int32)
    known: dict[Any, int] = {}   # the other values' codes, across chunks (soft answers coded in order of first sight)
    at = 0
    for chunk in chunks:
        codes = out[at : at + len(chunk)]
        at += len(chunk)
        unmatched = _short_codes(chunk, states, codes)
        if unmatched is None:
            unmatched = _index_in_codes(chunk, states, codes)
        if unmatched:
            other = np.flatnonzero(codes == _OTHER)
            cells = pc.dictionary_encode(chunk.take(pa.array(other)))   # its values in order of first occurrence
            for value in cells.dictionary.to_pylist():
                if value not in known:
                    known[value] = code_of(value)
            lut = np.array([known[value] for value in cells.dictionary.to_pylist()], dtype=np.int32)
            codes[other] = lut[cells.indices.to_numpy()]
    return out


#: The code of a cell that is neither missing nor a state, before it is read (an empty string, a graded word, ...).
_OTHER = -3


def _short_codes(chunk: Any, states: Sequence[str], out: np.ndarray) -> int | None:
    """Codes of one arrow string chunk into ``out``: the state's index, MISSING or ``_OTHER``, and how many
    cells are ``_OTHER``; None (``out`` untouched) where a state is longer than 8 bytes, or there are more
    than 120 states, or the chunk is no ``large_string`` array.

    Read from the array's own buffers, no Python object per cell: a cell equals a state of ``L`` bytes
    exactly when its length (from the offsets) is ``L`` and the first ``L`` of the 8 bytes from its start
    are the state's. Null and empty cells are missing. On a column of 200,000 yes/no answers this took
    1.7 ms where a hash lookup in arrow (``index_in``) and its conversion took 3.8 (measured, alternating).
    """
    import pyarrow as pa

    encoded = [s.encode("utf-8") for s in states]
    if sys.byteorder != "little" or any(len(b) > 8 for b in encoded) or len(states) > 120:
        return None
    if not pa.types.is_large_string(chunk.type):   # pandas keeps its arrow strings as large_string
        return None
    n = len(chunk)
    if n == 0:
        return 0
    validity, offsets, data = chunk.buffers()
    offs = np.frombuffer(offsets, dtype=np.int64, count=n + 1, offset=chunk.offset * 8)
    first, last = int(offs[0]), int(offs[-1])
    text = np.zeros(last - first + 8, dtype=np.uint8)   # the chunk's bytes, padded: 8 can be read at every start
    if last > first:
        text[: last - first] = np.frombuffer(data, dtype=np.uint8, count=last - first, offset=first)
    every = np.ndarray(shape=(len(text) - 7,), dtype=np.uint64, buffer=text, strides=(1,))   # 8 bytes from each byte
    words = every.take(offs[:-1] - first if first else offs[:-1])
    lengths = np.diff(offs)
    answered = lengths != 0
    spanned = int(np.count_nonzero(answered))
    if chunk.null_count:
        answered &= np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=chunk.offset + n,
                                  bitorder="little")[chunk.offset :].view(bool)
    unmatched = int(np.count_nonzero(answered))
    codes = answered.view(np.int8) * np.int8(_OTHER - MISSING) + np.int8(MISSING)   # missing, or not read yet
    for j, b in enumerate(encoded):
        if not b:   # an empty cell is missing, whatever the states
            continue
        mask = np.uint64((1 << (8 * len(b))) - 1)
        word = np.frombuffer(b.ljust(8, b"\0"), dtype=np.uint64)[0]
        hit = (lengths == len(b)) & ((words & mask) == word)
        if spanned > unmatched:   # a null cell whose offsets span bytes (arrow allows it): not a state
            hit &= answered
        codes += hit.view(np.int8) * np.int8(j - _OTHER)
        unmatched -= int(np.count_nonzero(hit))
    out[:] = codes
    return unmatched


def _index_in_codes(chunk: Any, states: Sequence[str], out: np.ndarray) -> int:
    """``_short_codes`` through a hash lookup in arrow (any states, any string type)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(chunk, value_set=pa.array(list(states), type=pa.string()))
    out[:] = pc.fill_null(found, _OTHER).to_numpy()
    if chunk.null_count:
        out[np.asarray(chunk.is_null())] = MISSING
    return found.null_count - chunk.null_count


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
            return soft_code(v) if v in graded else INVALID   # on a node not yes/no, the error diagnose gives
        text = number_text(v)
        if text is None:
            return MISSING if isinstance(v, (float, np.floating)) and math.isnan(v) else INVALID
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


#: Up to this many possible rows (or one per row), ``distinct_rows`` counts keys in a table instead of hashing them.
_COUNTED = 1 << 16


def distinct_rows(codes: np.ndarray, widths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows, in order of first occurrence, and, per row, which one it is.

    ``widths[k]``: how many codes besides -1 column ``k`` uses. Rows become
    one int64 key where the codes fit (hashing: faster than sorting, measured);
    where there are few possible keys (at most ``_COUNTED`` or one per row),
    they are looked up in a table of every key instead of hashed (the rules
    that fire in triage: 168,000 rows of 12 flags in 2 ms where hashing int64
    keys took 4).

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
        offset = 0
        for k, r in enumerate(radix):   # codes read in mixed radix (offset by a constant: -1 is a digit)
            key += np.multiply(codes[:, k], np.int64(weight), out=term)
            offset += weight
            weight *= r
        if weight <= max(_COUNTED, n):   # weight: how many keys there can be
            key += offset   # 0 .. weight - 1
            first = np.full(weight, n, dtype=np.intp)
            first[key[::-1]] = np.arange(n - 1, -1, -1)   # the first row of each key
            present = np.flatnonzero(first < n)
            present = present[np.argsort(first[present], kind="stable")]   # in order of first occurrence
            which = np.empty(weight, dtype=np.intp)
            which[present] = np.arange(len(present))
            return codes[first[present]], which[key]
        inverse, uniques = pd.factorize(key)
        first = np.empty(len(uniques), dtype=np.intp)
        first[inverse[::-1]] = np.arange(n - 1, -1, -1)   # the first row of each distinct key
        return codes[first], inverse.astype(np.intp, copy=False)
    unique, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")   # sorted rows back in order of first occurrence
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return unique[order], rank[inverse.reshape(-1)]
