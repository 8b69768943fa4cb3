"""The one elimination planner: an order to sum variables out, and the size of every table it builds.

Every plan the engine runs (a component's compiled plan, the pruned plan
of one evidence pattern) takes its order from :func:`eliminate`, which
never allocates a table: it works on the variables' scopes and
cardinalities only, and reports the *clique* of each step (the variable
summed out and its neighbours at that moment), whose product of
cardinalities is the size of the largest table that step can build. The
plan is then checked against the model's memory budget
(:func:`check_budget`) before anything is built.

Two greedy heuristics are run and the cheaper order kept (by the total of
its clique sizes): *min-fill* (the variable whose elimination adds the
fewest new edges) and *min-weight* (the one whose clique is smallest).
Where even that order's cliques are large, :func:`search` tries a few
more: *weighted min-fill* (new edges counted by the product of their ends'
states) and seeded noisy runs of all three.
Both run on a priority queue with lazy updates: eliminating a variable
re-prices only its neighbours, so a chain or tree of 10,000 nodes plans in
time linear in its size.

>>> plan = eliminate([0, 1, 2], [(0, 1), (1, 2)], cards=[2, 3, 2])
>>> plan.order[0] in (0, 2), plan.largest_size
(True, 6.0)
"""

from __future__ import annotations

import heapq
import math
import operator
import random
from functools import partial
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import IntractableError, SettingError, quote

BYTES_PER_ENTRY = 8          # float64 tables
GIVE_UP_VARIABLES = 40       # past the limit, planning goes on to name the largest table, but not past a clique this wide
_EXACT_FILL_DEGREE = 128     # past this many neighbours, fill is priced as its upper bound (such a node is eliminated late anyway)
# A randomised order search (search) is tried once an order's cliques total this many entries per variable: a
# run costs about 40 us per variable, filling an entry about 5 ns, so one try per this many entries keeps the
# search under a quarter of the work it may save.
SEARCH_ENTRIES_PER_VARIABLE = 32_000.0


@dataclass(frozen=True)
class Elimination:
    """An order of elimination and what each step builds, as :func:`eliminate` returns it.

    >>> plan = eliminate([0, 1, 2], [(0, 1), (1, 2)], cards=[2, 3, 2])
    >>> plan.order, plan.sizes
    ((0, 1, 2), (6.0, 6.0, 2.0))
    >>> plan.largest_size, plan.largest_clique, plan.total_size
    (6.0, (0, 1), 14.0)
    """

    order: tuple[int, ...]
    cliques: tuple[tuple[int, ...], ...]     # per step: the variable summed out, then its neighbours then
    sizes: tuple[float, ...]                 # per step: product of the clique's cardinalities (entries)
    heuristic: str = "min_fill"
    complete: bool = True                    # False: planning gave up on a clique past the limit (see eliminate)

    @property
    def largest_size(self) -> float:
        """Entries of the largest table any step builds (1.0 when nothing is eliminated)."""
        return max(self.sizes, default=1.0)

    @property
    def largest_clique(self) -> tuple[int, ...]:
        """The clique of the step building the largest table (the first such step), or () for an empty plan."""
        return self.cliques[self.sizes.index(self.largest_size)] if self.sizes else ()

    @property
    def total_size(self) -> float:
        """The sum of the clique sizes: the order's work, up to a constant."""
        return float(sum(self.sizes))


