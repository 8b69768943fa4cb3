"""A network past its memory budget is refused at once, with reasons; within budget it answers exactly.

Two networks that no elimination order makes small: a square grid whose
bottom row is observed (its treewidth is its side, so some table spans a
whole row of it) and LINK from pgmpy's bundled files (pyAgrum's junction
tree for it has a clique of 8 GB). Each is refused with
``kneebayes.IntractableError`` at import or at the first query, before
anything of the table's size is allocated (``tracemalloc`` sees numpy's
allocations; for LINK, beyond what reading the file takes), and the message names the network, the clique's variables,
the table's size and what would help. The same grid, small enough for a
generous budget, then answers as pyAgrum does.
"""

from __future__ import annotations

import gzip
import math
import re
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import kneebayes
from kneebayes import IntractableError, RenormalisedWarning
from kneebayes.interop.importer import network_nodes
from networks import (
    TOL,
    bif_path,
    forward_samples,
    largest_difference,
    leaves,
    pyagrum_of,
    reference,
    roots_by_descendants,
    structure,
)

pytest.importorskip("pgmpy")

#: The allocation a refusal may make, at most: parsing and planning, never the table.
SMALL = 64 * 2**20


@dataclass(frozen=True)
class Grid:
    """side x side nodes of ``states`` states; g_r_c under g_(r-1)_c and g_r_(c-1); bottom row observed."""
    side: int
    states: int

    def name(self, r: int, c: int) -> str:
        return f"g{r}_{c}"

    @property
    def target(self) -> str:
        return self.name(0, 0)

    @property
    def evidence(self) -> dict[str, str]:
        return {self.name(self.side - 1, c): f"s{c % self.states}" for c in range(self.side)}

    def pgmpy(self) -> Any:
        """The grid as a pgmpy network with random positive tables (seeded)."""
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

        rng = np.random.default_rng(self.side * 100 + self.states)
        k = self.states
        names = [f"s{i}" for i in range(k)]
        bn = DiscreteBayesianNetwork()
        bn.add_nodes_from(self.name(r, c) for r in range(self.side) for c in range(self.side))
        for r in range(self.side):
            for c in range(self.side):
                node = self.name(r, c)
                parents = [p for p in ((self.name(r - 1, c) if r else None), (self.name(r, c - 1) if c else None)) if p]
                bn.add_edges_from((p, node) for p in parents)
                raw = rng.uniform(0.1, 1.0, size=(k, k ** len(parents)))
                bn.add_cpds(TabularCPD(node, k, raw / raw.sum(axis=0), evidence=parents or None,
                                       evidence_card=[k] * len(parents) or None,
                                       state_names={v: names for v in (node, *parents)}))
        return bn

    def model(self, network: Any, memory_budget: int) -> kneebayes.Model:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RenormalisedWarning)   # columns 1e-16 off, from the division
            return kneebayes.from_pgmpy(network, targets=[self.target], name=f"grid{self.side}",
                                        memory_budget=memory_budget)


def _refusal(attempt: Callable[[], object]) -> tuple[IntractableError, int]:
    """The IntractableError ``attempt`` raises, and the peak of what it allocated until then."""
    tracemalloc.start()
    try:
        with pytest.raises(IntractableError) as info:
            attempt()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return info.value, peak


def _grid_attempt(grid: Grid, network: Any, budget: int) -> Callable[[], object]:
    return lambda: grid.model(network, budget).diagnose(grid.evidence)


def _table_bytes(cards: dict[str, int], clique: tuple[str, ...]) -> int:
    return 8 * math.prod(cards[v] for v in clique)


# -- a big grid at the default budget ---------------------------------------------------------------

BIG = Grid(side=20, states=4)           # treewidth 20: a table of 4**20 float64 is 8 TiB


@pytest.fixture(scope="module")
def big_grid() -> Any:
    return BIG.pgmpy()


@pytest.fixture(scope="module")
def big_refusal(big_grid: Any) -> tuple[IntractableError, int]:
    return _refusal(_grid_attempt(BIG, big_grid, 2**30))


def test_a_wide_grid_is_refused_within_the_default_budget(big_refusal: tuple[IntractableError, int]) -> None:
    error, _ = big_refusal
    assert error.budget == 2**30
    assert error.size > error.budget


def test_refusing_the_grid_allocates_nothing_of_the_tables_size(big_refusal: tuple[IntractableError, int]) -> None:
    error, peak = big_refusal
    assert peak < SMALL, f"refusing allocated {peak / 2**20:.1f} MiB"
    assert peak < error.size / 100


def test_the_refusal_names_the_network_the_clique_its_size_and_the_advice(
        big_refusal: tuple[IntractableError, int]) -> None:
    error, _ = big_refusal
    message = str(error)
    assert error.network == "grid20"
    assert "'grid20'" in message
    assert f"a table over {len(error.clique)} variables" in message
    for v in error.clique[:8]:
        assert v in message
    assert re.search(r"of [\d,.]+ (TiB|GiB)", message), message
    assert "past the memory budget of 1.0 GiB" in message
    assert "what would help: fewer targets, more evidence, or a larger memory_budget" in message


def test_the_refused_clique_is_made_of_the_grids_nodes_and_its_size_counts_them(
        big_refusal: tuple[IntractableError, int]) -> None:
    error, _ = big_refusal
    cards = {BIG.name(r, c): BIG.states for r in range(BIG.side) for c in range(BIG.side)}
    assert set(error.clique) <= set(cards)
    assert len(error.clique) > BIG.side // 2       # no order makes a 20-wide grid much narrower
    assert error.size >= _table_bytes(cards, error.clique)


