"""Every number of a model by its address: list, change, compare.

An address names one independent number the way the model file does:

* ``poor_warmup.prior``: P(yes) of a yes/no root (P(no) is its complement,
  not a number of its own, so it has no address);
* ``X.prior[state]``: one state of a root with other states (or an imported
  yes/no root, whose file lists both states);
* ``bakers_cyst.leak`` and ``bakers_cyst.weight[meniscal_injury]``: a
  noisy-OR's leak and weights;
* ``X.table[parent=state,...][state]``: one cell of a full table (every
  state of the node has an address, for yes/no tables too; a table without
  parents is read as a prior, so its cells are ``X.prior[state]``).

:func:`with_parameters` changes numbers and returns a new spec (the old one
is untouched). A table column or a multi-state prior must keep summing to
1, so changing some of its states rescales the *other* states of that
column proportionally: setting ``X.prior[a]`` from 0.2 to 0.4 when ``b``
and ``c`` are 0.6 and 0.2 makes them 0.45 and 0.15. Changes to one column
apply together: the states given are fixed, the rest take up what is left.

>>> import kneebayes
>>> model = kneebayes.load_model()
>>> leak = model.parameters["bakers_cyst.leak"]
>>> higher = model.with_parameters({"bakers_cyst.leak": leak.range[1]})
>>> [change.address for change in model.diff(higher)]
['bakers_cyst.leak']
>>> model.parameters["bakers_cyst.leak"] == leak   # the old model is untouched
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Union

from ..errors import ParameterError, WrongTypeError, did_you_mean, listing, quote
from ..extras import require
from ..modelfile.checks import NotAProbability, contains, probability, range_problem, sums_to_one, two_numbers
from ..modelfile.format import SUM_TOLERANCE, complement
from ..modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table, TableColumn

if TYPE_CHECKING:
    import pandas

__all__ = ["ParameterChange", "parameters", "with_parameters", "diff", "diff_frame", "address_of_cell"]

#: A ParameterError lists at most this many problems; the rest are counted.
MAX_LISTED_PROBLEMS = 10

#: Only this many unknown addresses get a "did you mean" search (each search
#: compares the address with every address of the model); the others are
#: named without suggestions.
MAX_SUGGESTED = 3

#: Each listed problem is cut to this many characters.
PROBLEM_LIMIT = 300

#: What :func:`with_parameters` accepts for one address: a probability, a
#: word of the model's verbal scale, or ``(value, (low, high))`` to set the
#: value and its range together.
NewValue = Union[float, str, tuple[Union[float, str], tuple[float, float]]]


@dataclass(frozen=True)
class _Slot:
    """Where an address points: node position, what kind of number, and which one."""

    node: int
    kind: str  # "yes" (P(yes) of a yes/no prior), "leak", "weight", "cell"
    index: int  # state index ("yes", "cell") or weight index ("weight")
    column: int | None = None  # table column; None for a prior's states


def address_of_cell(node: str, given: tuple[tuple[str, str], ...], state: str) -> str:
    """The address of one table cell: ``node.table[p1=s1,p2=s2][state]``.

    >>> address_of_cell("bakers_cyst", (("meniscal_injury", "yes"),), "no")
    'bakers_cyst.table[meniscal_injury=yes][no]'
    """
    return f"{node}.table[{','.join(f'{p}={s}' for p, s in given)}][{state}]"


def _slots(spec: ModelSpec) -> dict[str, tuple[_Slot, Parameter]]:
    out: dict[str, tuple[_Slot, Parameter]] = {}
    for i, node in enumerate(spec.nodes):
        p = node.parameters
        if isinstance(p, Prior):
            if p.derived_last:
                yes = node.states.index("yes")
                out[f"{node.id}.prior"] = (_Slot(i, "yes", yes), p.probabilities[yes])
            else:
                for s, (state, q) in enumerate(zip(node.states, p.probabilities)):
                    out[f"{node.id}.prior[{state}]"] = (_Slot(i, "cell", s), q)
        elif isinstance(p, NoisyOr):
            out[f"{node.id}.leak"] = (_Slot(i, "leak", 0), p.leak)
            for w, (parent, q) in enumerate(p.weights):
                out[f"{node.id}.weight[{parent}]"] = (_Slot(i, "weight", w), q)
        else:
            for c, col in enumerate(p.columns):
                for s, (state, q) in enumerate(zip(node.states, col.probabilities)):
                    out[address_of_cell(node.id, col.given, state)] = (_Slot(i, "cell", s, c), q)
    return out


def parameters(spec: ModelSpec) -> Mapping[str, Parameter]:
    """Every independent number of the model by its address, in node order (read-only).

    Within a node: a prior's P(yes) or its states in order; a noisy-OR's
    leak then its weights in parent order; a table's columns in order, each
    with every state.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> list(parameters(spec))[:2]
    ['poor_warmup.prior', 'sudden_training_increase.prior']
    """
    return MappingProxyType({address: param for address, (_, param) in _slots(spec).items()})


def parameters_by_node(spec: ModelSpec) -> dict[str, list[tuple[str, Parameter]]]:
    """The same numbers grouped by node id (every node present, in file order), for per-node listings."""
    out: dict[str, list[tuple[str, Parameter]]] = {node.id: [] for node in spec.nodes}
    for address, (slot, param) in _slots(spec).items():
        out[spec.nodes[slot.node].id].append((address, param))
    return out


# -- changing numbers -------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:g}"


def _scale_text(scale: Mapping[str, float]) -> str:
    if not scale:
        return "this model has no verbal scale"
    return "the scale has: " + listing(f"{t} ({_fmt(v)})" for t, v in scale.items())


def _value(address: str, raw: object, scale: Mapping[str, float]) -> tuple[float, str | None]:
    """A probability (and the verbal term, if one was given) or ParameterError."""
    got = probability(raw, scale)
    if not isinstance(got, NotAProbability):
        return got
    if got is NotAProbability.UNKNOWN_TERM:
        raise ParameterError(f"{address}: unknown verbal term {quote(raw)}{did_you_mean(raw, scale)} ({_scale_text(scale)})")
    words = f" or a word of the scale ({', '.join(scale)})" if scale else ""
    if got is NotAProbability.NOT_A_NUMBER:
        raise ParameterError(f"{address}: expected a probability (a number in [0, 1]){words}, got {quote(raw)}")
    raise ParameterError(f"{address}: {quote(float(raw))} is not a probability; give a number in [0, 1]{words}")  # type: ignore[arg-type]


def _new_range(address: str, value: float, raw: object) -> tuple[float, float]:
    """Check a range given with ``(value, (low, high))`` by the model file's rules."""
    pair = two_numbers(raw)
    if pair is None:
        raise ParameterError(f"{address}: a range must be two numbers (low, high), got {quote(raw)}")
    why = range_problem(value, *pair)
    if why is not None:
        raise ParameterError(f"{address}: {why}")
    return pair


