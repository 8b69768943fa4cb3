"""Reading a node's numbers from a model file: a prior, a noisy-OR or a full table.

Each number is a parameter (value, range, source, rationale); the value is
a probability or a word of the file's verbal scale. Problems go to the
:class:`~.fields.FieldReader`, located at the number's own field; a part
with a problem reads as None.
"""

from __future__ import annotations

import datetime
import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..errors import listing, quote
from .checks import NotAProbability, probability, range_problem, sums_to_one, two_numbers
from .fields import FieldReader, line_of
from .format import DATA_RECORD_KEYS, PARAMETER_KEYS, SUM_TOLERANCE, complement
from .schema import BINARY_STATES, DataRecord, NoisyOr, Parameter, Prior, Table, TableColumn
from .yamlsafe import written

__all__ = ["parameter", "prior", "noisy_or", "table"]


def _value(reader: FieldReader, raw: object, *, node: str, field: str, line: int | None) -> tuple[float, str | None] | None:
    got = probability(raw, reader.scale)
    if got is NotAProbability.UNKNOWN_TERM:
        terms = listing(f"{t} ({v:g})" for t, v in reader.scale.items()) or "none (the file has no scale)"
        hint = ""
        if isinstance(raw, str):
            try:   # YAML 1.1 reads 1e-3 (no dot) as text: say how to write it as a number
                number = float(raw)
            except ValueError:
                number = math.nan
            if 0.0 <= number <= 1.0:
                hint = f"; as a number, write {number!r} (YAML reads {raw} as text)"
        reader.problem(f"unknown verbal term {quote(raw)}; the scale has: {terms}{hint}", node=node, field=field,
                       line=line)
    elif got is NotAProbability.NOT_A_NUMBER:
        reader.problem(f"expected a probability (a number in [0, 1] or a scale word), got {quote(raw)}", node=node,
                       field=field, line=line)
    elif got is NotAProbability.OUTSIDE:
        reader.problem(f"probability {quote(float(raw))} is outside [0, 1]", node=node, field=field, line=line)  # type: ignore[arg-type]
    else:
        return got
    return None


def parameter(reader: FieldReader, raw: object, *, node: str, field: str, line: int | None,
              bare: tuple[str, str] | None = None) -> Parameter | None:
    """A number with provenance; ``bare`` (source, rationale) allows a bare value."""
    if not isinstance(raw, Mapping):
        if bare is not None:
            got = _value(reader, raw, node=node, field=field, line=line)
            return None if got is None else Parameter(got[0], bare[0], bare[1], None, got[1])
        reader.problem(
            f"expected a parameter mapping with value, range, source and rationale, got {quote(raw)}",
            node=node, field=field, line=line,
        )
        return None
    line = line_of(raw) or line
    reader.unknown_keys(raw, PARAMETER_KEYS, node=node, field=field)
    if "value" not in raw:
        reader.problem("missing value", node=node, field=f"{field}.value", line=line)
        got = None
    else:
        got = _value(reader, raw["value"], node=node, field=f"{field}.value", line=line_of(raw, "value"))
    source = reader.text(raw, "source", node=node, field_prefix=f"{field}.")
    rationale = reader.text(raw, "rationale", node=node, field_prefix=f"{field}.")
    rng = _range(reader, raw, got, node=node, field=f"{field}.range")
    data = _data(reader, raw, node=node, field=f"{field}.data")
    if got is None or source is None or rationale is None or rng is None or data is None:
        return None
    return Parameter(got[0], source, rationale, rng, got[1], data)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _data(reader: FieldReader, raw: Mapping[str, Any], *, node: str, field: str) -> tuple[DataRecord, ...] | None:
    """The optional ``data`` list: the data sets a learned number saw, each with name, cases and date."""
    if "data" not in raw:
        return ()
    items = raw["data"]
    if not isinstance(items, list):
        reader.problem(f"data must be a list of records (name, cases, date), got {quote(items)}", node=node,
                       field=field, line=line_of(raw, "data"))
        return None
    records: list[DataRecord] = []
    ok = True
    for k, item in enumerate(items):
        fname, line = f"{field}[{k}]", line_of(item) or line_of(raw, "data")
        if not isinstance(item, Mapping):
            reader.problem(f"a data record must be a mapping with name, cases and date, got {quote(item)}", node=node,
                           field=fname, line=line)
            ok = False
            continue
        reader.unknown_keys(item, DATA_RECORD_KEYS, node=node, field=fname)
        name = reader.text(item, "name", node=node, field_prefix=f"{fname}.")
        cases = item.get("cases")
        if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1:
            reader.problem(f"cases must be a whole number of at least 1, got {quote(cases)}", node=node,
                           field=f"{fname}.cases", line=line_of(item, "cases") or line)
            cases = None
        date = _date(item.get("date"))
        if date is None:
            reader.problem(f"date must be a date written YYYY-MM-DD, got {quote(item.get('date'))}", node=node,
                           field=f"{fname}.date", line=line_of(item, "date") or line)
        if name is None or cases is None or date is None:
            ok = False
            continue
        records.append(DataRecord(name, int(cases), date))
    return tuple(records) if ok else None


