"""An exact fast path for small networks: the targets' joint from a few array operations per batch.

Where it applies (``compile_fast`` returns a plan, else None), the joint of
the enumerated targets given hard evidence is, per evidence row, a sum of
precomputed log-factors over the joint, one exponential and a normalisation:

* every node is a *part*; each target is its own part (its evidence is an
  indicator over the joint states);
* a small group of non-target nodes linked through shared tables (a finding,
  or a finding with its non-target parent) is *tabulated*: its value over the
  joint for every pattern of its evidence (each node missing or in a state)
  is computed once, here, by brute force;
* a group of root nodes whose children are all targets (risk factors under
  noisy-OR causes) is *factored*: each child target's table is affine in one
  product of per-parent factors, ``P(t = s | a, x) = b0[a, s] + b1[a, s] *
  prod_r phi_r(x_r)`` (the leaky noisy-OR's shape, found numerically and
  checked to 1e-14), so the group's value is ``A @ F`` where ``F[u]`` is a
  product of per-node factors over the subsets ``u`` of its child targets.

A row of evidence picks one row of log-factors per part with something
observed, plus a constant row (``part_rows`` for one evidence set,
``batch_rows`` for many, in the same order); their sum gives the log of the
tabulated parts over the joint (K) and the log of ``F`` (U). The factored
value subtracts (inclusion-exclusion), which can lose digits, so each row
carries an estimate of its posterior's rounding error: the sum of the
terms' sizes over the value, times ``ERROR_SCALE``. A row whose estimate
passes ``TOLERANCE``, or whose P(evidence) falls below ``TINY``, is marked
not ``ok`` and the caller computes it with the general engine, as it does
for any network this plan does not cover. Evidence that no joint state
allows (an indicator, a zero in a table) gives ``log_evidence = -inf``.
The estimate is calibrated, not proved: on the knee model the largest
error seen against an extended-precision reference was a quarter of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..network.compiled import CompiledNetwork
from ..network.kept import Kept
from ..network.planner import BYTES_PER_ENTRY, linked_groups

#: Largest joint of the targets the plan serves (the general engine takes larger ones).
FAST_JOINT_LIMIT = 1024
FAST_TABLE_LIMIT = 1 << 16   # entries: a node's full table is read whole here, so only small ones
#: Largest table a tabulated part may have: evidence patterns times joint states.
TABLE_LIMIT = 1 << 16
#: Largest brute-force enumeration a tabulated part may need at compile time (configurations times K).
ENUMERATION_LIMIT = 1 << 20
#: Most child targets a factored part may couple (its terms are the subsets of them).
MAX_COUPLED = 8
#: Largest estimated rounding error of a posterior the fast path accepts; past it the general engine decides.
TOLERANCE = 5e-13
#: A row whose P(evidence) falls below this goes to the general engine, which works in log space there.
TINY = 1e-200
#: How closely a table must equal its affine-in-a-product fit, relative to each entry: a probability of
#: 1e-16 fitted as 5e-17 is within any absolute tolerance and off by half (a zero must be fitted exactly).
FIT_TOLERANCE = 1e-14
#: The factored value's rounding error, relative to the sum of its terms' sizes: four times the
#: largest seen against an extended-precision reference on the knee model (0.96 eps).
ERROR_SCALE = 4 * float(np.finfo(float).eps)
_NEG = -1e250           # log 0: finite, so that sums of logs never meet inf - inf
_IMPOSSIBLE = -1e200    # a log value below this is a zero
_LOG_TINY = math.log(TINY)
_ONES = np.ones(256)     # a single evidence set's picked rows are summed as a product with these
_ONES.setflags(write=False)
_ONES_OF = tuple(_ONES[:n] for n in range(_ONES.shape[0] + 1))   # its first n, as views made once
_ZERO = np.zeros(())     # a 0-d array, not 0.0: numpy converts a Python float on every ufunc call
_ZERO.setflags(write=False)
#: Most evidence patterns a group of parts has in :func:`rows_plan` (its table: patterns times K or U values).
GROUP_PATTERNS = 2187
#: A row whose value over the joint sums below this is summed in logs instead (see :func:`rows_marginals`).
_LINEAR_FLOOR = 1e-280
#: Most multiply-adds of one matrix product that OpenBLAS runs on the calling thread (its threshold: 65536 * 4).
_BLAS_WORK = 1 << 18


class FastJoint(NamedTuple):
    """The targets' joint for a batch of evidence rows, and which rows the fast path settled."""

    joint: np.ndarray          # (batch, K), rows sum to 1 (zero rows where impossible)
    log_evidence: np.ndarray   # (batch,), -inf where the evidence is impossible
    ok: np.ndarray             # (batch,) bool: False where the general engine must decide


@dataclass(frozen=True, eq=False)
class FastPlan:
    """Everything a query needs, computed once per compiled network."""

    n_nodes: int
    order: np.ndarray          # nodes, part by part
    stride: np.ndarray         # per node (in ``order``): its weight in its part's pattern code
    starts: np.ndarray         # each part's first position in ``order``
    offsets: np.ndarray        # each part's first row in ``logs``
    logs: np.ndarray           # (rows, K + U + 1): log-factor per part pattern (0 for "nothing observed"), and
                               # last the constant row: every part with nothing observed, the targets' own tables;
                               # each row peaks at 0 in both halves, its shift in the last column
    k: int
    mix: np.ndarray | None     # (U, 2K): F -> [value, |value| bound], the factored parts' terms
    error_scale: float         # relative rounding error of the factored terms, as an estimate
    part_of: tuple[int, ...]   # per node: its part
    node_stride: tuple[int, ...]   # per node: its weight in its part's pattern code
    part_offsets: tuple[int, ...]  # per part: its first row in ``logs``

    constant_row: int          # the last row of ``logs``


