"""A component's value for one evidence set from the ancestors of its evidence alone.

See ``network.pruned_plan``. Plans are built on first use of an evidence
pattern (which nodes are relevant, which observed) and cached on the
component; building one is a few dozen microseconds, a fraction of what
the full plan costs on the components where pruning is switched on.
"""

from __future__ import annotations

import math
import struct
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..network.backward_plan import CALL_WORK, LETTERS
from ..network.compiled import Component
from ..network.contraction import einsum_of_many
from ..network.einsum_steps import MAX_OPERANDS
from ..network.pruned_plan import (
    TARGET_AXES_QUICK_ENOUGH,
    BucketPlan,
    Buckets,
    Pruning,
    bucket_plan,
    choose_buckets,
    einsum_subscripts,
    labels,
    note_planned,
    planning_pays,
    targets_last,
    unless_declined,
)

_MAX_PLANS = 4096
#: Up to this many multiply-adds (every variable's states multiplied, times the tables), a pattern runs as one
#: plain einsum over all its tables, unplanned: on Pathfinder's patterns (a leaf's few ancestors, the 63 faults
#: last) one call took 0.9-2.4 us where the planned steps took 1.2-3.4, and the plan itself about 12 us more.
ONE_CALL_WORK = 8192
_SMALL = 1e-4   # a careful bucket pass rescales a message whose largest entry is below this
#: A value at least this large cannot hide a posterior above 1e-300 that underflowed (below 2.2e-308) in a pass
#: that multiplies plainly; below it the pass is run again with every message rescaled.
HIDDEN_UNDERFLOW = 2.3e-8
# With the targets' axes last on every table an entry costs about a nanosecond, a fifth of a bucket pass's
# (LINK: an order search priced at a bucket pass's rate took 270 ms to save nothing on a 150 ms pattern).
TARGET_AXES_ENTRY_COST = 0.2
#: From this fixed-plan work on, a pattern whose relevant nodes are too many for a pruned run to pay by their count
#: (``Pruning.worth_it``) is planned all the same and judged by its planned work: cutting the observed axes out can
#: shrink the tables far more than dropping nodes does (WATER, four targets mid-network: 21 of 28 nodes relevant,
#: the fixed plan 20 ms, the planned one 1-3 ms). ``planning_pays`` stops it where such plans keep not paying.
PLAN_ANYWAY_WORK = 1e6


class _Plan(NamedTuple):   # immutable, and cheap to build once per pattern
    tables: tuple[tuple[np.ndarray, tuple[tuple[int, int], ...]], ...]  # (table, (axis, observed position) per cut)
    steps: tuple[tuple[tuple[int, ...], str], ...]  # (input slots, subscripts); each output is the next slot
    result: int
    shape: tuple[int, ...]                         # the result's axes: card or 1 per enumerated target
    work: float = 0.0                              # its estimated cost, in ``Pruning.full_work``'s units
    soft: tuple[tuple[int, int], ...] = ()         # (position, card) per soft answer: its likelihoods, after the tables


def _plan_for(pr: Pruning, observed: np.ndarray, cards: tuple[int, ...], max_entries: float,
              gated: bool = True, soft: tuple[int, ...] = ()) -> _Plan | str:
    """The plan of one evidence pattern: the observed nodes' ancestors are relevant (every other node is barren);
    evidence is instantiated (each observed axis sliced at its state), then the unobserved relevant nodes
    summed out in the order ``choose_buckets`` gives. Declined when that order builds a table past
    ``max_entries`` or costs more than the fixed plan, or unplanned when the relevant nodes are too many by
    their count, unless the fixed plan is expensive (``PLAN_ANYWAY_WORK``); there, while planning has not been
    paying (``planning_pays``, asked only where ``gated``), left unplanned. Every table and message keeps the
    targets' axes last (``targets_last``). The ``soft`` positions (among the observed) are answered softly:
    not sliced but summed, their likelihood vectors multiplied in."""
    obs = observed.nonzero()[0].tolist()
    bits = pr.always_bits
    for i in obs:
        bits |= pr.ancestor_bits[i]
    if not bits:
        return _UNREACHED
    n_rel = bits.bit_count()
    if pr.worth_it(n_rel):
        return _planned(pr, obs, cards, max_entries, bits, n_rel, soft)
    if pr.full_work < PLAN_ANYWAY_WORK:
        return _DECLINED
    if gated and not planning_pays(pr, cards, bool(soft)):
        return _UNPLANNED
    plan = _planned(pr, obs, cards, max_entries, bits, n_rel, soft)
    note_planned(pr, cards, plan.work if isinstance(plan, _Plan) else math.inf, bool(soft))
    return plan


