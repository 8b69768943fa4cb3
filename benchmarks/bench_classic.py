"""Time kneebayes, pgmpy and pyAgrum side by side on the classic diagnostic networks that ship inside pgmpy.

    python benchmarks/bench_classic.py                                   # all five networks
    python benchmarks/bench_classic.py --networks child alarm --cases 50
    python benchmarks/bench_classic.py --json benchmarks/results/bench_classic.json

For each network (CHILD, ALARM, Win95pts, HEPAR II, Pathfinder, read from
pgmpy's bundled ``utils/example_models/NAME.bif.gz``; targets as in
the project's conventions, Win95pts' targets are its 34 root faults):

* **Load**: ``kneebayes.load_bif(path, targets=...)``, once, timed on its own
  (after one untimed load of CHILD, so first-use costs are not charged to the
  first network: the time is the network's own parse, check, renormalise and
  compile). Beside it pgmpy's ``BIFReader(string=text).get_model()`` on the
  same unpacked text (parse only, no compile: a conservative comparison).
* **Evidence sets**: ``--cases`` complete cases forward-sampled from the
  imported network (``kneebayes.research.sampling.sample_cases``), each
  revealing a random 3-8 of its non-target nodes. Seeded. Never impossible.
* **Posterior of the targets**. kneebayes: the public call
  ``model.diagnose(ev).distributions``. pgmpy: one
  ``VariableElimination(model.to_pgmpy())`` built once (not timed per case),
  then ``query(targets, evidence=ev, joint=False)``; where the targets' joint
  is larger than 4,096 states (Win95pts: 2^34), one query per target, since
  ``joint=False`` builds the targets' joint first. pyAgrum: one
  ``LazyPropagation`` over the same tables (``pyagrum_ref.py``), built once
  with the targets set, then ``setEvidence(ev)``, ``makeInference()`` and
  ``posterior(target)``.
* **Batch**: ``model.diagnose_frame`` on ``--batch-rows`` (default 1,000)
  further sampled evidence sets as one DataFrame, the first call on that
  frame, per row (the median of ``--repeats`` more runs beside it); every row
  checked against ``model.diagnose`` to 1e-12.
  Shown beside the per-case posterior times (a loop of ``diagnose``, and
  pgmpy's): no target, so that a user can see where a batch beats a loop.
* **Full next-question ranking**. kneebayes: ``dx = model.diagnose(ev);
  list(dx.ranked_questions)``. pgmpy: for every candidate (each askable node
  not in the evidence) one joint query of the targets and the candidate, and
  the gain H(T) - sum_x P(x) H(T | x) in bits from that joint in numpy,
  while the targets' joint has at most 4,096 states; otherwise (Win95pts) one
  joint query of {target, candidate} per pair, the gain summed over the
  targets -- the measure kneebayes reports as ``gain_measure``. pyAgrum: every
  such joint (or pair) declared as a joint target of one ``LazyPropagation``,
  one ``makeInference()`` per case, the gains from ``jointPosterior``.
  pgmpy's ranking takes seconds per case on Win95pts, so it ranks only
  ``--slow-cases`` (default 5) of the evidence sets; the other networks
  rank all ``--cases`` (Pathfinder's pgmpy ranking, ~0.1 s a case, adds
  about 10 s).

What is timed is the FIRST call on each new evidence set, as a user diagnosing
a new case meets it: posterior, ranking and batch each get evidence sets of
their own (sampled with different seeds), each case a fresh dict that this
process has never diagnosed; one untimed call with no evidence per engine
pays the one-off costs. The engines take turns ten cases at a time, their
order rotating, so that a change in the machine's speed during the run (on a
shared virtual machine it moves by 2x within minutes) touches all three alike.
The table shows the median over cases. kneebayes then repeats every case
``--repeats`` times: the warm median is shown beside the first-call one,
never instead. pgmpy and pyAgrum are timed once per case. The ratios are
pgmpy's and pyAgrum's medians / kneebayes' first-call median on the same
cases. Every measured case is checked: posteriors agree to 1e-9 and every
candidate's gain agrees to 1e-9, against both references (asserted). The targets (posterior
at least 5x faster than pgmpy, ranking at least 20x) are printed beside the
numbers as met or missed, never asserted: timings move with machine load.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import re
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import kneebayes
from kneebayes.research.sampling import sample_cases

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyagrum_ref  # noqa: E402 - the benchmarks' own helper, beside this file
from engine_source import engine_source  # noqa: E402 - the same

NETWORKS = ["child", "alarm", "win95pts", "hepar2", "pathfinder"]
TARGETS: dict[str, list[str] | None] = {        # the targets each classic network is diagnosed for
    "child": ["Disease"],
    "alarm": ["HYPOVOLEMIA", "LVFAILURE", "ANAPHYLAXIS", "INSUFFANESTH", "PULMEMBOLUS", "INTUBATION",
              "KINKEDTUBE", "DISCONNECT"],
    "win95pts": None,                            # its root nodes
    "hepar2": ["ChHepatitis", "Cirrhosis", "fibrosis", "Steatosis", "PBC", "Hyperbilirubinemia", "THepatitis",
               "RHepatitis", "carcinoma"],
    "pathfinder": ["Fault"],
}
SLOW_RANKING = {"win95pts"}                     # few ranked cases: pgmpy takes seconds per case
JOINT_LIMIT = 4096                              # the documented limit for the joint-entropy gain
TARGET_POSTERIOR_RATIO = 5.0
TARGET_RANKING_RATIO = 20.0
TOL = 1e-9
REVEAL = (3, 8)


def bif_path(name: str) -> str:
    import pgmpy

    return os.path.join(os.path.dirname(pgmpy.__file__), "utils", "example_models", name + ".bif.gz")


def root_nodes(path: str) -> list[str]:
    """Nodes whose BIF probability block names no parents: ``probability ( X ) {``."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return re.findall(r"probability\s*\(\s*([^\s|()]+)\s*\)", f.read())


def evidence_sets(model: kneebayes.Model, targets: list[str], n: int, seed: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    others = [node.id for node in model.nodes if node.id not in targets]
    out = []
    for case in sample_cases(model, n, rng):
        k = int(rng.integers(REVEAL[0], REVEAL[1] + 1))
        shown = sorted(rng.choice(len(others), size=min(k, len(others)), replace=False))
        out.append({others[j]: case[others[j]] for j in shown})
    return out


# -- kneebayes ---------------------------------------------------------------------------
#: Cases per turn: the engines take turns this many cases at a time (see ``time_side_by_side``).
BLOCK = 10


def time_side_by_side(calls: dict[str, Any], cases: list[dict[str, str]], block: int = BLOCK
                      ) -> dict[str, tuple[list[float], list[Any]]]:
    """Each engine's wall time per case in ms (once per case, a fresh dict each time) and its results.

    The engines take turns ``block`` cases at a time, their order rotating
    from block to block, so a change in the machine's speed during the run
    (on a shared virtual machine it moves by 2x within minutes) touches
    every engine alike; within a block each engine runs its cases back to
    back, as a user's calls would. Call each engine once before (its
    one-off costs, on evidence no case has).
    """
    clock = time.perf_counter_ns
    names = list(calls)
    out: dict[str, tuple[list[float], list[Any]]] = {n: ([], []) for n in names}
    for b, start in enumerate(range(0, len(cases), block)):
        for k in range(len(names)):
            name = names[(b + k) % len(names)]
            times, results = out[name]
            for ev in cases[start : start + block]:
                fresh = dict(ev)
                t0 = clock()
                result = calls[name](fresh)
                times.append((clock() - t0) / 1e6)
                results.append(result)
    return out


def warm_medians(call, cases: list[dict[str, str]], repeats: int) -> list[float]:
    """Each case's median time in ms over ``repeats`` more passes (after its first call): for comparison only."""
    clock = time.perf_counter_ns
    per_case: list[list[float]] = [[] for _ in cases]
    for _ in range(repeats):
        for i, ev in enumerate(cases):
            fresh = dict(ev)
            t0 = clock()
            call(fresh)
            per_case[i].append((clock() - t0) / 1e6)
    return [statistics.median(ts) for ts in per_case] if repeats else []


def ours_posterior(model: kneebayes.Model):
    def call(ev: dict[str, str]):
        return model.diagnose(ev).distributions
    return call


def ours_ranking(model: kneebayes.Model):
    def call(ev: dict[str, str]):
        return list(model.diagnose(ev).ranked_questions)
    return call


# -- pgmpy -------------------------------------------------------------------------------
mutual_information_bits = pyagrum_ref.mutual_information_bits   # one definition for every engine's ranking


def pgmpy_posterior(ve, targets: list[str], per_target: bool, ev: dict[str, str]) -> dict[str, dict[str, float]]:
    if per_target:
        factors = {t: ve.query([t], evidence=ev, joint=False, show_progress=False)[t] for t in targets}
    else:
        factors = ve.query(targets, evidence=ev, joint=False, show_progress=False)
    return {t: dict(zip(f.state_names[t], f.values.tolist())) for t, f in factors.items()}


def pgmpy_ranking(ve, targets: list[str], candidates: list[str], joint: bool, ev: dict[str, str]) -> dict[str, float]:
    gains: dict[str, float] = {}
    for cand in candidates:
        total = 0.0
        for group in [targets] if joint else [[t] for t in targets]:
            factor = ve.query(group + [cand], evidence=ev, joint=True, show_progress=False)
            values = np.moveaxis(factor.values, factor.variables.index(cand), 0)
            total += mutual_information_bits(values.reshape(values.shape[0], -1))
        gains[cand] = total
    return gains


# -- one network -------------------------------------------------------------------------
def run_network(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from pgmpy.inference import VariableElimination

    path = bif_path(name)
    targets = TARGETS[name] or root_nodes(path)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)   # the published files are rounded
        model = kneebayes.load_bif(path, targets=targets)
    load_s = time.perf_counter() - t0
    from pgmpy.readwrite import BIFReader

    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    t0 = time.perf_counter()
    BIFReader(string=text).get_model()
    pgmpy_read_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ve = VariableElimination(model.to_pgmpy())               # built once, reused
    pgmpy_setup_s = time.perf_counter() - t0

    cards = {n.id: len(n.states) for n in model.nodes}
    joint_states = math.prod(cards[t] for t in targets)
    joint = joint_states <= JOINT_LIMIT
    t0 = time.perf_counter()
    gum_bn = pyagrum_ref.from_pgmpy(model.to_pgmpy())
    gum_posterior = pyagrum_ref.posterior_engine(gum_bn, targets)
    gum_ranking = pyagrum_ref.ranking_engine(gum_bn, targets, joint)
    pyagrum_setup_s = time.perf_counter() - t0

    askable = [n.id for n in model.nodes if n.askable]
    cases = evidence_sets(model, targets, args.cases, args.seed)
    n_rank = min(args.slow_cases, len(cases)) if name in SLOW_RANKING else len(cases)
    rank_cases = evidence_sets(model, targets, n_rank, args.seed + 2)    # new sets: the ranking's first calls too
    model.diagnose({}).distributions                          # one-off costs, on evidence no case has
    print(f"\n{name}: {len(model.nodes)} nodes, {len(targets)} targets (joint of {joint_states:,} states: "
          f"gain by {'joint entropy' if joint else 'sum of per-target gains'}); load {load_s:.2f} s "
          f"(pgmpy's reader alone {pgmpy_read_s:.2f} s); "
          f"{len(cases)} evidence sets ({REVEAL[0]}-{REVEAL[1]} nodes revealed), ranking on {n_rank}", flush=True)

    # posterior
    pgmpy_post = lambda ev: pgmpy_posterior(ve, targets, not joint, ev)   # noqa: E731
    pgmpy_post({})
    gum_posterior({})
    timed = time_side_by_side({"kneebayes": ours_posterior(model), "pgmpy": pgmpy_post, "pyagrum": gum_posterior},
                              cases)
    (ours_post, _), (theirs_post, theirs_dists), (gum_post, gum_dists) = timed.values()
    ours_post_warm = warm_medians(ours_posterior(model), cases, args.repeats) or ours_post
    worst_post = worst_post_gum = 0.0
    for ev, dists, gdists in zip(cases, theirs_dists, gum_dists):
        ours = model.diagnose(ev).distributions
        for t in targets:
            for s, p in dists[t].items():
                gap = abs(ours[t][s] - p)
                worst_post = max(worst_post, gap)
                assert gap <= TOL, f"{name}: P({t}={s} | {ev}): kneebayes {ours[t][s]!r}, pgmpy {p!r}"
                gap = abs(ours[t][s] - gdists[t][s])
                worst_post_gum = max(worst_post_gum, gap)
                assert gap <= TOL, f"{name}: P({t}={s} | {ev}): kneebayes {ours[t][s]!r}, pyAgrum {gdists[t][s]!r}"
    print(f"  posterior: kneebayes {statistics.median(ours_post):.3f} ms first call "
          f"({statistics.median(ours_post_warm):.3f} warm), pgmpy {statistics.median(theirs_post):.2f} ms, "
          f"pyAgrum {statistics.median(gum_post):.2f} ms (largest difference {worst_post:.1e} with pgmpy, "
          f"{worst_post_gum:.1e} with pyAgrum)", flush=True)

    # batch: --batch-rows further evidence sets as one DataFrame
    batch_cases = evidence_sets(model, targets, args.batch_rows, args.seed + 1)
    frame = pd.DataFrame(batch_cases)
    t0 = time.perf_counter()
    out = model.diagnose_frame(frame)                        # the first call on these rows; also checked below
    batch_row_ms = (time.perf_counter() - t0) * 1e3 / len(batch_cases)
    batch_runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model.diagnose_frame(frame.copy())
        batch_runs.append(time.perf_counter() - t0)
    batch_warm_row_ms = statistics.median(batch_runs) * 1e3 / len(batch_cases) if batch_runs else batch_row_ms
    worst_batch = 0.0
    for row, ev in enumerate(batch_cases):
        for t, dist in model.diagnose(ev).distributions.items():
            for s_, p in dist.items():
                gap = abs(float(out[f"{t}={s_}"].iloc[row]) - p)
                worst_batch = max(worst_batch, gap)
                assert gap <= 1e-12, f"{name}: diagnose_frame row {row}, P({t}={s_}): {out[f'{t}={s_}'].iloc[row]!r}, diagnose {p!r}"
    print(f"  batch: diagnose_frame {batch_row_ms:.3f} ms a row, first call ({batch_warm_row_ms:.3f} warm; "
          f"{len(batch_cases)} rows; largest difference from diagnose {worst_batch:.1e})", flush=True)

    # ranking
    list(model.diagnose({}).ranked_questions)
    gum_ranking({}, askable[:1])       # pgmpy was warmed up by the posteriors: a ranking of every node is slow
    timed = time_side_by_side({
        "kneebayes": ours_ranking(model),
        "pgmpy": lambda ev: pgmpy_ranking(ve, targets, [a for a in askable if a not in ev], joint, ev),
        "pyagrum": lambda ev: gum_ranking(ev, [a for a in askable if a not in ev]),
    }, rank_cases)
    (ours_rank, _), (theirs_rank, theirs_gains), (gum_rank, gum_gains) = timed.values()
    ours_rank_warm = warm_medians(ours_ranking(model), rank_cases, args.repeats) or ours_rank
    worst_gain = worst_gain_gum = 0.0
    n_gains = 0
    for ev, gains, ggains in zip(rank_cases, theirs_gains, gum_gains):
        dx = model.diagnose(ev)
        qs = list(dx.ranked_questions)
        assert dx.gain_measure == ("joint" if joint else "sum_of_marginals"), f"{name}: gain measure {dx.gain_measure}"
        assert {q.id for q in qs} == set(gains), f"{name}: different candidates for {ev}"
        for q in qs:
            gap = abs(q.expected_information_gain - gains[q.id])
            worst_gain = max(worst_gain, gap)
            n_gains += 1
            assert gap <= TOL, f"{name}: gain of {q.id} given {ev}: kneebayes {q.expected_information_gain!r}, pgmpy {gains[q.id]!r}"
            gap = abs(q.expected_information_gain - ggains[q.id])
            worst_gain_gum = max(worst_gain_gum, gap)
            assert gap <= TOL, f"{name}: gain of {q.id} given {ev}: kneebayes {q.expected_information_gain!r}, pyAgrum {ggains[q.id]!r}"
    print(f"  ranking: kneebayes {statistics.median(ours_rank):.2f} ms first call "
          f"({statistics.median(ours_rank_warm):.2f} warm), pgmpy {statistics.median(theirs_rank):.1f} ms, "
          f"pyAgrum {statistics.median(gum_rank):.1f} ms (largest gain difference {worst_gain:.1e} with pgmpy, "
          f"{worst_gain_gum:.1e} with pyAgrum, over {n_gains} gains)", flush=True)

    post_ratio = statistics.median(theirs_post) / statistics.median(ours_post)
    rank_ratio = statistics.median(theirs_rank) / statistics.median(ours_rank)
    gum_post_ratio = statistics.median(gum_post) / statistics.median(ours_post)
    gum_rank_ratio = statistics.median(gum_rank) / statistics.median(ours_rank)
    candidates = [len(askable) - len(ev) for ev in rank_cases]
    return {
        "network": name, "nodes": len(model.nodes), "targets": len(targets), "target_joint_states": joint_states,
        "gain_measure": "joint" if joint else "sum_of_marginals",
        "load_s": load_s, "pgmpy_read_s": pgmpy_read_s, "pgmpy_setup_s": pgmpy_setup_s,
        "pyagrum_setup_s": pyagrum_setup_s,
        "posterior_cases": len(cases), "ranking_cases": n_rank,
        "candidates_per_ranking": {"min": min(candidates), "max": max(candidates)},
        "pgmpy_posterior_queries_per_case": len(targets) if not joint else 1,
        "pgmpy_ranking_queries_per_case": statistics.fmean(candidates) * (1 if joint else len(targets)),
        "posterior_ms": {"kneebayes_median": statistics.median(ours_post), "pgmpy_median": statistics.median(theirs_post),
                         "kneebayes_p90": float(np.percentile(ours_post, 90)), "pgmpy_p90": float(np.percentile(theirs_post, 90)),
                         "kneebayes_warm_median": statistics.median(ours_post_warm),
                         "pyagrum_median": statistics.median(gum_post), "pyagrum_p90": float(np.percentile(gum_post, 90)),
                         "ratio": post_ratio, "pyagrum_ratio": gum_post_ratio},
        "batch_ms_per_row": {"diagnose_frame": batch_row_ms, "diagnose_frame_warm": batch_warm_row_ms,
                             "diagnose_loop_median": statistics.median(ours_post),
                             "pgmpy_median": statistics.median(theirs_post),
                             "ratio_to_pgmpy": statistics.median(theirs_post) / batch_row_ms,
                             "rows": len(batch_cases), "max_abs_diff_to_diagnose": worst_batch},
        "ranking_ms": {"kneebayes_median": statistics.median(ours_rank), "pgmpy_median": statistics.median(theirs_rank),
                       "kneebayes_p90": float(np.percentile(ours_rank, 90)), "pgmpy_p90": float(np.percentile(theirs_rank, 90)),
                       "kneebayes_warm_median": statistics.median(ours_rank_warm),
                       "pyagrum_median": statistics.median(gum_rank), "pyagrum_p90": float(np.percentile(gum_rank, 90)),
                       "ratio": rank_ratio, "pyagrum_ratio": gum_rank_ratio},
        "agreement": {"posterior_max_abs_diff": worst_post, "gain_max_abs_diff_bits": worst_gain, "gains_checked": n_gains,
                      "posterior_max_abs_diff_pyagrum": worst_post_gum, "gain_max_abs_diff_bits_pyagrum": worst_gain_gum,
                      "tolerance": TOL},
        "targets_met": {"posterior": post_ratio >= TARGET_POSTERIOR_RATIO, "ranking": rank_ratio >= TARGET_RANKING_RATIO},
    }


def table(rows: list[dict[str, Any]]) -> str:
    def mark(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = [
        ("| network | nodes | targets | load s | pgmpy read s | posterior ms ours (warm) | pgmpy | ratio | >= 5x | "
         "pyAgrum | ratio | batch ms/row (warm) | ranking ms ours (warm) | pgmpy | ratio | >= 20x | pyAgrum | ratio | "
         "ranked cases |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        p, k, b = r["posterior_ms"], r["ranking_ms"], r["batch_ms_per_row"]
        lines.append(
            f"| {r['network']} | {r['nodes']} | {r['targets']} | {r['load_s']:.2f} | {r['pgmpy_read_s']:.2f} | "
            f"{p['kneebayes_median']:.3f} ({p['kneebayes_warm_median']:.3f}) | "
            f"{p['pgmpy_median']:.2f} | {p['ratio']:.1f}x | {mark(r['targets_met']['posterior'])} | "
            f"{p['pyagrum_median']:.2f} | {p['pyagrum_ratio']:.1f}x | "
            f"{b['diagnose_frame']:.3f} ({b['diagnose_frame_warm']:.3f}) | "
            f"{k['kneebayes_median']:.2f} ({k['kneebayes_warm_median']:.2f}) | {k['pgmpy_median']:.1f} | {k['ratio']:.1f}x | "
            f"{mark(r['targets_met']['ranking'])} | {k['pyagrum_median']:.1f} | {k['pyagrum_ratio']:.1f}x | "
            f"{r['ranking_cases']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=NETWORKS, metavar="NAME",
                        help=f"any of {', '.join(NETWORKS)} (default: all)")
    parser.add_argument("--cases", type=int, default=100, help="evidence sets per network (default 100)")
    parser.add_argument("--slow-cases", type=int, default=5,
                        help="of them, how many pgmpy ranks on Win95pts (default 5)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="warm passes for kneebayes after the first calls, reported beside them (default 5)")
    parser.add_argument("--batch-rows", type=int, default=1000, help="rows of the diagnose_frame batch (default 1,000)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore", FutureWarning)
    import networkx  # noqa: F401 - imported before the timed loads, so a load time is the network's own
    import pgmpy
    import pyagrum
    from pgmpy.inference import VariableElimination  # noqa: F401

    machine = {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
               "pgmpy": pgmpy.__version__, "pyagrum": pyagrum.__version__, "kneebayes": kneebayes.__version__,
               "kneebayes_source": engine_source(), "cpu_count": os.cpu_count(),
               "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    with warnings.catch_warnings():                          # one untimed load: first-use costs of the readers
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        kneebayes.load_bif(bif_path("child"), targets=["Disease"])
    rows = [run_network(name, args) for name in args.networks]

    print()
    print(f"Medians over evidence sets of the first call on each new set (kneebayes's warm median over {args.repeats} "
          f"more passes in brackets); pgmpy and pyAgrum once per set; ratio = theirs / kneebayes's first call.")
    print(table(rows))
    slow = [r["network"] for r in rows if r["network"] in SLOW_RANKING]
    if slow:
        print(f"Rankings on {', '.join(slow)}: only {args.slow_cases} evidence sets, to keep the run short; "
              f"posteriors on all {args.cases}.")
    sums = [r["network"] for r in rows if r["gain_measure"] == "sum_of_marginals"]
    if sums:
        print(f"Sum of per-target gains (targets' joint > {JOINT_LIMIT:,} states): {', '.join(sums)}; there pgmpy makes "
              f"one posterior query per target and one ranking query per (target, candidate) pair.")
    worst_p = max(r["agreement"]["posterior_max_abs_diff"] for r in rows)
    worst_g = max(r["agreement"]["gain_max_abs_diff_bits"] for r in rows)
    worst_p = max(worst_p, max(r["agreement"]["posterior_max_abs_diff_pyagrum"] for r in rows))
    worst_g = max(worst_g, max(r["agreement"]["gain_max_abs_diff_bits_pyagrum"] for r in rows))
    print(f"Agreement on every measured case, with pgmpy and with pyAgrum: posteriors within {worst_p:.1e}, "
          f"gains within {worst_g:.1e} bits (tolerance {TOL:g}).")
    missed = [f"{r['network']} {k}" for r in rows for k, ok in r["targets_met"].items() if not ok]
    print("Targets (posterior >= 5x, ranking >= 20x): " + ("all met" if not missed else "missed on " + ", ".join(missed)))

    if args.json:
        out = {"machine": machine, "timed": "first call on each new evidence set; warm medians beside", "seed": args.seed, "cases": args.cases, "slow_cases": args.slow_cases,
               "repeats": args.repeats, "reveal": list(REVEAL), "joint_limit": JOINT_LIMIT,
               "targets": {"posterior_ratio": TARGET_POSTERIOR_RATIO, "ranking_ratio": TARGET_RANKING_RATIO},
               "networks": rows}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