def compile_fast(net: CompiledNetwork) -> FastPlan | None:
    """The fast plan of a network, or None where it does not apply (the general engine then serves)."""
    targets = tuple(net.targets)
    if not targets or tuple(net.enumerated) != targets:
        return None
    k = int(net.joint_states.shape[0])
    if k > FAST_JOINT_LIMIT:
        return None
    n = len(net.names)
    cards = net.cards
    widest = min(FAST_TABLE_LIMIT, net.memory_budget // BYTES_PER_ENTRY)   # whole tables, within the budget too
    if any(math.prod(cards[u] for u in (*net.parents[v], v)) > widest for v in range(n)):
        return None   # a wide table (a noisy-OR over many parents): the general engine reads it in pieces
    epos = {t: j for j, t in enumerate(targets)}
    children: list[list[int]] = [[] for _ in range(n)]
    for v, ps in enumerate(net.parents):
        for p in ps:
            children[p].append(v)

    # Groups of non-target nodes linked by a table's scope (a node's table: itself and its parents).
    rest_of = [[u for u in (*net.parents[v], v) if u not in epos] for v in range(n)]
    group = linked_groups((v for v in range(n) if v not in epos), rest_of)
    groups: dict[int, list[int]] = {}
    for v, g in group.items():
        groups.setdefault(g, []).append(v)
    tables_of: dict[int, list[int]] = {}
    base = np.zeros(k)    # log of the tables over targets only
    with np.errstate(divide="ignore"):
        for v in range(n):
            if rest_of[v]:
                tables_of.setdefault(group[rest_of[v][0]], []).append(v)
            else:
                base += np.log(_on_joint(net, v, {}, epos))

    parts: list[tuple[list[int], np.ndarray, np.ndarray]] = []   # (nodes, log rows over K, log rows over U)
    factored: list[tuple[list[int], np.ndarray, list[np.ndarray]]] = []
    for t in targets:
        rows = np.where(net.joint_states[None, :, epos[t]] == np.arange(cards[t])[:, None], 0.0, _NEG)
        parts.append(([t], np.vstack([np.zeros((1, k)), rows]), np.zeros((cards[t] + 1, 0))))
    for key in sorted(groups):
        nodes, owned = sorted(groups[key]), tables_of.get(key, [])
        kind, found = _GROUPS.get_or_build(_group_key(net, nodes, owned, children),
                                  lambda: _group(net, nodes, owned, children, epos, k))
        if kind == "tabulated":
            logs, const = found
            base += const
            parts.append((nodes, logs, np.zeros((len(logs), 0))))
        elif kind == "factored":
            factored.append(found)
        else:
            return None

    # The factored parts' terms: one product over the subsets of each part's coupled targets.
    u_total = math.prod(len(mix) for _, mix, _ in factored) if factored else 0
    if u_total > FAST_JOINT_LIMIT:
        return None
    u_const = np.zeros(u_total)
    mix_value = np.ones((u_total, k)) if factored else None
    u_rows: list[tuple[int, np.ndarray]] = []   # (node, rows over U)
    stride_u = u_total
    for nodes, mix, per_node in factored:
        m = len(mix)
        stride_u //= m
        pick = (np.arange(u_total) // stride_u) % m        # which of this part's terms each global term uses
        assert mix_value is not None  # noqa: S101 - set when there are factored parts
        mix_value *= mix[pick]
        for v, rows in zip(nodes, per_node):
            logs, const = _log_rows(rows[:, pick])
            u_const += const
            u_rows.append((v, logs))
    for v, logs in u_rows:
        parts.append(([v], np.zeros((len(logs), k)), logs))

    width = k + u_total
    order, stride, starts, offsets = [], [], [], []
    blocks = [np.zeros((1, width))]   # row 0: all zeros, a pick that adds nothing
    row = 1
    for nodes, logs_k, logs_u in parts:
        starts.append(len(order))
        offsets.append(row)
        step = len(logs_k)
        for v in nodes:
            step //= cards[v] + 1
            order.append(v)
            stride.append(step)
        blocks.append(np.hstack([logs_k, logs_u]) if logs_u.shape[1] == u_total else
                      np.hstack([logs_k, np.zeros((len(logs_k), u_total))]))
        row += len(logs_k)
    constant = np.concatenate([base, u_const])
    blocks.append(np.where(constant > _IMPOSSIBLE, constant, _NEG)[None, :])   # the constant row, always picked
    logs = _shifted(np.vstack(blocks), k)
    if sorted(order) != list(range(n)):   # pragma: no cover - every node is in exactly one part
        return None
    mix = None
    if mix_value is not None:
        mix = np.hstack([mix_value, np.abs(mix_value)])
    part_of = [0] * n
    node_stride = [0] * n
    for p, (nodes, _, _) in enumerate(parts):
        for position in range(starts[p], starts[p] + len(nodes)):
            part_of[order[position]] = p
            node_stride[order[position]] = stride[position]
    logs.setflags(write=False)
    return FastPlan(n, np.array(order, dtype=np.intp), np.array(stride, dtype=np.intp),
                    np.array(starts, dtype=np.intp), np.array(offsets, dtype=np.intp), logs, k,
                    mix, ERROR_SCALE, tuple(part_of), tuple(node_stride), tuple(offsets), len(logs) - 1)


def _group(net: CompiledNetwork, nodes: list[int], owned: list[int], children: list[list[int]],
           epos: dict[int, int], k: int) -> tuple[str, Any]:
    """One group of non-target nodes as a part: ("tabulated", (log rows, constant)), ("factored", terms) or
    ("none", None) where it is neither (the network then has no fast plan)."""
    table = _tabulate(net, nodes, owned, epos, k)
    if table is not None:
        logs, const = _log_rows(table)
        logs.setflags(write=False)
        const.setflags(write=False)
        return "tabulated", (logs, const)
    found = _factor(net, nodes, owned, children, epos, k)
    if found is None:
        return "none", None
    for array in (found[1], *found[2]):
        array.setflags(write=False)
    return "factored", found


def _group_key(net: CompiledNetwork, nodes: list[int], owned: list[int], children: list[list[int]]) -> tuple[Any, ...]:
    """What a group's part depends on: the joint's layout, the group's shape, its tables' numbers, and the
    limits that decide how it is read."""
    involved = sorted({*nodes, *owned})
    return (tuple(net.targets), tuple(net.cards), tuple(nodes), tuple(owned),
            tuple((v, net.parents[v], net.tables[v].tobytes()) for v in involved),
            tuple(tuple(children[v]) for v in nodes),
            TABLE_LIMIT, ENUMERATION_LIMIT, MAX_COUPLED, FIT_TOLERANCE)


# The parts of the last few hundred groups by what they depend on, and each child target's fit by its
# table: a model made by ``with_parameters`` recomputes only the parts its change reaches.
_GROUPS: Kept[tuple[str, Any]] = Kept(256)
_FITS: Kept[Any] = Kept(256)   # a child target's fit, by its table: a group recomputed keeps its other children's


def clear_part_cache() -> None:
    """Forget the kept parts (groups and fits): the next ``compile_fast`` computes every part afresh.

    Parts are kept by the numbers they are computed from, so a model made by
    ``with_parameters`` recomputes only the parts its changes touch; what is
    kept equals what would be computed, to the last bit.

    >>> import kneebayes
    >>> from kneebayes.inference.fast import clear_part_cache, compile_fast
    >>> net = kneebayes.load_model().network
    >>> kept = compile_fast(net)
    >>> clear_part_cache()
    >>> bool((compile_fast(net).logs == kept.logs).all())
    True
    """
    for kept in (_GROUPS, _FITS):
        kept.clear()


def fast_joint(plan: FastPlan, rows: np.ndarray) -> FastJoint:
    """The targets' joint for a batch of evidence rows, each given as the rows of ``plan.logs`` it picks.

    ``rows`` has shape (batch, m): for each evidence set, the pattern row of
    each part with something observed (``part_rows``), or of every part
    (``batch_rows``; a part with nothing observed picks its all-zero row).
    Each evidence set's log-factors are the sum of its picked rows: for a
    batch, one matrix product of the rows' indicators with ``plan.logs``
    (each picked row once: row 0 and a part's first row are zeros). The
    rest is one rule for one evidence set and for a million
    (:func:`fast_posterior` is the same rule on one set).

    >>> import kneebayes
    >>> from kneebayes.inference.fast import compile_fast, fast_joint, part_rows
    >>> net = kneebayes.load_model().network
    >>> plan = compile_fast(net)
    >>> found = fast_joint(plan, part_rows(plan, {net.index["locking_or_catching"]: 0}))
    >>> bool(found.ok[0]), round(float(found.joint.sum()), 12), bool(found.log_evidence[0] < 0.0)
    (True, 1.0, True)
    """
    batch = rows.shape[0]
    if batch == 1:
        one = _settle(plan, rows[0])
        if one is None:
            return FastJoint(np.zeros((1, plan.k)), np.zeros(1), np.zeros(1, dtype=bool))
        return FastJoint(one[0][None, :], np.array([one[1]]), np.ones(1, dtype=bool))
    picked = np.zeros((batch, plan.logs.shape[0]))
    picked[np.arange(batch)[:, None], rows] = 1.0
    logs = _blocked_matmul(picked, plan.logs)
    k = plan.k
    width = plan.logs.shape[1] - 1
    values = np.exp(logs[:, :width])   # each row's logs peak at 0: the shift is in the last column
    q = values[:, :k]
    if plan.mix is not None:
        both = _blocked_matmul(values[:, k:], plan.mix).reshape(batch, 2, k)   # the factored value and its bound
        both *= q[:, None, :]
        np.maximum(both, 0.0, out=both)   # inclusion-exclusion rounding may dip below 0 (q is never negative)
        total, bound = np.add.reduce(both, axis=2).T
        q = both[:, 0]
        ok = bound * (plan.error_scale / TOLERANCE) <= total
    else:
        total = np.add.reduce(q, axis=1)
        ok = total > 0.0
    zero = None
    if np.logical_and.reduce(total > 0.0):   # the common case: no row is zero
        log_evidence = np.log(total)
        joint = q / total[:, None]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_evidence = np.log(total)
            joint = q / total[:, None]
        zero = total == 0.0
        joint[zero] = 0.0
    log_evidence += logs[:, width]
    np.minimum(log_evidence, 0.0, out=log_evidence)     # a probability; rounding may land a hair above log 1
    ok &= log_evidence >= _LOG_TINY                      # the general engine works in log space there
    if zero is not None:
        # A zero from an observed state no joint state allows (an indicator, a zero in a table) is certain.
        ok |= zero & ((logs[:, :k].max(axis=1) <= _IMPOSSIBLE) |
                      (plan.mix is not None and logs[:, k:width].max(axis=1) <= _IMPOSSIBLE))
    return FastJoint(joint, log_evidence, ok)


def fast_posterior(plan: FastPlan, indices: Mapping[int, int]) -> tuple[np.ndarray, float] | None:
    """One evidence set, {node index: state index}: the targets' joint and log P(evidence), or None where the
    general engine must decide (``ok`` false in :func:`fast_joint`); log P(evidence) is -inf where impossible.

    The same rule as a batch of one, in as few array operations as it takes:
    what a single diagnosis pays for.

    >>> import kneebayes
    >>> from kneebayes.inference.fast import compile_fast, fast_posterior
    >>> net = kneebayes.load_model().network
    >>> joint, log_evidence = fast_posterior(compile_fast(net), {net.index["locking_or_catching"]: 0})
    >>> round(float(joint.sum()), 12), log_evidence < 0.0
    (1.0, True)
    """
    return _settle(plan, _picks(plan, indices))


def _settle(plan: FastPlan, picks: np.ndarray | list[int]) -> tuple[np.ndarray, float] | None:
    """:func:`fast_joint`'s rule for one evidence set given by its picked rows: (joint, log P(e)) or None.

    The same sums as a batch row, written as dot products: a single
    diagnosis pays per array operation, not per element.
    """
    # the picked rows' sum as a product with ones: half the cost of a reduction over so few rows
    n = len(picks)
    row = np.dot(_ONES_OF[n] if n < len(_ONES_OF) else np.ones(n), plan.logs.take(picks, axis=0))
    k = plan.k
    width = row.shape[0] - 1
    shift = float(row[width])
    values = np.exp(row, out=row)             # in place: the shift column's own exp is never read
    q = values[:k]
    if plan.mix is not None:
        both = np.dot(values[k:width], plan.mix)   # the factored value, then its bound (never negative)
        np.maximum(both, _ZERO, out=both)     # inclusion-exclusion rounding may dip below 0
        total, bound = np.dot(both.reshape(2, k), q).tolist()
        settled = bound * (plan.error_scale / TOLERANCE) <= total
        q = np.multiply(both[:k], q, out=q)   # into this call's own buffer: one allocation fewer
    else:
        total = float(np.add.reduce(q))
        settled = True
    if total > 0.0:
        log_evidence = min(math.log(total) + shift, 0.0)
        if settled and log_evidence >= _LOG_TINY:
            q *= 1.0 / total
            return q, log_evidence
        return None
    logs = np.add.reduce(plan.logs.take(picks, axis=0), axis=0)   # rare: the logs again, to tell zero from tiny
    if logs[:k].max() <= _IMPOSSIBLE or (plan.mix is not None and logs[k:width].max() <= _IMPOSSIBLE):
        return np.zeros(k), -math.inf
    return None


def _shifted(logs: np.ndarray, k: int) -> np.ndarray:
    """Each row's joint half and term half moved to peak at 0, the shifts' sum appended as a last column.

    A row that is the same for every joint state (an answer no target
    bears on) then adds exact zeros: it moves P(evidence), never the
    posterior, not even by rounding.
    """
    out = np.empty((logs.shape[0], logs.shape[1] + 1))
    out[:, -1] = 0.0
    for part in (slice(0, k), slice(k, logs.shape[1])):
        block = logs[:, part]
        alive = block > _IMPOSSIBLE
        top = np.where(alive, block, -np.inf).max(axis=1, initial=-np.inf)
        top = np.where(np.isfinite(top), top, 0.0)
        out[:, part] = np.where(alive, block - top[:, None], _NEG)
        out[:, -1] += top
    return out


def _blocked_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in blocks of rows whose products BLAS keeps on the calling thread.

    OpenBLAS threads a product past about ``_BLAS_WORK`` multiply-adds, which
    on a busy machine (or under ``diagnose_frame``'s worker threads) costs
    ten times the product itself.
    """
    rows = max(1, _BLAS_WORK // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return np.matmul(a, b)
    out = np.empty((a.shape[0], b.shape[1]))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


class RowsPlan(NamedTuple):
    """A fast plan regrouped for rows of state codes over given nodes (a frame's columns): see :func:`rows_plan`."""

    plan: FastPlan
    nodes: np.ndarray                   # (columns,) the node of each column of the codes
    weights: np.ndarray                 # (columns, groups): a column's weight in each group's pattern code
    base: np.ndarray                    # (groups,): the codes' +1 (-1, not observed, is pattern digit 0)
    joint_tables: tuple[tuple[np.ndarray, ...], ...]  # per joint group, per block of the joint, (patterns, K / r)
    term_tables: tuple[np.ndarray, ...]   # per term group, (patterns, U): its parts' product over the terms
    shifts: tuple[np.ndarray, ...]      # per group (joint groups first), (patterns,): each table row's log scale
    value: np.ndarray | None            # (U, K / r): the factored value's terms, one block's columns
    size: np.ndarray | None             # (U, K / r): their sizes
    columns: tuple[np.ndarray, ...]     # per block, (K / r, M + 1): the marginals' matrix and a column of ones
    blocks: np.ndarray                  # (r, K / r): the joint's states in each block


class FastMarginals(NamedTuple):
    """Marginals (the joint times a matrix) for rows of codes, and which rows the fast path settled."""

    marginals: np.ndarray      # (batch, columns of the matrix); zero rows where impossible
    log_evidence: np.ndarray   # (batch,), -inf where the evidence is impossible
    ok: np.ndarray             # (batch,) bool: False where the general engine must decide


def rows_plan(plan: FastPlan, nodes: Sequence[int] | np.ndarray, matrix: np.ndarray,
              patterns: int = GROUP_PATTERNS, blocks: bool = True) -> RowsPlan | None:
    """The plan's parts regrouped for rows of codes over ``nodes``, for the marginals ``joint @ matrix``; None
    where the parts do not regroup.

    Only the parts a node of ``nodes`` belongs to take part (every other
    part picks its first row, zeros, and the constant row holds the rest).
    Neighbouring parts of one half (the joint's, the terms') are merged into
    groups of at most ``patterns`` evidence patterns, each a table of the
    product of its parts' factors, computed here once from their log rows:
    a row of evidence then picks one row per group and multiplies them,
    a few array operations on a batch instead of a sum over every part.
    Where the factored terms repeat over the joint (on the knee model the
    sixth cause couples with no risk factor: each column of ``plan.mix``
    comes twice), the joint is laid out in ``r`` blocks over which the
    columns repeat, and the terms are multiplied out for one block only
    (``blocks=False``: one block of the whole joint).

    >>> import kneebayes
    >>> from kneebayes.inference.fast import rows_plan
    >>> net = kneebayes.load_model().network
    >>> model = kneebayes.load_model()
    >>> grouped = rows_plan(model.fast_plan, [net.index["limping"], net.index["poor_warmup"]], model.targets.matrix)
    >>> len(grouped.joint_tables), len(grouped.term_tables), len(grouped.columns)
    (1, 1, 2)
    """
    nodes = np.asarray(nodes, dtype=np.intp)
    matrix = np.asarray(matrix, dtype=float)
    key = (plan, nodes.tobytes(), matrix.shape, matrix.tobytes(), patterns, blocks)   # the plan by identity
    return _ROWS_PLANS.get_or_build(key, lambda: _rows_plan(plan, nodes, matrix, patterns, blocks))


# The last few regrouped plans: a frame of a thousand rows would otherwise spend most of its time regrouping.
_ROWS_PLANS: Kept[RowsPlan | None] = Kept(16)


def _rows_plan(plan: FastPlan, nodes: np.ndarray, matrix: np.ndarray, patterns: int,
               split: bool) -> RowsPlan | None:
    """:func:`rows_plan`, computed."""
    k = plan.k
    width = plan.logs.shape[1] - 1
    column_of: dict[int, list[int]] = {}
    for c, v in enumerate(nodes.tolist()):
        column_of.setdefault(v, []).append(c)
    ends = [*plan.part_offsets[1:], plan.constant_row]
    halves = (slice(0, k), slice(k, width))
    chosen: tuple[list[int], list[int]] = ([], [])   # the parts of each half that some column answers
    for p, (start, end) in enumerate(zip(plan.part_offsets, ends)):
        members = plan.order[plan.starts[p] : plan.starts[p + 1] if p + 1 < len(plan.starts) else len(plan.order)]
        if not any(int(v) in column_of for v in members):
            continue
        block = plan.logs[start:end]
        if plan.mix is None or not block[:, k:width].any():
            chosen[0].append(p)
        elif not block[:, :k].any():
            chosen[1].append(p)
        else:   # pragma: no cover - every part lies in one half (compile_fast builds them so)
            return None
    constant = plan.logs[plan.constant_row]
    tables: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    shifts: list[np.ndarray] = []
    weight_columns: list[np.ndarray] = []
    for half, parts in enumerate(chosen):
        if half == 1 and plan.mix is None:
            break
        groups: list[list[int]] = []
        count = patterns + 1
        for p in parts:
            rows = ends[p] - plan.part_offsets[p]
            if count * rows > patterns:
                groups.append([])
                count = 1
            groups[-1].append(p)
            count *= rows
        groups = groups or [[]]   # no part of this half answered: one group of one row, the constant's
        for g, members in enumerate(groups):
            logs = np.zeros((1, halves[half].stop - halves[half].start))
            shift = np.zeros(1)
            weight = np.zeros(len(nodes))
            stride = 1
            for p in reversed(members):   # the last part's pattern varies fastest
                block = plan.logs[plan.part_offsets[p] : ends[p]]
                logs = (block[:, None, halves[half]] + logs[None]).reshape(-1, logs.shape[1])
                shift = (block[:, None, width] + shift[None]).reshape(-1)
                for position in range(plan.starts[p], plan.starts[p + 1] if p + 1 < len(plan.starts) else len(plan.order)):
                    for c in column_of.get(int(plan.order[position]), ()):
                        weight[c] = plan.stride[position] * stride
                stride *= len(block)
            if g == 0:   # the constant row: the targets' own tables, the parts no column answers
                logs += constant[halves[half]]
                shift += constant[width] if half == 0 else 0.0
            table, top = _linear_rows(logs)
            tables[half].append(table)
            shifts.append(shift + top)
            weight_columns.append(weight)
    weights = np.stack(weight_columns, axis=1)
    blocks = _repeats(plan.mix[:, :k], plan.mix[:, k:]) if plan.mix is not None and split else np.arange(k)[None, :]
    joint = tuple(tuple(np.ascontiguousarray(table[:, block]) for block in blocks) for table in tables[0])
    value = size = None
    if plan.mix is not None:
        value, size = np.ascontiguousarray(plan.mix[:, blocks[0]]), np.ascontiguousarray(plan.mix[:, k + blocks[0]])
    marginals = np.hstack([matrix, np.ones((k, 1))])
    columns = tuple(np.ascontiguousarray(marginals[block]) for block in blocks)   # C order: BLAS's fast case, 3x
    for array in (*(a for group in joint for a in group), *tables[1], *shifts, weights, *columns):
        array.setflags(write=False)
    for array in (value, size):
        if array is not None:
            array.setflags(write=False)
    blocks.setflags(write=False)
    return RowsPlan(plan, nodes, weights, weights.sum(axis=0), joint, tuple(tables[1]), tuple(shifts),
                    value, size, columns, blocks)


def _repeats(value: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The joint's states as ``r`` blocks, (r, K / r), over which the columns of (value, size) repeat in the same
    order: block ``i`` holds each distinct column's ``i``-th state. One block of every state where the columns do
    not repeat evenly."""
    k = value.shape[1]
    _, first, which = np.unique(np.vstack([value, size]).T, axis=0, return_index=True, return_inverse=True)
    counts = np.bincount(which.reshape(-1))
    if counts.min() != counts.max() or counts[0] == 1:
        return np.arange(k)[None, :]
    classes = np.argsort(first)   # each distinct column in the order of its first state
    members = [np.flatnonzero(which.reshape(-1) == c) for c in classes]
    return np.array([[m[i] for m in members] for i in range(int(counts[0]))], dtype=np.intp)


def _linear_rows(logs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of log values as values peaking at 1 (zeros where impossible), and each row's log peak."""
    alive = logs > _IMPOSSIBLE
    top = np.where(alive, logs, -np.inf).max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.where(alive, np.exp(np.where(alive, logs - top[:, None], 0.0)), 0.0), top


def rows_marginals(grouped: RowsPlan, codes: np.ndarray) -> FastMarginals:
    """Marginals ``joint @ matrix`` (the matrix of :func:`rows_plan`) for rows of state codes over
    ``grouped.nodes``, (batch, columns): -1 where not observed (a soft answer is the caller's to mark -1 and redo).

    The rule of :func:`fast_joint`, on each group's table row instead of a
    sum of log rows: the joint part's and the terms' values are products of
    the rows' picks, the factored value ``max(terms @ value, 0) * joint``
    and its rounding estimate ``(terms @ size) . joint``; the normalisation
    divides the marginals (not the joint). Rows whose value comes near the
    bottom of the floating-point range are summed in logs, by
    :func:`fast_joint`. Every product runs in blocks small enough for BLAS
    to stay on the calling thread.

    >>> import numpy as np, kneebayes
    >>> from kneebayes.inference.fast import rows_marginals, rows_plan
    >>> model = kneebayes.load_model()
    >>> net = model.network
    >>> grouped = rows_plan(model.fast_plan, [net.index["locking_or_catching"]], model.targets.matrix)
    >>> found = rows_marginals(grouped, np.array([[0], [-1]]))
    >>> alone = model.diagnose({"locking_or_catching": "yes"}).posterior["meniscal_injury"]
    >>> bool(found.ok.all()), bool(abs(found.marginals[0, 6] - alone) < 1e-12)
    (True, True)
    """
    plan = grouped.plan
    picks = np.matmul(codes, grouped.weights, dtype=float)
    picks += grouped.base
    picks = picks.astype(np.intp)
    n_joint = len(grouped.joint_tables)
    pick = picks[:, 0]
    q = [block.take(pick, axis=0) for block in grouped.joint_tables[0]]   # the joint, block by block
    shift = grouped.shifts[0].take(pick)
    for g in range(1, n_joint):
        pick = picks[:, g]
        for part, block in zip(q, grouped.joint_tables[g]):
            part *= block.take(pick, axis=0)
        shift += grouped.shifts[g].take(pick)
    if grouped.value is not None:
        assert grouped.size is not None  # noqa: S101 - set with value
        terms = grouped.term_tables[0].take(picks[:, n_joint], axis=0)
        for g in range(1, len(grouped.term_tables)):
            terms *= grouped.term_tables[g].take(picks[:, n_joint + g], axis=0)
        for g in range(n_joint, len(grouped.shifts)):
            shift += grouped.shifts[g].take(picks[:, g])
        value = _blocked_matmul(terms, grouped.value)   # the same in every block of the joint
        np.maximum(value, 0.0, out=value)   # inclusion-exclusion rounding may dip below 0 (q is never negative)
        summed = q[0] if len(q) == 1 else np.add(q[0], q[1])
        for part in q[2:]:
            summed += part
        bound = np.vecdot(_blocked_matmul(terms, grouped.size), summed)   # the terms' sizes: the rounding estimate
        for part in q:
            part *= value
    found = _blocked_matmul(q[0], grouped.columns[0])
    for part, columns in zip(q[1:], grouped.columns[1:]):
        found += _blocked_matmul(part, columns)
    total = found[:, -1]
    ok = bound * (plan.error_scale / TOLERANCE) <= total if grouped.value is not None else total > 0.0
    low = total < _LINEAR_FLOOR
    with np.errstate(divide="ignore"):
        log_evidence = np.log(total)
    log_evidence += shift
    np.minimum(log_evidence, 0.0, out=log_evidence)     # a probability; rounding may land a hair above log 1
    ok &= log_evidence >= _LOG_TINY                      # the general engine works in log space there
    marginals = found[:, :-1]
    marginals /= np.where(low, 1.0, total)[:, None]
    if low.any():   # near the bottom of the range (or zero): summed in logs, where a zero is told from an underflow
        rows = np.flatnonzero(low)
        full = np.full((rows.size, plan.n_nodes), -1, dtype=np.intp)
        full[:, grouped.nodes] = codes[rows]
        redone = fast_joint(plan, batch_rows(plan, full))
        matrix = np.empty((plan.k, found.shape[1]))
        for block, columns in zip(grouped.blocks, grouped.columns):
            matrix[block] = columns
        marginals[rows] = redone.joint @ matrix[:, :-1]
        log_evidence[rows] = redone.log_evidence
        ok[rows] = redone.ok
    return FastMarginals(marginals, log_evidence, ok)


def part_rows(plan: FastPlan, indices: Mapping[int, int]) -> np.ndarray:
    """One evidence set, {node index: state index}, as the rows of its parts with something observed, (1, m)."""
    return np.array([_picks(plan, indices)], dtype=np.intp)


def _picks(plan: FastPlan, indices: Mapping[int, int]) -> list[int]:
    """The rows of ``plan.logs`` one evidence set picks: its observed parts' pattern rows and the constant row."""
    found: dict[int, int] = {-1: plan.constant_row}
    part_of, stride, offsets = plan.part_of, plan.node_stride, plan.part_offsets
    for v, s in indices.items():
        p = part_of[v]
        found[p] = found.get(p, offsets[p]) + (s + 1) * stride[v]
    return sorted(found.values())   # sorted: the sum's order never follows the dict's


def batch_rows(plan: FastPlan, codes: np.ndarray) -> np.ndarray:
    """Rows of state codes, (batch, nodes) with -1 where not observed, as the rows of ``plan.logs`` each picks:
    every part's pattern row (a part with nothing observed picks its first row, all zeros), then the
    constant row, (batch, parts + 1)."""
    batch = codes.shape[0]
    rows = np.empty((batch, len(plan.starts) + 1), dtype=np.intp)
    by_node = (codes[:, plan.order] + 1) * plan.stride   # intp, whatever the codes' dtype
    np.add.reduceat(by_node, plan.starts, axis=1, out=rows[:, :-1])
    rows[:, :-1] += plan.offsets
    rows[:, -1] = plan.constant_row
    return rows


# -- compiling the parts --------------------------------------------------------------------

def _on_joint(net: CompiledNetwork, v: int, axes: dict[int, int], epos: dict[int, int],
              ndim: int = 0) -> np.ndarray:
    """Node v's table broadcast onto (own axes..., K): ``axes`` gives each non-target variable's axis."""
    index: list[np.ndarray] = []
    for u in (*net.parents[v], v):
        if u in epos:
            shape = [1] * ndim + [-1]
            index.append(net.joint_states[:, epos[u]].reshape(shape))
        else:
            shape = [1] * (ndim + 1)
            shape[axes[u]] = -1
            index.append(np.arange(net.cards[u]).reshape(shape))
    return net.tables[v][tuple(index)]


def _tabulate(net: CompiledNetwork, nodes: list[int], owned: list[int], epos: dict[int, int],
              k: int) -> np.ndarray | None:
    """The group's value over the joint for every evidence pattern, (patterns, K), or None when too large.

    Patterns are codes in mixed radix over ``nodes``, each digit 0 for
    "not observed" and 1 + state otherwise.
    """
    cards = [net.cards[v] for v in nodes]
    if math.prod(c + 1 for c in cards) * k > TABLE_LIMIT or math.prod(cards) * k > ENUMERATION_LIMIT:
        return None
    axes = {v: a for a, v in enumerate(nodes)}
    value = np.ones((*cards, k))
    for v in owned:
        value = value * _on_joint(net, v, axes, epos, len(nodes))
    for a in range(len(nodes)):   # prepend "not observed": the sum over the node's states
        value = np.concatenate([value.sum(axis=a, keepdims=True), value], axis=a)
    return value.reshape(-1, k)


def _log_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a table as logs relative to its first row (nothing observed), and that row's log."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(table)
        first = logs[0]
        alive = first > -np.inf
        rel = np.where(alive, logs - np.where(alive, first, 0.0), 0.0)   # a zero first row stays zero below
    rel = np.where(rel > -np.inf, rel, _NEG)
    return rel, np.where(alive, first, _NEG)


def _factor(net: CompiledNetwork, nodes: list[int], owned: list[int], children: list[list[int]],
            epos: dict[int, int], k: int) -> tuple[list[int], np.ndarray, list[np.ndarray]] | None:
    """A group of roots whose children are all targets, as terms: (nodes, mix (terms, K), rows per node).

    ``mix[u, k]`` is the product over the coupled targets of their affine
    coefficients; ``rows[v][x, u]`` node v's factor for evidence pattern x
    (0 not observed, 1 + state) under term u. None where the group has
    another shape, or a child's table is not affine in a product.
    """
    members = set(nodes)
    if any(net.parents[v] for v in nodes) or any(c not in epos for v in nodes for c in children[v]):
        return None
    coupled = [v for v in owned if v in epos]
    if len(coupled) > MAX_COUPLED or set(owned) - set(coupled) - members:
        return None
    n_terms = 1 << len(coupled)
    mix = np.ones((n_terms, k))
    phis: list[dict[int, np.ndarray]] = []
    bits = [(np.arange(n_terms) >> (len(coupled) - 1 - j)) & 1 for j in range(len(coupled))]   # term u uses j's b1
    for j, t in enumerate(coupled):
        fit = _FITS.get_or_build((tuple(net.targets), tuple(net.cards), t, net.parents[t], net.tables[t].tobytes(),
                         tuple(sorted(members)), FIT_TOLERANCE), lambda t=t: _affine_in_product(net, t, members))
        if fit is None:
            return None
        coefficients, phi = fit         # coefficients (2, K): b0 and b1 on the joint
        mix *= coefficients[bits[j]]
        phis.append(phi)
    rows = []
    for v in nodes:
        prior = np.asarray(net.tables[v], dtype=float)   # a root: its table is its prior
        factor = np.ones((net.cards[v], n_terms)) * prior[:, None]
        for j, phi in enumerate(phis):
            if v in phi:
                factor *= np.where(bits[j][None, :] == 1, phi[v][:, None], 1.0)
        rows.append(np.vstack([factor.sum(axis=0, keepdims=True), factor]))
    return nodes, mix, rows


def _exact_coefficients(flat: np.ndarray, g: np.ndarray, ref_flat: int) -> np.ndarray | None:
    """``b0, b1`` with ``flat[a, x, s] = b0[a, s] + b1[a, s] * g[x]`` (to ``FIT_TOLERANCE``), (2, A, S); None if none.

    A column proportional to ``g`` (a noisy-OR's "no") takes ``b0 = 0`` exactly
    and one minus such a column (its "yes") ``b0 = 1`` exactly, both read at
    the reference where ``g`` is 1: a least-squares ``b0`` of 1e-17 instead of
    0 would make an impossible answer merely improbable, and shift a
    probability of 1e-6 by 1e-11 of itself. Other columns are fitted.
    """
    at_ref = flat[:, ref_flat, :]                                              # (A, S)
    spread = g[None, :, None]
    proportional = _fits(at_ref[:, None, :] * spread, flat, axis=1)
    # One minus such a column: compared as "yes" and as "no", each entry where it has its digits (a table keeps
    # a tiny P(yes) to every digit, which 1 minus the product would not; a tiny P(no) the other way round).
    no = (1.0 - at_ref[:, None, :]) * spread
    complement = np.logical_and.reduce((np.abs(1.0 - no - flat) <= FIT_TOLERANCE * np.abs(flat)) |
                                       (np.abs(no - (1.0 - flat)) <= FIT_TOLERANCE * np.abs(1.0 - flat)), axis=1)
    exact = np.stack([np.where(proportional, 0.0, 1.0), np.where(proportional, at_ref, at_ref - 1.0)])
    if np.logical_and.reduce(proportional | complement, axis=None):   # every noisy-OR: fitted by these checks
        return exact
    design = np.stack([np.ones(g.size), g], axis=1)                           # (X, 2)
    target = flat.transpose(1, 0, 2).reshape(g.size, -1)                       # (X, A * S)
    coef = np.linalg.lstsq(design, target, rcond=None)[0].reshape(2, *at_ref.shape)
    coef = np.where(proportional | complement, exact, coef)
    fitted = coef[0][:, None, :] + coef[1][:, None, :] * g[None, :, None]
    if not _fits(fitted, flat):
        return None
    return coef


def _fits(fitted: np.ndarray, table: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Whether ``fitted`` equals ``table`` to ``FIT_TOLERANCE`` relative to each entry (along ``axis``)."""
    return np.logical_and.reduce(np.abs(fitted - table) <= FIT_TOLERANCE * np.abs(table), axis=axis)


def _affine_in_product(net: CompiledNetwork, t: int, members: set[int]) -> tuple[np.ndarray, dict[int, np.ndarray]] | None:
    """Target t's table as ``b0[a, s] + b1[a, s] * prod_r phi_r(x_r)`` over its parents r in ``members``.

    Returns the coefficients on the joint, (2, K), and phi per parent; None
    when no state's column is such a product or the fit misses by more than
    ``FIT_TOLERANCE``.
    """
    parents = net.parents[t]
    inner = [a for a, p in enumerate(parents) if p in members]
    outer = [a for a, p in enumerate(parents) if p not in members]
    table = np.asarray(net.tables[t], dtype=float)
    # axes: (outer parents..., inner parents..., t) -> (A, X..., S)
    moved = np.moveaxis(table, [*outer, *inner], list(range(len(parents))))
    a_size = math.prod(net.cards[parents[a]] for a in outer)
    x_shape = tuple(net.cards[parents[a]] for a in inner)
    flat = moved.reshape(a_size, -1, net.cards[t])              # (A, X, S)
    for s in range(net.cards[t]):
        column = flat[..., s]                                   # (A, X)
        a_star = int(np.argmax(column.max(axis=1)))
        ref_flat = int(np.argmax(column[a_star]))
        top = column[a_star, ref_flat]
        if top <= 0.0:
            continue
        scaled = (column[a_star] / top).reshape(x_shape)
        ref = np.unravel_index(ref_flat, x_shape)
        # phi of each inner parent: the scaled column along its axis, every other parent at the reference
        phis = [scaled[ref[:d] + (slice(None),) + ref[d + 1:]] for d in range(len(inner))]
        g = phis[0] if phis else np.ones(())
        for phi_d in phis[1:]:
            g = np.multiply.outer(g, phi_d)
        if not _fits(top * g.reshape(-1), column[a_star]):
            continue   # this state's column is no product (a noisy-OR's "yes"); try the next
        phi = {parents[r]: phis[d] for d, r in enumerate(inner)}
        coef = _exact_coefficients(flat, g.reshape(-1), ref_flat=ref_flat)
        if coef is None:
            continue
        # onto the joint: each joint state's outer-parent configuration and own state
        a_index = np.zeros(net.joint_states.shape[0], dtype=np.intp)
        for a in outer:
            pos = list(net.targets).index(parents[a])
            a_index = a_index * net.cards[parents[a]] + net.joint_states[:, pos]
        own = net.joint_states[:, list(net.targets).index(t)]
        return coef[:, a_index, own], phi
    return None
