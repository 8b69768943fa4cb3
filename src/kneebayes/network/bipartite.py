"""Recognising a bipartite noisy-OR diagnostic network (QMR-DT style) at compile time.

When every node is either a yes/no root with a prior (a *cause*) or a
yes/no noisy-OR over causes only (a *finding*), the targets are causes,
and the causes are many (or the targets too many to enumerate), general
elimination would join hundreds of causes in one table. Such a
network is answered instead by ``inference.bipartite`` (negative findings
absorbed exactly, positive ones by Quickscore or its cancellation-free
dynamic programme): this module builds its arrays, in memory linear in
the number of edges, and records which node is which cause or finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..inference.bipartite import BipartiteNoisyOr
from ..modelfile.schema import ModelSpec, NoisyOr, Prior

_YES_NO = frozenset(("yes", "no"))


@dataclass(frozen=True, eq=False)
class BipartiteLayout:
    """The network as causes and findings, and where each sits among the model's nodes."""

    network: BipartiteNoisyOr
    cause_nodes: np.ndarray       # (n,) node index of each cause, in the network's cause order
    finding_nodes: np.ndarray     # (m,) node index of each finding
    cause_yes: np.ndarray         # (n,) the index of "yes" among each cause's states
    finding_yes: np.ndarray       # (m,)
    role: np.ndarray              # (nodes,) the node's cause index, or -1 - its finding index


def bipartite_layout(spec: ModelSpec, targets: Sequence[int]) -> BipartiteLayout | None:
    """The layout when ``spec`` is a bipartite noisy-OR network whose causes include ``targets``, else None.

    ``targets`` are node numbers (positions in ``spec.nodes``). The knee
    model's findings hang under risk factors too, so it is no such network;
    one cause with one finding is:

    >>> import kneebayes
    >>> print(bipartite_layout(kneebayes.load_model().spec, targets=[]))
    None
    >>> from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior
    >>> def number(value):
    ...     return Parameter(value, source="example", rationale="for illustration", range=(0.01, 0.99))
    >>> strain = NodeSpec("strain", "Strain", "cause", "Is it a strain?", ("yes", "no"),
    ...                   Prior((number(0.2), number(0.8)), derived_last=True), askable=False)
    >>> pain = NodeSpec("pain", "Pain", "finding", "Does it hurt?", ("yes", "no"),
    ...                 NoisyOr(leak=number(0.05), weights=(("strain", number(0.9)),)), askable=True)
    >>> layout = bipartite_layout(ModelSpec("tiny", "1.0", "A cause and a finding", (strain, pain)), targets=[0])
    >>> layout.cause_nodes.tolist(), layout.finding_nodes.tolist(), layout.network.n_causes
    ([0], [1], 1)
    """
    nodes = spec.nodes
    index = {n.id: i for i, n in enumerate(nodes)}
    if any(set(node.states) != _YES_NO or len(node.states) != 2 for node in nodes):
        return None
    causes = [i for i, node in enumerate(nodes) if isinstance(node.parameters, Prior)]
    cause_set = set(causes)
    findings = [i for i in range(len(nodes)) if i not in cause_set]
    if not findings or not set(targets) <= cause_set:
        return None
    for i in findings:
        params = nodes[i].parameters
        if not isinstance(params, NoisyOr) or any(index[p] not in cause_set for p in params.parents):
            return None
    cause_of = {node: c for c, node in enumerate(causes)}
    priors = [nodes[i].parameters.probabilities[nodes[i].states.index("yes")].value   # type: ignore[union-attr]
              for i in causes]
    leaks, starts, parents, weights = [], [0], [], []
    for i in findings:
        params = nodes[i].parameters
        assert isinstance(params, NoisyOr)  # noqa: S101 - checked above
        leaks.append(params.leak.value)
        for parent, weight in params.weights:
            parents.append(cause_of[index[parent]])
            weights.append(weight.value)
        starts.append(len(parents))
    network = BipartiteNoisyOr(
        np.array(priors, dtype=float), np.array(leaks, dtype=float), np.array(starts, dtype=np.int64),
        np.array(parents, dtype=np.int64), np.array(weights, dtype=float), name=spec.name,
        finding_names=tuple(nodes[i].id for i in findings),
    )
    role = np.empty(len(nodes), dtype=np.intp)
    role[causes] = np.arange(len(causes))
    role[findings] = -1 - np.arange(len(findings))
    role.setflags(write=False)
    return BipartiteLayout(
        network=network, cause_nodes=np.array(causes, dtype=np.intp), finding_nodes=np.array(findings, dtype=np.intp),
        cause_yes=np.array([nodes[i].states.index("yes") for i in causes], dtype=np.intp),
        finding_yes=np.array([nodes[i].states.index("yes") for i in findings], dtype=np.intp), role=role,
    )
