"""Every BIF network pgmpy ships, answered exactly: target posteriors, P(evidence) and marginals against pyAgrum.

The list is read from pgmpy's folder, so a network pgmpy adds is tested too.
Each is imported with ``kneebayes.load_bif``; its targets are its roots (the
ten with most descendants when there are more). pyAgrum's
``LazyPropagation`` is the reference, run on the model's own tables
(``networks.pyagrum_of``), so both engines see the same renormalised numbers.
On the small networks pgmpy's ``VariableElimination`` (on ``model.to_pgmpy()``)
is a second reference for the targets. Each network gets the empty evidence set and a few sets of 3-8 observed
leaves (topped up with other non-targets where a network has fewer leaves),
taken from forward-sampled cases, so none is impossible.

A network whose smallest table plan, as pyAgrum's own triangulation finds
it, is past the default memory budget (LINK and MUNIN1 today) may instead be
refused: each query then either answers exactly or raises IntractableError
saying why. There the reference itself cannot afford evidence in CI, so only
the prior is compared; ``test_intractable`` checks LINK's queries with
evidence for the budget.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import kneebayes
from kneebayes import IntractableError, RenormalisedWarning
from networks import (
    TOL,
    bif_path,
    example_bifs,
    forward_samples,
    largest_difference,
    leaves,
    pyagrum_of,
    reference,
    roots_by_descendants,
    structure,
)

pytest.importorskip("pgmpy")
pytest.importorskip("pyagrum")

#: The default memory budget of a model (``Model(memory_budget=...)``), in bytes.
DEFAULT_BUDGET = 2**30
#: Sampled evidence sets per network (besides the empty one; one on the large ones, for the suite's time),
#: observed nodes per set, marginals per set.
EVIDENCE_SETS = 3
EVIDENCE_SETS_LARGE = 1
OBSERVED = (3, 8)
MARGINALS = 3


def _is_large(name: str) -> bool:
    """Over 100 nodes or a 20 KB compressed file: marked slow (CI still runs them)."""
    return len(structure(bif_path(name))) > 100 or bif_path(name).stat().st_size > 20_000


NAMES = [pytest.param(n, marks=pytest.mark.slow) if _is_large(n) else n for n in example_bifs()]
SMALL_NAMES = [n for n in example_bifs() if not _is_large(n)]


def _reference_table_bytes(bn: Any) -> float:
    """Bytes of the largest clique table in pyAgrum's junction tree (float64)."""
    import pyagrum as gum

    jt = gum.JunctionTreeGenerator().junctionTree(bn)
    return 8.0 * max(math.prod(bn.variable(v).domainSize() for v in jt.clique(c)) for c in jt.nodes())


@dataclass
class Case:
    name: str
    model: kneebayes.Model
    bn: Any                                   # pyAgrum, on the model's own tables
    targets: list[str]
    evidence: list[dict[str, str]]            # the empty set first
    others: list[list[str]]                   # per evidence set: unobserved non-targets to take marginals of
    may_refuse: bool                          # pyAgrum's own plan is past the default budget
    _refs: dict[int, tuple[dict[str, dict[str, float]], float]] = field(default_factory=dict)
    _answers: dict[int, kneebayes.Diagnosis | IntractableError] = field(default_factory=dict)

    def diagnosis(self, i: int) -> kneebayes.Diagnosis:
        """``model.diagnose`` on evidence set ``i``, once for the module (MUNIN1 takes many seconds a set)."""
        if i not in self._answers:
            try:
                self._answers[i] = self.model.diagnose(self.evidence[i])
            except IntractableError as error:
                self._answers[i] = error
        found = self._answers[i]
        if isinstance(found, IntractableError):
            raise found
        return found

    def reference(self, i: int) -> tuple[dict[str, dict[str, float]], float]:
        """pyAgrum's posteriors (targets and ``others[i]``) and log P(evidence), computed once per set.

        Where pyAgrum's own plan is past the budget only the prior of roots is asked (see the module
        docstring), and even that exhausts its memory on MUNIN1: a root's prior is its own table."""
        if i not in self._refs:
            if self.may_refuse and not self.evidence[i]:
                net = self.model.network
                asked = [*self.targets, *self.others[i]]
                self._refs[i] = ({n: dict(zip(net.states[net.index[n]], np.asarray(net.tables[net.index[n]]).tolist()))
                                  for n in asked}, 0.0)
            else:
                self._refs[i] = reference(self.bn, self.evidence[i], [*self.targets, *self.others[i]])
        return self._refs[i]