def eliminate(variables: Iterable[int], scopes: Iterable[Sequence[int]], cards: Sequence[int] | Mapping[int, int],
              heuristic: str = "best", limit: float = math.inf, noise: float = 0.0, seed: int = 0) -> Elimination:
    """An elimination order for ``variables`` over factors with these ``scopes``.

    Scopes may name other variables (kept ones, such as targets): they
    shape the cliques and count in their sizes but are never eliminated.
    ``heuristic`` is ``"min_fill"``, ``"min_weight"``, ``"weighted_fill"``
    (new edges weighted by the product of their ends' cardinalities) or ``"best"`` (min-fill and min-weight,
    keeping the one whose cliques total less, or under ``limit`` the one
    whose largest clique fits, or else the one with the smaller largest
    clique). ``noise`` > 0 scales each price by a random factor in
    [1, 1 + noise] (``seed``'s stream), for a search over several orders
    (:func:`search`). Past ``limit`` entries a plan is refused anyway: planning goes
    on only to name its largest clique, and gives up (``complete`` False,
    the order partial) at a clique of more than ``GIVE_UP_VARIABLES``.

    A chain ``0 - 1 - 2`` with a kept variable ``9`` over ``1``: the ends go first,
    and the kept variable is in every clique through ``1`` but never eliminated.

    >>> plan = eliminate([0, 1, 2], [(0, 1), (1, 2), (1, 9)], cards={0: 2, 1: 2, 2: 2, 9: 4})
    >>> plan.order, plan.cliques
    ((0, 2, 1), ((0, 1), (2, 1), (1, 9)))
    >>> plan.largest_size
    8.0
    """
    wanted = list(dict.fromkeys(variables))
    adjacency: dict[int, set[int]] = {v: set() for v in wanted}
    for scope in scopes:
        for a in scope:
            neighbours = adjacency.setdefault(a, set())
            neighbours.update(b for b in scope if b != a)
    if heuristic == "best":
        fill = _greedy(wanted, adjacency, cards, "min_fill", limit)
        if len(wanted) < 2:
            return fill
        weight = _greedy(wanted, adjacency, cards, "min_weight", limit)
        fits = [plan for plan in (fill, weight) if plan.complete and plan.largest_size <= limit]
        if fits:
            return min(fits, key=lambda plan: plan.total_size)
        return min((fill, weight), key=lambda plan: (not plan.complete, plan.largest_size))
    if heuristic not in ("min_fill", "min_weight", "weighted_fill"):
        raise SettingError(f"heuristic must be 'min_fill', 'min_weight', 'weighted_fill' or 'best', not {quote(heuristic)}")
    return _greedy(wanted, adjacency, cards, heuristic, limit, noise, seed)


def search(variables: Iterable[int], scopes: Iterable[Sequence[int]], cards: Sequence[int] | Mapping[int, int],
           tries: int, start: Elimination | None = None, limit: float = math.inf) -> Elimination:
    """The order whose cliques total least among ``start`` (if given), weighted min-fill, and ``tries`` randomised
    runs of min-fill, weighted min-fill and min-weight in turn; a run whose largest clique passes ``limit``
    entries does not count. Deterministic: each try has its own seed.

    The greedy heuristics break near-ties arbitrarily, and on a large network with many-state variables one
    unlucky choice can multiply the work (a MUNIN1 evidence pattern: 2.4e8 entries by min-fill, 3.2e7 by the best
    of a dozen noisy runs). Each run costs a few milliseconds per hundred variables: worth it only where the
    order's tables would take far longer to fill.

    >>> chain = [(v, v + 1) for v in range(9)]
    >>> search(range(10), chain, [3] * 10, tries=4).largest_size
    9.0
    """
    wanted = list(dict.fromkeys(variables))
    scopes = list(scopes)
    best = start
    kinds = ("min_fill", "weighted_fill", "min_weight")
    for n in range(-1, tries):
        kind, noise = ("weighted_fill", 0.0) if n < 0 else (kinds[n % 3], 0.5)
        plan = eliminate(wanted, scopes, cards, heuristic=kind, noise=noise, seed=n)
        if (best is None or plan.total_size < best.total_size) and plan.largest_size <= limit:
            best = plan
    if best is None:   # no start, and every run past the limit: the weighted min-fill one, to be refused
        best = eliminate(wanted, scopes, cards, heuristic="weighted_fill")
    return best