def _date(raw: object) -> str | None:
    """``raw`` as YYYY-MM-DD when it is a real date (YAML reads an unquoted one as a date), else None."""
    if isinstance(raw, datetime.date) and not isinstance(raw, datetime.datetime):
        return raw.isoformat()
    if isinstance(raw, str) and _DATE.fullmatch(raw):
        try:
            return datetime.date.fromisoformat(raw).isoformat()
        except ValueError:
            return None
    return None


def _range(reader: FieldReader, raw: Mapping[str, Any], got: tuple[float, str | None] | None, *, node: str,
           field: str) -> tuple[float, float] | None:
    line = line_of(raw, "range")
    if "range" not in raw:
        reader.problem("missing range (low, high): how unsure the value is", node=node, field=field, line=line_of(raw))
        return None
    r = raw["range"]
    pair = two_numbers(r) if isinstance(r, list) else None   # YAML writes a range as a list
    if pair is None:
        reader.problem(f"range must be two numbers [low, high], got {quote(r)}", node=node, field=field, line=line)
        return None
    why = range_problem(None if got is None else got[0], *pair)
    if why is not None:
        reader.problem(why, node=node, field=field, line=line)
        return None
    return pair


def _state_column(reader: FieldReader, raw: object, *, node: str, states: tuple[str, ...], field: str,
                  line: int | None, bare: tuple[str, str] | None, label: str) -> tuple[Parameter, ...] | None:
    """A mapping state -> probability listing every state once and summing to 1."""
    if not isinstance(raw, Mapping):
        reader.problem(f"expected a mapping from each state to its probability, got {quote(raw)}", node=node,
                       field=field, line=line)
        return None
    keys = [str(k) for k in raw]
    unknown = [k for k in keys if k not in states]
    expected = ", ".join(states)
    if len(keys) != len(states):
        reader.problem(
            f"wrong number of states: expected {len(states)} ({expected}), got {len(keys)} ({', '.join(keys)})",
            node=node, field=field, line=line_of(raw) or line,
        )
        return None
    if unknown:
        reader.problem(f"unknown state(s) {', '.join(repr(k) for k in unknown)}; this node's states are {expected}",
                       node=node, field=field, line=line_of(raw, unknown[0]))
        return None
    params: dict[str, Parameter] = {}
    ok = True
    for k, v in raw.items():
        p = parameter(reader, v, node=node, field=f"{field}.{k}", line=line_of(raw, k), bare=bare)
        if p is None:
            ok = False
        else:
            params[str(k)] = p
    if not ok:
        return None
    total = math.fsum(p.value for p in params.values())
    if not sums_to_one(total):
        reader.problem(f"{label} sums to {quote(total)}, not 1 (tolerance {SUM_TOLERANCE:g})", node=node, field=field,
                       line=line_of(raw) or line)
        return None
    return tuple(params[s] for s in states)