def _changed(address: str, raw: object, old: Parameter, scale: Mapping[str, float]) -> Parameter:
    """The parameter at ``address`` with its new value (source and rationale kept)."""
    if isinstance(raw, (tuple, list)):
        if len(raw) != 2:
            raise ParameterError(f"{address}: to set a value and its range give (value, (low, high)), got {quote(raw)}")
        value, term = _value(address, raw[0], scale)
        return replace(old, value=value, term=term, range=_new_range(address, value, raw[1]))
    value, term = _value(address, raw, scale)
    if not contains(old.range, value):
        assert old.range is not None
        low, high = old.range
        # a certain value (0 or 1) admits only itself as its range; any other, a range around it
        example = f"({_fmt(value)}, ({_fmt(value)}, {_fmt(value)}))" if value in (0.0, 1.0) else f"({_fmt(value)}, (low, high))"
        raise ParameterError(
            f"{address}: {_fmt(value)} is outside the stated range [{_fmt(low)}, {_fmt(high)}]; the range says how "
            "unsure the number is, so changing it means editing the model file, or passing "
            f"(value, (low, high)) here, e.g. {{{quote(address)}: {example}}}"
        )
    return replace(old, value=value, term=term)


def _renormalised(addresses: list[str], old: tuple[Parameter, ...], changed: dict[int, Parameter]) -> tuple[Parameter, ...]:
    """One column (or multi-state prior) with ``changed`` states set and the others rescaled to sum to 1."""
    out = list(old)
    for i, p in changed.items():
        out[i] = p
    given = ", ".join(addresses[i] for i in sorted(changed))
    fixed = math.fsum(p.value for p in changed.values())
    others = [i for i in range(len(old)) if i not in changed]
    if not others:
        if not sums_to_one(fixed):
            raise ParameterError(f"{given}: every state of this column is given, and they sum to {quote(fixed)}, not 1 "
                                 f"(tolerance {SUM_TOLERANCE:g})")
        return tuple(out)
    rest = 1.0 - fixed
    names = ", ".join(addresses[i] for i in others)
    if rest < -SUM_TOLERANCE:
        raise ParameterError(f"{given}: the new values sum to {quote(fixed)}, more than 1, leaving nothing for {names}")
    rest = max(rest, 0.0)
    old_rest = math.fsum(old[i].value for i in others)
    if old_rest == 0.0:
        if rest > SUM_TOLERANCE:
            raise ParameterError(f"{given}: the column must still sum to 1, but the other states ({names}) are all 0, "
                                 f"so rescaling them cannot make up the remaining {_fmt(rest)}; give them explicitly")
        values = {i: 0.0 for i in others}
    else:
        values = {i: old[i].value * rest / old_rest for i in others}
        # The largest takes the rounding, so the column sums to 1 as exactly as floats allow.
        big = max(others, key=lambda i: old[i].value)
        values[big] = max(0.0, 1.0 - math.fsum([p.value for p in changed.values()] + [values[i] for i in others if i != big]))
    for i in others:
        v, p = values[i], old[i]
        if v == p.value:
            continue
        if not contains(p.range, v):
            assert p.range is not None
            raise ParameterError(
                f"{addresses[i]}: changing {given} rescales this state to {v:.6g} (the column must sum to 1), outside "
                f"its stated range [{_fmt(p.range[0])}, {_fmt(p.range[1])}]; give it too, as (value, (low, high)) "
                "if its range must change"
            )
        out[i] = replace(p, value=v, term=None)  # a rescaled number is no longer the word written
    return tuple(out)


