"""The general engine's answer for rows of evidence: the targets' joint, P(evidence) and the parts reused.

One value, shared by the engines that make it (``posterior``,
``bipartite_queries``) and the functions that read it (``gain``, the
batch), so none of them needs another's module to name it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TargetJoint"]


class TargetJoint(NamedTuple):
    """P(targets | evidence) over the enumerated joint, and log P(evidence).

    The singleton groups' and components' values are kept so that per-node
    joints can reuse them instead of recomputing. (A NamedTuple: immutable,
    and cheap to build on the hot path.)

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode, target_joint
    >>> net = kneebayes.load_model().network
    >>> tj = target_joint(net, encode(net, [{}]))
    >>> tj.joint.shape, round(float(np.exp(tj.log_evidence[0])), 9), len(tj.component_values)   # P(no evidence) = 1
    ((1, 64), 1.0, 2)
    """

    joint: np.ndarray             # (batch, K), rows sum to 1 (NaN-free; zero rows where impossible)
    log_evidence: np.ndarray      # (batch,), -inf where the evidence is impossible
    singleton_values: tuple[np.ndarray, ...]   # per group: (batch, n, K)
    component_values: tuple[np.ndarray, ...]   # per component: (batch, K), scaled
    component_scales: tuple[np.ndarray, ...]   # per component: (batch,) log of the scale
    # per component, for one evidence set: its sweep's forward half where that computed its value
    # (``inference.backward.forward_pass``), so a ranking runs only the backward half
    forwards: tuple[tuple[np.ndarray | None, ...] | None, ...] = ()
    # a bipartite noisy-OR network (``inference.bipartite_queries``): P(cause = yes | evidence), (batch, causes),
    # and P(cause = no | evidence) in its own right (1 - P(yes) loses its digits near 1)
    cause_posteriors: np.ndarray | None = None
    cause_absent: np.ndarray | None = None

    def take(self, rows: np.ndarray | slice) -> TargetJoint:
        """The same parts for some rows of the batch (``forwards``, which serves one evidence set, left out).

        >>> import kneebayes
        >>> from kneebayes.inference.posterior import encode, target_joint
        >>> net = kneebayes.load_model().network
        >>> tj = target_joint(net, encode(net, [{}, {net.index["limping"]: 0}]))
        >>> bool((tj.take(slice(1, 2)).joint == tj.joint[1:2]).all())
        True
        """
        return TargetJoint(self.joint[rows], self.log_evidence[rows], tuple(v[rows] for v in self.singleton_values),
                           tuple(v[rows] for v in self.component_values),
                           tuple(v[rows] for v in self.component_scales),
                           cause_posteriors=None if self.cause_posteriors is None else self.cause_posteriors[rows],
                           cause_absent=None if self.cause_absent is None else self.cause_absent[rows])