def _planned(pr: Pruning, obs: list[int], cards: tuple[int, ...], max_entries: float, bits: int,
             n_rel: int, soft: tuple[int, ...] = ()) -> _Plan | str:
    """``_plan_for``'s plan once the relevant nodes (``bits``, ``n_rel`` of them; ``obs`` the observed positions)
    are worth planning for."""
    rel = []
    while bits:
        low = bits & -bits
        rel.append(low.bit_length() - 1)
        bits ^= low
    lab = labels(pr, cards)
    node, factor, position = lab.node, lab.factor, lab.position
    all_tables, _ = targets_last(pr)
    seen = {node[i] for i in obs if i not in soft}
    tables = []
    scopes: list[str] = []
    hidden = [node[i] for i in rel if node[i] not in seen]   # instantiated nodes are sliced, not summed
    for i in rel + list(pr.extra):
        for f in pr.owned[i]:
            scope = factor[f]
            if seen.isdisjoint(scope):
                scopes.append(scope)
                tables.append((all_tables[f], ()))
            else:
                scopes.append("".join(u for u in scope if u not in seen))
                tables.append((all_tables[f], tuple((axis, position[u]) for axis, u in enumerate(scope) if u in seen)))
    soft_items = tuple((i, cards[i]) for i in soft)
    scopes.extend(node[i] for i in soft)   # each soft answer's likelihoods, one vector over its node
    if lab.hidden:
        hidden.extend(lab.hidden.intersection("".join(scopes)))
    axes = set("".join(scopes))
    points = math.prod(map(lab.card.__getitem__, axes))
    work = points * len(scopes)
    if (work <= ONE_CALL_WORK and len(scopes) <= MAX_OPERANDS and len(axes) <= len(LETTERS)
            and pr.worth_it(n_rel, work + CALL_WORK)):
        # So small that one plain einsum over every table beats an order's steps, and planning them
        present = "".join(t for t in lab.targets if t in axes)
        step = (tuple(range(len(scopes))), einsum_subscripts(scopes, present, "".join(sorted(axes))))
        return _Plan(tuple(tables), (step,), len(scopes), _shape(pr, lab.targets, present), work + CALL_WORK,
                     soft_items)

    def declined(found: Buckets) -> bool:
        return (found.largest > max_entries or max(map(len, found.cliques), default=0) > len(LETTERS)
                or not pr.worth_it(n_rel, 2.0 * found.total + CALL_WORK * len(found.order)))

    buckets = unless_declined(pr, cards, hidden, scopes,
                              choose_buckets(pr, cards, hidden, scopes, TARGET_AXES_QUICK_ENOUGH, TARGET_AXES_ENTRY_COST),
                              declined)
    if buckets is None:
        return _DECLINED
    steps = [(inputs, einsum_subscripts(in_scopes, clique[1:], clique))
             for (inputs, in_scopes), clique in zip(buckets.steps, buckets.cliques)]
    left = buckets.left
    present = "".join(t for t in lab.targets if any(t in vs for _, vs in left))
    result = len(scopes) + len(steps) - 1   # the slots: the tables, the soft answers' likelihoods, the messages
    if len(left) == 1 and left[0][1] == present:
        result = left[0][0]          # already the targets' table: nothing left to multiply
    else:
        steps.append((tuple(slot for slot, _ in left), einsum_subscripts([vs for _, vs in left], present, present)))
        result += 1
    return _Plan(tuple(tables), tuple(steps), result, _shape(pr, lab.targets, present),
                 2.0 * buckets.total + CALL_WORK * len(buckets.order), soft_items)


