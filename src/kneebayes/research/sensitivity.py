"""One-way sensitivity: which hand-set number moves a posterior most, and how.

:func:`sensitivity` sets each number, one at a time, to the low and then
the high end of its range (a range is read as hard bounds here) and
reports the exact posterior of one cause at each end, sorted by the swing.
:func:`sensitivity_function` gives the posterior of a cause as a function
of one number over a grid.

Every row is an exact posterior of the changed model, the one
``model.with_parameters({address: value})`` builds (so a table cell's
column is rescaled as there). Rather than compiling ~220 models, all the
changed models run at once through the exact routine of
:mod:`kneebayes.research.draw_engine` (one row per changed model, along the
draw axis); the tests check each row against the rebuilt model's
``diagnose`` to 1e-12. Numbers of nodes that are barren under the evidence
(neither observed nor ancestors of the evidence or the cause) do not enter
at all, so their swing is exactly 0.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import (InvalidStateError, ParameterError, SettingError, UnknownNodeError, WrongTypeError, did_you_mean,
                      quote)
from ..evidence import EvidenceLike, normalize, to_indices
from ..extras import require
from ..modelfile.numbers import is_number
from ..modelfile.schema import ModelSpec
from .checks import check_count, show
from .draw_engine import DrawPlan
from .draws import flat_values
from .parameters import parameters, with_parameters

if TYPE_CHECKING:
    import pandas

    from ..model import Model

__all__ = ["MAX_POINTS", "sensitivity", "sensitivity_function"]

#: The most values :func:`sensitivity_function` evaluates (``points``, or the length of ``grid``).
MAX_POINTS = 10_000


def _resolve(model: Model, evidence: EvidenceLike | None, cause: str, state: str | None) -> tuple[dict[str, str], int, int, float]:
    """Check evidence, cause and state; return the evidence, node and state indices and the base posterior."""
    from ..model import Model   # here: model imports research modules (an import cycle)

    if not isinstance(model, Model):
        raise WrongTypeError(f"the first argument must be a kneebayes Model (kneebayes.load_model() or load_bif(...)), "
                        f"not {type(model).__name__}")
    net = model.network
    if not isinstance(cause, str) or cause not in net.index:
        raise UnknownNodeError(cause, net.names, what="cause")
    node = net.index[cause]
    states = net.states[node]
    if state is None:
        if "yes" not in states:   # no default to take: say what to pass
            valid = ", ".join(repr(s) for s in states)
            raise SettingError(f"cause {quote(cause)} has no \x27yes\x27 state: pass state=, one of {valid}")
        state = "yes"
    if state not in states:
        raise InvalidStateError(cause, state, states)
    ev = normalize(net, evidence, model.graded_answers)
    base = model.marginals(ev, nodes=[cause])[cause][state]   # ImpossibleEvidenceError from the engine
    return ev, node, states.index(state), float(base)


def _posteriors_of(model: Model, ev: Mapping[str, str], node: int, state: int, specs: Sequence[ModelSpec]) -> np.ndarray:
    """P(node = state | ev) exactly under each spec (same structure as the model's, other numbers)."""
    net = model.network
    observed = to_indices(net, ev)
    if node in observed and not isinstance(observed[node], np.ndarray):   # answered firmly: no number moves it
        return np.full(len(specs), float(observed[node] == state))
    base_nodes = model.spec.nodes
    base = tuple(flat_values(n) for n in base_nodes)
    changed: list[dict[int, np.ndarray]] = []
    for spec in specs:
        diff = {}
        for i, (old, new) in enumerate(zip(base_nodes, spec.nodes)):
            if new is not old and new != old:
                diff[i] = flat_values(new)
        changed.append(diff)
    touched = frozenset(i for d in changed for i in d)
    plan = DrawPlan(model.spec, net, observed, [node], touched, base)
    out = np.empty(len(specs))
    chunk = plan.chunk
    for lo in range(0, len(specs), chunk):
        hi = min(lo + chunk, len(specs))
        numbers = {i: np.repeat(base[i][None, :], hi - lo, axis=0) for i in touched}
        for r in range(lo, hi):
            for i, vec in changed[r].items():
                numbers[i][r - lo] = vec
        joint = plan.run(numbers, hi - lo).reshape(hi - lo, -1)
        total = joint.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo:hi] = np.where(total > 0, joint[:, state] / total, np.nan)
    return np.clip(out, 0.0, 1.0)


