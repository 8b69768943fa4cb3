"""Pieces of the E-step that make the targets' joint cheap: coded cases as likelihoods, and independent parts.

:class:`Encoder` turns rows of state codes (-1: missing) into the
engine's likelihood rows with one ``np.take``. For rows with every
non-target observed, :func:`independent_parts` finds each independent part
of the network (a component, or all singletons: given the targets they are
independent) and its distinct patterns, once per learning run, and
:class:`PartTables` computes each pattern's likelihood once per pass, the
rows' joints being products of those. :mod:`.learning_counts` uses both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..inference.posterior import target_joint
from ..network.compiled import CompiledNetwork

__all__ = ["Encoder", "PartTables", "independent_parts"]


class Encoder:
    """Likelihood rows for coded cases with one ``np.take``: a missing value (-1) keeps the template's ones.

    >>> import numpy as np, kneebayes
    >>> net = kneebayes.load_model().network
    >>> codes = np.full((1, len(net.names)), -1)
    >>> codes[0, net.index["limping"]] = 0                     # limping: yes
    >>> Encoder(net).lam(codes)[0, net.index["limping"]].tolist()
    [1.0, 0.0]
    """

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
        """(rows, nodes, max card) likelihood rows for coded cases (rows, nodes)."""
        return np.take(self.table, codes.astype(np.intp) + self.base, axis=0)


def _distinct(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct row and each row's distinct row; one int64 key a row when it fits."""
    radix = codes.max(axis=0, initial=-1).astype(np.int64) + 2
    if codes.shape[0] and float(np.log2(radix.astype(float)).sum()) < 62:
        key = np.zeros(codes.shape[0], dtype=np.int64)
        weight = 1
        for k, r in enumerate(radix.tolist()):
            key += (codes[:, k].astype(np.int64) + 1) * weight
            weight *= r
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def independent_parts(net: CompiledNetwork, codes: np.ndarray, budget: float) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Per independent part (a component, or all singletons): its distinct patterns' codes and each row's pattern.

    None when the targets are not enumerated, or the parts' tables would
    take more than a quarter of the budget.
    """
    if not net.enumerated or net.bipartite is not None:
        return None
    groups: dict[tuple[str, int], list[int]] = {}
    for v, (kind, group, _) in enumerate(net.where):
        if v not in net.enumerated:
            groups.setdefault(("component", group) if kind == "component" else ("singletons", 0), []).append(v)
    out = []
    for nodes in groups.values():
        first, inverse = _distinct(codes[:, nodes])
        patterns = np.full((len(first), codes.shape[1]), -1, dtype=codes.dtype)
        patterns[:, nodes] = codes[first][:, nodes]
        out.append((patterns, inverse))
    if 8.0 * net.n_joint * sum(len(p) for p, _ in out) > budget / 4:
        return None
    return out


class PartTables:
    """The targets' joint for rows with every non-target observed, from one table per independent part.

    Given the targets, the network's components and its singletons are
    independent, so P(targets, case) = P(targets) * product over parts of
    P(part's values | targets). Each part's values are read once per
    distinct pattern (far fewer than distinct cases): ``target_joint`` on
    rows holding that part alone gives P(targets | part) and P(part), kept
    as the ratio P(targets | part) / P(targets) (0 where the targets' state
    is impossible a priori) and log P(part).

    >>> import numpy as np, kneebayes
    >>> from kneebayes.inference.posterior import target_joint
    >>> net = kneebayes.load_model().network
    >>> codes = np.zeros((2, len(net.names)), dtype=np.int8)   # every node "yes"...
    >>> codes[:, list(net.enumerated)] = -1                     # ...but the causes, unknown
    >>> codes[1, net.index["limping"]] = 1
    >>> tables = PartTables.build(net, independent_parts(net, codes, 2**30), Encoder(net), 4096)
    >>> joint, _, log_ev = tables.joint(slice(0, 2), codes)
    >>> engine = target_joint(net, Encoder(net).lam(codes))
    >>> bool(np.allclose(joint, engine.joint) and np.allclose(log_ev, engine.log_evidence))
    True
    """

    def __init__(self, net: CompiledNetwork, prior: np.ndarray,
                 parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        self.net = net
        self.prior = prior     # (K,)
        self.parts = parts     # per part: (each row's pattern, ratio per pattern (patterns, K), log P(pattern))

    @classmethod
    def build(cls, net: CompiledNetwork, parts: Sequence[tuple[np.ndarray, np.ndarray]], encoder: Encoder,
              rows: int) -> PartTables:
        """The tables under ``net``'s numbers for the parts' patterns (laid out by :func:`case_layout`)."""
        empty = np.full((1, len(net.names)), -1, dtype=np.int32)
        prior = target_joint(net, encoder.lam(empty), targets_observed=False).joint[0]
        # divided, not multiplied by 1 / prior: a prior joint state of 1e-320 has no float inverse (inf, then
        # NaN, read a possible case as impossible), where the ratio itself is an ordinary number
        possible = prior > 0
        tables = []
        for patterns, inverse in parts:
            ratio = np.empty((len(patterns), net.n_joint))
            log_part = np.empty(len(patterns))
            for start in range(0, len(patterns), rows):
                tj = target_joint(net, encoder.lam(patterns[start : start + rows]), targets_observed=False)
                np.divide(tj.joint, prior, out=ratio[start : start + rows], where=possible)
                ratio[start : start + rows, ~possible] = 0.0
                log_part[start : start + rows] = tj.log_evidence
            tables.append((inverse, ratio, log_part))
        return cls(net, prior, tables)

    def joint(self, rows: slice, block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(targets | case), the parts' product's sum (tiny: recompute) and log P(case) for the rows at ``rows``."""
        q = np.repeat(self.prior[None, :], block.shape[0], axis=0)
        log_ev = np.zeros(block.shape[0])
        for inverse, ratio, log_part in self.parts:
            which = inverse[rows]
            q *= ratio[which]
            log_ev += log_part[which]
        for e, t in enumerate(self.net.enumerated):   # an observed target keeps its own joint states only
            seen = block[:, t] >= 0
            if seen.any():
                q[seen] *= self.net.joint_states[None, :, e] == block[seen, t, None]
        total = q.sum(axis=1)
        possible = total > 0
        with np.errstate(divide="ignore"):
            log_ev += np.log(total)
        log_ev[~possible] = -np.inf
        joint = np.divide(q, total[:, None], out=np.zeros_like(q), where=possible[:, None])
        return joint, total, log_ev
