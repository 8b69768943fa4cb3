"""Recognising a bipartite noisy-OR diagnostic network (QMR-DT style) at compile time.

When every node is either a yes/no root with a prior (a *cause*) or a
yes/no noisy-OR over causes only (a *finding*), the targets are causes,
and the causes are many (or the targets too many to enumerate), general
elimination would join hundreds of causes in one table. Such a
network is answered instead by ``inference.bipartite`` (negative findings
absorbed exactly, positive ones by Quickscore or its cancellation-free
dynamic programme): this module holds its arrays (:class:`BipartiteNoisyOr`,
in memory linear in the number of edges), builds them from a model, and
records which node is which cause or finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, quote
from ..modelfile.schema import ModelSpec, NoisyOr, Prior

_YES_NO = frozenset(("yes", "no"))


@dataclass(frozen=True, eq=False)
class BipartiteNoisyOr:
    """A bipartite noisy-OR network: cause priors, finding leaks, and sparse weights.

    The weights are stored per finding, CSR-like: finding ``f``'s parents
    are ``parent_index[parent_start[f]:parent_start[f + 1]]`` with weights
    ``parent_weight[...]`` at the same positions, so memory is linear in
    the number of edges. Arrays are copied and made read-only.

    Priors, leaks and weights are probabilities in [0, 1]; a finding lists
    each parent once. ``finding_names`` (optional) are used in messages;
    without them a finding is named by its index.

    >>> net = BipartiteNoisyOr.from_parents([0.1, 0.2], [0.01], [[0, 1]], [[0.8, 0.5]])
    >>> net.n_causes, net.n_findings, net.n_edges
    (2, 1, 2)
    >>> net.parents(0)
    (array([0, 1]), array([0.8, 0.5]))
    >>> BipartiteNoisyOr.from_parents([0.1, 1.5], [0.01], [[0, 1]], [[0.8, 0.5]])
    Traceback (most recent call last):
    ...
    kneebayes.errors.ParameterError: bipartite network 'bipartite': priors[1] is 1.5; priors must be probabilities in [0, 1]
    """

    priors: np.ndarray          # (n,) P(cause = yes)
    leaks: np.ndarray           # (m,) P(finding = yes | no cause present)
    parent_start: np.ndarray    # (m + 1,) int64, non-decreasing from 0 to n_edges
    parent_index: np.ndarray    # (n_edges,) int64 cause of each edge
    parent_weight: np.ndarray   # (n_edges,) w_fd of each edge
    name: str = "bipartite"
    finding_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        where = f"bipartite network {quote(self.name)}"
        if not isinstance(self.name, str):
            raise ParameterError(f"a bipartite network's name must be a string, got {quote(self.name)}")
        priors = _float_vector(self.priors, "priors", where)
        leaks = _float_vector(self.leaks, "leaks", where)
        weight = _float_vector(self.parent_weight, "parent_weight", where)
        start = _int_vector(self.parent_start, "parent_start", where)
        index = _int_vector(self.parent_index, "parent_index", where)
        n, m, e = len(priors), len(leaks), len(weight)
        if len(start) != m + 1:
            raise ParameterError(f"{where}: parent_start has {len(start)} entries; it needs one per finding plus one ({m + 1})")
        if len(index) != e:
            raise ParameterError(f"{where}: parent_index has {len(index)} entries and parent_weight {e}; "
                                 "they need one entry per edge each")
        if start[0] != 0 or start[-1] != e or np.any(np.diff(start) < 0):
            raise ParameterError(f"{where}: parent_start must rise from 0 to the number of edges ({e}), "
                                 f"got {quote(start.tolist())}")
        for label, values in (("priors", priors), ("leaks", leaks), ("parent_weight", weight)):
            bad = np.flatnonzero(~((values >= 0.0) & (values <= 1.0)))
            if len(bad):
                raise ParameterError(f"{where}: {label}[{bad[0]}] is {quote(float(values[bad[0]]))}; "
                                     f"{label} must be probabilities in [0, 1]")
        bad = np.flatnonzero((index < 0) | (index >= n))
        if len(bad):
            f = int(np.searchsorted(start, bad[0], side="right") - 1)
            raise ParameterError(f"{where}: finding {f} names cause {quote(int(index[bad[0]]))}; "
                                 f"cause indices run from 0 to {n - 1}")
        finding_of = np.repeat(np.arange(m), np.diff(start))
        if e:
            key = finding_of * max(n, 1) + index
            dup = np.flatnonzero(np.diff(np.sort(key)) == 0)
            if len(dup):
                k = np.sort(key)[dup[0]]
                raise ParameterError(f"{where}: finding {k // max(n, 1)} lists cause {k % max(n, 1)} twice; "
                                     "each parent may appear once")
        if self.finding_names is not None:
            names = tuple(self.finding_names)
            if len(names) != m or not all(isinstance(s, str) for s in names):
                raise ParameterError(f"{where}: finding_names must be {m} strings, one per finding")
            object.__setattr__(self, "finding_names", names)
        for attr, arr in (("priors", priors), ("leaks", leaks), ("parent_weight", weight),
                          ("parent_start", start), ("parent_index", index)):
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)

    @classmethod
    def from_parents(cls, priors: Sequence[float] | np.ndarray, leaks: Sequence[float] | np.ndarray,
                     parents: Sequence[Sequence[int]], weights: Sequence[Sequence[float]], *,
                     name: str = "bipartite", finding_names: Sequence[str] | None = None) -> BipartiteNoisyOr:
        """A network from per-finding lists: ``parents[f]`` the causes of finding ``f``, ``weights[f]`` theirs."""
        where = f"bipartite network {quote(name)}"
        if len(parents) != len(weights):
            raise ParameterError(f"{where}: parents lists {len(parents)} findings and weights {len(weights)}; "
                                 "they need one list per finding each")
        for f, (ps, ws) in enumerate(zip(parents, weights)):
            if len(ps) != len(ws):
                raise ParameterError(f"{where}: finding {f} has {len(ps)} parents and {len(ws)} weights; "
                                     "they need one weight per parent")
        counts = np.array([len(ps) for ps in parents], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat_i = [int(c) if isinstance(c, (int, np.integer)) and not isinstance(c, bool) else c
                  for ps in parents for c in ps]
        flat_w = [w for ws in weights for w in ws]
        return cls(np.asarray(priors), np.asarray(leaks), start, np.asarray(flat_i) if flat_i else np.zeros(0, np.int64),
                   np.asarray(flat_w) if flat_w else np.zeros(0), name,
                   None if finding_names is None else tuple(finding_names))

    @property
    def n_causes(self) -> int:
        """The number of causes."""
        return len(self.priors)

    @property
    def n_findings(self) -> int:
        """The number of findings."""
        return len(self.leaks)

    @property
    def n_edges(self) -> int:
        """The number of (finding, parent cause) edges."""
        return len(self.parent_index)

    def parents(self, finding: int) -> tuple[np.ndarray, np.ndarray]:
        """Finding ``finding``'s parent causes and their weights (read-only views)."""
        lo, hi = self.parent_start[finding], self.parent_start[finding + 1]
        return self.parent_index[lo:hi], self.parent_weight[lo:hi]

    def finding_name(self, finding: int) -> str:
        """The name messages use for ``finding``: its name, or its index."""
        return str(finding) if self.finding_names is None else self.finding_names[finding]


def _float_vector(value: object, label: str, where: str) -> np.ndarray:
    arr = np.array(value)
    if arr.dtype.kind not in "iuf" and not (arr.size == 0 and arr.dtype.kind in "bOU"):
        raise ParameterError(f"{where}: {label} must be numbers, got {quote(value)}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ParameterError(f"{where}: {label} must be one-dimensional, got shape {arr.shape}")
    return arr


def _int_vector(value: object, label: str, where: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or not (arr.dtype.kind in "iu" or (arr.size == 0 and arr.dtype.kind == "f")):
        raise ParameterError(f"{where}: {label} must be a one-dimensional array of whole numbers, got {quote(value)}")
    return arr.astype(np.int64, copy=True)


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