# -- a small grid: refused on a tiny budget, answered on a generous one -----------------------------

SMALL_GRID = Grid(side=8, states=3)     # its widest table: about 3**9 float64, 150 KiB
TINY = 16 * 2**10


@pytest.fixture(scope="module")
def small_grid() -> Any:
    return SMALL_GRID.pgmpy()


def test_a_small_grid_is_refused_on_a_tiny_budget(small_grid: Any) -> None:
    error, peak = _refusal(_grid_attempt(SMALL_GRID, small_grid, TINY))
    assert error.budget == TINY
    assert error.size > TINY
    assert peak < SMALL


def test_the_size_a_refusal_names_is_a_budget_that_suffices(small_grid: Any) -> None:
    error, _ = _refusal(_grid_attempt(SMALL_GRID, small_grid, TINY))
    model = SMALL_GRID.model(small_grid, math.ceil(error.size))
    assert 0 < model.diagnose(SMALL_GRID.evidence).evidence_probability < 1


def test_the_same_grid_on_a_generous_budget_matches_pyagrum(small_grid: Any) -> None:
    pytest.importorskip("pyagrum")
    model = SMALL_GRID.model(small_grid, 2**30)
    dx = model.diagnose(SMALL_GRID.evidence)
    ref, log_pe = reference(pyagrum_of(model), SMALL_GRID.evidence, [SMALL_GRID.target])
    assert largest_difference(dx.distributions[SMALL_GRID.target], ref[SMALL_GRID.target]) <= TOL
    assert abs(dx.log_evidence_probability - log_pe) <= TOL


# -- LINK from pgmpy's files ---------------------------------------------------------------------------

TINY_FOR_LINK = 2**20


@pytest.fixture(scope="module")
def link_evidence(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every leaf of one forward-sampled case, so the findings reach the whole pedigree and are possible.

    Sampled by pyAgrum from the file itself: reading it needs no budget, and
    its single-precision numbers keep every zero a zero.
    """
    gum = pytest.importorskip("pyagrum")
    path = tmp_path_factory.mktemp("link") / "link.bif"
    with gzip.open(bif_path("link"), "rb") as f:
        path.write_bytes(f.read())
    case = forward_samples(gum.loadBN(str(path)), 1, np.random.default_rng(7))[0]
    return {n: case[n] for n in leaves(structure(bif_path("link")))}


@pytest.fixture(scope="module")
def link_partial_evidence(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """Three forward-sampled cases, eight leaves of each observed (as in test_every_bif)."""
    gum = pytest.importorskip("pyagrum")
    path = tmp_path_factory.mktemp("link") / "link.bif"
    with gzip.open(bif_path("link"), "rb") as f:
        path.write_bytes(f.read())
    rng = np.random.default_rng(11)
    found = leaves(structure(bif_path("link")))
    return [{str(n): case[str(n)] for n in rng.choice(found, size=8, replace=False)}
            for case in forward_samples(gum.loadBN(str(path)), 3, rng)]


@pytest.fixture(scope="module")
def link_refusal(link_evidence: dict[str, str]) -> tuple[IntractableError, int]:
    targets = roots_by_descendants(structure(bif_path("link")))

    def attempt() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RenormalisedWarning)
            model = kneebayes.load_bif(bif_path("link"), targets=targets, memory_budget=TINY_FOR_LINK)
        return model.diagnose(link_evidence)

    return _refusal(attempt)


def test_link_is_refused_on_a_tiny_budget(link_refusal: tuple[IntractableError, int]) -> None:
    error, _ = link_refusal
    assert error.budget == TINY_FOR_LINK
    assert error.size > TINY_FOR_LINK


def _reading_peak(path: Any) -> int:
    """What reading a network file alone allocates at its peak (its parsed numbers and names)."""
    tracemalloc.start()
    try:
        network_nodes(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_refusing_link_allocates_little_beyond_reading_it(link_refusal: tuple[IntractableError, int]) -> None:
    error, peak = link_refusal
    extra = peak - _reading_peak(bif_path("link"))
    assert extra < error.size / 4, f"refusing LINK allocated {extra / 2**20:.1f} MiB beyond reading it"


def test_the_link_refusal_names_link_and_nodes_of_it(link_refusal: tuple[IntractableError, int]) -> None:
    error, _ = link_refusal
    assert error.network == "link"
    assert str(error).startswith("exact inference on 'link' needs a table over ")
    assert set(error.clique) <= set(structure(bif_path("link")))
    assert "past the memory budget of 1.0 MiB" in str(error)


@pytest.mark.slow
def test_link_at_the_default_budget_answers_or_refuses_within_twice_the_budget(
        link_evidence: dict[str, str], link_partial_evidence: list[dict[str, str]]) -> None:
    """No query builds a table past the budget: at its peak, one such table and its operands, so twice it.

    A refusal is fine (pyAgrum's own plan for LINK is past 1 GiB); numpy's
    allocations count in tracemalloc, so a 3 GiB table would show.
    """
    targets = roots_by_descendants(structure(bif_path("link")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenormalisedWarning)
        model = kneebayes.load_bif(bif_path("link"), targets=targets)
    peaks = []
    for ev in [link_evidence, *link_partial_evidence]:
        tracemalloc.start()
        try:
            try:
                model.diagnose(ev)
            except IntractableError as error:
                assert error.size > error.budget == 2**30
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert max(peaks) <= 2 * 2**30, f"LINK's queries peaked at {[round(p / 2**30, 2) for p in peaks]} GiB"
