"""Random networks too wide for one naive elimination step: exact all the same.

Each network here couples more than 52 variables, the most one ``einsum``
call can name, so an engine that contracts a component in one step (or
builds a noisy-OR's full table) cannot answer; one that eliminates variable
by variable, factorising noisy-OR, answers exactly and cheaply.

* Noisy-OR findings over 53-80 shared yes/no causes, written as a model
  file (``kneebayes.load_model``), the causes independent (a QMR-shaped
  network) or all hanging under one shared multi-state root: the reference
  is the exact closed form (Heckerman's Quickscore, inclusion-exclusion over
  the findings observed ``yes``, summed over the root's states).
* A long chain of multi-state nodes with a leaf under every link, most leaves
  observed, and a ring of roots whose neighbours share a child, every child
  observed, built in pgmpy (``kneebayes.from_pgmpy``): the reference is
  pyAgrum's ``LazyPropagation`` on the model's own tables.
"""

from __future__ import annotations

import itertools
import math
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kneebayes
from networks import TOL, largest_difference, pyagrum_of, reference
from strategies import scaled

#: One einsum names at most 52 variables (a-z, A-Z).
EINSUM_LETTERS = 52

_slow_examples = settings(max_examples=scaled(20), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- noisy-OR findings over many shared causes (a model file) -------------------------------------

@dataclass(frozen=True)
class Bipartite:
    seasons: tuple[float, ...]                              # P(season = s); one season: no season node
    priors: tuple[tuple[float, ...], ...]                   # P(cause i = yes | season s), per cause
    findings: tuple[tuple[float, dict[int, float]], ...]    # (leak, {cause: weight}) per finding
    targets: tuple[int, ...]                                # causes reported as targets
    evidence: dict[int, str]                                # finding index -> "yes" / "no"


def _probability(draw: st.DrawFn) -> float:
    # two decimals: readable in the file, far from the 0 and 1 that would make evidence impossible
    return draw(st.integers(5, 95)) / 100


@st.composite
def bipartite(draw: st.DrawFn) -> Bipartite:
    """Causes with noisy-OR findings over them; with two or three seasons, every cause also depends on
    a shared root, so the causes are no longer independent (no QMR shortcut applies)."""
    n = draw(st.integers(EINSUM_LETTERS + 1, 80))
    weights = [draw(st.integers(1, 9)) for _ in range(draw(st.integers(1, 3)))]
    seasons = tuple(w / sum(weights) for w in weights)
    priors = tuple(tuple(_probability(draw) for _ in seasons) for _ in range(n))
    findings = []
    for f in range(draw(st.integers(2, 4))):
        # the first finding hangs under every cause, the others under random sets of more than 52
        members = range(n) if f == 0 else sorted(draw(st.sets(st.integers(0, n - 1), min_size=EINSUM_LETTERS + 1,
                                                              max_size=n)))
        leak = draw(st.integers(1, 20)) / 100
        findings.append((leak, {i: _probability(draw) for i in members}))
    targets = tuple(sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=3))))
    observed = draw(st.sets(st.integers(0, len(findings) - 1), min_size=1))
    evidence = {f: draw(st.sampled_from(["yes", "no"])) for f in sorted(observed)}
    return Bipartite(seasons, priors, tuple(findings), targets, evidence)


def _param(value: float) -> str:
    return (f"{{value: {value!r}, range: [{value / 2:.6g}, {(1 + value) / 2:.6g}], "
            f"source: random test network, rationale: drawn by hypothesis}}")


def _model_file(net: Bipartite) -> str:
    lines = ["format: kneebayes-model/1", "name: wide", "version: '1'", "title: Many causes share each finding",
             "nodes:"]
    seasonal = len(net.seasons) > 1
    if seasonal:
        lines += ["  - id: season", "    label: season", "    kind: risk_factor", "    question: which season?",
                  f"    states: [{', '.join(f's{k}' for k in range(len(net.seasons)))}]", "    prior:"]
        lines += [f"      s{k}: {_param(p)}" for k, p in enumerate(net.seasons)]
    for i, ps in enumerate(net.priors):
        kind = "cause" if i in net.targets else "risk_factor"
        lines += [f"  - id: c{i}", f"    label: cause {i}", f"    kind: {kind}", f"    question: c{i}?"]
        if seasonal:
            lines += ["    table:", "      parents: [season]", "      source: random test network",
                      "      rationale: drawn by hypothesis", "      columns:"]
            lines += [f"        - given: {{season: s{k}}}\n          probabilities: {{'yes': {p!r}, 'no': {1 - p!r}}}"
                      for k, p in enumerate(ps)]
        else:
            lines += [f"    prior: {_param(ps[0])}"]
    for f, (leak, weights) in enumerate(net.findings):
        lines += [f"  - id: f{f}", f"    label: finding {f}", "    kind: finding", f"    question: f{f}?",
                  "    noisy_or:", f"      leak: {_param(leak)}", "      weights:"]
        lines += [f"        c{i}: {_param(w)}" for i, w in weights.items()]
    return "\n".join(lines) + "\n"