def with_parameters(spec: ModelSpec, changes: Mapping[str, NewValue]) -> ModelSpec:
    """A new spec with the numbers at some addresses changed; ``spec`` itself is untouched.

    Each value is a probability in [0, 1], a word of the model's verbal
    scale (kept as the word, as if the file said it), or
    ``(value, (low, high))`` to set the value and its range together. A
    plain value must lie inside the number's stated range: the range says
    how unsure the number is, so moving outside it is a change of range too,
    made explicit with the pair (or by editing the file). Source and
    rationale are kept.

    A yes/no prior's complement follows its P(yes). In a table column or a
    multi-state prior, the states not given are rescaled proportionally so
    the column sums to 1; a rescaled state must stay inside its own range.

    The new spec's ``path`` is None: it is no longer what any file says
    (``save`` writes one). Raises ParameterError naming each bad address
    (the first few with the nearest valid ones) or bad value (with what
    would be valid); with many problems the message lists the first
    ``MAX_LISTED_PROBLEMS`` and counts the rest. WrongTypeError when ``changes``
    is not a mapping.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> new = with_parameters(spec, {"poor_warmup.prior": ("fifty-fifty", (0.3, 0.7))})
    >>> yes, no = new.node("poor_warmup").parameters.probabilities
    >>> yes.value, yes.term, yes.range, no.value
    (0.5, 'fifty-fifty', (0.3, 0.7), 0.5)
    >>> with_parameters(spec, {"poor_warmup.prior": 1.5})
    Traceback (most recent call last):
    ...
    kneebayes.errors.ParameterError: poor_warmup.prior: 1.5 is not a probability; give a number in [0, 1] or ...
    """
    if not isinstance(changes, Mapping):
        raise WrongTypeError(f"changes must be a mapping from parameter address to new value, "
                             f"got {type(changes).__name__}")
    if not changes:
        return spec
    slots = _slots(spec)
    scale = dict(spec.scale)
    problems: list[str] = []
    new: dict[str, tuple[_Slot, Parameter]] = {}
    searched = 0   # unknown addresses given a "did you mean" search so far (at most MAX_SUGGESTED)
    for address, raw in changes.items():
        if not isinstance(address, str):
            problems.append(f"a parameter address is a string such as 'bakers_cyst.leak', got "
                            f"{type(address).__name__} {quote(address)}")
            continue
        if address not in slots:
            searched += 1
            problems.append(_unknown_address(address, slots, suggest=searched <= MAX_SUGGESTED))
            continue
        slot, old = slots[address]
        try:
            new[address] = (slot, _changed(address, raw, old, scale))
        except ParameterError as exc:
            problems.append(str(exc))

    # Group by node, then apply each node's changes at once.
    by_node: dict[int, list[tuple[_Slot, Parameter]]] = {}
    for slot, param in new.values():
        by_node.setdefault(slot.node, []).append((slot, param))
    nodes = list(spec.nodes)
    for i, changed in by_node.items():
        try:
            nodes[i] = _apply(spec.nodes[i], changed)
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError(_problems_message(problems))
    return replace(spec, nodes=tuple(nodes), path=None)