def sensitivity(model: Model, evidence: EvidenceLike | None = None, cause: str | None = None, *,
                state: str | None = None) -> pandas.DataFrame:
    """One-way sensitivity of P(cause = state | evidence) to every number with a range.

    Each number is set to the low and the high end of its range (hard
    bounds), the others kept; each posterior is exact. Returns a DataFrame,
    one row per number: ``address``, ``value`` (as written), ``low``,
    ``high``, ``posterior_at_low``, ``posterior_at_high`` and ``swing``
    (= at high - at low), sorted by the absolute swing, largest first (ties
    by address). ``attrs`` holds ``cause``, ``state``, ``evidence``,
    ``posterior`` (at the written numbers), ``skipped`` (addresses without
    a range) and ``unreachable`` ({address: reason} for an end that
    ``with_parameters`` refuses, such as a table cell whose column could not
    be rescaled within the other cells' ranges; its posterior is NaN and
    the row sorts last).

    ``state`` defaults to ``"yes"`` (a cause without that state needs it:
    SettingError names its states). Raises UnknownNodeError for an unknown
    cause or evidence node (with the nearest ids), InvalidStateError,
    ImpossibleEvidenceError.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> table = kneebayes.research.sensitivity.sensitivity(model, {"locking_or_catching": "yes"}, "meniscal_injury")
    >>> list(table.columns)
    ['address', 'value', 'low', 'high', 'posterior_at_low', 'posterior_at_high', 'swing']
    >>> bool(table["swing"].abs().is_monotonic_decreasing)
    True
    """
    pd = require("pandas", feature="sensitivity")

    if cause is None:
        raise WrongTypeError("sensitivity() needs cause=, the node whose posterior to follow")
    ev, node, state_index, base = _resolve(model, evidence, cause, state)
    spec = model.spec
    params = parameters(spec)
    rows: list[tuple[str, float, float, float]] = []
    skipped: list[str] = []
    for address, p in params.items():
        if p.range is None:
            skipped.append(address)
        else:
            rows.append((address, float(p.value), float(p.range[0]), float(p.range[1])))
    specs: list[ModelSpec] = []
    ok: list[bool] = []
    unreachable: dict[str, str] = {}
    for address, _value, low, high in rows:
        for end in (low, high):
            try:
                specs.append(with_parameters(spec, {address: end}))
                ok.append(True)
            except ParameterError as exc:
                specs.append(spec)
                ok.append(False)
                unreachable.setdefault(address, str(exc))
    values = _posteriors_of(model, ev, node, state_index, specs) if specs else np.zeros(0)
    values[~np.array(ok, dtype=bool)] = np.nan
    at_low, at_high = values[0::2], values[1::2]
    frame = pd.DataFrame({
        "address": [r[0] for r in rows],
        "value": [r[1] for r in rows],
        "low": [r[2] for r in rows],
        "high": [r[3] for r in rows],
        "posterior_at_low": at_low,
        "posterior_at_high": at_high,
        "swing": at_high - at_low,
    })
    swing = frame["swing"].to_numpy()
    order = sorted(range(len(rows)), key=lambda k: (bool(np.isnan(swing[k])), -abs(float(np.nan_to_num(swing[k]))), rows[k][0]))
    from .frames import SensitivityFrame   # here: it is defined only where pandas is installed

    frame = SensitivityFrame(frame.iloc[order].reset_index(drop=True))
    frame.attrs.update({
        "cause": cause, "state": model.network.states[node][state_index], "evidence": dict(ev),
        "posterior": base, "skipped": skipped, "unreachable": unreachable,
    })
    return frame