def _shape(pr: Pruning, targets: str, present: str) -> tuple[int, ...]:
    """A plan's result axes: each enumerated target's card where its label is ``present``, else 1."""
    return tuple(c if t in present else 1 for t, c in zip(targets, pr.target_cards))


_UNREACHED, _DECLINED, _UNPLANNED = "unreached", "declined", "unplanned"


def clamped_work(comp: Component, observed: np.ndarray, positions: np.ndarray) -> float:
    """The estimated work of pruned runs of one evidence set with each node at ``positions`` clamped in turn
    (one run per entry): each needs the ancestors of the evidence and of its clamped node. In the units
    of ``Pruning.full_work``.
    """
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - only called on components that have one
    base = pr.ancestors[observed].any(axis=0) | pr.always
    sizes = (base[None, :] | pr.ancestors[positions]).sum(axis=1)
    return float(sizes.sum()) * pr.node_work


def pruned_value(comp: Component, own: np.ndarray, observed: np.ndarray,
                 max_entries: float = math.inf, rows: int = 1) -> np.ndarray | None:
    """The component's value on the targets' joint, (1, K), for one evidence set.

    ``own``: the component's lam rows, (1, nodes, max card); ``observed``:
    which of its nodes are observed. None when the evidence
    reaches so much of the component that its fixed plan is cheaper. A
    hard answer cuts its node's axis at its one state; a soft one (a
    likelihood vector, or one state at a weight other than 1) keeps the
    axis, its likelihoods multiplied in. A value may underflow: see
    :func:`pruned_value_scaled`. ``rows``: how many rows of the caller's
    batch share this pattern (see :func:`_plan_of`).
    """
    found = _pattern(comp, own, observed, max_entries, rows)
    if found is None or isinstance(found, np.ndarray):
        return found
    return _run(comp, *found, None)


def pruned_value_scaled(comp: Component, own: np.ndarray, observed: np.ndarray,
                        max_entries: float = math.inf) -> tuple[np.ndarray, float] | None:
    """:func:`pruned_value` with every message rescaled by its largest entry: ``(value, log_scale)``, the
    value being ``value * exp(log_scale)``. For a value that came out below the caller's floor: an
    underflow comes back exact, and a value that is truly zero (a state the evidence rules out) comes
    back zero from the same small plan, where the fixed plan would take the whole component."""
    found = _pattern(comp, own, observed, max_entries)
    if found is None or isinstance(found, np.ndarray):
        return None if found is None else (found, 0.0)
    log_scale = [0.0]
    return _run(comp, *found, log_scale), log_scale[0]


def _pattern(comp: Component, own: np.ndarray, observed: np.ndarray,
             max_entries: float, rows: int = 1) -> tuple[_Plan, dict[int, int], np.ndarray] | np.ndarray | None:
    """One evidence row's plan (made once per pattern) and its observed states; the value itself where
    nothing reaches the component; None where the fixed plan runs instead (declined). A soft answer (a
    likelihood vector, or one state at a weight other than 1) is not cut but weighed: part of the pattern."""
    states, soft = split_answers(own, observed)
    plan = _plan_of(comp, observed, max_entries, rows, soft)
    if plan is _UNREACHED:
        return np.ones((1, math.prod(comp.full_shape)))   # nothing reaches it: its tables sum to exactly 1
    if not isinstance(plan, _Plan):
        return None              # the fixed plan is cheaper for this pattern
    return plan, states, own[0]