def _load(text: str) -> kneebayes.Model:
    with tempfile.TemporaryDirectory() as folder:   # hypothesis reruns the body; tmp_path would be shared
        path = Path(folder) / "wide.yaml"
        path.write_text(text, encoding="utf-8")
        return kneebayes.load_model(path)


def _all_no(net: Bipartite, season: int, absent: Sequence[int], fixed: Mapping[int, int]) -> float:
    """P(every finding in ``absent`` is no, and the causes in ``fixed`` take those values | season).

    Given the causes, the findings are independent and each is no with
    probability (1 - leak) * prod over its present causes of (1 - w); given
    the season the causes are independent, so the sum over them factorises
    cause by cause.
    """
    total = math.prod(1 - net.findings[f][0] for f in absent)
    for i, ps in enumerate(net.priors):
        p = ps[season]
        keep = math.prod(1 - net.findings[f][1].get(i, 0.0) for f in absent)   # when cause i is present
        if i in fixed:
            total *= p * keep if fixed[i] else 1 - p
        else:
            total *= (1 - p) + p * keep
    return total


def quickscore(net: Bipartite, fixed: Mapping[int, int] | None = None) -> float:
    """P(evidence, causes in ``fixed``): inclusion-exclusion over the findings observed yes, per season."""
    fixed = fixed or {}
    negative = [f for f, s in net.evidence.items() if s == "no"]
    positive = [f for f, s in net.evidence.items() if s == "yes"]
    return math.fsum(q * (-1) ** len(sub) * _all_no(net, season, negative + list(sub), fixed)
                     for season, q in enumerate(net.seasons)
                     for k in range(len(positive) + 1) for sub in itertools.combinations(positive, k))


def _evidence_ids(net: Bipartite) -> dict[str, str]:
    return {f"f{f}": s for f, s in net.evidence.items()}


@_slow_examples
@given(net=bipartite())
def test_noisy_or_findings_over_many_shared_causes_match_quickscore(net: Bipartite) -> None:
    model = _load(_model_file(net))
    dist = model.diagnose(_evidence_ids(net)).distributions
    pe = quickscore(net)
    for i in net.targets:
        want = quickscore(net, {i: 1}) / pe
        assert abs(dist[f"c{i}"]["yes"] - want) <= TOL, (i, dist[f"c{i}"], want)


@_slow_examples
@given(net=bipartite())
def test_noisy_or_findings_over_many_shared_causes_give_quickscore_evidence_probability(net: Bipartite) -> None:
    model = _load(_model_file(net))
    got = model.diagnose(_evidence_ids(net)).log_evidence_probability
    assert abs(got - math.log(quickscore(net))) <= TOL


@_slow_examples
@given(net=bipartite(), data=st.data())
def test_marginals_of_non_target_causes_match_quickscore(net: Bipartite, data: st.DataObject) -> None:
    model = _load(_model_file(net))
    others = [i for i in range(len(net.priors)) if i not in net.targets]
    picked = data.draw(st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True))
    got = model.marginals(_evidence_ids(net), nodes=[f"c{i}" for i in picked])
    pe = quickscore(net)
    for i in picked:
        assert abs(got[f"c{i}"]["yes"] - quickscore(net, {i: 1}) / pe) <= TOL, i


def test_quickscore_equals_enumeration_on_a_small_network() -> None:
    """The reference itself, checked by summing the joint on a network small enough to enumerate."""
    net = Bipartite((0.4, 0.6), ((0.3, 0.1), (0.6, 0.5), (0.2, 0.7)),
                    ((0.1, {0: 0.7, 1: 0.4, 2: 0.9}), (0.05, {1: 0.5, 2: 0.2})), (0,), {0: "yes", 1: "no"})
    joint_e, joint_e_c0 = 0.0, 0.0
    for season, q in enumerate(net.seasons):
        for causes in itertools.product((0, 1), repeat=3):
            p = q * math.prod(ps[season] if x else 1 - ps[season] for ps, x in zip(net.priors, causes))
            for f, state in net.evidence.items():
                leak, weights = net.findings[f]
                no = (1 - leak) * math.prod(1 - w for i, w in weights.items() if causes[i])
                p *= no if state == "no" else 1 - no
            joint_e += p
            joint_e_c0 += p * causes[0]
    assert quickscore(net) == pytest.approx(joint_e, abs=1e-15)
    assert quickscore(net, {0: 1}) == pytest.approx(joint_e_c0, abs=1e-15)


