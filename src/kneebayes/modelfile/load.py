"""Safe parse of a model file into a validated ModelSpec.

Every problem is collected with file, line, node and field, so
:func:`check_model_file` can list them all at once and
:func:`load_spec` can raise one :class:`ModelFileError` holding them all.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import InputFileError, ModelFileError, Problem, nearest, quote
from ..files import read_text
from ..settings import setting_problem
from .numbers import is_number
from .yamlsafe import written
from .schema import (
    BINARY_STATES,
    CARE_WHEN,
    CareItem,
    ClaimSpec,
    Escalation,
    InterviewSettings,
    ModelSpec,
    NodeSpec,
    NoisyOr,
    Parameter,
    Prior,
    RedFlag,
    Table,
    TableColumn,
)

FORMAT = "kneebayes-model/1"
#: The largest model file read: a model file is hand-written (the knee's is about 65 kB). Without
#: libyaml the YAML reader is pure Python (about a second per 100-300 kB; with it, ten times
#: faster), so the bound also bounds the time; a network of thousands of nodes is better imported
#: as BIF (kneebayes.load_bif).
MAX_MODEL_FILE_BYTES = 4 * 1024 * 1024
SUM_TOLERANCE = 1e-9
CLAIM_CHECKS: dict[str, tuple[str, ...]] = {
    "raises": ("cause", "given", "versus"),
    "raises_most": ("cause", "given", "versus"),
    "more_probable": ("cause", "than"),
    "ranks_first": ("cause", "given"),
    "edges_raise": ("parent_kind", "child_kind"),
    "explains_first": ("cause", "given"),
    "lifts": ("cause", "given", "by"),
}
_TOP_KEYS = {"format", "name", "version", "title", "description", "source_document", "disclaimer", "scale", "nodes", "claims",
             "costs", "interview", "red_flags", "escalations", "care"}
_NODE_KEYS = {"id", "label", "kind", "question", "states", "askable", "description", "cost", "normal_state",
              "prior", "noisy_or", "table"}
_INTERVIEW_KEYS = {"confidence", "cost_weight", "min_gain"}
_RED_FLAG_KEYS = {"id", "node", "state", "text", "source"}
_ESCALATION_KEYS = {"id", "cause", "threshold", "text", "source", "rationale"}
_CARE_KEYS = {"id", "title", "advice", "source", "causes", "when", "applies_when"}
DEFAULT_COST = 1.0
DEFAULT_COST_LEVEL = "question"
_PARAM_KEYS = {"value", "range", "source", "rationale"}
_CLAIM_KEYS = {"id", "statement", "source", "check", "cause", "than", "given", "versus", "parent_kind", "child_kind",
               "screened", "by"}
_ID = re.compile(r"[^\s=\[\],{}]+")  # used with fullmatch: a trailing newline is no part of an id
#: How many "did you mean" searches one file gets (each compares a word with every name).
SUGGESTION_BUDGET = 50
#: The kinds the library gives meaning to; a file may use words of its own beside them.
KNOWN_KINDS = ("cause", "risk_factor", "finding")


def _folded(kind: str) -> str:
    return kind.strip().casefold().replace("-", "_").replace(" ", "_")


def _line(container: Any, key: str | None = None) -> int | None:
    if key is not None and hasattr(container, "line_of"):
        return container.line_of(key)
    return getattr(container, "line", None)




class _Reader:
    """Walks the parsed YAML once, collecting problems instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.scale: dict[str, float] = {}
        self.suggestions_left = SUGGESTION_BUDGET

    def hint(self, word: object, pool: Iterable[str]) -> str:
        """"; did you mean 'x'?" for the nearest names in ``pool``, or "".

        Budgeted: a file with thousands of unknown names gets suggestions for
        the first SUGGESTION_BUDGET only (each search compares with every name).
        """
        if self.suggestions_left <= 0:
            return ""
        self.suggestions_left -= 1
        found = nearest(str(word), pool)
        return f"; did you mean {', '.join(repr(s) for s in found)}?" if found else ""

    def problem(self, message: str, *, node: str | None = None, field: str | None = None, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, message, node=node, field=field, line=line))

    def unknown_keys(self, raw: Mapping[str, Any], allowed: set[str], *, node: str | None, field: str | None) -> None:
        for key in raw:
            if key not in allowed:
                hint = self.hint(key, sorted(allowed))
                valid = ", ".join(sorted(allowed))
                fname = f"{field}.{key}" if field else str(key)
                self.problem(f"unknown key {quote(key)}{hint} (valid keys: {valid})", node=node, field=fname, line=_line(raw, key))

    def text(self, raw: Mapping[str, Any], key: str, *, node: str | None, field_prefix: str = "", required: bool = True) -> str | None:
        fname = field_prefix + key
        if key not in raw or raw[key] is None:
            if required:
                self.problem(f"missing {key}", node=node, field=fname, line=_line(raw))
            return None
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{key} must be non-empty text, got {quote(value)}", node=node, field=fname, line=_line(raw, key))
            return None
        return value

    # -- one probability ------------------------------------------------------------
    def value(self, raw: object, *, node: str, field: str, line: int | None) -> tuple[float, str | None] | None:
        if isinstance(raw, str):
            if raw not in self.scale:
                terms = ", ".join(f"{t} ({v:g})" for t, v in self.scale.items()) or "none (the file has no scale)"
                self.problem(f"unknown verbal term {quote(raw)}; the scale has: {terms}", node=node, field=field, line=line)
                return None
            return self.scale[raw], raw
        if not is_number(raw):
            self.problem(f"expected a probability (a number in [0, 1] or a scale word), got {quote(raw)}", node=node, field=field, line=line)
            return None
        v = float(raw)  # type: ignore[arg-type]
        if not (0.0 <= v <= 1.0) or math.isnan(v):
            self.problem(f"probability {quote(v)} is outside [0, 1]", node=node, field=field, line=line)
            return None
        return v, None

    def parameter(self, raw: object, *, node: str, field: str, line: int | None, bare: tuple[str, str] | None = None) -> Parameter | None:
        """A number with provenance; ``bare`` (source, rationale) allows a bare value."""
        if not isinstance(raw, Mapping):
            if bare is not None:
                got = self.value(raw, node=node, field=field, line=line)
                return None if got is None else Parameter(got[0], bare[0], bare[1], None, got[1])
            self.problem(
                f"expected a parameter mapping with value, range, source and rationale, got {quote(raw)}",
                node=node, field=field, line=line,
            )
            return None
        line = _line(raw) or line
        self.unknown_keys(raw, _PARAM_KEYS, node=node, field=field)
        if "value" not in raw:
            self.problem("missing value", node=node, field=f"{field}.value", line=line)
            got = None
        else:
            got = self.value(raw["value"], node=node, field=f"{field}.value", line=_line(raw, "value"))
        source = self.text(raw, "source", node=node, field_prefix=f"{field}.")
        rationale = self.text(raw, "rationale", node=node, field_prefix=f"{field}.")
        rng = self.range(raw, got, node=node, field=f"{field}.range")
        if got is None or source is None or rationale is None or rng is None:
            return None
        return Parameter(got[0], source, rationale, rng, got[1])

    def range(self, raw: Mapping[str, Any], got: tuple[float, str | None] | None, *, node: str, field: str) -> tuple[float, float] | None:
        line = _line(raw, "range")
        if "range" not in raw:
            self.problem("missing range (low, high): how unsure the value is", node=node, field=field, line=_line(raw))
            return None
        r = raw["range"]
        if not (isinstance(r, list) and len(r) == 2 and all(is_number(x) for x in r)):
            self.problem(f"range must be two numbers [low, high], got {quote(r)}", node=node, field=field, line=line)
            return None
        low, high = float(r[0]), float(r[1])
        if low > high:
            self.problem(f"range [{low:g}, {high:g}] has low above high", node=node, field=field, line=line)
            return None
        if got is None:
            return (low, high)
        v = got[0]
        if v in (0.0, 1.0):
            if (low, high) != (v, v):
                what = "certain" if v == 1.0 else "impossible"
                self.problem(f"a value of {v:g} is {what}, so its range must be [{v:g}, {v:g}], got [{low:g}, {high:g}]", node=node, field=field, line=line)
                return None
            return (low, high)
        if not (0.0 < low and high < 1.0):
            self.problem(f"range [{low:g}, {high:g}] must lie inside (0, 1)", node=node, field=field, line=line)
            return None
        if not (low - 1e-12 <= v <= high + 1e-12):
            self.problem(f"range [{low:g}, {high:g}] does not contain the value {v:g}", node=node, field=field, line=line)
            return None
        return (low, high)