def _greedy(wanted: list[int], adjacency: dict[int, set[int]], cards: Sequence[int] | Mapping[int, int],
            heuristic: str, limit: float, noise: float = 0.0, seed: int = 0) -> Elimination:
    adj = {v: set(nb) for v, nb in adjacency.items()}   # this run's copy: elimination adds edges
    remaining = set(wanted)
    log_card = {v: math.log(cards[v]) if cards[v] > 0 else 0.0 for v in adj}
    weighted, by_fill = heuristic == "weighted_fill", heuristic != "min_weight"
    draw = random.Random(seed).random if noise > 0.0 else None

    card_of, neighbours, card_at = log_card.__getitem__, adj.__getitem__, cards.__getitem__

    def price(v: int) -> tuple[float, float]:
        # map chains, not generators: this runs for every neighbour of every step (a query's plan, too)
        nb = adj[v]
        weight = sum(map(card_of, nb)) + log_card[v]
        if weighted:
            # new edges weighted by their ends' cardinalities: all pairs' products less the present edges'
            c = list(map(card_at, nb))
            pairs = (sum(c) ** 2 - sum(map(operator.mul, c, c))) / 2.0
            present = (sum(map(operator.mul, c, map(sum, map(partial(map, card_at), map(nb.intersection,
                                                                                         map(neighbours, nb))))))
                       / 2.0 if len(nb) <= _EXACT_FILL_DEGREE else 0.0)
            cost = pairs - present
        elif not by_fill:
            cost = weight
        elif len(nb) > _EXACT_FILL_DEGREE:
            cost = float(len(nb) * (len(nb) - 1) // 2)
        else:
            present_edges = sum(map(len, map(nb.intersection, map(neighbours, nb)))) // 2   # edges already among them
            cost = float(len(nb) * (len(nb) - 1) // 2 - present_edges)
        if draw is not None:
            cost *= 1.0 + noise * draw()
        return (cost, weight) if by_fill else (cost, 0.0)

    # Each variable's latest heap entry, (cost, weight, v): an entry popped that is not it is stale (the
    # variable was re-priced or eliminated since). Identity, not equality, tells: no tuple is rebuilt per pop.
    current = {v: (*price(v), v) for v in wanted}
    heap = list(current.values())
    heapq.heapify(heap)
    pop, push, get = heapq.heappop, heapq.heappush, current.get
    order: list[int] = []
    cliques: list[tuple[int, ...]] = []
    sizes: list[float] = []
    while remaining:
        entry = pop(heap)
        v = entry[-1]
        if get(v) is not entry:
            continue   # a stale entry
        del current[v]
        nb = adj.pop(v)
        clique = (v, *sorted(nb))
        order.append(v)
        cliques.append(clique)
        sizes.append(float(math.prod(map(card_at, clique))))
        if sizes[-1] > limit and len(clique) > GIVE_UP_VARIABLES:
            return Elimination(tuple(order), tuple(cliques), tuple(sizes), heuristic, complete=False)
        remaining.discard(v)
        for a in nb:
            others = adj[a]
            others.discard(v)
            others |= nb
            others.discard(a)
        # Eliminating v changed its neighbours' neighbourhoods. Their neighbours' fill can only have
        # dropped (new edges among v's neighbours); re-pricing those too would cost the square of the
        # degree per step on dense graphs, so they keep their stale, higher price until next touched.
        for u in nb & remaining:
            new = (*price(u), u)
            if new != current[u]:
                current[u] = new
                push(heap, new)
    return Elimination(tuple(order), tuple(cliques), tuple(sizes), heuristic)


def linked_groups(variables: Iterable[int], scopes: Iterable[Sequence[int]]) -> dict[int, int]:
    """Each of ``variables``' group: the smallest variable linked to it through shared scopes (union-find).

    A scope's members outside ``variables`` link nothing.

    >>> linked_groups([0, 1, 2, 3], [(0, 2), (2, 9), (3,)])
    {0: 0, 1: 1, 2: 0, 3: 3}
    """
    root = {v: v for v in variables}

    def find(v: int) -> int:
        while root[v] != v:
            root[v] = root[root[v]]
            v = root[v]
        return v

    for scope in scopes:
        inside = [v for v in scope if v in root]
        for a, b in zip(inside, inside[1:]):
            ra, rb = find(a), find(b)
            if ra != rb:
                root[max(ra, rb)] = min(ra, rb)
    return {v: find(v) for v in root}


def entries_allowed(budget: float, rows: int = 1) -> float:
    """How many table entries ``budget`` bytes hold over ``rows`` batch rows.

    >>> entries_allowed(1024), entries_allowed(1024, rows=4)
    (128.0, 32.0)
    """
    return budget / (BYTES_PER_ENTRY * rows)


def check_budget(plan: Elimination, names: Sequence[str] | Mapping[int, str], budget: float, network: str,
                 rows: int = 1, advice: str = "") -> None:
    """Raise IntractableError when ``plan``'s largest table, over ``rows`` batch rows, would pass ``budget`` bytes.

    ``names`` turns variable numbers into node ids for the message (a
    number it lacks is a hidden variable); ``network`` names the model and
    ``advice`` is added to the message. Returns None when the plan fits.

    >>> plan = eliminate([0, 1], [(0, 1, 2)], cards=[10, 10, 10])
    >>> plan.largest_size * BYTES_PER_ENTRY
    8000.0
    >>> check_budget(plan, ["a", "b", "c"], budget=10_000, network="demo")
    >>> check_budget(plan, ["a", "b", "c"], budget=1_000, network="demo")
    Traceback (most recent call last):
    ...
    kneebayes.errors.IntractableError: exact inference on 'demo' needs a table over 3 variables (a, b, c) of 7.8 KiB, past the memory budget of 1,000 bytes; what would help: fewer targets, more evidence, or a larger memory_budget
    """
    size = plan.largest_size * BYTES_PER_ENTRY * rows
    if size > budget:
        clique = [names[v] if _named(names, v) else f"(hidden {v})" for v in plan.largest_clique]
        raise IntractableError(network, clique, size, budget, advice=advice, at_least=not plan.complete)


def _named(names: Sequence[str] | Mapping[int, str], v: int) -> bool:
    return v in names if isinstance(names, Mapping) else 0 <= v < len(names)