def _problems_message(problems: list[str]) -> str:
    """One problem as it is; several as a list of at most MAX_LISTED_PROBLEMS, each cut short, the rest counted."""
    def cut(text: str) -> str:
        return text if len(text) <= PROBLEM_LIMIT else text[:PROBLEM_LIMIT] + "..."

    if len(problems) == 1:
        return cut(problems[0])
    lines = [f"  - {cut(p)}" for p in problems[:MAX_LISTED_PROBLEMS]]
    rest = len(problems) - MAX_LISTED_PROBLEMS
    if rest > 0:
        lines.append(f"  ... and {rest} more (model.parameters lists every valid address)")
    return f"{len(problems)} problems with the changes:\n" + "\n".join(lines)


def _apply(node: NodeSpec, changed: list[tuple[_Slot, Parameter]]) -> NodeSpec:
    p = node.parameters
    if isinstance(p, NoisyOr):
        leak, weights = p.leak, list(p.weights)
        for slot, param in changed:
            if slot.kind == "leak":
                leak = param
            else:
                weights[slot.index] = (weights[slot.index][0], param)
        return replace(node, parameters=replace(p, leak=leak, weights=tuple(weights)))
    if isinstance(p, Prior):
        if p.derived_last:
            (slot, yes), = changed
            by_state = {"yes": yes, "no": complement(yes)}
            return replace(node, parameters=replace(p, probabilities=tuple(by_state[s] for s in node.states)))
        addresses = [f"{node.id}.prior[{s}]" for s in node.states]
        column = _renormalised(addresses, p.probabilities, {slot.index: q for slot, q in changed})
        return replace(node, parameters=replace(p, probabilities=column))
    assert isinstance(p, Table)
    columns = list(p.columns)
    per_column: dict[int, dict[int, Parameter]] = {}
    for slot, param in changed:
        assert slot.column is not None
        per_column.setdefault(slot.column, {})[slot.index] = param
    for c, cells in per_column.items():
        col = columns[c]
        addresses = [address_of_cell(node.id, col.given, s) for s in node.states]
        columns[c] = TableColumn(col.given, _renormalised(addresses, col.probabilities, cells))
    return replace(node, parameters=replace(p, columns=tuple(columns)))


def _unknown_address(address: str, slots: Mapping[str, object], suggest: bool = True) -> str:
    """The problem for an unknown address; with ``suggest``, the nearest valid ones (a search over them all)."""
    if not suggest:
        return f"unknown parameter address {quote(address)}"
    valid = list(slots)
    node = address.split(".", 1)[0]
    own = [a for a in valid if a.split(".", 1)[0] == node]   # a known node's own addresses, nearest first
    hint = (did_you_mean(address, own, fallback=own) if own else did_you_mean(address, valid)) or (
        "; addresses look like 'node.prior', 'node.prior[state]', 'node.leak', 'node.weight[parent]' or "
        "'node.table[parent=state,...][state]'")
    return f"unknown parameter address {quote(address)}{hint} (model.parameters lists all {len(valid)})"


