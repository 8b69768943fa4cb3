"""The dynamic programme over switched-on sets: a group of positive findings answered from non-negative terms only.

The state at a step is the set of open positives switched on; run forward
and backward over the group's parent causes, in log space, it gives
P(evidence) and every cause's posterior without cancellation, and, row by
row, the chances of the findings asked about. :func:`schedule_within`
plans the order (or its floor, where no order fits the budget);
``inference.bipartite`` chooses between this and Quickscore
(``inference.quickscore``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bipartite_evidence import BYTES, EPS, HUGE_BITS, Query, Tilts


def dp_bytes(k: int, r: int, findings: bool) -> int:
    """The DP's memory at worst: every one of ``r`` steps with all ``k`` positives open."""
    return ((2 * r if findings else r) + 6) * (1 << k) * BYTES


def dp_need(plan: Schedule, findings: bool) -> int:
    """The DP's memory for ``plan``: the stored forward vectors (and backward ones for findings), working vectors."""
    stored = float(plan.sizes.sum()) * (2 if findings else 1)
    return int((stored + 6.0 * 2.0 ** min(len(plan.widest), HUGE_BITS)) * BYTES)


# ---------------------------------------------------------------------------------
# Moves on the state vectors (rows of logs over the switched-on sets)
# ---------------------------------------------------------------------------------


def _switch(v: np.ndarray, bit: int, log_w: float, log_1mw: float) -> np.ndarray:
    """Forward: positive ``bit`` switched on with probability w (rows of log vectors over states)."""
    v3 = v.reshape(v.shape[0], -1, 2, 1 << bit)
    out = np.empty_like(v3)
    np.logaddexp(v3[:, :, 1, :], log_w + v3[:, :, 0, :], out=out[:, :, 1, :])
    np.add(v3[:, :, 0, :], log_1mw, out=out[:, :, 0, :])
    return out.reshape(v.shape)


def _switch_back(b: np.ndarray, bit: int, log_w: float, log_1mw: float) -> np.ndarray:
    """Backward (the transpose of :func:`_switch`)."""
    b3 = b.reshape(b.shape[0], -1, 2, 1 << bit)
    out = np.empty_like(b3)
    out[:, :, 1, :] = b3[:, :, 1, :]
    np.logaddexp(log_1mw + b3[:, :, 0, :], log_w + b3[:, :, 1, :], out=out[:, :, 0, :])
    return out.reshape(b.shape)


def _open(v: np.ndarray, off: float, on: float) -> np.ndarray:
    """A new top bit, set by its leak alone (log)."""
    return np.concatenate([v + off, v + on], axis=1)


def _unopen(b: np.ndarray, off: float, on: float) -> np.ndarray:
    """Backward: the top bit summed out under its leak (log)."""
    half = b.shape[1] // 2
    return np.logaddexp(off + b[:, :half], on + b[:, half:])


def _close(v: np.ndarray, bit: int, on: float = 0.0, off: float = -np.inf) -> np.ndarray:
    """Drop ``bit`` (no later cause can switch it): its states weighed ``on`` and ``off`` (logs) and added. A
    positive keeps the states where it is on; a soft answer weighs both by its likelihoods."""
    v4 = v.reshape(v.shape[0], -1, 2, 1 << bit)
    if off == -np.inf:
        kept = v4[:, :, 1, :] if on == 0.0 else on + v4[:, :, 1, :]
        return kept.reshape(v.shape[0], -1)
    return np.logaddexp(on + v4[:, :, 1, :], off + v4[:, :, 0, :]).reshape(v.shape[0], -1)


