"""The E-step of learning from cases: expected family counts on the engine's batch axis.

For every node v and its family F = parents(v) + (v,), the expected count
of each family configuration over the cases,
``C_v[u, x] = sum over cases of weight * P(parents = u, v = x | case)``,
with the axes of v's table (parents..., v). The cases arrive as distinct
rows of state codes (-1 where a value is missing) with a weight each (how
often the row occurs), so identical cases cost one row.

One inference per chunk of rows, not per row: the rows' evidence is
encoded once (``inference.posterior.encode``'s layout), the targets' joint
comes from ``target_joint``, and for each family the members are read as
follows:

* members that are enumerated targets come from the targets' joint
  (``net.joint_states`` gives each joint state's target states);
* observed members are fixed at their state;
* one hidden member that is not a target comes from its joint with the
  targets (``joint_with_targets``, many nodes at once);
* two or more hidden non-target members of one family are clamped over
  their configurations (extra rows, one-hot likelihoods), each clamp's
  probability being ``P(evidence, clamp) / P(evidence)``. At most
  :data:`MAX_CLAMPED` configurations per row (IntractableError beyond).

Rows are processed in chunks sized by the model's memory budget.

>>> import numpy as np, kneebayes
>>> net = kneebayes.load_model().network
>>> codes = np.full((1, len(net.names)), -1, dtype=np.int32)   # one case, nothing observed
>>> counts = expected_counts(net, codes, np.ones(1))
>>> i = net.index["poor_warmup"]
>>> counts.tables[i].round(3).tolist(), abs(counts.log_likelihood) < 1e-12    # the prior itself; P(no evidence) = 1
([0.45, 0.55], True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import IntractableError
from ..inference.posterior import joint_with_targets, target_joint
from ..network.compiled import CompiledNetwork

__all__ = ["MAX_CLAMPED", "CHUNK_ROWS", "Family", "Counts", "families", "expected_counts"]

#: The most configurations of a family's hidden non-target members clamped for one row.
MAX_CLAMPED = 2**16

#: The most distinct rows one chunk holds (fewer when the memory budget asks).
CHUNK_ROWS = 4096

# Bytes a pass holds per row and per (node, state, joint state) entry: the joints with the
# targets and their copies.
_COPIES = 4


@dataclass(frozen=True, eq=False)
class Family:
    """One node's family laid out as its table: members are the parents in table order, then the node.

    ``cells[s, j]`` is member j's state in the family's s-th configuration
    (C order over ``shape``); ``targets`` are the positions of members that
    are enumerated targets, ``others`` the rest; ``target_config[k]`` is
    the targets' configuration (flat) in joint state k, and
    ``cell_target[s]`` the same for cell s.
    """

    node: int
    members: tuple[int, ...]
    shape: tuple[int, ...]
    cells: np.ndarray
    targets: tuple[int, ...]
    others: tuple[int, ...]
    target_configs: int
    target_config: np.ndarray
    cell_target: np.ndarray

    @property
    def size(self) -> int:
        """How many configurations the family has (entries of the node's table)."""
        return int(self.cells.shape[0])


@dataclass(frozen=True)
class Counts:
    """Expected family counts per node (axes of its table), the log-likelihood, and the first impossible row.

    ``log_likelihood`` is ``sum of weight * log P(case)``; ``impossible`` is
    the position (among the distinct rows given) of the first row with
    probability zero, or None. When a row is impossible the counts are
    incomplete and must not be used.
    """

    tables: tuple[np.ndarray, ...]
    log_likelihood: float
    impossible: int | None = None


def families(net: CompiledNetwork) -> tuple[Family, ...]:
    """Every node's family, in node order.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> fam = families(net)[net.index["locking_or_catching"]]
    >>> [net.names[m] for m in fam.members], fam.shape, fam.targets
    (['meniscal_injury', 'bakers_cyst', 'locking_or_catching'], (2, 2, 2), (0, 1))
    """
    enumerated = {t: p for p, t in enumerate(net.enumerated)}
    K = net.n_joint
    out = []
    for v in range(len(net.names)):
        members = tuple(net.parents[v]) + (v,)
        shape = tuple(net.cards[m] for m in members)
        cells = np.indices(shape).reshape(len(shape), -1).T.astype(np.intp) if shape else np.zeros((1, 0), np.intp)
        targets = tuple(j for j, m in enumerate(members) if m in enumerated)
        others = tuple(j for j, m in enumerate(members) if m not in enumerated)
        t_shape = tuple(shape[j] for j in targets)
        if targets:
            cols = [net.joint_states[:, enumerated[members[j]]] for j in targets]
            target_config = np.ravel_multi_index(tuple(cols), t_shape).astype(np.intp)
            cell_target = np.ravel_multi_index(tuple(cells[:, j] for j in targets), t_shape).astype(np.intp)
        else:
            target_config = np.zeros(K, dtype=np.intp)
            cell_target = np.zeros(cells.shape[0], dtype=np.intp)
        out.append(Family(v, members, shape, cells, targets, others, math.prod(t_shape), target_config, cell_target))
    return tuple(out)


class _Encoder:
    """Likelihood rows for coded cases with one ``np.take``: a missing value (-1) keeps the template's ones."""

    def __init__(self, net: CompiledNetwork) -> None:
        n, max_card = net.lam_template.shape
        stride = max_card + 1
        table = np.zeros((n * stride, max_card))
        for i in range(n):
            table[i * stride] = net.lam_template[i]
            table[i * stride + 1 : i * stride + 1 + net.cards[i], : net.cards[i]] = np.eye(net.cards[i])
        self.table = table
        self.base = np.arange(n, dtype=np.intp) * stride + 1

    def lam(self, codes: np.ndarray) -> np.ndarray:
        return np.take(self.table, codes.astype(np.intp) + self.base, axis=0)


def chunk_rows(net: CompiledNetwork, memory_budget: float, fams: Sequence[Family]) -> int:
    """How many distinct rows one chunk takes: at most CHUNK_ROWS, fewer when the budget asks.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> chunk_rows(net, 2**30, families(net))
    4096
    """
    n, max_card = net.lam_template.shape
    widest = max((f.size for f in fams), default=1)
    per_row = 8.0 * _COPIES * (n * max_card * net.n_joint + widest + n * max_card)
    return int(max(1, min(CHUNK_ROWS, memory_budget // per_row)))


def expected_counts(net: CompiledNetwork, codes: np.ndarray, weights: np.ndarray,
                    fams: Sequence[Family] | None = None, memory_budget: float | None = None) -> Counts:
    """Expected family counts of every node over weighted distinct rows of state codes (-1: missing).

    ``codes`` has shape (rows, nodes) in ``net.names`` order, ``weights``
    (rows,). Stops at the first chunk holding an impossible row and says
    which (``Counts.impossible``).
    """
    fams = families(net) if fams is None else fams
    budget = float(net.memory_budget if memory_budget is None else memory_budget)
    rows = chunk_rows(net, budget, fams)
    flat = [np.zeros(f.size) for f in fams]
    encoder = _Encoder(net)
    enumerated = np.zeros(len(net.names), dtype=bool)
    enumerated[list(net.enumerated)] = True
    log_likelihood = 0.0
    for start in range(0, codes.shape[0], rows):
        block = codes[start : start + rows]
        w = np.asarray(weights[start : start + rows], dtype=float)
        lam = encoder.lam(block)
        hidden = block < 0
        tj = target_joint(net, lam, targets_observed=bool((~hidden[:, enumerated]).any()))
        log_ev = tj.log_evidence
        bad = np.flatnonzero(~np.isfinite(log_ev))
        if bad.size:
            return Counts(tuple(c.reshape(f.shape) for c, f in zip(flat, fams)), -math.inf, start + int(bad[0]))
        log_likelihood += float(w @ log_ev)
        plans = [_plan(f, hidden) for f in fams]
        need = sorted({f.members[j] for f, (one, _, _) in zip(fams, plans) for j in one})
        slot = {v: s for s, v in enumerate(need)}
        joints = joint_with_targets(net, lam, tj, need) if need else None
        for f, (one, none, clamp) in zip(fams, plans):
            A = _target_matrix(f, net.n_joint)
            if none.size:
                q = tj.joint[none] @ A                                        # (rows, targets' configs)
                cells = q[:, f.cell_target] * _mask(f, block[none], f.others)
                flat[f.node] += w[none] @ cells
            for j, which in one.items():
                assert joints is not None  # noqa: S101 - every member in ``one`` was asked for
                m = f.members[j]
                q = np.einsum("bxk,kt->bxt", joints[which, slot[m], : net.cards[m], :], A)
                cells = q[:, f.cells[:, j], f.cell_target] * _mask(f, block[which], [o for o in f.others if o != j])
                flat[f.node] += w[which] @ cells
            for pattern, which in clamp.items():
                flat[f.node] += _clamped_counts(net, f, pattern, block[which], lam[which], log_ev[which], w[which],
                                                encoder, A, rows)
    return Counts(tuple(c.reshape(f.shape) for c, f in zip(flat, fams)), log_likelihood)


def _plan(f: Family, hidden: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray, dict[tuple[int, ...], np.ndarray]]:
    """Split a chunk's rows by how the family's non-target members are known.

    Returns (member position -> rows where only that one is hidden), the
    rows where none is hidden, and (hidden positions -> rows) for rows with
    two or more hidden.
    """
    if not f.others:
        return {}, np.arange(hidden.shape[0]), {}
    h = hidden[:, [f.members[j] for j in f.others]]
    count = h.sum(axis=1)
    none = np.flatnonzero(count == 0)
    one: dict[int, np.ndarray] = {}
    single = np.flatnonzero(count == 1)
    if single.size:
        which = np.asarray(f.others)[h[single].argmax(axis=1)]
        for j in np.unique(which).tolist():
            one[j] = single[which == j]
    clamp: dict[tuple[int, ...], np.ndarray] = {}
    many = np.flatnonzero(count >= 2)
    if many.size:
        patterns, inverse = np.unique(h[many], axis=0, return_inverse=True)
        for p, pattern in enumerate(patterns):
            clamp[tuple(j for j, hid in zip(f.others, pattern) if hid)] = many[inverse.reshape(-1) == p]
    return one, none, clamp


def _target_matrix(f: Family, K: int) -> np.ndarray:
    """(K, configurations of the family's targets): which configuration each joint state is."""
    A = np.zeros((K, f.target_configs))
    A[np.arange(K), f.target_config] = 1.0
    return A


def _mask(f: Family, block: np.ndarray, positions: Sequence[int]) -> np.ndarray:
    """(rows, cells): 1 where every member at ``positions`` takes its observed state in the row."""
    out = np.ones((block.shape[0], f.size))
    for j in positions:
        out *= f.cells[None, :, j] == block[:, f.members[j], None]
    return out


def _clamped_counts(net: CompiledNetwork, f: Family, hidden: tuple[int, ...], block: np.ndarray, lam: np.ndarray,
                    log_ev: np.ndarray, w: np.ndarray, encoder: _Encoder, A: np.ndarray, rows: int) -> np.ndarray:
    """Expected counts of one family from rows where the members at ``hidden`` (two or more) are all missing."""
    nodes = [f.members[j] for j in hidden]
    shape = tuple(net.cards[m] for m in nodes)
    configs = math.prod(shape)
    if configs > MAX_CLAMPED:
        per = 8.0 * lam.shape[1] * lam.shape[2]
        raise IntractableError(net.name, [net.names[m] for m in nodes], per * configs, per * MAX_CLAMPED,
                               advice=f"fewer missing values among the family of {net.names[f.node]!r} (its "
                                      f"{len(nodes)} missing members have {configs:,} configurations, more than "
                                      f"{MAX_CLAMPED:,}), or observe some of them")
    grid = np.indices(shape).reshape(len(shape), -1).T                      # (configs, hidden)
    onehots = [np.take(encoder.table, grid[:, k] + encoder.base[m], axis=0) for k, m in enumerate(nodes)]
    cell_config = np.ravel_multi_index(tuple(f.cells[:, j] for j in hidden), shape)
    observed = [o for o in f.others if o not in hidden]
    out = np.zeros(f.size)
    step = max(1, rows // configs)
    for start in range(0, block.shape[0], step):
        sl = slice(start, start + step)
        g = lam[sl].shape[0]
        big = np.repeat(lam[sl], configs, axis=0)                           # (g * configs, nodes, max card)
        for k, m in enumerate(nodes):
            big[:, m, :] = np.tile(onehots[k], (g, 1))
        tj = target_joint(net, big)
        ratio = np.exp(tj.log_evidence.reshape(g, configs) - log_ev[sl, None])   # P(clamp | evidence)
        q = (tj.joint @ A).reshape(g, configs, -1) * ratio[:, :, None]
        cells = q[:, cell_config, f.cell_target] * _mask(f, block[sl], observed)
        out += w[sl] @ cells
    return out
