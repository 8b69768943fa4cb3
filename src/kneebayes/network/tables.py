"""Turn a node's parameters into its conditional probability table.

Every table is an array with one axis per parent (in the spec's parent
order) and a last axis for the node itself: ``cpt[pa_1, ..., pa_k, x]`` =
P(node = x | parents). Noisy-OR is only a way to *build* such a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import overload

import numpy as np

from ..errors import IntractableError
from ..modelfile.schema import NodeSpec, NoisyOr, Parameters, Prior, Table
from .kept import Kept


#: A noisy-OR's P(yes | parents) below this is formed as ``-expm1`` of its log-sum (every digit kept); from
#: here up as 1 - P(no), which keeps 13 of its digits or more and makes each column sum to exactly 1.
EXPM1_BELOW = 5e-3


def noisy_or_table(
    leak: float | np.ndarray, weights: Sequence[float] | np.ndarray, parent_yes: Sequence[int], yes_index: int
) -> np.ndarray:
    """P(child | parents) for a leaky noisy-OR, axes (parent_1, ..., parent_k, child).

    ``parent_yes[i]`` is the index of parent i's "yes" state, ``yes_index``
    the child's. P(no | pa) = (1 - leak) * prod over present parents of
    (1 - w_i); a small P(yes | pa) is formed as ``-expm1`` of that
    product's log (a sum of ``log1p`` terms), never as 1 minus a number near
    1, so a leak of 1e-12 keeps all its digits (see ``EXPM1_BELOW``). ``leak`` (d,) and ``weights`` (d, k) may
    carry a leading axis of parameter draws; the table then has it too.

    >>> t = noisy_or_table(0.1, [0.5], parent_yes=[0], yes_index=0)
    >>> t[0].round(3).tolist(), t[1].round(3).tolist()   # parent yes, parent no
    ([0.55, 0.45], [0.1, 0.9])
    >>> float(noisy_or_table(1e-12, [0.5], parent_yes=[0], yes_index=0)[1, 0])   # 1 - (1 - 1e-12) is 1.00009e-12
    1e-12
    """
    leak = np.asarray(leak, dtype=float)
    w = np.asarray(weights, dtype=float).reshape(leak.shape + (-1,))
    draws = leak.shape   # () or (d,)
    k = w.shape[-1]
    ones = (1,) * k
    p_no = (1.0 - leak).reshape(draws + ones)
    with np.errstate(divide="ignore"):   # a leak or weight of 1: log 0 = -inf, which expm1 takes exactly
        log_no = np.log1p(-leak).reshape(draws + ones)
        log_w = np.log1p(-w)
    for i, yes in enumerate(parent_yes):
        shape = draws + tuple(2 if j == i else 1 for j in range(k))
        factor = np.ones(draws + (2,))
        factor[..., yes] = 1.0 - w[..., i]
        p_no = p_no * factor.reshape(shape)
        term = np.zeros(draws + (2,))
        term[..., yes] = log_w[..., i]
        log_no = log_no + term.reshape(shape)
    table = np.empty(draws + (2,) * k + (2,))
    yes = -np.expm1(log_no)
    # From EXPM1_BELOW up, 1 - P(no) keeps 13 digits and more, and a column sums to 1 to the last bit
    # (an exported table reads back unchanged); below, only -expm1 keeps P(yes)'s digits.
    table[..., yes_index] = np.where(yes < EXPM1_BELOW, yes, 1.0 - p_no)
    table[..., 1 - yes_index] = p_no
    return table


def node_table(node: NodeSpec, states: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The CPT of one node, axes (parents..., node), from its validated spec.

    ``states`` gives every node's states by id (the parents' are read).

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> states = {n.id: n.states for n in spec.nodes}
    >>> node_table(spec.node("poor_warmup"), states).tolist()    # a root: its prior
    [0.45, 0.55]
    >>> node_table(spec.node("locking_or_catching"), states).shape   # two parents, then the node
    (2, 2, 2)
    """
    params = node.parameters
    if isinstance(params, Prior):
        return np.array([p.value for p in params.probabilities], dtype=float)
    if isinstance(params, NoisyOr):
        return noisy_or_table(
            params.leak.value,
            [w.value for _, w in params.weights],
            [list(states[p]).index("yes") for p in params.parents],
            list(node.states).index("yes"),
        )
    if not isinstance(params, Table):
        raise TypeError(f"unknown parameter kind for node {node.id!r}: {type(params).__name__}")
    shape = tuple(len(states[p]) for p in params.parents) + (len(node.states),)
    # Columns arrive in itertools.product order of the parents' states: C order.
    values = np.array([[p.value for p in col.probabilities] for col in params.columns], dtype=float)
    return values.reshape(shape)