def _unclose(b: np.ndarray, bit: int, on: float = 0.0, off: float = -np.inf) -> np.ndarray:
    """Backward (the transpose of :func:`_close`): ``bit`` put back, each of its states weighed (for a positive, a
    state with it off cannot reach the evidence: log 0)."""
    rows = b.shape[0]
    out = np.empty((rows, b.shape[1] // (1 << bit), 2, 1 << bit))
    back = b.reshape(rows, -1, 1 << bit)
    np.add(back, on, out=out[:, :, 1, :])
    np.add(back, off, out=out[:, :, 0, :])
    return out.reshape(rows, -1)


# ---------------------------------------------------------------------------------
# The order
# ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Schedule:
    """The DP's order over a group's parent causes, and which positives are open at each step.

    A positive is *open* from its first parent in the order (before it, only
    its leak can have switched it on: a factor apart) to its last (after
    it, only its "on" states can still meet the evidence). The state at a
    step is the set of open positives switched on, so its size is
    ``2^open``, not ``2^k``; the order is chosen greedily to keep few open.
    """

    order: tuple[int, ...]                                   # dplus positions, in processing order
    opens: tuple[tuple[int, ...], ...]                       # per step: positives opened before it (new top bits)
    closes: tuple[tuple[int, ...], ...]                      # per step: bits closed after it, highest first
    closing: tuple[tuple[int, ...], ...]                     # per step: the positives of those bits
    live: tuple[tuple[int, ...], ...]                        # per step: the open positives, bit 0 first
    switches: tuple[tuple[tuple[int, float, float], ...], ...]  # per step: (bit, log w, log (1 - w))
    idle: tuple[int, ...]                                    # positives with no parent here: their leak alone
    # Not an order but its floor (``schedule_within``): one step, the positives of the cause with the most,
    # open at once in any order; set where even that passes the budget, so no order is planned
    floor: bool = False

    @property
    def sizes(self) -> np.ndarray:
        """Each step's state size, ``2^open``."""
        # past HUGE_BITS open positives a state is past any budget: priced as that many (a float holds 2^1023)
        return np.array([2.0 ** min(len(live), HUGE_BITS) for live in self.live])

    @property
    def widest(self) -> tuple[int, ...]:
        """The positives open at the widest step (what the memory budget's error names)."""
        return max(self.live, key=len, default=())

    @property
    def step_of(self) -> np.ndarray:
        """Each parent cause's step in the order, by its position in ``dplus``."""
        out = np.empty(len(self.order), dtype=np.int64)
        out[list(self.order)] = np.arange(len(self.order))
        return out


def schedule_within(q: Query, memory_budget: int) -> Schedule:
    """``_schedule``, or its floor where the DP could not fit the budget whatever its order: a cause's positive
    children are all open at its step, so the cause with the most of them bounds every order's widest state.
    Planning an order costs about ``k^2 r`` set operations (200 positives under 600 shared causes: 13 s to
    refuse); the floor costs one count."""
    edge = q.log_w > -np.inf
    if q.r:
        j = int(np.add.reduce(edge, axis=0).argmax())
        widest = tuple(np.flatnonzero(edge[:, j]).tolist())
        if 6 * (1 << len(widest)) * BYTES > memory_budget:
            return Schedule((j,), (widest,), ((),), ((),), (widest,), ((),), (), floor=True)
    return _schedule(q)


def _schedule(q: Query) -> Schedule:
    """Greedy: next, the positive whose remaining parents open the fewest new positives; its own parents first."""
    edge = q.log_w > -np.inf
    children = [tuple(np.flatnonzero(edge[:, j]).tolist()) for j in range(q.r)]
    causes = [set(np.flatnonzero(edge[i]).tolist()) for i in range(q.k)]
    idle = tuple(i for i in range(q.k) if not causes[i])
    done: set[int] = set()
    opened: set[int] = set()
    closed = set(idle)
    live: list[int] = []
    order, opens, closes, closing, lives, switches = [], [], [], [], [], []
    while len(closed) < q.k:
        def score(i: int) -> tuple[int, int, int]:
            rest = causes[i] - done
            touched = set().union(*(children[j] for j in rest)) | {i}
            return (len(live) + len(touched - opened), len(rest), i)

        pick = min((i for i in range(q.k) if i not in closed), key=score)
        for j in sorted(causes[pick] - done, key=lambda j: (len(children[j]), j)):
            new = tuple(i for i in children[j] if i not in opened)
            opened.update(new)
            live.extend(new)
            order.append(j)
            opens.append(new)
            lives.append(tuple(live))
            switches.append(tuple((live.index(i), float(q.log_w[i, j]), float(q.log_1mw[i, j])) for i in children[j]))
            done.add(j)
            ending = sorted((live.index(i) for i in children[j] if causes[i] <= done), reverse=True)
            closes.append(tuple(ending))
            closing.append(tuple(live[bit] for bit in ending))
            for bit in ending:
                closed.add(live.pop(bit))
    return Schedule(tuple(order), tuple(opens), tuple(closes), tuple(closing), tuple(lives), tuple(switches), idle)


# ---------------------------------------------------------------------------------
# The passes
# ---------------------------------------------------------------------------------


def _logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(sum(exp(x))) along ``axis``; -inf where every entry is -inf (no warning, no NaN)."""
    top = np.max(x, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - safe), axis=axis, keepdims=True)) + safe
    return np.squeeze(out, axis=axis)


def dp(q: Query, fe: Tilts | None, plan: Schedule, memory_budget: int,
        soft_out: dict[int, tuple[float, float]] | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """(log P(positives | negatives), posteriors of dplus present and absent, tilt ratios of the findings, error
    bound). With ``soft_out``, each softly answered finding's P(yes | evidence) and P(no | evidence) go there:
    its two states' shares where it closes, from the forward vector just before and the backward one after."""
    v = np.zeros((1, 1))
    alphas = []
    kept: dict[int, np.ndarray] = {}     # a soft answer's forward vector just before it closes
    for t, j in enumerate(plan.order):
        for i in plan.opens[t]:
            v = _open(v, q.leak_off[i], q.leak_on[i])
        alphas.append(v[0])
        present = v
        for bit, lw, l1w in plan.switches[t]:
            present = _switch(present, bit, lw, l1w)
        v = np.logaddexp(q.plus_q[j] + v, q.plus_p[j] + present)
        for bit, i in zip(plan.closes[t], plan.closing[t]):
            if soft_out is not None and q.close_off[i] > -np.inf:
                kept[i] = v
            v = _close(v, bit, q.close_on[i], q.close_off[i])
    log_bits = float(v[0, 0])
    log_e = log_bits
    if plan.idle:   # positives with no parent here: their leak alone, weighed as they close
        idle = list(plan.idle)
        log_e += float(np.logaddexp(q.close_on[idle] + q.leak_on[idle], q.close_off[idle] + q.leak_off[idle]).sum())
    if log_e == -np.inf:
        return log_e, np.zeros(q.r), np.zeros(q.r), np.zeros(0), 0.0
    if soft_out is not None:
        for i in plan.idle:   # its leak alone: a leak, b (1 - leak)
            if q.close_off[i] > -np.inf:
                on, off = q.close_on[i] + q.leak_on[i], q.close_off[i] + q.leak_off[i]
                both = np.logaddexp(on, off)
                soft_out[int(q.positive[i])] = (float(np.exp(on - both)), float(np.exp(off - both)))
    betas: list[np.ndarray] = []
    b = np.zeros((1, 1))
    joint = np.empty(q.r)
    joint_no = np.empty(q.r)   # the absent branch, summed in its own right: 1 - P(yes) loses its digits near 1
    for t in reversed(range(len(plan.order))):
        j = plan.order[t]
        for bit, i in zip(reversed(plan.closes[t]), reversed(plan.closing[t])):
            if i in kept and soft_out is not None:
                v4, b3 = kept[i].reshape(-1, 2, 1 << bit), b.reshape(-1, 1 << bit)
                on = q.close_on[i] + _logsumexp((v4[:, 1, :] + b3).reshape(-1))
                off = q.close_off[i] + _logsumexp((v4[:, 0, :] + b3).reshape(-1))
                # each share of the whole: rounding may land a hair past 1
                soft_out[int(q.positive[i])] = (min(float(np.exp(on - log_bits)), 1.0),
                                                min(float(np.exp(off - log_bits)), 1.0))
            b = _unclose(b, bit, q.close_on[i], q.close_off[i])
        betas.append(b[0])
        tb = b
        for bit, lw, l1w in plan.switches[t]:
            tb = _switch_back(tb, bit, lw, l1w)
        joint[j] = q.plus_p[j] + _logsumexp(alphas[t] + tb[0])
        joint_no[j] = q.plus_q[j] + _logsumexp(alphas[t] + b[0])
        b = np.logaddexp(q.plus_q[j] + b, q.plus_p[j] + tb)
        for i in reversed(plan.opens[t]):
            b = _unopen(b, q.leak_off[i], q.leak_on[i])
    betas.reverse()
    ratios = np.zeros(0)
    if fe is not None:
        ratios = _dp_findings(q, fe, plan, alphas, betas, log_bits, memory_budget)
    bound = 16.0 * EPS * (q.r + q.k + 2) * (1.0 + abs(log_e))
    return log_e, np.exp(joint - log_bits), np.exp(joint_no - log_bits), ratios, bound


def _dp_findings(q: Query, fe: Tilts, plan: Schedule, alphas: list[np.ndarray], betas: list[np.ndarray],
                 log_bits: float, memory_budget: int) -> np.ndarray:
    """E[prod over f's parents here of (1 - w)^present | evidence] for each finding with such parents.

    Each finding's row joins the sweep at its first parent and leaves after
    its last; in between the present branch of its parents is tilted by
    (1 - w). A row is held as its ratio to the untilted forward vector, a
    number in [0, 1] per state: every step is then a convex mixing with
    weights taken once from the (log-space) forward vectors, shared by all
    rows, in plain arithmetic; on leaving, the ratio is averaged under the
    posterior over states. Non-negative terms throughout, and no underflow
    however small P(evidence) is.
    """
    h = len(fe.rows)
    out = np.empty(h)
    if not h:
        return out
    step = plan.step_of[fe.column]
    first, last = np.minimum.reduceat(step, fe.starts), np.maximum.reduceat(step, fe.starts)
    owner = np.repeat(np.arange(h), np.diff(np.append(fe.starts, len(step))))
    room = max(memory_budget - dp_need(plan, True), 0)
    group = int(max(1, min(h, room // (4 * (1 << len(plan.widest)) * BYTES))))
    by_first = np.argsort(first, kind="stable")
    for g0 in range(0, h, group):
        members = by_first[g0:g0 + group]
        slot = np.full(h, -1)
        slot[members] = np.arange(len(members))
        mine = slot[owner] >= 0
        tilt = np.ones((len(members), len(plan.order)))      # (member, step) -> 1 - w of its parent there
        tilt[slot[owner[mine]], step[mine]] = np.exp(fe.log_1mw[mine])
        m_first, m_last = first[members], last[members]
        ratio = np.empty((0, 1))
        active = np.zeros(0, dtype=np.int64)                 # member slots of the rows, in order
        for t in range(int(m_first.min()), int(m_last.max()) + 1):
            j = plan.order[t]
            joining = np.flatnonzero(m_first == t)
            if len(active):
                for _ in plan.opens[t]:
                    ratio = np.concatenate([ratio, ratio], axis=1)   # a new bit, set by its leak alone
            if len(joining):
                fresh = np.ones((len(joining), len(alphas[t])))
                ratio = np.concatenate([ratio, fresh]) if len(active) else fresh
                active = np.concatenate([active, joining])
            if not len(active):
                continue
            before = alphas[t][None, :]
            present = ratio.copy()
            for bit, lw, l1w in plan.switches[t]:
                after = _switch(before, bit, lw, l1w)
                a3, b3 = before.reshape(-1, 2, 1 << bit), after.reshape(-1, 2, 1 << bit)
                keep, gain = _shares(a3[:, 1, :], lw + a3[:, 0, :], b3[:, 1, :])
                p3 = present.reshape(len(active), -1, 2, 1 << bit)
                on = p3[:, :, 1, :]
                on *= keep                                   # in place: rows are the bulk of the work
                on += gain * p3[:, :, 0, :]
                before = after
            nxt = np.logaddexp(q.plus_q[j] + alphas[t], q.plus_p[j] + before[0])
            stay, move = _shares(q.plus_q[j] + alphas[t], q.plus_p[j] + before[0], nxt)
            ratio *= stay
            present *= move
            present *= tilt[active, t][:, None]
            ratio += present
            leaving = m_last[active] == t
            if leaving.any():
                weight = np.exp(nxt + betas[t] - log_bits)    # the posterior over switched-on sets after this step
                out[members[active[leaving]]] = ratio[leaving] @ weight
                ratio, active = ratio[~leaving], active[~leaving]
            if len(active):
                for bit, i in zip(plan.closes[t], plan.closing[t]):
                    if q.close_off[i] == -np.inf:   # a positive: its "on" states go on
                        ratio = _close(ratio, bit)
                        nxt = _close(nxt[None, :], bit, q.close_on[i])[0]
                        continue
                    # a soft answer: each state's ratio becomes the two states' ratios, mixed as their weights mix
                    v4 = nxt.reshape(-1, 2, 1 << bit)
                    after = np.logaddexp(q.close_on[i] + v4[:, 1, :], q.close_off[i] + v4[:, 0, :])
                    w_on, w_off = _shares(q.close_on[i] + v4[:, 1, :], q.close_off[i] + v4[:, 0, :], after)
                    r4 = ratio.reshape(len(active), -1, 2, 1 << bit)
                    ratio = (r4[:, :, 1, :] * w_on + r4[:, :, 0, :] * w_off).reshape(len(active), -1)
                    nxt = after.reshape(-1)
    return out


def _shares(x: np.ndarray, y: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(x - total) and exp(y - total), where total = logaddexp(x, y): the two parts' shares (1, 0 where both are 0)."""
    alive = total > -np.inf
    safe = np.where(alive, total, 0.0)
    return np.where(alive, np.exp(x - safe), 1.0), np.where(alive, np.exp(y - safe), 0.0)