def _states(reader: _Reader, raw: Mapping[str, Any], node: str) -> tuple[str, ...] | None:
    if "states" not in raw:
        return BINARY_STATES
    states = raw["states"]
    line = _line(raw, "states")
    if not isinstance(states, list) or len(states) < 2:
        reader.problem(f"states must be a list of at least two names, got {quote(states)}", node=node, field="states", line=line)
        return None
    out: list[str] = []
    for s in states:
        if isinstance(s, bool) or not isinstance(s, (str, int, float)) or str(s).strip() == "" or not str(s).isprintable():
            reader.problem(f"state {quote(s)} is not a name (write it as text)", node=node, field="states", line=line)
            return None
        out.append(written(s))   # as written: a state 010 stays "010"
    dupes = sorted({s for s in out if out.count(s) > 1})
    if dupes:
        reader.problem(f"duplicate state(s) {', '.join(dupes)}", node=node, field="states", line=line)
        return None
    return tuple(out)


def _normal_state(reader: _Reader, raw: Mapping[str, Any], node: str, kind: str | None,
                  states: tuple[str, ...]) -> str | None:
    """A cause's ``normal_state`` (its no-fault state): one of its states; None when not written."""
    if "normal_state" not in raw:
        return None
    value = raw["normal_state"]
    line = _line(raw, "normal_state")
    if kind is not None and kind != "cause":
        reader.problem(f"normal_state is only for nodes of kind cause (the targets); this node's kind is {quote(kind)}",
                       node=node, field="normal_state", line=line)
        return None
    name = written(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if name not in states:
        reader.problem(f"normal_state must be one of this node's states ({', '.join(states)}), got {quote(value)}",
                       node=node, field="normal_state", line=line)
        return None
    return name


def _state_column(reader: _Reader, raw: object, *, node: str, states: tuple[str, ...], field: str, line: int | None,
                  bare: tuple[str, str] | None, label: str) -> tuple[Parameter, ...] | None:
    """A mapping state -> probability listing every state once and summing to 1."""
    if not isinstance(raw, Mapping):
        reader.problem(f"expected a mapping from each state to its probability, got {quote(raw)}", node=node, field=field, line=line)
        return None
    keys = [str(k) for k in raw]
    unknown = [k for k in keys if k not in states]
    expected = ", ".join(states)
    if len(keys) != len(states):
        reader.problem(
            f"wrong number of states: expected {len(states)} ({expected}), got {len(keys)} ({', '.join(keys)})",
            node=node, field=field, line=_line(raw) or line,
        )
        return None
    if unknown:
        reader.problem(
            f"unknown state(s) {', '.join(repr(k) for k in unknown)}; this node's states are {expected}",
            node=node, field=field, line=_line(raw, unknown[0]) if isinstance(raw, Mapping) else line,
        )
        return None
    params: dict[str, Parameter] = {}
    ok = True
    for k, v in raw.items():
        p = reader.parameter(v, node=node, field=f"{field}.{k}", line=_line(raw, k), bare=bare)
        if p is None:
            ok = False
        else:
            params[str(k)] = p
    if not ok:
        return None
    total = math.fsum(p.value for p in params.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        reader.problem(f"{label} sums to {quote(total)}, not 1 (tolerance {SUM_TOLERANCE:g})", node=node, field=field, line=_line(raw) or line)
        return None
    return tuple(params[s] for s in states)


def complement(p: Parameter) -> Parameter:
    """P(no) of a yes/no prior written as P(yes): the value, range and provenance mirrored."""
    rng = None if p.range is None else (1.0 - p.range[1], 1.0 - p.range[0])
    return Parameter(1.0 - p.value, p.source, f"complement of P(yes): {p.rationale}", rng, None)


def _prior(reader: _Reader, raw: object, *, node: str, states: tuple[str, ...], line: int | None) -> Prior | None:
    keys = {str(k) for k in raw} if isinstance(raw, Mapping) else set()
    # One parameter (P(yes)) rather than a mapping of states: a misspelt
    # parameter key must be reported as such, not as a wrong set of states.
    one_parameter = not isinstance(raw, Mapping) or bool(keys & _PARAM_KEYS and not keys <= set(states))
    if (one_parameter and set(states) == set(BINARY_STATES)) or (isinstance(raw, Mapping) and "value" in raw):
        if set(states) != set(BINARY_STATES):
            reader.problem("a single prior value is P(yes) and needs states yes/no; give one probability per state instead",
                           node=node, field="prior", line=line)
            return None
        p = reader.parameter(raw, node=node, field="prior", line=line)
        if p is None:
            return None
        by_state = {"yes": p, "no": complement(p)}
        return Prior(tuple(by_state[s] for s in states), derived_last=True)
    column = _state_column(reader, raw, node=node, states=states, field="prior", line=line, bare=None, label="prior")
    return None if column is None else Prior(column)


def _noisy_or(reader: _Reader, raw: object, *, node: str, states: tuple[str, ...], line: int | None) -> NoisyOr | None:
    if not isinstance(raw, Mapping):
        reader.problem(f"noisy_or must be a mapping with leak and weights, got {quote(raw)}", node=node, field="noisy_or", line=line)
        return None
    reader.unknown_keys(raw, {"leak", "weights"}, node=node, field="noisy_or")
    if set(states) != set(BINARY_STATES):
        reader.problem(f"noisy_or needs a yes/no node, but its states are {', '.join(states)}; use a table", node=node, field="noisy_or", line=line)
        return None
    leak = None
    if "leak" not in raw:
        reader.problem("missing leak (P(yes) when no parent is present)", node=node, field="noisy_or.leak", line=_line(raw))
    else:
        leak = reader.parameter(raw["leak"], node=node, field="noisy_or.leak", line=_line(raw, "leak"))
    weights_raw = raw.get("weights")
    if not isinstance(weights_raw, Mapping) or not weights_raw:
        reader.problem("weights must map each parent to its probability", node=node, field="noisy_or.weights", line=_line(raw, "weights"))
        return None
    weights: list[tuple[str, Parameter]] = []
    ok = leak is not None
    for parent, w in weights_raw.items():
        p = reader.parameter(w, node=node, field=f"noisy_or.weights.{parent}", line=_line(weights_raw, parent))
        if p is None:
            ok = False
        else:
            weights.append((str(parent), p))
    if not ok or leak is None:
        return None
    return NoisyOr(leak, tuple(weights))


def _table(reader: _Reader, raw: object, *, node: str, states: tuple[str, ...], line: int | None,
           node_states: Mapping[str, tuple[str, ...]]) -> Table | None:
    if not isinstance(raw, Mapping):
        reader.problem(f"table must be a mapping with parents and columns, got {quote(raw)}", node=node, field="table", line=line)
        return None
    reader.unknown_keys(raw, {"parents", "columns", "source", "rationale"}, node=node, field="table")
    parents_raw = raw.get("parents")
    if not isinstance(parents_raw, list) or not all(isinstance(p, str) for p in parents_raw):
        reader.problem(f"table.parents must be a list of node ids, got {quote(parents_raw)}", node=node, field="table.parents", line=_line(raw, "parents"))
        return None
    parents = tuple(parents_raw)
    dupes = sorted({p for p in parents if parents.count(p) > 1})
    if dupes:
        reader.problem(f"parent(s) listed twice: {', '.join(dupes)}", node=node, field="table.parents", line=_line(raw, "parents"))
        return None
    source = reader.text(raw, "source", node=node, field_prefix="table.", required=False)
    rationale = reader.text(raw, "rationale", node=node, field_prefix="table.", required=False)
    bare = (source, rationale) if source and rationale else None
    columns_raw = raw.get("columns")
    if not isinstance(columns_raw, list):
        reader.problem("table.columns must be a list of columns (given, probabilities)", node=node, field="table.columns", line=_line(raw, "columns"))
        return None
    if any(p not in node_states for p in parents):
        return None  # unknown parents are reported once, by the graph check
    columns: dict[tuple[tuple[str, str], ...], TableColumn] = {}
    ok = True
    for i, col in enumerate(columns_raw):
        fname = f"table.columns[{i}]"
        cline = _line(col) or _line(raw, "columns")
        if not isinstance(col, Mapping):
            reader.problem("each column must be a mapping with given and probabilities", node=node, field=fname, line=cline)
            ok = False
            continue
        reader.unknown_keys(col, {"given", "probabilities"}, node=node, field=fname)
        given_raw = col.get("given", {})
        by_name = {written(k): v for k, v in given_raw.items()} if isinstance(given_raw, Mapping) else {}
        if not isinstance(given_raw, Mapping) or set(by_name) != set(parents):
            reader.problem(f"given must name every parent ({', '.join(parents)}) once, got {quote(dict(given_raw) if isinstance(given_raw, Mapping) else given_raw)}",
                           node=node, field=f"{fname}.given", line=cline)
            ok = False
            continue
        given: list[tuple[str, str]] = []
        for p in parents:
            s = written(by_name[p])
            if s not in node_states[p]:
                reader.problem(f"{quote(s)} is not a state of parent '{p}' (valid: {', '.join(node_states[p])})", node=node, field=f"{fname}.given.{p}", line=_line(given_raw, p))
                ok = False
            given.append((p, s))
        key = tuple(given)
        shown = "{" + ", ".join(f"{p}={s}" for p, s in key) + "}"
        probs = _state_column(reader, col.get("probabilities"), node=node, states=states, field=f"{fname}.probabilities",
                              line=cline, bare=bare, label=f"column {shown}")
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
    ordered: list[TableColumn] = []
    for combo in itertools.product(*(node_states[p] for p in parents)):
        key = tuple(zip(parents, combo))
        if key not in columns:
            shown = "{" + ", ".join(f"{p}={s}" for p, s in key) + "}"
            reader.problem(f"missing column for {shown}", node=node, field="table.columns", line=_line(raw, "columns"))
            ok = False
        else:
            ordered.append(columns[key])
    if not ok:
        return None
    if not parents:
        # A table without parents is a prior (how imported roots with bare numbers are written).
        return Prior(ordered[0].probabilities) if ordered else None
    return Table(parents, tuple(ordered), source, rationale)


def _find_cycle(parents: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """One directed cycle as a list of ids (first repeated at the end), or None.

    A depth-first search with its own stack, not recursion: a valid chain of
    thousands of nodes listed children first must simply load.
    """
    state: dict[str, int] = {}   # 1 on the current path, 2 finished
    for root in parents:
        if root in state:
            continue
        path: list[str] = [root]
        todo: list[Iterator[str]] = [iter(parents.get(root, ()))]
        state[root] = 1
        while todo:
            p = next(todo[-1], None)
            if p is None:
                todo.pop()
                state[path.pop()] = 2
            elif state.get(p) == 1:
                return list(reversed(path[path.index(p):] + [p]))  # parent -> child order
            elif p not in state:
                state[p] = 1
                path.append(p)
                todo.append(iter(parents.get(p, ())))
    return None

    for n in parents:
        if n not in state:
            found = visit(n)
            if found:
                return list(reversed(found))  # parent -> child order
    return None


def _evidence(reader: _Reader, raw: object, *, claim: str, field: str, line: int | None,
              node_states: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, str], ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        reader.problem(f"{field} must map node ids to states, got {quote(raw)}", node=None, field=f"claims.{claim}.{field}", line=line)
        return None
    out = []
    for key, v in raw.items():
        k = written(key)   # a node id as written (keys are always plain values: the reader refuses others)
        if k not in node_states:
            reader.problem(f"unknown node {quote(k)}{reader.hint(k, node_states)}",
                           field=f"claims.{claim}.{field}", line=_line(raw, k))
            return None
        if written(v) not in node_states[k]:
            reader.problem(f"{quote(v)} is not a state of '{k}' (valid: {', '.join(node_states[k])})", field=f"claims.{claim}.{field}.{k}", line=_line(raw, key))
            return None
        out.append((k, written(v)))
    return tuple(out)


def _claims(reader: _Reader, raw: object, line: int | None, node_states: Mapping[str, tuple[str, ...]],
            kinds: Mapping[str, str]) -> tuple[ClaimSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reader.problem("claims must be a list", field="claims", line=line)
        return ()
    claims: list[ClaimSpec] = []
    seen: set[str] = set()
    for i, c in enumerate(raw):
        cline = _line(c) or line
        if not isinstance(c, Mapping):
            reader.problem("each claim must be a mapping", field=f"claims[{i}]", line=cline)
            continue
        cid = c.get("id") if isinstance(c.get("id"), str) else f"claims[{i}]"
        reader.unknown_keys(c, _CLAIM_KEYS, node=None, field=f"claims.{cid}")
        texts = {k: reader.text(c, k, node=None, field_prefix=f"claims.{cid}.") for k in ("id", "statement", "source", "check")}
        check = texts["check"]
        if cid in seen:
            reader.problem(f"duplicate claim id {quote(cid)}", field=f"claims.{cid}.id", line=cline)
        seen.add(cid)
        if check is None or None in texts.values():
            continue
        if check not in CLAIM_CHECKS:
            reader.problem(f"unknown check {quote(check)}; valid checks: {', '.join(CLAIM_CHECKS)}", field=f"claims.{cid}.check", line=_line(c, "check"))
            continue
        ok = True
        for f in CLAIM_CHECKS[check]:
            if f not in c:
                reader.problem(f"check {check} needs {f}", field=f"claims.{cid}.{f}", line=cline)
                ok = False
        for f in ("cause", "than"):
            if f in c and (not isinstance(c[f], str) or c[f] not in kinds):
                reader.problem(f"unknown node {quote(c[f])}{reader.hint(c[f], kinds)}",
                               field=f"claims.{cid}.{f}", line=_line(c, f))
                ok = False
        screened = c.get("screened", False)
        if not isinstance(screened, bool):
            reader.problem(f"screened must be true or false, got {screened!r:.40}", field=f"claims.{cid}.screened",
                           line=_line(c, "screened"))
            ok = False
        by = c.get("by")
        if by is not None and not (is_number(by) and math.isfinite(by) and by > 1):
            reader.problem(f"by must be a number above 1 (how many times the prior), got {by!r:.40}",
                           field=f"claims.{cid}.by", line=_line(c, "by"))
            ok = False
        given = _evidence(reader, c.get("given"), claim=cid, field="given", line=_line(c, "given"), node_states=node_states)
        versus = _evidence(reader, c.get("versus"), claim=cid, field="versus", line=_line(c, "versus"), node_states=node_states)
        if not ok or given is None or versus is None:
            continue
        claims.append(ClaimSpec(
            id=cid, statement=texts["statement"] or "", source=texts["source"] or "", check=check,
            cause=c.get("cause"), than=c.get("than"), given=given, versus=versus,
            parent_kind=c.get("parent_kind"), child_kind=c.get("child_kind"),
            screened=screened is True, by=None if by is None else float(by),
        ))
    return tuple(claims)


# -- costs, interview settings, red flags, escalations and care -----------------------

_ID_LISTS = ("claims", "red_flags", "escalations", "care")  # top-level lists whose items are named by id


def _positive(x: object) -> bool:
    return is_number(x) and math.isfinite(float(x)) and float(x) > 0.0  # type: ignore[arg-type]


def _costs(reader: _Reader, raw: object, line: int | None) -> dict[str, float]:
    """The cost levels: name -> positive number."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        reader.problem(f"costs must map each cost level to a positive number, got {quote(raw)}", field="costs", line=line)
        return {}
    out: dict[str, float] = {}
    for level, v in raw.items():
        if not isinstance(level, str) or not _ID.fullmatch(level):
            reader.problem(f"cost level {quote(level)} must be a name without spaces", field=f"costs.{level}", line=_line(raw, level))
        elif not _positive(v):
            reader.problem(f"cost level {quote(level)} must be a positive number, got {quote(v)}", field=f"costs.{level}", line=_line(raw, level))
        else:
            out[level] = float(v)
    return out


def _node_cost(reader: _Reader, raw: Mapping[str, Any], nid: str, costs: Mapping[str, float]) -> tuple[float, str | None]:
    """(cost, level name or None); default: the level ``question`` if the file has one, else 1."""
    default = (costs[DEFAULT_COST_LEVEL], DEFAULT_COST_LEVEL) if DEFAULT_COST_LEVEL in costs else (DEFAULT_COST, None)
    if "cost" not in raw:
        return default
    v = raw["cost"]
    line = _line(raw, "cost")
    if isinstance(v, str):
        if v in costs:
            return costs[v], v
        if costs:
            hint = reader.hint(v, costs)
            levels = ", ".join(f"{k} ({c:g})" for k, c in costs.items())
            reader.problem(f"unknown cost level {quote(v)}{hint} (the costs are: {levels})", node=nid, field="cost", line=line)
        else:
            reader.problem(f"unknown cost level {quote(v)}: the file has no costs (add them, or give a positive number)",
                           node=nid, field="cost", line=line)
        return default
    if not _positive(v):
        reader.problem(f"cost must be a level from costs or a positive number, got {quote(v)}", node=nid, field="cost", line=line)
        return default
    return float(v), None  # type: ignore[arg-type]


def _interview(reader: _Reader, raw: object, line: int | None) -> InterviewSettings:
    """Stopping and cost settings; every key is optional and falls back to InterviewSettings' default."""
    if raw is None:
        return InterviewSettings()
    if not isinstance(raw, Mapping):
        reader.problem(f"interview must be a mapping of {', '.join(sorted(_INTERVIEW_KEYS))}, got {quote(raw)}",
                       field="interview", line=line)
        return InterviewSettings()
    reader.unknown_keys(raw, _INTERVIEW_KEYS, node=None, field="interview")
    values: dict[str, float] = {}
    for key in ("confidence", "cost_weight", "min_gain"):
        if key not in raw:
            continue
        why = setting_problem(key, raw[key])  # the one rule every entry point uses
        if why is not None:
            reader.problem(f"interview.{why}", field=f"interview.{key}", line=_line(raw, key))
            continue
        values[key] = float(raw[key])
    return InterviewSettings(**values)


def _items(reader: _Reader, raw: object, line: int | None, section: str, what: str,
           keys: set[str]) -> list[tuple[str, Mapping[str, Any], int | None]]:
    """The mappings of a top-level list (red_flags, escalations, care) with their ids; unknown keys and duplicate ids reported."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.problem(f"{section} must be a list", field=section, line=line)
        return []
    out: list[tuple[str, Mapping[str, Any], int | None]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        iline = _line(item) or line
        if not isinstance(item, Mapping):
            reader.problem(f"each {what} must be a mapping", field=f"{section}[{i}]", line=iline)
            continue
        raw_id = item.get("id")
        iid = raw_id if isinstance(raw_id, str) and raw_id.strip() else f"{section}[{i}]"
        reader.unknown_keys(item, keys, node=None, field=f"{section}.{iid}")
        if reader.text(item, "id", node=None, field_prefix=f"{section}.{iid}.") is None:
            continue
        if iid in seen:
            reader.problem(f"duplicate {what} id {quote(iid)}", field=f"{section}.{iid}.id", line=_line(item, "id"))
            continue
        seen.add(iid)
        out.append((iid, item, iline))
    return out


def _unknown(reader: _Reader, what: str, name: object, pool: Mapping[str, Any] | list[str], *, field: str, line: int | None) -> None:
    reader.problem(f"unknown {what} {quote(name)}{reader.hint(name, pool)}",
                   field=field, line=line)


def _cause_ref(reader: _Reader, name: object, *, field: str, line: int | None, node_states: Mapping[str, tuple[str, ...]],
               kinds: Mapping[str, str]) -> bool:
    """Is ``name`` a yes/no node of kind ``cause``? Report why not."""
    causes = [n for n, k in kinds.items() if k == "cause"]
    if not isinstance(name, str) or name not in kinds:
        _unknown(reader, "cause", name, causes, field=field, line=line)
        return False
    if kinds[name] != "cause":
        reader.problem(f"'{name}' is a {kinds[name] or 'node without a kind'}, not a cause (valid: {', '.join(causes)})",
                       field=field, line=line)
        return False
    if set(node_states[name]) != set(BINARY_STATES):
        reader.problem(f"cause '{name}' must be a yes/no node, but its states are {', '.join(node_states[name])}",
                       field=field, line=line)
        return False
    return True


def _red_flags(reader: _Reader, raw: object, line: int | None, node_states: Mapping[str, tuple[str, ...]],
               askable: Mapping[str, bool]) -> tuple[RedFlag, ...]:
    out: list[RedFlag] = []
    for fid, item, iline in _items(reader, raw, line, "red_flags", "red flag", _RED_FLAG_KEYS):
        prefix = f"red_flags.{fid}."
        texts = {k: reader.text(item, k, node=None, field_prefix=prefix) for k in ("node", "text", "source")}
        if None in texts.values():
            continue
        node = texts["node"] or ""
        state = item.get("state", "yes")
        if node not in node_states:
            _unknown(reader, "node", node, list(node_states), field=prefix + "node", line=_line(item, "node"))
            continue
        if isinstance(state, bool) or not isinstance(state, (str, int, float)) or written(state) not in node_states[node]:
            where = "state" if "state" in item else "node"
            default = "" if "state" in item else " (the default state)"
            reader.problem(f"{quote(state)}{default} is not a state of '{node}' (valid: {', '.join(node_states[node])})",
                           field=prefix + where, line=_line(item, where))
            continue
        if node in askable and not askable[node]:
            reader.problem(f"red flag on '{node}', which is not askable: the interview could never ask it",
                           field=prefix + "node", line=_line(item, "node"))
            continue
        out.append(RedFlag(fid, node, written(state), texts["text"] or "", texts["source"] or ""))
    return tuple(out)


def _escalations(reader: _Reader, raw: object, line: int | None, node_states: Mapping[str, tuple[str, ...]],
                 kinds: Mapping[str, str]) -> tuple[Escalation, ...]:
    out: list[Escalation] = []
    for eid, item, iline in _items(reader, raw, line, "escalations", "escalation", _ESCALATION_KEYS):
        prefix = f"escalations.{eid}."
        texts = {k: reader.text(item, k, node=None, field_prefix=prefix) for k in ("text", "source", "rationale")}
        ok = None not in texts.values()
        if "cause" not in item:
            reader.problem("missing cause", field=prefix + "cause", line=iline)
            ok = False
        elif not _cause_ref(reader, item["cause"], field=prefix + "cause", line=_line(item, "cause"),
                            node_states=node_states, kinds=kinds):
            ok = False
        threshold = item.get("threshold")
        if "threshold" not in item:
            reader.problem("missing threshold", field=prefix + "threshold", line=iline)
            ok = False
        elif not (is_number(threshold) and 0.0 < float(threshold) <= 1.0):
            reader.problem(f"threshold must be a posterior probability in (0, 1], got {quote(threshold)}",
                           field=prefix + "threshold", line=_line(item, "threshold"))
            ok = False
        if ok:
            out.append(Escalation(eid, item["cause"], float(threshold), texts["text"] or "", texts["source"] or "",
                                  texts["rationale"] or ""))
    return tuple(out)


def _care(reader: _Reader, raw: object, line: int | None, node_states: Mapping[str, tuple[str, ...]],
          kinds: Mapping[str, str]) -> tuple[CareItem, ...]:
    out: list[CareItem] = []
    for cid, item, iline in _items(reader, raw, line, "care", "care item", _CARE_KEYS):
        prefix = f"care.{cid}."
        texts = {k: reader.text(item, k, node=None, field_prefix=prefix) for k in ("title", "advice", "source")}
        ok = None not in texts.values()
        causes_raw = item.get("causes", [])
        causes: list[str] = []
        if not isinstance(causes_raw, list):
            reader.problem(f"causes must be a list of cause ids (empty for general advice), got {quote(causes_raw)}",
                           field=prefix + "causes", line=_line(item, "causes"))
            ok = False
        else:
            for c in causes_raw:
                if not _cause_ref(reader, c, field=prefix + "causes", line=_line(item, "causes"),
                                  node_states=node_states, kinds=kinds):
                    ok = False
                elif c in causes:
                    reader.problem(f"cause '{c}' listed twice", field=prefix + "causes", line=_line(item, "causes"))
                    ok = False
                else:
                    causes.append(c)
        when = item.get("when", "always")
        if when not in CARE_WHEN:
            reader.problem(f"when must be one of {', '.join(CARE_WHEN)}, got {quote(when)}", field=prefix + "when", line=_line(item, "when"))
            ok = False
        condition = _care_condition(reader, item, prefix + "applies_when", node_states, kinds) if "applies_when" in item else ()
        if ok and condition is not None:
            out.append(CareItem(cid, texts["title"] or "", texts["advice"] or "", texts["source"] or "", tuple(causes), when,
                                condition))
    return tuple(out)


def _care_condition(reader: _Reader, item: Mapping[str, Any], field: str, node_states: Mapping[str, tuple[str, ...]],
                    kinds: Mapping[str, str]) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """A care item's ``applies_when``: node -> a state or a list of states; None (and problems) if it is wrong."""
    raw, line = item["applies_when"], _line(item, "applies_when")
    if not isinstance(raw, Mapping) or not raw:
        why = "names no node (leave it out for advice that applies whatever the answers)" if isinstance(raw, Mapping) \
            else f"must map node ids to the states under which the advice applies, e.g. {{instability: \"yes\"}}, got {quote(raw)}"
        reader.problem(f"applies_when {why}", field=field, line=line)
        return None
    out: list[tuple[str, tuple[str, ...]]] = []
    for key, value in raw.items():
        node, kline = written(key), _line(raw, key)
        if node not in node_states:
            _unknown(reader, "node", node, list(node_states), field=field, line=kline)
            continue
        if kinds.get(node) == "cause":
            reader.problem(f"'{node}' is a cause, which no answer settles: tie the advice to it with causes, "
                           "which rank it by the cause's posterior", field=field, line=kline)
            continue
        valid = node_states[node]
        listed = value if isinstance(value, list) else [value]
        states: list[str] = []
        for s in listed:
            if isinstance(s, bool) or not isinstance(s, (str, int, float)) or written(s) not in valid:
                reader.problem(f"{quote(s)} is not a state of '{node}' (valid: {', '.join(valid)})",
                               field=f"{field}.{node}", line=kline)
            elif written(s) in states:
                reader.problem(f"state '{written(s)}' listed twice", field=f"{field}.{node}", line=kline)
            else:
                states.append(written(s))
        if not listed:
            reader.problem(f"no state listed for '{node}' (valid: {', '.join(valid)})", field=f"{field}.{node}", line=kline)
        elif len(states) == len(listed):
            out.append((node, tuple(states)))
    return tuple(out) if len(out) == len(raw) else None


def parse_spec(data: Any, file: str) -> tuple[ModelSpec | None, list[Problem]]:
    """Validate parsed YAML; return the spec (None if anything is wrong) and every problem."""
    reader = _Reader(file)
    if not isinstance(data, Mapping):
        reader.problem("a model file must be a YAML mapping with format, name, version, title and nodes", line=1)
        return None, reader.problems
    reader.unknown_keys(data, _TOP_KEYS, node=None, field=None)
    fmt = data.get("format")
    if fmt != FORMAT:
        reader.problem(f"format must be {quote(FORMAT)}, got {quote(fmt)}", field="format", line=_line(data, "format"))
    header = {k: reader.text(data, k, node=None) for k in ("name", "version", "title")}
    description = reader.text(data, "description", node=None, required=False)
    source_document = reader.text(data, "source_document", node=None, required=False)
    disclaimer = reader.text(data, "disclaimer", node=None, required=False)

    scale_raw = data.get("scale", {})
    if not isinstance(scale_raw, Mapping):
        reader.problem("scale must map each verbal term to its number", field="scale", line=_line(data, "scale"))
    else:
        for term, v in scale_raw.items():
            if not isinstance(term, str) or not term.strip():
                reader.problem(f"scale term {quote(term)} must be a word (text)", field=f"scale.{term}",
                               line=_line(scale_raw, term))
            elif not is_number(v) or not 0.0 <= float(v) <= 1.0:
                reader.problem(f"scale term {quote(term)} must be a number in [0, 1], got {quote(v)}", field=f"scale.{term}", line=_line(scale_raw, term))
            else:
                reader.scale[str(term)] = float(v)

    costs = _costs(reader, data.get("costs"), _line(data, "costs"))
    interview = _interview(reader, data.get("interview"), _line(data, "interview"))

    nodes_raw = data.get("nodes")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        reader.problem("nodes must be a non-empty list", field="nodes", line=_line(data, "nodes"))
        return None, reader.problems

    # First pass: ids and states, so parameters can refer to any node.
    node_states: dict[str, tuple[str, ...]] = {}
    kinds: dict[str, str] = {}
    unusable: set[str] = set()  # nodes whose states are broken: children do not re-report them
    entries: list[tuple[str, Mapping[str, Any], tuple[str, ...]]] = []
    for i, raw in enumerate(nodes_raw):
        if not isinstance(raw, Mapping):
            reader.problem(f"each node must be a mapping, got {quote(raw)}", field=f"nodes[{i}]", line=_line(nodes_raw))
            continue
        nid = raw.get("id")
        if not isinstance(nid, str) or not _ID.fullmatch(nid) or not nid.isprintable():
            # isprintable: no control or invisible characters (a zero-width space would make two ids look alike)
            reader.problem(f"id must be printable text without spaces, '=', brackets or braces, got {quote(nid)}", node=None, field=f"nodes[{i}].id", line=_line(raw, "id"))
            continue
        if nid in node_states or nid in unusable:
            reader.problem(f"duplicate id {quote(nid)} (each node needs its own id)", node=nid, field="id", line=_line(raw, "id"))
            continue
        states = _states(reader, raw, nid)
        if states is None:
            unusable.add(nid)
            continue
        node_states[nid] = states
        kinds[nid] = raw.get("kind") if isinstance(raw.get("kind"), str) else ""
        entries.append((nid, raw, states))

    nodes: list[NodeSpec] = []
    for nid, raw, states in entries:
        reader.unknown_keys(raw, _NODE_KEYS, node=nid, field=None)
        label = reader.text(raw, "label", node=nid)
        kind = reader.text(raw, "kind", node=nid)
        if kind is not None and kind not in KNOWN_KINDS and _folded(kind) in KNOWN_KINDS:
            # "Cause" would make a model with no causes: kinds are names of your own, but not near-misses
            reader.problem(f"kind {quote(kind)} differs from {_folded(kind)!r} only in its writing; kinds are "
                           f"case-sensitive (write {_folded(kind)!r}, or a word of your own)",
                           node=nid, field="kind", line=_line(raw, "kind"))
            kind = None
        question = reader.text(raw, "question", node=nid)
        desc = reader.text(raw, "description", node=nid, required=False)
        askable = raw.get("askable", kind != "cause")
        if not isinstance(askable, bool):
            reader.problem(f"askable must be true or false, got {quote(askable)}", node=nid, field="askable", line=_line(raw, "askable"))
            askable = kind != "cause"
        cost, cost_level = _node_cost(reader, raw, nid, costs)
        normal_state = _normal_state(reader, raw, nid, kind, states)
        given = [k for k in ("prior", "noisy_or", "table") if k in raw]
        params = None
        if len(given) != 1:
            msg = "missing parameters: give one of prior, noisy_or, table" if not given else f"give only one of prior, noisy_or, table; got {', '.join(given)}"
            reader.problem(msg, node=nid, field="/".join(given) or "prior/noisy_or/table",
                           line=_line(raw, given[1]) if given else _line(raw))
        else:
            key = given[0]
            line = _line(raw, key)
            if key == "prior":
                params = _prior(reader, raw[key], node=nid, states=states, line=line)
            elif key == "noisy_or":
                params = _noisy_or(reader, raw[key], node=nid, states=states, line=line)
            else:
                params = _table(reader, raw[key], node=nid, states=states, line=line, node_states=node_states)
        # Parents must exist; noisy-OR parents must be yes/no. Each parent is
        # located at its own weight (noisy_or) or at the parents list (table).
        located: list[tuple[str, str, int | None]] = []  # parent, field, line
        noisy_raw = raw.get("noisy_or") if "noisy_or" in given else None
        table_raw = raw.get("table") if "table" in given else None
        if isinstance(noisy_raw, Mapping) and isinstance(noisy_raw.get("weights"), Mapping):
            weights_raw = noisy_raw["weights"]
            located = [(str(p), f"noisy_or.weights.{p}", _line(weights_raw, p)) for p in weights_raw]
        elif isinstance(table_raw, Mapping) and isinstance(table_raw.get("parents"), list):
            located = [(str(p), "table.parents", _line(table_raw, "parents")) for p in table_raw["parents"]]
        for p, pfield, pline in located:
            if p in unusable:
                params = None  # its own problem is reported already
            elif p not in node_states:
                hint = reader.hint(p, (n for n in node_states if n != nid))  # never itself
                reader.problem(f"unknown parent {quote(p)}{hint}",
                               node=nid, field=pfield, line=pline)
                params = None
            elif p == nid:
                reader.problem("a node cannot be its own parent", node=nid, field=pfield, line=pline)
                params = None
            elif noisy_raw is not None and set(node_states[p]) != set(BINARY_STATES):
                reader.problem(f"noisy_or parent '{p}' must be a yes/no node, but its states are {', '.join(node_states[p])}",
                               node=nid, field=pfield, line=pline)
                params = None
        if label and kind and question and params is not None:
            nodes.append(NodeSpec(nid, label, kind, question, states, params, askable, desc, _line(raw), cost, cost_level,
                                  normal_state))

    # Checked once the nodes are otherwise sound (a broken file is not also told it lacks causes).
    if entries and not reader.problems and not any(k == "cause" for k in kinds.values()):
        reader.problem("no node has kind 'cause', so the model has nothing to diagnose; give at least one node "
                       "kind: cause (its targets)", field="nodes", line=_line(data, "nodes"))
    parent_map = {n.id: n.parents for n in nodes}
    cycle = _find_cycle(parent_map)
    if cycle:
        # Name the edge that closes the loop: cycle[0] is a parent of cycle[1].
        parent, child = cycle[0], cycle[1]
        child_raw = next(r for i_, r, _ in entries if i_ == child)
        if "noisy_or" in child_raw:
            weights_raw = child_raw["noisy_or"]["weights"]
            pfield, pline = f"noisy_or.weights.{parent}", _line(weights_raw, parent)
        else:
            pfield, pline = "table.parents", _line(child_raw["table"], "parents")
        reader.problem(f"cycle: {' -> '.join(cycle)} (a node cannot be its own ancestor)", node=child, field=pfield, line=pline)

    claims = _claims(reader, data.get("claims"), _line(data, "claims"), node_states, kinds)
    askable = {n.id: n.askable for n in nodes}
    red_flags = _red_flags(reader, data.get("red_flags"), _line(data, "red_flags"), node_states, askable)
    escalations = _escalations(reader, data.get("escalations"), _line(data, "escalations"), node_states, kinds)
    care = _care(reader, data.get("care"), _line(data, "care"), node_states, kinds)
    if reader.problems or None in header.values():
        return None, reader.problems
    spec = ModelSpec(
        name=header["name"] or "", version=header["version"] or "", title=header["title"] or "",
        nodes=tuple(nodes), scale=tuple(reader.scale.items()), claims=claims,
        description=description, source_document=source_document, path=file, disclaimer=disclaimer,
        costs=tuple(costs.items()), interview=interview, red_flags=red_flags, escalations=escalations, care=care,
    )
    return spec, []


def _locate(path: tuple[tuple[str | int, str | None], ...]) -> tuple[str | None, str | None]:
    """(node, field) for a place in the YAML tree, as validation problems name them.

    ``("nodes", (2, "pain"), "prior", "value")`` -> ``("pain", "prior.value")``;
    a place outside the nodes keeps its whole path as the field.
    """
    steps = list(path)
    node = None
    if len(steps) >= 2 and steps[0][0] == "nodes" and isinstance(steps[1][0], int) and steps[1][1] is not None:
        node = steps[1][1]
        steps = steps[2:]
    elif (len(steps) >= 2 and steps[0][0] in _ID_LISTS and isinstance(steps[1][0], int)
          and steps[1][1] is not None):
        steps = [(steps[0][0], None), (steps[1][1], None)] + steps[2:]
    text = ""
    for key, _ in steps:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return node, text or None


def _read(path: str | Path) -> tuple[ModelSpec | None, list[Problem]]:
    from .yamlsafe import DuplicateKeyError, LimitError, RefusedTagError, parse_yaml
    import yaml

    file = str(path)
    try:
        text = read_text(path, what="model file", limit=MAX_MODEL_FILE_BYTES)
    except InputFileError as exc:
        return None, [Problem(file, f"the model file {exc.reason}")]
    try:
        data = parse_yaml(text)
    except LimitError as exc:
        return None, [Problem(file, exc.message, line=exc.line)]
    except DuplicateKeyError as exc:
        node, where = _locate(exc.path)
        field = f"{where}.{exc.key}" if where else str(exc.key)
        return None, [Problem(file, f"duplicate key {quote(exc.key)} (a later one would silently replace the first)",
                              node=node, field=field, line=exc.line)]
    except RefusedTagError as exc:
        node, field = _locate(exc.path)
        tag = exc.tag.replace("tag:yaml.org,2002:", "!!")
        return None, [Problem(file, f"tag {quote(tag)} refused: a model file is plain data, and tags "
                                    "(which could build Python objects or run code) are never honoured",
                              node=node, field=field, line=exc.line)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line + 1 != line:
            # The parser notices late (an unclosed bracket shows up lines later): say where it began.
            message += f" ({context} started at line {context_mark.line + 1})"
        return None, [Problem(file, message, line=line)]
    return parse_spec(data, file)


def check_model_file(path: str | Path) -> list[Problem]:
    """Every problem in a model file, without raising; an empty list means it loads.

    >>> from kneebayes import check_model_file
    >>> from kneebayes.modelfile.load import default_model_path
    >>> check_model_file(default_model_path())
    []
    """
    return _read(path)[1]


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a model file; raise :class:`ModelFileError` listing every problem."""
    spec, problems = _read(path)
    if problems or spec is None:
        raise ModelFileError(problems)
    return spec


def default_model_path() -> Path:
    """The packaged default model file.

    Inside an installed wheel it sits in ``kneebayes/models/``; in a source
    checkout (editable install) it is the repository's ``models/knee.yaml``,
    the one file researchers edit.
    """
    package = Path(__file__).resolve().parent.parent
    packaged = package / "models" / "knee.yaml"
    return packaged if packaged.is_file() else package.parent.parent / "models" / "knee.yaml"