def split_answers(own: np.ndarray, observed: np.ndarray) -> tuple[dict[int, int], tuple[int, ...]]:
    """One row's observed positions split: the hard answers' states, and the soft answers' positions."""
    seen = np.flatnonzero(observed)
    states: dict[int, int] = {}
    soft: list[int] = []
    # A few short rows: Python's list methods answer sooner than numpy's calls (six of them took 11 us a call)
    for j, row in zip(seen.tolist(), own[0, seen].tolist()):
        if row.count(1.0) != 1 or row.count(0.0) != len(row) - 1:
            soft.append(j)
        else:
            states[j] = row.index(1.0)
    return states, tuple(soft)


def _rescaled(array: np.ndarray, log_scale: list[float]) -> np.ndarray | None:
    """``array`` divided by its largest entry in size (a new array: a table's cut, or a step that only
    reorders, may be a view of a kept table), that entry's log added to ``log_scale``; None where every
    entry is zero. Cut tables too: hundreds of answers cut to scalars meet in one product, which would
    underflow before any message."""
    if not array.size:
        return array
    top = float(np.abs(array).max())
    if top <= 0.0:
        return None
    if top == 1.0:
        return array
    log_scale[0] += math.log(top)
    return array / top


def _plan_of(comp: Component, observed: np.ndarray, max_entries: float, rows: int = 1,
             soft: tuple[int, ...] = ()) -> _Plan | str:
    """The plan of one evidence pattern, made on first sight and kept on the component (``Pruning.plans``):
    which nodes are ``observed``, and which of those answered softly (``soft``, positions in order).

    A pattern that ``rows`` rows of one batch share (a clamped node's states) is planned whatever
    ``planning_pays`` says, and so is one left unplanned before when it comes back so shared: its plan
    serves every row, where the fixed plan would run once a row (MILDEW, a 100-state node clamped in a
    ranking after a few unpaid plans: 100 runs of 6 ms)."""
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - only called on components that have one
    key: bytes | tuple[bytes, tuple[int, ...]] = observed.tobytes()   # the relevant nodes follow from the observed
    if soft:
        key = (key, soft)             # which answers are soft, too: their axes are summed, not cut
    plan = pr.plans.get(key)
    if plan is None or (plan is _UNPLANNED and rows > 1):
        plan = _plan_for(pr, observed, comp.cards, max_entries, gated=rows < 2, soft=soft)
        if len(pr.plans) >= _MAX_PLANS:
            pr.plans.clear()
        pr.plans[key] = plan
    return plan


def pattern_work(comp: Component, observed: np.ndarray, max_entries: float = math.inf,
                 soft: tuple[int, ...] = ()) -> float:
    """The estimated work of a pruned run of one evidence pattern (``observed``: which of the component's nodes
    are observed; ``soft``: which of those answered softly, in order), in ``Pruning.full_work``'s units: its
    plan's, made and kept as :func:`pruned_value` would make it; 0 where nothing reaches the component,
    ``math.inf`` where the pattern is declined. Sharper than :func:`clamped_work`'s count of nodes, which
    misses what cutting the observed axes saves, at the price of planning."""
    plan = _plan_of(comp, observed, max_entries, soft=soft)
    if plan is _UNREACHED:
        return 0.0
    return plan.work if isinstance(plan, _Plan) else math.inf


