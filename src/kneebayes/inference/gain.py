"""Expected information gain of every candidate question, in one vectorised pass.

The gain of a question X is the mutual information between X and the
targets, I(T; X) = H(T) + H(X) - H(T, X), in bits, given the current
evidence. While the targets' joint is enumerated (``K`` states) T is that
joint, so co-occurring causes count; otherwise the gain is the sum of the
targets' own gains (``measure == "sum_of_marginals"``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SettingError, quote
from ..network.compiled import CompiledNetwork
from . import bipartite_queries
from .joint import TargetJoint
from .node_joints import joint_with_targets, marginals, node_target_joints
from .posterior import target_joint

_LN2 = float(np.log(2.0))
_MINUS_ONE_OVER_LN2 = -1.0 / _LN2
_FLOOR = 1e-300   # where a probability's log is taken instead of at zero (see entropy)


def entropy(p: np.ndarray, axis: int | tuple[int, ...] = -1) -> np.ndarray:
    """Shannon entropy in bits along ``axis`` (0 log 0 = 0).

    Natural log, then one scale: ``np.log2`` runs about twice as slow, and
    ranking spends most of its non-inference time here. The log is taken of
    ``max(p, 1e-300)``: exact for every p above it, and 0 log 0 comes out 0
    with no mask (a rounding residue below zero adds under 1e-12 bits).

    >>> float(entropy(np.array([0.5, 0.5, 0.0])))
    1.0
    """
    logs = np.maximum(p, _FLOOR)
    np.log(logs, out=logs)
    logs *= p
    return logs.sum(axis=axis) * _MINUS_ONE_OVER_LN2


@dataclass(frozen=True, eq=False)
class Gains:
    """Gains of the candidates (bits) for each evidence row, with the measure they use."""

    candidates: tuple[int, ...]
    gains: np.ndarray                 # (rows, n)
    answer_entropy: np.ndarray        # (rows, n) H(X | evidence): an upper bound on each (joint) gain
    measure: str                      # "joint" or "sum_of_marginals"


def gain_measure(net: CompiledNetwork) -> str:
    """Which information the gains of this network measure: ``"joint"`` while the targets' joint is
    enumerated (or there are no targets), else ``"sum_of_marginals"``."""
    return "joint" if net.enumerated or not net.targets else "sum_of_marginals"


def expected_information_gains(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint,
                               candidates: Sequence[int]) -> Gains:
    """Gains of all candidates for every evidence row of ``lam`` (a Diagnosis is a batch of one).

    An observed candidate gains nothing (up to rounding): its answer is known.

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode, target_joint
    >>> model = kneebayes.load_model()
    >>> net = model.network
    >>> lam = encode(net, [{}, {net.index["limping"]: 0}])
    >>> found = expected_information_gains(net, lam, target_joint(net, lam), [net.index["limping"]])
    >>> found.gains.shape, float(found.gains[1, 0]) < 1e-12 < float(found.gains[0, 0])
    ((2, 1), True)
    """
    candidates = tuple(candidates)
    rows = lam.shape[0]
    measure = gain_measure(net)
    if not candidates:
        return Gains((), np.zeros((rows, 0)), np.zeros((rows, 0)), measure)
    if measure == "joint":
        return _joint_gains(net, lam, tj, candidates)
    found = [marginal_gains(net, lam[r : r + 1], candidates) for r in range(rows)]
    return Gains(candidates, np.stack([g for g, _ in found]), np.stack([h for _, h in found]), measure)


def _joint_gains(net: CompiledNetwork, lam: np.ndarray, tj: TargetJoint, candidates: tuple[int, ...]) -> Gains:
    # Entropies need each entry exact relative to the joint, not to itself: a node's last state may be the rest's complement.
    # An answered candidate's rows may come back zero (answered_rows=False): its H(X) and H(T, X) are then 0, and
    # its gain, clipped to at most H(X), is 0 as it should be.
    stack = joint_with_targets(net, lam, tj, candidates, complement=True, answered_rows=False)   # (rows, n, card, K)
    answer = np.add.reduce(stack, axis=3)                          # (rows, n, card): P(X = x | e)
    if stack.size < SKIP_EMPTY_FROM:
        h_t, h_x, h_tx = _entropies_at_once(tj.joint, answer, stack)
    else:
        h_t = entropy(tj.joint)[:, None]
        h_x = entropy(answer)
        h_tx = _joint_entropies(stack, answer)
    # Rounding can leave a gain a hair outside [0, min(H(T), H(X))]; the exact value is inside.
    gains = h_t + h_x
    gains -= h_tx
    np.minimum(gains, np.minimum(h_x, h_t), out=gains)
    np.maximum(gains, 0.0, out=gains)     # ufuncs: np.clip's Python wrapper costs more than the work here
    return Gains(candidates, gains, h_x, "joint")


#: From this many entries the joint entropies skip the empty states of the candidates' joints (padding
#: past a node's cardinality, an answered node's other states): the logs dominate there, not the few calls
#: more (HEPAR II's entropies 1.26 -> 0.80 ms, ALARM's 154 -> 131 us).
SKIP_EMPTY_FROM = 8192


def _entropies_at_once(joint: np.ndarray, answer: np.ndarray, stack: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H(T) (rows, 1), H(X) and H(T, X) (rows, n) for a small ``stack`` (rows, n, card, K), its sums over K
    ``answer`` and the targets' ``joint``, from one buffer: one log and one segmented sum where three
    ``entropy`` calls take fifteen numpy calls (a third of a small ranking's entropy time is per call)."""
    rows, n, card, K = stack.shape
    p = np.concatenate((stack.reshape(rows, -1), answer.reshape(rows, -1), joint), axis=1)
    logs = np.maximum(p, _FLOOR)
    np.log(logs, out=logs)
    logs *= p
    sums = np.add.reduceat(logs, _segments(n, card, K), axis=1)    # (rows, 2n + 1): H(T, X)s, H(X)s, H(T)
    sums *= _MINUS_ONE_OVER_LN2
    return sums[:, 2 * n :], sums[:, n : 2 * n], sums[:, :n]


