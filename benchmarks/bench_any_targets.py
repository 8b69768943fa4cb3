"""Targets anywhere in the network: kneebayes vs pyAgrum, first posterior and full ranking, side by side.

    python benchmarks/bench_any_targets.py                      # 8 target sets per network
    python benchmarks/bench_any_targets.py --sets 20 --json out.json

The other benchmarks diagnose each classic network for its roots (the
causes). A diagnostic engine is asked about any nodes, and a target in the
middle of a network keeps its ancestors relevant whatever the evidence, so
pruning by the count of relevant nodes alone declines (WATER: 0.7-8 s a
ranking before it weighed planned work). Here, per network (every BIF pgmpy
ships from asia to andes, each in its own process, one after the other,
given ``--network-timeout`` seconds: under the run's memory cap pyAgrum's
worker threads once hung on BARLEY, asleep with no CPU for 20 minutes,
where they usually raise ``bad_alloc``):

* ``--sets`` target sets, each of 1-4 nodes drawn anywhere; for each, a new
  model (``load_bif(path, targets=...)``, untimed, with one diagnosis
  and ranking without evidence) and pyAgrum's ``LazyPropagation`` engines
  over the same tables (``pyagrum_ref``, each one's first inference
  untimed);
* one evidence set per target set: a complete case sampled from the model,
  6 of its non-target nodes revealed;
* timed once each, as a user meets a new case: kneebayes
  ``model.diagnose(ev).distributions`` and ``list(dx.ranked_questions)``;
  pyAgrum ``setEvidence`` + ``makeInference`` + every target's posterior,
  and its joint-target ranking (``pyagrum_ref.ranking_engine``, every
  candidate kneebayes ranks);
* both engines must agree: every target state's posterior to 1e-9, every
  gain to 1e-9 (asserted). An engine that fails on a set (pyAgrum's
  ``bad_alloc`` on BARLEY's joint targets) is counted, not timed.

Per network, the medians and the median of the per-set ratios (pyAgrum /
kneebayes) are printed. Timings vary with machine load; nothing here is a
test.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import kneebayes
from kneebayes.research.sampling import sample_cases

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyagrum_ref  # noqa: E402 - the benchmarks' own helper, beside this file
from engine_source import engine_source  # noqa: E402 - the same
from bench_classic import JOINT_LIMIT, bif_path, root_nodes  # noqa: E402

NETWORKS = ["asia", "cancer", "earthquake", "sachs", "survey", "alarm", "child", "insurance", "water", "hepar2",
            "win95pts", "pathfinder", "hailfinder", "mildew", "barley", "andes"]
REVEALED = 6
TOL = 1e-9
NETWORK_TIMEOUT_S = 1800.0


def one_set(path: str, bn: Any, ids: list[str], rng: np.random.Generator) -> dict[str, Any]:
    """One random target set on a network: both engines' first posterior and ranking, in ms, and the checks."""
    targets = [ids[j] for j in sorted(rng.choice(len(ids), size=int(rng.integers(1, 5)), replace=False).tolist())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        model = kneebayes.load_bif(path, targets=targets)
    warm = model.diagnose({})
    warm.distributions
    askable = [q.id for q in warm.ranked_questions]   # one-off costs of the model's first ranking, untimed
    posterior = pyagrum_ref.posterior_engine(bn, targets)
    case = sample_cases(model, 1, rng)[0]
    others = [v for v in ids if v not in targets]
    ev = {others[j]: case[others[j]] for j in rng.choice(len(others), size=min(REVEALED, len(others)), replace=False)}
    clock = time.perf_counter_ns
    t0 = clock()
    dx = model.diagnose(dict(ev))
    dists = dx.distributions
    t1 = clock()
    ranked = list(dx.ranked_questions)
    t2 = clock()
    theirs = posterior(dict(ev))
    t3 = clock()
    row: dict[str, Any] = {"targets": targets, "evidence": ev, "kb_posterior_ms": (t1 - t0) / 1e6,
                           "kb_ranking_ms": (t2 - t1) / 1e6, "gum_posterior_ms": (t3 - t2) / 1e6,
                           "questions": len(ranked), "measure": dx.gain_measure}
    row["posterior_diff"] = max(abs(dists[t][s] - p) for t in targets for s, p in theirs[t].items())
    assert row["posterior_diff"] <= TOL, (targets, ev, row["posterior_diff"])
    joint = math.prod(len(model.node(t).states) for t in targets) <= JOINT_LIMIT
    ranking = pyagrum_ref.ranking_engine(bn, targets, joint)
    try:
        ranking({}, askable[:1])   # its engine's set-up, untimed, as in bench_classic
        t4 = clock()
        gains = ranking(dict(ev), [q.id for q in ranked])
        row["gum_ranking_ms"] = (clock() - t4) / 1e6
    except Exception as exc:   # noqa: BLE001 - pyAgrum's own failures (a C++ bad_alloc) are counted, not timed
        row["gum_ranking_error"] = f"{type(exc).__name__}: {exc}"
        return row
    row["gain_diff"] = max((abs(q.expected_information_gain - gains[q.id]) for q in ranked), default=0.0)
    assert row["gain_diff"] <= TOL, (targets, ev, row["gain_diff"])
    return row


def run_network(name: str, sets: int, seed: int) -> dict[str, Any]:
    path = bif_path(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kneebayes.RenormalisedWarning)
        base = kneebayes.load_bif(path, targets=root_nodes(path)[:1])
    bn = pyagrum_ref.from_pgmpy(base.to_pgmpy())
    ids = [node.id for node in base.nodes]
    rng = np.random.default_rng(seed)
    rows = [one_set(path, bn, ids, rng) for _ in range(sets)]

    def median(key: str) -> float | None:
        values = [r[key] for r in rows if key in r]
        return statistics.median(values) if values else None

    def ratio(ours: str, theirs: str) -> float | None:
        values = [r[theirs] / r[ours] for r in rows if theirs in r and r[ours] > 0]
        return statistics.median(values) if values else None

    summary = {"network": name, "nodes": len(ids), "sets": sets,
               "kb_posterior_ms": median("kb_posterior_ms"), "gum_posterior_ms": median("gum_posterior_ms"),
               "posterior_ratio": ratio("kb_posterior_ms", "gum_posterior_ms"),
               "kb_ranking_ms": median("kb_ranking_ms"), "gum_ranking_ms": median("gum_ranking_ms"),
               "ranking_ratio": ratio("kb_ranking_ms", "gum_ranking_ms"),
               "slowest_kb_ranking_ms": max(r["kb_ranking_ms"] for r in rows),
               "gum_ranking_failures": sum("gum_ranking_error" in r for r in rows),
               "largest_posterior_diff": max(r["posterior_diff"] for r in rows),
               "largest_gain_diff": max((r["gain_diff"] for r in rows if "gain_diff" in r), default=None),
               "rows": rows}
    return summary


def run_network_apart(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """``run_network`` in a child process of this script (its own memory cap), killed past ``--network-timeout``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "network.json"
        command = [sys.executable, __file__, "--networks", name, "--sets", str(args.sets), "--seed", str(args.seed),
                   "--memory-gib", str(args.memory_gib), "--json", str(out), "--in-process"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.network_timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"network": name, "error": f"no answer within {args.network_timeout:g} s (killed)"}
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {"network": name, "error": f"exit {done.returncode}: {last}"}
        return json.loads(out.read_text(encoding="utf-8"))["networks"][0]


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=NETWORKS, default=NETWORKS, metavar="NAME")
    parser.add_argument("--sets", type=int, default=8, help="random target sets per network (default 8)")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    parser.add_argument("--memory-gib", type=float, default=12.0,
                        help="RLIMIT_AS of the run, GiB (default 12): pyAgrum's joint targets on BARLEY took 24 GiB "
                             "and the kernel's OOM killer with them; capped, it raises std::bad_alloc, counted")
    parser.add_argument("--network-timeout", type=float, default=NETWORK_TIMEOUT_S,
                        help=f"seconds a network's process may take before it is killed and reported "
                             f"(default {NETWORK_TIMEOUT_S:g})")
    parser.add_argument("--in-process", action="store_true",
                        help="run the networks in this process (what each network's own process does)")
    args = parser.parse_args(argv)
    limit = int(args.memory_gib * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    source = engine_source()
    if not args.in_process:
        print(f"kneebayes at {source}")
    print("| network | nodes | posterior ms kneebayes | pyAgrum | ratio | ranking ms kneebayes | pyAgrum | ratio "
          "| slowest ranking ms | pyAgrum failures |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    results = []
    for name in args.networks:
        s = run_network(name, args.sets, args.seed) if args.in_process else run_network_apart(name, args)
        results.append(s)
        if "error" in s:
            print(f"| {name} | - | - | - | - | - | - | - | - | {s['error']} |", flush=True)
            continue
        print(f"| {name} | {s['nodes']} | {fmt(s['kb_posterior_ms'])} | {fmt(s['gum_posterior_ms'])} | "
              f"{fmt(s['posterior_ratio'], '.1f')}x | {fmt(s['kb_ranking_ms'], '.1f')} | {fmt(s['gum_ranking_ms'], '.1f')} | "
              f"{fmt(s['ranking_ratio'], '.1f')}x | {fmt(s['slowest_kb_ranking_ms'], '.0f')} | "
              f"{s['gum_ranking_failures']}/{s['sets']} |", flush=True)
    print("\nratio: the median over sets of pyAgrum's time / kneebayes' (above 1: kneebayes faster); every posterior "
          f"and gain agreed to {TOL:g}.")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"kneebayes_source": source, "seed": args.seed, "sets": args.sets,
                                               "networks": results}, indent=2,
                                              default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