def _run(comp: Component, plan: _Plan, states: dict[int, int], row: np.ndarray, log_scale: list[float] | None
         ) -> np.ndarray:
    """A pattern's plan run on its observed ``states`` and the soft answers' likelihoods in ``row`` (the
    component's lam row, (nodes, max card)): the value, (1, K); with ``log_scale`` (one float, added
    to) every table and message is divided by its largest entry in size, and a table or message that is zero
    everywhere ends the run (the value is zero: WATER's rankings clamp states the answers rule out, a third
    of their rows, which then skip the rest of their plan)."""
    k = math.prod(comp.full_shape)
    slots: list[np.ndarray] = []
    for table, cut in plan.tables:
        if cut:
            index: list[object] = [slice(None)] * table.ndim
            for axis, j in cut:
                index[axis] = states[j]
            table = table[tuple(index)]
        if log_scale is not None:
            table = _rescaled(table, log_scale)
            if table is None:
                return np.zeros((1, k))
        slots.append(table)
    for j, card in plan.soft:
        weights = row[j, :card]
        if log_scale is not None:
            weights = _rescaled(weights, log_scale)
            if weights is None:
                return np.zeros((1, k))
        slots.append(weights)
    for inputs, subscripts in plan.steps:
        message = einsum_of_many(subscripts, *[slots[s] for s in inputs])
        if log_scale is not None:
            message = _rescaled(message, log_scale)
            if message is None:
                return np.zeros((1, k))
        slots.append(message)
    out = np.maximum(slots[plan.result], 0.0)   # a factorised noisy-OR subtracts: clip its rounding residue
    if plan.shape == comp.full_shape:
        return out.reshape(1, k)
    return np.broadcast_to(out.reshape((1, *plan.shape)), (1, *comp.full_shape)).reshape(1, k)


@dataclass(frozen=True, eq=False)
class BucketRun:
    """One evidence set's collect pass over a bucket plan: every slot (the cut tables and the messages), and the value.

    ``value * exp(log_scale)`` is the component's value (no targets on its axes: a scalar);
    :func:`bucket_marginals` takes the way back from here.
    """

    plan: BucketPlan
    slots: tuple[np.ndarray, ...]
    value: float
    log_scale: float                   # the value is ``value * exp(log_scale)``
    observed: dict[int, int]           # hard-observed position -> its state
    entries: float = 0.0               # entries of the messages kept
    rescaled: bool = True              # whether its messages were rescaled (the way back rescales too)


KEEP_ENTRIES = 4_194_304.0   # 32 MB of messages

# The last collect pass per component: a diagnosis asks for the value first and the targets' marginals
# next, on the same evidence. Kept beside the frozen component, dropped with it.
_LAST_RUN: weakref.WeakKeyDictionary[Component, tuple[bytes, BucketRun | None]] = weakref.WeakKeyDictionary()