# -- chains and rings of full tables (pgmpy) ------------------------------------------------------

@dataclass(frozen=True)
class Tables:
    cards: dict[str, int]
    parents: dict[str, tuple[str, ...]]        # parents first, in insertion order
    tables: dict[str, np.ndarray]              # shape (card, *parent cards), columns sum to 1
    targets: tuple[str, ...]
    evidence: dict[str, str]


def _column_tables(draw: st.DrawFn, cards: Mapping[str, int], parents: Mapping[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    out = {}
    for node, ps in parents.items():
        raw = rng.uniform(0.05, 1.0, size=(cards[node], *(cards[p] for p in ps)))
        out[node] = raw / raw.sum(axis=0, keepdims=True)
    return out


def _observe(draw: st.DrawFn, cards: Mapping[str, int], nodes: Sequence[str], share: float) -> dict[str, str]:
    """Observed states of about ``share`` of ``nodes`` (all tables are positive, so any set is possible)."""
    return {n: f"s{draw(st.integers(0, cards[n] - 1))}" for n in nodes if draw(st.floats(0, 1)) < share}


@st.composite
def chain(draw: st.DrawFn) -> Tables:
    """x0 -> x1 -> ... -> x(n-1), and a leaf y_i under each x_i; most leaves observed."""
    n = draw(st.integers(EINSUM_LETTERS + 1, 90))
    cards: dict[str, int] = {}
    parents: dict[str, tuple[str, ...]] = {}
    for i in range(n):
        cards[f"x{i}"] = draw(st.integers(2, 3))
        parents[f"x{i}"] = (f"x{i - 1}",) if i else ()
        cards[f"y{i}"] = 2
        parents[f"y{i}"] = (f"x{i}",)
    tables = _column_tables(draw, cards, parents)
    targets = tuple(sorted({"x0", f"x{draw(st.integers(1, n - 1))}"}))
    evidence = _observe(draw, cards, [f"y{i}" for i in range(n)], share=0.9)
    return Tables(cards, parents, tables, targets, evidence)


@st.composite
def ring(draw: st.DrawFn) -> Tables:
    """Roots r0..r(n-1); child c_i under r_i and r_(i+1 mod n): every root shares two children."""
    n = draw(st.integers(EINSUM_LETTERS + 1, 70))
    cards = {f"r{i}": draw(st.integers(2, 3)) for i in range(n)}
    parents: dict[str, tuple[str, ...]] = {f"r{i}": () for i in range(n)}
    for i in range(n):
        cards[f"c{i}"] = 2
        parents[f"c{i}"] = (f"r{i}", f"r{(i + 1) % n}")
    tables = _column_tables(draw, cards, parents)
    targets = tuple(sorted({f"r{i}" for i in draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=3))}))
    evidence = _observe(draw, cards, [f"c{i}" for i in range(n)], share=1.0)
    return Tables(cards, parents, tables, targets, evidence)


def _from_pgmpy(net: Tables) -> kneebayes.Model:
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([(p, n) for n, ps in net.parents.items() for p in ps])
    bn.add_nodes_from(net.parents)
    states = {n: [f"s{k}" for k in range(c)] for n, c in net.cards.items()}
    for node, ps in net.parents.items():
        values = net.tables[node].reshape(net.cards[node], -1)
        bn.add_cpds(TabularCPD(node, net.cards[node], values, evidence=list(ps) or None,
                               evidence_card=[net.cards[p] for p in ps] or None,
                               state_names={v: states[v] for v in (node, *ps)}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)   # columns 2e-16 off, from the division
        return kneebayes.from_pgmpy(bn, targets=list(net.targets))


def _check_against_pyagrum(net: Tables) -> None:
    model = _from_pgmpy(net)
    ref, log_pe = reference(pyagrum_of(model), net.evidence, net.targets)
    dx = model.diagnose(net.evidence)
    for t in net.targets:
        assert largest_difference(dx.distributions[t], ref[t]) <= TOL, (t, dict(dx.distributions[t]), ref[t])
    assert abs(dx.log_evidence_probability - log_pe) <= TOL


@_slow_examples
@given(net=chain())
def test_a_long_chain_with_observed_leaves_matches_pyagrum(net: Tables) -> None:
    pytest.importorskip("pgmpy")
    pytest.importorskip("pyagrum")
    _check_against_pyagrum(net)


@_slow_examples
@given(net=ring())
def test_a_ring_of_roots_sharing_children_matches_pyagrum(net: Tables) -> None:
    pytest.importorskip("pgmpy")
    pytest.importorskip("pyagrum")
    _check_against_pyagrum(net)