# -- comparing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterChange:
    """One number that differs between two models: ``old`` or ``new`` is None where the address is absent.

    ``old_range`` is the old number's range (None when it had none); it
    takes no part in equality or the repr. From it, ``moved`` says how far the number
    moved in widths of that range and ``left_range`` whether the new value
    lies outside it: after learning from cases, the numbers the data
    contradict.

    >>> change = ParameterChange("bakers_cyst.leak", 0.02, 0.09, old_range=(0.01, 0.05))
    >>> round(change.moved, 2), change.left_range
    (1.75, True)
    >>> print(change)
    bakers_cyst.leak: 0.02 -> 0.09 (moved 1.75 widths of its old range [0.01, 0.05]; left it)
    """

    address: str
    old: float | None
    new: float | None
    old_range: tuple[float, float] | None = field(default=None, compare=False, repr=False)

    @property
    def delta(self) -> float | None:
        """``new - old``, or None when the address exists on one side only."""
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def moved(self) -> float | None:
        """``(new - old) / (old range's width)``; None without both numbers or a range of some width."""
        if self.delta is None or self.old_range is None or not self.old_range[1] > self.old_range[0]:
            return None
        return self.delta / (self.old_range[1] - self.old_range[0])

    @property
    def left_range(self) -> bool:
        """Whether the new value lies outside the old range (False when either is missing)."""
        if self.new is None or self.old_range is None:
            return False
        return not contains(self.old_range, self.new)

    def __str__(self) -> str:
        def show(x: float | None) -> str:
            return "(absent)" if x is None else repr(x)

        text = f"{self.address}: {show(self.old)} -> {show(self.new)}"
        if self.moved is not None and self.old_range is not None:
            low, high = self.old_range
            text += (f" (moved {self.moved:+.3g} widths of its old range [{_fmt(low)}, {_fmt(high)}]"
                     f"{'; left it' if self.left_range else ''})").replace("moved +", "moved ")
        return text


def diff(a: ModelSpec, b: ModelSpec) -> list[ParameterChange]:
    """The numbers that differ between ``a`` and ``b`` (any difference), by address.

    Addresses of ``a`` come first in ``a``'s order, then those only ``b`` has.
    Only values count: a changed range, source or rationale is not listed.
    Each change carries ``a``'s range of the number (``old_range``).
    """
    pa, pb = parameters(a), parameters(b)
    out = [ParameterChange(address, p.value, pb[address].value if address in pb else None, old_range=p.range)
           for address, p in pa.items() if address not in pb or pb[address].value != p.value]
    out += [ParameterChange(address, None, p.value) for address, p in pb.items() if address not in pa]
    return out


def diff_frame(changes: Sequence[ParameterChange]) -> pandas.DataFrame:
    """A diff as a pandas DataFrame, one row per change, the numbers that moved farthest first.

    Columns: ``address``, ``old``, ``new``, ``old_low``, ``old_high``,
    ``moved`` and ``left_range`` (see :class:`ParameterChange`); sorted by
    the absolute ``moved``, largest first, changes without one last.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> changed = model.with_parameters({"bakers_cyst.leak": (0.3, (0.1, 0.5)), "poor_warmup.prior": 0.5})
    >>> table = diff_frame(model.diff(changed))
    >>> table[["address", "left_range"]].values.tolist()
    [['bakers_cyst.leak', True], ['poor_warmup.prior', False]]
    """
    pd = require("pandas", feature="a table of parameter changes")
    rows = [{"address": c.address, "old": c.old, "new": c.new,
             "old_low": None if c.old_range is None else c.old_range[0],
             "old_high": None if c.old_range is None else c.old_range[1],
             "moved": c.moved, "left_range": c.left_range} for c in changes]
    columns = ["address", "old", "new", "old_low", "old_high", "moved", "left_range"]
    table = pd.DataFrame(rows, columns=columns).astype({"old": float, "new": float, "old_low": float,
                                                       "old_high": float, "moved": float, "left_range": bool})
    order = sorted(range(len(rows)), key=lambda k: (rows[k]["moved"] is None, -abs(rows[k]["moved"] or 0.0), k))
    return table.iloc[order].reset_index(drop=True)
