"""Cohorts beyond one machine: ``diagnose_frame`` on a Dask DataFrame, and a sweep of parameter changes.

Needs the ``dask`` extra (``pip install "kneebayes[dask]"``: ``dask[dataframe]``
and ``distributed``); ``import kneebayes`` never imports Dask, and neither
does importing this module: Dask loads inside the functions below.

>>> import dask.dataframe as dd, pandas as pd, kneebayes
>>> model = kneebayes.load_model()
>>> cases = pd.DataFrame({"limping": ["yes", None, "no", "yes"], "tingling_or_numbness": [None, "yes", "no", None]},
...                      index=[10, 11, 12, 13])
>>> lazy = model.diagnose_frame(dd.from_pandas(cases, npartitions=2), triage=True)
>>> type(lazy).__name__, lazy.npartitions
('DataFrame', 2)
>>> out = lazy.compute(scheduler="threads")
>>> pd.testing.assert_frame_equal(out, model.diagnose_frame(cases, triage=True))
>>> from kneebayes.dask import sweep
>>> table = sweep(model, [{}, {"bakers_cyst.leak": 0.2}], cases, scheduler="threads")
>>> table[["variant", "case"]].values.tolist()[:5]
[[0, 10], [0, 11], [0, 12], [0, 13], [1, 10]]

**One model, once per worker.** ``model.diagnose_frame(ddf)`` is
``ddf.map_partitions`` over the pandas ``diagnose_frame``, with the same
arguments, the index kept and an explicit ``meta``: the pandas function run
on the Dask DataFrame's own empty frame (so bad columns and ``keep=`` names
fail at once, on the client; a bad *cell* is only seen when its partition
runs, and its InvalidStateError comes back from the worker unchanged; where
Dask's ``dataframe.convert-string`` setting turned a True/False or a soft
answer of an object column into a word, the message says so). The
model enters the graph once, as one key (``dask.delayed(model)``), which
every partition's task depends on: Dask sends it to each worker once and
the worker keeps it while the graph runs. A model pickles as its spec
(kilobytes for the knee model) and compiles again when a worker loads it.
Its key is its content (``Model.__dask_tokenize__``: the content hash and
every text), so two equal models share a key and a changed one never does.

**What runs where.** The client builds the graph (and, for ``sweep``, the
changed models, which also checks every change before anything runs); each
worker diagnoses whole partitions with the pandas code path, which itself
uses up to ``kneebayes.batch.WORKERS`` threads; the client gathers only
what ``.compute()`` (or ``sweep``) asks for. The same code runs on the
threaded scheduler, a ``LocalCluster``, or a real cluster reached with
``distributed.Client("tcp://scheduler:8786")``; the workers need kneebayes
installed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import EvidenceError, InvalidStateError, ParameterError, SettingError, WrongTypeError, quote
from .extras import require
from .research.checks import check_count, check_memory

if TYPE_CHECKING:
    import dask.dataframe
    import pandas as pd

    from .model import Model

__all__ = ["PARTITION_ROWS", "SWEEP_COLUMNS", "diagnose_frame", "sweep"]

#: Rows per partition when ``sweep`` splits a pandas frame: large enough that a task's overhead
#: (milliseconds) is small beside its work, small enough that each partition's result stays tens of MB.
PARTITION_ROWS = 100_000

#: The two columns ``sweep`` puts before the diagnosis: the index in ``changes`` and the frame's index label.
SWEEP_COLUMNS = ("variant", "case")
#: The schedulers ``sweep`` names (Dask's own names for its local schedulers).
SCHEDULERS = ("threads", "threading", "processes", "multiprocessing", "synchronous", "single-threaded", "sync")
#: The most variants a sweep takes: each compiles its model on the client before anything runs (the knee's take
#: 1-3 ms each, a network of thousands of nodes seconds); read at each call.
MAX_VARIANTS = 10_000
#: The most memory, in bytes, a sweep's result may take (4 GiB): it is gathered on the client; read at each call.
SWEEP_MEMORY = 4 << 30

_CHANGES_HELP = "changes must be a list of parameter changes, each a dict {address: value} as with_parameters takes"


def diagnose_frame(model: Model, frame: dask.dataframe.DataFrame, *, triage: bool = False,
                   next_question: bool = False, explain: bool = False,
                   keep: str | Sequence[Hashable] = ()) -> dask.dataframe.DataFrame:
    """``model.diagnose_frame`` for a Dask DataFrame: a lazy Dask DataFrame, one partition out per partition in.

    Same arguments, columns, dtypes and index as the pandas call (see
    :mod:`kneebayes.batch`); ``.compute()`` equals the pandas call on the
    same rows. ``Model.diagnose_frame`` hands a Dask DataFrame here, so
    this is rarely called by name.

    >>> import dask.dataframe as dd, pandas as pd, kneebayes
    >>> from kneebayes.dask import diagnose_frame
    >>> model = kneebayes.load_model()
    >>> cases = dd.from_pandas(pd.DataFrame({"limping": ["yes", "no", None]}), npartitions=2)
    >>> diagnose_frame(model, cases).compute(scheduler="threads")["impossible"].tolist()
    [False, False, False]
    """
    dd = _dataframe()
    if not isinstance(frame, dd.DataFrame):
        raise WrongTypeError(f"a Dask collection must be a dask.dataframe.DataFrame of cases, "
                             f"got {type(frame).__name__}")
    options = _options(triage, next_question, explain, keep)
    meta = model.diagnose_frame(_empty(frame), **options)   # the result's columns and dtypes; checks the columns now
    return frame.map_partitions(_diagnose_part, _shipped(model), options, meta=meta)


def sweep(model: Model, changes: Sequence[Mapping[str, Any]], frame: pd.DataFrame | dask.dataframe.DataFrame, *,
          client: Any = None, triage: bool = False, next_question: bool = False, explain: bool = False,
          keep: str | Sequence[Hashable] = (), scheduler: str | None = None,
          partition_rows: int = PARTITION_ROWS) -> pd.DataFrame:
    """Every case under every variant of the model: one pandas DataFrame, variant by variant.

    ``changes``: a list of parameter changes, each a mapping as
    :meth:`~kneebayes.Model.with_parameters` takes (``{}`` is the model as
    it is). Each is applied once, on the client, before anything runs, so a
    bad address raises ParameterError (prefixed with its place in the list)
    at once. ``frame``: a pandas DataFrame (split into partitions of
    ``partition_rows`` rows) or a Dask DataFrame (its own partitions). The
    variants run as one graph on ``client`` if given, else on Dask's
    default: the current ``distributed`` client if there is one, else
    ``scheduler`` (``"threads"``, ``"processes"``, ``"synchronous"``) or
    Dask's configured scheduler.

    Returns a DataFrame with a fresh RangeIndex: ``variant`` (the index in
    ``changes``), ``case`` (the frame's index label; a MultiIndex's labels
    as tuples, the cases run by position since Dask has no MultiIndex), then the columns
    ``diagnose_frame`` gives with the same flags and ``keep=``; variants in
    order, cases in the frame's order within each. It holds variants x
    cases rows (about 80 bytes a row for the knee model, 8 bytes a number:
    1,000 variants of 10,000 cases is about 0.8 GB): only this result comes
    back to the client, at the end, and gathering it briefly takes twice
    that. For more, write each variant out from the Dask DataFrame of
    :func:`diagnose_frame` instead. A sweep of more than ``MAX_VARIANTS``
    changes (10,000), or whose result would pass ``SWEEP_MEMORY`` (4 GiB),
    is refused with a SettingError before anything is compiled or run. The
    memory check needs the cases counted: a pandas frame's are; a Dask
    frame's are not (that would read it), so its result is not checked.

    >>> import pandas as pd, kneebayes
    >>> from kneebayes.dask import sweep
    >>> model = kneebayes.load_model()
    >>> cases = pd.DataFrame({"swelling_behind_knee": ["yes", "no"]}, index=["ann", "bo"])
    >>> out = sweep(model, [{"bakers_cyst.leak": 0.02}, {"bakers_cyst.leak": 0.2}], cases, scheduler="threads")
    >>> out[["variant", "case"]]
       variant case
    0        0  ann
    1        0   bo
    2        1  ann
    3        1   bo
    >>> bool((out["bakers_cyst"][2:].to_numpy() > out["bakers_cyst"][:2].to_numpy()).all())   # a higher leak
    True
    >>> sweep(model, {"bakers_cyst.leak": 0.3}, cases)
    Traceback (most recent call last):
    ...
    kneebayes.errors.WrongTypeError: changes must be a list of parameter changes, each a dict {address: value} as with_parameters takes; for one change, pass [{...}] (got a dict)
    """
    dd = _dataframe()
    pd = require("pandas", feature="kneebayes.dask.sweep")
    if scheduler is not None and scheduler not in SCHEDULERS:   # dask would say so only once the graph runs
        raise SettingError(f"scheduler must be one of {', '.join(map(quote, SCHEDULERS))} or None (Dask's "
                           f"configured one), got {quote(scheduler)}")
    _check_changes(changes)   # their types and number; each is applied (and compiled) once the rest is checked
    options = _options(triage, next_question, explain, keep)
    rows = len(frame) if isinstance(frame, pd.DataFrame) else None
    labels = None
    if isinstance(frame, pd.DataFrame):
        check_count(partition_rows, "partition_rows", 2**62)   # WrongTypeError for a non-int, SettingError below 1
        if isinstance(frame.index, pd.MultiIndex):   # Dask has no MultiIndex: the cases run by position, labels kept here
            labels = frame.index.to_flat_index()
            frame = frame.reset_index(drop=True)
        parts = max(1, math.ceil(len(frame) / partition_rows))
        with _dask().config.set({"dataframe.convert-string": False}):   # kept text keeps the caller's dtype
            frame = dd.from_pandas(frame, npartitions=parts, sort=False)
    elif not isinstance(frame, dd.DataFrame):
        raise WrongTypeError(f"frame must be a pandas or Dask DataFrame of cases, got {type(frame).__name__}")
    meta = model.diagnose_frame(_empty(frame), **options)   # checks the columns before anything runs
    for name in SWEEP_COLUMNS:
        if name in meta.columns:
            raise EvidenceError(f"column {quote(name)} of the result would clash with the {quote(name)} column sweep "
                                f"adds; rename it before the sweep")
    meta.insert(0, "case", pd.Series(meta.index.to_flat_index(), index=meta.index, dtype=meta.index.dtype))
    meta.insert(0, "variant", pd.Series([], index=meta.index, dtype="int64"))
    if rows is not None:   # the gathered result must fit SWEEP_MEMORY: checked before any variant compiles
        check_memory(len(changes) * rows, 8 * len(meta.columns), limit=SWEEP_MEMORY,
                     limit_name="kneebayes.dask.SWEEP_MEMORY", name="variants x cases", what="result row")
    variants = _variants(model, changes)
    if labels is not None:
        meta["case"] = pd.Series([], index=meta.index, dtype=object)   # the MultiIndex's labels, as tuples
    if not variants:
        return meta.reset_index(drop=True)
    parts = [frame.map_partitions(_variant_part, _shipped(changed), k, options, meta=meta, clear_divisions=True)
             for k, changed in enumerate(variants)]
    whole = dd.concat(parts)
    result = client.compute(whole).result() if client is not None else whole.compute(scheduler=scheduler)
    result = result.reset_index(drop=True)
    if labels is not None:   # each case's position back to its label
        result["case"] = pd.Series(labels[result["case"].to_numpy()], dtype=object)
    return result


# -- the parts -----------------------------------------------------------------------------

def _diagnose_part(part: pd.DataFrame, model: Model, options: dict[str, Any]) -> pd.DataFrame:
    """One partition, on a worker: the pandas call."""
    try:
        return model.diagnose_frame(part, **options)
    except InvalidStateError as err:
        raise _with_text_hint(err, part) from None


def _variant_part(part: pd.DataFrame, model: Model, variant: int, options: dict[str, Any]) -> pd.DataFrame:
    """One partition under one variant, on a worker: the pandas call with ``variant`` and ``case`` in front."""
    try:
        out = model.diagnose_frame(part, **options)
    except InvalidStateError as err:
        raise _with_text_hint(err, part) from None
    out.insert(0, "case", out.index.to_flat_index())
    out.insert(0, "variant", variant)
    return out


#: ``str`` of a Likelihood, as Dask's string conversion leaves one: "likelihood yes:no = 3:1", "probably (yes:no = 4:1)".
_LIKELIHOOD_TEXT = re.compile(r"likelihood [^=]+ = \S+|.+ \([^=]+ = \S+\)", re.DOTALL)


def _with_text_hint(err: InvalidStateError, part: pd.DataFrame) -> InvalidStateError:
    """``err``, saying why where its value is what Dask's string conversion makes of True, False or a Likelihood.

    Dask stores an object column as text by default (``dataframe.convert-string``): text answers come through
    as they were, but True/False and soft answers reach the worker as the words "True", "False" and
    "likelihood yes:no = 3:1", which no state is.
    """
    value = err.value
    column = part.get(err.node) if isinstance(err.node, str) else None
    pd = require("pandas", feature="diagnose_frame")
    if column is None or not isinstance(column.dtype, pd.StringDtype) or not isinstance(value, str):
        return err
    if value not in ("True", "False") and not _LIKELIHOOD_TEXT.fullmatch(value):
        return err
    err.args = (f"{err}; Dask stored column {quote(err.node)} as text (its dataframe.convert-string setting), which "
                "turns True/False and soft answers into words: build the Dask DataFrame inside "
                "dask.config.set({'dataframe.convert-string': False})",)
    return err


def _options(triage: bool, next_question: bool, explain: bool, keep: str | Sequence[Hashable]) -> dict[str, Any]:
    """The pandas call's keyword arguments (it checks them; the meta run makes it check them at once)."""
    return {"triage": triage, "next_question": next_question, "explain": explain, "keep": keep}