def _patterns(own: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of one row's nodes are observed hard (one state left) and which softly (a likelihood vector)."""
    observed = (own != template).any(axis=1)
    hard = observed & ((own != 0.0).sum(axis=1) == 1)
    return hard, observed & ~hard


def bucket_value(comp: Component, own: np.ndarray, template: np.ndarray, wanted: np.ndarray,
                 max_entries: float = math.inf, than: float | None = None) -> BucketRun | None:
    """The collect pass of one evidence set over the relevant part of a component that touches no enumerated
    target, ready for the marginals of the ``wanted`` positions; None where pruning declines (the fixed plan
    is cheaper or the plan too large) or the value underflows (the fixed plan rescales).

    ``own``: the component's lam rows, (1, nodes, max card); ``template``:
    the same rows without evidence. ``than``: the cost of the caller's
    alternative, where it is not one run of the fixed plan (see ``bucket_plan``).
    """
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - only called on components that have one
    # Weighed against another alternative (a last resort), the same pattern may be decided otherwise: by its cost,
    # which the pattern's key and the kept pass's carry (else a decline against a cheap alternative would answer
    # a later call weighed against a dear one, and the answer would depend on the calls before)
    weighed = b"b" if than is None else _against(than)
    key = own.tobytes() + wanted.tobytes() + weighed
    last = _LAST_RUN.get(comp)
    if last is not None and last[0] == key:
        return last[1]
    hard, soft = _patterns(own[0], template)
    pattern = weighed + hard.tobytes() + soft.tobytes() + wanted.tobytes()
    plan = pr.plans.get(pattern)
    if plan is None or plan is _UNPLANNED:
        if plan is None and than is None and not planning_pays(pr, comp.cards):
            # The fixed plan this once; a pattern that comes again is planned (its plan then serves every repeat).
            pr.plans[pattern] = _UNPLANNED
            _LAST_RUN[comp] = (key, None)
            return None
        plan = bucket_plan(pr, comp.cards, hard, soft, wanted, max_entries, than) or _DECLINED
        if len(pr.plans) >= _MAX_PLANS:
            pr.plans.clear()
        pr.plans[pattern] = plan
    run = _collect(pr.tables, plan, own[0], hard) if isinstance(plan, BucketPlan) else None
    _LAST_RUN[comp] = (key, run)
    return run


def _against(than: float) -> bytes:
    """A pattern key's mark of the alternative its plan was weighed against (``than``, its cost): a plan declined
    against one cost may be taken against another."""
    return b"B" + struct.pack("<d", than)


def bucket_joints(comp: Component, own: np.ndarray, template: np.ndarray, wanted: np.ndarray,
                  max_entries: float, than: float) -> dict[int, np.ndarray] | None:
    """Each ``wanted`` position's (unanswered) joint with the targets its factors reach, for one evidence set
    of a component the targets touch: one bucket pass over the relevant part with the targets' axes kept,
    and the way back (``bucket_plan``'s ``targets``). Each array is over the node's states, then every
    enumerated target (1 where the node's tree does not reach it), up to a factor per state of those
    targets: normalised over the node, it is P(node | targets, evidence). None where the plan is declined
    (``than``: the cost of the caller's alternative). The products are plain: where a state of the targets
    has a value (the sum over the node) under ``HIDDEN_UNDERFLOW`` times its posterior, a joint above 1e-300
    may have been lost to underflow, and the caller takes another way.

    ``own``: the component's lam rows, (1, nodes, max card); ``template``: the same rows without evidence.
    """
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - only called on components that have one
    hard, soft = _patterns(own[0], template)
    pattern = b"T" + _against(than) + hard.tobytes() + soft.tobytes() + wanted.tobytes()   # its decision, by its cost
    plan = pr.plans.get(pattern)
    if plan is None:   # weighed against the caller's alternative, never against the fixed plan: no _UNPLANNED
        plan = bucket_plan(pr, comp.cards, hard, soft, wanted, max_entries, than, targets=True) or _DECLINED
        if len(pr.plans) >= _MAX_PLANS:
            pr.plans.clear()
        pr.plans[pattern] = plan
    if not isinstance(plan, BucketPlan):
        return None
    row = own[0]
    slots = _forward(targets_last(pr)[0], plan, row, {int(j): int(row[j].argmax()) for j in np.flatnonzero(hard)})
    incoming = _way_back(plan, slots, False)
    targets = labels(pr, comp.cards).targets
    out = {}
    for j in plan.marginals:
        joint = _at(plan, slots, incoming, j)
        out[j] = joint.reshape((joint.shape[0], *_shape(pr, targets, plan.kept[j])))
    return out


def family_plan(comp: Component, hard: np.ndarray, max_entries: float, than: float) -> BucketPlan | None:
    """The bucket plan of one hard-evidence pattern (``hard``: the observed positions) that reaches every factor
    the evidence leaves a hidden variable in (``bucket_plan``'s ``families``); None where declined (``than``:
    the cost of the caller's alternative) or where a factor is a noisy-OR's piece or holds an enumerated target.
    It holds no numbers: it serves every network of the same structure."""
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - only called on components that have one
    nothing = np.zeros_like(hard)
    return bucket_plan(pr, comp.cards, hard, nothing, nothing, max_entries, than, families=True)


class FamilyPosteriors(NamedTuple):
    """What :func:`family_posteriors` finds for one evidence row."""

    posteriors: dict[int, np.ndarray]  # by a factor's slot in ``plan.factors``: P(its uncut variables | evidence)
    log_value: float                   # log P(the component's evidence), from the same collect pass


def family_posteriors(comp: Component, plan: BucketPlan, row: np.ndarray, hard: np.ndarray
                      ) -> FamilyPosteriors | None:
    """P(a factor's uncut variables | the component's evidence) for every factor of ``plan.families`` (by its slot
    in ``plan.factors``), from one collect pass and the way back, and the log of the component's value (the
    probability of its evidence: the plan keeps every node). ``row``: the component's lam vectors,
    (nodes, max card), hard evidence only, on the pattern ``hard`` the plan was made for. Each posterior is the
    product at its factor's step normalised by its own sum, so the passes' scaling drops out. None where the
    evidence is impossible or a product sums to zero (the caller takes another way)."""
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - only called on components that have one
    run = _collect(pr.tables, plan, row, hard)
    if run is None:
        return None
    incoming = _way_back(plan, run.slots, run.rescaled)
    out = {}
    for k, (step, inputs, subscripts, program) in plan.families.items():
        ops = [incoming[step] if s < 0 else run.slots[s] for s in inputs]
        p = program.run(ops) if program is not None else einsum_of_many(subscripts, *ops)
        total = float(np.add.reduce(p, axis=None))
        if not (0.0 < total < math.inf):
            return None
        out[k] = p / total
    return FamilyPosteriors(out, math.log(run.value) + run.log_scale)


def release(comp: Component, run: BucketRun) -> None:
    """Forget the component's kept pass once its marginals are taken, where its messages are large
    (past ``KEEP_ENTRIES``): a small one stays for the next question on the same evidence."""
    if run.entries > KEEP_ENTRIES:
        _LAST_RUN.pop(comp, None)


def _collect(tables: tuple[np.ndarray, ...], plan: BucketPlan, row: np.ndarray, hard: np.ndarray) -> BucketRun | None:
    """The collect pass, multiplied plainly where its value comes out at least ``HIDDEN_UNDERFLOW`` (a check per
    message took a third of HAILFINDER's pass); else run again with every table and message rescaled."""
    observed = {int(j): int(row[j].argmax()) for j in np.flatnonzero(hard)}
    slots = _forward(tables, plan, row, observed)
    n_slots = len(slots) - len(plan.forward)
    value = math.prod(float(slots[s]) for s in plan.scalars) * math.prod(float(row[j, x]) for j, x in observed.items())
    if not value >= HIDDEN_UNDERFLOW:
        return _collect_rescaled(tables, plan, row, observed)
    return BucketRun(plan, tuple(slots), value, 0.0, observed, float(sum(slot.size for slot in slots[n_slots:])), False)


def _forward(tables: tuple[np.ndarray, ...], plan: BucketPlan, row: np.ndarray, observed: dict[int, int]
             ) -> list[np.ndarray]:
    """The plain collect pass: every slot, the cut tables and soft answers first, then each step's message."""
    slots = _cut(tables, plan, observed)
    for j, card in plan.soft:
        slots.append(row[j, :card])
    for inputs, subscripts, program in plan.forward:
        operands = [slots[s] for s in inputs]
        slots.append(einsum_of_many(subscripts, *operands) if program is None else program.run(operands))
    return slots


def _collect_rescaled(tables: tuple[np.ndarray, ...], plan: BucketPlan, row: np.ndarray,
                      observed: dict[int, int]) -> BucketRun | None:
    # Every table the evidence cuts, and every message, is divided by its largest entry (its log kept
    # apart): dozens of small likelihoods multiply into an entry far below 1e-308 when taken absolutely,
    # yet into a posterior of 1e-300 relative to the rest of its table.
    slots = _cut(tables, plan, observed)
    log_scale = 0.0
    for k, (_, cut) in enumerate(plan.factors):
        top = slots[k].max() if cut else 1.0
        if top < 1.0:
            if not top > 0.0:
                return None      # impossible evidence: the fixed plan says so
            slots[k] = slots[k] / top
            log_scale += math.log(top)
    for j, card in plan.soft:
        slots.append(row[j, :card])
    for j, state in observed.items():
        log_scale += math.log(row[j, state])     # 0 for a plain answer
    n_slots = len(slots)
    for inputs, subscripts, program in plan.forward:
        operands = [slots[s] for s in inputs]
        out = einsum_of_many(subscripts, *operands) if program is None else program.run(operands)
        top = out.max()
        if top < _SMALL:
            if not top > 0.0:
                return None          # impossible evidence, or an underflow after all: the fixed plan rescales
            out = out / top
            log_scale += math.log(top)
        slots.append(out)
    value = math.prod(float(slots[s]) for s in plan.scalars)
    if not value > 0.0:
        return None
    return BucketRun(plan, tuple(slots), value, log_scale, observed,
                     float(sum(slot.size for slot in slots[n_slots:])))


def _cut(tables: tuple[np.ndarray, ...], plan: BucketPlan, observed: dict[int, int]) -> list[np.ndarray]:
    """The plan's factor tables, each cut at its observed nodes' states (views: nothing copied)."""
    slots = []
    for f, cut in plan.factors:
        table = tables[f]
        if cut:
            index: list[object] = [slice(None)] * table.ndim
            for axis, j in cut:
                index[axis] = observed[j]
            table = table[tuple(index)]
        slots.append(table)
    return slots


def _way_back(plan: BucketPlan, slots: Sequence[np.ndarray], rescaled: bool) -> dict[int, np.ndarray]:
    """Each visited step's incoming message, parents first; ``rescaled``, each divided by its largest entry."""
    incoming: dict[int, np.ndarray] = {}
    for child, up, inputs, subscripts, program in plan.backward:
        ops = [incoming[up] if s < 0 else slots[s] for s in inputs]
        down = program.run(ops) if program is not None else einsum_of_many(subscripts, *ops)
        if rescaled:
            top = down.max()
            # A message that underflowed to zeros stays zeros (no 0/0): the marginals below it then sum to zero,
            # which their callers read as a way back that failed
            incoming[child] = down / top if top > 0.0 else down
        else:
            incoming[child] = down
    return incoming


def bucket_marginals(run: BucketRun, positions: Iterable[int], cards: Sequence[int]) -> dict[int, np.ndarray] | None:
    """P(node | the component's evidence) for nodes at ``positions`` (each among the run's wanted ones or
    hard-observed), from the run's collect pass and one distribute pass down to them; None where a product
    on the way down underflowed to zero (entries of 1e-300 meeting), for the caller to take another path."""
    plan = run.plan
    slots = run.slots
    # Each visited step's incoming message, parents first; after a rescaled collect pass rescaled too, to a
    # largest entry of 1 (the marginals are normalised at the end, and a long way down would otherwise
    # underflow). After a plain one, every product on the way down sums to the value, which did not underflow.
    incoming = _way_back(plan, slots, run.rescaled)
    out = {}
    for j in positions:
        if j in run.observed:
            p = np.zeros(cards[j])
            p[run.observed[j]] = 1.0
        else:
            p = _at(plan, slots, incoming, j)
            total = float(np.add.reduce(p, axis=None))
            if not 0.0 < total < math.inf:
                return None
            p = p / total
        out[j] = p
    return out


def _at(plan: BucketPlan, slots: Sequence[np.ndarray], incoming: dict[int, np.ndarray], position: int) -> np.ndarray:
    """The product at a wanted position's step, its slots times its incoming message, summed to its node (and
    the kept targets, where the plan keeps them)."""
    step, inputs, subscripts, program = plan.marginals[position]
    ops = [incoming[step] if s < 0 else slots[s] for s in inputs]
    return program.run(ops) if program is not None else einsum_of_many(subscripts, *ops)
