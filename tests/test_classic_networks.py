"""The classic diagnostic networks that ship inside pgmpy, checked against pgmpy.

CHILD, ALARM and Win95pts run by default; HEPAR II and Pathfinder are
marked ``slow`` (CI runs them too). Every network is imported with
``kneebayes.load_bif`` and compared with pgmpy's ``VariableElimination`` on
our renormalised export (``model.to_pgmpy()``), on evidence sets drawn by
forward sampling from that export, so no evidence set is impossible. Each
set reveals 1-10 random non-target nodes. Every set is also checked against
pyAgrum's ``LazyPropagation`` on the same tables, which answers a set in
milliseconds where pgmpy takes a quarter of a second on Win95pts (34 targets):
pgmpy is asked about the first ``PGMPY_SAMPLES`` sets.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from networks import pyagrum_of, reference

import kneebayes
from kneebayes import KneeBayesError, RenormalisedWarning, StopReason
from kneebayes.interop.importer import IMPORT_TOLERANCE

pgmpy = pytest.importorskip("pgmpy")

TOL = 1e-9
SEED = 20240605

#: Evidence sets per network (forward samples), every one checked against pyAgrum.
SAMPLES = {"child": 300, "alarm": 300, "win95pts": 200, "hepar2": 150, "pathfinder": 150}
#: The first of them that pgmpy is asked about too: all where it is quick, fewer where each set costs
#: one query per target (eight on ALARM, 34 on Win95pts, nine on HEPAR II).
PGMPY_SAMPLES = {"child": 300, "alarm": 100, "win95pts": 30, "hepar2": 50, "pathfinder": 150}

#: Targets from docs/decisions ("Targets of the classic networks"); Win95pts: its root nodes.
TARGETS: dict[str, list[str] | None] = {
    "child": ["Disease"],
    "alarm": ["HYPOVOLEMIA", "LVFAILURE", "ANAPHYLAXIS", "INSUFFANESTH", "PULMEMBOLUS", "INTUBATION",
              "KINKEDTUBE", "DISCONNECT"],
    "win95pts": None,
    "hepar2": ["ChHepatitis", "Cirrhosis", "fibrosis", "Steatosis", "PBC", "Hyperbilirubinemia", "THepatitis",
               "RHepatitis", "carcinoma"],
    "pathfinder": ["Fault"],
}


def _path(name: str) -> str:
    return os.path.join(os.path.dirname(pgmpy.__file__), "utils", "example_models", name + ".bif.gz")


def _bif_roots(path: str) -> list[str]:
    """Nodes whose BIF probability block names no parents: ``probability ( X ) {``."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"probability\s*\(\s*([^\s|()]+)\s*\)", text)


@dataclass
class Network:
    name: str
    model: kneebayes.Model
    pgmpy: Any                 # our renormalised export
    ve: Any                    # VariableElimination on the export, built once
    targets: list[str]
    others: list[str]          # the non-target nodes
    evidence: list[dict[str, str]]


def _load(name: str) -> Network:
    from pgmpy.inference import VariableElimination
    from pgmpy.sampling import BayesianModelSampling

    path = _path(name)
    targets = TARGETS[name] or _bif_roots(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenormalisedWarning)   # the files are rounded; tested elsewhere
        model = kneebayes.load_bif(path, targets=targets)
    exported = model.to_pgmpy()
    others = [n for n in model.network.names if n not in set(targets)]
    frame = BayesianModelSampling(exported).forward_sample(size=SAMPLES[name], seed=SEED, show_progress=False)
    rng = np.random.default_rng(SEED)
    evidence = []
    for row in frame.to_dict("records"):
        shown = rng.choice(others, size=int(rng.integers(1, 11)), replace=False)
        evidence.append({str(n): str(row[n]) for n in sorted(shown)})
    return Network(name, model, exported, VariableElimination(exported), list(targets), others, evidence)


_CACHE: dict[str, Network] = {}


def _network(name: str) -> Network:
    if name not in _CACHE:
        _CACHE[name] = _load(name)
    return _CACHE[name]


@pytest.fixture(scope="module", autouse=True)
def _free_networks() -> Iterator[None]:
    """Each network is loaded once for this module (Pathfinder's BIF takes seconds) and dropped after it."""
    yield
    _CACHE.clear()


@pytest.fixture(scope="module")
def child() -> Network:
    return _network("child")


@pytest.fixture(scope="module")
def alarm() -> Network:
    return _network("alarm")


@pytest.fixture(scope="module")
def win95pts() -> Network:
    return _network("win95pts")


# -- pgmpy references ----------------------------------------------------------------------

def _pgmpy_marginal(ve: Any, node: str, evidence: Mapping[str, str]) -> dict[str, float]:
    f = ve.query([node], evidence=dict(evidence), show_progress=False)
    return {str(s): float(p) for s, p in zip(f.state_names[node], f.values)}


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _pgmpy_gain(ve: Any, targets: Sequence[str], candidate: str, evidence: Mapping[str, str]) -> float:
    """I(T; X) from one joint query of targets and candidate: H(T) - sum_x P(x) H(T | x), in bits."""
    f = ve.query([*targets, candidate], evidence=dict(evidence), joint=True, show_progress=False)
    p = np.moveaxis(np.asarray(f.values, dtype=float), f.variables.index(candidate), 0)
    p = p.reshape(p.shape[0], -1) / p.sum()
    p_x = p.sum(axis=1)
    h_given = sum(px * _entropy(row / px) for px, row in zip(p_x, p) if px > 0)
    return _entropy(p.sum(axis=0)) - h_given


def _close(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    assert set(a) == set(b), (sorted(a), sorted(b))
    return max(abs(a[s] - b[s]) for s in a)


# -- 1. posteriors of every target on hundreds of sampled evidence sets --------------------

_slow = pytest.mark.slow


@pytest.mark.parametrize("name", [
    "child", "alarm", "win95pts",
    pytest.param("hepar2", marks=_slow), pytest.param("pathfinder", marks=_slow),
])
def test_target_distributions_match_pgmpy_on_sampled_evidence(name: str) -> None:
    net = _network(name)
    assert len(net.evidence) == SAMPLES[name] >= PGMPY_SAMPLES[name] > 0
    worst, where = 0.0, None
    for ev in [{}, *net.evidence[:PGMPY_SAMPLES[name]]]:
        dist = net.model.diagnose(ev).distributions
        assert list(dist) == list(net.model.causes)
        for t in net.targets:
            assert math.isclose(math.fsum(dist[t].values()), 1.0, abs_tol=TOL), (t, ev)
            # one query per target: joint=False on many targets builds their whole joint
            d = _close(dist[t], _pgmpy_marginal(net.ve, t, ev))
            if d > worst:
                worst, where = d, (t, ev)
    assert worst <= TOL, f"{name}: off by {worst:.3g} at {where}"


@pytest.mark.parametrize("name", [
    "child", "alarm", "win95pts",
    pytest.param("hepar2", marks=_slow), pytest.param("pathfinder", marks=_slow),
])
def test_target_distributions_match_pyagrum_on_every_sampled_evidence_set(name: str) -> None:
    """The engine on every sampled set, against pyAgrum on our export's tables (pgmpy checks the first ones)."""
    pytest.importorskip("pyagrum")
    net = _network(name)
    bn = pyagrum_of(net.model)
    worst, where = 0.0, None
    for ev in [{}, *net.evidence]:
        dist = net.model.diagnose(ev).distributions
        assert list(dist) == list(net.model.causes)
        want, _ = reference(bn, ev, net.targets)
        for t in net.targets:
            assert math.isclose(math.fsum(dist[t].values()), 1.0, abs_tol=TOL), (t, ev)
            d = _close(dist[t], want[t])
            if d > worst:
                worst, where = d, (t, ev)
    assert worst <= TOL, f"{name}: off by {worst:.3g} at {where}"


@dataclass(frozen=True)
class FileTable:
    """One node as the BIF file writes it: its states, its parents and a row of numbers per parents' states."""

    states: tuple[str, ...]
    parents: tuple[str, ...]
    rows: dict[tuple[str, ...], tuple[float, ...]]


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.replace(",", " ").split())


def _file_tables(path: str) -> dict[str, FileTable]:
    """Every node's table, read from the file's text with regular expressions: independent of our reader.

    The files pgmpy ships are plain (no quotes, comments or ``default`` rows;
    every table complete, checked here), so this reads them in milliseconds
    where pgmpy's grammar takes seconds (twelve on Pathfinder's 1.6 MB).
    """
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    assert not any(mark in text for mark in ('"', "/*", "//", "default")), f"{path}: not a plain BIF file"
    declared = re.findall(r"variable\s+(\S+)\s*\{\s*type\s+discrete\s*\[\s*\d+\s*\]\s*\{([^}]*)\}", text)
    states = {name: tuple(s.strip() for s in body.split(",")) for name, body in declared}
    tables: dict[str, FileTable] = {}
    for node, given, body in re.findall(r"probability\s*\(\s*([^\s|()]+)\s*(?:\|([^()]*))?\)\s*\{([^}]*)\}", text):
        parents = tuple(p.strip() for p in given.split(",")) if given.strip() else ()
        if parents:
            rows = {tuple(s.strip() for s in assignment.split(",")): _numbers(values)
                    for assignment, values in re.findall(r"\(([^)]*)\)([^;]*);", body)}
        else:
            rows = {(): _numbers(re.fullmatch(r"\s*table([^;]*);\s*", body).group(1))}  # type: ignore[union-attr]
        # every row read, each with a number per state: nothing was skipped by the expressions
        assert len(rows) == math.prod(len(states[p]) for p in parents), node
        assert all(len(row) == len(states[node]) for row in rows.values()), node
        assert all(s in states[p] for key in rows for p, s in zip(parents, key)), node
        tables[node] = FileTable(states[node], parents, rows)
    assert set(tables) == set(states)
    return tables


def _file_difference(table: FileTable, cpd: Any) -> float:
    """Largest difference between the file's table and a CPD of the same node, matched by variable and state names."""
    factor = cpd.to_factor()
    names = {v: [str(s) for s in factor.state_names[v]] for v in factor.variables}
    assert sorted(names[cpd.variable]) == sorted(table.states), cpd.variable
    assert all(sorted(names[p]) == sorted(set(k[i] for k in table.rows)) for i, p in enumerate(table.parents))
    worst = 0.0
    for key, row in table.rows.items():
        index: list[Any] = [0] * len(factor.variables)
        for p, s in zip(table.parents, key):
            index[factor.variables.index(p)] = names[p].index(s)
        index[factor.variables.index(cpd.variable)] = [names[cpd.variable].index(s) for s in table.states]
        worst = max(worst, float(np.abs(factor.values[tuple(index)] - np.asarray(row)).max()))
    return worst


@pytest.mark.parametrize("name", [
    "child", "alarm", "win95pts",
    pytest.param("hepar2", marks=_slow), pytest.param("pathfinder", marks=_slow),
])
def test_the_export_we_compare_with_is_the_file_renormalised(name: str) -> None:
    """Agreement with pgmpy on our export proves the engine; this ties the export to the published file."""
    net = _network(name)
    original = _file_tables(_path(name))
    assert set(original) == set(net.pgmpy.nodes())
    assert {(p, node) for node, table in original.items() for p in table.parents} == set(net.pgmpy.edges())
    for cpd in net.pgmpy.get_cpds():
        column_sums = np.asarray(cpd.get_values(), dtype=float).sum(axis=0)
        assert np.abs(column_sums - 1).max() <= TOL, cpd.variable
        assert _file_difference(original[cpd.variable], cpd) <= IMPORT_TOLERANCE


def test_win95pts_targets_are_its_root_nodes(win95pts: Network) -> None:
    roots = sorted(n for n in win95pts.pgmpy.nodes() if win95pts.pgmpy.in_degree(n) == 0)
    assert sorted(win95pts.targets) == roots
    assert len(roots) == 34
    assert set(win95pts.model.causes) == set(roots)
    assert any(n.startswith("Problem") for n in win95pts.others)


# -- 2. every node's marginal at once ---------------------------------------------------------

@pytest.mark.parametrize("name", ["child", "alarm"])
def test_all_marginals_at_once_match_pgmpy_per_node(name: str) -> None:
    net = _network(name)
    for ev in [{}, *net.evidence[:4]]:
        got = net.model.marginals(ev)
        assert set(got) == set(net.model.network.names)
        for node, dist in got.items():
            assert math.isclose(math.fsum(dist.values()), 1.0, abs_tol=TOL)
            if node in ev:
                assert dist == {s: float(s == ev[node]) for s in dist}, (node, ev)
            else:
                assert _close(dist, _pgmpy_marginal(net.ve, node, ev)) <= TOL, (node, ev)


@pytest.mark.parametrize("name", [
    "child", "alarm", "win95pts",
    pytest.param("hepar2", marks=_slow), pytest.param("pathfinder", marks=_slow),
])
def test_all_marginals_at_once_stay_within_a_few_megabytes(name: str) -> None:
    """pgmpy's joint=False query over every node builds their joint (7.5 GiB on CHILD); ours is one sweep."""
    import tracemalloc

    net = _network(name)
    ev = net.evidence[0]
    net.model.marginals(ev)   # compile-time caches and layouts first, so only the query itself is measured
    tracemalloc.start()
    try:
        got = net.model.marginals(ev)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(got) == len(net.model.network.names)
    assert peak < 16e6, f"{name}: all marginals peaked at {peak / 1e6:.1f} MB"


# -- 3. the question ranking -----------------------------------------------------------------

def _assert_ranked(questions: Sequence[Any]) -> None:
    keys = [(-q.score, q.id) for q in questions]
    assert keys == sorted(keys)


def test_child_ranking_equals_pgmpy_joint_gains(child: Network) -> None:
    for ev in [{}, *child.evidence[:4]]:
        ranked = child.model.diagnose(ev).ranked_questions
        assert {q.id for q in ranked} == set(child.others) - set(ev)
        _assert_ranked(ranked)
        for q in ranked:
            want = _pgmpy_gain(child.ve, ["Disease"], q.id, ev)
            assert abs(q.expected_information_gain - want) <= TOL, (q.id, ev, q.expected_information_gain, want)


def test_alarm_ranking_uses_the_joint_of_its_eight_targets(alarm: Network) -> None:
    ev = alarm.evidence[0]
    ranked = alarm.model.diagnose(ev).ranked_questions
    assert {q.id for q in ranked} == set(alarm.others) - set(ev)
    for q in ranked[:3] + ranked[-2:]:
        want = _pgmpy_gain(alarm.ve, alarm.targets, q.id, ev)
        assert abs(q.expected_information_gain - want) <= TOL, (q.id, q.expected_information_gain, want)


def test_win95pts_ranking_is_the_sum_of_per_target_gains(win95pts: Network) -> None:
    net = win95pts
    ev = next(e for e in net.evidence if any(n.startswith("Problem") for n in e))
    ranked = net.model.diagnose(ev).ranked_questions
    assert {q.id for q in ranked} == set(net.others) - set(ev)
    _assert_ranked(ranked)
    # the best three, one from the middle and the last: a handful, 34 joint queries each
    picked = [*ranked[:3], ranked[len(ranked) // 2], ranked[-1]]
    assert ranked[0].expected_information_gain > 0
    for q in picked:
        want = math.fsum(_pgmpy_gain(net.ve, [t], q.id, ev) for t in net.targets)
        assert abs(q.expected_information_gain - want) <= TOL, (q.id, q.expected_information_gain, want)


# -- 4. the multi-state API on CHILD ------------------------------------------------------------

def test_posterior_on_multi_state_targets_points_to_distributions(child: Network) -> None:
    dx = child.model.diagnose({"Grunting": "yes"})
    with pytest.raises(KneeBayesError, match="target 'Disease' has the states 'PFC', .* not yes and no: use "
                                             "Diagnosis.distributions"):
        _ = dx.posterior
    with pytest.raises(KneeBayesError, match="not yes and no: use Diagnosis.distributions"):
        _ = dx.ranked_causes
    dist = dx.distributions["Disease"]
    assert list(dist) == ["PFC", "TGA", "Fallot", "PAIVS", "TAPVD", "Lung"]
    assert math.isclose(math.fsum(dist.values()), 1.0, abs_tol=TOL)
    assert dx.leading_probability == max(dist.values())


def test_state_names_with_slashes_signs_and_numbers_work_as_evidence(child: Network) -> None:
    assert "Asy/Patch" in child.model.node("ChestXray").states
    assert "Asy/Patchy" in child.model.node("XrayReport").states
    ev = {"ChestXray": "Asy/Patch", "XrayReport": "Asy/Patchy", "LowerBodyO2": "<5", "RUQO2": "5-12",
          "Age": "0-3_days", "CO2Report": ">=7.5", "CardiacMixing": "Transp."}
    dx = child.model.diagnose(ev)
    assert dict(dx.evidence) == ev
    assert 0 < dx.evidence_probability < 1
    assert _close(dx.distributions["Disease"], _pgmpy_marginal(child.ve, "Disease", ev)) <= TOL
    got = child.model.marginals(ev, ["ChestXray", "LungFlow", "Disease"])
    assert got["ChestXray"]["Asy/Patch"] == 1.0
    assert _close(got["LungFlow"], _pgmpy_marginal(child.ve, "LungFlow", ev)) <= TOL
    assert {q.id for q in dx.ranked_questions}.isdisjoint(ev)


# -- 5. normal states and the "confident" stop rule ------------------------------------------

WIN95PTS_BY_NAME = {
    "AppOK": "Correct", "DataFile": "Correct", "PrtThread": "OK", "DrvSet": "Correct", "PrtPath": "Correct",
    "NtwrkCnfg": "Correct", "CblPrtHrdwrOK": "Operational", "PrtMpTPth": "Correct", "PgOrnttnOK": "Correct",
    "PrntngArOK": "Correct", "GrphcsRltdDrvrSttngs": "Correct",
}


@pytest.fixture(scope="module")
def win95pts_normal(win95pts: Network) -> kneebayes.Model:
    """Win95pts with every root's usual state (its most probable a priori) as its normal state."""
    prior = win95pts.model.diagnose({}).distributions
    usual = {t: max(dist, key=lambda s: dist[s]) for t, dist in prior.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenormalisedWarning)
        return kneebayes.load_bif(_path("win95pts"), targets=win95pts.targets, normal_states=usual)


def test_win95pts_name_rule_finds_the_correct_ok_and_operational_states(win95pts: Network) -> None:
    found = {t: s for t, s in win95pts.model.normal_states.items() if s is not None}
    assert found == WIN95PTS_BY_NAME   # its Yes/No roots are left alone: "Yes" is healthy for PrtOn


def test_alarm_name_rule_finds_only_intubation_normal(alarm: Network) -> None:
    assert {t: s for t, s in alarm.model.normal_states.items() if s is not None} == {"INTUBATION": "NORMAL"}


def test_child_disease_has_no_normal_state(child: Network) -> None:
    assert child.model.normal_states == {"Disease": None}


@_slow
def test_hepar2_name_rule_finds_absent_for_every_disorder() -> None:
    assert dict(_network("hepar2").model.normal_states) == {t: "absent" for t in TARGETS["hepar2"]}


def test_win95pts_with_normal_states_does_not_stop_before_the_first_question(win95pts_normal: kneebayes.Model) -> None:
    session = kneebayes.Interview(win95pts_normal)
    dx = session.diagnosis
    assert dx.leading_probability < dx.settings.confidence
    assert dx.stop_reason is None
    assert session.next_question() is not None


def test_win95pts_stops_confident_once_the_evidence_points_to_one_fault(win95pts_normal: kneebayes.Model) -> None:
    dx = win95pts_normal.diagnose({"Problem1": "No_Output", "PrtStatOff": "OFFLINE__OFF"})
    assert dx.distributions["PrtOn"]["No"] >= dx.settings.confidence      # the printer is off
    assert dx.leading_probability == pytest.approx(dx.distributions["PrtOn"]["No"], abs=TOL)
    assert dx.stop_reason is StopReason.CONFIDENT


def test_win95pts_roots_without_a_normal_state_still_count_their_largest_state(win95pts: Network) -> None:
    dx = win95pts.model.diagnose({})                  # only the name rule's eleven normal states
    assert dx.leading_probability == pytest.approx(0.995, abs=TOL)   # e.g. TnrSpply = Adequate
    assert dx.stop_reason is StopReason.CONFIDENT