def prior(reader: FieldReader, raw: object, *, node: str, states: tuple[str, ...], line: int | None) -> Prior | None:
    """A root's ``prior``: one parameter (P(yes) of a yes/no node) or one per state."""
    keys = {str(k) for k in raw} if isinstance(raw, Mapping) else set()
    # One parameter (P(yes)) rather than a mapping of states: a misspelt
    # parameter key must be reported as such, not as a wrong set of states.
    one_parameter = not isinstance(raw, Mapping) or bool(keys & PARAMETER_KEYS and not keys <= set(states))
    if (one_parameter and set(states) == set(BINARY_STATES)) or (isinstance(raw, Mapping) and "value" in raw):
        if set(states) != set(BINARY_STATES):
            reader.problem("a single prior value is P(yes) and needs states yes/no; give one probability per state instead",
                           node=node, field="prior", line=line)
            return None
        p = parameter(reader, raw, node=node, field="prior", line=line)
        if p is None:
            return None
        by_state = {"yes": p, "no": complement(p)}
        return Prior(tuple(by_state[s] for s in states), derived_last=True)
    column = _state_column(reader, raw, node=node, states=states, field="prior", line=line, bare=None, label="prior")
    return None if column is None else Prior(column)


def noisy_or(reader: FieldReader, raw: object, *, node: str, states: tuple[str, ...], line: int | None) -> NoisyOr | None:
    """A yes/no child's ``noisy_or``: its leak and one weight per parent."""
    if not isinstance(raw, Mapping):
        reader.problem(f"noisy_or must be a mapping with leak and weights, got {quote(raw)}", node=node, field="noisy_or",
                       line=line)
        return None
    reader.unknown_keys(raw, {"leak", "weights"}, node=node, field="noisy_or")
    if set(states) != set(BINARY_STATES):
        reader.problem(f"noisy_or needs a yes/no node, but its states are {', '.join(states)}; use a table", node=node,
                       field="noisy_or", line=line)
        return None
    leak = None
    if "leak" not in raw:
        reader.problem("missing leak (P(yes) when no parent is present)", node=node, field="noisy_or.leak",
                       line=line_of(raw))
    else:
        leak = parameter(reader, raw["leak"], node=node, field="noisy_or.leak", line=line_of(raw, "leak"))
    weights_raw = raw.get("weights")
    if not isinstance(weights_raw, Mapping) or not weights_raw:
        reader.problem("weights must map each parent to its probability", node=node, field="noisy_or.weights",
                       line=line_of(raw, "weights"))
        return None
    weights: list[tuple[str, Parameter]] = []
    ok = leak is not None
    for parent, w in weights_raw.items():
        p = parameter(reader, w, node=node, field=f"noisy_or.weights.{parent}", line=line_of(weights_raw, parent))
        if p is None:
            ok = False
        else:
            weights.append((str(parent), p))
    if not ok or leak is None:
        return None
    return NoisyOr(leak, tuple(weights))


#: At most this many missing columns of a table are named one by one; past it, the file hears how many it needs.
MISSING_LISTED = 20