def _load(name: str) -> Case:
    path = bif_path(name)
    parents = structure(path)
    targets = roots_by_descendants(parents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenormalisedWarning)   # the files are rounded; tested elsewhere
        model = kneebayes.load_bif(path, targets=targets)
    bn = pyagrum_of(model)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    non_targets = [n for n in parents if n not in set(targets)]
    observable = [n for n in leaves(parents) if n not in set(targets)]
    inner = [n for n in non_targets if n not in set(observable)]
    may_refuse = _reference_table_bytes(bn) > DEFAULT_BUDGET
    # past the budget, the reference's own queries with evidence take minutes and gigabytes (MUNIN1:
    # over four minutes, or out of memory under an 8 GB cap, on one set of three leaves): the prior only
    evidence: list[dict[str, str]] = [{}]
    sets = 0 if may_refuse else EVIDENCE_SETS_LARGE if _is_large(name) else EVIDENCE_SETS
    for case in forward_samples(bn, sets, rng):
        k = int(rng.integers(OBSERVED[0], OBSERVED[1] + 1))
        shown = list(rng.permutation(observable))[:k]
        shown += list(rng.permutation(inner))[: max(0, OBSERVED[0] - len(shown))]
        evidence.append({str(n): case[str(n)] for n in sorted(shown)})
    others = []
    for ev in evidence:
        # past the budget even a prior marginal deep in the network costs the reference gigabytes: roots only
        free = [n for n in non_targets if n not in ev and not (may_refuse and parents[n])]
        others.append([str(n) for n in rng.permutation(free)[:MARGINALS]])
    return Case(name, model, bn, targets, evidence, others, may_refuse)


#: The small networks, kept for the module: the pgmpy test's own parameter list makes pytest set them up
#: a second time, which would load each again and redo pyAgrum's references and our diagnoses.
_SMALL_CASES: dict[str, Case] = {}


@pytest.fixture(scope="module", autouse=True)
def _drop_small_cases() -> Iterator[None]:
    yield
    _SMALL_CASES.clear()


@pytest.fixture(scope="module", params=NAMES)
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    """Each network loaded once: pytest runs its tests together and drops it before the next (MUNIN's
    import takes seconds and hundreds of megabytes); a small one is kept for the module."""
    name = request.param
    if name not in SMALL_NAMES:
        yield _load(name)
        return
    if name not in _SMALL_CASES:
        _SMALL_CASES[name] = _load(name)
    yield _SMALL_CASES[name]


def _refused_honestly(case: Case, error: IntractableError) -> None:
    """A refusal is allowed only where pyAgrum's plan is past the budget, and must say what it would need."""
    assert case.may_refuse, f"{case.name} fits the budget (pyAgrum's plan does) but was refused: {error}"
    assert error.size > error.budget == DEFAULT_BUDGET
    assert error.clique, "the refusal names no clique"


# -- discovery ----------------------------------------------------------------------------------

def test_every_bundled_bif_network_is_in_the_list() -> None:
    found = example_bifs()
    assert {"asia", "child", "alarm", "win95pts", "hepar2", "pathfinder", "munin"} <= set(found)
    assert all(bif_path(n).is_file() for n in found)


def test_targets_are_at_most_ten_roots_with_most_descendants() -> None:
    parents = {"a": (), "b": (), "c": ("a",), "d": ("c",), "e": ("b",)}
    assert roots_by_descendants(parents) == ["a", "b"]
    assert roots_by_descendants(parents, limit=1) == ["a"]   # a reaches c and d, b only e


# -- the comparisons ----------------------------------------------------------------------------

def test_target_posteriors_match_pyagrum(case: Case) -> None:
    name = case.name
    worst, where = 0.0, None
    for i, ev in enumerate(case.evidence):
        try:
            dist = case.diagnosis(i).distributions
        except IntractableError as error:
            _refused_honestly(case, error)
            continue
        ref, _ = case.reference(i)
        for t in case.targets:
            d = largest_difference(dist[t], ref[t])
            if d > worst:
                worst, where = d, (t, ev)
    assert worst <= TOL, f"{name}: off by {worst:.3g} at {where}"


def test_log_evidence_probability_matches_pyagrum(case: Case) -> None:
    name = case.name
    for i, ev in enumerate(case.evidence):
        try:
            got = case.diagnosis(i).log_evidence_probability
        except IntractableError as error:
            _refused_honestly(case, error)
            continue
        _, want = case.reference(i)
        assert abs(got - want) <= TOL, (name, ev, got, want)


def test_marginals_of_non_targets_match_pyagrum(case: Case) -> None:
    name = case.name
    for i, ev in enumerate(case.evidence):
        try:
            got = case.model.marginals(ev, nodes=case.others[i])
        except IntractableError as error:
            _refused_honestly(case, error)
            continue
        ref, _ = case.reference(i)
        assert list(got) == case.others[i]
        for n in case.others[i]:
            assert largest_difference(got[n], ref[n]) <= TOL, (name, n, ev, got[n], ref[n])


@pytest.mark.parametrize("case", SMALL_NAMES, indirect=True)
def test_target_posteriors_of_small_networks_match_pgmpy_too(case: Case) -> None:
    from pgmpy.inference import VariableElimination

    name = case.name
    ve = VariableElimination(case.model.to_pgmpy())
    for i, ev in enumerate(case.evidence):
        dist = case.diagnosis(i).distributions
        for t in case.targets:
            f = ve.query([t], evidence=dict(ev), show_progress=False)
            want = {str(s): float(p) for s, p in zip(f.state_names[t], f.values)}
            assert largest_difference(dist[t], want) <= TOL, (name, t, ev)
