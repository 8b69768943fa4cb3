"""The E-step's families of a large component case by case, over what each case's evidence leaves of it.

A sweep of a component's plan (:mod:`.learning_sweep`) runs every case
through all of its tables, whatever the case observed: on WATER, MILDEW
and BARLEY that is 2-6 million entries a case. A case's observed values
cut their axes out of every table instead (as a junction tree sliced by
the evidence): one bucket pass over the cut tables and its way back give
each family's posterior (``inference.pruned.family_posteriors``), in
thousands of entries where most values are observed. Each pattern of
observed values is planned once per learning run (a plan holds no
numbers, so it serves every iteration's network); a pattern whose plan is
declined or a case the pass cannot take is left to the other paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..inference.pruned import family_plan, family_posteriors
from ..network.compiled import Component
from ..network.pruned_plan import BucketPlan

__all__ = ["BUCKETS_FROM", "KEPT_PLAN_STEPS", "PatternPlans", "BucketCounts", "by_buckets", "bucket_counts"]

#: A component is counted case by case from this fixed-plan work on (``Pruning.full_work``): WATER's and
#: MILDEW's 1.7e7, BARLEY's 6.5e7. Below it a batched sweep of the whole plan costs less than planning each
#: pattern (INSURANCE, 3.9e5: a sweep of 200 cases takes a tenth of a second).
BUCKETS_FROM = 5e6

# A pattern's plan is weighed against this many times the fixed plan's work: what one case's sweep costs (its
# forward half and the way back to every table).
_SWEEP_FACTOR = 3.0


#: The most steps of plans a component keeps across a learning run (about 50 MB; DIABETES: 400-470 steps a
#: pattern): past it the kept plans are dropped, and planned again as their cases come back, so a run over
#: many distinct cases of a large network stays within bounded memory.
KEPT_PLAN_STEPS = 200_000


class PatternPlans:
    """One component's plans by pattern of observed values (None: declined), kept across a learning run's
    iterations up to ``KEPT_PLAN_STEPS``.

    >>> plans = PatternPlans()
    >>> plans.get(b"pattern", lambda: None), plans.get(b"pattern", lambda: 1 / 0)   # planned once
    (None, None)
    """

    def __init__(self) -> None:
        self._plans: dict[bytes, BucketPlan | None] = {}
        self._steps = 0

    def __len__(self) -> int:
        return len(self._plans)

    def get(self, pattern: bytes, make: Callable[[], BucketPlan | None]) -> BucketPlan | None:
        """The pattern's plan, made by ``make`` the first time (and again after the kept plans were dropped)."""
        if pattern in self._plans:
            return self._plans[pattern]
        plan = make()
        steps = 1 if plan is None else len(plan.forward) + len(plan.backward) + len(plan.families)
        if self._steps + steps > KEPT_PLAN_STEPS:
            self._plans.clear()
            self._steps = 0
        self._plans[pattern] = plan
        self._steps += steps
        return plan


def by_buckets(comp: Component) -> bool:
    """Whether the component's families are counted case by case (:func:`bucket_counts`): a large pruned
    component whose every node owns one table and no enumerated target lies in it.

    >>> import kneebayes
    >>> by_buckets(kneebayes.load_model().network.components[0])     # small: swept in one batch
    False
    """
    pr = comp.pruning
    return (pr is not None and pr.full_work >= BUCKETS_FROM and not pr.touches_targets and not pr.hidden_cards
            and all(len(owned) == 1 for owned in pr.owned))


class BucketCounts(NamedTuple):
    """What :func:`bucket_counts` finds over a chunk's rows."""

    tables: dict[int, np.ndarray]   # per node: the expected counts of its table over the covered rows
    covered: np.ndarray             # (rows,) bool: the rows counted here; the others take no part
    log_values: np.ndarray          # (rows,): log P(the component's evidence) in a covered row, 0 elsewhere


def bucket_counts(comp: Component, own: np.ndarray, template: np.ndarray, weights: np.ndarray,
                  plans: PatternPlans, memory_budget: float) -> BucketCounts:
    """Expected counts of the component's tables (per node, the table's shape) over the rows, which rows they
    cover, and each covered row's log probability of the component's evidence (the same passes give it: the
    caller need not run the component again for its log-likelihood).

    ``own``: the rows' lam vectors of the component's nodes (rows, nodes,
    max card), hard evidence only; ``template``: the same without evidence;
    ``weights``: how often each row occurs; ``plans``: the component's
    plans so far (kept by the caller across a learning run, filled here).
    Rows not covered (False) take no part in the counts.
    """
    pr = comp.pruning
    assert pr is not None  # noqa: S101 - callers check by_buckets
    owner = {pr.owned[i][0]: comp.nodes[i] for i in range(len(comp.nodes))}
    out = {v: np.zeros(pr.tables[f].shape) for f, v in owner.items()}
    covered = np.zeros(own.shape[0], dtype=bool)
    log_values = np.zeros(own.shape[0])
    observed = (own != template).any(axis=2)
    states = own.argmax(axis=2)
    one_hot = (own != 0.0).sum(axis=2) == 1
    for r in range(own.shape[0]):
        hard = observed[r]
        if not one_hot[r, hard].all():
            continue   # a soft answer: not a case learning lays out, but not one this pass takes
        plan = plans.get(hard.tobytes(), lambda: family_plan(comp, hard, memory_budget / 8.0,
                                                              _SWEEP_FACTOR * pr.full_work))
        found = None if plan is None else family_posteriors(comp, plan, own[r], hard)
        if found is None:
            continue
        assert plan is not None  # noqa: S101 - found implies a plan
        w = float(weights[r])
        posteriors = found.posteriors
        for k, (f, cut) in enumerate(plan.factors):
            table = out[owner[f]]
            index: list[object] = [slice(None)] * table.ndim
            for axis, j in cut:
                index[axis] = int(states[r, j])
            table[tuple(index)] += w * posteriors[k] if k in posteriors else w   # no hidden variable: the observed cell
        covered[r] = True
        log_values[r] = found.log_value
    return BucketCounts(out, covered, log_values)