def table(reader: FieldReader, raw: object, *, node: str, states: tuple[str, ...], line: int | None,
          node_states: Mapping[str, tuple[str, ...]]) -> Table | Prior | None:
    """A full ``table``: one column per combination of the parents' states (a prior when it has no parents)."""
    if not isinstance(raw, Mapping):
        reader.problem(f"table must be a mapping with parents and columns, got {quote(raw)}", node=node, field="table",
                       line=line)
        return None
    reader.unknown_keys(raw, {"parents", "columns", "source", "rationale"}, node=node, field="table")
    parents_raw = raw.get("parents")
    if not isinstance(parents_raw, list) or not all(isinstance(p, str) for p in parents_raw):
        reader.problem(f"table.parents must be a list of node ids, got {quote(parents_raw)}", node=node,
                       field="table.parents", line=line_of(raw, "parents"))
        return None
    parents = tuple(parents_raw)
    dupes = sorted(p for p, n in Counter(parents).items() if n > 1)   # linear: a hostile list repeats one id 400k times
    if dupes:
        reader.problem(f"parent(s) listed twice: {', '.join(dupes)}", node=node, field="table.parents",
                       line=line_of(raw, "parents"))
        return None
    source = reader.text(raw, "source", node=node, field_prefix="table.", required=False)
    rationale = reader.text(raw, "rationale", node=node, field_prefix="table.", required=False)
    bare = (source, rationale) if source and rationale else None
    columns_raw = raw.get("columns")
    if not isinstance(columns_raw, list):
        reader.problem("table.columns must be a list of columns (given, probabilities)", node=node,
                       field="table.columns", line=line_of(raw, "columns"))
        return None
    if any(p not in node_states for p in parents):
        return None  # unknown parents are reported once, by the graph check
    columns: dict[tuple[tuple[str, str], ...], TableColumn] = {}
    ok = True
    for i, col in enumerate(columns_raw):
        fname = f"table.columns[{i}]"
        cline = line_of(col) or line_of(raw, "columns")
        if not isinstance(col, Mapping):
            reader.problem("each column must be a mapping with given and probabilities", node=node, field=fname, line=cline)
            ok = False
            continue
        reader.unknown_keys(col, {"given", "probabilities"}, node=node, field=fname)
        given_raw = col.get("given", {})
        by_name = {written(k): v for k, v in given_raw.items()} if isinstance(given_raw, Mapping) else {}
        if not isinstance(given_raw, Mapping) or set(by_name) != set(parents):
            shown_given = dict(given_raw) if isinstance(given_raw, Mapping) else given_raw
            reader.problem(f"given must name every parent ({', '.join(parents)}) once, got {quote(shown_given)}",
                           node=node, field=f"{fname}.given", line=cline)
            ok = False
            continue
        given: list[tuple[str, str]] = []
        for p in parents:
            s = written(by_name[p])
            if s not in node_states[p]:
                reader.problem(f"{quote(s)} is not a state of parent '{p}' (valid: {', '.join(node_states[p])})",
                               node=node, field=f"{fname}.given.{p}", line=line_of(given_raw, p))
                ok = False
            given.append((p, s))
        key = tuple(given)
        shown = _shown(key)
        probs = _state_column(reader, col.get("probabilities"), node=node, states=states,
                              field=f"{fname}.probabilities", line=cline, bare=bare, label=f"column {shown}")
        if probs is None:
            ok = False
            continue
        if key in columns:
            reader.problem(f"duplicate column for {shown}", node=node, field=fname, line=cline)
            ok = False
            continue
        columns[key] = TableColumn(key, probs)
    if not ok:
        return None
    needed = math.prod(len(node_states[p]) for p in parents)
    if needed > len(columns) + MISSING_LISTED:
        # Too many to list, and perhaps to count by walking them (50 yes/no parents: 2^50 combinations)
        sizes = " x ".join(str(len(node_states[p])) for p in parents)
        reader.problem(f"the table gives {len(columns):,} columns, but its parents' states ({sizes}) need {needed:,}: "
                       "one column per combination", node=node, field="table.columns", line=line_of(raw, "columns"))
        return None
    ordered: list[TableColumn] = []
    for combo in itertools.product(*(node_states[p] for p in parents)):   # here at most MISSING_LISTED are missing
        key = tuple(zip(parents, combo))
        if key not in columns:
            reader.problem(f"missing column for {_shown(key)}", node=node, field="table.columns",
                           line=line_of(raw, "columns"))
            ok = False
        else:
            ordered.append(columns[key])
    if not ok:
        return None
    if not parents:
        # A table without parents is a prior (how imported roots with bare numbers are written).
        return Prior(ordered[0].probabilities) if ordered else None
    return Table(parents, tuple(ordered), source, rationale)


def _shown(key: tuple[tuple[str, str], ...]) -> str:
    """A column's parent states as messages write them: ``{strain=yes, sprain=no}``."""
    return "{" + ", ".join(f"{p}={s}" for p, s in key) + "}"