class NodeTables(Sequence[np.ndarray]):
    """Every node's CPT, built on first use and kept read-only.

    The engine reads a noisy-OR with many parents as its pairwise pieces
    and never needs its full table; an exporter or sampler that does asks
    for it here, and a noisy-OR table past the memory budget is refused
    with an IntractableError instead of being allocated. (A table given
    entry by entry in the model file is built whatever its size: the spec
    already holds every number.)

    A compiled network's ``tables`` are these, indexed by node number:

    >>> import kneebayes
    >>> net = kneebayes.load_model().network
    >>> tables = net.tables
    >>> i = net.index["locking_or_catching"]
    >>> tables.entries(i), tables[i].shape, tables[i].flags.writeable
    (8, (2, 2, 2), False)

    ``given`` tables (by node number, the CPT's shape, read-only) stand in
    for the spec's numbers of those nodes: learning's steps change every
    number of a large network, and building a spec for each step cost more
    than its inference (MILDEW: 540,000 numbers, 11 s a step).
    """

    def __init__(self, nodes: Sequence[NodeSpec], states: Mapping[str, Sequence[str]], memory_budget: float,
                 network: str, given: Mapping[int, np.ndarray] | None = None) -> None:
        self._nodes = tuple(nodes)
        self._states = states
        self._budget = memory_budget
        self._network = network
        self._built: dict[int, np.ndarray] = dict(given or {})

    def __len__(self) -> int:
        return len(self._nodes)

    def entries(self, i: int) -> int:
        """How many numbers node ``i``'s table holds (computed without building it)."""
        node = self._nodes[i]
        return len(node.states) * math.prod(len(self._states[p]) for p in node.parents)

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[np.ndarray]: ...

    def __getitem__(self, i: int | slice) -> np.ndarray | Sequence[np.ndarray]:
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        i = range(len(self))[i]     # negative indices, and an IndexError past the end
        table = self._built.get(i)
        if table is None:
            size = 8.0 * self.entries(i)
            node = self._nodes[i]
            # A table given number by number already lies in the spec; only a noisy-OR can expand past it.
            if size > self._budget and isinstance(node.parameters, NoisyOr):
                raise IntractableError(self._network, (*node.parents, node.id), size, self._budget,
                                       advice=f"node {node.id!r}'s full table is only needed to export or sample "
                                              "the network; inference reads a noisy-OR in pieces")
            table = _kept_table(node, self._states)
            self._built[i] = table
        return table


#: How many tables the process keeps by the parameter objects they are built from (a model made by ``with_parameters``
#: rebuilds only the tables of the nodes it changed), and the largest it keeps: a dropped large network's
#: tables are not held after it.
TABLES_KEPT = 512
TABLE_KEPT_ENTRIES = 1 << 14
_KEPT: Kept[tuple[Parameters, np.ndarray]] = Kept(TABLES_KEPT)


def _kept_table(node: NodeSpec, states: Mapping[str, Sequence[str]]) -> np.ndarray:
    """``node_table``, read-only, kept by the node's parameters (the very object), parents and states.

    Kept by identity, not by value: hashing the parameters walks every ``Parameter`` of the table (DIABETES:
    half a second of its 2.5 s load, more than building every table), while a model made by
    ``with_parameters`` keeps the very parameter objects of the nodes it did not change. Each entry holds its
    parameters, so their id cannot pass to another object while the entry is kept. A table past
    ``TABLE_KEPT_ENTRIES`` is built, not kept."""
    entries = len(node.states) * math.prod(len(states[p]) for p in node.parents)
    if entries > TABLE_KEPT_ENTRIES:
        table = node_table(node, states)
        table.setflags(write=False)
        return table
    key = (id(node.parameters), node.parents, node.states, tuple(tuple(states[p]) for p in node.parents))
    found = _KEPT.get(key)
    if found is not None and found[0] is node.parameters:
        return found[1]
    table = node_table(node, states)
    table.setflags(write=False)
    _KEPT.put(key, (node.parameters, table))
    return table