def _check_changes(changes: Any) -> None:
    """WrongTypeError naming the first item that is not a mapping, SettingError past ``MAX_VARIANTS``."""
    if isinstance(changes, Mapping):
        raise WrongTypeError(f"{_CHANGES_HELP}; for one change, pass [{{...}}] (got a {type(changes).__name__})")
    if not isinstance(changes, (list, tuple)):
        raise WrongTypeError(f"{_CHANGES_HELP}, got {type(changes).__name__} {quote(changes)}")
    check_count(len(changes), "the number of changes", MAX_VARIANTS, minimum=0, limit_name="kneebayes.dask.MAX_VARIANTS")
    for k, change in enumerate(changes):
        if not isinstance(change, Mapping):
            raise WrongTypeError(f"{_CHANGES_HELP}; item {k} of changes is {type(change).__name__} {quote(change)}")


def _variants(model: Model, changes: Sequence[Mapping[str, Any]]) -> list[Model]:
    """Each change applied once, in order (``_check_changes`` first); ParameterError naming the bad one."""
    out = []
    for k, change in enumerate(changes):
        try:
            out.append(model.with_parameters(change))
        except ParameterError as err:
            raise ParameterError(f"item {k} of changes: {err}") from None
    return out


def _shipped(model: Model) -> Any:
    """The model as one graph key named by its content: sent once to each worker that needs it, not once a task."""
    dask = _dask()
    return dask.delayed(model, name=f"kneebayes-model-{dask.base.tokenize(model)}", pure=True)


def _dask() -> Any:
    """``dask``, or MissingExtraError naming the ``dask`` extra."""
    return require("dask", "dask", "Dask DataFrames")


def _empty(frame: dask.dataframe.DataFrame) -> pd.DataFrame:
    """The Dask DataFrame's empty pandas frame: its columns, dtypes and index type, with no rows."""
    return require("dask.dataframe.utils", "dask", "Dask DataFrames").make_meta(frame)


def _dataframe() -> Any:
    """``dask.dataframe``, or MissingExtraError naming the ``dask`` extra."""
    return require("dask.dataframe", "dask", "Dask DataFrames")
