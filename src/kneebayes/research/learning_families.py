"""Families for the E-step: each node with its parents laid out as its table, and clamping their missing members.

:func:`families` lays out every node's family (members, cells, which
members are enumerated targets); :func:`target_matrix` maps the targets'
joint states onto a family's targets; :func:`add_pairs` adds expected
counts by (others' configuration, targets' configuration); :class:`Clamps`
handles rows where two or more of a family's non-target members are
missing, by clamping them over their configurations (at most
:data:`MAX_CLAMPED`). :mod:`.learning_counts` composes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import IntractableError
from ..inference.posterior import target_joint
from ..network.compiled import CompiledNetwork
from .learning_parts import Encoder

__all__ = ["MAX_CLAMPED", "Family", "families", "target_matrix", "add_pairs", "Clamps"]

#: The most configurations of a family's hidden non-target members clamped for one row.
MAX_CLAMPED = 2**16


@dataclass(frozen=True, eq=False)
class Family:
    """One node's family laid out as its table: members are the parents in table order, then the node.

    ``cells[s, j]`` is member j's state in the family's s-th configuration
    (C order over ``shape``); ``targets`` are the positions of members that
    are enumerated targets, ``others`` the rest; ``target_config[k]`` is
    the targets' configuration (flat) in joint state k, and
    ``cell_target[s]`` the same for cell s. Counts accumulate over pairs
    (configuration of the others, configuration of the targets):
    ``other_stride[j]`` is member j's stride in the first (0 for targets),
    and ``cell_pair[s]`` is cell s's pair, flat.
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
    other_stride: np.ndarray
    cell_pair: np.ndarray

    @property
    def size(self) -> int:
        """How many configurations the family has (entries of the node's table)."""
        return int(self.cells.shape[0])


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
        stride = np.zeros(len(members), dtype=np.int64)
        step = 1
        for j in reversed(others):
            stride[j] = step
            step *= shape[j]
        n_targets = math.prod(t_shape)
        cell_pair = (cells @ stride) * n_targets + cell_target
        out.append(Family(v, members, shape, cells, targets, others, n_targets, target_config, cell_target, stride,
                          cell_pair.astype(np.intp)))
    return tuple(out)


def target_matrix(f: Family, K: int) -> np.ndarray:
    """(K, configurations of the family's targets): which configuration each joint state is.

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> target_matrix(families(net)[net.index["locking_or_catching"]], net.n_joint).sum(axis=0).tolist()
    [16.0, 16.0, 16.0, 16.0]
    """
    A = np.zeros((K, f.target_configs))
    A[np.arange(K), f.target_config] = 1.0
    return A


def add_pairs(pairs: np.ndarray, offset: np.ndarray, q: np.ndarray, n_targets: int) -> None:
    """Add ``q[..., t]`` at pair (offset, t) for every row: one bincount.

    >>> import numpy as np
    >>> pairs = np.zeros(4)
    >>> add_pairs(pairs, np.array([[1], [0]]), np.array([[1.0, 2.0], [3.0, 4.0]]), 2)
    >>> pairs.tolist()
    [3.0, 4.0, 1.0, 2.0]
    """
    index = offset * n_targets + np.arange(n_targets)
    pairs += np.bincount(index.reshape(-1), weights=q.reshape(-1), minlength=pairs.size)


class Clamps:
    """Rows with two or more of a family's non-target members missing, clamped over those members'
    configurations (one-hot likelihoods); the clamped rows of every family of a chunk go through
    ``target_joint`` together, at most about ``rows`` at a time, each clamp's probability being
    P(evidence, clamp) / P(evidence)."""

    def __init__(self, net: CompiledNetwork, encoder: Encoder, rows: int) -> None:
        self.net, self.encoder, self.rows = net, encoder, rows
        self.pending: list[tuple[Any, ...]] = []
        self.size = 0

    def add(self, f: Family, hidden: tuple[int, ...], base: np.ndarray, lam: np.ndarray, log_ev: np.ndarray,
            w: np.ndarray, A: np.ndarray, pairs: np.ndarray) -> None:
        """Queue the rows where the family's members at ``hidden`` are missing; their counts go to ``pairs``."""
        net = self.net
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
        onehots = [np.take(self.encoder.table, grid[:, k] + self.encoder.base[m], axis=0) for k, m in enumerate(nodes)]
        config_offset = grid @ f.other_stride[list(hidden)]                     # (configs,)
        step = max(1, self.rows // configs)
        for start in range(0, lam.shape[0], step):
            sl = slice(start, start + step)
            g = lam[sl].shape[0]
            big = np.repeat(lam[sl], configs, axis=0)                           # (g * configs, nodes, max card)
            for k, m in enumerate(nodes):
                big[:, m, :] = np.tile(onehots[k], (g, 1))
            self.pending.append((big, g, configs, log_ev[sl], w[sl], base[sl], config_offset, A, f.target_configs,
                                 pairs))
            self.size += len(big)
            if self.size >= self.rows:
                self.flush()

    def flush(self) -> None:
        """Run the queued clamped rows and add their counts."""
        if not self.pending:
            return
        tj = target_joint(self.net, np.concatenate([p[0] for p in self.pending]))
        start = 0
        for big, g, configs, log_ev, w, base, config_offset, A, n_targets, pairs in self.pending:
            joint, log_clamped = tj.joint[start : start + len(big)], tj.log_evidence[start : start + len(big)]
            start += len(big)
            ratio = np.exp(log_clamped.reshape(g, configs) - log_ev[:, None])   # P(clamp | evidence)
            q = (joint @ A).reshape(g, configs, -1) * (ratio * w[:, None])[:, :, None]
            add_pairs(pairs, (base[:, None] + config_offset[None, :])[:, :, None], q, n_targets)
        self.pending, self.size = [], 0