@functools.lru_cache(maxsize=256)
def _segments(n: int, card: int, K: int) -> np.ndarray:
    """Where each candidate's joint, each candidate's answer and the targets' joint start in
    ``_entropies_at_once``'s buffer (read-only)."""
    starts = np.concatenate((np.arange(n) * (card * K), n * card * K + np.arange(n + 1) * card)).astype(np.intp)
    starts.setflags(write=False)
    return starts


def _joint_entropies(stack: np.ndarray, answer: np.ndarray) -> np.ndarray:
    """H(T, X) for each row and candidate of ``stack`` (rows, n, card, K), given ``answer`` = its sum
    over K; a state with no mass adds nothing, so where the stack is large only the others' logs are taken."""
    rows, n, card, K = stack.shape
    if stack.size < SKIP_EMPTY_FROM:
        return entropy(stack.reshape(rows, n, card * K))
    live = np.flatnonzero(answer.reshape(-1) > 0.0)            # (row, candidate, state) with some mass
    per_state = entropy(stack.reshape(-1, K)[live])
    return np.bincount(live // card, weights=per_state, minlength=rows * n).reshape(rows, n)


def marginal_gains(net: CompiledNetwork, lam: np.ndarray, candidates: tuple[int, ...],
                   clamp: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Sum over targets of I(T_j; X) for one evidence row, and H(X): one batched pass with some nodes clamped.

    Mutual information is symmetric, so either side may be clamped: each
    candidate to each of its states, reading the targets' marginals in
    every row (``clamp="candidates"``), or each target to each of its
    states, reading every candidate's marginal (``"targets"``). ``"auto"``
    clamps the side with fewer states: on MUNIN (10 targets, 1,031 other
    nodes) 44 rows instead of 5,607. A candidate already answered in the
    row (one state left) gains nothing and is not clamped; a softly answered
    one stays open.

    >>> import kneebayes
    >>> from kneebayes.inference.posterior import encode
    >>> net = kneebayes.Model(kneebayes.load_model().spec, joint_limit=1).network   # targets not enumerated
    >>> lam = encode(net, [{}])
    >>> limping = net.index["limping"]
    >>> by_targets = marginal_gains(net, lam, (limping,), clamp="targets")
    >>> by_candidates = marginal_gains(net, lam, (limping,), clamp="candidates")
    >>> bool(abs(by_targets[0][0] - by_candidates[0][0]) < 1e-12 < by_targets[0][0])
    True
    """
    if clamp not in ("auto", "targets", "candidates"):
        raise SettingError(f"clamp must be 'auto', 'targets' or 'candidates', not {quote(clamp)}")
    # Answered: one state left. A soft answer leaves its question open, and it gains what the definition says
    answered = {c for c in candidates if np.count_nonzero(lam[0, c, : net.cards[c]]) <= 1}
    open_ = [c for c in candidates if c not in answered]
    if clamp == "auto":
        by_targets = sum(net.cards[t] for t in net.targets) < sum(net.cards[c] for c in open_)
        clamp = "targets" if by_targets else "candidates"
    if clamp == "targets":
        gain_of, h_x_of = _gains_by_target_clamps(net, lam, open_)
    else:
        gain_of, h_x_of = _gains_by_candidate_clamps(net, lam, open_)
    gains = [0.0 if c in answered else min(max(gain_of[c], 0.0), h_x_of[c] * len(net.targets)) for c in candidates]
    return np.array(gains), np.array([h_x_of.get(c, 0.0) for c in candidates])


def _clamped_rows(net: CompiledNetwork, lam: np.ndarray, nodes: Sequence[int]) -> np.ndarray:
    """Row 0: the evidence as it is; then one row per (node, state), the node's likelihood kept at that state only."""
    clamps = [(v, x) for v in nodes for x in range(net.cards[v])]
    big = np.repeat(lam, len(clamps) + 1, axis=0)
    for s, (v, x) in enumerate(clamps, 1):
        keep = big[s, v, x]
        big[s, v, :] = 0.0
        big[s, v, x] = keep
    return big


def _check_rows(net: CompiledNetwork, big: np.ndarray, clamped: Sequence[int], asked: Sequence[int]) -> None:
    """On a bipartite noisy-OR network, every one of ``big``'s evidence sets (:func:`_clamped_rows` of ``clamped``)
    planned before any is answered, as a ranking asks them (the chances of ``asked``, or the targets'
    posteriors): where one passes the memory budget or the work limit, the ranking is refused whole, at once,
    with an IntractableError saying which evidence set it is. Elimination plans once for all rows."""
    if net.bipartite is None:
        return
    clamps = [(v, x) for v in clamped for x in range(net.cards[v])]

    def describe(row: int) -> str:
        v, x = clamps[row - 1] if row else (-1, -1)
        which = "the evidence as given" if row == 0 else \
            f"the evidence with {quote(net.names[v])} = {quote(net.states[v][x])}"
        return f"ranking the questions weighs {len(big)} evidence sets; this one is {which}"

    bipartite_queries.check_rows(net, big, asked, describe)


def _state_weights(log_evidence: np.ndarray, rows: slice) -> np.ndarray:
    """P(node = x | evidence) for a clamped node's rows, from each row's log P(evidence, node = x)."""
    weight = np.zeros(rows.stop - rows.start)
    part = log_evidence[rows]
    finite = np.isfinite(part)
    weight[finite] = np.exp(part[finite] - log_evidence[0])
    total = weight.sum()
    # an impossible row (its evidence of probability zero) has no states to weigh: zeros, not 0 / 0
    return weight / total if total > 0.0 else weight


def _gains_by_candidate_clamps(net: CompiledNetwork, lam: np.ndarray, open_: Sequence[int]
                               ) -> tuple[dict[int, float], dict[int, float]]:
    """Per open candidate: sum_j H(T_j) - sum_x P(x) H(T_j | x), and H(X)."""
    big = _clamped_rows(net, lam, open_)
    _check_rows(net, big, open_, ())                            # the targets' posteriors of each row
    h_rows = np.zeros(len(big))                                 # sum over targets of H(T_j | row)
    log_evidence = np.full(len(big), -np.inf)
    step = _rows_per_pass(net)
    for start in range(0, len(big), step):                      # passes within the memory budget
        part = big[start : start + step]
        tj = target_joint(net, part)
        possible = np.flatnonzero(np.isfinite(tj.log_evidence))  # rows whose answer can happen
        joints = node_target_joints(net, part[possible], tj.take(possible), net.targets)
        for t in net.targets:
            h_rows[start + possible] += entropy(joints[t].sum(axis=1))
        log_evidence[start : start + len(part)] = tj.log_evidence
    gains, h_xs = {}, {}
    start = 1
    for c in open_:
        rows = slice(start, start + net.cards[c])
        p_x = _state_weights(log_evidence, rows)
        h_xs[c] = float(entropy(p_x))
        gains[c] = h_rows[0] - float(p_x @ h_rows[rows])
        start += net.cards[c]
    return gains, h_xs


def _gains_by_target_clamps(net: CompiledNetwork, lam: np.ndarray, open_: Sequence[int]
                            ) -> tuple[dict[int, float], dict[int, float]]:
    """Per open candidate: sum_j [H(X) - sum_t P(T_j = t) H(X | T_j = t)], and H(X)."""
    big = _clamped_rows(net, lam, net.targets)
    _check_rows(net, big, net.targets, open_)                   # the candidates' chances in each row
    h_rows = np.zeros((len(big), len(open_)))                   # H(X | row) per candidate
    log_evidence = np.full(len(big), -np.inf)
    step = _rows_per_pass(net)
    for start in range(0, len(big), step):
        part = big[start : start + step]
        tj = target_joint(net, part)
        possible = np.flatnonzero(np.isfinite(tj.log_evidence))
        if open_ and len(possible):
            found = marginals(net, part[possible], tj.take(possible), open_)
            for n, c in enumerate(open_):
                h_rows[start + possible, n] = entropy(found[c])
        log_evidence[start : start + len(part)] = tj.log_evidence
    total = np.zeros(len(open_))
    start = 1
    for t in net.targets:
        rows = slice(start, start + net.cards[t])
        total += h_rows[0] - _state_weights(log_evidence, rows) @ h_rows[rows]
        start += net.cards[t]
    return ({c: float(total[n]) for n, c in enumerate(open_)},
            {c: float(h_rows[0, n]) for n, c in enumerate(open_)})


# Per batch row a component's pass holds its plan's largest table several times over (the forward
# values, the backward sweep's gradients, the clamped copies): rows are sized for this many.
_COPIES_PER_ROW = 8


#: A batch of clamped rows shares the fixed plan's calls. Where the memory budget lets a pass take fewer rows than
#: this, the fixed plan's tables are so large that each row runs alone instead, on its own pruned plan (the
#: evidence and the clamp cut out of every table), which a batch cannot take. A ranking's marginal gains, batched
#: -> row by row (ms, two or three evidence sets): MILDEW (5 rows a pass) 471-552 -> 95-117, WATER (9) 1,079-2,265 ->
#: 909-1,215, BARLEY (2) 8,535-8,968 -> 5,382-6,056; but MUNIN4 (13) 5,041-7,766 -> 9,753-10,044, MUNIN (16)
#: 6,389-9,242 -> 13,529-13,707, PIGS (94) 483-621 -> 1,946-1,992.
BATCH_ROWS_AT_LEAST = 12


def _rows_per_pass(net: CompiledNetwork) -> int:
    """How many clamped rows one pass may take so that every component stays within the memory budget; one
    where that is fewer than ``BATCH_ROWS_AT_LEAST``."""
    largest = max((comp.largest * math.prod(comp.full_shape) for comp in net.components), default=1.0)
    rows = int(net.memory_budget // (8 * _COPIES_PER_ROW * max(largest, float(net.n_joint * net.max_card))))
    return rows if rows >= BATCH_ROWS_AT_LEAST else 1