def sensitivity_function(model: Model, evidence: EvidenceLike | None, cause: str, address: str,
                         grid: Sequence[float] | np.ndarray | None = None, *, points: int = 21,
                         state: str | None = None) -> pandas.DataFrame:
    """P(cause = state | evidence) as a function of the number at ``address``, exact at each grid point.

    ``grid`` defaults to ``points`` (21) evenly spaced values from the low
    to the high end of the number's range. A grid value outside the range
    is allowed here (the range is widened for that point only, as
    ``with_parameters`` with ``(value, (low, high))`` would). Returns a
    DataFrame with columns ``value`` and ``posterior``; ``attrs`` holds the
    ``address``, its written ``base_value``, ``range``, ``cause``, ``state``,
    ``evidence`` and the ``posterior`` at the written numbers.

    ``points`` is an int from 1 to :data:`MAX_POINTS`; ``grid`` a list (or
    array) of at most :data:`MAX_POINTS` probabilities in [0, 1]. A wrong
    type raises WrongTypeError, a value out of range SettingError.

    Raises ParameterError for an unknown address (with the nearest ones),
    for a number without a range when no grid is given, or when a value
    cannot be set (a table column that cannot be rescaled).
    """
    pd = require("pandas", feature="sensitivity_function")

    if not isinstance(address, str):
        raise WrongTypeError(f"address must be a parameter address (a string such as 'bakers_cyst.leak'), "
                        f"got {type(address).__name__} {quote(address)}")
    checked = _grid(grid) if grid is not None else None
    count = check_count(points, "points", MAX_POINTS, limit_name="kneebayes.research.sensitivity.MAX_POINTS")
    ev, node, state_index, base = _resolve(model, evidence, cause, state)
    spec = model.spec
    params = parameters(spec)
    if address not in params:
        prefix = str(address).split(".", 1)[0] + "."
        hint = did_you_mean(address, params, fallback=(a for a in params if a.startswith(prefix)))
        raise ParameterError(f"unknown parameter address {quote(address)}{hint} (model.parameters lists all {len(params)})")
    p = params[address]
    if checked is None:
        if p.range is None:
            raise ParameterError(f"{address} has no range; pass grid= with the values to try")
        values = np.unique(np.linspace(p.range[0], p.range[1], count))
    else:
        values = checked
    specs = []
    for v in values.tolist():
        change: Any = v
        rng = p.range
        if rng is not None and not rng[0] <= v <= rng[1]:
            change = (v, (v, v)) if v in (0.0, 1.0) else (v, (min(rng[0], v), max(rng[1], v)))
        specs.append(with_parameters(spec, {address: change}))
    posterior = _posteriors_of(model, ev, node, state_index, specs)
    frame = pd.DataFrame({"value": values, "posterior": posterior})
    frame.attrs.update({
        "address": address, "base_value": float(p.value), "range": p.range, "cause": cause,
        "state": model.network.states[node][state_index], "evidence": dict(ev), "posterior": base,
    })
    return frame


def _grid(grid: object) -> np.ndarray:
    """``grid`` as a flat float array: 1 to MAX_POINTS probabilities in [0, 1], else WrongTypeError/SettingError."""
    what = f"grid must be a list or array of 1 to {MAX_POINTS:,} probabilities in [0, 1]"
    if not isinstance(grid, (np.ndarray, list, tuple, range, str, bytes)) and hasattr(grid, "__array__"):
        grid = np.asarray(grid)   # a pandas Series or Index
    if isinstance(grid, np.ndarray):
        if grid.size > MAX_POINTS:
            raise SettingError(f"{what}, got an array of {grid.size:,} values (kneebayes.research.sensitivity.MAX_POINTS)")
        if grid.dtype.kind not in "iufO":
            raise WrongTypeError(f"{what}, got an array of {grid.dtype}")
        items: list[Any] = grid.ravel().tolist()
    elif isinstance(grid, (list, tuple, range)):
        if len(grid) > MAX_POINTS:
            raise SettingError(f"{what}, got {len(grid):,} values (kneebayes.research.sensitivity.MAX_POINTS)")
        items = list(grid)
    else:
        raise WrongTypeError(f"{what}, got {type(grid).__name__} {quote(grid)}")
    if not items:
        raise SettingError(f"{what}, got an empty {type(grid).__name__}")
    for k, v in enumerate(items):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise WrongTypeError(f"{what}; grid[{k}] is {type(v).__name__} {quote(v)}")
        if not (is_number(v) and 0.0 <= float(v) <= 1.0):
            raise SettingError(f"{what}; grid[{k}] is {show(v)}")
    return np.array(items, dtype=float)
